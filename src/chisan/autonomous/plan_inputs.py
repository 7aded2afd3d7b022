"""The autonomous fleet in ``chisan plan``: the simulated cars' charging windows and energy, on the plan's steps.

With ``fleet.kind = "autonomous"`` the plan's preparation (:func:`chisan.plan.prepare.prepare_inputs`) calls
:func:`plan_fleet`, which

1. simulates the fleet (:func:`chisan.autonomous.simulate.simulate`, seeded) over ``fleet.autonomous.simulated_days``
   from the start of the planned period, with ``fleet.autonomous.cars`` cars or the fewest that meet the service
   level (:func:`chisan.autonomous.metrics.fleet_size_for_service`);
2. turns each car's simulated state into the plan's per-vehicle inputs (:func:`step_inputs`), the same
   vehicle-availability interface as bookings (:mod:`chisan.mobility.availability`):

   - **site**: each car belongs to the charger site the simulation homed it at (its station; cars are spread
     over the stations with positions in turn) and charges only there;
   - **plugged**: a car may charge in a plan step when the simulation had it parked at its site for the whole
     step (:func:`chisan.autonomous.export.vehicle_series`); the plan chooses how much it charges then;
   - **energy drawn**: each *away period* (the legs between two parked periods, rides and empty legs alike,
     :func:`chisan.autonomous.export.away_periods`) draws its energy in the step it starts;
   - **kept charging**: what the simulation charged in a step the car was parked for only part of cannot be
     moved by the plan (the plan's steps are coarser than the simulation's minutes). It is kept as it was, a
     fixed load at the car's site (``other_load_kw``) in the step it happened, and it enters the battery in the
     plan as in the simulation: over each stretch of not-wholly-parked steps the plan draws the battery's
     running low (:func:`stretch_draws`), and gets the rest back in the next whole parked step (a negative
     ``trip_energy_kwh`` there). The plan's view of a battery is thus never above the real one within a stretch
     and equal to it at the stretch's end, so a departure the plan serves is served.
3. repeats the simulated days over the planned period, step by step from its first step. What is repeated is
   not the simulation's fresh start (every car at its site, 80-100 % charged) but a later run of the same days:
   the days are simulated :data:`REPETITIONS` times in a row (same requests, PV and prices), the first is a
   warm-up, and the first later run whose windows give every car back, when repeated, what it drives (checked
   with :func:`cyclic_shortfall_kwh`) is the one the plan repeats (the closest one if none does). Give
   ``simulated_days`` dividing the planned days (365 = 73 × 5) so that the repetition closes on itself.

The simulated charging itself is one schedule inside these windows that serves every dispatched trip (the
simulation never lets a car below its reserve), so the plan re-optimises the charging *within* the windows;
the after-solve checks (:mod:`chisan.plan.check`) verify every away period starts with its energy plus the
reserve. On a repeated period the plan's horizon is cyclic, so a car must also get back, within its windows,
the energy the simulated days drained from it; :func:`chisan.plan.prepare.prepare_inputs` names the first car
that cannot, before any solve.

Limits: the repeated days are a sample of the year (the plan's PV, prices and weather are the year's own; the
demand is the sample's); the away periods' energy is the simulation's (consumption × km, no temperature factor);
within a stretch the plan counts kept charging as if the battery had room for it, which holds when the car starts
the stretch no fuller than the simulation had it (a fuller start only makes the real energy higher).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.autonomous import export, metrics
from chisan.autonomous.requests import Requests
from chisan.autonomous.simulate import SimulationResult, simulate
from chisan.exceptions import ScenarioError
from chisan.mobility.availability import booking_steps
from chisan.mobility.fleet import FleetAssignment
from chisan.scenario.schema import AutonomousFleet, Scenario


@dataclass
class StepInputs:
    """One simulated period on the plan's steps (see the module docstring).

    Attributes
    ----------
    plugged : pd.DataFrame
        bool, steps × vehicles: parked at its site for the whole step.
    trip_energy_kwh : pd.DataFrame
        Energy drawn in each step [kWh, battery side]: the away periods starting in it, less the kept charging.
    fixed_charge_kw : pd.DataFrame
        Kept (simulated) charging, steps × vehicles [kW at the plug, mean over the step].
    simulated_charge_kw : pd.DataFrame
        All the simulation's charging, steps × vehicles [kW at the plug, mean over the step].
    away : pd.DataFrame
        The away periods (:func:`chisan.autonomous.export.away_periods`) with ``drawn_kwh`` [kWh], what each draws
        in the plan after the kept charging.
    """

    plugged: pd.DataFrame
    trip_energy_kwh: pd.DataFrame
    fixed_charge_kw: pd.DataFrame
    simulated_charge_kw: pd.DataFrame
    away: pd.DataFrame


def stretch_draws(group: np.ndarray, change_kwh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What each event of a stretch draws in the plan, and what the stretch gives back at its end.

    Within a stretch (a car's steps between two whole parked steps), the events are time-ordered energy changes
    of the battery: + kept charging, − a departure's energy. With P the running sum of the changes, the lowest
    the battery has been so far is B = max(0, max_{k ≤ j} (−P_k)) below its level at the stretch's start. The
    plan draws each increase of B in the step of the event that caused it (never more than the battery really
    lost, never later), so the plan's energy is the battery's running low and every end of a step the plan
    checks is at or below the real energy; the rest, P + B ≥ 0 at the stretch's end, is given back to the plan
    in the first whole parked step after it.

    Parameters
    ----------
    group : np.ndarray of int
        Stretch of each event; events sorted by stretch, then time.
    change_kwh : np.ndarray
        Energy change of each event [kWh, battery side].

    Returns
    -------
    draw_kwh : np.ndarray
        Energy the plan draws at each event [kWh] (≥ 0).
    give_back_kwh : np.ndarray
        Per event, its stretch's energy given back at the end [kWh] (≥ 0; the same for a stretch's events).
    """
    frame = pd.DataFrame({"g": group, "change": change_kwh})
    by = frame.groupby("g", sort=False)
    running = by["change"].cumsum()
    frame["low"] = np.maximum(0.0, (-running).groupby(frame["g"], sort=False).cummax())
    before = frame.groupby("g", sort=False)["low"].shift(1).fillna(0.0)
    draw = (frame["low"] - before).to_numpy()
    last = frame.groupby("g", sort=False)
    give_back = (running.groupby(frame["g"], sort=False).transform("last") + last["low"].transform("last")).to_numpy()
    return draw, np.maximum(give_back, 0.0)


def step_inputs(result: SimulationResult, snapshots: pd.DatetimeIndex, dt_hours: float) -> StepInputs:
    """The simulated cars on plan steps of ``dt_hours`` starting at the simulation's origin.

    Parameters
    ----------
    result : SimulationResult
        With :attr:`~chisan.autonomous.simulate.SimulationResult.charges`.
    snapshots : pd.DatetimeIndex
        Regular steps from ``result.origin`` covering the simulated period.
    dt_hours : float
        Plan step [h]; a whole number of simulation steps.

    Returns
    -------
    StepInputs
        ``trip_energy_kwh`` is negative in a whole parked step where a stretch gives energy back
        (:func:`stretch_draws`).
    """
    if result.charges is None:
        raise ScenarioError("the simulation did not record its charging; run it with chisan.autonomous.simulate")
    ids = export.vehicle_ids(result).astype(str)
    n_cars, n = len(ids), len(snapshots)
    series = export.vehicle_series(result, snapshots, dt_hours)
    plugged = series.plugged.to_numpy(bool)
    away = export.away_periods(result)
    car_of = pd.Index(ids).get_indexer(away["vehicle_id"].astype(str))
    first, _ = booking_steps(away["start"], away["end"], snapshots, dt_hours)
    dep_min = np.asarray((away["start"] - result.origin) / pd.Timedelta(minutes=1), dtype=float)
    energy = away["trip_energy_kwh"].to_numpy(float)

    ch = result.charges
    g_car = ch["car"].to_numpy(np.int64)
    g_min = ch["step"].to_numpy(float) * result.step_min
    g_step = np.floor(g_min / (dt_hours * 60.0) + 1e-9).astype(np.int64)
    inside = g_step < n
    g_car, g_min, g_step = g_car[inside], g_min[inside], g_step[inside]
    g_kwh = ch["energy_kwh"].to_numpy(float)[inside]
    eta = result.config.charge_efficiency
    simulated = np.bincount(g_step * n_cars + g_car, weights=g_kwh / eta / dt_hours, minlength=n * n_cars)
    partial = ~plugged[g_step, g_car]  # charging in a step the car is not parked for the whole of: kept
    g_car, g_min, g_step, g_kwh = g_car[partial], g_min[partial], g_step[partial], g_kwh[partial]
    fixed = np.bincount(g_step * n_cars + g_car, weights=g_kwh / eta / dt_hours, minlength=n * n_cars)

    keep = (first >= 0) & (first < n)
    car = np.r_[g_car, car_of[keep]].astype(np.int64)
    step = np.r_[g_step, first[keep]]
    minute = np.r_[g_min, dep_min[keep]]
    is_gain = np.r_[np.ones(len(g_car), bool), np.zeros(int(keep.sum()), bool)]
    change = np.r_[g_kwh, -energy[keep]]
    # a stretch's number is the count of whole parked steps before it (the same for all its steps)
    parked_before = np.cumsum(plugged, axis=0)
    stretch = parked_before[step, car]
    group = car * (n + 1) + stretch
    order = np.lexsort((~is_gain, minute, group))  # charging before a departure in the same minute
    draw_sorted, back_sorted = stretch_draws(group[order], change[order])
    draw = np.empty(len(order))
    give_back = np.empty(len(order))
    draw[order] = draw_sorted
    give_back[order] = back_sorted
    trips = np.bincount(step * n_cars + car, weights=draw, minlength=n * n_cars)
    # each stretch gives back at the first whole parked step after it (the (stretch + 1)-th), else at the end
    first_of = pd.DataFrame({"group": group, "car": car, "stretch": stretch, "back": give_back}).drop_duplicates(
        "group"
    )
    p_step, p_car = np.nonzero(plugged)
    by_car = np.lexsort((p_step, p_car))
    p_step, p_car = p_step[by_car], p_car[by_car]
    offset = np.searchsorted(p_car, np.arange(n_cars))
    count = np.bincount(p_car, minlength=n_cars)
    g_c = first_of["car"].to_numpy(np.int64)
    g_s = first_of["stretch"].to_numpy(np.int64)
    has = g_s < count[g_c]
    at = np.full(len(g_c), n - 1)
    at[has] = p_step[offset[g_c[has]] + g_s[has]]
    trips -= np.bincount(at * n_cars + g_c, weights=first_of["back"].to_numpy(float), minlength=n * n_cars)
    drawn = np.zeros(len(away))
    drawn[np.flatnonzero(keep)] = draw[~is_gain]
    cols = pd.Index(ids, name="vehicle")
    return StepInputs(
        plugged=pd.DataFrame(plugged, index=snapshots, columns=cols),
        trip_energy_kwh=pd.DataFrame(trips.reshape(n, n_cars), index=snapshots, columns=cols),
        fixed_charge_kw=pd.DataFrame(fixed.reshape(n, n_cars), index=snapshots, columns=cols),
        simulated_charge_kw=pd.DataFrame(simulated.reshape(n, n_cars), index=snapshots, columns=cols),
        away=away.assign(drawn_kwh=drawn),
    )


def repeat_over(frame: pd.DataFrame, snapshots: pd.DatetimeIndex) -> pd.DataFrame:
    """``frame`` (steps of the simulated period) repeated, step by step, over ``snapshots``."""
    pos = np.arange(len(snapshots)) % len(frame)
    return pd.DataFrame(frame.to_numpy()[pos], index=snapshots, columns=frame.columns)


def repeat_bookings(away: pd.DataFrame, period: pd.Timedelta, end: pd.Timestamp) -> pd.DataFrame:
    """The away periods of one simulated period repeated every ``period`` until ``end`` (starts before it)."""
    if not len(away):
        return away
    copies = max(1, math.ceil((end - away["start"].min()) / period))
    parts = []
    for c in range(copies):  # one frame per repeated period (tens at most), not per step
        shifted = away.assign(start=away["start"] + c * period, end=away["end"] + c * period)
        if c:
            shifted["booking_id"] = shifted["booking_id"] + f"/{c + 1}"
        parts.append(shifted[shifted["start"] < end])
    return pd.concat(parts, ignore_index=True)


@dataclass
class PlanFleet:
    """The autonomous fleet as the plan sees it (see the module docstring).

    Attributes
    ----------
    result : SimulationResult
        The simulation of ``simulated_days``.
    summary : pd.DataFrame
        :func:`chisan.autonomous.metrics.summary` of the run.
    search : pd.DataFrame
        Fleet sizes tried and their service level (one row when ``cars`` is fixed).
    max_wait_min, service_level_target : float
        The service asked (wait limit [min], share picked up within it [-]).
    cars_fixed : bool
        True when ``fleet.autonomous.cars`` fixed the size, False when the service level sized it.
    simulated_days : int
    repeated_days : tuple[int, int]
        First and last day (1-based, of the simulated days run :data:`REPETITIONS` times in a row) the plan repeats.
    vehicles : pd.DataFrame
        The plan's vehicle table (:func:`chisan.autonomous.export.plan_vehicles`).
    chargers : pd.Series
        Per station: the most cars the simulation had parked at its site at once [chargers] (every parked car
        has a plug, so each window is a charging window).
    assignment : FleetAssignment
        The away periods, repeated over the planned period, as served bookings of the cars.
    plugged, trip_energy_kwh : pd.DataFrame
        On the plan's snapshots (repeated).
    fixed_charge_kw, simulated_charge_kw : pd.DataFrame
        Kept and all simulated charging on the plan's snapshots, per station [kW at the plug].
    """

    result: SimulationResult
    summary: pd.DataFrame
    search: pd.DataFrame
    max_wait_min: float
    service_level_target: float
    cars_fixed: bool
    simulated_days: int
    repeated_days: tuple[int, int]
    vehicles: pd.DataFrame
    chargers: pd.Series
    assignment: FleetAssignment
    plugged: pd.DataFrame
    trip_energy_kwh: pd.DataFrame
    fixed_charge_kw: pd.DataFrame
    simulated_charge_kw: pd.DataFrame


REPETITIONS: int = 4
"""Times the simulated days are simulated in a row for the plan: a warm-up, then the candidates (see
:func:`plan_fleet`)."""


def _repeated(requests: Requests, period_min: float, times: int) -> Requests:
    """The requests, then the same requests ``period_min`` later, ``times`` times in all."""
    cat = np.concatenate
    ids = np.asarray(requests.request_id).astype(str)
    return Requests(
        cat([ids if c == 0 else np.char.add(ids, f"/{c + 1}") for c in range(times)]).astype(object),
        cat([requests.time_min + c * period_min for c in range(times)]),
        cat([requests.origin_x_km] * times), cat([requests.origin_y_km] * times),
        cat([requests.destination_x_km] * times), cat([requests.destination_y_km] * times), requests.origin,
        None if requests.booking_id is None else cat([requests.booking_id] * times),
    )  # fmt: skip


def _part(frame: pd.DataFrame, k: int, steps: int) -> pd.DataFrame:
    out = frame.iloc[k * steps : (k + 1) * steps].copy()
    out.index = frame.index[:steps]
    return out


def cyclic_shortfall_kwh(
    trip_kwh: np.ndarray, plugged: np.ndarray, gain_kwh: np.ndarray, usable_kwh: float, reserve_kwh: float
) -> np.ndarray:
    """How far each car's cyclic energy need exceeds its battery on repeated steps [kWh] (≤ 0: it fits).

    The need after each step, charging at full power whenever plugged, by the backward recursion of
    :func:`chisan.plan.dispatch.minimum_energy_kwh` (Lindley 1952, doi:10.1017/S0305004100027638), run twice so
    that the need at the start wraps to the end; and +inf where a car draws more over the steps than it can gain.
    """
    x = (trip_kwh - gain_kwh * plugged)[::-1]
    s = np.cumsum(x, axis=0)
    low = np.minimum(np.minimum.accumulate(s, axis=0), 0.0)
    w = s - low
    w = s - np.minimum(low, -w[-1][None, :])
    over = w.max(axis=0) + reserve_kwh - usable_kwh
    return np.where(s[-1] > 1e-9, np.inf, over)


def _per_station(frame: pd.DataFrame, stations: pd.Series, names: list[str]) -> pd.DataFrame:
    return frame.T.groupby(stations.reindex(frame.columns).to_numpy()).sum().T.reindex(columns=names, fill_value=0.0)


def plan_fleet(scenario: Scenario, snapshots: pd.DatetimeIndex, dt_hours: float) -> PlanFleet:
    """Simulate the scenario's autonomous fleet and lay it on the plan's snapshots (see the module docstring).

    Raises
    ------
    ScenarioError
        No station has a position, no request falls in the simulated days, or no fleet up to one car per
        request meets the service level (each message names the field to change).
    """
    from chisan.autonomous.town import town_inputs

    a = scenario.fleet.autonomous or AutonomousFleet()
    where = "fleet.autonomous"
    town = town_inputs(
        scenario, days=a.simulated_days, requests_csv=scenario.resolve(a.requests_path), seed=a.seed,
        pv_kwp=a.pv_kw, names=(f"{where}.simulated_days", f"{where}.pv_kw"),
    )  # fmt: skip
    if len(town.requests) == 0:
        raise ScenarioError(
            f"fleet.kind = 'autonomous': no request falls in the {a.simulated_days} simulated day(s); raise "
            f"{where}.simulated_days or give requests ({where}.requests_path, or bookings)"
        )

    def run(cars: int) -> SimulationResult:
        cfg = dataclasses.replace(town.base_config, cars=int(cars))
        return simulate(
            town.requests, town.grid, town.sites, cfg, horizon_min=town.horizon_min, seed=a.seed,
            pv_kw=town.pv_kw, price_per_kwh=town.price_per_kwh,
        )  # fmt: skip

    if a.cars is not None:
        result = run(a.cars)
        search = pd.DataFrame({"cars": [a.cars], "service_level": [metrics.service_level(result, a.max_wait_min)]})
    else:
        try:
            _, result, search = metrics.fleet_size_for_service(
                run, level=a.service_level_fraction, max_wait_min=a.max_wait_min, high=len(town.requests)
            )
        except ScenarioError as err:
            raise ScenarioError(
                f"{where}.service_level_fraction = {a.service_level_fraction:g}: {err}; or fix {where}.cars"
            ) from None
    summary = metrics.summary(
        result, max_wait_min=a.max_wait_min, vehicle_cost_per_year=town.vehicle_cost_per_year, currency=town.currency
    )
    # The plan repeats the simulated days, so it needs them as they run in a repeating period, not from the
    # simulation's fresh start (cars at their sites, 80-100 % charged): the same days are simulated REPETITIONS
    # times in a row; the first is a warm-up, and the plan repeats the first later one in which every car's
    # windows sustain it when repeated (each car gets back what the days drained from it), else the one that
    # comes closest (prepare_inputs then names the car that cannot).
    runs = simulate(
        _repeated(town.requests, town.horizon_min, REPETITIONS), town.grid, town.sites, result.config,
        horizon_min=REPETITIONS * town.horizon_min, seed=a.seed, pv_kw=np.tile(town.pv_kw, REPETITIONS),
        price_per_kwh=np.tile(town.price_per_kwh, REPETITIONS),
    )  # fmt: skip
    sim_steps = round(a.simulated_days * 24 / dt_hours)
    all_snapshots = pd.date_range(snapshots[0], periods=REPETITIONS * sim_steps, freq=pd.Timedelta(hours=dt_hours))
    every = step_inputs(runs, all_snapshots, dt_hours)
    cfg = result.config
    gain = cfg.charge_power_kw * cfg.charge_efficiency * dt_hours
    period = pd.Timedelta(days=a.simulated_days)
    best, best_over = 1, np.inf
    for k in range(1, REPETITIONS):  # a few candidates, each vectorised over steps and cars
        trip = repeat_over(_part(every.trip_energy_kwh, k, sim_steps), snapshots).to_numpy(float)
        plug = repeat_over(_part(every.plugged, k, sim_steps), snapshots).to_numpy(bool)
        over = float(cyclic_shortfall_kwh(trip, plug, gain, cfg.usable_kwh, cfg.reserve_kwh).max())
        if over < best_over - 1e-9:
            best, best_over = k, over
        if over <= 1e-9:
            break
    lo, hi = snapshots[0] + best * period, snapshots[0] + (best + 1) * period
    chosen = every.away[(every.away["start"] >= lo) & (every.away["start"] < hi)]
    steps = StepInputs(
        plugged=_part(every.plugged, best, sim_steps),
        trip_energy_kwh=_part(every.trip_energy_kwh, best, sim_steps),
        fixed_charge_kw=_part(every.fixed_charge_kw, best, sim_steps),
        simulated_charge_kw=_part(every.simulated_charge_kw, best, sim_steps),
        away=chosen.assign(start=chosen["start"] - best * period, end=chosen["end"] - best * period),
    )
    vehicles = export.plan_vehicles(result)
    names = [s.name for s in scenario.stations]
    parked = result.plugged
    chargers = pd.Series(
        [int(parked[:, result.car_site == k].sum(axis=1).max(initial=0)) for k in range(len(result.sites))],
        index=result.sites.index.astype(str),
    ).reindex(names, fill_value=0)
    end = snapshots[-1] + pd.Timedelta(hours=dt_hours)
    away = repeat_bookings(steps.away, period, end)
    per_car = away.groupby("vehicle_id")
    fleet_vehicles = pd.DataFrame({"vehicle_id": vehicles.index.astype(str), "station": vehicles["station"].to_numpy()})
    fleet_vehicles["bookings_served"] = fleet_vehicles["vehicle_id"].map(per_car.size()).fillna(0).astype(int)
    fleet_vehicles["distance_km"] = fleet_vehicles["vehicle_id"].map(per_car["distance_km"].sum()).fillna(0.0)
    bookings = away.drop(columns=["drawn_kwh"]).assign(
        vehicle_id=away["vehicle_id"].astype("string"),
        unserved_reason=pd.array([pd.NA] * len(away), dtype="string"),
        energy_at_start_kwh=np.nan,
    )
    assignment = FleetAssignment(
        bookings=bookings,
        vehicles=fleet_vehicles,
        usable_kwh=cfg.usable_kwh,
        reserve_kwh=cfg.reserve_kwh,
        charge_power_kw=cfg.charge_power_kw,
        charge_efficiency=cfg.charge_efficiency,
        turnaround_min=0.0,
        dt_hours=dt_hours,
    )
    station_of = vehicles["station"]
    return PlanFleet(
        result=result,
        summary=summary,
        search=search,
        max_wait_min=a.max_wait_min,
        service_level_target=a.service_level_fraction,
        cars_fixed=a.cars is not None,
        simulated_days=a.simulated_days,
        repeated_days=(best * a.simulated_days + 1, (best + 1) * a.simulated_days),
        vehicles=vehicles,
        chargers=chargers,
        assignment=assignment,
        plugged=repeat_over(steps.plugged, snapshots),
        trip_energy_kwh=repeat_over(steps.trip_energy_kwh, snapshots),
        fixed_charge_kw=repeat_over(_per_station(steps.fixed_charge_kw, station_of, names), snapshots),
        simulated_charge_kw=repeat_over(_per_station(steps.simulated_charge_kw, station_of, names), snapshots),
    )


def plan_summary(fleet: PlanFleet, inputs, vehicle_charge_kw: pd.DataFrame, pv_kw_built: float) -> pd.DataFrame:
    """The autonomous fleet in a solved plan: its size and service, and its charging as planned and as simulated.

    Energies are over the planned period [kWh]. Both charging profiles (the plan's, re-optimised within the
    windows plus the kept charging, and the simulation's own, repeated the same way) are set against the plan's
    PV at its built capacity and priced at the grid import price for what the PV does not cover:
    ``Σ_t min(PV_t, charging_t)`` is the charging the PV could feed in step t, and the cost is
    ``Σ_t (charging_t − min(PV_t, charging_t)) × price_t × Δt`` (no storage, no other load: a like-for-like
    comparison of the two schedules, not the plan's bill).

    Parameters
    ----------
    fleet : PlanFleet
    inputs : chisan.plan.inputs.PlanInputs
    vehicle_charge_kw : pd.DataFrame
        The plan's charging, steps × vehicles [kW at the plug]
        (:attr:`chisan.plan.results.PlanResults.vehicle_charge_kw`).
    pv_kw_built : float
        PV the plan builds [kW].

    Returns
    -------
    pd.DataFrame
        Index ``figure``; columns ``value``, ``unit``.
    """
    dt = inputs.dt_hours
    s = fleet.summary["value"]
    cars = list(fleet.vehicles.index)
    flexible_kw = vehicle_charge_kw.reindex(columns=cars).fillna(0.0).to_numpy(float).sum(axis=1)
    kept_kw = fleet.fixed_charge_kw.to_numpy(float).sum(axis=1)
    planned_kw = flexible_kw + kept_kw
    simulated_kw = fleet.simulated_charge_kw.to_numpy(float).sum(axis=1)
    pv_kw = float(pv_kw_built) * inputs.pv_kw_per_kw.to_numpy(float)
    price = inputs.import_price_per_kwh.to_numpy(float)

    def pv_and_cost(kw: np.ndarray) -> tuple[float, float]:
        fed = np.minimum(pv_kw, kw)
        return float(fed.sum() * dt), float(((kw - fed) * price).sum() * dt)

    plan_pv, plan_cost = pv_and_cost(planned_kw)
    sim_pv, sim_cost = pv_and_cost(simulated_kw)
    plan_kwh, sim_kwh = float(planned_kw.sum() * dt), float(simulated_kw.sum() * dt)
    cur = inputs.currency
    sized = "fixed" if fleet.cars_fixed else "service level"
    rows = [
        ("fleet_cars", len(cars), "cars"),
        ("fleet_size_from", sized, "-"),
        ("service_level_target_fraction", fleet.service_level_target, "-"),
        ("picked_up_within_max_wait_fraction", float(s["picked_up_within_max_wait_fraction"]), "-"),
        ("max_wait_min", fleet.max_wait_min, "min"),
        ("empty_distance_fraction", float(s["empty_distance_fraction"]), "-"),
        ("simulated_days", fleet.simulated_days, "days"),
        ("repeated_days", f"{fleet.repeated_days[0]}-{fleet.repeated_days[1]}", "-"),
        ("energy_driven_kwh", float(fleet.assignment.bookings["trip_energy_kwh"].sum()), "kWh"),
        ("charging_planned_kwh", plan_kwh, "kWh"),
        ("charging_reoptimised_kwh", float(flexible_kw.sum() * dt), "kWh"),
        ("charging_kept_kwh", float(kept_kw.sum() * dt), "kWh"),
        ("charging_reoptimised_fraction", float(flexible_kw.sum()) / plan_kwh if plan_kwh else 0.0, "-"),
        ("charging_simulated_kwh", sim_kwh, "kWh"),
        ("charging_planned_pv_fraction", plan_pv / plan_kwh if plan_kwh else 0.0, "-"),
        ("charging_simulated_pv_fraction", sim_pv / sim_kwh if sim_kwh else 0.0, "-"),
        ("charging_planned_grid_cost", plan_cost, cur),
        ("charging_simulated_grid_cost", sim_cost, cur),
        ("charging_planned_grid_cost_per_kwh", plan_cost / plan_kwh if plan_kwh else 0.0, f"{cur}/kWh"),
        ("charging_simulated_grid_cost_per_kwh", sim_cost / sim_kwh if sim_kwh else 0.0, f"{cur}/kWh"),
        ("chargers", int(fleet.chargers.sum()), "chargers"),
    ]
    return pd.DataFrame(rows, columns=["figure", "value", "unit"]).set_index("figure")
