"""Each car's own least charging in the dim hours, summed over the cars: valid rows on the pooled fleet.

The sweep's year LP pools a station's cars into one battery (:func:`chisan.plan.reduce.aggregate_fleet`). Its
bounds are the sums of the cars' bounds, but the sum lets one car charge for another: a car parked in the sun
fills up, and the cars that were out driving then take their trips from its energy, where per vehicle they charge
at night from the grid (or from the parked car through V2G, with its losses and wear). On Shikaoi (realistic
template of benchmarks/bench_sweep.py) the pooled year imported 549 kWh where chisan plan's per-vehicle year at
the same capacities imports 850 kWh (and 251 kWh of V2G where the pool uses 9).

For one car v and a window of steps I = (t₁, t₂], the per-vehicle balance of :mod:`chisan.plan.model`
(e_t = e_{t−1} + η Δt ch_t − Δt/η dis_t − trip_t, need_v(t) ≤ e_t ≤ usable_v) gives

    η Δt Σ_{t∈I} ch_{v,t} ≥ trips_v(I) + e_v(t₂) − e_v(t₁) ≥ trips_v(I) + need_v(t₂) − top_v(t₁)

with top_v(t₁) = usable_v, less the trip energy of the booking the car is on when it is away at t₁ (the trip is
booked at its start, :func:`chisan.mobility.availability.vehicle_timeseries`). Over the window's bright steps B
(PV output per kW above :data:`BRIGHT_FRACTION` of the year's highest) the car gains at most
G_v(B) = η_v Δt p_v Σ_{t∈B} plugged_{v,t}, so in the dim steps D = I ∖ B it must charge at least
L_v = max(0, trips_v(I) + need_v(t₂) − top_v(t₁) − G_v(B)). Summed over the station's cars, every per-vehicle
schedule satisfies

    η Δt Σ_{t∈D} ch_t ≥ Σ_v L_v

for the pooled charge: the exact aggregate of the per-car bounds, taken car by car before summing (the pool's
own balance only gives the looser max(0, Σ_v (…))). :func:`headroom_rows` builds these rows for windows of
:data:`WINDOW_DAYS` days starting every :data:`START_HOURS`; :func:`chisan.sweep.lp.solve_aggregate` adds them to
the year LP. They cut only pooled schedules no set of cars can follow, so the pool stays a relaxation of the
per-vehicle model, a tighter one; need_v is each car's least energy for its own later bookings
(:func:`chisan.plan.dispatch.minimum_energy_kwh`, the pool's lower bound too).

Measured (benchmarks/bench_sweep.py, realistic template, Shikaoi): the hourly-matched share's error against chisan
plan went from +3.27 % to +2.36 %, for ≈ 1 s more CPU per town, so the rows are an option of
:func:`chisan.sweep.reduced.plan_reduced` (``own_headroom``), off by default. What they leave is the trading
within a window (a car driving in the morning and one in the afternoon sharing the noon sun), which only
per-vehicle energies remove.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from chisan.plan.dispatch import minimum_energy_kwh
from chisan.plan.inputs import PlanInputs

WINDOW_DAYS = (1, 2, 4, 7, 14, 28)
"""Lengths of the windows I [days]."""

START_HOURS = (0, 6, 12, 18)
"""Hours of the day at which windows start, every day of the year (cyclically) [h]."""

BRIGHT_FRACTION = 0.15
"""A step is bright when its PV output per kW exceeds this fraction of the year's highest [-] (any threshold gives
valid rows; 0, 0.05, 0.15 and 0.3 were tried on Shikaoi, 0.15 cut most)."""


@dataclass(frozen=True)
class HeadroomRows:
    """Rows ``η Δt D ch ≥ need`` per aggregate station.

    Attributes
    ----------
    dim : scipy.sparse.csr_matrix
        1 where step t is a dim step of window r (rows × steps) [-].
    dim_need_kwh : np.ndarray
        Σ over the station's cars of the least energy each must gain in the window's dim steps, rows × stations
        [kWh].
    """

    dim: sp.csr_matrix
    dim_need_kwh: np.ndarray


def _windows(
    n_steps: int, steps_per_day: int, days: tuple[int, ...], start_hours: tuple[int, ...], dt_hours: float
) -> tuple[np.ndarray, np.ndarray]:
    """First step and length [steps] of every window: each length of ``days`` from each start of each day."""
    offsets = [round(h / dt_hours) for h in start_hours]
    starts = np.sort(np.concatenate([np.arange(o, n_steps, steps_per_day) for o in offsets]))
    lengths = [np.full(len(starts), min(d * steps_per_day, n_steps)) for d in days]
    return np.tile(starts, len(days)), np.concatenate(lengths)


def current_trip_kwh(trip_kwh: np.ndarray, plugged: np.ndarray) -> np.ndarray:
    """The trip energy of the booking each car is on while away, 0 while plugged in, steps × vehicles [kWh].

    The last departure's trip energy carried forward (cyclically), as in :func:`chisan.sweep.parked.parked_split`.
    """
    steps = np.arange(len(trip_kwh))[:, None]
    departs = trip_kwh > 0.0
    last = np.maximum.accumulate(np.where(departs, steps, -1), axis=0)
    wrap = np.where(departs.any(axis=0), np.where(departs, steps, -1).max(axis=0), 0)
    last = np.where(last < 0, wrap[None, :], last)
    return np.where(~plugged, np.take_along_axis(trip_kwh, last, axis=0), 0.0)


def headroom_rows(
    inputs: PlanInputs,
    aggregated: PlanInputs,
    vehicle_ratio: float = 1.0,
    member_ratio: float = 1.0,
    days: tuple[int, ...] = WINDOW_DAYS,
    start_hours: tuple[int, ...] = START_HOURS,
) -> HeadroomRows:
    """The rows of the module docstring from the per-vehicle ``inputs``, by the stations of ``aggregated``.

    Parameters
    ----------
    inputs : PlanInputs
        Per-vehicle, chronological inputs (``plugged``, ``trip_energy_kwh``, ``pv_kw_per_kw``).
    aggregated : PlanInputs
        The same, aggregated (:func:`chisan.plan.reduce.aggregate_fleet`): its ``vehicles["station"]`` names the
        aggregate station of each car.
    vehicle_ratio, member_ratio : float
        Scale factors of represented stations (:func:`chisan.sweep.reduced.scale_fleet`): batteries, needs and
        charging power scale with the vehicles, trip energies with the members.
    days : tuple of int
        Window lengths [days].
    start_hours : tuple of int
        Hours of the day at which windows start [h].
    """
    veh = inputs.vehicles
    n = len(inputs.snapshots)
    dt = inputs.dt_hours
    per_day = max(1, round(24.0 / dt))
    stations = aggregated.stations.index.to_numpy()
    key = aggregated.vehicles["station"].reindex(veh.index).to_numpy()
    onehot = (key[:, None] == stations[None, :]).astype(float)  # vehicles × stations
    cf = inputs.pv_kw_per_kw.to_numpy(float)
    bright = cf > BRIGHT_FRACTION * cf.max() if cf.size else np.zeros(n, bool)
    plugged = inputs.plugged.to_numpy(bool)
    eta = veh["charge_efficiency"].to_numpy(float)
    # η_v Δt p_v per plugged bright step [kWh] and the trips [kWh], cumulated over the year twice (windows wrap)
    gain = plugged * bright[:, None] * (eta * veh["max_charge_kw"].to_numpy(float) * dt)[None, :]
    trips = inputs.trip_energy_kwh.to_numpy(float)
    zero = np.zeros((1, len(veh)))
    gain_sum = np.concatenate([zero, np.cumsum(np.concatenate([gain, gain]), axis=0)])
    trip_sum = np.concatenate([zero, np.cumsum(np.concatenate([trips, trips]), axis=0)])
    need = minimum_energy_kwh(inputs, cyclic=True).to_numpy(float)
    usable = veh["usable_kwh"].to_numpy(float)
    first, length = _windows(n, per_day, days, start_hours, dt)
    last = first + length  # exclusive, on the doubled axis
    before = (first - 1) % n  # e(t₁): the energy after the step before the window
    end = (last - 1) % n
    top = vehicle_ratio * usable[None, :] - member_ratio * current_trip_kwh(trips, plugged)[before]
    least = (
        member_ratio * (trip_sum[last] - trip_sum[first])
        + vehicle_ratio * need[end]
        - top
        - vehicle_ratio * (gain_sum[last] - gain_sum[first])
    )
    dim_need = np.maximum(least, 0.0) @ onehot
    rows = np.repeat(np.arange(len(first)), length)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(length) - length, length)  # 0 … length − 1 per window
    cols = (np.repeat(first, length) + offset) % n
    keep = ~bright[cols]
    dim = sp.csr_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(len(first), n))
    return HeadroomRows(dim=dim, dim_need_kwh=dim_need)
