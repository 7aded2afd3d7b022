"""Business as usual is the plan with every new capacity fixed at 0; the cost table is the objective line by line;
the appraisal's cash flows follow from the two objectives."""

from __future__ import annotations

import pytest

from chisan.economics.bau import bau_inputs
from chisan.plan.pipeline import plan_scenario
from chisan.units import capital_recovery_factor
from tests.factories import small_scenario

# V2G on with a wear cost and a carbon price, so that every line of the objective is non-zero
CHANGES = {
    "fleet": {"v2g": True, "v2g_cycle_cost_per_kwh": 2.0},
    "policy": {"carbon_price_per_t": 10_000.0},
    "finance": {"pv_degradation_per_year_fraction": 0.0, "project_life_years": 25},
}


@pytest.fixture(scope="module")
def run():
    return plan_scenario(small_scenario(**CHANGES), method="full", business_as_usual=True)


def test_bau_equals_a_plan_with_every_new_capacity_fixed_at_zero(run):
    fixed = small_scenario(
        fleet=CHANGES["fleet"],
        finance=CHANGES["finance"],
        technologies={
            "pv": {"fixed_kw": 0.0},
            "wind": {"fixed_kw": 0.0},
            "storage": {"fixed_kwh": 0.0, "fixed_kw": 0.0},
        },
        policy={"renewable_share_min_fraction": None, "carbon_price_per_t": 10_000.0},
    )
    zero = plan_scenario(fixed, method="full", business_as_usual=False)
    assert run.bau is not None and zero.bau is None
    bau_objective = run.bau.costs.loc[run.bau.costs["in_objective"], "total_per_year"].sum()
    assert bau_objective == pytest.approx(zero.solution.details["objective"], rel=1e-6)
    assert run.bau.kpi("total_cost_per_year") == pytest.approx(zero.results.kpi("total_cost_per_year"), rel=1e-6)
    assert dict(run.bau.capacities) == {"pv_kw": 0.0, "wind_kw": 0.0, "storage_kwh": 0.0, "storage_kw": 0.0}
    assert run.results.capacities["pv_kw"] > 1.0  # the plan does build PV: the comparison is not trivial


def test_bau_inputs_keep_prices_and_drop_targets(run):
    inp = run.prepared.inputs
    bau = bau_inputs(inp)
    assert inp.renewable_share_min == 1.0 and bau.renewable_share_min is None
    assert bau.carbon_price_per_kg == inp.carbon_price_per_kg == 10.0
    assert all(c.upper == 0.0 for c in bau.capacities.values())
    assert bau.import_price_per_kwh.equals(inp.import_price_per_kwh)


@pytest.mark.parametrize("which", ["plan", "bau"])
def test_cost_table_sums_to_the_objective(run, which):
    results = run.results if which == "plan" else run.bau
    costs = results.costs
    optimised = costs.loc[costs["in_objective"], "total_per_year"].sum()
    assert optimised == pytest.approx(results.method["objective"], rel=1e-9)
    assert optimised == pytest.approx(results.method["objective_evaluated"], rel=1e-9)
    for line in ("Battery holding (calendar ageing)", "Carbon price"):
        assert costs.loc[line, "total_per_year"] > 0, line
    # the one total: optimised lines + chargers + leases, used by the KPIs
    fixed = costs.loc[["Chargers", "Vehicles (lease)"], "total_per_year"].sum()
    assert results.kpi("total_cost_per_year") == pytest.approx(optimised + fixed, rel=1e-12)


def test_v2g_wear_line_is_the_discharge_times_the_wear_cost(run):
    d = run.results.dispatch
    v2g_kwh = d["v2g_kw"].sum() * 8760 / len(d)
    assert run.results.costs.loc["V2G wear", "total_per_year"] == pytest.approx(v2g_kwh * 2.0, rel=1e-12)


def test_cash_flows_follow_from_the_two_objectives(run):
    # Only PV is built (lifetime 25 years = project life, no ageing, nothing left at the end), so
    # year-1 net cash flow − PV annuity = BAU total − plan total, and NPV = (BAU − plan) ÷ CRF(3 %, 25).
    econ = run.economics
    caps = run.results.capacities
    assert caps["storage_kwh"] == pytest.approx(0.0, abs=1e-6) and caps["wind_kw"] == pytest.approx(0.0, abs=1e-6)
    saving = run.bau.kpi("total_cost_per_year") - run.results.kpi("total_cost_per_year")
    annuity = run.results.costs.loc["PV", "investment_per_year"]
    assert econ.cash_flows.loc[1, "net_jpy"] - annuity == pytest.approx(saving, rel=1e-9)
    assert econ.figure("npv") == pytest.approx(saving / capital_recovery_factor(0.03, 25), rel=1e-9)
    assert econ.figure("investment") == pytest.approx(caps["pv_kw"] * 200_000, rel=1e-12)  # example: ¥200k/kW
    assert econ.figure("bau_total_cost_per_year") == run.bau.kpi("total_cost_per_year")
    assert (econ.comparison["saving_jpy_per_year"].sum()) == pytest.approx(saving, rel=1e-9)


def test_no_bau_skips_it(small_full_plan):
    run = small_full_plan  # plan_scenario(small_scenario(), method="full"), tests/conftest.py
    assert run.bau is None and run.economics is None and "business_as_usual" not in run.seconds
