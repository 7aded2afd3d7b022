"""The aggregate fleet split into the cars parked at their base and the cars on the road.

The sweep's year LP pools a station's cars into one battery (:func:`chisan.plan.reduce.aggregate_fleet`): its
energy lies between the cars' summed needs and their summed usable energies. That bound lets the cars parked at
noon charge into the empty room of the cars out driving — energy no plugged-in battery can hold — so the pooled
year charges more from the sun than the cars can, and its hourly-matched renewable share comes out 2–3 % above the
per-vehicle plan's (benchmarks/bench_sweep.py, five climates).

:class:`ParkedSplit` keeps two pools per station instead, with the energy moving between them as the cars do:

    parked_t = parked_{t−1} + η Δt charge_t − Δt/η discharge_t − departing_t + arriving_t
    road_t   = road_{t−1} + departing_t − trip_t − arriving_t

each bounded by the cars in it at step t (from the bookings, per vehicle, before pooling):

- parked: Σ_{v parked} need_v(t) ≤ parked_t ≤ Σ_{v parked} usable_v — the plugged-in cars hold at most their own
  batteries;
- road: Σ_{v away} need_v(t) ≤ road_t ≤ Σ_{v away} (usable_v − trip_v) — a car on a booking has spent that
  booking's trip energy (booked at its start, :func:`chisan.mobility.availability.vehicle_timeseries`);
- departing_t ≤ Σ_{v leaving in t} usable_v, arriving_t ≤ Σ_{v back in t} (usable_v − trip_v).

The sum parked + road obeys the pooled balance and bounds, and every per-vehicle schedule is a schedule of the
split (each car's energy in the pool where the car is), so it is still a relaxation of the per-vehicle model, only
a tighter one; need_v is each car's least energy for its own later bookings (:func:`chisan.plan.dispatch.
minimum_energy_kwh`). tests/sweep/test_parked.py checks pool ≤ split ≤ per-vehicle optimum on a month.

Measured on the realistic template of benchmarks/bench_sweep.py: Shikaoi's hourly-matched share went from
+3.27 % to +2.60 % of chisan plan's; Hinode (+1.95 %) and Yonabaru (+2.69 %) did not move, nor did the towns
where the 90 % target binds. What is left is the cars trading energy freely inside the parked pool (a car leaves
with energy another car charged at noon), which per vehicle takes V2G with its losses and wear, or a night import;
only per-vehicle energies remove it. The year LP with the split takes ≈ 0.5 s more CPU, so it is an option of
:func:`chisan.sweep.reduced.plan_reduced` (``split_parked``), off by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chisan.plan.dispatch import minimum_energy_kwh
from chisan.plan.inputs import PlanInputs


@dataclass(frozen=True)
class ParkedSplit:
    """Per-step bounds of the parked and on-road pools of each aggregate station, steps × stations [kWh].

    Attributes
    ----------
    parked_lower_kwh, parked_upper_kwh : np.ndarray
        Summed needs and usable energies of the cars parked at the end of each step.
    road_lower_kwh, road_upper_kwh : np.ndarray
        Summed needs, and usable energies less the current booking's trip energy, of the cars away.
    departing_upper_kwh : np.ndarray
        Summed usable energies of the cars starting a booking in the step.
    arriving_upper_kwh : np.ndarray
        Summed usable energies less the ending booking's trip energy of the cars back in the step.
    """

    parked_lower_kwh: np.ndarray
    parked_upper_kwh: np.ndarray
    road_lower_kwh: np.ndarray
    road_upper_kwh: np.ndarray
    departing_upper_kwh: np.ndarray
    arriving_upper_kwh: np.ndarray


def parked_split(
    inputs: PlanInputs, aggregated: PlanInputs, vehicle_ratio: float = 1.0, member_ratio: float = 1.0
) -> ParkedSplit:
    """The pools' bounds from the per-vehicle ``inputs``, by the stations of their ``aggregated`` version.

    Parameters
    ----------
    inputs : PlanInputs
        Per-vehicle inputs (``plugged``, ``trip_energy_kwh``).
    aggregated : PlanInputs
        The same, aggregated (:func:`chisan.plan.reduce.aggregate_fleet`): its ``vehicles["station"]`` names the
        aggregate station of each car.
    vehicle_ratio, member_ratio : float
        Scale factors of represented stations (:func:`chisan.sweep.reduced.scale_fleet`): batteries and needs
        scale with the vehicles, trip energies with the members.
    """
    veh = inputs.vehicles
    stations = aggregated.stations.index
    key = aggregated.vehicles["station"].reindex(veh.index).to_numpy()
    onehot = (key[:, None] == stations.to_numpy()[None, :]).astype(float)  # vehicles × stations
    parked = inputs.plugged.to_numpy(bool)
    away = ~parked
    trip = inputs.trip_energy_kwh.to_numpy(float)
    need = minimum_energy_kwh(inputs, cyclic=True).to_numpy(float)
    usable = veh["usable_kwh"].to_numpy(float)[None, :]
    n = len(trip)
    steps = np.arange(n)[:, None]
    # the trip energy of the booking each car is on: the last departure's, carried forward (cyclically)
    departs = trip > 0.0
    last = np.where(departs, steps, -1)
    last = np.maximum.accumulate(last, axis=0)
    wrap = np.where(departs.any(axis=0), np.where(departs, steps, -1).max(axis=0), 0)
    last = np.where(last < 0, wrap[None, :], last)
    current_trip = np.where(away, np.take_along_axis(trip, last, axis=0), 0.0)
    back = np.roll(away, 1, axis=0) & (parked | departs)  # away after the previous step, and that booking over
    ended_trip = np.roll(current_trip, 1, axis=0)
    vr, mr = float(vehicle_ratio), float(member_ratio)

    def per_station(x: np.ndarray) -> np.ndarray:
        return x @ onehot

    parked_lower = vr * per_station(np.where(parked, need, 0.0))
    parked_upper = np.maximum(vr * per_station(np.where(parked, usable, 0.0)), parked_lower)
    road_lower = vr * per_station(np.where(away, need, 0.0))
    road_upper = vr * per_station(np.where(away, usable, 0.0)) - mr * per_station(current_trip)
    road_upper = np.maximum(road_upper, road_lower)
    departing = vr * per_station(np.where(departs, usable, 0.0))
    arriving = np.maximum(
        vr * per_station(np.where(back, usable, 0.0)) - mr * per_station(np.where(back, ended_trip, 0.0)), 0.0
    )
    return ParkedSplit(parked_lower, parked_upper, road_lower, road_upper, departing, arriving)
