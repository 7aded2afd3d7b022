"""A car pack, not a lab cell: field calibration against Geotab's fleet data, pack temperature, the health band."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from chisan.batteries.ageing import FadeState, advance_state, ageing_model, calibrated, capacity_fade, step_stress
from chisan.batteries.field import (
    CALIBRATION_YEARS,
    CHARGING_OFFSET_C,
    DEFAULT_FIELD_CALIBRATION,
    FIELD_FADE_PER_YEAR_FRACTION,
    SUN_OFFSET_C_AT_1_KW_PER_M2,
    band_factors,
    field_factor,
    fleet_fade_per_year,
    pack_temperature,
)
from chisan.exceptions import ScenarioError
from chisan.scenario.schema import Batteries

# Geotab's telematics studies (chisan.batteries.field [2]-[4]): 2.3 %/year (6,300 EVs, 2019), 1.8 %/year
# (about 10,000 EVs, 2024; best models 1.0 %/year), 2.3 %/year (22,700 EVs, 2025).
GEOTAB_LOW, GEOTAB_CENTRAL, GEOTAB_HIGH = 0.010, 0.018, 0.023


def test_the_band_is_geotabs_and_the_schema_shows_the_same_defaults() -> None:
    assert dict(FIELD_FADE_PER_YEAR_FRACTION) == {"low": GEOTAB_LOW, "central": GEOTAB_CENTRAL, "high": GEOTAB_HIGH}
    defaults = Batteries()
    assert defaults.field_fade_band_per_year_fraction == (GEOTAB_LOW, GEOTAB_CENTRAL, GEOTAB_HIGH)
    assert (defaults.sun_offset_c, defaults.charging_offset_c) == (SUN_OFFSET_C_AT_1_KW_PER_M2, CHARGING_OFFSET_C)
    assert defaults.c_rate_definition == "while_cycling"
    assert "Geotab" in defaults.field_calibration_source
    with pytest.raises(ValueError, match="low <= central <= high"):
        Batteries(field_fade_band_per_year_fraction=(0.02, 0.01, 0.03))


def test_band_factors_by_hand() -> None:
    # central 3.0: 3.0 · 1.0/1.8 = 1.6667, 3.0, 3.0 · 2.3/1.8 = 3.8333
    factors = band_factors(3.0)
    assert factors["low"] == pytest.approx(5.0 / 3.0, rel=1e-12)
    assert factors["central"] == 3.0
    assert factors["high"] == pytest.approx(23.0 / 6.0, rel=1e-12)
    assert field_factor("nmc111_kokam") == DEFAULT_FIELD_CALIBRATION["nmc111_kokam"]
    from chisan.roadmap.schema import DEFAULT_AGEING_MODEL_BY_CHEMISTRY

    assert DEFAULT_AGEING_MODEL_BY_CHEMISTRY["NMC622"] == "nmc622_denso"  # the catalogue's cars
    assert field_factor("nmc111_kokam", 2.5) == 2.5
    assert field_factor("lmo_nissan_leaf") == 1.0  # second-life field data: not recalibrated


@pytest.mark.parametrize("model", ["nmc622_denso", "nmc111_kokam", "lfp_250ah", "nca_panasonic", "nmc811_lgmj1"])
def test_calibration_scales_calendar_and_cycle_fade_exactly(model: str) -> None:
    # Changing stress day to day (SOC, temperature, cycles): the power-law updates are homogeneous in the rate,
    # so rates × f give fades × f at every step (the LAM knee, where a model has one, is left as fitted).
    rng = np.random.default_rng(5)
    n = 400
    stress = pd.DataFrame(
        {
            "dt_days": 1.0,
            "efc": rng.uniform(0, 0.6, n),
            "dod": rng.uniform(0.05, 0.6, n),
            "c_rate": rng.uniform(0.05, 0.5, n),
            "mean_soc": rng.uniform(0.2, 0.9, n),
            "temp_c": rng.uniform(0, 35, n),
        }
    )
    lab = capacity_fade(stress, model)
    field = capacity_fade(stress, calibrated(model, 2.7))
    for column in ("calendar_fade", "cycle_fade"):
        assert np.allclose(field[column], 2.7 * lab[column], rtol=1e-10, atol=0)
    # and the band's capacity from the central state equals ageing with the band's factor
    state, _ = advance_state(FadeState.new(1), {k: v.to_numpy()[None, :] for k, v in stress.items()}, model)
    central = calibrated(model, 2.0)
    state_c, _ = advance_state(FadeState.new(1), {k: v.to_numpy()[None, :] for k, v in stress.items()}, central)
    _, cap_h = advance_state(
        FadeState.new(1), {k: v.to_numpy()[None, :] for k, v in stress.items()}, calibrated(model, 3.0)
    )
    assert state_c.relative_capacity(central, fade_scale=1.5) == pytest.approx(cap_h[:, -1], abs=1e-12)
    assert state.calendar * 2.0 == pytest.approx(state_c.calendar, rel=1e-10)


def test_bad_factor_is_one_clear_message() -> None:
    with pytest.raises(ScenarioError, match=r"field calibration factor = -1.*allowed: a finite number > 0"):
        calibrated("nmc111_kokam", -1)
    with pytest.raises(ValueError, match="greater than 0"):
        Batteries(field_calibration_factor=0.0)


def test_pack_temperature_by_hand() -> None:
    # Three hours: parked in 800 W/m² sun, charging (+0.1 SOC/h) in the same sun, parked at night.
    index = pd.date_range("2025-07-01 12:00", periods=3, freq="h")
    soc = pd.DataFrame({"car": [0.5, 0.6, 0.6]}, index=index)
    air = pd.Series([30.0, 30.0, 22.0], index=index)
    ghi = pd.Series([800.0, 800.0, 0.0], index=index)
    temp = pack_temperature(air, ghi, soc, dt_hours=1.0, sun_offset_c=4.0, charging_offset_c=2.0)
    # 30 + 4 · 0.8 = 33.2; charging: 30 + 2 = 32; night: 22 + 0 = 22
    assert temp["car"].tolist() == pytest.approx([33.2, 32.0, 22.0], abs=1e-12)
    no_sun = pack_temperature(air, None, soc, dt_hours=1.0)
    assert no_sun["car"].tolist() == pytest.approx([30.0, 30.0 + CHARGING_OFFSET_C, 22.0], abs=1e-12)
    with pytest.raises(ScenarioError, match=r"\[batteries\] sun_offset_c = 99"):
        pack_temperature(air, ghi, soc, dt_hours=1.0, sun_offset_c=99.0)


@pytest.mark.parametrize("model", ["nmc622_denso", "nmc111_kokam", "lfp_250ah", "nca_panasonic"])
def test_a_calibrated_pack_that_never_cycles_ages_by_calendar_alone(model: str) -> None:
    # Parked at SOC 0.6 and 20 °C for a year: no throughput, so no cycle fade; calendar fade = f · k t^p.
    soc = pd.Series(0.6, index=pd.date_range("2025-01-01", periods=24 * 365, freq="h"))
    stress, _ = step_stress(soc, 20.0, model, dt_hours=1.0)
    assert not stress["efc"].any()
    f = DEFAULT_FIELD_CALIBRATION[model]
    state, capacity = advance_state(FadeState.new(1), stress, calibrated(model, f))
    assert state.cycle[0] == 0.0
    lab = ageing_model(model)
    k = float(lab.calendar_rate(20.0, 0.6))
    assert state.calendar[0] == pytest.approx(f * k * 365**lab.calendar_exponent, rel=1e-9)
    assert capacity[0, -1] == pytest.approx(1.0 - f * k * 365**lab.calendar_exponent, abs=1e-12)


@pytest.fixture(scope="module")
def example_operation():
    """The bundled example town planned once (about 5 s): its cars' SOC, air temperature and sun."""
    from chisan.plan.pipeline import plan_scenario
    from chisan.roadmap.health import plan_operation
    from chisan.scenario.load import example_path, load_scenario

    scenario = load_scenario(example_path())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example leaves a few bookings unserved
        run = plan_scenario(scenario)
    return scenario, plan_operation(run)


def _fleet_fade(scenario, operation, name: str, factor: float) -> float:
    from chisan.roadmap.health import year_stress

    bat = scenario.batteries
    model = calibrated(name, factor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Kokam LAM floor on a few cold deep days
        stress = year_stress(
            operation,
            model,
            c_rate_definition=bat.c_rate_definition,
            sun_offset_c=bat.sun_offset_c,
            charging_offset_c=bat.charging_offset_c,
        ).vehicles
        state = FadeState.new(stress["efc"].shape[0])
        for _ in range(CALIBRATION_YEARS):
            state, capacity = advance_state(state, stress, model)
    return fleet_fade_per_year(capacity[:, -1], CALIBRATION_YEARS)


@pytest.mark.parametrize(("model", "lab_range"), [("nmc622_denso", (0.008, 0.013)), ("nmc111_kokam", (0.0, 0.003))])
def test_field_calibrated_fade_of_the_example_fleet_is_within_geotabs_band(example_operation, model, lab_range) -> None:
    # The example's Sakura (NMC622 -> nmc622_denso by default) aged with the scenario's [batteries] defaults over
    # 8 years, each model with its default factor.
    scenario, operation = example_operation
    assert scenario.fleet.vehicle_model == "nissan_sakura"
    factors = band_factors(field_factor(model, scenario.batteries.field_calibration_factor))
    lab = _fleet_fade(scenario, operation, model, 1.0)
    central = _fleet_fade(scenario, operation, model, factors["central"])
    low = _fleet_fade(scenario, operation, model, factors["low"])
    high = _fleet_fade(scenario, operation, model, factors["high"])
    # The lab cells alone: the DENSO EV cell ~1.0 %/year; the Kokam lab cell ~0.16 %/year, far below every fleet
    # figure (the reason for issue 12: the example's cars sit at a mean SOC of 0.19 in a 13 °C climate).
    assert lab_range[0] <= lab <= lab_range[1]
    # Calibrated: central 1.8 %/year within 0.1 %/year, and the band's ends at Geotab's 1.0 and 2.3 %/year.
    assert GEOTAB_LOW <= central <= GEOTAB_HIGH
    assert central == pytest.approx(GEOTAB_CENTRAL, abs=0.001)
    assert low == pytest.approx(GEOTAB_LOW, abs=0.001)
    assert high == pytest.approx(GEOTAB_HIGH, abs=0.0015)
    assert math.isclose(central / lab, factors["central"], rel_tol=0.05)  # the Kokam LAM knee hardly binds


def test_the_scenario_can_age_the_example_fleet_with_v2g_sims_thermal_network(example_operation) -> None:
    # [batteries] pack_thermal_model = "v2g_sim" reaches the car packs' stress through year_stress; the daily
    # stress temperature is the daily mean of chisan.batteries.field.pack_temperature's hourly pack temperature.
    from chisan.roadmap.health import year_stress

    operation = example_operation[1]
    assert Batteries().pack_thermal_model == "offsets"  # the default keeps the offsets
    assert Batteries(pack_thermal_model="v2g_sim").cabin_solar_rise_c == 22.2  # McLaren et al. 2005
    with pytest.raises(ValueError, match="'offsets' or 'v2g_sim'"):
        Batteries(pack_thermal_model="blast")
    hourly = pack_temperature(
        operation.temp_c,
        operation.ghi_w_per_m2,
        operation.vehicle_soc,
        dt_hours=operation.dt_hours,
        thermal_model="v2g_sim",
    )
    network = year_stress(operation, "nmc622_denso", pack_thermal_model="v2g_sim").vehicles["temp_c"]
    air = year_stress(operation, "nmc622_denso").vehicles["temp_c"]
    offsets = year_stress(operation, "nmc622_denso", sun_offset_c=4.0, charging_offset_c=2.0).vehicles["temp_c"]
    assert network.mean() == pytest.approx(hourly.to_numpy().mean(), abs=0.05)
    # V2G-Sim's parked pack runs warmer than the 4 K / 2 K offsets on this fleet (hourly means +2.0 K and
    # +0.7 K above the air when written), and both above the air
    assert network.mean() - air.mean() == pytest.approx(hourly.to_numpy().mean() - operation.temp_c.mean(), abs=0.05)
    assert network.mean() > offsets.mean() > air.mean()
