"""The hydrogen station in the appraisal: business as usual buys all its hydrogen; the plan's electrolyser (with
its stack replacements), store and dispenser are investments of the cash flows, derived by hand.

Closed form of the tiny case (r = 3 %, N = 25 years): an electrolyser of 10 kW at 1,000/kW (C = 10,000), the stack
half of it (P = 5,000) lasting S = 8 years, the system L = 20 years. Stacks are bought again at 8 and 16 (k·8 < 20),
the system at 20 (its stacks would follow at 28: after the end). At the end of year 25 the system bought in 20 has
15 of 20 years left (0.75) and its stack, bought with it in 20 and due again in 28, 3 of 8 (0.375):
salvage = (C − P) × 0.75 + P × 0.375 = 3,750 + 1,875 = 5,625. With v = 1/1.03,

    NPV of its costs = C + P (v^8 + v^16) + C v^20 − 5,625 v^25.

With N = L = 20 and S = 10 (stack again at 10, nothing left at the end) the present value of the costs times
CRF(r, 20) is the LP's annual cost per kW (:func:`chisan.plan.hydrogen.hydrogen_capacities`):
C (1 + 0.5 v^10) CRF.
"""

from __future__ import annotations

import pytest

from chisan.economics.appraisal import investment_table
from chisan.economics.bau import bau_hydrogen
from chisan.economics.cashflows import Component, component_flows, project_cash_flows
from chisan.economics.hydrogen import hydrogen_components
from chisan.economics.metrics import npv
from chisan.exceptions import ScenarioError
from chisan.plan.hydrogen import hydrogen_capacities
from chisan.units import capital_recovery_factor
from tests.factories import small_scenario

R = 0.03
V = 1 / (1 + R)
ELECTROLYSER = Component("Electrolyser", 10_000.0, 20.0, part_capex=5_000.0, part_lifetime_years=8.0)


def test_stack_replacements_and_salvage_by_hand():
    f = component_flows(ELECTROLYSER, 25, salvage=True, currency="CNY")
    assert f.loc[0, "investment_cny"] == 10_000
    assert dict(f.loc[f["replacements_cny"] > 0, "replacements_cny"]) == {8: 5_000, 16: 5_000, 20: 10_000}
    assert f.loc[25, "salvage_cny"] == pytest.approx(-5_625.0, rel=1e-12)
    cash = project_cash_flows([ELECTROLYSER], {}, life_years=25, discount_rate=R, currency="CNY")
    expected = 10_000 + 5_000 * (V**8 + V**16) + 10_000 * V**20 - 5_625 * V**25
    assert -npv(R, cash["net_cny"].to_numpy()) == pytest.approx(expected, rel=1e-12)
    table = investment_table([ELECTROLYSER], 25, True, "CNY")
    assert table.loc["Electrolyser", "replacement_years"] == "20; stack (5,000 CNY): 8, 16"
    assert table.loc["Electrolyser", "salvage_cny"] == pytest.approx(5_625.0, rel=1e-12)


def test_a_stack_as_long_as_the_system_is_salvaged_with_it():
    once = Component("Electrolyser", 10_000.0, 20.0, part_capex=5_000.0, part_lifetime_years=20.0)
    f = component_flows(once, 25, salvage=True, currency="JPY")
    assert dict(f.loc[f["replacements_jpy"] > 0, "replacements_jpy"]) == {20: 10_000}
    assert f.loc[25, "salvage_jpy"] == pytest.approx(-7_500.0)  # 15 of 20 years of the whole unit


def _scenario():
    return small_scenario(
        finance={"currency": "CNY", "discount_rate_fraction": R, "project_life_years": 20},
        technologies={
            "electrolyser": {
                "capex_per_kw": 1_000.0,
                "fixed_om_per_kw_year": 20.0,
                "lifetime_years": 20,
                "stack_lifetime_years": 10,
                "stack_cost_fraction": 0.5,
            },
            "hydrogen_storage": {"capex_per_kg": 300.0, "lifetime_years": 20},
            "hydrogen_dispenser": {"capex_per_kg_per_h": 900.0, "lifetime_years": 10},
        },
    )


def test_cash_flows_of_the_components_match_the_lp_annuities():
    sc = _scenario()
    comps = hydrogen_components(
        sc,
        {"electrolyser_kw": 12.0, "hydrogen_storage_kg": 40.0, "dispenser_kg_per_h": 5.0},
        {"electrolyser_kw": 2.0, "hydrogen_storage_kg": 0.0, "dispenser_kg_per_h": 5.0},  # the dispenser as BAU's
    )
    by = {c.name: c for c in comps}
    assert set(by) == {"Electrolyser", "Hydrogen store"}
    el = by["Electrolyser"]
    assert (el.capex, el.part_capex, el.fixed_om_per_year) == (10_000.0, 5_000.0, 200.0)  # 10 kW above BAU
    assert by["Hydrogen store"].capex == 12_000.0  # 40 kg × 300
    crf = capital_recovery_factor(R, 20)
    lp = hydrogen_capacities(sc)  # annual cost per kW electric / per kWh LHV
    for comp, name, units in ((el, "electrolyser_kw", 10.0), (by["Hydrogen store"], "h2_storage_kwh", 40.0 * 33.33)):
        costs = component_flows(comp, 20, salvage=True, currency="CNY").sum(axis=1).to_numpy()
        assert npv(R, costs) * crf == pytest.approx(lp[name].annual_cost_per_unit * units, rel=1e-12)
    # the closed form: C (1 + 0.5 v^10) CRF + O&M per kW
    assert lp["electrolyser_kw"].annual_cost_per_unit == pytest.approx(1_000 * (1 + 0.5 * V**10) * crf + 20, rel=1e-12)


def test_hydrogen_saving_falls_as_the_pv_ages_by_hand():
    # S_h = 1,000 a year, d = 10 %/year, ψ = 0.6 of the saving from PV-made hydrogen: year y saves
    # 1,000 × (0.4 + 0.6 × 0.9^(y − 1)) = 1,000, 940, 886 (the PV-made part as the electricity savings)
    f = project_cash_flows(
        [],
        {"hydrogen": 1_000.0, "energy": 100.0},
        life_years=3,
        discount_rate=R,
        pv_degradation_per_year=0.1,
        pv_savings_share=0.5,
        hydrogen_pv_share=0.6,
        currency="CNY",
    )
    assert list(f["hydrogen_savings_cny"]) == pytest.approx([0.0, 1_000.0, 940.0, 886.0], rel=1e-12)
    assert list(f["energy_savings_cny"]) == pytest.approx([0.0, 100.0, 95.0, 90.5], rel=1e-12)  # 0.5 + 0.5 × 0.9^a
    flat = project_cash_flows([], {"hydrogen": 1_000.0}, life_years=3, discount_rate=R, pv_degradation_per_year=0.1)
    assert list(flat["hydrogen_savings_jpy"]) == [0.0, 1_000.0, 1_000.0, 1_000.0]  # ψ = 0: none of it from PV


@pytest.fixture(scope="module")
def hydrogen_town(hydrogen_town_plan_with_bau):
    # plan_scenario(load_scenario(example_path("hydrogen_town")), business_as_usual=True), tests/conftest.py
    return hydrogen_town_plan_with_bau


def test_bau_of_the_hydrogen_example_buys_all_its_hydrogen(hydrogen_town):
    run = hydrogen_town
    bau = run.bau.hydrogen
    assert bau.figure("electrolyser_kw") == 0.0 and bau.figure("hydrogen_storage_kg") == 0.0
    # hand-derived (tests/plan/test_hydrogen.py): 505 km a day × 8.0 kg/100 km × 365 days = 14,746 kg a year,
    # all bought at hydrogen.bought_price_per_kg = 1,200 JPY/kg
    assert bau.figure("hydrogen_bought_kg_per_year") == pytest.approx(14_746.0, rel=1e-6)
    assert run.bau.costs.loc["Hydrogen bought", "total_per_year"] == pytest.approx(14_746.0 * 1_200.0, rel=1e-6)
    assert run.results.hydrogen.figure("electrolyser_kw") > 0  # the plan does build one: not a trivial comparison


def test_the_plan_invests_in_its_hydrogen_station(hydrogen_town):
    run = hydrogen_town
    econ, h2 = run.economics, run.results.hydrogen
    inv = econ.investment
    kw, kg = h2.figure("electrolyser_kw"), h2.figure("hydrogen_storage_kg")
    # hydrogen_town.toml: 150,000 JPY/kW, 200,000 JPY/kg; a 20-year system with a 10-year stack, 25-year project
    assert inv.loc["Electrolyser", "capex_jpy"] == pytest.approx(kw * 150_000, rel=1e-12)
    assert inv.loc["Electrolyser", "replacement_years"] == f"20; stack ({kw * 75_000:,.0f} JPY): 10"
    assert inv.loc["Hydrogen store", "capex_jpy"] == pytest.approx(kg * 200_000, rel=1e-12)
    assert "Hydrogen dispenser" not in inv.index  # the same 8 kg/h as business as usual
    pv = inv.loc["PV", "capex_jpy"] if "PV" in inv.index else 0.0
    storage = inv.loc["Storage", "capex_jpy"] if "Storage" in inv.index else 0.0
    expected = pv + storage + kw * 150_000 + kg * 200_000
    assert econ.figure("investment") == pytest.approx(expected, rel=1e-12)
    assert econ.cash_flows.loc[10, "replacements_jpy"] == pytest.approx(-kw * 75_000, rel=1e-12)
    # the delivered hydrogen saved: business as usual's bill less the plan's
    saved = (
        run.bau.costs.loc["Hydrogen bought", "total_per_year"]
        - run.results.costs.loc["Hydrogen bought", "total_per_year"]
    )
    assert saved > 0 and econ.cash_flows.loc[1, "hydrogen_savings_jpy"] == pytest.approx(saved, rel=1e-12)


def test_the_plans_hydrogen_saving_falls_with_its_pv(hydrogen_town):
    from chisan.scenario.load import example_path, load_scenario

    run = hydrogen_town
    d = load_scenario(example_path("hydrogen_town")).finance.pv_degradation_per_year_fraction
    h2, bal, flows = run.results.hydrogen, run.results.energy_balance, run.economics.cash_flows
    # ψ = (hydrogen from local renewables / made) × PV / (PV + wind): the saving falls by ψ × d a year of PV age
    psi = (
        h2.figure("hydrogen_from_local_renewables_kg_per_year")
        / h2.figure("hydrogen_produced_kg_per_year")
        * bal["pv_kwh"]
        / (bal["pv_kwh"] + bal["wind_kwh"])
    )
    assert d > 0 and 0 < psi <= 1  # the example's PV ages and makes hydrogen: the fall is there to see
    first = flows.loc[1, "hydrogen_savings_jpy"]
    assert flows.loc[2, "hydrogen_savings_jpy"] == pytest.approx(first * ((1 - psi) + psi * (1 - d)), rel=1e-9)
    assert flows.loc[3, "hydrogen_savings_jpy"] == pytest.approx(first * ((1 - psi) + psi * (1 - d) ** 2), rel=1e-9)


def test_bau_without_a_price_for_delivered_hydrogen_is_refused(hydrogen_town):
    import dataclasses

    h = dataclasses.replace(hydrogen_town.prepared.inputs.hydrogen, bought_price_per_kwh=None)
    with pytest.raises(ScenarioError, match=r"business as usual needs hydrogen\.bought_price_per_kg"):
        bau_hydrogen(h)
