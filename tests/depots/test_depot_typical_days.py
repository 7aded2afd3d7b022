"""Typical days of a depot vehicle stay drivable (issue 14, point 6: the calendar year of bench_depot was infeasible).

Cause, found with HiGHS's irreducible infeasible subsystem on the benchmark's year: the two-stage sizing runs on
tsam's typical days, and tsam keeps each column's annual mean by a water-fill that adds energy to every hour of
the typical days in proportion to its headroom (``tsam.pipeline.rescale``). On the fleet's trip energy this put
trips in hours the vehicle is plugged in and lengthened its longest trip chain beyond what its battery holds
(there: the one shared car's rescaled trips in one absence, 15.05 + 7.37 kWh and water-filled hours, added up to
22.4 kWh on its 17.1 kWh usable-minus-reserve span: HiGHS's IIS named those rows), so the
sizing LP — and with it the calendar year — was infeasible, although every real day can be driven.

The case below is one delivery van (20 kWh usable, 2 kWh reserve, 3 kW charger, 90 % charging efficiency) over
ten days; on day 5 it leaves at 11:00 for 7 hours on a 17.26 kWh round, close to its 18 kWh span. Three typical
days: before the fix tsam's water-fill gave that day 17.26 + 0.15 kWh in each other hour, 17.26 + 6 × 0.15 > 18
while away, and the sizing LP was infeasible (checked against the previous code).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from chisan.plan.diagnose import diagnose_infeasibility
from chisan.plan.highs import solve_model
from chisan.plan.inputs import Capacity
from chisan.plan.model import build_model
from chisan.plan.reduce import _cyclic_need_kwh, aggregate_fleet, typical_days
from chisan.plan.slack import build_elastic_model, shortfalls
from tests.factories import hand_inputs

DAYS = 10
# (day, leaves at hour, hours away, trip energy [kWh]); the other days the van stays plugged in
ROUNDS = [(3, 7, 2, 16.67), (5, 11, 7, 17.26), (6, 9, 6, 3.28), (7, 8, 6, 8.34), (8, 11, 2, 14.62), (9, 8, 3, 14.04)]
USABLE_KWH, RESERVE_KWH, CHARGER_KW, EFFICIENCY = 20.0, 2.0, 3.0, 0.9


def _van_year():
    hours = 24 * DAYS
    plugged = np.ones(hours, bool)
    trips = np.zeros(hours)
    for day, leave, away, kwh in ROUNDS:
        start = 24 * day + leave
        plugged[start : start + away] = False
        trips[start] = kwh
    sun = np.r_[np.zeros(6), np.sin(np.linspace(0.0, np.pi, 12)), np.zeros(6)]
    return hand_inputs(
        hours=hours,
        plugged=plugged,
        trip_energy_kwh=trips,
        usable_kwh=USABLE_KWH,
        reserve_kwh=RESERVE_KWH,
        max_charge_kw=CHARGER_KW,
        efficiency=EFFICIENCY,
        pv_kw_per_kw=np.tile(sun, DAYS),
        capacities={"pv_kw": Capacity(annual_cost_per_unit=10.0, max_units=100.0)},
    )


def test_the_van_year_is_drivable_and_so_are_its_typical_days():
    year = _van_year()
    # premise: the chronological per-vehicle year has a plan (each round fits the 18 kWh span, the van recharges)
    assert solve_model(build_model(year), {"output_flag": False}) == "optimal"
    red = typical_days(year, 3)
    assert red.n_days == 3
    # the sizing LP on the typical days (linked across the ten days) has a plan too: infeasible before the fix
    assert solve_model(build_model(red.inputs), {"output_flag": False}) == "optimal"


def test_typical_days_in_calendar_order_fit_the_battery():
    red = typical_days(_van_year(), 3)
    r = red.inputs
    steps = 24
    trips = r.station_trip_energy_kwh.to_numpy(float)[:, 0]
    avail = r.station_available_kw.to_numpy(float)[:, 0]
    rows = (red.day_of_cluster.to_numpy()[:, None] * steps + np.arange(steps)[None, :]).ravel()
    gain = avail * EFFICIENCY * 1.0  # [kWh] per hourly step at the available power
    need = float(_cyclic_need_kwh(trips[rows, None], gain[rows, None])[0])
    assert need <= USABLE_KWH - RESERVE_KWH + 1e-9
    # the longest round is still in the reduced year, at its own energy (the day is a cluster of its own)
    assert trips.max() == pytest.approx(17.26, abs=1e-6)
    # the clusters: 7 days whose medoid has no round, 2 whose medoid is day 6 (3.28 kWh), day 5 alone; their real
    # days alone represent 2 x 3.28 + 17.26 = 23.82 kWh of the 74.21 kWh of rounds. The rest is added back while
    # the van is plugged in (it recharges as it goes): the sizing still sees the ten days' driving
    assert sorted(r.weight.to_numpy(float)[::steps].tolist()) == [1.0, 2.0, 7.0]
    represented = float((trips * r.weight.to_numpy(float)).sum())
    assert represented == pytest.approx(sum(kwh for *_, kwh in ROUNDS), rel=1e-9)


def test_cyclic_need_by_hand():
    # 3 steps, one column: trips 3, 0, 3 kWh, gains 0, 4, 2 kWh. f[t - 1] = max(0, f[t] + trip[t] - gain[t])
    # backwards from f = 0 after the last step: before step 2 max(0, 3 - 2) = 1, before step 1 max(0, 1 - 4) = 0,
    # before step 0 0 + 3 - 0 = 3. Cyclic, after the last step is before the first (3): before step 2 3 + 3 - 2 = 4,
    # before step 1 0, before step 0 3 again (a fixed point). The most is 4 (3 without the wrap).
    need = _cyclic_need_kwh(np.array([[3.0], [0.0], [3.0]]), np.array([[0.0], [4.0], [2.0]]))
    assert need[0] == pytest.approx(4.0)


def test_the_elastic_diagnosis_names_a_fleet_that_cannot_drive_its_days():
    # four days, each its own period of a linked reduced year (so the linked fleet rows of the sizing model, the
    # ones that failed on the benchmark's typical days): on day 1 the van leaves at 08:00 on a 25 kWh round, and
    # no charging can give it more than usable - reserve = 20 - 2 = 18 kWh for it: 7 kWh are missing, which the
    # elastic model's fleet slack must show (before, it had no slack there and the diagnosis named nothing)
    hours = 24 * 4
    plugged = np.ones(hours, bool)
    trips = np.zeros(hours)
    plugged[24 + 8 : 24 + 14] = False
    trips[24 + 8] = 25.0
    agg = aggregate_fleet(hand_inputs(hours=hours, plugged=plugged, trip_energy_kwh=trips))
    steps = agg.snapshots
    linked = dataclasses.replace(
        agg,
        period=pd.Series(np.arange(hours) // 24, index=steps),
        period_order=np.arange(4),
        weight=pd.Series(1.0, index=steps),
        station_min_energy_kwh=None,
    )
    m = build_elastic_model(linked)
    assert solve_model(m, {"output_flag": False}) == "optimal"
    (found,) = shortfalls(m, linked)
    assert found.family == "fleet energy"
    assert found.kwh == pytest.approx(25.0 - (USABLE_KWH - RESERVE_KWH), abs=1e-6)
    assert found.by_site_day["day"].iloc[0] == steps[24].normalize()
    err = diagnose_infeasibility(linked, {"output_flag": False})
    assert "fleet energy" in str(err) and "week of 2025-06-02" in str(err)
