"""Assign bookings to the vehicles of their station, taking each vehicle's battery into account.

Rule (:func:`assign_bookings`): bookings of a station are taken in order of start. A vehicle is *eligible*
for a booking when

1. it is free: its previous booking ended at least ``turnaround_min`` before the start, and
2. it is charged: charging at the full ``charge_power_kw`` from its previous return, capped at the usable
   energy, it holds the trip energy plus the reserve at the start.

Of the eligible vehicles the one holding the most energy is taken (ties: the lowest vehicle number); this
spreads use and keeps the others charging. Vehicles start the period full. A booking no vehicle is eligible
for is *unserved*, with the reason:

- ``"trip_exceeds_battery"``: trip energy + reserve exceeds the usable energy; no vehicle could ever serve it;
- ``"no_vehicle_free"``: every vehicle is out on (or turning around from) another booking;
- ``"not_enough_time_to_charge"``: some vehicle is free but none has recharged enough since its last return.

Why this matters downstream: the energy at each start is that of charging as soon as possible, so every served
booking is feasible for any charging plan that delivers at least as much energy by each start — the
optimiser's plan in particular, which can reproduce charge-as-soon-as-possible whenever the bus can supply
it. Give ``dt_hours`` (and ``step_origin``) to count only whole time steps of charging, exactly as the
step-based plan sees them: the vehicle charges from the step boundary at or after its return to the boundary
at or before its next start (see :mod:`chisan.mobility.availability`). The guarantee assumes each vehicle
starts the planning period full and is charged at ``charge_power_kw`` whenever plugged in: fewer chargers
than vehicles, or a cyclic energy constraint (start energy = end energy), can undo it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.exceptions import DataError, ScenarioError
from chisan.mobility.bookings import check_bookings

UNSERVED_REASONS: tuple[str, ...] = ("no_vehicle_free", "trip_exceeds_battery", "not_enough_time_to_charge")
"""Values of ``unserved_reason``."""

_TOLERANCE_KWH = 1e-9
_TOLERANCE_H = 1e-9


class UnservedBookingsWarning(UserWarning):
    """Some bookings could not be given a vehicle (they are counted in the result, never dropped)."""


@dataclass
class FleetAssignment:
    """Bookings with their vehicle, and the vehicles of each station.

    Attributes
    ----------
    bookings : pd.DataFrame
        The input bookings (same index and order) plus ``trip_energy_kwh`` [kWh], ``vehicle_id`` (NA when
        unserved), ``unserved_reason`` (NA when served; one of :data:`UNSERVED_REASONS`) and
        ``energy_at_start_kwh`` [kWh] (battery energy at the start when charging as soon as possible; NaN when
        unserved).
    vehicles : pd.DataFrame
        One row per vehicle: ``vehicle_id``, ``station``, ``bookings_served`` [-], ``distance_km`` [km].
    usable_kwh, reserve_kwh : float
        Battery limits used [kWh].
    charge_power_kw : float
        Guaranteed charging power per vehicle [kW at the plug].
    charge_efficiency : float
        Plug-to-battery efficiency [-].
    turnaround_min : float
        Minimum time between two bookings of a vehicle [min].
    dt_hours : float or None
        Step length the charging time was counted in [h]; None = continuous time.
    """

    bookings: pd.DataFrame
    vehicles: pd.DataFrame
    usable_kwh: float
    reserve_kwh: float
    charge_power_kw: float
    charge_efficiency: float
    turnaround_min: float
    dt_hours: float | None = None

    @property
    def served_count(self) -> int:
        """Number of bookings given a vehicle."""
        return int(self.bookings["vehicle_id"].notna().sum())

    @property
    def unserved_count(self) -> int:
        """Number of bookings without a vehicle."""
        return int(self.bookings["vehicle_id"].isna().sum())

    @property
    def unserved_by_reason(self) -> pd.Series:
        """Unserved bookings per reason (every reason listed, zeros included)."""
        counts = self.bookings["unserved_reason"].value_counts()
        return pd.Series(
            [int(counts.get(r, 0)) for r in UNSERVED_REASONS], index=list(UNSERVED_REASONS), name="bookings"
        )

    @property
    def vehicles_per_station(self) -> pd.Series:
        """Number of vehicles at each station."""
        return self.vehicles.groupby("station", sort=True)["vehicle_id"].count().rename("vehicles")


def vehicle_ids(station: str, count: int) -> list[str]:
    """Ids of a station's vehicles: ``"<station>-01"``, ``"<station>-02"``, ..."""
    width = max(2, len(str(count)))
    return [f"{station}-{k:0{width}d}" for k in range(1, count + 1)]


def _align_energy(trip_energy_kwh: pd.Series, bookings: pd.DataFrame) -> np.ndarray:
    if not isinstance(trip_energy_kwh, pd.Series):
        values = np.asarray(trip_energy_kwh, dtype=float)
        if values.shape != (len(bookings),):
            raise DataError(f"trip_energy_kwh has {values.size} values for {len(bookings)} bookings")
        energy = values
    elif trip_energy_kwh.index.equals(bookings.index):
        energy = trip_energy_kwh.to_numpy(dtype=float)
    elif set(trip_energy_kwh.index) == set(bookings["booking_id"]) and trip_energy_kwh.index.is_unique:
        energy = trip_energy_kwh.reindex(bookings["booking_id"]).to_numpy(dtype=float)
    else:
        raise DataError(
            "trip_energy_kwh must be indexed like the bookings (their index or their booking_id), one value per booking"
        )
    bad = ~np.isfinite(energy) | (energy < 0)
    if bad.any():
        booking = bookings["booking_id"].iloc[int(np.flatnonzero(bad)[0])]
        raise DataError(f"trip_energy_kwh of booking {booking!r} is {float(energy[bad][0])}; it must be a number ≥ 0")
    return energy


def _check_parameters(
    usable_kwh: float,
    reserve_kwh: float,
    charge_power_kw: float,
    charge_efficiency: float,
    turnaround_min: float,
    max_vehicles_per_station: int | None,
    dt_hours: float | None,
) -> None:
    rules = [
        ("usable_kwh", usable_kwh, usable_kwh > 0, "> 0"),
        ("reserve_kwh", reserve_kwh, 0 <= reserve_kwh < usable_kwh, f"≥ 0 and < usable_kwh = {usable_kwh}"),
        ("charge_power_kw", charge_power_kw, charge_power_kw > 0, "> 0"),
        ("charge_efficiency", charge_efficiency, 0 < charge_efficiency <= 1, "in (0, 1]"),
        ("turnaround_min", turnaround_min, turnaround_min >= 0, "≥ 0"),
    ]
    if max_vehicles_per_station is not None:
        rules.append(("max_vehicles_per_station", max_vehicles_per_station, max_vehicles_per_station >= 1, "≥ 1"))
    if dt_hours is not None:
        rules.append(("dt_hours", dt_hours, dt_hours > 0, "> 0"))
    for name, value, ok, allowed in rules:
        if not (ok and math.isfinite(value)):
            raise ScenarioError(f"assign_bookings: {name} = {value} is not allowed; it must be {allowed}")


def _hours(times: pd.Series, origin: pd.Timestamp) -> np.ndarray:
    return np.asarray((times - origin) / pd.Timedelta(hours=1), dtype=float)


def _grid(hours: np.ndarray, dt_hours: float | None, how: str) -> np.ndarray:
    """Round times [h from origin] down or up to the step grid (identity in continuous time)."""
    if dt_hours is None:
        return hours
    steps = hours / dt_hours
    rounded = np.floor(steps + _TOLERANCE_H) if how == "down" else np.ceil(steps - _TOLERANCE_H)
    return rounded * dt_hours


def assign_bookings(
    bookings: pd.DataFrame,
    trip_energy_kwh: pd.Series,
    *,
    vehicles_per_station: Mapping[str, int] | None = None,
    max_vehicles_per_station: int | None = None,
    usable_kwh: float,
    reserve_kwh: float,
    charge_power_kw: float,
    charge_efficiency: float,
    turnaround_min: float = 0.0,
    dt_hours: float | None = None,
    step_origin: pd.Timestamp | None = None,
) -> FleetAssignment:
    """Give each booking a vehicle of its station, energy-aware; size the stations when asked.

    See the module docstring for the rule and its guarantee.

    Parameters
    ----------
    bookings : pd.DataFrame
        Columns ``booking_id``, ``station``, ``start``, ``end`` (tz-aware), ``distance_km``.
    trip_energy_kwh : pd.Series
        Energy each booking takes from the battery [kWh], indexed like ``bookings`` (or by ``booking_id``).
    vehicles_per_station : mapping of str to int, optional
        Vehicles at each station (stations without bookings get idle vehicles). None = size each station: the
        fewest vehicles that serve every servable booking — interval partitioning: a vehicle is added
        whenever no existing one is eligible (without the energy rule this gives the maximum number of
        overlapping bookings, the optimum; with it, a greedy count).
    max_vehicles_per_station : int, optional
        Cap when sizing; bookings beyond it are unserved.
    usable_kwh : float
        Usable battery energy per vehicle [kWh].
    reserve_kwh : float
        Energy to keep beyond the trip at each departure [kWh].
    charge_power_kw : float
        Charging power each vehicle is guaranteed while parked [kW at the plug] (the smaller of the on-board
        charger and the charger; less if chargers are shared).
    charge_efficiency : float
        Plug-to-battery efficiency [-].
    turnaround_min : float
        Minimum time between the end of one booking and the start of the next on the same vehicle [min].
    dt_hours : float, optional
        Count charging only in whole steps of this length [h], as the step-based plan does. None = continuous.
    step_origin : pd.Timestamp, optional
        A step boundary of that grid (e.g. the first snapshot); default: local midnight of the earliest start.

    Returns
    -------
    FleetAssignment

    Warns
    -----
    UnservedBookingsWarning
        When bookings are left unserved (they stay in the result with their reason).
    """
    check_bookings(bookings)
    energy = _align_energy(trip_energy_kwh, bookings)
    _check_parameters(
        usable_kwh, reserve_kwh, charge_power_kw, charge_efficiency, turnaround_min, max_vehicles_per_station,
        dt_hours,
    )  # fmt: skip
    booking_stations = bookings["station"].astype(str).to_numpy()
    if vehicles_per_station is not None:
        fixed = {str(k): v for k, v in vehicles_per_station.items()}
        missing = sorted(set(booking_stations) - set(fixed))
        if missing:
            raise ScenarioError(
                f"assign_bookings: vehicles_per_station has no entry for station(s) {missing} that have "
                f"bookings; give a number (0 allowed) for every station, or None to size them"
            )
        for station, count in fixed.items():
            if not (isinstance(count, int | np.integer) and count >= 0):
                raise ScenarioError(f"assign_bookings: vehicles_per_station[{station!r}] = {count!r} must be ≥ 0")
        stations = sorted(fixed)
    else:
        fixed = None
        stations = sorted(set(booking_stations))

    if len(bookings):
        origin = step_origin if step_origin is not None else bookings["start"].min().normalize()
    else:
        origin = pd.Timestamp(0, tz="UTC")
    start_h = _hours(bookings["start"], origin)
    end_h = _hours(bookings["end"], origin)
    # charging window: from the (step boundary after the) return to the (step boundary before the) next start
    deadline_h = _grid(start_h, dt_hours, "down")
    ready_h = _grid(end_h, dt_hours, "up")
    rate_kwh_per_h = charge_power_kw * charge_efficiency
    need = energy + reserve_kwh
    turnaround_h = turnaround_min / 60.0
    cap = math.inf if max_vehicles_per_station is None else int(max_vehicles_per_station)

    n = len(bookings)
    vehicle_of = np.full(n, -1, dtype=np.int64)
    reason = np.full(n, None, dtype=object)
    energy_at_start = np.full(n, np.nan)
    vehicle_rows: list[tuple[str, str]] = []
    ids = bookings["booking_id"].astype(str).to_numpy()

    for station in stations:
        rows = np.flatnonzero(booking_stations == station)
        rows = rows[np.lexsort((ids[rows], end_h[rows], start_h[rows]))]
        count = fixed[station] if fixed is not None else 0
        free_at = [-math.inf] * count  # earliest next start [h]
        returned_kwh = [usable_kwh] * count  # energy at return [kWh]
        ready_at = [-math.inf] * count  # charging may start [h]
        for i in rows:
            if need[i] > usable_kwh + _TOLERANCE_KWH:
                reason[i] = "trip_exceeds_battery"
                continue
            start, deadline = start_h[i], deadline_h[i]
            best, best_kwh, any_free = -1, -math.inf, False
            for v in range(len(free_at)):
                if free_at[v] > start + _TOLERANCE_H:
                    continue
                any_free = True
                held = min(usable_kwh, returned_kwh[v] + rate_kwh_per_h * max(0.0, deadline - ready_at[v]))
                if held >= need[i] - _TOLERANCE_KWH and held > best_kwh + _TOLERANCE_KWH:
                    best, best_kwh = v, held
            if best < 0 and fixed is None and len(free_at) < cap:
                free_at.append(-math.inf)
                returned_kwh.append(usable_kwh)
                ready_at.append(-math.inf)
                best, best_kwh = len(free_at) - 1, usable_kwh
            if best < 0:
                reason[i] = "not_enough_time_to_charge" if any_free else "no_vehicle_free"
                continue
            vehicle_of[i] = len(vehicle_rows) + best
            energy_at_start[i] = best_kwh
            free_at[best] = end_h[i] + turnaround_h
            returned_kwh[best] = best_kwh - energy[i]
            ready_at[best] = ready_h[i]
        vehicle_rows.extend((vid, station) for vid in vehicle_ids(station, len(free_at)))

    all_ids = np.array([vid for vid, _ in vehicle_rows], dtype=object)
    out = bookings.copy()
    out["trip_energy_kwh"] = energy
    out["vehicle_id"] = pd.array([all_ids[k] if k >= 0 else pd.NA for k in vehicle_of] if n else [], dtype="string")
    out["unserved_reason"] = pd.array([r if r is not None else pd.NA for r in reason], dtype="string")
    out["energy_at_start_kwh"] = energy_at_start

    vehicles = pd.DataFrame(
        {"vehicle_id": [v for v, _ in vehicle_rows], "station": [s for _, s in vehicle_rows]}, dtype=object
    )
    served = out[out["vehicle_id"].notna()]
    per_vehicle = served.groupby(served["vehicle_id"].astype(str))
    vehicles["bookings_served"] = vehicles["vehicle_id"].map(per_vehicle.size()).fillna(0).astype(int)
    vehicles["distance_km"] = vehicles["vehicle_id"].map(per_vehicle["distance_km"].sum()).fillna(0.0)
    vehicles = vehicles.astype({"vehicle_id": str, "station": str})

    result = FleetAssignment(
        bookings=out,
        vehicles=vehicles,
        usable_kwh=float(usable_kwh),
        reserve_kwh=float(reserve_kwh),
        charge_power_kw=float(charge_power_kw),
        charge_efficiency=float(charge_efficiency),
        turnaround_min=float(turnaround_min),
        dt_hours=dt_hours,
    )
    if result.unserved_count:
        by_reason = ", ".join(f"{r}: {c}" for r, c in result.unserved_by_reason.items() if c)
        warnings.warn(
            f"{result.unserved_count} of {n} bookings could not be served ({by_reason}); see bookings.csv, column "
            "unserved_reason (written by chisan plan)",
            UnservedBookingsWarning,
            stacklevel=2,
        )
    return result
