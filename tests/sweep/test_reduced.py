"""The reduced plan: its pieces by hand, its key figures by chisan plan's definitions, its error on real towns."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from chisan.plan.pipeline import plan_scenario
from chisan.plan.prepare import prepare_inputs
from chisan.plan.reduce import aggregate_fleet, typical_days
from chisan.plan.results import key_figures, mobility_per_year
from chisan.sweep.derive import DeriveOptions, derive_scenario
from chisan.sweep.lp import solve_aggregate
from chisan.sweep.reduced import (
    _tightened,
    compare_with_full,
    other_day_counts,
    plan_reduced,
    representative_scenario,
)

ACCURACY_SAMPLE = ("203033", "473022")
"""Koumi (Nagano, 4,414 residents, 4 cars) and Ōgimi (Okinawa, 3,049 residents, 3 cars): two areas, climates of
the sun at 36° and 27° N, different prices and grid factors; small enough for chisan plan in seconds."""


@pytest.fixture(scope="module")
def plans(template, municipalities):
    """For each sample town: its scenario, chisan plan's two-stage run, and the reduced plan."""
    out = {}
    for code in ACCURACY_SAMPLE:
        scenario = derive_scenario(template, code, municipalities.loc[code].to_dict())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a few unserved bookings; the same in both plans
            full = plan_scenario(scenario, method="two-stage")
            reduced = plan_reduced(scenario)
        out[code] = (scenario, full, reduced)
    return out


def test_representative_stations_by_hand(template):
    row = {"name": "X", "prefecture": "Ibaraki", "latitude_deg": 36.2, "longitude_deg": 140.4, "population": 100_000}
    scenario = derive_scenario(template, "1", row)  # 17 stations × 6 cars, 1,500 members (test_derive.py)
    rep, vehicle_ratio, member_ratio = representative_scenario(scenario, 10)
    # the first 10 stations are two whole cycles of the template: shares 2 × (0.30 + 0.25 + 3 × 0.15) = 2.0 of the
    # 3.55 the 17 stations hold → round(1,500 × 2.0 / 3.55 = 845.07) = 845 members; 60 of the 102 cars
    assert [s.name for s in rep.stations] == [s.name for s in scenario.stations[:10]]
    assert rep.bookings.members == 845
    assert sum(s.member_share_fraction for s in rep.stations) == pytest.approx(1.0)
    assert rep.stations[0].member_share_fraction == pytest.approx(0.30 / 2.0)
    assert member_ratio == pytest.approx(1500 / 845)
    assert vehicle_ratio == pytest.approx(102 / 60)
    same, v, m = representative_scenario(scenario, 17)
    assert same is scenario and v == m == 1.0


def test_tightened_targets_by_hand(plans):
    _, full, _ = plans["203033"]
    inputs = full.prepared.inputs
    capped = dataclasses.replace(inputs, max_grid_import_kwh=1000.0, max_emissions_kg=500.0)
    out = _tightened(
        capped,
        {
            "policy.renewable_share_min_fraction": 50.0,
            "policy.max_grid_import_kwh_per_year": 100.0,
            "policy.max_emissions_kg_per_year": 20.0,
        },
        load_kwh=5000.0,
    )
    # annual target 1.0 + 1.05 × 50 / 5,000 = 1.0105; caps lowered by 1.05 × their shortfall
    assert out.renewable_share_min == pytest.approx(1.0105)
    assert out.max_grid_import_kwh == pytest.approx(1000.0 - 105.0)
    assert out.max_emissions_kg == pytest.approx(500.0 - 21.0)


def test_key_figures_weight_a_step_as_that_many_repeated_steps(plans):
    """The sweep's typical-day dispatch is weighted; a step of weight 3 counts as the step written three times."""
    scenario, full, _ = plans["203033"]
    res = full.results
    inputs = full.prepared.inputs
    mobility = mobility_per_year(full.prepared.assignment.bookings, inputs.opex_scale)
    first_days = res.dispatch.iloc[:48]
    weighted = res.dispatch.assign(weight=np.r_[np.full(48, 3.0), np.ones(len(res.dispatch) - 48)])
    repeated = pd.concat([first_days, first_days, res.dispatch])
    fleet = (int(res.kpi("vehicles")), int(res.kpi("chargers")))
    a = key_figures(scenario, inputs, dict(res.capacities), weighted, *fleet, mobility)
    b = key_figures(scenario, inputs, dict(res.capacities), repeated, *fleet, mobility)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_index_equal(x.index, y.index)
    np.testing.assert_allclose(a[0]["total_per_year"], b[0]["total_per_year"], rtol=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12)
    np.testing.assert_allclose(a[2], b[2], rtol=1e-12)
    np.testing.assert_allclose(a[3]["value"].to_numpy(float), b[3]["value"].to_numpy(float), rtol=1e-12)
    # and the weights changed something: two more days of imports than the plan's own year
    assert b[1]["grid_import_kwh"] > res.energy_balance["grid_import_kwh"] or first_days["grid_import_kw"].sum() == 0
    assert b[1]["charging_kwh"] > res.energy_balance["charging_kwh"]


@pytest.mark.parametrize("code", ACCURACY_SAMPLE)
def test_reduced_plan_within_two_percent_of_chisan_plan(plans, code):
    """The issue's target: total cost and renewable share within 2 % of the full-year per-vehicle plan."""
    _, full, reduced = plans[code]
    errors = compare_with_full(reduced, full.results)["relative_error"]
    assert abs(errors["total_cost_per_year"]) <= 0.02
    assert abs(errors["renewable_share_annual"]) <= 0.02
    # the sizing is the same stage as chisan plan's (24 linked typical days, the town as one battery): PV agrees
    # within the 0.1 % margin chisan plan adds when the annual target binds (ANNUAL_TARGET_MARGIN)
    assert abs(errors["pv_kw"]) <= 2e-3
    # the fleet and its energy are the same bookings in both
    assert reduced.kpi("vehicles") == full.results.kpi("vehicles")
    assert reduced.kpi("km_per_year") == pytest.approx(full.results.kpi("km_per_year"), rel=1e-12)


def test_operating_figures_from_typical_days_are_cheaper_but_biased(plans):
    """The faster option reads imports off the typical days; the year-long check is what keeps them honest."""
    scenario, full, reduced = plans["203033"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = plan_reduced(scenario, operation="typical-days")
    assert fast.capacities == reduced.capacities  # same sizing LP
    err_year = compare_with_full(reduced, full.results)["relative_error"]
    err_typ = compare_with_full(fast, full.results)["relative_error"]
    assert abs(err_year["renewable_share_hourly_matched"]) < abs(err_typ["renewable_share_hourly_matched"])


def test_one_car_village_whose_typical_days_cannot_be_driven(template, municipalities):
    """Hiraya (Nagano, 389 residents: 6 members, one car). tsam's 24 typical days asked for more driving than the
    car's plugged-in hours recharge — even with no target, an artefact of tsam's mean-keeping water-fill on the
    trips — so chisan plan's sizing failed and the reduced plan tried 25, 20, 32, 12 days. The typical days are now
    brought back to drivable days (:func:`chisan.plan.reduce._drivable_fleet_days`, the year's trip energy kept):
    the 24 days size, and the plan meets the template's target on the real year. The template's prices scaled by
    the area index keep the day/night price shape the clustering sees."""
    assert other_day_counts(24) == [25, 20, 32, 12]
    assert other_day_counts(4) == [5, 12, 2]
    row = municipalities.loc["204099"].to_dict()
    scenario = derive_scenario(template, "204099", row, DeriveOptions(prices="area"))
    assert scenario.bookings.members == 6 and [s.vehicles for s in scenario.stations] == [1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agg = aggregate_fleet(prepare_inputs(scenario).inputs)
        free = dataclasses.replace(typical_days(agg, 24).inputs, renewable_share_min=None)
        assert solve_aggregate(free).status == "optimal"  # infeasible before the days were made drivable
        plan = plan_reduced(scenario)
    assert plan.details["typical_days"] == 24
    assert plan.kpi("renewable_share_annual") >= 1.0 - 1e-6  # the year meets the template's 100 % target
    assert plan.kpi("bookings_served") > 0


@pytest.fixture(scope="module")
def realistic_plans(municipalities):
    """Koumi on the realistic template of benchmarks/bench_sweep.py (one meter, TEPCO high-voltage basic charge,
    day/night prices, V2G, 90 % hourly target): chisan plan's two-stage run and the reduced plan."""
    from benchmarks.bench_sweep import realistic_template

    scenario = derive_scenario(realistic_template(), "203033", municipalities.loc["203033"].to_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = plan_scenario(scenario, method="two-stage")
        reduced = plan_reduced(scenario)
    return scenario, full, reduced


@pytest.mark.slow  # chisan plan's per-vehicle year with V2G and a basic charge: 23 s at load 2, 274 s at load 19
def test_reduced_plan_on_the_realistic_template(realistic_plans):
    """Total cost within 2 % of chisan plan, with the cars' battery holding cost billed as chisan plan bills it.

    Koumi's hourly-matched share is within 2 % of chisan plan's (−0.13 %: chisan plan re-sizes its supply to the
    90 % target, and both sit on it). Where chisan plan keeps its sized supply the sweep's share is higher
    (+1.9 to +3.3 % on three of five climates, benchmarks/bench_sweep.py --accuracy-codes five): the town's cars
    pool their energy, so the reduced year imports less than any per-vehicle dispatch. That is the relaxation,
    not chisan plan's week-by-week dispatch: Shikaoi's exact per-vehicle year LP at the same capacities imports
    810 kWh, chisan plan 850 kWh, the pooled year 532 kWh.
    """
    _, full, reduced = realistic_plans
    errors = compare_with_full(reduced, full.results)["relative_error"]
    assert abs(errors["total_cost_per_year"]) <= 0.02
    # the holding cost is in the year LP's objective; the cost table bills it on the year's fleet energy
    hold = float(reduced.costs.loc["Battery holding (calendar ageing)", "total_per_year"])
    full_hold = float(full.results.costs.loc["Battery holding (calendar ageing)", "total_per_year"])
    assert hold > 0.0 and hold == pytest.approx(full_hold, rel=0.25)
    without = (reduced.kpi("total_cost_per_year") - hold) / full.results.kpi("total_cost_per_year") - 1.0
    assert abs(without) > abs(errors["total_cost_per_year"])  # leaving it out moved the total away from the plan
    assert reduced.kpi("renewable_share_hourly_matched") >= 0.9 - 1e-6  # the template's hourly target, met
    assert abs(errors["renewable_share_hourly_matched"]) <= 0.02
    assert reduced.kpi("vehicles") == full.results.kpi("vehicles")
