"""The charging schedule's linear programme, built with numpy/scipy and solved with HiGHS, decomposed where it can be.

One LP per group of stations that share nothing (no town-wide grid limit, no storage and no PV couples them: then
every station is its own group; otherwise the whole town is one group). Each group's LP:

Variables (per car v and step t): charging power c_{t,v} ≥ 0 at the plug [kW] (only while plugged in), energy after
the step e_{t,v} ∈ [reserve_v, usable_v] [kWh], the part of a booking's trip the car cannot carry s_{t,v} ∈ [0,
trip_{t,v}] [kWh] (weighted shortfall), the energy missing at the horizon's end u_v ≥ 0 [kWh]; per step (coupled
group only): grid import g_t ∈ [0, limit] [kW], PV used p_t ∈ [0, PV_t] [kW], storage charge/discharge [kW] and
energy [kWh].

    e_{t,v} = e_{t−1,v} + η_v c_{t,v} Δt − trip_{t,v} + s_{t,v}          (energy balance, e_{−1} = energy now)
    Σ_{v ∈ station} c_{t,v} ≤ min(chargers × charger power, connection)  (station)
    e_{T−1,v} + u_v ≥ terminal_v                                          (next day's bookings)
    g_t + p_t + dis_t − ch_t = Σ_v c_{t,v}                                (town bus; coupled group only)
    soc_t = k soc_{t−1} + η_ch ch_t Δt − dis_t Δt / η_dis                 (storage; k = self-discharge kept per step)

    k P ≥ Σ_{t ∈ interval i} g_t        (town meter's demand; a peak-demand contract, single meter only)
    k P_s ≥ Σ_{t ∈ i} Σ_{v ∈ s} c_{t,v}  (station meter's demand; per-site meters)

    min Σ_t Δt [(price_t + carbon price × EF_t) g_t − credit × p_t] + Σ w_{t,v} s_{t,v} + W_other Σ_v u_v
        + D P + Σ_s D_s P_s

with k the steps per 30-minute demand interval and D the basic charge × 12 months of the meter's peak-demand tariff
(the plan's ``Tariff-peak_demand``, :mod:`chisan.plan.tariff_constraints`; :mod:`chisan.service.site_prices`).

In a group without PV or storage g_t = Σ_v c_{t,v}, so the cost sits on the charging powers and the town's objective
is the sum of the groups' objectives (exact decomposition). There each station's meter may have its own price
(its site's tariff, :mod:`chisan.service.site_prices`): the cost of c_{t,v} is Δt × (price_{t,s(v)} + carbon price ×
EF_t). A coupled group has one bus and one grid import g_t, priced at the town's price (the service does not know
which meter the town's PV and storage are behind). The shortfall weights are larger than any energy cost,
so every kWh that can be delivered is delivered; bookings weigh more than the other needs (see
:func:`chisan.service.scheduler.shortfall_weights`).

HiGHS keeps the GIL while it solves, so a large town's groups are solved in two chunks on a process pool (both cores
of the service's machine), started once and reused.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import dataclasses
import multiprocessing
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp


@dataclass
class ChargingProblem:
    """The whole town's schedule problem as arrays (steps n, cars v, stations S).

    Attributes
    ----------
    dt_hours : float
        Step [h].
    plugged : np.ndarray of bool, (n, v)
    max_charge_kw, charge_efficiency, usable_kwh, reserve_kwh, energy0_kwh, terminal_kwh : np.ndarray, (v,)
        [kW], [-], [kWh], [kWh], [kWh], [kWh].
    trips_kwh : np.ndarray, (n, v)
        Energy leaving the battery at each booking's start [kWh].
    shortfall_weight_per_kwh : np.ndarray, (n, v)
        Cost of each kWh of a trip the car cannot carry [currency/kWh].
    terminal_weight_per_kwh : float
        Cost of each kWh missing at the horizon's end [currency/kWh].
    station : np.ndarray of int, (v,)
        Position of each car's station.
    station_limit_kw : np.ndarray, (S,)
        min(chargers × charger power, connection limit) [kW].
    energy_cost_per_kwh : np.ndarray, (n,)
        Import price + carbon price × emission factor [currency/kWh].
    station_energy_cost_per_kwh : np.ndarray, (n, S), or None
        The same at each station's meter (its site's tariff) [currency/kWh]; used in groups without PV, storage or
        a town-wide limit (module docstring); None = ``energy_cost_per_kwh`` at every station.
    pv_kw : np.ndarray, (n,)
        PV output available [kW].
    pv_credit_per_kwh : float
        [currency/kWh].
    grid_limit_kw : float or None
        Town's import limit [kW].
    storage_kwh, storage_kw : float
        Stationary storage [kWh], [kW] (0 = none).
    storage_charge_efficiency, storage_discharge_efficiency, storage_keep_per_step : float
        [-].
    storage_initial_kwh, storage_target_kwh : float
        Energy now and wanted at the end [kWh] (the target is soft, at ``terminal_weight_per_kwh``).
    demand_charge_per_kw : float
        Cost of each kW of the town bus's highest demand-interval mean import [currency/kW] (0 = none); ties the
        stations together.
    station_demand_charge_per_kw : np.ndarray, (S,), or None
        The same per station, on the mean of its cars' charging [currency/kW].
    demand_steps : int
        Steps per demand interval (2 at 15 min: :func:`chisan.plan.tariff_constraints.steps_per_interval`).
    demand_offset_steps : int
        Steps of the meter's demand interval already gone at the first step (1 for a 15-minute schedule starting
        at :15 or :45), so that the intervals lie on the meter's :00 and :30.
    demand_floor_kw : float
        The town meter's contract so far: the lower bound of P [kW] (its cost D × floor is a constant).
    station_demand_floor_kw : np.ndarray, (S,), or None
        The same per station [kW].
    """

    dt_hours: float
    plugged: np.ndarray
    max_charge_kw: np.ndarray
    charge_efficiency: np.ndarray
    usable_kwh: np.ndarray
    reserve_kwh: np.ndarray
    energy0_kwh: np.ndarray
    terminal_kwh: np.ndarray
    trips_kwh: np.ndarray
    shortfall_weight_per_kwh: np.ndarray
    terminal_weight_per_kwh: float
    station: np.ndarray
    station_limit_kw: np.ndarray
    energy_cost_per_kwh: np.ndarray
    pv_kw: np.ndarray
    pv_credit_per_kwh: float
    grid_limit_kw: float | None = None
    storage_kwh: float = 0.0
    storage_kw: float = 0.0
    storage_charge_efficiency: float = 0.95
    storage_discharge_efficiency: float = 0.95
    storage_keep_per_step: float = 1.0
    storage_initial_kwh: float = 0.0
    storage_target_kwh: float = 0.0
    station_energy_cost_per_kwh: np.ndarray | None = None
    demand_charge_per_kw: float = 0.0
    station_demand_charge_per_kw: np.ndarray | None = None
    demand_steps: int = 1
    demand_offset_steps: int = 0
    demand_floor_kw: float = 0.0
    station_demand_floor_kw: np.ndarray | None = None

    @property
    def coupled(self) -> bool:
        """A town-wide limit or resource (grid limit, storage, PV) ties the stations together."""
        return (
            self.grid_limit_kw is not None
            or (self.storage_kwh > 0 and self.storage_kw > 0)
            or bool((self.pv_kw > 0).any())
            or self.demand_charge_per_kw > 0
        )

    def groups(self) -> list[np.ndarray]:
        """Car positions of each independent group: one per station, or the whole town when coupled."""
        v = len(self.station)
        if self.coupled or v == 0:
            return [np.arange(v)]
        order = np.argsort(self.station, kind="stable")
        cuts = np.flatnonzero(np.diff(self.station[order])) + 1
        return np.split(order, cuts)


@dataclass
class ChargingSolution:
    """Optimal schedule of the town (all groups optimal), or why not.

    Attributes
    ----------
    status : str
        ``"optimal"`` or HiGHS's status of the first group that was not (``"time_limit"`` when the budget ran out).
    charge_kw, shortfall_kwh : np.ndarray, (n, v)
    terminal_shortfall_kwh : np.ndarray, (v,)
    storage_charge_kw, storage_discharge_kw : np.ndarray, (n,)
    objective : float
        Σ of the groups' objectives; in a decomposed town the PV credit is 0 (no PV) [currency].
    groups : int
        Number of LPs solved.
    """

    status: str
    charge_kw: np.ndarray | None = None
    shortfall_kwh: np.ndarray | None = None
    terminal_shortfall_kwh: np.ndarray | None = None
    storage_charge_kw: np.ndarray | None = None
    storage_discharge_kw: np.ndarray | None = None
    objective: float | None = None
    groups: int = 0


@dataclass
class _GroupLP:
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    matrix: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    charge_at: tuple[np.ndarray, np.ndarray]  # (t, local car) of each charging column
    short_at: tuple[np.ndarray, np.ndarray]
    offsets: dict[str, int]


def build_group_lp(problem: ChargingProblem, cars: np.ndarray, *, town: bool) -> _GroupLP:
    """The LP of the cars ``cars`` (with the town's variables when ``town``), as sparse arrays; no loops over time."""
    n = problem.plugged.shape[0]
    m = len(cars)
    dt = problem.dt_hours
    plug = problem.plugged[:, cars] & (problem.max_charge_kw[cars] > 0)[None, :]
    trips = problem.trips_kwh[:, cars]
    eta = problem.charge_efficiency[cars]
    ct, cj = np.nonzero(plug)
    st, sj = np.nonzero(trips > 0)
    n_e, n_c, n_s = n * m, len(ct), len(st)
    o_c, o_s, o_u = n_e, n_e + n_c, n_e + n_c + n_s
    o_town = o_u + m
    storage = town and problem.storage_kwh > 0 and problem.storage_kw > 0
    has_pv = town and bool((problem.pv_kw > 0).any())
    # town columns: grid (n), pv (n, if any), storage charge, discharge, energy (n each) and its target shortfall (1)
    o_g = o_town
    o_p = o_g + (n if town else 0)
    o_ch = o_p + (n if has_pv else 0)
    o_dis = o_ch + (n if storage else 0)
    o_soc = o_dis + (n if storage else 0)
    o_us = o_soc + (n if storage else 0)
    o_pk = o_us + (1 if storage else 0)
    town_peak = town and problem.demand_charge_per_kw > 0
    # one peak column per station of the group whose meter bills its highest demand
    local_station = problem.station[cars]
    ids, pos = np.unique(local_station, return_inverse=True)
    rate = problem.station_demand_charge_per_kw
    peaked = np.flatnonzero(rate[ids] > 0) if rate is not None else np.zeros(0, dtype=int)
    o_spk = o_pk + int(town_peak)
    n_cols = o_spk + len(peaked)

    cost = np.zeros(n_cols)
    lower = np.zeros(n_cols)
    upper = np.full(n_cols, np.inf)
    lower[:n_e] = np.tile(problem.reserve_kwh[cars], n)
    upper[:n_e] = np.tile(problem.usable_kwh[cars], n)
    upper[o_c:o_s] = problem.max_charge_kw[cars][cj]
    upper[o_s:o_u] = trips[st, sj]
    cost[o_s:o_u] = problem.shortfall_weight_per_kwh[:, cars][st, sj]
    cost[o_u:o_town] = problem.terminal_weight_per_kwh
    if town:
        cost[o_g : o_g + n] = dt * problem.energy_cost_per_kwh
        if problem.grid_limit_kw is not None:
            upper[o_g : o_g + n] = problem.grid_limit_kw
        if has_pv:
            cost[o_p : o_p + n] = -dt * problem.pv_credit_per_kwh
            upper[o_p : o_p + n] = problem.pv_kw
        if storage:
            upper[o_ch : o_ch + n] = problem.storage_kw
            upper[o_dis : o_dis + n] = problem.storage_kw
            upper[o_soc : o_soc + n] = problem.storage_kwh
            cost[o_us] = problem.terminal_weight_per_kwh
        if town_peak:
            cost[o_pk] = problem.demand_charge_per_kw
            lower[o_pk] = problem.demand_floor_kw
    elif problem.station_energy_cost_per_kwh is not None:  # each car pays its station's meter's price
        cost[o_c:o_s] = dt * problem.station_energy_cost_per_kwh[ct, problem.station[cars][cj]]
    else:  # no PV, no storage, no limit: grid import = charging, its cost sits on the charging powers
        cost[o_c:o_s] = dt * problem.energy_cost_per_kwh[ct]
    if len(peaked):
        cost[o_spk:n_cols] = rate[ids[peaked]]
        if problem.station_demand_floor_kw is not None:
            lower[o_spk:n_cols] = problem.station_demand_floor_kw[ids[peaked]]

    rows, cols, vals = [], [], []
    # energy balance, row t*m + j: e_t − e_{t−1} − η Δt c_t − s_t = −trip_t (+ e_0 at t = 0)
    e_idx = np.arange(n_e)
    rows += [e_idx, e_idx[m:], ct * m + cj, st * m + sj]
    cols += [e_idx, e_idx[:-m] if m else e_idx[:0], o_c + np.arange(n_c), o_s + np.arange(n_s)]
    vals += [np.ones(n_e), -np.ones(n_e - m), -eta[cj] * dt, -np.ones(n_s)]
    rhs = -trips.ravel().astype(float)
    rhs[:m] += problem.energy0_kwh[cars]
    row_lower, row_upper = [rhs], [rhs]
    r = n_e
    # station limits, only where the cars could exceed them
    possible = np.bincount(pos, weights=problem.max_charge_kw[cars], minlength=len(ids))
    limit = problem.station_limit_kw[ids]
    binding = np.flatnonzero(limit < possible - 1e-9)
    if len(binding):
        which = np.full(len(ids), -1)
        which[binding] = np.arange(len(binding))
        k = which[pos[cj]]
        keep = k >= 0
        rows.append(r + ct[keep] * len(binding) + k[keep])
        cols.append(o_c + np.flatnonzero(keep))
        vals.append(np.ones(int(keep.sum())))
        row_lower.append(np.full(n * len(binding), -np.inf))
        row_upper.append(np.tile(limit[binding], n))
        r += n * len(binding)
    # terminal energy: e_{T−1} + u ≥ terminal
    if m:
        rows += [r + np.arange(m), r + np.arange(m)]
        cols += [(n - 1) * m + np.arange(m), o_u + np.arange(m)]
        vals += [np.ones(m), np.ones(m)]
        row_lower.append(problem.terminal_kwh[cars].astype(float))
        row_upper.append(np.full(m, np.inf))
        r += m
    if town:
        # bus: g + p + dis − ch − Σ c = 0
        t = np.arange(n)
        rows += [r + t, r + ct]
        cols += [o_g + t, o_c + np.arange(n_c)]
        vals += [np.ones(n), -np.ones(n_c)]
        if has_pv:
            rows.append(r + t)
            cols.append(o_p + t)
            vals.append(np.ones(n))
        if storage:
            rows += [r + t, r + t]
            cols += [o_dis + t, o_ch + t]
            vals += [np.ones(n), -np.ones(n)]
        row_lower.append(np.zeros(n))
        row_upper.append(np.zeros(n))
        r += n
        if storage:
            # soc_t − k soc_{t−1} − η_ch Δt ch_t + Δt/η_dis dis_t = k soc_0 (t = 0)
            k = problem.storage_keep_per_step
            rows += [r + t, r + t[1:], r + t, r + t]
            cols += [o_soc + t, o_soc + t[:-1], o_ch + t, o_dis + t]
            vals += [np.ones(n), -k * np.ones(n - 1), -problem.storage_charge_efficiency * dt * np.ones(n)]
            vals.append(dt / problem.storage_discharge_efficiency * np.ones(n))
            b = np.zeros(n)
            b[0] = k * problem.storage_initial_kwh
            row_lower.append(b)
            row_upper.append(b)
            r += n
            rows += [np.array([r, r])]
            cols += [np.array([o_soc + n - 1, o_us])]
            vals += [np.ones(2)]
            row_lower.append(np.array([problem.storage_target_kwh]))
            row_upper.append(np.array([np.inf]))
            r += 1
    k = max(1, int(problem.demand_steps))
    shift = int(problem.demand_offset_steps) % k
    interval = (np.arange(n) + shift) // k  # the meter's interval of each step
    n_int = int(interval[-1]) + 1 if n else 0
    if town_peak:  # Σ_{t ∈ i} g_t − k P ≤ 0 for every demand interval i
        t = np.arange(n)
        rows += [r + interval, r + np.arange(n_int)]
        cols += [o_g + t, np.full(n_int, o_pk)]
        vals += [np.ones(n), -k * np.ones(n_int)]
        row_lower.append(np.full(n_int, -np.inf))
        row_upper.append(np.zeros(n_int))
        r += n_int
    if len(peaked):  # Σ_{t ∈ i} Σ_{v ∈ s} c_{t,v} − k P_s ≤ 0 for every interval i and billed station s
        which = np.full(len(ids), -1)
        which[peaked] = np.arange(len(peaked))
        s_of = which[pos[cj]]
        keep = s_of >= 0
        rows.append(r + interval[ct[keep]] * len(peaked) + s_of[keep])
        cols.append(o_c + np.flatnonzero(keep))
        vals.append(np.ones(int(keep.sum())))
        cells = np.arange(n_int * len(peaked))
        rows.append(r + cells)
        cols.append(o_spk + cells % len(peaked))
        vals.append(-k * np.ones(len(cells)))
        row_lower.append(np.full(len(cells), -np.inf))
        row_upper.append(np.zeros(len(cells)))
        r += len(cells)
    matrix = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n_cols), dtype=float
    )
    offsets = {"c": o_c, "s": o_s, "u": o_u, "ch": o_ch, "dis": o_dis, "storage": int(storage)}
    return _GroupLP(
        cost, lower, upper, matrix, np.concatenate(row_lower), np.concatenate(row_upper), (ct, cj), (st, sj), offsets
    )


PRESOLVE_BELOW_COLUMNS = 20_000
"""Smaller LPs are solved without presolve: for a station's LP (≈ 3,000 columns) HiGHS's presolve takes longer than
the simplex itself (measured 15 ms with, 7 ms without, same objective) [-]."""


def _run_highs(lp: _GroupLP, time_limit_s: float) -> tuple[str, np.ndarray | None, float | None]:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    if lp.matrix.shape[1] < PRESOLVE_BELOW_COLUMNS:
        h.setOptionValue("presolve", "off")
    h.setOptionValue("time_limit", float(max(time_limit_s, 1e-3)))
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.matrix.shape[1], lp.matrix.shape[0]
    model.col_cost_, model.col_lower_, model.col_upper_ = lp.cost, lp.lower, lp.upper
    model.row_lower_, model.row_upper_ = lp.row_lower, lp.row_upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = lp.matrix.indptr
    model.a_matrix_.index_ = lp.matrix.indices
    model.a_matrix_.value_ = lp.matrix.data
    h.passModel(model)
    h.run()
    status = h.getModelStatus()
    text = {
        highspy.HighsModelStatus.kOptimal: "optimal",
        highspy.HighsModelStatus.kTimeLimit: "time_limit",
        highspy.HighsModelStatus.kInfeasible: "infeasible",
    }.get(status, h.modelStatusToString(status).lower().replace(" ", "_"))
    if text != "optimal":
        return text, None, None
    return text, np.asarray(h.getSolution().col_value), float(h.getInfo().objective_function_value)


POOL_MIN_CARS = 300
"""Towns with at least this many cars in more than one group are solved on a process pool [-]: HiGHS holds the GIL
while it solves (threads measured no faster: 0.70 s one thread, 0.71 s two, for 100 station LPs), and below this
size the pool's hand-over costs more than the second core saves."""

_POOL: concurrent.futures.ProcessPoolExecutor | None = None


def _pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """The module's process pool, started once (forkserver: safe in the threaded service) and then reused."""
    global _POOL
    if _POOL is None or _POOL._max_workers != workers:  # the executor keeps no public size
        _POOL = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
        )
    return _POOL


def subset(problem: ChargingProblem, cars: np.ndarray) -> ChargingProblem:
    """The problem of the cars ``cars`` only (for a group that shares nothing with the others)."""
    per_car = ("max_charge_kw", "charge_efficiency", "usable_kwh", "reserve_kwh", "energy0_kwh", "terminal_kwh")
    per_cell = ("plugged", "trips_kwh", "shortfall_weight_per_kwh")
    changes = {k: getattr(problem, k)[cars] for k in (*per_car, "station")}
    changes |= {k: getattr(problem, k)[:, cars] for k in per_cell}
    return dataclasses.replace(problem, **changes)


def _solve_groups(problem: ChargingProblem, groups: list[np.ndarray], deadline: float, town: bool) -> dict:
    """Build and solve ``groups`` one after the other; stops at the first that is not optimal or at the deadline."""
    n, v = problem.plugged.shape
    out = {
        "charge": np.zeros((n, v)),
        "short": np.zeros((n, v)),
        "terminal_short": np.zeros(v),
        "storage_ch": np.zeros(n),
        "storage_dis": np.zeros(n),
        "objective": 0.0,
        "status": "optimal",
    }
    for cars in groups:
        if time.perf_counter() >= deadline:
            out["status"] = "time_limit"
            return out
        lp = build_group_lp(problem, cars, town=town)
        left = deadline - time.perf_counter()
        if left <= 0:
            out["status"] = "time_limit"
            return out
        status, x, obj = _run_highs(lp, left)
        if x is None:
            out["status"] = status
            return out
        o = lp.offsets
        ct, cj = lp.charge_at
        st, sj = lp.short_at
        out["charge"][ct, cars[cj]] = x[o["c"] : o["s"]]
        out["short"][st, cars[sj]] = x[o["s"] : o["u"]]
        out["terminal_short"][cars] = x[o["u"] : o["u"] + len(cars)]
        if o["storage"]:
            out["storage_ch"] = x[o["ch"] : o["ch"] + n]
            out["storage_dis"] = x[o["dis"] : o["dis"] + n]
        out["objective"] += obj
    return out


def solve_charging(problem: ChargingProblem, *, deadline: float, workers: int = 2) -> ChargingSolution:
    """Solve every group's LP before ``deadline`` (a :func:`time.perf_counter` value: the system's monotonic clock,
    the same in every process) and put the town together.

    A large town of independent groups is split into ``workers`` chunks of about equal car counts, solved on the
    process pool (:data:`POOL_MIN_CARS`); otherwise the groups are solved here, one after the other.
    """
    n, v = problem.plugged.shape
    town = problem.coupled
    groups = problem.groups()
    if workers > 1 and len(groups) > 1 and v >= POOL_MIN_CARS:
        sizes = np.cumsum([len(g) for g in groups])
        cut = np.searchsorted(sizes, v * np.arange(1, workers) / workers)
        jobs = []
        for chunk in np.split(np.arange(len(groups)), cut):
            if not len(chunk):
                continue
            cars = np.concatenate([groups[k] for k in chunk])
            start = np.cumsum([0] + [len(groups[k]) for k in chunk])
            local = [np.arange(start[i], start[i + 1]) for i in range(len(chunk))]
            jobs.append((cars, _pool(workers).submit(_solve_groups, subset(problem, cars), local, deadline, town)))
        parts = []
        try:
            for cars, job in jobs:  # each worker stops at the deadline itself; the margin covers the hand-back
                parts.append((cars, job.result(timeout=max(0.0, deadline - time.perf_counter()) + 1.0)))
        except concurrent.futures.TimeoutError:
            return ChargingSolution(status="time_limit", groups=len(groups))
        except concurrent.futures.process.BrokenProcessPool:
            global _POOL
            _POOL = None  # a worker died (killed, out of memory): start a fresh pool next time
            raise
        out = {"status": next((p["status"] for _, p in parts if p["status"] != "optimal"), "optimal")}
        out["charge"], out["short"], out["terminal_short"] = np.zeros((n, v)), np.zeros((n, v)), np.zeros(v)
        for cars, p in parts:
            out["charge"][:, cars] = p["charge"]
            out["short"][:, cars] = p["short"]
            out["terminal_short"][cars] = p["terminal_short"]
        out["storage_ch"], out["storage_dis"] = np.zeros(n), np.zeros(n)
        out["objective"] = sum(p["objective"] for _, p in parts)
    else:
        out = _solve_groups(problem, groups, deadline, town)
    if out["status"] != "optimal":
        return ChargingSolution(status=out["status"], groups=len(groups))
    return ChargingSolution(
        status="optimal",
        charge_kw=out["charge"],
        shortfall_kwh=out["short"],
        terminal_shortfall_kwh=out["terminal_short"],
        storage_charge_kw=out["storage_ch"],
        storage_discharge_kw=out["storage_dis"],
        objective=out["objective"],
        groups=len(groups),
    )
