"""Charge-aware admission: can a car hold enough energy at the start of each of its bookings?

A car can serve its bookings when, charging at its guaranteed power whenever it is at its station, the least
energy it needs (the backward recursion of :func:`chisan.plan.dispatch.minimum_energy_kwh`, the same one that
keeps the planning model's rolling windows from stranding a later booking) is no more than the energy it holds
now, and never more than its usable battery. Everything here works on a grid of steps that starts *now*
(not at a step boundary), with a booking taking its car away from the step that contains its start to the end
of the step that contains its end: both roundings are on the safe side.

The guaranteed power is the car's fair share of its station: min(on-board limit, charger power, chargers ×
charger power / cars, connection limit / cars). A booking admitted on that power is served even when every car
of the station charges at once; the schedule may do better (it shares the chargers optimally).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.mobility.availability import booking_steps
from chisan.plan.dispatch import minimum_energy_kwh
from chisan.plan.inputs import PlanInputs

TOLERANCE_KWH = 1e-6
"""Energy below which a shortfall is rounding, not a shortfall [kWh]."""


@dataclass(frozen=True)
class Battery:
    """What admission needs to know of a car.

    Attributes
    ----------
    usable_kwh, reserve_kwh : float
        Usable energy and the reserve kept at every departure [kWh].
    charge_efficiency : float
        Plug-to-battery efficiency [-].
    charge_kw : float
        Guaranteed charging power at the plug while at the station [kW] (:func:`guaranteed_charge_kw`).
    """

    usable_kwh: float
    reserve_kwh: float
    charge_efficiency: float
    charge_kw: float


@dataclass
class EnergyCheck:
    """Result of :func:`energy_check` for each variant (a set of trips of one car).

    Attributes
    ----------
    ok : np.ndarray of bool
        The car can serve every trip of the variant.
    need_now_kwh : np.ndarray
        Least energy the car must hold now to serve them [kWh] (may exceed the usable energy).
    energy_now_kwh : float
        Energy the car holds now [kWh].
    """

    ok: np.ndarray
    need_now_kwh: np.ndarray
    energy_now_kwh: float


def utc(t) -> pd.Timestamp:
    """A tz-aware time as a UTC Timestamp (frames of trips hold UTC times only)."""
    return pd.Timestamp(t).tz_convert("UTC")


def guaranteed_charge_kw(
    *,
    max_charge_kw: float,
    charger_kw: float,
    chargers: int,
    vehicles: int,
    connection_limit_kw: float | None,
) -> float:
    """A car's guaranteed charging power at its station [kW at the plug].

    ``min(max_charge_kw, charger_kw, chargers × charger_kw / vehicles, connection_limit_kw / vehicles)``;
    0 when the station has no charger.
    """
    if chargers <= 0:
        return 0.0
    n = max(1, vehicles)
    p = min(max_charge_kw, charger_kw, chargers * charger_kw / n)
    if connection_limit_kw is not None and not math.isnan(connection_limit_kw):
        p = min(p, connection_limit_kw / n)
    return float(max(0.0, p))


def _idle_steps(battery: Battery, dt_hours: float) -> int:
    """Plugged steps after which the car's need is back at its reserve whatever comes later [-].

    Going back in time through steps at the station without trips, the least energy needed falls by
    η p Δt a step (:func:`chisan.plan.dispatch.minimum_energy_kwh`) and stops at the reserve; from at most the
    usable energy it gets there within ⌈(usable − reserve) / (η p Δt)⌉ steps. Without charging it never falls,
    and one step stands for any number.
    """
    gain = battery.charge_efficiency * battery.charge_kw * dt_hours
    if gain <= 0:
        return 1
    return math.ceil(max(0.0, battery.usable_kwh - battery.reserve_kwh) / gain) + 2


def compress_trips(
    frame: pd.DataFrame,
    *,
    now: dt.datetime,
    dt_hours: float,
    idle_steps: int,
    protect: tuple[dt.datetime, dt.datetime] | None = None,
) -> tuple[pd.DataFrame, int]:
    """The same trips on a shorter grid with the same answer: long idle spells and long absences cut short.

    On the admission's grid (steps from ``now``), a run of more than ``idle_steps`` plugged steps without a trip
    keeps its last ``idle_steps`` (before them the need is the reserve in any case, see :func:`_idle_steps`), and
    the steps of an absence after its first carry neither charging nor trips (the need is constant over them),
    so they go. Only whole steps are cut, so every trip keeps its rounding to steps; the least energy needed now
    and its largest value over the horizon are unchanged. The work of the check is then bounded by the number of
    trips, not by how long or far ahead they are (a week-long booking takes one step, not 672).

    Parameters
    ----------
    frame : pd.DataFrame
        Trips (``start``, ``end``, ``trip_energy_kwh``) of one car; they do not overlap.
    protect : (datetime, datetime), optional
        Times whose steps are never cut (e.g. where candidate trips are placed), nor the ``idle_steps`` before.

    Returns
    -------
    (pd.DataFrame, int)
        The trips with shifted ``start`` and ``end``, and the number of steps cut before ``protect[0]`` (to shift
        what is placed in it).
    """
    if frame.empty:
        return frame, 0
    origin = pd.DatetimeIndex([utc(now)])
    first, stop = booking_steps(frame["start"], frame["end"], origin, dt_hours)
    lo, hi = (0, 0)
    if protect is not None:
        p_first, p_stop = booking_steps(pd.Series([utc(protect[0])]), pd.Series([utc(protect[1])]), origin, dt_hours)
        lo, hi = int(p_first[0]), int(p_stop[0])
    n = max(int(stop.max()), hi, 0) + 1
    keep = np.ones(n, dtype=bool)
    cursor = 0
    for k in np.argsort(first, kind="stable"):
        a, b = int(first[k]), int(stop[k])
        if a > cursor + idle_steps:
            keep[cursor : a - idle_steps] = False  # an idle spell: its last idle_steps stay
        keep[max(a, 0) + 1 : b] = False  # an absence: its first step stays
        cursor = max(cursor, b)
    keep[first[first >= 0]] = True  # every trip keeps its first step (also where trips overlap)
    if protect is not None:  # trips placed in it later need their idle spell before it too
        keep[max(lo - idle_steps, 0) : max(hi, 0)] = True
    if keep.all():
        return frame, 0
    cut_below = np.concatenate([[0], np.cumsum(~keep)])  # cut_below[k]: cut steps before position k

    def removed_before(k: np.ndarray) -> np.ndarray:
        return cut_below[np.clip(k, 0, n)]

    step = pd.Timedelta(hours=dt_hours)
    out = frame.copy()
    out["start"] = frame["start"] - removed_before(first) * step
    out["end"] = frame["end"] - removed_before(stop) * step
    shift = int(removed_before(np.array([lo]))[0]) if protect is not None else 0
    return out, shift


def _grid(now: dt.datetime, until: dt.datetime, dt_hours: float) -> pd.DatetimeIndex:
    steps = max(1, math.ceil((until - now).total_seconds() / (dt_hours * 3600.0) - 1e-9) + 1)
    return pd.date_range(pd.Timestamp(now).tz_convert("UTC"), periods=steps, freq=pd.Timedelta(hours=dt_hours))


def trip_frames(
    variants: list[pd.DataFrame], snapshots: pd.DatetimeIndex, dt_hours: float
) -> tuple[np.ndarray, np.ndarray]:
    """Plug-in mask and trip energy (steps × variants) of each variant's trips on ``snapshots``.

    Parameters
    ----------
    variants : list of pd.DataFrame
        Each with tz-aware ``start``, ``end`` and ``trip_energy_kwh`` [kWh]. A trip that started before the first
        step is under way: it keeps the car away until its end, and its energy has already left.
    """
    n, k = len(snapshots), len(variants)
    plugged = np.ones((n, k), dtype=bool)
    trips = np.zeros((n, k))
    for j, frame in enumerate(variants):
        if frame.empty:
            continue
        first, stop = booking_steps(frame["start"], frame["end"], snapshots, dt_hours)
        energy = frame["trip_energy_kwh"].to_numpy(float)
        for a, b, e in zip(first, stop, energy, strict=True):
            plugged[max(a, 0) : max(min(b, n), 0), j] = False
            if 0 <= a < n:
                trips[a, j] += e
    return plugged, trips


def _inputs(battery: Battery, snapshots: pd.DatetimeIndex, dt_hours: float, plugged, trips) -> PlanInputs:
    """The smallest PlanInputs :func:`minimum_energy_kwh` accepts: one column per variant of the same car."""
    k = plugged.shape[1]
    names = pd.Index([f"v{j}" for j in range(k)], name="vehicle")
    zeros = pd.Series(0.0, index=snapshots)
    vehicles = pd.DataFrame(
        {
            "station": "s",
            "usable_kwh": battery.usable_kwh,
            "reserve_kwh": battery.reserve_kwh,
            "max_charge_kw": battery.charge_kw,
            "charge_efficiency": battery.charge_efficiency,
        },
        index=names,
    )
    stations = pd.DataFrame(
        {"chargers": [k], "charger_kw": [battery.charge_kw], "connection_limit_kw": [np.nan]},
        index=pd.Index(["s"], name="station"),
    )
    return PlanInputs(
        snapshots=snapshots,
        dt_hours=dt_hours,
        pv_kw_per_kw=zeros,
        wind_kw_per_kw=zeros,
        import_price_per_kwh=zeros,
        export_price_per_kwh=zeros,
        emission_factor_kg_per_kwh=zeros,
        stations=stations,
        vehicles=vehicles,
        plugged=pd.DataFrame(plugged, index=snapshots, columns=names),
        trip_energy_kwh=pd.DataFrame(trips, index=snapshots, columns=names),
        capacities={},
        annualise=False,
    )


def energy_check(
    battery: Battery,
    energy_now_kwh: float,
    variants: list[pd.DataFrame],
    *,
    now: dt.datetime,
    dt_hours: float = 0.25,
) -> EnergyCheck:
    """Whether the car can serve each variant's trips, charging at its guaranteed power while at its station.

    ``need_now = max(reserve, need[0] + trip[0] − η p Δt · plugged[0])`` with ``need`` from
    :func:`chisan.plan.dispatch.minimum_energy_kwh` (non-cyclic, need after the last step = reserve); a variant
    is feasible when ``need_now ≤ energy_now`` and ``need ≤ usable`` at every step.

    Parameters
    ----------
    battery : Battery
    energy_now_kwh : float
        Energy in the battery now [kWh].
    variants : list of pd.DataFrame
        Trips (``start``, ``end``, ``trip_energy_kwh``) of each variant; trips ending before ``now`` are ignored.
    now : datetime
        tz-aware; the first step starts here.
    dt_hours : float
        Step [h].
    """
    idle = _idle_steps(battery, dt_hours)
    variants = [compress_trips(f, now=now, dt_hours=dt_hours, idle_steps=idle)[0] for f in variants]
    ends = [f["end"].max() for f in variants if not f.empty]
    until = max([pd.Timestamp(now), *ends])
    snapshots = _grid(now, until, dt_hours)
    plugged, trips = trip_frames(variants, snapshots, dt_hours)
    inputs = _inputs(battery, snapshots, dt_hours, plugged, trips)
    need = minimum_energy_kwh(inputs, cyclic=False).to_numpy()
    gain = plugged[0] * battery.charge_efficiency * battery.charge_kw * dt_hours
    need_now = np.maximum(battery.reserve_kwh, need[0] + trips[0] - gain)
    ok = (need_now <= energy_now_kwh + TOLERANCE_KWH) & (need.max(axis=0) <= battery.usable_kwh + TOLERANCE_KWH)
    return EnergyCheck(ok=ok, need_now_kwh=need_now, energy_now_kwh=float(energy_now_kwh))


def energy_before_trips(
    battery: Battery,
    energy_now_kwh: float,
    trips: list[tuple[dt.datetime, dt.datetime, float]],
    *,
    now: dt.datetime,
    dt_hours: float = 0.25,
) -> list[float]:
    """Battery energy at the start of each trip when the car charges as soon as possible [kWh] (NaN: under way).

    The forward simulation e_t = min(usable, e_{t−1} + η p Δt plugged_t) − trip_t at the guaranteed power, on the
    same steps as :func:`energy_check`, taken trip by trip: between two trips the car charges for the whole
    steps it is back (the min with the usable energy commutes with adding energy, so a run of m steps adds
    min(usable − e, m η p Δt)). Charging as soon as possible gives the most energy at every step, so a trip whose
    value here is below its energy plus the reserve cannot be served by any schedule at that power.

    Parameters
    ----------
    trips : list of (start, end, energy [kWh])
        tz-aware times.
    """
    step_s = dt_hours * 3600.0
    rate = battery.charge_efficiency * battery.charge_kw * dt_hours
    out = [math.nan] * len(trips)
    e, free_from = float(energy_now_kwh), 0
    for i in sorted(range(len(trips)), key=lambda k: trips[k][0]):
        start, end, energy = trips[i]
        first = math.floor((start - now).total_seconds() / step_s + 1e-9)
        stop = max(math.ceil((end - now).total_seconds() / step_s - 1e-9), first + 1)
        if first < 0:  # under way: away until it ends, its energy already gone
            free_from = max(free_from, stop)
            continue
        e = min(battery.usable_kwh, e + max(0, first - free_from) * rate)
        out[i] = e
        e -= energy
        free_from = max(free_from, stop)
    return out


def energy_at_starts(
    battery: Battery, energy_now_kwh: float, trips: pd.DataFrame, *, now: dt.datetime, dt_hours: float = 0.25
) -> pd.Series:
    """:func:`energy_before_trips` of a frame of trips (``start``, ``end``, ``trip_energy_kwh``) [kWh]."""
    rows = list(zip(trips["start"], trips["end"], trips["trip_energy_kwh"].astype(float), strict=True))
    values = energy_before_trips(battery, energy_now_kwh, rows, now=now, dt_hours=dt_hours)
    return pd.Series(values, index=trips.index, name="energy_at_start_kwh", dtype=float)


def serves_without_charging(battery: Battery, energy_now_kwh: float, trip_energy_kwh: list[float]) -> bool:
    """True when the car holds enough for all these trips and its reserve without charging at all.

    A sufficient condition for :func:`energy_check`: before each trip the car still holds the energy of it and all
    later ones plus the reserve. It needs no time grid, so the common case is admitted in microseconds.
    """
    return energy_now_kwh - sum(trip_energy_kwh) >= battery.reserve_kwh - TOLERANCE_KWH


def _utc_ns(times: pd.Series) -> np.ndarray:
    """tz-aware times as integer nanoseconds since the epoch (UTC)."""
    return np.array([pd.Timestamp(t).value for t in times], dtype=np.int64)


def earliest_feasible_start(
    battery: Battery,
    energy_now_kwh: float,
    trips: pd.DataFrame,
    *,
    start: dt.datetime,
    end: dt.datetime,
    trip_energy_kwh: float,
    now: dt.datetime,
    dt_hours: float = 0.25,
    search_hours: float = 48.0,
) -> dt.datetime | None:
    """The earliest start, on steps of ``dt_hours`` after ``start`` and within ``search_hours``, at which a trip of
    the same length and energy fits the car: free of its other trips and with enough energy for all of them.

    All candidate starts are checked at once, one column each (:func:`energy_check` semantics).

    Parameters
    ----------
    trips : pd.DataFrame
        The car's other trips (``start``, ``end``, ``trip_energy_kwh``).
    start, end : datetime
        The trip asked for (tz-aware).

    Returns
    -------
    datetime or None
        None when no start in the window works.
    """
    length = end - start
    step = dt.timedelta(hours=dt_hours)
    candidates = [start + k * step for k in range(1, int(search_hours / dt_hours) + 1)]
    starts = _utc_ns(trips["start"]) if not trips.empty else np.zeros(0, dtype=np.int64)
    ends = _utc_ns(trips["end"]) if not trips.empty else np.zeros(0, dtype=np.int64)
    c0 = np.array([utc(c).value for c in candidates], dtype=np.int64)
    c1 = c0 + int(length.total_seconds() * 1e9)
    busy = ((starts[None, :] < c1[:, None]) & (c0[:, None] < ends[None, :])).any(axis=1)
    free = [c for c, b in zip(candidates, busy, strict=True) if not b]
    if not free:
        return None
    # the car's other trips on a shorter grid (compress_trips), none of the steps where candidates go cut
    trips, shift = compress_trips(
        trips,
        now=now,
        dt_hours=dt_hours,
        idle_steps=_idle_steps(battery, dt_hours),
        protect=(free[0], free[-1] + length),
    )
    found = free
    free = [c - shift * step for c in free]
    until = max([utc(now), utc(free[-1] + length), *([trips["end"].max()] if not trips.empty else [])])
    snapshots = _grid(now, until, dt_hours)
    base_plugged, base_trips = trip_frames([trips], snapshots, dt_hours)
    k = len(free)
    plugged = np.repeat(base_plugged, k, axis=1)
    trip = np.repeat(base_trips, k, axis=1)
    first, stop = booking_steps(
        pd.Series([utc(c) for c in free]), pd.Series([utc(c + length) for c in free]), snapshots, dt_hours
    )
    n = len(snapshots)
    steps = np.arange(n)[:, None]
    plugged &= ~((steps >= np.maximum(first, 0)[None, :]) & (steps < np.minimum(stop, n)[None, :]))
    inside = (first >= 0) & (first < n)
    trip[first[inside], np.flatnonzero(inside)] += trip_energy_kwh
    inputs = _inputs(battery, snapshots, dt_hours, plugged, trip)
    need = minimum_energy_kwh(inputs, cyclic=False).to_numpy()
    gain = plugged[0] * battery.charge_efficiency * battery.charge_kw * dt_hours
    need_now = np.maximum(battery.reserve_kwh, need[0] + trip[0] - gain)
    ok = (need_now <= energy_now_kwh + TOLERANCE_KWH) & (need.max(axis=0) <= battery.usable_kwh + TOLERANCE_KWH)
    hits = np.flatnonzero(ok)
    return found[int(hits[0])] if len(hits) else None
