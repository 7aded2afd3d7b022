"""Smart charging: a rolling schedule (36 h at 15 min by default) from the planning model, verified before use.

Pipeline of one run, :func:`compute_schedule`:

1. :func:`load_state` reads the town from the database: cars (energy now, limits), stations (chargers,
   connection), bookings in the horizon and the day after, PV forecast (supplied series, else the scenario's
   weather), prices and grid emission factor.
2. :func:`plan_inputs` turns it into a :class:`~chisan.plan.inputs.PlanInputs` on the schedule's steps: PV and
   storage fixed at the installed capacities, each car's energy now as initial energy, the energy the day after
   the horizon needs (:func:`chisan.plan.dispatch.minimum_energy_kwh`) as terminal energy, non-cyclic and not
   annualised; a credit per kWh of PV makes surplus PV top up the cars.
   Bookings no schedule can serve (a car back late and nearly empty) are found first by charging each car as
   soon as possible (:func:`attainable_trips`): their trip is reduced to what is attainable in the model, and
   they are reported at risk — so the optimiser only fails on shared limits.
3. The schedule's LP (:mod:`chisan.service.charging_lp`, the planning model's vehicle, station and bus equations
   with weighted shortfalls) is built with numpy and solved with HiGHS, one LP per group of stations that share
   no town-wide limit, on both cores. When shared limits bind, the shortfall variables keep it feasible: every kWh
   that can be delivered is delivered, bookings before the other needs (:func:`shortfall_weights`).
   The time budget covers the whole run: preparing the inputs, building, solving, and the fallback's time is
   kept back, so a schedule is always returned within it.
4. :func:`verify` rebuilds every car's energy from the charging powers alone and checks every limit and every
   booking. A schedule that fails (or a solver that fails or runs out of time) is replaced by the
   least-laxity-first schedule of :mod:`chisan.service.fallback`, which is verified in turn; the reason is
   logged and kept with the schedule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
import zoneinfo
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from chisan.mobility.availability import vehicle_timeseries
from chisan.mobility.fleet import FleetAssignment
from chisan.plan.dispatch import minimum_energy_kwh
from chisan.plan.inputs import Capacity, PlanInputs
from chisan.service import crud, disaster, models
from chisan.service.charging_lp import ChargingProblem, solve_charging
from chisan.service.fallback import least_laxity_first
from chisan.service.forecast import scenario_weather, weather_on

LOGGER = logging.getLogger("chisan.service.scheduler")

LOOKAHEAD_HOURS = 24.0
"""Bookings this long after the horizon set the energy each car must hold at its end [h]."""

TOLERANCE_KWH = 1e-3
"""Energy tolerance of the verification [kWh] (solver feasibility tolerance × horizon, rounded up)."""

TOLERANCE_KW = 1e-3
"""Power tolerance of the verification [kW]."""

BOOKING_PRIORITY = 10.0
"""A kWh missing from a booking weighs this many times a kWh missing from another session or the next day [-]."""

SMALL_TRIP_KWH = 1.0
"""Shortfall weight per kWh × (1 + this / the trip's energy): a scarce kWh goes first to completing small trips,
so that more bookings are served in full [kWh]. On the JPL week of benchmarks/bench_scheduler.py the delivered
energy is the same (4,735.4 kWh) for 0, 1, 5, 20 and 100 kWh; sessions served in full 159, 228, 228, 231, 232."""

FALLBACK_RESERVE_S = 0.1
"""Time kept back from the budget for verification and the fallback, plus :data:`FALLBACK_S_PER_CAR_STEP` [s]."""

FALLBACK_S_PER_CAR_STEP = 1e-6
"""Least-laxity-first and verification time per car and step, measured ≈ 0.06 s each for 2,000 cars × 144 steps
on this project's 2-core machine, with a 2× margin [s]."""

WORKERS = 2
"""Threads solving the independent groups' LPs (HiGHS releases the GIL) [-]."""


@dataclass
class FleetState:
    """Everything one schedule needs, read from the database (or built by hand in tests).

    Attributes
    ----------
    snapshots : pd.DatetimeIndex
        Step starts of the horizon, tz-aware, regular.
    dt_hours : float
        Step [h].
    stations : pd.DataFrame
        Index station id (str): ``chargers`` [-], ``charger_kw`` [kW], ``connection_limit_kw`` [kW] (NaN = none).
    vehicles : pd.DataFrame
        Index vehicle id (str): ``station`` (str), ``usable_kwh``, ``reserve_kwh`` [kWh], ``max_charge_kw`` [kW]
        (car and charger), ``charge_efficiency`` [-], ``energy_kwh`` (now) [kWh].
    bookings : pd.DataFrame
        ``booking_id`` (int), ``vehicle`` (str), ``start``, ``end`` (tz-aware; a late return extends the end),
        ``trip_energy_kwh`` [kWh]; bookings under way have their start before the first step. Optional
        ``is_booking`` (bool, default True): False for a session without a booking (served after bookings).
    pv_kw : pd.Series
        PV output available on the snapshots [kW].
    import_price_per_kwh : pd.Series
        [currency/kWh].
    emission_factor_kg_per_kwh : pd.Series
        [kg CO2e/kWh].
    carbon_price_per_kg : float
        [currency/kg CO2e].
    grid_connection_limit_kw : float or None
        Town's import limit [kW].
    storage_kwh, storage_kw : float
        Stationary storage [kWh], [kW] (0 = none).
    pv_credit_per_kwh : float
        Preference for PV [currency/kWh].
    called_vehicles : frozenset of str
        Vehicle ids called to the shelters by the town's disaster mode (:mod:`chisan.service.disaster`): the
        schedule charges them to full by its end (their terminal energy is their usable energy, as far as
        attainable).
    """

    snapshots: pd.DatetimeIndex
    dt_hours: float
    stations: pd.DataFrame
    vehicles: pd.DataFrame
    bookings: pd.DataFrame
    pv_kw: pd.Series
    import_price_per_kwh: pd.Series
    emission_factor_kg_per_kwh: pd.Series
    carbon_price_per_kg: float = 0.0
    grid_connection_limit_kw: float | None = None
    storage_kwh: float = 0.0
    storage_kw: float = 0.0
    pv_credit_per_kwh: float = 1.0
    pv_source: str = "none"
    called_vehicles: frozenset[str] = frozenset()

    @property
    def n_steps(self) -> int:
        return len(self.snapshots)


@dataclass
class Verification:
    """What :func:`verify` found.

    Attributes
    ----------
    limits_ok : bool
        No car charges while away or above its limit, no station above its chargers or connection, the town
        within its grid limit, no battery above its usable energy.
    violations : list of str
        One line per broken limit (first few).
    at_risk : dict[int, float]
        Booking id → energy missing at its start [kWh].
    energy_kwh : np.ndarray
        Each car's energy after each step rebuilt from the charging powers [kWh], (steps, cars).
    """

    limits_ok: bool
    violations: list[str]
    at_risk: dict[int, float]
    energy_kwh: np.ndarray


@dataclass
class ScheduleResult:
    """A verified schedule.

    Attributes
    ----------
    charge_kw : pd.DataFrame
        Charging power at the plug, snapshots × vehicle ids [kW].
    method : str
        ``"optimal"`` (the LP of :mod:`chisan.service.charging_lp`, HiGHS) or ``"fallback"`` (least laxity first).
    solver_status : str
        HiGHS termination condition, or why the optimiser was not used.
    verified : bool
        Limits kept and every booking that can be served is ready (or, in an optimal schedule, short only because
        shared limits bind: see ``shortfall_kwh``).
    unavoidable : dict[int, float]
        Bookings no schedule can serve, with their shortfall [kWh] (at the car's own charging power).
    verification : Verification
    storage_charge_kw, storage_discharge_kw, pv_used_kw, grid_import_kw : np.ndarray
        Per step [kW].
    objective : float or None
        Cost of the optimal schedule [currency] (import, carbon, minus the PV credit).
    solve_seconds : float
        Build, solve and verify [s].
    message : str
        What happened (fallback reasons included).
    """

    charge_kw: pd.DataFrame
    method: str
    solver_status: str
    verified: bool
    unavoidable: dict[int, float]
    verification: Verification
    storage_charge_kw: np.ndarray
    storage_discharge_kw: np.ndarray
    pv_used_kw: np.ndarray
    grid_import_kw: np.ndarray
    objective: float | None = None
    solve_seconds: float = 0.0
    message: str = ""
    timings: dict = field(default_factory=dict)
    shortfall_kwh: dict[int, float] = field(default_factory=dict)
    """Bookings the optimal schedule cannot serve because shared limits bind, with their shortfall [kWh]."""
    groups: int = 0
    """Independent LPs solved (stations when nothing town-wide couples them, else 1)."""


# --- reading the town


def schedule_start(now: dt.datetime, step_minutes: int, timezone: str) -> pd.Timestamp:
    """First step of a schedule computed at ``now``: the step boundary at or before it, on the town's clock."""
    return pd.Timestamp(now).tz_convert(zoneinfo.ZoneInfo(timezone)).floor(f"{step_minutes}min")


def _pv_series(
    session: Session, municipality: models.Municipality, snapshots: pd.DatetimeIndex, dt_hours: float
) -> tuple[pd.Series, str]:
    """PV output forecast on the snapshots [kW]: supplied values where given, else the scenario's weather."""
    utc = snapshots.tz_convert("UTC")
    supplied = crud.get_pv_forecast(
        session,
        municipality_id=municipality.id,
        start=utc[0].to_pydatetime(),
        end=(utc[-1] + pd.Timedelta(hours=dt_hours)).to_pydatetime(),
    )
    pv = pd.Series(np.nan, index=snapshots, name="pv_kw")
    source = []
    if len(supplied):
        pv[:] = supplied.reindex(utc, method="ffill", tolerance=pd.Timedelta(hours=dt_hours) * 0.999).to_numpy()
        source.append("supplied")
    if pv.isna().any() and municipality.scenario_path and municipality.pv_kw > 0:
        per_kw = weather_on(scenario_weather(municipality.scenario_path), snapshots)["pv_kw_per_kw"]
        pv = pv.fillna(per_kw * municipality.pv_kw)
        source.append("scenario weather")
    if pv.isna().any():
        source.append("none (0 kW)" if pv.isna().all() else "0 kW where missing")
    return pv.fillna(0.0), " + ".join(source)


def load_state(
    session: Session,
    *,
    municipality: models.Municipality,
    now: dt.datetime,
    step_minutes: int = 15,
    horizon_hours: float = 36.0,
    pv_credit_per_kwh: float = 1.0,
) -> FleetState:
    """The town's state for a schedule starting at the step containing ``now``."""
    dt_hours = step_minutes / 60.0
    n = round(horizon_hours / dt_hours)
    start = schedule_start(now, step_minutes, municipality.timezone)
    snapshots = pd.date_range(start, periods=n, freq=f"{step_minutes}min")
    stations = crud.list_stations(session, municipality_id=municipality.id)
    chargers = dict(
        session.execute(
            sa.select(models.Charger.station_id, sa.func.count())
            .where(models.Charger.municipality_id == municipality.id)
            .group_by(models.Charger.station_id)
        ).all()
    )
    st = pd.DataFrame(
        {
            "chargers": [int(chargers.get(s.id, 0)) for s in stations],
            "charger_kw": [s.charger_kw for s in stations],
            "connection_limit_kw": [
                np.nan if s.connection_limit_kw is None else s.connection_limit_kw for s in stations
            ],
        },
        index=pd.Index([str(s.id) for s in stations], name="station"),
    )
    cars = [v for v in crud.list_vehicles(session, municipality_id=municipality.id) if not v.is_disabled]
    energy = crud.energies_now_kwh(session, municipality_id=municipality.id, now=now)
    charger_kw = {str(s.id): s.charger_kw for s in stations}
    veh = pd.DataFrame(
        {
            "station": [str(v.station_id) for v in cars],
            "usable_kwh": [v.usable_kwh for v in cars],
            "reserve_kwh": [v.reserve_kwh for v in cars],
            "max_charge_kw": [
                min(v.max_charge_kw, charger_kw[str(v.station_id)]) if chargers.get(v.station_id, 0) else 0.0
                for v in cars
            ],
            "charge_efficiency": [v.charge_efficiency for v in cars],
            "energy_kwh": [energy[v.id] for v in cars],
        },
        index=pd.Index([str(v.id) for v in cars], name="vehicle"),
    )
    horizon_end = snapshots[-1] + pd.Timedelta(hours=dt_hours + LOOKAHEAD_HOURS)
    rows = session.execute(
        sa.select(
            models.Booking.id,
            models.Booking.vehicle_id,
            models.Booking.start_at,
            models.Booking.end_at,
            models.Booking.expected_return_at,
            models.Booking.trip_energy_kwh,
        ).where(
            models.Booking.municipality_id == municipality.id,
            models.Booking.status == "confirmed",
            models.Booking.start_at < horizon_end.to_pydatetime(),
            sa.or_(models.Booking.end_at > now, models.Booking.expected_return_at > now),
        )
    ).all()
    bookings = pd.DataFrame(
        [
            {
                "booking_id": r[0],
                "vehicle": str(r[1]),
                "start": pd.Timestamp(r[2]),
                "end": pd.Timestamp(max(r[3], r[4] or r[3])),
                "trip_energy_kwh": float(r[5]),
            }
            for r in rows
            if str(r[1]) in veh.index
        ],
        columns=["booking_id", "vehicle", "start", "end", "trip_energy_kwh"],
    )
    for c in ("start", "end"):
        bookings[c] = pd.to_datetime(bookings[c], utc=True).dt.tz_convert(snapshots.tz)
    pv, source = _pv_series(session, municipality, snapshots, dt_hours)
    price = pd.Series(municipality.import_price_per_kwh, index=snapshots, name="import_price_per_kwh", dtype=float)
    if municipality.scenario_path:
        from chisan.plan.tariffs import import_price_series
        from chisan.scenario.load import load_scenario

        grid = load_scenario(municipality.scenario_path).grid
        price = import_price_series(snapshots, municipality.import_price_per_kwh, grid.import_tou)
    ef = pd.Series(municipality.emission_factor_kg_per_kwh, index=snapshots, name="emission_factor_kg_per_kwh")
    held = disaster.called_cars(session, municipality_id=municipality.id)
    return FleetState(
        snapshots=snapshots,
        dt_hours=dt_hours,
        stations=st,
        vehicles=veh,
        bookings=bookings,
        pv_kw=pv,
        import_price_per_kwh=price,
        emission_factor_kg_per_kwh=ef.astype(float),
        carbon_price_per_kg=municipality.carbon_price_per_kg,
        grid_connection_limit_kw=municipality.grid_connection_limit_kw,
        storage_kwh=municipality.storage_kwh,
        storage_kw=municipality.storage_kw,
        pv_credit_per_kwh=pv_credit_per_kwh,
        pv_source=source,
        called_vehicles=frozenset() if held is None else frozenset(str(v) for v in held.names) & set(veh.index),
    )


# --- from the state to the model's inputs


def booking_series(state: FleetState, snapshots: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plug-in mask and trip energy of every car on ``snapshots`` (the mobility code's own availability rules).

    Bookings under way (started before the first step) keep their car away until they end; their energy has
    already left the battery (it is in the car's energy now).
    """
    b = state.bookings.copy()
    for column in ("start", "end"):  # also gives an empty frame datetime columns
        b[column] = pd.to_datetime(b[column], utc=True).dt.tz_convert(snapshots.tz)
    b["trip_energy_kwh"] = b["trip_energy_kwh"].astype(float)
    under_way = b["start"] < snapshots[0]
    b.loc[under_way, "trip_energy_kwh"] = 0.0
    b.loc[under_way, "start"] = snapshots[0]
    b = b[b["end"] > snapshots[0]]
    assignment = FleetAssignment(
        bookings=b.rename(columns={"vehicle": "vehicle_id"}),
        vehicles=pd.DataFrame({"vehicle_id": state.vehicles.index, "station": state.vehicles["station"].to_numpy()}),
        usable_kwh=np.nan,
        reserve_kwh=np.nan,
        charge_power_kw=np.nan,
        charge_efficiency=np.nan,
        turnaround_min=0.0,
        dt_hours=state.dt_hours,
    )
    series = vehicle_timeseries(assignment, snapshots, state.dt_hours)
    return series.plugged.reindex(columns=state.vehicles.index), series.trip_energy_kwh.reindex(
        columns=state.vehicles.index
    )


def _min_inputs(state: FleetState, snapshots, vehicles, plugged, trips) -> PlanInputs:
    zeros = pd.Series(0.0, index=snapshots)
    return PlanInputs(
        snapshots=snapshots,
        dt_hours=state.dt_hours,
        pv_kw_per_kw=zeros,
        wind_kw_per_kw=zeros,
        import_price_per_kwh=zeros,
        export_price_per_kwh=zeros,
        emission_factor_kg_per_kwh=zeros,
        stations=state.stations,
        vehicles=vehicles,
        plugged=plugged,
        trip_energy_kwh=trips,
        capacities={},
        annualise=False,
    )


def terminal_need_kwh(state: FleetState) -> pd.Series:
    """Energy each car must hold after the horizon so that the next day's bookings can start [kWh].

    The least-energy recursion (:func:`minimum_energy_kwh`, non-cyclic) over the horizon and
    :data:`LOOKAHEAD_HOURS` after it, read at the last step of the horizon.
    """
    n = state.n_steps
    extra = round(LOOKAHEAD_HOURS / state.dt_hours)
    longer = pd.date_range(state.snapshots[0], periods=n + extra, freq=pd.Timedelta(hours=state.dt_hours))
    plugged, trips = booking_series(state, longer)
    need = minimum_energy_kwh(_min_inputs(state, longer, state.vehicles, plugged, trips), cyclic=False)
    return need.iloc[n - 1]


def attainable_trips(
    state: FleetState, plugged: pd.DataFrame, trips: pd.DataFrame, terminal_kwh: pd.Series
) -> tuple[pd.DataFrame, pd.Series, pd.Series, dict[int, float]]:
    """Trips, reserves and terminal energies that each car can meet on its own, and the bookings it cannot.

    Each car charges as soon as possible at its full power (the most energy it can have at every step); a
    trip that would leave less than the reserve is cut to what is there, and its booking is returned with the
    missing energy. A car below its reserve now keeps its present energy as reserve. The result makes the
    model feasible for each car alone; only shared limits can still make it infeasible.

    Returns
    -------
    trips, reserve_kwh, terminal_kwh : the attainable values
    unavoidable : dict[int, float]
        Booking id → missing energy [kWh].
    """
    veh = state.vehicles
    usable = veh["usable_kwh"].to_numpy(float)
    e = np.clip(veh["energy_kwh"].to_numpy(float), 0.0, usable)
    reserve = np.minimum(veh["reserve_kwh"].to_numpy(float), e)
    gain = plugged.to_numpy(float) * (veh["charge_efficiency"] * veh["max_charge_kw"]).to_numpy(float) * state.dt_hours
    trip = trips.to_numpy(float)
    served = trip.copy()
    for t in range(len(trip)):
        e = np.minimum(usable, e + gain[t])
        served[t] = np.minimum(trip[t], np.maximum(0.0, e - reserve))
        e = e - served[t]
    short = trip - served
    unavoidable: dict[int, float] = {}
    if (short > TOLERANCE_KWH).any():
        steps, cars = np.nonzero(short > TOLERANCE_KWH)
        b = state.bookings
        for t, v in zip(steps, cars, strict=True):
            vid = veh.index[v]
            start = state.snapshots[t]
            hit = b[
                (b["vehicle"] == vid)
                & (b["start"] >= start)
                & (b["start"] < start + pd.Timedelta(hours=state.dt_hours))
            ]
            for bid in hit["booking_id"]:
                unavoidable[int(bid)] = float(short[t, v])
    terminal = np.minimum(np.maximum(terminal_kwh.to_numpy(float), reserve), e)
    return (
        pd.DataFrame(served, index=trips.index, columns=trips.columns),
        pd.Series(reserve, index=veh.index),
        pd.Series(terminal, index=veh.index),
        unavoidable,
    )


def plan_inputs(state: FleetState) -> tuple[PlanInputs, dict[int, float]]:
    """The planning model's inputs for the schedule, and the bookings no schedule can serve."""
    plugged, trips = booking_series(state, state.snapshots)
    terminal = terminal_need_kwh(state)
    if state.called_vehicles:
        # disaster mode: the called cars end the horizon full (capped below at what they can reach on their own),
        # ahead of the other cars' needs through the terminal shortfall cost
        called = terminal.index.isin(list(state.called_vehicles))
        terminal = terminal.where(~called, state.vehicles["usable_kwh"].reindex(terminal.index))
    trips, reserve, terminal, unavoidable = attainable_trips(state, plugged, trips, terminal)
    vehicles = state.vehicles[["station", "usable_kwh", "reserve_kwh", "max_charge_kw", "charge_efficiency"]].copy()
    vehicles["reserve_kwh"] = reserve
    pv_cap = float(state.pv_kw.max())
    capacities = {"pv_kw": Capacity(fixed_units=pv_cap) if pv_cap > 0 else Capacity(enabled=False)}
    storage = state.storage_kwh > 0 and state.storage_kw > 0
    if storage:
        capacities["storage_kwh"] = Capacity(fixed_units=state.storage_kwh)
        capacities["storage_kw"] = Capacity(fixed_units=state.storage_kw)
    zeros = pd.Series(0.0, index=state.snapshots)
    energy0 = state.vehicles["energy_kwh"].clip(lower=0.0, upper=state.vehicles["usable_kwh"])
    inputs = PlanInputs(
        snapshots=state.snapshots,
        dt_hours=state.dt_hours,
        pv_kw_per_kw=(state.pv_kw / pv_cap) if pv_cap > 0 else zeros,
        wind_kw_per_kw=zeros,
        import_price_per_kwh=state.import_price_per_kwh,
        export_price_per_kwh=zeros,
        emission_factor_kg_per_kwh=state.emission_factor_kg_per_kwh,
        stations=state.stations,
        vehicles=vehicles,
        plugged=plugged,
        trip_energy_kwh=trips,
        capacities=capacities,
        initial_energy_kwh=energy0,
        initial_storage_kwh=0.5 * state.storage_kwh if storage else None,
        terminal_energy_kwh=terminal,
        terminal_storage_target_kwh=0.5 * state.storage_kwh if storage else None,
        terminal_shortfall_cost_per_kwh=float(state.import_price_per_kwh.max()) + 1.0,
        grid_connection_limit_kw=state.grid_connection_limit_kw,
        allow_export=False,
        carbon_price_per_kg=state.carbon_price_per_kg,
        renewable_credit_per_kwh=state.pv_credit_per_kwh,
        annualise=False,
        mask_unplugged=True,
    )
    return inputs, unavoidable


# --- verification


def verify(state: FleetState, inputs: PlanInputs, charge_kw: np.ndarray, storage_net_kw: np.ndarray) -> Verification:
    """Check a schedule from its charging powers alone (independently of how it was computed).

    Rebuilds each car's energy e_t = e_{t−1} + η ch_t Δt − served_t, where a booking takes its trip energy
    (as in ``inputs``: cut to what the car alone can reach, see :func:`attainable_trips`) but at most what the
    car holds above its reserve, served_t = min(trip_t, max(0, e_{t−1} + η ch_t Δt − reserve)); the rest is the
    booking's shortfall. Checks:
    no charging while away or above the car's limit, each station within chargers × charger power and its
    connection, the town's import (charging + storage − PV) within its grid limit, no battery above its usable
    energy, and every booking starting with its trip energy plus the reserve (else it is at risk).

    Parameters
    ----------
    charge_kw : np.ndarray, (steps, cars)
        Charging power at the plug [kW].
    storage_net_kw : np.ndarray, (steps,)
        Storage charge − discharge [kW].
    """
    tol = TOLERANCE_KW
    veh = inputs.vehicles
    plug = inputs.plugged.to_numpy(bool)
    violations: list[str] = []

    def report(mask: np.ndarray, what: str, names: pd.Index | None = None) -> None:
        if mask.any():
            where = np.argwhere(mask)[0]
            who = f" ({names[where[1]]})" if names is not None and mask.ndim == 2 else ""
            violations.append(f"{what} at {state.snapshots[where[0]]}{who}, {int(mask.sum())} time(s)")

    cars, stations = veh.index, inputs.stations
    report(charge_kw < -tol, "negative charging of vehicle", cars)
    report((~plug) & (charge_kw > tol), "charging while away of vehicle", cars)
    report(charge_kw > veh["max_charge_kw"].to_numpy(float)[None, :] + tol, "charging above the limit of vehicle", cars)
    onehot = (veh["station"].to_numpy()[:, None] == stations.index.to_numpy()[None, :]).astype(float)
    per_station = charge_kw @ onehot
    cap = (stations["chargers"] * stations["charger_kw"]).to_numpy(float)
    conn = stations["connection_limit_kw"].astype(float).fillna(np.inf).to_numpy()
    report(per_station > cap[None, :] + tol, "chargers' power exceeded at station", stations.index)
    report(per_station > conn[None, :] + tol, "connection limit exceeded at station", stations.index)
    grid = charge_kw.sum(axis=1) + storage_net_kw - state.pv_kw.to_numpy(float)
    if state.grid_connection_limit_kw is not None:
        report(grid > state.grid_connection_limit_kw + tol, "town import above the grid limit")
    eta = veh["charge_efficiency"].to_numpy(float)
    trips = inputs.trip_energy_kwh.to_numpy(float)
    energy0 = inputs.initial_energy_kwh.to_numpy(float)
    reserve = veh["reserve_kwh"].to_numpy(float)
    gain = eta[None, :] * charge_kw * state.dt_hours
    energy = np.empty_like(gain)
    short = np.zeros_like(gain)
    e = energy0.copy()
    for t in range(len(gain)):  # vectorised over cars; the min() makes it a recursion
        before = e + gain[t]
        served = np.minimum(trips[t], np.maximum(0.0, before - reserve))
        short[t] = trips[t] - served
        e = before - served
        energy[t] = e
    report(
        energy > veh["usable_kwh"].to_numpy(float)[None, :] + TOLERANCE_KWH, "usable energy exceeded of vehicle", cars
    )
    at_risk = _bookings_at(state, short, TOLERANCE_KWH)
    return Verification(limits_ok=not violations, violations=violations, at_risk=at_risk, energy_kwh=energy)


def _bookings_at(state: FleetState, short_kwh: np.ndarray, tolerance_kwh: float) -> dict[int, float]:
    """Booking id → shortfall [kWh] for the (step, car) cells of ``short_kwh`` above the tolerance."""
    out: dict[int, float] = {}
    if not (short_kwh > tolerance_kwh).any():
        return out
    b = state.bookings
    step = pd.Timedelta(hours=state.dt_hours)
    for t, j in np.argwhere(short_kwh > tolerance_kwh):
        start = state.snapshots[t]
        hit = b[(b["vehicle"] == state.vehicles.index[j]) & (b["start"] >= start) & (b["start"] < start + step)]
        for bid in hit["booking_id"]:
            out[int(bid)] = float(short_kwh[t, j])
    return out


# --- solving


def shortfall_weights(state: FleetState, inputs: PlanInputs) -> tuple[np.ndarray, float]:
    """Cost of each kWh a trip cannot carry, per (step, car), and of each kWh missing at the end [currency/kWh].

    The stated priority: W_other = max_t(price_t + carbon price × EF_t + PV credit) / min η + 1 exceeds the cost of
    any kWh delivered, so the optimiser delivers every kWh it can; a booking's kWh weighs
    :data:`BOOKING_PRIORITY` × W_other, a session without a booking's (``is_booking`` False) and the next day's
    need W_other. Each trip's weight is × (1 + :data:`SMALL_TRIP_KWH` / trip energy), so that among equal
    energies the schedule completes the smaller trips first.
    """
    energy_cost = state.import_price_per_kwh.to_numpy(float) + state.carbon_price_per_kg * (
        state.emission_factor_kg_per_kwh.to_numpy(float)
    )
    eta_min = float(inputs.vehicles["charge_efficiency"].min()) if len(inputs.vehicles) else 1.0
    other = (float(energy_cost.max(initial=0.0)) + state.pv_credit_per_kwh) / max(eta_min, 1e-3) + 1.0
    trips = inputs.trip_energy_kwh.to_numpy(float)
    weight = np.full(trips.shape, BOOKING_PRIORITY * other)
    b = state.bookings
    if "is_booking" in b and (~b["is_booking"].astype(bool)).any():
        sessions = b[~b["is_booking"].astype(bool)]
        steps = state.snapshots.get_indexer(sessions["start"].dt.floor(pd.Timedelta(hours=state.dt_hours)))
        cars = state.vehicles.index.get_indexer(sessions["vehicle"])
        ok = (steps >= 0) & (cars >= 0)
        weight[steps[ok], cars[ok]] = other
    weight = weight * (1.0 + np.divide(SMALL_TRIP_KWH, trips, out=np.zeros_like(trips), where=trips > 0))
    return weight, other


def charging_problem(state: FleetState, inputs: PlanInputs) -> ChargingProblem:
    """The LP's arrays (:class:`~chisan.service.charging_lp.ChargingProblem`) from the state and its inputs."""
    veh = inputs.vehicles
    stations = inputs.stations
    cap = (stations["chargers"] * stations["charger_kw"]).to_numpy(float)
    conn = stations["connection_limit_kw"].astype(float).fillna(np.inf).to_numpy()
    weight, other = shortfall_weights(state, inputs)
    storage = state.storage_kwh > 0 and state.storage_kw > 0
    terminal = inputs.terminal_energy_kwh.reindex(veh.index).to_numpy(float)
    return ChargingProblem(
        dt_hours=state.dt_hours,
        plugged=inputs.plugged.to_numpy(bool),
        max_charge_kw=veh["max_charge_kw"].to_numpy(float),
        charge_efficiency=veh["charge_efficiency"].to_numpy(float),
        usable_kwh=veh["usable_kwh"].to_numpy(float),
        reserve_kwh=veh["reserve_kwh"].to_numpy(float),
        energy0_kwh=inputs.initial_energy_kwh.to_numpy(float),
        terminal_kwh=np.maximum(terminal, veh["reserve_kwh"].to_numpy(float)),
        trips_kwh=inputs.trip_energy_kwh.to_numpy(float),
        shortfall_weight_per_kwh=weight,
        terminal_weight_per_kwh=other,
        station=stations.index.get_indexer(veh["station"]),
        station_limit_kw=np.minimum(cap, conn),
        energy_cost_per_kwh=state.import_price_per_kwh.to_numpy(float)
        + state.carbon_price_per_kg * state.emission_factor_kg_per_kwh.to_numpy(float),
        pv_kw=state.pv_kw.to_numpy(float),
        pv_credit_per_kwh=state.pv_credit_per_kwh,
        grid_limit_kw=state.grid_connection_limit_kw,
        storage_kwh=state.storage_kwh if storage else 0.0,
        storage_kw=state.storage_kw if storage else 0.0,
        storage_charge_efficiency=inputs.storage_charge_efficiency,
        storage_discharge_efficiency=inputs.storage_discharge_efficiency,
        storage_keep_per_step=(1.0 - inputs.storage_self_discharge_per_hour) ** state.dt_hours,
        storage_initial_kwh=0.5 * state.storage_kwh if storage else 0.0,
        storage_target_kwh=0.5 * state.storage_kwh if storage else 0.0,
    )


def _solve_optimal(
    problem: ChargingProblem, time_limit_s: float
) -> tuple[str, dict[str, np.ndarray] | None, float | None]:
    """Build and solve the LP within ``time_limit_s`` [s]: HiGHS status, the solution's arrays, the objective."""
    solution = solve_charging(problem, deadline=time.perf_counter() + time_limit_s, workers=WORKERS)
    if solution.status != "optimal":
        return solution.status, None, None
    values = {
        "Vehicle-charge_kw": solution.charge_kw,
        "Storage-charge_kw": solution.storage_charge_kw,
        "Storage-discharge_kw": solution.storage_discharge_kw,
        "shortfall_kwh": solution.shortfall_kwh,
        "groups": np.array(solution.groups),
    }
    return "optimal", values, solution.objective


def _fallback(state: FleetState, inputs: PlanInputs) -> np.ndarray:
    veh = inputs.vehicles
    stations = inputs.stations
    need = minimum_energy_kwh(inputs, cyclic=False).to_numpy()
    station_pos = stations.index.get_indexer(veh["station"])
    cap = (stations["chargers"] * stations["charger_kw"]).to_numpy(float)
    conn = stations["connection_limit_kw"].astype(float).fillna(np.inf).to_numpy()
    return least_laxity_first(
        plugged=inputs.plugged.to_numpy(bool),
        trips_kwh=inputs.trip_energy_kwh.to_numpy(float),
        need_after_kwh=need,
        energy0_kwh=inputs.initial_energy_kwh.to_numpy(float),
        usable_kwh=veh["usable_kwh"].to_numpy(float),
        max_charge_kw=veh["max_charge_kw"].to_numpy(float),
        charge_efficiency=veh["charge_efficiency"].to_numpy(float),
        station=station_pos,
        station_limit_kw=np.minimum(cap, conn),
        site_limit_kw=state.grid_connection_limit_kw,
        pv_kw=state.pv_kw.to_numpy(float),
        dt_hours=state.dt_hours,
    )


def compute_schedule(
    state: FleetState, *, time_limit_s: float = 3.0, force_fallback: str | None = None
) -> ScheduleResult:
    """Compute, verify and (if needed) replace by the fallback one schedule, within ``time_limit_s``.

    Parameters
    ----------
    state : FleetState
    time_limit_s : float
        Budget of the whole call [s]: inputs, LP build, solve, verification and fallback. The solver gets what is
        left after the inputs and the LP's arrays, less the time kept back for verification and the fallback
        (:data:`FALLBACK_RESERVE_S` + :data:`FALLBACK_S_PER_CAR_STEP` × cars × steps); when nothing is left the
        fallback is used with status ``time_limit``.
    force_fallback : str, optional
        Skip the optimiser with this reason (used when the solver is known to be unavailable, and in tests).
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    inputs, unavoidable = plan_inputs(state)
    timings["inputs_s"] = time.perf_counter() - t0
    n, v = state.n_steps, len(state.vehicles)
    deadline = t0 + time_limit_s - (FALLBACK_RESERVE_S + FALLBACK_S_PER_CAR_STEP * n * v)
    status, values, objective = (force_fallback or "not run"), None, None
    messages = []
    shortfall: dict[int, float] = {}
    if v and force_fallback is None:
        t1 = time.perf_counter()
        try:
            problem = charging_problem(state, inputs)
            left = deadline - time.perf_counter()
            if left <= 0:
                status = "time_limit"
            else:
                status, values, objective = _solve_optimal(problem, left)
        except Exception as err:  # the solver must never take the schedule down: fall back and say why
            status = f"error: {type(err).__name__}: {err}"
            LOGGER.exception("optimal schedule failed")
        timings["solve_s"] = time.perf_counter() - t1
    method = "optimal"
    groups = 0
    if values is not None:
        charge = values.get("Vehicle-charge_kw", np.zeros((n, v)))
        charge = np.where(np.abs(charge) < 1e-9, 0.0, charge)
        storage_ch = values.get("Storage-charge_kw", np.zeros(n))
        storage_dis = values.get("Storage-discharge_kw", np.zeros(n))
        groups = int(values.get("groups", 1))
        shortfall = _bookings_at(state, values.get("shortfall_kwh", np.zeros((n, v))), TOLERANCE_KWH)
        check = verify(state, inputs, charge, storage_ch - storage_dis)
        avoidable = set(check.at_risk) - set(unavoidable) - set(shortfall)
        if not check.limits_ok or avoidable:
            reason = "; ".join(check.violations) or f"bookings {sorted(avoidable)} not ready"
            messages.append(f"optimal schedule failed verification ({reason}); least-laxity-first fallback used")
            LOGGER.warning("schedule: optimal schedule failed verification (%s); using the fallback", reason)
            values = None
            shortfall = {}
        elif shortfall:
            messages.append(
                f"shared limits bind: bookings {sorted(shortfall)} get what is left after higher priorities "
                f"({sum(shortfall.values()):.3f} kWh short)"
            )
    elif v:
        messages.append(f"optimiser {status}; least-laxity-first fallback used")
        LOGGER.warning("schedule: optimiser %s; using the least-laxity-first fallback", status)
    if values is None:
        method = "fallback"
        objective = None
        t2 = time.perf_counter()
        charge = _fallback(state, inputs) if v else np.zeros((n, 0))
        storage_ch = storage_dis = np.zeros(n)
        timings["fallback_s"] = time.perf_counter() - t2
        check = verify(state, inputs, charge, np.zeros(n))
    load = charge.sum(axis=1)
    local = np.clip(state.pv_kw.to_numpy(float) + storage_dis - storage_ch, 0.0, load) if v else np.zeros(n)
    grid = load - local
    verified = check.limits_ok and set(check.at_risk) <= set(unavoidable) | set(shortfall)
    if unavoidable:
        messages.append(f"bookings {sorted(unavoidable)} cannot be served by any schedule (at risk)")
    if not verified:
        messages.append("verification failed: " + ("; ".join(check.violations) or "bookings not ready"))
    timings["total_s"] = time.perf_counter() - t0
    return ScheduleResult(
        charge_kw=pd.DataFrame(charge, index=state.snapshots, columns=state.vehicles.index),
        method=method,
        solver_status=status,
        verified=verified,
        unavoidable=unavoidable,
        verification=check,
        storage_charge_kw=storage_ch,
        storage_discharge_kw=storage_dis,
        pv_used_kw=local,
        grid_import_kw=grid,
        objective=objective,
        solve_seconds=timings["total_s"],
        message="; ".join(messages),
        timings=timings,
        shortfall_kwh=shortfall,
        groups=groups,
    )


# --- storing


def _r(values) -> list[float]:
    return [round(float(x), 4) for x in np.asarray(values, dtype=float)]


def store_schedule(
    session: Session, *, municipality_id: int, state: FleetState, result: ScheduleResult, now: dt.datetime
) -> models.Schedule:
    """Save a schedule with each car's and each station's part; alerts for fallbacks and bookings at risk."""
    at_risk = sorted(set(result.verification.at_risk) | set(result.unavoidable))
    schedule = models.Schedule(
        municipality_id=municipality_id,
        created_at=now,
        start_at=state.snapshots[0].to_pydatetime(),
        step_minutes=round(state.dt_hours * 60),
        n_steps=state.n_steps,
        method=result.method,
        solver_status=result.solver_status[:50],
        solve_seconds=result.solve_seconds,
        verified=result.verified,
        limits_ok=result.verification.limits_ok,
        message=result.message,
        objective=result.objective,
        pv_kw=_r(state.pv_kw),
        import_price_per_kwh=_r(state.import_price_per_kwh),
        grid_import_kw=_r(result.grid_import_kw),
        at_risk_booking_ids=at_risk,
    )
    charge = result.charge_kw.to_numpy(float)
    energy = result.verification.energy_kwh
    schedule.vehicles = [
        models.ScheduleVehicle(vehicle_id=int(vid), charge_kw=_r(charge[:, j]), energy_kwh=_r(energy[:, j]))
        for j, vid in enumerate(result.charge_kw.columns)
    ]
    load = charge.sum(axis=1)
    share = np.divide(result.pv_used_kw, load, out=np.zeros_like(load), where=load > 1e-9)
    stations = state.stations
    veh_station = state.vehicles["station"].to_numpy()
    rows = []
    for sid in stations.index:
        c = charge[:, veh_station == sid].sum(axis=1) if len(veh_station) else np.zeros(state.n_steps)
        cap = float(stations.loc[sid, "chargers"] * stations.loc[sid, "charger_kw"])
        conn = stations.loc[sid, "connection_limit_kw"]
        limit = min(cap, float(conn)) if not pd.isna(conn) else cap
        rows.append(
            models.ScheduleStation(
                station_id=int(sid), charge_kw=_r(c), pv_kw=_r(c * share), grid_kw=_r(c * (1 - share)), limit_kw=limit
            )
        )
    schedule.stations = rows
    session.add(schedule)
    if result.method == "fallback" and len(state.vehicles):
        session.add(
            models.Alert(
                municipality_id=municipality_id, kind="schedule_fallback", message=result.message, created_at=now
            )
        )
    session.flush()
    for bid in at_risk:
        session.add(
            models.Alert(
                municipality_id=municipality_id,
                kind="booking_at_risk",
                booking_id=bid,
                message=f"booking {bid} will not have its energy at its start (schedule {schedule.id})",
                created_at=now,
            )
        )
    session.commit()
    return schedule


def run_schedule(
    session: Session,
    *,
    municipality: models.Municipality,
    now: dt.datetime,
    step_minutes: int = 15,
    horizon_hours: float = 36.0,
    time_limit_s: float = 3.0,
    pv_credit_per_kwh: float = 1.0,
) -> models.Schedule:
    """Load, compute, verify and store one schedule of a town."""
    state = load_state(
        session,
        municipality=municipality,
        now=now,
        step_minutes=step_minutes,
        horizon_hours=horizon_hours,
        pv_credit_per_kwh=pv_credit_per_kwh,
    )
    result = compute_schedule(state, time_limit_s=time_limit_s)
    LOGGER.info(
        "schedule of %s: %s (%s), %d cars, %.2f s, verified=%s %s",
        municipality.slug,
        result.method,
        result.solver_status,
        len(state.vehicles),
        result.solve_seconds,
        result.verified,
        result.message,
    )
    return store_schedule(session, municipality_id=municipality.id, state=state, result=result, now=now)


def with_pv(state: FleetState, pv_kw: pd.Series) -> FleetState:
    """A copy of ``state`` with another PV forecast [kW]."""
    return dataclasses.replace(state, pv_kw=pv_kw)
