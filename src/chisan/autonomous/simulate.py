"""Per-minute simulation of an autonomous shared fleet, vectorised over cars.

The fleet is NumPy arrays (state, position, leg end, battery energy, home site …), one entry per car; time
advances in batches of ``step_min`` minutes, and in every batch, in this order:

1. legs that have ended move their cars on (to pick-up → with rider → idle at the destination; repositioning
   → idle; to charger → charging);
2. charging cars gain ``min(P · η · Δt, usable − E)`` [kWh]; each stops at its target (:mod:`.charging`);
3. requests asked in the batch join the queue; requests waiting longer than ``give_up_min`` leave unserved;
4. dispatch (:mod:`.dispatch`) matches waiting requests to idle or charging cars that hold the energy for the
   pick-up, the ride and the way back to their charger plus the reserve; the energy of a leg leaves the
   battery when the leg starts (so the energy is never below the reserve);
5. charging decisions (need, PV surplus, cheap price; :mod:`.charging`);
6. every ``rebalance_every_min``, the zone rebalancing LP (:mod:`.rebalancing`) sends idle cars towards the
   zones of the coming hour's expected demand (the requests' own zone × hour-of-day profile).

Car states: :data:`STATES`. A car is *plugged* while it is parked at its home site (idle or charging): that is
the window the plan may charge it in (:mod:`.export`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chisan.autonomous.charging import ChargingPolicy, cheap_price, need_kwh, opportunistic_slots
from chisan.autonomous.dispatch import assign_batch
from chisan.autonomous.rebalancing import RebalancingLP, desired_vehicles
from chisan.autonomous.requests import Requests
from chisan.autonomous.travel import TravelModel
from chisan.autonomous.zones import ZoneGrid
from chisan.exceptions import ScenarioError

STATES: tuple[str, ...] = ("idle", "to_pickup", "with_rider", "repositioning", "to_charger", "charging")
"""Car states, by code 0-5."""
IDLE, TO_PICKUP, WITH_RIDER, REPOSITIONING, TO_CHARGER, CHARGING = range(6)

LEG_KINDS: tuple[str, ...] = ("pickup", "ride", "reposition", "to_charger")
"""Kinds of leg in :attr:`SimulationResult.legs`; every kind but ``ride`` is empty driving."""

_EPS = 1e-9


@dataclass(frozen=True)
class FleetConfig:
    """The fleet and its operation.

    Attributes
    ----------
    cars : int
        Fleet size.
    usable_kwh : float
        Usable battery per car [kWh] (default: Nissan Sakura, 20 kWh).
    reserve_kwh : float
        Energy never used for driving [kWh].
    consumption_kwh_per_km : float
        Battery-side consumption [kWh/km] (default: the Sakura's 124 Wh/km at the plug × 0.9).
    charge_power_kw : float
        Charging power at the plug [kW] (default: the Sakura's 3 kW on-board charger).
    charge_efficiency : float
        Plug to battery [-].
    step_min : float
        Batch length [min].
    give_up_min : float
        A request not matched within this wait leaves unserved [min].
    max_pickup_min : float
        Longest pick-up drive dispatch may assign [min].
    rebalance_every_min : float
        Rebalancing period [min]; 0 = no rebalancing.
    rebalance_horizon_min : float or None
        Cap the desired cars of a zone at the riders expected there in this time [min] (the mean of the zone's
        requests in the hour of day); None = Pavone et al.'s rule alone, which spreads *every* idle car over the
        zones and so drives many empty kilometres when the fleet is large.
    travel : TravelModel
    charging : ChargingPolicy
    """

    cars: int
    usable_kwh: float = 20.0
    reserve_kwh: float = 2.0
    consumption_kwh_per_km: float = 0.124 * 0.9
    charge_power_kw: float = 3.0
    charge_efficiency: float = 0.9
    step_min: float = 1.0
    give_up_min: float = 30.0
    max_pickup_min: float = 30.0
    rebalance_every_min: float = 15.0
    rebalance_horizon_min: float | None = 30.0
    travel: TravelModel = field(default_factory=TravelModel)
    charging: ChargingPolicy = field(default_factory=ChargingPolicy)

    def __post_init__(self) -> None:
        rules = [
            ("cars", self.cars, isinstance(self.cars, int | np.integer) and self.cars >= 1, "an integer ≥ 1"),
            ("usable_kwh", self.usable_kwh, self.usable_kwh > 0, "> 0 [kWh]"),
            ("reserve_kwh", self.reserve_kwh, 0 <= self.reserve_kwh < self.usable_kwh, "≥ 0 and < usable_kwh"),
            ("consumption_kwh_per_km", self.consumption_kwh_per_km, self.consumption_kwh_per_km > 0, "> 0"),
            ("charge_power_kw", self.charge_power_kw, self.charge_power_kw > 0, "> 0 [kW]"),
            ("charge_efficiency", self.charge_efficiency, 0 < self.charge_efficiency <= 1, "in (0, 1]"),
            ("step_min", self.step_min, 0 < self.step_min <= 15, "in (0, 15] [min]"),
            ("give_up_min", self.give_up_min, self.give_up_min > 0, "> 0 [min]"),
            ("max_pickup_min", self.max_pickup_min, self.max_pickup_min > 0, "> 0 [min]"),
            ("rebalance_every_min", self.rebalance_every_min, self.rebalance_every_min >= 0, "≥ 0 [min]"),
        ]
        for name, value, ok, allowed in rules:
            if not ok:
                raise ScenarioError(f"autonomous fleet: {name} = {value!r} is not allowed; it must be {allowed}")


@dataclass
class SimulationResult:
    """What a simulation did.

    Attributes
    ----------
    config : FleetConfig
    requests : Requests
    sites : pd.DataFrame
        Index site name; ``x_km``, ``y_km``.
    car_site : np.ndarray of int
        Home site of each car (position in ``sites``).
    step_min : float
        Batch length [min]; row k of the per-step arrays is [k·step, (k+1)·step).
    state : np.ndarray of int8, shape (steps, cars)
        State code (:data:`STATES`) at the end of each step.
    plugged : np.ndarray of bool, shape (steps, cars)
        Parked at the home site (idle or charging) at the end of each step.
    charging_kw : np.ndarray, shape (steps, sites)
        Plug power drawn at each site [kW].
    pv_kw : np.ndarray, shape (steps,)
        PV output available to the chargers [kW].
    price_per_kwh : np.ndarray, shape (steps,)
        Grid price [currency/kWh].
    car_of_request : np.ndarray of int
        Car that served each request; −1 = unserved.
    wait_min : np.ndarray
        Assignment-to-pick-up wait from the request time [min]; NaN = unserved.
    legs : pd.DataFrame
        One row per driven leg: ``car``, ``start_min``, ``end_min``, ``distance_km`` [km], ``energy_kwh``
        [kWh, battery side], ``kind`` (:data:`LEG_KINDS`), ``request`` (position, −1 for empty legs).
    energy_start_kwh, energy_end_kwh : np.ndarray
        Battery energy of each car at the start and at the end [kWh].
    min_energy_kwh : float
        Lowest battery energy of any car at any step [kWh].
    charged_kwh : np.ndarray
        Energy into each car's battery over the run [kWh].
    rebalancing_solves : int
        Times the LP was solved.
    charges : pd.DataFrame or None
        One row per car and step it charged in: ``car``, ``step`` (row; the charge is added during
        ``[step · step_min, (step + 1) · step_min)``), ``energy_kwh`` [kWh, battery side]; sums to
        :attr:`charged_kwh` per car.
    """

    config: FleetConfig
    requests: Requests
    sites: pd.DataFrame
    car_site: np.ndarray
    step_min: float
    state: np.ndarray
    plugged: np.ndarray
    charging_kw: np.ndarray
    pv_kw: np.ndarray
    price_per_kwh: np.ndarray
    car_of_request: np.ndarray
    wait_min: np.ndarray
    legs: pd.DataFrame
    energy_start_kwh: np.ndarray
    energy_end_kwh: np.ndarray
    min_energy_kwh: float
    charged_kwh: np.ndarray
    rebalancing_solves: int = 0
    charges: pd.DataFrame | None = None

    @property
    def n_steps(self) -> int:
        """Number of steps simulated."""
        return self.state.shape[0]

    @property
    def origin(self) -> pd.Timestamp:
        """Time zero."""
        return self.requests.origin


def _per_step(values: np.ndarray | float | None, n_steps: int, name: str) -> np.ndarray:
    if values is None:
        return np.zeros(n_steps)
    arr = np.broadcast_to(np.asarray(values, dtype=float), (n_steps,)).copy() if np.ndim(values) == 0 else None
    if arr is None:
        arr = np.asarray(values, dtype=float)
        if arr.shape != (n_steps,):
            raise ScenarioError(f"simulate: {name} has {arr.size} values; give one per step ({n_steps})")
    if not np.all(np.isfinite(arr)):
        raise ScenarioError(f"simulate: {name} holds non-finite values")
    return arr


def expected_demand_per_hour(requests: Requests, grid: ZoneGrid) -> np.ndarray:
    """Mean requests starting in each zone in each hour of day [requests/h], shape (24, zones)."""
    zone = grid.zone_of(requests.origin_x_km, requests.origin_y_km)
    hour = (requests.time_min // 60).astype(np.int64) % 24
    counts = np.bincount(hour * grid.n_zones + zone, minlength=24 * grid.n_zones).reshape(24, grid.n_zones)
    days = max(1.0, math.ceil((float(requests.time_min.max()) + 1e-9) / 1440.0)) if len(requests) else 1.0
    return counts / days


def expected_demand_share(requests: Requests, grid: ZoneGrid) -> np.ndarray:
    """Share of requests starting in each zone, by hour of day [-], shape (24, zones); an hour without
    requests gets the all-day share."""
    zone = grid.zone_of(requests.origin_x_km, requests.origin_y_km)
    hour = (requests.time_min // 60).astype(np.int64) % 24
    counts = np.bincount(hour * grid.n_zones + zone, minlength=24 * grid.n_zones).reshape(24, grid.n_zones)
    counts = counts.astype(float)
    total = counts.sum(axis=0)
    empty = counts.sum(axis=1) == 0
    counts[empty] = total if total.sum() > 0 else 1.0
    return counts / counts.sum(axis=1, keepdims=True)


def simulate(
    requests: Requests,
    grid: ZoneGrid,
    sites: pd.DataFrame,
    config: FleetConfig,
    *,
    horizon_min: float,
    seed: int,
    pv_kw: np.ndarray | float | None = None,
    price_per_kwh: np.ndarray | float | None = None,
    progress: Callable[[float], None] | None = None,
) -> SimulationResult:
    """Simulate the fleet over ``[0, horizon_min)`` (see the module docstring).

    Parameters
    ----------
    requests : Requests
        Requests; those asked at or after ``horizon_min`` are ignored.
    grid : ZoneGrid
        Service area.
    sites : pd.DataFrame
        Charger sites: index name, columns ``x_km``, ``y_km`` [km]; cars are spread over them in turn.
    config : FleetConfig
    horizon_min : float
        Length simulated [min].
    seed : int
        Seed of the initial state of charge (uniform between the charging target and full); same seed, same run.
    pv_kw : array (one value per step) or float, optional
        PV output available to the chargers [kW]; default 0.
    price_per_kwh : array (one value per step) or float, optional
        Grid price [currency/kWh]; default 0. A constant price is never "cheap" (:mod:`.charging`, rule 3).
    progress : callable, optional
        Called with the fraction done every 5 % of the steps.

    Returns
    -------
    SimulationResult
    """
    cfg = config
    pol = cfg.charging
    travel = cfg.travel
    if len(sites) == 0:
        raise ScenarioError("simulate: there are no charger sites; give at least one station with a position")
    if not horizon_min > 0:
        raise ScenarioError(f"simulate: horizon_min = {horizon_min} must be > 0")
    dt = float(cfg.step_min)
    n_steps = math.ceil(horizon_min / dt - _EPS)
    pv = _per_step(pv_kw, n_steps, "pv_kw")
    price = _per_step(price_per_kwh, n_steps, "price_per_kwh")
    cheap = cheap_price(price, pol.cheap_price_quantile) if np.ptp(price) > 0 else -math.inf

    n = int(cfg.cars)
    rng = np.random.default_rng(seed)
    site_x = sites["x_km"].to_numpy(float)
    site_y = sites["y_km"].to_numpy(float)
    n_sites = len(sites)
    car_site = np.arange(n) % n_sites
    x = site_x[car_site].copy()
    y = site_y[car_site].copy()
    c = cfg.consumption_kwh_per_km
    usable = cfg.usable_kwh
    energy = usable * (pol.soc_target_fraction + (1 - pol.soc_target_fraction) * rng.random(n))
    energy_start = energy.copy()
    state = np.full(n, IDLE, dtype=np.int8)
    at_site = np.ones(n, dtype=bool)
    leg_end = np.full(n, np.inf)
    tx = x.copy()  # target of the current leg
    ty = y.copy()
    ride_end = np.full(n, np.inf)  # when the current rider is dropped
    rx = x.copy()  # rider's destination
    ry = y.copy()
    charge_to = np.zeros(n)  # target energy of the current charge [kWh]
    charged = np.zeros(n)
    diagonal = math.hypot(grid.width_km, grid.height_km)
    need = need_kwh(
        reserve_kwh=cfg.reserve_kwh, consumption_kwh_per_km=c, diagonal_km=diagonal, circuity=travel.circuity,
        need_km=pol.need_km,
    )  # fmt: skip
    need = min(need, pol.soc_target_fraction * usable)
    plug_kw_per_car = cfg.charge_power_kw

    keep = requests.time_min < horizon_min
    req = requests.subset(keep) if not keep.all() else requests
    m = len(req)
    rq_t = req.time_min
    rq_ox, rq_oy = req.origin_x_km, req.origin_y_km
    rq_dx, rq_dy = req.destination_x_km, req.destination_y_km
    rq_km = req.trip_km(travel)
    # road distance from each destination to each site [km] (the way home to a car's charger)
    back_km = travel.distance_km(rq_dx[:, None], rq_dy[:, None], site_x[None, :], site_y[None, :])
    car_of = np.full(m, -1, dtype=np.int64)
    wait = np.full(m, np.nan)
    waiting = np.zeros(0, dtype=np.int64)
    next_req = 0

    zcx, zcy = grid.centres_km()
    share = expected_demand_share(req, grid) if m else np.full((24, grid.n_zones), 1.0 / grid.n_zones)
    per_hour = expected_demand_per_hour(req, grid) if m else np.zeros((24, grid.n_zones))
    lp = None
    if cfg.rebalance_every_min > 0 and grid.n_zones > 1:
        lp = RebalancingLP(travel.distance_km(zcx[:, None], zcy[:, None], zcx[None, :], zcy[None, :]))
    rebalance_steps = max(1, round(cfg.rebalance_every_min / dt)) if lp is not None else 0
    solves = 0
    zone_back_km = travel.distance_km(zcx[:, None], zcy[:, None], site_x[None, :], site_y[None, :])

    rec_state = np.empty((n_steps, n), dtype=np.int8)
    rec_plugged = np.empty((n_steps, n), dtype=bool)
    rec_charge = np.zeros((n_steps, n_sites))
    min_energy = float(energy.min())
    legs: list[tuple[np.ndarray, ...]] = []
    gains: list[tuple[np.ndarray, ...]] = []  # (step, car, kWh) of every charging car in every step
    report_every = max(1, n_steps // 20)

    def start_leg(cars: np.ndarray, t0: float, km: np.ndarray, kind: int, request: np.ndarray | None = None):
        minutes = travel.minutes(km, t0 % 1440.0)
        energy[cars] -= km * c
        at_site[cars] = False
        legs.append((cars, np.full(len(cars), t0), t0 + minutes, km, km * c, np.full(len(cars), kind),
                     request if request is not None else np.full(len(cars), -1)))  # fmt: skip
        return minutes

    for k in range(n_steps):
        t = k * dt
        t_end = t + dt
        tod = t % 1440.0
        # 1. legs ending by the end of this step (two passes: a pick-up and a short ride may both end)
        for _ in range(2):
            done = leg_end <= t_end + _EPS
            if not done.any():
                break
            s = state[done]
            cars = np.flatnonzero(done)
            x[cars], y[cars] = tx[cars], ty[cars]
            pick = cars[s == TO_PICKUP]
            state[pick] = WITH_RIDER
            tx[pick], ty[pick] = rx[pick], ry[pick]
            leg_end[pick] = ride_end[pick]
            free = cars[(s == WITH_RIDER) | (s == REPOSITIONING)]
            state[free] = IDLE
            leg_end[free] = np.inf
            arrive = cars[s == TO_CHARGER]
            state[arrive] = CHARGING
            at_site[arrive] = True
            leg_end[arrive] = np.inf
        # 2. charging
        surplus_kw = pv[k]
        is_cheap = price[k] <= cheap
        ch = np.flatnonzero(state == CHARGING)
        if len(ch):
            add = np.minimum(plug_kw_per_car * cfg.charge_efficiency * dt / 60.0, np.maximum(usable - energy[ch], 0))
            energy[ch] += add
            charged[ch] += add
            gains.append((np.full(len(ch), k), ch, add))
            rec_charge[k] = np.bincount(car_site[ch], weights=add / cfg.charge_efficiency / (dt / 60.0),
                                        minlength=n_sites)  # fmt: skip
            surplus_kw = pv[k] - rec_charge[k].sum()
            full_target = (surplus_kw > 0) | is_cheap
            target = np.where(full_target, pol.soc_full_fraction * usable, charge_to[ch])
            stop = energy[ch] >= np.minimum(target, usable) - 1e-6
            state[ch[stop]] = IDLE
        # 3. requests
        last = int(np.searchsorted(rq_t, t_end + _EPS, side="right"))
        if last > next_req:
            waiting = np.concatenate([waiting, np.arange(next_req, last)])
            next_req = last
        if len(waiting):
            waiting = waiting[t_end - rq_t[waiting] <= cfg.give_up_min + _EPS]
        # 4. dispatch
        if len(waiting):
            cand = np.flatnonzero((state == IDLE) | (state == CHARGING))
            if len(cand):
                d_pick = travel.distance_km(x[cand][None, :], y[cand][None, :], rq_ox[waiting][:, None],
                                            rq_oy[waiting][:, None])  # fmt: skip
                need_trip = (d_pick + rq_km[waiting][:, None] + back_km[waiting][:, car_site[cand]]) * c
                feasible = energy[cand][None, :] - need_trip >= cfg.reserve_kwh - _EPS
                pickup_min = travel.minutes(d_pick, tod)
                waited = t_end - rq_t[waiting]
                rows, cols = assign_batch(pickup_min, waited, feasible, max_pickup_min=cfg.max_pickup_min)
                if len(rows):
                    r = waiting[rows]
                    cars = cand[cols]
                    t0 = np.full(len(r), t_end)  # a request asked mid-batch is matched at the batch's end
                    pm = start_leg(cars, t_end, d_pick[rows, cols], 0, r)
                    rm = start_leg(cars, t_end, rq_km[r], 1, r)
                    # the ride leg starts at the pick-up: shift its times
                    legs[-1] = (legs[-1][0], t0 + pm, t0 + pm + rm, *legs[-1][3:])
                    state[cars] = TO_PICKUP
                    tx[cars], ty[cars] = rq_ox[r], rq_oy[r]
                    rx[cars], ry[cars] = rq_dx[r], rq_dy[r]
                    leg_end[cars] = t0 + pm
                    ride_end[cars] = t0 + pm + rm
                    car_of[r] = cars
                    wait[r] = t0 + pm - rq_t[r]
                    taken = np.zeros(len(waiting), dtype=bool)
                    taken[rows] = True
                    waiting = waiting[~taken]
        # 5. charging decisions
        idle = state == IDLE
        low = np.flatnonzero(idle & (energy < need - _EPS))
        if len(low):
            charge_to[low] = pol.soc_target_fraction * usable
            here = low[at_site[low]]
            state[here] = CHARGING
            away = low[~at_site[low]]
            if len(away):
                km = travel.distance_km(x[away], y[away], site_x[car_site[away]], site_y[car_site[away]])
                mins = start_leg(away, t_end, km, 3)
                state[away] = TO_CHARGER
                tx[away], ty[away] = site_x[car_site[away]], site_y[car_site[away]]
                leg_end[away] = t_end + mins
        slots = opportunistic_slots(surplus_kw, plug_kw_per_car, bool(is_cheap))
        if slots is None or slots > 0:
            idle = np.flatnonzero(state == IDLE)
            near_km = travel.distance_km(x[idle], y[idle], site_x[car_site[idle]], site_y[car_site[idle]])
            ok = (near_km <= pol.opportunistic_km) & (energy[idle] < pol.opportunistic_below_fraction * usable)
            pick = idle[ok]
            km_pick = near_km[ok]
            if slots is not None and len(pick) > slots:
                order = np.argsort(energy[pick], kind="stable")[:slots]
                pick, km_pick = pick[order], km_pick[order]
            if len(pick):
                charge_to[pick] = pol.soc_full_fraction * usable
                here = at_site[pick]
                state[pick[here]] = CHARGING
                away = pick[~here]
                if len(away):
                    mins = start_leg(away, t_end, km_pick[~here], 3)
                    state[away] = TO_CHARGER
                    tx[away], ty[away] = site_x[car_site[away]], site_y[car_site[away]]
                    leg_end[away] = t_end + mins
        # 6. rebalancing
        if lp is not None and k % rebalance_steps == 0:
            movable = np.flatnonzero((state == IDLE) & (energy >= need))
            zone = grid.zone_of(x[movable], y[movable])
            idle_z = np.bincount(zone, minlength=grid.n_zones).astype(float)
            wait_z = np.bincount(grid.zone_of(rq_ox[waiting], rq_oy[waiting]), minlength=grid.n_zones)
            excess = idle_z - wait_z
            hour = int((t_end % 1440) // 60)
            desired = desired_vehicles(excess, share[hour])
            if cfg.rebalance_horizon_min is not None:
                # no more cars wanted in a zone than the riders expected there before the next rebalancing
                arrivals = per_hour[hour] * cfg.rebalance_horizon_min / 60.0
                desired = np.minimum(desired, np.ceil(arrivals - 1e-9))
            if excess.sum() > 0 and np.any(excess < desired):
                flows = lp.solve(excess, desired, idle_z)
                solves += 1
                src, dst = np.nonzero(flows)
                counts = flows[src, dst]
                if len(src):
                    order = np.lexsort((-energy[movable], zone))
                    by_zone = movable[order]
                    first = np.searchsorted(zone[order], np.arange(grid.n_zones), side="left")
                    # the cars of each source zone are handed to its arcs in turn
                    arc_offset = np.cumsum(counts) - counts
                    src_first_arc = np.searchsorted(src, src, side="left")
                    within = arc_offset - arc_offset[src_first_arc]
                    arc_of = np.repeat(np.arange(len(src)), counts)
                    slot = np.arange(counts.sum()) - np.repeat(arc_offset, counts) + np.repeat(within, counts)
                    cars = by_zone[first[src[arc_of]] + slot]
                    gx, gy = zcx[dst[arc_of]], zcy[dst[arc_of]]
                    km = travel.distance_km(x[cars], y[cars], gx, gy)
                    fits = energy[cars] - (km + zone_back_km[dst[arc_of], car_site[cars]]) * c >= cfg.reserve_kwh
                    cars, gx, gy, km = cars[fits], gx[fits], gy[fits], km[fits]
                    if len(cars):
                        mins = start_leg(cars, t_end, km, 2)
                        state[cars] = REPOSITIONING
                        tx[cars], ty[cars] = gx, gy
                        leg_end[cars] = t_end + mins
        rec_state[k] = state
        rec_plugged[k] = at_site & ((state == IDLE) | (state == CHARGING))
        min_energy = min(min_energy, float(energy.min()))
        if progress is not None and k % report_every == 0:
            progress(k / n_steps)
    if lp is not None:
        lp.close()
    if progress is not None:
        progress(1.0)

    if legs:
        cols = [np.concatenate([leg[i] for leg in legs]) for i in range(7)]
    else:
        cols = [
            np.zeros(0, dtype=np.int64),
            *[np.zeros(0)] * 4,
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
        ]
    leg_frame = pd.DataFrame(
        {
            "car": cols[0].astype(np.int64),
            "start_min": cols[1].astype(float),
            "end_min": cols[2].astype(float),
            "distance_km": cols[3].astype(float),
            "energy_kwh": cols[4].astype(float),
            "kind": pd.Categorical.from_codes(cols[5].astype(np.int64), categories=list(LEG_KINDS)),
            "request": cols[6].astype(np.int64),
        }
    ).sort_values(["start_min", "car"], kind="stable", ignore_index=True)
    full_car_of = np.full(len(requests), -1, dtype=np.int64)
    full_wait = np.full(len(requests), np.nan)
    kept = np.flatnonzero(keep)
    leg_frame["request"] = np.where(leg_frame["request"] >= 0, kept[np.maximum(leg_frame["request"], 0)], -1)
    full_car_of[kept] = car_of
    full_wait[kept] = wait
    return SimulationResult(
        config=cfg,
        requests=requests,
        sites=sites,
        car_site=car_site,
        step_min=dt,
        state=rec_state,
        plugged=rec_plugged,
        charging_kw=rec_charge,
        pv_kw=pv,
        price_per_kwh=price,
        car_of_request=full_car_of,
        wait_min=full_wait,
        legs=leg_frame,
        energy_start_kwh=energy_start,
        energy_end_kwh=energy.copy(),
        min_energy_kwh=min_energy,
        charged_kwh=charged,
        rebalancing_solves=solves,
        charges=pd.DataFrame(
            {
                "car": np.concatenate([g[1] for g in gains]).astype(np.int64) if gains else np.zeros(0, np.int64),
                "step": np.concatenate([g[0] for g in gains]).astype(np.int64) if gains else np.zeros(0, np.int64),
                "energy_kwh": np.concatenate([g[2] for g in gains]) if gains else np.zeros(0),
            }
        ),
    )
