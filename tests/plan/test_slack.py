"""The elastic model (chisan.plan.slack) and days kept through the typical-day reduction.

Every number asserted here is derived in the comment above it from the inputs built in the test.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from chisan.exceptions import InfeasibleError
from chisan.plan.check import check_solution
from chisan.plan.inputs import Capacity
from chisan.plan.model import build_model
from chisan.plan.reduce import typical_days
from chisan.plan.slack import build_elastic_model, describe, short_days, shortfalls
from chisan.plan.solve import _highs_options, _solve, diagnose_infeasibility, solve_plan
from tests.factories import hand_inputs

OPTIONS = _highs_options(None, None)


def _two_sites(inputs, **fields):
    """Stations A and B, each its own site; the one car of ``inputs`` at B."""
    stations = pd.DataFrame(
        {"chargers": [1, 1], "charger_kw": [3.0, 3.0], "connection_limit_kw": [np.nan, np.nan]},
        index=pd.Index(["A", "B"], name="station"),
    )
    fields.setdefault("sites", pd.DataFrame({"pv_max_kw": [np.inf, np.inf]}, index=pd.Index(["A", "B"], name="site")))
    return dataclasses.replace(inputs, stations=stations, vehicles=inputs.vehicles.assign(station="B"), **fields)


def _night_car(**fields):
    # The car (η = 0.9, 3 kW) is plugged in 00:00–06:00 and leaves at 06:00 with a 12 kWh trip: 13.33 kWh at
    # the plug a day. PV (¥16,000/kW/year) has output 1 kW/kW from 08:00 to 16:00; storage ¥20,000/kWh/year.
    plugged = np.zeros(24, bool)
    plugged[:6] = True
    trip = np.zeros(24)
    trip[6] = 12.0
    cf = np.r_[np.zeros(8), np.ones(8), np.zeros(8)]
    default = {
        "pv_kw": Capacity(annual_cost_per_unit=16000.0),
        "storage_kwh": Capacity(annual_cost_per_unit=20000.0),
        "storage_kw": Capacity(),
    }
    caps = fields.pop("capacities", default)
    return hand_inputs(plugged=plugged, trip_energy_kwh=trip, pv_kw_per_kw=cf, capacities=caps, **fields)


@pytest.mark.parametrize(
    "policy",
    [{}, {"renewable_share_min": 0.9, "renewable_share_basis": "hourly"}, {"renewable_share_min": 1.0}],
    ids=["no-target", "hourly-90pct", "annual-100pct"],
)
def test_slack_leaves_a_feasible_optimum_unchanged(policy):
    # Feasible problems (PV and storage can meet any target): the slacks stay 0 and the optimum is the same,
    # because the penalty (¥1e6/kWh) is above every shadow price of these rows.
    inputs = _two_sites(_night_car(**policy))
    plain = build_model(inputs)
    assert _solve(plain, OPTIONS) == "optimal"
    elastic = build_elastic_model(inputs)
    assert _solve(elastic, OPTIONS) == "optimal"
    assert float(elastic.objective.value) == pytest.approx(float(plain.objective.value), rel=1e-7)
    assert shortfalls(elastic, inputs) == []
    assert "Slack-balance_kw" in elastic.variables


def test_a_meter_limit_is_named_with_its_site_week_and_kwh():
    # Site B's meter takes at most 1 kW and there is no PV or storage: in its 6 plugged hours the car gets 6 kWh of
    # the 13.33 kWh it needs, 7.333 kWh short, all at site B on 2025-06-01 (a Sunday: week of Monday 2025-05-26).
    base = _night_car(capacities={})
    sites = pd.DataFrame({"pv_max_kw": [0.0, 0.0], "connection_limit_kw": [np.inf, 1.0]}, index=["A", "B"])
    inputs = _two_sites(base, sites=sites)
    assert _solve(build_model(inputs), OPTIONS) in ("infeasible", "infeasible_or_unbounded")
    m = build_elastic_model(inputs)
    assert _solve(m, OPTIONS) == "optimal"
    found = shortfalls(m, inputs)
    assert [s.family for s in found] == ["meter balance"]
    assert found[0].kwh == pytest.approx(12.0 / 0.9 - 6.0, rel=1e-6)
    assert found[0].by_site_day.loc[0, "site"] == "B"
    text = describe(found, inputs, inputs.opex_scale)
    assert "most at site B in the week of 2025-05-26" in text
    assert f"{(12.0 / 0.9 - 6.0) * 365:,.0f} kWh a year" in text  # 2,677 kWh a year
    assert short_days(found, inputs) == [pd.Timestamp("2025-06-01", tz="Asia/Tokyo")]
    # and the diagnosis of the plan says so instead of "no single policy target explains it"
    err = diagnose_infeasibility(inputs, OPTIONS)
    assert isinstance(err, InfeasibleError) and "at site B in the week of 2025-05-26" in str(err)


def test_a_typical_day_sizing_that_fails_says_so_and_names_the_fields():
    # the meter-limited site B of the test above, with PV to size (but no room for it), sized on 1 typical day: the
    # sizing is what fails, and the year might have a plan, so the message points at solver.typical_days and
    # solver.method, on one line
    sites = pd.DataFrame({"pv_max_kw": [0.0, 0.0], "connection_limit_kw": [np.inf, 1.0]}, index=["A", "B"])
    inputs = _two_sites(_night_car(capacities={"pv_kw": Capacity(annual_cost_per_unit=16000.0)}), sites=sites)
    with pytest.raises(InfeasibleError) as err:
        solve_plan(inputs, method="two-stage", n_typical_days=1, time_limit_s=None)
    message = str(err.value)
    assert message.startswith("the sizing on 1 typical days cannot serve their bookings")
    assert "raise solver.typical_days (now 1) or set solver.method = 'full'" in message
    assert "at site B in the week of 2025-05-26" in message  # the elastic model still says where
    assert "no plan can serve" not in message and "\n" not in message and err.value.target == "physical limits"


def test_an_hourly_target_without_pv_or_storage_is_short_by_its_import():
    # No PV, no storage: all 13.33 kWh are imported at B; a 99 % hourly target allows 1 % of it, so it is short
    # by 0.99 × 13.33 = 13.2 kWh, at site B.
    inputs = _two_sites(_night_car(capacities={}, renewable_share_min=0.99, renewable_share_basis="hourly"))
    m = build_elastic_model(inputs)
    assert _solve(m, OPTIONS) == "optimal"
    found = shortfalls(m, inputs)
    assert [s.family for s in found] == ["hourly renewable target"]
    assert found[0].kwh == pytest.approx(0.99 * 12.0 / 0.9, rel=1e-6)
    assert set(found[0].by_site_day["site"]) == {"B"}
    assert describe(found, inputs, 1.0).startswith("the hourly 99% renewable target is short by 13 kWh a year")


def test_kept_days_stay_as_they_are_with_weight_one():
    # Ten days, each with its own PV peak (0.1 … 1.0); days 4 and 7 kept: 3 clusters of the other 8 days plus the
    # two kept days, weights summing to 10, the kept days' PV exactly theirs and each its own period.
    days = 10
    peak = np.linspace(0.1, 1.0, days)
    cf = np.concatenate([np.r_[np.zeros(8), np.full(8, p), np.zeros(8)] for p in peak])
    inputs = hand_inputs(hours=24 * days, pv_kw_per_kw=cf, capacities={"pv_kw": Capacity(annual_cost_per_unit=1.0)})
    red = typical_days(inputs, 3, keep_days=[7, 4])
    assert red.n_days == 5
    weight = red.inputs.weight.to_numpy().reshape(5, 24)[:, 0]
    assert weight.sum() == pytest.approx(days)
    assert weight[-2:] == pytest.approx([1.0, 1.0])
    pv = red.inputs.pv_kw_per_kw.to_numpy().reshape(5, 24)
    assert pv[3] == pytest.approx(cf[4 * 24 : 5 * 24]) and pv[4] == pytest.approx(cf[7 * 24 : 8 * 24])
    order = red.inputs.period_order
    assert order[4] == 3 and order[7] == 4
    assert set(order[np.setdiff1d(np.arange(days), [4, 7])]) <= {0, 1, 2}
    # the year's mean PV is kept (tsam preserves the clustered days' means, the kept days are exact)
    assert (pv.sum(axis=1) * weight).sum() == pytest.approx(cf.sum(), rel=1e-6)


def test_two_stage_sizing_keeps_the_short_day_and_recovers():
    # Ten days; the car (η = 0.9, 12.5 kWh usable, reserve 2) leaves at 20:00 every day with 10 kWh, so it takes
    # 11.11 kWh at the plug a day and can carry at most 0.5 kWh to the next. Its meter takes 0.3 kW: 23 plugged
    # hours import 6.9 kWh, PV (08:00–16:00) must give the other 4.21 kWh. Day 6 is cloudy (cf 0.2): PV
    # ≥ (4.21 − 0.5 / 0.9) / (8 × 0.2) = 2.28 kW. One typical day (PV at the mean, 0.92) sizes far less; the
    # aggregate year then lacks energy at site A in the week of 2025-06-02, the cloudy day joins the sizing set
    # as it is, and the second pass sizes enough.
    days = 10
    cf = np.tile(np.r_[np.zeros(8), np.ones(8), np.zeros(8)], days)
    cf[6 * 24 : 7 * 24] *= 0.2
    plugged = np.ones(24 * days, bool)
    plugged[20::24] = False
    trip = np.zeros(24 * days)
    trip[20::24] = 10.0
    base = hand_inputs(
        hours=24 * days,
        pv_kw_per_kw=cf,
        plugged=plugged,
        trip_energy_kwh=trip,
        usable_kwh=12.5,
        capacities={"pv_kw": Capacity(annual_cost_per_unit=16000.0)},
    )
    sites = pd.DataFrame({"pv_max_kw": [np.inf], "connection_limit_kw": [0.3]}, index=pd.Index(["A"], name="site"))
    inputs = dataclasses.replace(base, sites=sites)
    sol = solve_plan(inputs, method="two-stage", n_typical_days=1, time_limit_s=None)
    first, second = sol.details["sizing_passes"]
    assert first["aggregate_year"] == "infeasible" and first["kept_days"] == 0
    assert first["capacities"]["pv_kw"] < (4.21 - 0.5 / 0.9) / 1.6
    assert "meter balance" in first["short"] and "at site A in the week of 2025-06-02" in first["short"]
    assert second["aggregate_year"] == "optimal" and second["kept_days"] == 1
    assert sol.capacities["pv_kw"] >= (4.21 - 0.5 / 0.9) / 1.6
    report = check_solution(inputs, sol)
    assert report.passed, report.table()
