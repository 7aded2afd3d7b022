"""BLAST-Lite's LG MJ1 NMC811, Panasonic NCA and second-life Nissan Leaf fits: closed forms and BLAST-Lite's output.

The parameters below are typed in again from BLAST-Lite's sources (github.com/NREL/BLAST-Lite, commit 039b74d,
``_params_life`` of ``Nmc811_GrSi_LGMJ1_4Ah_Battery`` in blast/models/nmc811_grSi_LGMJ1_4Ah_2020.py,
``Nca_Gr_Panasonic3Ah_Battery`` in blast/models/nca_gr_Panasonic3Ah_2018.py and
``Lmo_Gr_NissanLeaf66Ah_2ndLife_Battery`` in blast/models/lmo_gr_NissanLeaf66Ah_2ndLife_2020.py), so that a
wrong constant in chisan fails here rather than being compared with itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from blast_profiles import fine_rows, replayed_capacity

from chisan.batteries.ageing import AGEING_MODELS, ageing_model, capacity_fade, simulate_capacity, step_stress
from chisan.roadmap.schema import roadmap_from_dict

KELVIN = 273.15

# (qcal_A, qcal_B, qcal_C, qcal_p): k_cal = A exp(B/T) exp(C SOC/T), q_cal = k_cal t_day^p
CALENDAR = {
    "nmc811_lgmj1": (0.0353, -1.03e3, 57.7, 0.743),
    "nca_panasonic": (75.4, -3.34e3, 353.0, 0.512),
    "lmo_nissan_leaf": (3.25e8, -7.58e3, 162.0, 0.464),
}
# (qcyc_A, qcyc_B, qcyc_C, qcyc_D, qcyc_E, qcyc_p): k_cyc = (A + B C + C DoD)(exp(D/T) + exp(-E/T)), q = k EFC^p
CYCLE = {
    "nmc811_lgmj1": (1.77e-7, 8.08e-13, 2.21e-7, 2.25e3, 1.14e4, 0.695),
    "nca_panasonic": (1.86e-6, 4.74e-11, 1.77e-4, 3.34e-11, 2.81e-9, 0.699),
}
LEAF_CYCLE = (7.58e-5, 1.08)  # q_cyc = qcyc_A EFC^qcyc_p, no stress dependence

BLAST_NAMES = {"Nmc811_GrSi_LGMJ1_4Ah_Battery": "nmc811_lgmj1", "Nca_Gr_Panasonic3Ah_Battery": "nca_panasonic"}


def calendar_by_hand(model: str, temp_c: float, soc: float, days: float) -> float:
    a, b, c, p = CALENDAR[model]
    t = temp_c + KELVIN
    return a * math.exp(b / t) * math.exp(c * soc / t) * days**p


def cycle_by_hand(model: str, temp_c: float, dod: float, c_rate: float, efc: float) -> float:
    a, b, c, d, e, p = CYCLE[model]
    t = temp_c + KELVIN
    return (a + b * c_rate + c * dod) * (math.exp(d / t) + math.exp(-e / t)) * efc**p


@pytest.mark.parametrize(
    ("model", "temp_c", "soc"),
    [
        ("nmc811_lgmj1", 20.0, 0.5),
        ("nmc811_lgmj1", 35.0, 0.9),
        ("nca_panasonic", 25.0, 0.7),
        ("lmo_nissan_leaf", 25.0, 0.5),
    ],
)
def test_a_pack_that_never_cycles_ages_by_calendar_alone(model: str, temp_c: float, soc: float) -> None:
    # Two years parked at constant SOC and temperature, hourly samples, daily updates.
    days = 730
    soc_series = pd.Series(soc, index=pd.date_range("2025-01-01", periods=24 * days, freq="h"))
    stress, _ = step_stress(soc_series, temp_c, model, dt_hours=1.0, step="1D")
    assert not stress["efc"].any()  # no throughput at all
    frame = pd.DataFrame({name: value[0] for name, value in stress.items()})
    fade = capacity_fade(frame, model)
    assert (fade["cycle_fade"] == 0.0).all()
    # 730 daily virtual-time updates at constant stress equal the closed form q = k t^p at t = 730 d.
    expected = calendar_by_hand(model, temp_c, soc, days)
    assert fade["calendar_fade"].iloc[-1] == pytest.approx(expected, rel=1e-9)
    capacity = simulate_capacity(soc_series, temp_c, model, dt_hours=1.0, step="1D")
    assert capacity.iloc[-1] == pytest.approx(1.0 - expected, abs=1e-12)


def test_calendar_figures_by_hand() -> None:
    # LG MJ1, 20 °C, SOC 0.5, one year: 0.0353 · exp(-1030/293.15) · exp(28.85/293.15) = 1.1604e-3 /day^0.743,
    # · 365^0.743 (= 80.1) = 0.0930: 90.7 % left, as BLAST-Lite's own 1-year storage value 0.9069 (fine profiles).
    assert 1.0 - calendar_by_hand("nmc811_lgmj1", 20.0, 0.5, 365) == pytest.approx(0.9070, abs=2e-4)
    # Panasonic NCA, same: 75.4 · exp(-3340/293.15) · exp(176.5/293.15) · 365^0.512 = 0.0318 -> 0.9682 (BLAST 0.9681).
    assert 1.0 - calendar_by_hand("nca_panasonic", 20.0, 0.5, 365) == pytest.approx(0.9682, abs=2e-4)


@pytest.mark.parametrize("model", sorted(CYCLE))
def test_cycle_fade_closed_form(model: str) -> None:
    # 365 days of one 80 % cycle a day at 0.5 C and 25 °C: EFC 292 in all; constant stress, so the daily updates
    # add up to the closed form q_cyc = k_cyc · 292^p, and the calendar part to k_cal(25 °C, 0.5) · 365^p.
    n = 365
    day = {"dt_days": 1.0, "efc": 0.8, "dod": 0.8, "c_rate": 0.5, "mean_soc": 0.5, "temp_c": 25.0}
    fade = capacity_fade(pd.DataFrame({k: [v] * n for k, v in day.items()}), model)
    cyc = cycle_by_hand(model, 25.0, 0.8, 0.5, 0.8 * n)
    cal = calendar_by_hand(model, 25.0, 0.5, n)
    assert fade["cycle_fade"].iloc[-1] == pytest.approx(cyc, rel=1e-9)
    assert fade["relative_capacity"].iloc[-1] == pytest.approx(1.0 - cal - cyc, rel=1e-12)
    # The cycle law is linear in DoD and in C-rate, as published; the C-rate term is tiny for both cells.
    rate = ageing_model(model).cycle_rate
    _, _, c, d, e, _ = CYCLE[model]
    temp_term = math.exp(d / 298.15) + math.exp(-e / 298.15)
    assert float(rate(25.0, 1.0, 0.5) - rate(25.0, 0.5, 0.5)) == pytest.approx(c * 0.5 * temp_term, rel=1e-9)
    assert float(rate(25.0, 0.8, 2.0) / rate(25.0, 0.8, 0.0)) - 1.0 < 1e-5


def test_nissan_leaf_second_life_cycle_fade_is_throughput_only() -> None:
    # 500 EFC at 25 °C or at 35 °C, 50 % or 100 % DoD: 7.58e-5 · 500^1.08 = 0.0623 either way (500^1.08 = 821.9).
    qcyc_a, qcyc_p = LEAF_CYCLE
    expected = qcyc_a * 500**qcyc_p
    assert expected == pytest.approx(0.0623, abs=1e-4)
    for temp_c, dod in ((25.0, 1.0), (35.0, 0.5)):
        stress = {"dt_days": [0.0] * 500, "efc": [1.0] * 500, "dod": [dod] * 500, "c_rate": [1.0] * 500}
        stress |= {"mean_soc": [0.5] * 500, "temp_c": [temp_c] * 500}
        fade = capacity_fade(pd.DataFrame(stress), "lmo_nissan_leaf")
        assert fade["cycle_fade"].iloc[-1] == pytest.approx(expected, rel=1e-9)
        assert fade["calendar_fade"].iloc[-1] == 0.0
    assert AGEING_MODELS["lmo_nissan_leaf"].chemistry == "LMO"


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "row",
    fine_rows(BLAST_NAMES),
    ids=lambda r: f"{r.get('model')}-{r.get('case')}-{r.get('temperature_c')}C-soc{r.get('soc_max')}",
)
def test_reproduces_blast_lite_fine_profiles(row: pd.Series, shared_data: Path) -> None:
    # BLAST-Lite 1.1.1's own output for the LG MJ1 and Panasonic NCA cells (../shared/data/battery_reference/README.md),
    # one day repeated for 8 years. Measured: within 2.3e-4 relative capacity in all 30 values; bound 0.001.
    capacity = replayed_capacity(row, BLAST_NAMES[row["model"]], step="1D")
    for value, column in zip(capacity, ("q_1y", "q_3y", "q_8y"), strict=True):
        assert value == pytest.approx(row[column], abs=0.001), column


@pytest.mark.parametrize("name", ["nmc811_lgmj1", "NCA_Panasonic", "lmo_nissan_leaf"])
def test_selectable_by_name_in_the_roadmap(name: str) -> None:
    settings = roadmap_from_dict({"ageing_model": name})
    assert settings.ageing_model == name.lower()
    assert ageing_model(settings.ageing_model).name == name.lower()
