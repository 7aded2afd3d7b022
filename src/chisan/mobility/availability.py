"""Per-vehicle time series for the plan: when each vehicle may charge, and the energy each trip takes.

On a regular grid of steps [t, t + Δt):

- a vehicle is **plugged** in a step only if it is at its station for the whole step, so it may charge in it;
  a booking unplugs its vehicle from the step containing its start to the step containing its end, the end
  rounded up to the next step boundary (steps ⌊start⌋ ... ⌈end⌉ − 1);
- the booking's **trip energy** leaves the battery in the step containing its start (⌊start⌋). The plan keeps
  the energy ≥ reserve at the end of every step, so the energy before departure is at least trip + reserve.

Everything is vectorised over bookings (numpy ``bincount`` and ``cumsum``); there is no loop over time steps.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.exceptions import DataError
from chisan.mobility.fleet import FleetAssignment

_TOLERANCE_STEPS = 1e-9


@dataclass
class VehicleSeries:
    """Availability and trip energy of each vehicle on the snapshots.

    Attributes
    ----------
    plugged : pd.DataFrame
        bool, index snapshots, one column per vehicle id: at the station for the whole step (may charge).
    trip_energy_kwh : pd.DataFrame
        Energy leaving the battery in each step [kWh] (booked in the step a booking starts).
    departures : pd.DataFrame
        bool: a booking of the vehicle starts in the step.
    dt_hours : float
        Step length [h].
    """

    plugged: pd.DataFrame
    trip_energy_kwh: pd.DataFrame
    departures: pd.DataFrame
    dt_hours: float


def check_snapshots(snapshots: pd.DatetimeIndex, dt_hours: float) -> None:
    """Check that ``snapshots`` is tz-aware and regular with steps of ``dt_hours``; raise DataError if not."""
    if not isinstance(snapshots, pd.DatetimeIndex) or snapshots.tz is None:
        raise DataError("snapshots must be a tz-aware pandas DatetimeIndex")
    if not dt_hours > 0:
        raise DataError(f"dt_hours = {dt_hours} must be > 0")
    if len(snapshots) > 1:
        steps = np.asarray((snapshots[1:] - snapshots[:-1]) / pd.Timedelta(hours=dt_hours), dtype=float)
        if not np.allclose(steps, 1.0):
            bad = int(np.flatnonzero(~np.isclose(steps, 1.0))[0])
            raise DataError(
                f"snapshots must be regular with steps of dt_hours = {dt_hours} h; the step after "
                f"{snapshots[bad]} is {snapshots[bad + 1] - snapshots[bad]}"
            )


def booking_steps(
    starts: pd.Series, ends: pd.Series, snapshots: pd.DatetimeIndex, dt_hours: float
) -> tuple[np.ndarray, np.ndarray]:
    """Step positions of bookings: the step containing each start, and the step boundary at or after each end.

    Parameters
    ----------
    starts, ends : pd.Series
        tz-aware times.
    snapshots : pd.DatetimeIndex
        Regular step starts.
    dt_hours : float
        Step length [h].

    Returns
    -------
    first, stop : np.ndarray of int
        ⌊start⌋ and ⌈end⌉ as positions relative to ``snapshots[0]`` (may lie outside [0, len(snapshots)]):
        the booking occupies steps ``first ... stop − 1``.
    """
    step = pd.Timedelta(hours=dt_hours)
    origin = snapshots[0]
    first = np.floor(np.asarray((starts - origin) / step, dtype=float) + _TOLERANCE_STEPS).astype(np.int64)
    stop = np.ceil(np.asarray((ends - origin) / step, dtype=float) - _TOLERANCE_STEPS).astype(np.int64)
    return first, np.maximum(stop, first + 1)


def vehicle_timeseries(assignment: FleetAssignment, snapshots: pd.DatetimeIndex, dt_hours: float) -> VehicleSeries:
    """Plug-in mask, trip energy and departures of every vehicle on the snapshots.

    Parameters
    ----------
    assignment : FleetAssignment
        From :func:`chisan.mobility.fleet.assign_bookings`; only served bookings count.
    snapshots : pd.DatetimeIndex
        Regular, tz-aware step starts.
    dt_hours : float
        Step length [h].

    Returns
    -------
    VehicleSeries
        Frames indexed by ``snapshots`` with the vehicle ids (``assignment.vehicles``) as columns.

    Warns
    -----
    UserWarning
        When served bookings start before the first snapshot (their trip energy is then not in the series).
    """
    check_snapshots(snapshots, dt_hours)
    n_steps = len(snapshots)
    columns = pd.Index(assignment.vehicles["vehicle_id"].astype(str), name="vehicle")
    n_vehicles = len(columns)
    served = assignment.bookings[assignment.bookings["vehicle_id"].notna()]
    vehicle = columns.get_indexer(served["vehicle_id"].astype(str))
    if (vehicle < 0).any():
        raise DataError("assignment.bookings refers to vehicle ids missing from assignment.vehicles")
    first, stop = booking_steps(served["start"], served["end"], snapshots, dt_hours)
    energy = served["trip_energy_kwh"].to_numpy(dtype=float)

    early = first < 0
    if early.any():
        warnings.warn(
            f"{int(early.sum())} served bookings start before the first snapshot {snapshots[0]}; their trip "
            "energy is not in the series",
            UserWarning,
            stacklevel=2,
        )
    # unplugged: +1 at the first step, −1 at the stop; a cumulative sum > 0 marks steps away from the station
    lo = np.clip(first, 0, n_steps)
    hi = np.clip(stop, 0, n_steps)
    size = (n_steps + 1) * n_vehicles
    away = np.bincount(lo * n_vehicles + vehicle, minlength=size) - np.bincount(
        hi * n_vehicles + vehicle, minlength=size
    )
    away = np.cumsum(away.reshape(n_steps + 1, n_vehicles)[:n_steps], axis=0)
    inside = (first >= 0) & (first < n_steps)
    flat = first[inside] * n_vehicles + vehicle[inside]
    trip = np.bincount(flat, weights=energy[inside], minlength=n_steps * n_vehicles).reshape(n_steps, n_vehicles)
    departs = np.bincount(flat, minlength=n_steps * n_vehicles).reshape(n_steps, n_vehicles) > 0
    return VehicleSeries(
        plugged=pd.DataFrame(away == 0, index=snapshots, columns=columns),
        trip_energy_kwh=pd.DataFrame(trip, index=snapshots, columns=columns),
        departures=pd.DataFrame(departs, index=snapshots, columns=columns),
        dt_hours=float(dt_hours),
    )


def bookings_per_step(bookings: pd.DataFrame, snapshots: pd.DatetimeIndex, dt_hours: float) -> pd.DataFrame:
    """Number of bookings starting in each step, per station.

    Parameters
    ----------
    bookings : pd.DataFrame
        With ``station`` and tz-aware ``start`` (and ``end``).
    snapshots : pd.DatetimeIndex
        Regular, tz-aware step starts.
    dt_hours : float
        Step length [h].

    Returns
    -------
    pd.DataFrame
        int, index snapshots, one column per station (sorted); bookings starting outside the snapshots are not
        counted.
    """
    check_snapshots(snapshots, dt_hours)
    stations = pd.Index(sorted(bookings["station"].astype(str).unique()), name="station")
    n_steps, n_stations = len(snapshots), len(stations)
    first, _ = booking_steps(bookings["start"], bookings["end"], snapshots, dt_hours)
    column = stations.get_indexer(bookings["station"].astype(str))
    inside = (first >= 0) & (first < n_steps)
    counts = np.bincount(first[inside] * n_stations + column[inside], minlength=n_steps * n_stations)
    return pd.DataFrame(counts.reshape(n_steps, n_stations), index=snapshots, columns=stations)
