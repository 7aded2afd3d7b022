"""Each simulated car's energy use and flexible charging windows, in the shape the plan's vehicle availability uses.

The plan (:mod:`chisan.mobility.availability`, :func:`chisan.plan.prepare.prepare_inputs`) sees a vehicle as
*plugged* at its station except during its bookings, each booking taking its ``trip_energy_kwh`` from the battery
in the step it starts. A simulated autonomous car is *plugged* while it is parked at its home site (idle or
charging, :attr:`SimulationResult.plugged`), so:

- :func:`charging_windows` lists those parked periods (the windows the plan may charge in), with the energy the
  car then uses before its next window;
- :func:`away_periods` lists the periods between windows as *bookings* (``booking_id``, ``station``, ``start``,
  ``end``, ``distance_km``, ``trip_energy_kwh``, ``vehicle_id``), the energy being that of every leg the car
  drove in the period (rides and empty legs alike);
- :func:`vehicle_series` turns them into the plan's :class:`~chisan.mobility.availability.VehicleSeries` with the
  plan's own :func:`~chisan.mobility.availability.vehicle_timeseries`, and :func:`plan_vehicles` gives the
  plan's vehicle table (station, usable and reserve energy, charging power, efficiency).

Because the simulation itself charged each car enough within these windows for every trip it was dispatched to,
at least one charging schedule inside the windows (the simulated one) serves all trips: a plan that charges at
least as much by each departure keeps every dispatched trip feasible. Row k of the per-step arrays is decided at
the end of step k, so a car parked in row k is at its site from ``(k + 1) · step`` (from 0 in the first row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.autonomous.simulate import SimulationResult
from chisan.mobility.availability import VehicleSeries, vehicle_timeseries
from chisan.mobility.fleet import FleetAssignment


def vehicle_ids(result: SimulationResult) -> np.ndarray:
    """Ids of the simulated cars: ``AV-0001``, ``AV-0002``, …"""
    width = max(4, len(str(result.config.cars)))
    return np.array([f"AV-{i:0{width}d}" for i in range(1, result.config.cars + 1)], dtype=object)


def _runs(result: SimulationResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parked runs: car, first row and row after the last, sorted by car then time."""
    p = result.plugged.astype(np.int8)
    n_steps, n = p.shape
    padded = np.zeros((n_steps + 2, n), dtype=np.int8)
    padded[1:-1] = p
    d = np.diff(padded, axis=0)
    s_row, s_car = np.nonzero(d == 1)
    e_row, e_car = np.nonzero(d == -1)
    so = np.lexsort((s_row, s_car))
    eo = np.lexsort((e_row, e_car))
    return s_car[so], s_row[so], e_row[eo]


def _row_time_min(rows: np.ndarray, step_min: float) -> np.ndarray:
    return np.where(rows == 0, 0.0, (rows + 1) * step_min).astype(float)


def _leg_sums(result: SimulationResult, car: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> tuple[np.ndarray, ...]:
    """Energy [kWh] and distance [km] of the legs of ``car`` starting in ``[t0, t1)``."""
    legs = result.legs
    n = result.config.cars
    horizon = (result.n_steps + 2) * result.step_min
    key = legs["car"].to_numpy() * horizon + legs["start_min"].to_numpy()
    order = np.argsort(key, kind="stable")
    key = key[order]
    e = np.concatenate([[0.0], np.cumsum(legs["energy_kwh"].to_numpy()[order])])
    km = np.concatenate([[0.0], np.cumsum(legs["distance_km"].to_numpy()[order])])
    lo = np.searchsorted(key, car * horizon + t0 - 1e-9, side="left")
    hi = np.searchsorted(key, car * horizon + t1 - 1e-9, side="left")
    del n
    return e[hi] - e[lo], km[hi] - km[lo]


def charging_windows(result: SimulationResult) -> pd.DataFrame:
    """The periods each car is parked at its home site, where the plan may charge it.

    Returns
    -------
    pd.DataFrame
        One row per window: ``vehicle_id``, ``station`` (site), ``start``, ``end`` (tz-aware), ``duration_h`` [h],
        ``max_charge_kw`` [kW at the plug], ``energy_until_next_kwh`` [kWh, battery side: what the car drives on
        between the end of the window and the start of its next one, or the end of the run].
    """
    car, first, stop = _runs(result)
    ids = vehicle_ids(result)
    start_min = _row_time_min(first, result.step_min)
    end_min = _row_time_min(stop, result.step_min)
    end_min = np.minimum(end_min, result.n_steps * result.step_min)
    nxt = np.full(len(car), result.n_steps * result.step_min)
    same = np.zeros(len(car), dtype=bool)
    if len(car) > 1:
        same[:-1] = car[1:] == car[:-1]
        nxt[:-1] = np.where(same[:-1], start_min[1:], nxt[:-1])
    use, _ = _leg_sums(result, car, end_min, nxt)
    origin = result.origin
    return pd.DataFrame(
        {
            "vehicle_id": ids[car].astype(str),
            "station": result.sites.index.to_numpy()[result.car_site[car]].astype(str),
            "start": origin + pd.to_timedelta(start_min, unit="min"),
            "end": origin + pd.to_timedelta(end_min, unit="min"),
            "duration_h": (end_min - start_min) / 60.0,
            "max_charge_kw": result.config.charge_power_kw,
            "energy_until_next_kwh": use,
        }
    )


def away_periods(result: SimulationResult) -> pd.DataFrame:
    """The periods between a car's windows, as bookings of the plan (see the module docstring).

    Returns
    -------
    pd.DataFrame
        ``booking_id`` (``<vehicle>-<n>``), ``station``, ``start``, ``end`` (tz-aware), ``distance_km`` [km],
        ``trip_energy_kwh`` [kWh], ``vehicle_id``; sorted by start. A car away at the end of the run is away
        until the end of the last step.
    """
    car, first, stop = _runs(result)
    n = result.config.cars
    horizon = result.n_steps * result.step_min
    w_start = _row_time_min(first, result.step_min)
    w_end = np.minimum(_row_time_min(stop, result.step_min), horizon)
    # away = gaps: before each car's first window (if it is not parked at 0), between windows, after the last
    starts, ends, cars = [], [], []
    if len(car):
        is_first = np.r_[True, car[1:] != car[:-1]]
        is_last = np.r_[car[1:] != car[:-1], True]
        lead = is_first & (w_start > 0)
        starts.append(np.zeros(int(lead.sum())))
        ends.append(w_start[lead])
        cars.append(car[lead])
        mid = ~is_last
        starts.append(w_end[mid])
        ends.append(w_start[np.flatnonzero(mid) + 1])
        cars.append(car[mid])
        tail = is_last & (w_end < horizon)
        starts.append(w_end[tail])
        ends.append(np.full(int(tail.sum()), horizon))
        cars.append(car[tail])
    never = np.setdiff1d(np.arange(n), car)
    starts.append(np.zeros(len(never)))
    ends.append(np.full(len(never), horizon))
    cars.append(never)
    t0, t1, cc = np.concatenate(starts), np.concatenate(ends), np.concatenate(cars).astype(np.int64)
    keep = t1 > t0
    t0, t1, cc = t0[keep], t1[keep], cc[keep]
    energy, km = _leg_sums(result, cc, t0, t1)
    ids = vehicle_ids(result)
    origin = result.origin
    frame = pd.DataFrame(
        {
            "station": result.sites.index.to_numpy()[result.car_site[cc]].astype(str),
            "start": origin + pd.to_timedelta(t0, unit="min"),
            "end": origin + pd.to_timedelta(t1, unit="min"),
            "distance_km": km,
            "trip_energy_kwh": energy,
            "vehicle_id": ids[cc].astype(str),
        }
    ).sort_values(["start", "vehicle_id"], kind="stable", ignore_index=True)
    number = frame.groupby("vehicle_id").cumcount() + 1
    frame.insert(0, "booking_id", frame["vehicle_id"] + "-" + number.astype(str))
    return frame


def plan_vehicles(result: SimulationResult) -> pd.DataFrame:
    """The plan's vehicle table for the simulated cars (index ``vehicle``; columns as in
    :func:`chisan.plan.prepare.prepare_inputs`: ``station``, ``usable_kwh``, ``reserve_kwh``, ``max_charge_kw``,
    ``charge_efficiency``)."""
    cfg = result.config
    frame = pd.DataFrame(
        {
            "station": result.sites.index.to_numpy()[result.car_site].astype(str),
            "usable_kwh": cfg.usable_kwh,
            "reserve_kwh": cfg.reserve_kwh,
            "max_charge_kw": cfg.charge_power_kw,
            "charge_efficiency": cfg.charge_efficiency,
        },
        index=pd.Index(vehicle_ids(result).astype(str), name="vehicle"),
    )
    return frame


def vehicle_series(result: SimulationResult, snapshots: pd.DatetimeIndex, dt_hours: float) -> VehicleSeries:
    """The plan's plug-in mask and trip energy of every simulated car on ``snapshots``.

    Built with :func:`chisan.mobility.availability.vehicle_timeseries` from :func:`away_periods`, exactly as the
    plan builds them from bookings (a car is unplugged from the step containing the start of an away period to
    the step boundary at or after its end; its energy leaves in the step it starts).
    """
    away = away_periods(result)
    ids = vehicle_ids(result).astype(str)
    stations = result.sites.index.to_numpy()[result.car_site].astype(str)
    per = away.groupby("vehicle_id")
    vehicles = pd.DataFrame({"vehicle_id": ids, "station": stations})
    vehicles["bookings_served"] = vehicles["vehicle_id"].map(per.size()).fillna(0).astype(int)
    vehicles["distance_km"] = vehicles["vehicle_id"].map(per["distance_km"].sum()).fillna(0.0)
    cfg = result.config
    assignment = FleetAssignment(
        bookings=away.assign(
            vehicle_id=away["vehicle_id"].astype("string"),
            unserved_reason=pd.array([pd.NA] * len(away), dtype="string"),
            energy_at_start_kwh=np.nan,
        ),
        vehicles=vehicles,
        usable_kwh=cfg.usable_kwh,
        reserve_kwh=cfg.reserve_kwh,
        charge_power_kw=cfg.charge_power_kw,
        charge_efficiency=cfg.charge_efficiency,
        turnaround_min=0.0,
        dt_hours=dt_hours,
    )
    return vehicle_timeseries(assignment, snapshots, dt_hours)
