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

The steps live in their own modules: reading the town in :mod:`chisan.service.schedule_state`, the inputs in
:mod:`chisan.service.schedule_inputs`, the verification in :mod:`chisan.service.schedule_verify`; this module
solves and stores, and re-exports their public names.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from chisan.plan.dispatch import minimum_energy_kwh
from chisan.plan.inputs import PlanInputs
from chisan.plan.tariff_constraints import DEMAND_INTERVAL_H, steps_per_interval
from chisan.service import models
from chisan.service.charging_lp import ChargingProblem, solve_charging
from chisan.service.fallback import least_laxity_first
from chisan.service.schedule_inputs import attainable_trips as attainable_trips
from chisan.service.schedule_inputs import booking_series as booking_series
from chisan.service.schedule_inputs import plan_inputs as plan_inputs
from chisan.service.schedule_inputs import terminal_need_kwh as terminal_need_kwh
from chisan.service.schedule_state import LOOKAHEAD_HOURS as LOOKAHEAD_HOURS
from chisan.service.schedule_state import FleetState as FleetState
from chisan.service.schedule_state import load_state as load_state
from chisan.service.schedule_state import schedule_start as schedule_start
from chisan.service.schedule_state import with_pv as with_pv
from chisan.service.schedule_verify import TOLERANCE_KW as TOLERANCE_KW
from chisan.service.schedule_verify import TOLERANCE_KWH as TOLERANCE_KWH
from chisan.service.schedule_verify import Verification as Verification
from chisan.service.schedule_verify import bookings_at_risk
from chisan.service.schedule_verify import verify as verify

LOGGER = logging.getLogger("chisan.service.scheduler")

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
        Cost of the optimal schedule [currency] (import, carbon, minus the PV credit, plus the basic charge of the
        highest demand of a peak-demand meter: D × max(contract so far, horizon's peak)).
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


# --- solving


def shortfall_weights(state: FleetState, inputs: PlanInputs) -> tuple[np.ndarray, float]:
    """Cost of each kWh a trip cannot carry, per (step, car), and of each kWh missing at the end [currency/kWh].

    The stated priority: W_other = max_t(price_t + carbon price × EF_t + PV credit) / min η + 1 exceeds the cost of
    any kWh delivered, so the optimiser delivers every kWh it can (with a peak-demand tariff a kWh may also raise
    a meter's contract: :func:`demand_charge_per_kwh` joins the price); a booking's kWh weighs
    :data:`BOOKING_PRIORITY` × W_other, a session without a booking's (``is_booking`` False) and the next day's
    need W_other. Each trip's weight is × (1 + :data:`SMALL_TRIP_KWH` / trip energy), so that among equal
    energies the schedule completes the smaller trips first.
    """
    prices = state.import_price_per_kwh.to_numpy(float)
    if state.station_import_price_per_kwh is not None:  # the dearest meter's price (site tariffs)
        prices = np.maximum(prices, state.station_import_price_per_kwh.to_numpy(float).max(axis=1))
    energy_cost = prices + state.carbon_price_per_kg * state.emission_factor_kg_per_kwh.to_numpy(float)
    eta_min = float(inputs.vehicles["charge_efficiency"].min()) if len(inputs.vehicles) else 1.0
    # a kWh drawn within one demand interval (k Δt hours) raises its mean demand, and so a peak-demand meter's
    # contract, by at most 1 / (k Δt) kW: its basic charge joins the most a delivered kWh can cost
    peak_cost = demand_charge_per_kwh(state)
    other = (float(energy_cost.max(initial=0.0)) + peak_cost + state.pv_credit_per_kwh) / max(eta_min, 1e-3) + 1.0
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


def demand_charge_per_kwh(state: FleetState) -> float:
    """The most one kWh drawn in a demand interval adds to a meter's basic charge [currency/kWh]: the dearest
    meter's charge per kW of highest demand / the interval's length k Δt [h] (0 without a peak-demand tariff)."""
    rate = state.demand_charge_per_kw
    if state.station_demand_charge_per_kw is not None and len(state.station_demand_charge_per_kw):
        rate = max(rate, float(state.station_demand_charge_per_kw.max()))
    return rate / (steps_per_interval(state.dt_hours) * state.dt_hours)


def demand_offset_steps(state: FleetState) -> int:
    """Steps of the meter's 30-minute demand interval (on :00 and :30) already gone at the schedule's first step."""
    k = steps_per_interval(state.dt_hours)
    if k == 1:
        return 0
    minutes = state.snapshots[0].minute % (DEMAND_INTERVAL_H * 60)
    return round(minutes / (state.dt_hours * 60)) % k


def first_interval_demand_kw(state: FleetState, import_kw: np.ndarray) -> np.ndarray:
    """Mean import over the schedule's first demand interval [kW] (the part the chargers carry out before the next
    schedule), per column of ``import_kw`` (steps × meters); a partial first interval counts over its k steps."""
    k = steps_per_interval(state.dt_hours)
    first = k - demand_offset_steps(state)
    return np.asarray(import_kw, dtype=float)[:first].sum(axis=0) / k


def charging_problem(state: FleetState, inputs: PlanInputs) -> ChargingProblem:
    """The LP's arrays (:class:`~chisan.service.charging_lp.ChargingProblem`) from the state and its inputs."""
    veh = inputs.vehicles
    stations = inputs.stations
    cap = (stations["chargers"] * stations["charger_kw"]).to_numpy(float)
    conn = stations["connection_limit_kw"].astype(float).fillna(np.inf).to_numpy()
    weight, other = shortfall_weights(state, inputs)
    storage = state.storage_kwh > 0 and state.storage_kw > 0
    terminal = inputs.terminal_energy_kwh.reindex(veh.index).to_numpy(float)
    carbon = state.carbon_price_per_kg * state.emission_factor_kg_per_kwh.to_numpy(float)
    station_cost = None
    if state.station_import_price_per_kwh is not None:  # each meter's own tariff (chisan.service.site_prices)
        station_cost = state.station_import_price_per_kwh.reindex(columns=stations.index).to_numpy(float)
        station_cost = np.where(
            np.isnan(station_cost), state.import_price_per_kwh.to_numpy(float)[:, None], station_cost
        )
        station_cost = station_cost + carbon[:, None]
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
        station_energy_cost_per_kwh=station_cost,
        demand_charge_per_kw=state.demand_charge_per_kw,
        station_demand_charge_per_kw=None
        if state.station_demand_charge_per_kw is None
        else state.station_demand_charge_per_kw.reindex(stations.index).fillna(0.0).to_numpy(float),
        demand_steps=steps_per_interval(state.dt_hours),
        demand_offset_steps=demand_offset_steps(state),
        demand_floor_kw=state.contract_kw,
        station_demand_floor_kw=None
        if state.station_contract_kw is None
        else state.station_contract_kw.reindex(stations.index).fillna(0.0).to_numpy(float),
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
    if state.tariff is not None and v:
        messages.append(f"town priced at grid.tariff {state.tariff!r}")
    if (state.demand_charge_per_kw > 0 or state.station_demand_charge_per_kw is not None) and v:
        messages.append("basic charge on the highest 30-minute demand in the objective (12 months per kW)")
    if state.station_import_price_per_kwh is not None and v:
        messages.append(
            "the stations share PV, storage or a grid limit on one bus: priced at the town's tariff, not their sites'"
            if (state.pv_kw > 0).any()
            or (state.storage_kwh > 0 and state.storage_kw > 0)
            or state.grid_connection_limit_kw is not None
            else "each station priced at its site's tariff"
        )
    method = "optimal"
    groups = 0
    if values is not None:
        charge = values.get("Vehicle-charge_kw", np.zeros((n, v)))
        charge = np.where(np.abs(charge) < 1e-9, 0.0, charge)
        storage_ch = values.get("Storage-charge_kw", np.zeros(n))
        storage_dis = values.get("Storage-discharge_kw", np.zeros(n))
        groups = int(values.get("groups", 1))
        shortfall = bookings_at_risk(state, values.get("shortfall_kwh", np.zeros((n, v))), TOLERANCE_KWH)
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


def _raise_contracts(session: Session, municipality_id: int, state: FleetState, result: ScheduleResult) -> None:
    """Carry each peak-demand meter's contract: max(its contract so far, the demand of the schedule's first
    30-minute interval) [kW] — as the plan's rolling dispatch carries its peak from window to window."""
    if state.demand_charge_per_kw > 0:
        town = session.get(models.Municipality, municipality_id)
        # the meter's import: charging + storage charge − storage discharge − PV, ≥ 0 (grid_import_kw leaves out
        # storage charged from the grid)
        load = result.charge_kw.to_numpy(float).sum(axis=1)
        net = load + result.storage_charge_kw - result.storage_discharge_kw - state.pv_kw.to_numpy(float)
        drawn = float(first_interval_demand_kw(state, np.clip(net, 0.0, None)[:, None])[0])
        town.contract_kw = max(float(town.contract_kw or 0.0), round(drawn, 4))
    billed = state.station_demand_charge_per_kw
    if billed is not None and len(state.vehicles):
        charge = result.charge_kw.to_numpy(float)
        station_of = state.vehicles["station"].to_numpy()
        for sid in billed.index[billed.to_numpy(float) > 0]:
            drawn = float(first_interval_demand_kw(state, charge[:, station_of == sid].sum(axis=1)[:, None])[0])
            station = session.get(models.Station, int(sid))
            station.contract_kw = max(float(station.contract_kw or 0.0), round(drawn, 4))


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
    _raise_contracts(session, municipality_id, state, result)
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
