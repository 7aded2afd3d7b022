"""The fleet split into parked and on-road cars: bounds from the bookings, and a relaxation between the pool and
the per-vehicle model (pool ≤ split ≤ per vehicle, in objective, on the same month at the same capacities)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from chisan.plan.dispatch import minimum_energy_kwh
from chisan.plan.highs import quiet_highs
from chisan.plan.model import build_model
from chisan.plan.prepare import prepare_inputs
from chisan.plan.reduce import aggregate_fleet
from chisan.sweep.derive import derive_scenario
from chisan.sweep.lp import solve_aggregate
from chisan.sweep.parked import parked_split


@pytest.fixture(scope="module")
def january(municipalities):
    """Koumi (Nagano, 4 cars) on the realistic template (V2G, basic charge, 90 % hourly target), January only."""
    from benchmarks.bench_sweep import realistic_template

    template = realistic_template()
    template = template.model_copy(update={"horizon": template.horizon.model_copy(update={"months": 1})})
    scenario = derive_scenario(template, "203033", municipalities.loc["203033"].to_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few bookings cannot be served; the same in every model here
        inputs = prepare_inputs(scenario).inputs
    caps = {"pv_kw": 15.0, "wind_kw": 0.0, "storage_kwh": 0.0, "storage_kw": 0.0}
    return inputs.with_capacities_fixed(caps)


def test_bounds_of_the_two_pools_by_hand(january):
    inputs = january
    agg = aggregate_fleet(inputs)
    split = parked_split(inputs, agg)
    parked = inputs.plugged.to_numpy(bool)
    usable = inputs.vehicles["usable_kwh"].to_numpy(float)
    need = minimum_energy_kwh(inputs, cyclic=True).to_numpy(float)
    # every car is in exactly one pool: the pools' needs add up to the pooled fleet's
    total_need = split.parked_lower_kwh + split.road_lower_kwh
    np.testing.assert_allclose(total_need[:, 0], agg.station_min_energy_kwh.to_numpy(float)[:, 0], rtol=1e-12)
    # a step with exactly one car away, on a booking that started at step t0 with trip energy X
    trip = inputs.trip_energy_kwh.to_numpy(float)
    one_away = np.flatnonzero((~parked).sum(axis=1) == 1)
    t = int(one_away[len(one_away) // 2])
    v = int(np.flatnonzero(~parked[t])[0])
    t0 = t
    while trip[t0, v] == 0.0:
        t0 -= 1
    x = trip[t0, v]
    assert x > 0.0
    assert split.parked_upper_kwh[t, 0] == pytest.approx(usable.sum() - usable[v], rel=1e-12)
    assert split.road_upper_kwh[t, 0] == pytest.approx(usable[v] - x, rel=1e-12)
    assert split.road_lower_kwh[t, 0] == pytest.approx(need[t, v], rel=1e-12)
    # the car leaves at t0 (at most its battery goes with it) and comes back at the first parked step after t
    assert split.departing_upper_kwh[t0, 0] >= usable[v]
    back = t + int(np.argmax(parked[t:, v]))
    assert split.arriving_upper_kwh[back, 0] >= usable[v] - x - 1e-9


def test_split_is_a_relaxation_tighter_than_the_pool(january):
    """Objective of the month: pooled fleet ≤ parked/on-road split ≤ every car on its own (chisan.plan.model)."""
    inputs = january
    agg = aggregate_fleet(inputs)
    pooled = solve_aggregate(agg)
    split = solve_aggregate(agg, split=parked_split(inputs, agg))
    assert pooled.status == split.status == "optimal"
    m = build_model(inputs)
    with quiet_highs():
        _, condition = m.solve(solver_name="highs", io_api="direct", output_flag=False, threads=1)
    assert condition == "optimal"
    per_vehicle = float(m.objective.value)
    assert pooled.objective <= split.objective * (1 + 1e-7)
    assert split.objective <= per_vehicle * (1 + 1e-7)
    # the split carries the pooled fleet's energy: both pools together obey the pooled bounds
    energy = split.values["Fleet-energy_kwh"][:, 0]
    assert (energy >= agg.station_min_energy_kwh.to_numpy(float)[:, 0] - 1e-6).all()
    assert (energy <= inputs.vehicles["usable_kwh"].sum() + 1e-6).all()
    # and parked cars hold no more than their own batteries
    parked = energy - split.values["Fleet-road_energy_kwh"][:, 0]
    room = inputs.plugged.to_numpy(bool) @ inputs.vehicles["usable_kwh"].to_numpy(float)
    assert (parked <= room + 1e-6).all()
