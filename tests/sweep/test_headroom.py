"""Each car's least charging in the dim hours (chisan.sweep.headroom): rows every per-vehicle schedule meets, and a
relaxation between the pool and the per-vehicle model (pool ≤ pool with the rows ≤ per vehicle, in objective, on
the same month at the same capacities). On Koumi's January at 15 kW of PV the pool already meets the rows (they
bind in the sunnier, fuller years of benchmarks/bench_sweep.py --own-headroom)."""

from __future__ import annotations

import numpy as np

from chisan.plan.highs import quiet_highs
from chisan.plan.model import build_model
from chisan.plan.reduce import aggregate_fleet
from chisan.sweep.headroom import current_trip_kwh, headroom_rows
from chisan.sweep.lp import solve_aggregate
from tests.sweep.test_parked import january  # noqa: F401  (the fixture: Koumi's January, realistic template)


def test_current_trip_by_hand():
    """A car leaving at step 1 with 5 kWh, back at step 3, leaving again at step 4 with 2 kWh (and away at the end,
    so the year wraps to step 0 on that last booking)."""
    trip = np.array([[0.0], [5.0], [0.0], [0.0], [2.0], [0.0]])
    plugged = np.array([[False], [False], [False], [True], [False], [False]])
    np.testing.assert_allclose(current_trip_kwh(trip, plugged)[:, 0], [2.0, 5.0, 5.0, 0.0, 2.0, 2.0])


def test_rows_hold_for_the_per_vehicle_optimum_and_tighten_the_pool(january):  # noqa: F811
    inputs = january
    agg = aggregate_fleet(inputs)
    rows = headroom_rows(inputs, agg)
    assert rows.dim_need_kwh.max() > 0.0  # some window asks the cars for charging in the dim hours
    m = build_model(inputs)
    with quiet_highs():
        _, condition = m.solve(solver_name="highs", io_api="direct", output_flag=False, threads=1)
    assert condition == "optimal"
    charge = m.variables["Vehicle-charge_kw"].solution.transpose("snapshot", "vehicle").to_numpy()
    charge = np.nan_to_num(charge)  # steps × vehicles [kW]; NaN where a car is away (no column)
    eta = inputs.vehicles["charge_efficiency"].to_numpy(float)
    gained = rows.dim @ (charge * eta[None, :] * inputs.dt_hours).sum(axis=1)  # [kWh] per window, all cars
    assert (gained >= rows.dim_need_kwh[:, 0] - 1e-6).all()  # every row holds for the real cars
    pooled = solve_aggregate(agg)
    tighter = solve_aggregate(agg, headroom=rows)
    assert pooled.status == tighter.status == "optimal"
    per_vehicle = float(m.objective.value)
    assert pooled.objective <= tighter.objective * (1 + 1e-7)
    assert tighter.objective <= per_vehicle * (1 + 1e-7)
    tight_dim = rows.dim @ tighter.values["Fleet-charge_kw"][:, 0]
    assert (tight_dim * eta.mean() * inputs.dt_hours >= rows.dim_need_kwh[:, 0] - 1e-6).all()
