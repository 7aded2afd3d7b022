"""The appraisal buys the second-life packs the plan uses, counts the whole grid bill, says when its 25-year figures
rest on a partial horizon or an odd contract, and defines its figures in words (chisan.economics.appraisal).

Second-life packs by hand (r = 3 %, N = 25, the small town's finance): E = 9.5 kWh at ¥12,500/kWh, an 8-year second
life. Capex C = 9.5 × 12,500 = ¥118,750 in year 0, bought again in years 8, 16 and 24 (a replacement due in year
32 > 25 is not made), and the unit of year 24 has 24 + 8 − 25 = 7 of its 8 years left in year 25: salvage
7/8 × C = ¥103,906.25 (straight line, chisan.economics.cashflows as REopt, Cutler et al. 2017 §3.3). Present value:

    C × [1 + 1.03^-8 + 1.03^-16 + 1.03^-24 − 7/8 × 1.03^-25]
      = 118,750 × [1 + 0.789409 + 0.623167 + 0.491934 − 0.875 × 0.477606] = 118,750 × 2.486605 ≈ ¥295,284

so the NPV falls by that and the year-0 investment rises by C.
"""

from __future__ import annotations

import dataclasses
import warnings

import pandas as pd
import pytest

from chisan.economics.appraisal import appraise
from chisan.economics.cautions import AppraisalCautionWarning, contract_cautions, horizon_caution
from chisan.scenario.schema import SecondLife
from tests.factories import small_scenario

C = 9.5 * 12_500.0


@pytest.fixture(scope="module")
def run(small_full_plan_with_bau):
    return small_full_plan_with_bau  # plan_scenario(small_scenario(), method="full", business_as_usual=True)


def _quiet_appraise(sc, plan, bau):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AppraisalCautionWarning)  # the small town plans one month
        return appraise(sc, plan, bau)


def _with_second_life(sc, plan, used_kwh: float):
    offer = SecondLife(offered_kwh=60.0, price_per_kwh=12_500.0, lifetime_years=8.0)
    method = {**plan.method, "second_life": {"used_kwh": used_kwh}}
    return sc.model_copy(update={"second_life": offer}), dataclasses.replace(plan, method=method)


def test_second_life_packs_are_bought_replaced_and_salvaged_by_hand(run):
    sc, plan, bau = small_scenario(), run.results, run.bau
    assert (sc.finance.discount_rate_fraction, sc.finance.project_life_years) == (0.03, 25)
    without = _quiet_appraise(sc, plan, bau)
    sc2, plan2 = _with_second_life(sc, plan, 9.5)
    econ = _quiet_appraise(sc2, plan2, bau)

    row = econ.investment.loc["Second-life storage"]
    assert row["capex_jpy"] == pytest.approx(118_750.0, rel=1e-12)
    assert row["lifetime_years"] == 8.0
    assert row["replacement_years"] == "8, 16, 24"
    assert row["salvage_jpy"] == pytest.approx(103_906.25, rel=1e-12)

    flows, before = econ.cash_flows, without.cash_flows
    extra = (before["net_jpy"] - flows["net_jpy"]).to_numpy()  # what the packs cost each year
    assert extra[0] == pytest.approx(C, rel=1e-12)
    assert [extra[y] for y in (8, 16, 24)] == pytest.approx([C, C, C], rel=1e-12)
    assert extra[25] == pytest.approx(-7 / 8 * C, rel=1e-12)
    others = [y for y in range(1, 25) if y not in (8, 16, 24)]
    assert abs(extra[others]).max() == pytest.approx(0.0, abs=1e-6)

    hand = C * (1 + 1.03**-8 + 1.03**-16 + 1.03**-24 - 7 / 8 * 1.03**-25)
    assert hand == pytest.approx(295_284, abs=1.0)
    assert without.figure("npv") - econ.figure("npv") == pytest.approx(hand, rel=1e-9)
    assert econ.figure("investment") - without.figure("investment") == pytest.approx(C, rel=1e-12)
    # the packs are part of the energy system the cars share: the cost of charging rises with them
    assert econ.figure("levelised_cost_of_charging_per_kwh") > without.figure("levelised_cost_of_charging_per_kwh")


def test_no_second_life_bought_when_the_plan_leaves_the_offer_unused(run):
    sc2, plan2 = _with_second_life(small_scenario(), run.results, 0.0)
    assert "Second-life storage" not in _quiet_appraise(sc2, plan2, run.bau).investment.index


def _with_line(costs: pd.DataFrame, name: str, per_year: float) -> pd.DataFrame:
    out = costs.copy()
    out.loc[name, ["operation_per_year", "total_per_year"]] = per_year
    return out


def test_the_basic_charge_saved_is_in_the_cash_flows_by_hand(run):
    """Business as usual pays a basic charge of ¥60,000 a year, the plan ¥10,000: year 1's grid saving rises by
    ¥50,000 (year 1 is the PV's first year, output factor 1), as the two cost tables' difference says."""
    sc, plan, bau = small_scenario(), run.results, run.bau
    base = _quiet_appraise(sc, plan, bau)
    plan2 = dataclasses.replace(plan, costs=_with_line(plan.costs, "Basic charge", 10_000.0))
    bau2 = dataclasses.replace(bau, costs=_with_line(bau.costs, "Basic charge", 60_000.0))
    econ = _quiet_appraise(sc, plan2, bau2)
    gained = econ.cash_flows.loc[1, "energy_savings_jpy"] - base.cash_flows.loc[1, "energy_savings_jpy"]
    assert gained == pytest.approx(50_000.0, rel=1e-12)
    assert econ.comparison.loc["Basic charge", "saving_jpy_per_year"] == pytest.approx(50_000.0, rel=1e-12)


def test_a_partial_horizon_is_a_caution_of_the_appraisal(run):
    sc, plan, bau = small_scenario(), run.results, run.bau
    assert (sc.horizon.start_month, sc.horizon.months) == (6, 1)
    with pytest.warns(AppraisalCautionWarning, match="horizon.months = 1: the plan covers June 2025 only"):
        econ = appraise(sc, plan, bau)
    assert any(c.startswith("horizon.months = 1") for c in econ.cautions)
    assert econ.figure("share_of_year_planned") == pytest.approx(1 / 12, rel=1e-12)
    year = sc.model_copy(update={"horizon": sc.horizon.model_copy(update={"start_month": 1, "months": 12})})
    assert horizon_caution(year) is None


def _on_tariff(sc, tariff: str):
    return sc.model_copy(update={"grid": sc.grid.model_copy(update={"tariff": tariff})})


def test_a_high_voltage_contract_under_50_kw_is_a_caution():
    sc = small_scenario()
    high = _on_tariff(sc, "tepco_high_voltage_business_2025")
    found = contract_cautions(high, {"site Town Hall": ("tepco_high_voltage_business_2025", 0.22)})
    assert len(found) == 1 and "site Town Hall: contract 0.22 kW" in found[0] and "50 kW" in found[0]
    assert contract_cautions(high, {"site A": ("tepco_high_voltage_business_2025", 50.0)}) == []
    low = _on_tariff(sc, "tepco_low_voltage_power")
    assert contract_cautions(low, {"site A": ("tepco_low_voltage_power", 0.22)}) == []


def test_the_appraisal_flags_the_towns_high_voltage_contract(run):
    sc = _on_tariff(small_scenario(), "tepco_high_voltage_business_2025")
    kpis = run.results.kpis.copy()
    kpis.loc["contract_kw", ["value", "unit"]] = [0.22, "kW"]
    plan = dataclasses.replace(run.results, kpis=kpis, sites=None)
    econ = _quiet_appraise(sc, plan, run.bau)
    assert [c for c in econ.cautions if "contract 0.22 kW" in c] != []


def test_the_figures_are_defined_in_words(run):
    econ = _quiet_appraise(small_scenario(), run.results, run.bau)
    lcoc = econ.figures.loc["levelised_cost_of_charging_per_kwh", "definition"]
    assert "Not in: the vehicle leases" in lcoc and "÷ (charging +" in lcoc
    rate = econ.figures.loc["discount_rate", "definition"]
    assert "(3.0%)" in rate and "worth less" in rate


def test_the_investment_names_only_what_the_plan_buys(run):
    econ = _quiet_appraise(small_scenario(), run.results, run.bau)
    bought = [name for name, row in econ.investment.iterrows() if row.filter(like="capex").iloc[0] > 0]
    assert bought and "Electrolyser" not in bought  # the small town has no hydrogen
    definition = econ.figures.loc["investment", "definition"]
    assert "electrolyser" not in definition and "dispenser" not in definition
    for name in bought:
        assert (name if name == "PV" else name.lower()) in definition
