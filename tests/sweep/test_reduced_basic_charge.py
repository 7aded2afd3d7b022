"""The reduced plan bills a basic charge on the town's one meter (``Tariff-peak_kw`` in the aggregate LP)."""

from __future__ import annotations

import warnings

from chisan.plan.tariff_constraints import PEAK
from chisan.scenario.load import scenario_from_dict
from chisan.sweep.reduced import plan_reduced
from chisan.tariffs.library import load_tariff


def _single_meter(template, basic_charge_jpy_per_kw_month: float):
    """The example on TEPCO's FY2025 high-voltage plan (3,030 JPY/kW/month), with the basic charge replaced."""
    data = template.model_dump(mode="python", exclude={"base_dir"})
    tariff = load_tariff("tepco_high_voltage_business_2025").model_dump(mode="python")
    tariff["basic_charge_jpy_per_kw_month"] = basic_charge_jpy_per_kw_month
    data["grid"].update(import_tou=[], tariff=tariff, topology="single_meter")
    return scenario_from_dict(data, base_dir=template.base_dir)


def _contract_kw(plan, rate_jpy_per_kw_month: float) -> float:
    # the cost table bills contract kW × rate × 12 months (chisan.plan.results.cost_table)
    return float(plan.costs.loc["Basic charge", "total_per_year"]) / (12.0 * rate_jpy_per_kw_month)


def test_basic_charge_lowers_the_contract(template):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        billed = plan_reduced(_single_meter(template, 3030.0), n_typical_days=8)
        nearly_free = plan_reduced(_single_meter(template, 1.0), n_typical_days=8)
    assert PEAK == "Tariff-peak_kw"
    high, low = _contract_kw(billed, 3030.0), _contract_kw(nearly_free, 1.0)
    assert high > 0.0
    # priced at 36,360 JPY/kW/year the LP flattens the town's import; at 12 JPY/kW/year it barely cares
    assert high < 0.8 * low
    # the objective carries the charge: the plan that pays it costs more than the nearly free one, by at most
    # the charge on the nearly free plan's contract (that plan was feasible for the billed LP too)
    extra = billed.kpi("total_cost_per_year") - nearly_free.kpi("total_cost_per_year")
    assert 0.0 < extra <= 36_360.0 * low * 1.02
