"""A tariff through the whole pipeline: scenario → compiled prices → LP with the basic charge → cost line.

The small town (tests.factories.small_scenario: June 2025, 2 stations × 3 cars, 6 kW chargers) on TEPCO EP's
high-voltage tariff (1,890 JPY/kW/month, 19.51 + 3.98 JPY/kWh) against the same energy price without a basic
charge.
"""

from __future__ import annotations

import pytest

from chisan.plan.model import build_model
from chisan.plan.pipeline import plan_scenario
from chisan.plan.reduce import typical_days
from chisan.plan.solve import _highs_options, _solve, evaluate_objective
from chisan.plan.tariff_constraints import basic_charge_per_kw
from chisan.tariffs import load_tariff
from tests.factories import small_scenario

NO_BASIC = {
    **load_tariff("tepco_high_voltage_business").model_dump(mode="json"),
    "name": "hv_energy_only",
    "basic_charge_jpy_per_kw_month": 0.0,
}


@pytest.fixture(scope="module")
def runs():
    with_basic = plan_scenario(
        small_scenario(grid={"tariff": "tepco_high_voltage_business", "import_tou": []}), method="full"
    )
    without = plan_scenario(small_scenario(grid={"tariff": NO_BASIC, "import_tou": []}), method="full")
    return with_basic, without


def test_prices_come_from_the_tariff(runs):
    with_basic, _ = runs
    inputs = with_basic.prepared.inputs
    assert inputs.import_price_per_kwh.to_numpy() == pytest.approx(19.51 + 3.98)
    assert inputs.export_price_per_kwh.to_numpy() == pytest.approx(8.5)
    assert inputs.basic_charge_per_kw_month == 1890.0


def test_the_basic_charge_is_its_own_cost_line_on_the_contract_kw(runs):
    with_basic, without = runs
    d = with_basic.results.dispatch
    contract = float(d["grid_import_kw"].max())  # hourly steps: the hourly mean is the 30-minute demand
    assert with_basic.results.kpi("contract_kw") == pytest.approx(contract)
    line = with_basic.results.costs.loc["Basic charge"]
    # 1,890 JPY/kW/month × 12 months × contract kW; a one-month plan still books 12 months a year.
    assert line["operation_per_year"] == pytest.approx(1890.0 * 12 * contract, rel=1e-9)
    assert line["total_per_year"] == pytest.approx(1890.0 * 12 * contract, rel=1e-9)
    assert "Basic charge" not in without.results.costs.index
    assert "contract_kw" not in without.results.kpis.index


def test_the_basic_charge_lowers_the_peak_and_the_objective_is_the_bill(runs):
    with_basic, without = runs
    peak_with = float(with_basic.results.dispatch["grid_import_kw"].max())
    peak_without = float(without.results.dispatch["grid_import_kw"].max())
    assert peak_with < peak_without
    inputs = with_basic.prepared.inputs
    objective = with_basic.solution.details["objective"]
    assert evaluate_objective(inputs, with_basic.solution) == pytest.approx(objective, rel=1e-6)
    # Paying the basic charge on the peak without it costs more than the plan that shaves it.
    assert objective < evaluate_objective(inputs, without.solution) - 1.0


def test_two_stage_carries_the_contract_and_bills_it(runs):
    two = plan_scenario(
        small_scenario(grid={"tariff": "tepco_high_voltage_business", "import_tou": []}), method="two-stage"
    )
    full, _ = runs
    d = two.results.dispatch
    # a meter per station: each bills its own highest hourly demand, the contract kW is their sum
    meters = [c for c in d if c.startswith("site_import_kw:")]
    assert len(meters) == 2
    contract = float(sum(d[c].max() for c in meters))
    assert two.results.kpi("contract_kw") == pytest.approx(contract)
    assert two.results.sites["contract_kw"].sum() == pytest.approx(contract)
    assert two.results.costs.loc["Basic charge", "operation_per_year"] == pytest.approx(1890.0 * 12 * contract)
    # The full co-optimisation is the optimum: the two-stage plan's bill is no lower.
    full_obj = full.solution.details["objective"]
    assert evaluate_objective(two.prepared.inputs, two.solution) >= full_obj * (1 - 1e-6)


def test_on_typical_days_one_contract_covers_every_typical_day(runs):
    # The sizing stage's typical days: one Tariff-peak_kw for all of them, equal to the highest import of any
    # typical day's step (the basic charge makes it bind), and billed 12 months (weights sum to the horizon).

    with_basic, _ = runs
    reduction = typical_days(with_basic.prepared.inputs, 6)
    m = build_model(reduction.inputs)
    assert _solve(m, _highs_options(None, 1)) == "optimal"
    # one contract per meter (a meter per station), each the highest import of its site over all typical days
    imp = m.variables["Site-import_kw"].solution.to_numpy()
    peak = m.variables["Tariff-peak_kw"].solution.to_numpy()
    assert peak.shape == (2,)
    assert (imp <= peak[None, :] + 1e-6).all()
    assert peak == pytest.approx(imp.max(axis=0), abs=1e-6)
    assert reduction.inputs.period.nunique() == 6
    assert basic_charge_per_kw(reduction.inputs) == pytest.approx(1890.0 * 12)
    assert m.objective.value >= basic_charge_per_kw(reduction.inputs) * peak.sum()


def test_the_report_names_the_billed_tariff_with_its_compiled_prices(runs):
    from chisan.report.render import _inputs_rows

    with_basic, _ = runs
    rows = {row["name"]: row["value"] for row in _inputs_rows(with_basic.prepared, with_basic.results)}
    text = rows["Grid tariff"]
    # the energy price 19.51 plus the renewable-energy levy 3.98 (FY2025), the surplus price 8.50, the basic charge
    assert "23.49–23.49 JPY/kWh" in text
    assert "8.50–8.50 JPY/kWh" in text
    assert "1,890.00 JPY/kW/month" in text
    assert "tepco_high_voltage_business" in text
