"""The aggregate-fleet planning LP of :mod:`chisan.plan.model`, assembled directly as a sparse matrix for HiGHS.

A sweep solves two small LPs per municipality (sizing on typical days, then the year at those capacities), each
with the town's fleet as one battery. :func:`chisan.plan.model.build_model` builds them with linopy, whose
labelled-array bookkeeping costs ≈ 0.3–1 s per model, as much as HiGHS needs to solve them; over 1,741
municipalities that alone is 10–30 core-minutes. :func:`solve_aggregate` builds the same rows and columns with
numpy and scipy.sparse in milliseconds and hands them to highspy.

It is the formulation of :mod:`chisan.plan.model` restricted to what a sweep uses — ``fleet_mode="station"``,
cyclic horizons (chronological, typical days, or typical days linked across the year) — with the same names
for its variables; anything else raises ``NotImplementedError``. tests/sweep/test_lp.py checks that it reaches
the optimum of ``build_model`` on the same inputs (objective, capacities, annual flows) for every family it
covers, so a change of the core model that it does not follow fails there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from chisan.plan.highs import QuietHighs
from chisan.plan.inputs import PlanInputs, station_aggregates
from chisan.plan.model import previous_step
from chisan.plan.tariff_constraints import PEAK, basic_charge_per_kw, has_tariff_peak, peak_lower_kw, steps_per_interval
from chisan.sweep.headroom import HeadroomRows
from chisan.sweep.parked import ParkedSplit


@dataclass
class AggregateSolution:
    """Solution of :func:`solve_aggregate`.

    Attributes
    ----------
    status : str
        HiGHS model status in linopy's words (``"optimal"``, ``"infeasible"``, …).
    objective : float
        [currency/year].
    capacities : dict[str, float]
        ``pv_kw``, ``wind_kw``, ``storage_kwh``, ``storage_kw`` (0 when disabled) [kW, kWh].
    values : dict[str, np.ndarray]
        Per-step values by model variable name: ``PV-output_kw``, ``Wind-output_kw``, ``Storage-charge_kw``,
        ``Storage-discharge_kw``, ``Grid-import_kw``, ``Grid-export_kw`` (steps,) [kW]; ``Fleet-charge_kw``,
        ``Fleet-discharge_kw`` [kW] and ``Fleet-energy_kwh`` [kWh] (steps, stations); absent variables are absent.
    policy_shortfalls : dict[str, float]
        With elastic policy rows: how far each target is missed, by scenario field (``policy.renewable_share_
        min_fraction`` [kWh of renewable output, or of import for the hourly basis], ``policy.max_grid_import_
        kwh_per_year`` [kWh], ``policy.max_emissions_kg_per_year`` [kg]); 0 when met.
    """

    status: str
    objective: float
    capacities: dict[str, float]
    values: dict[str, np.ndarray] = field(default_factory=dict)
    policy_shortfalls: dict[str, float] = field(default_factory=dict)


_STATUS = {
    "Optimal": "optimal",
    "Infeasible": "infeasible",
    "Primal infeasible or unbounded": "infeasible_or_unbounded",
    "Unbounded": "unbounded",
    "Time limit reached": "time_limit",
}


class _Builder:
    """Columns with bounds and costs, rows as coordinate triplets with lower and upper bounds."""

    def __init__(self) -> None:
        self.n = 0
        self.rows = 0
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.cost: list[np.ndarray] = []
        self.extra_cost: list[tuple[np.ndarray, np.ndarray]] = []
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.rlo: list[np.ndarray] = []
        self.rhi: list[np.ndarray] = []

    def var(self, shape: int | tuple[int, ...], lower=0.0, upper=np.inf, cost=0.0) -> np.ndarray:
        """New columns of ``shape`` with bounds and objective coefficients (broadcast); returns their indices."""
        idx = np.arange(self.n, self.n + int(np.prod(shape))).reshape(shape)
        self.n += idx.size
        for target, value in ((self.lb, lower), (self.ub, upper), (self.cost, cost)):
            target.append(np.broadcast_to(np.asarray(value, dtype=float), idx.shape).ravel())
        return idx

    def add_cost(self, idx: np.ndarray, cost) -> None:
        """Add ``cost`` (broadcast to ``idx``) to the objective coefficients of the columns ``idx``."""
        self.extra_cost.append((idx.ravel(), np.broadcast_to(np.asarray(cost, dtype=float), idx.shape).ravel()))

    def constrain(self, count: int, lower, upper, terms: list[tuple[np.ndarray, object]]) -> None:
        """``count`` rows: lower ≤ Σ_terms Σ_j coeff[i, j] · x[cols[i, j]] ≤ upper.

        Each term is (columns, coefficients); columns reshape to (count, m), coefficients (a scalar or an array
        of the same size as the columns) likewise.
        """
        base = np.arange(self.rows, self.rows + count)
        for cols, coeffs in terms:
            cols2 = np.asarray(cols).reshape(count, -1)
            c = np.asarray(coeffs, dtype=float)
            c2 = np.broadcast_to(c if c.ndim == 0 else c.reshape(count, -1), cols2.shape)
            self.r.append(np.repeat(base, cols2.shape[1]))
            self.c.append(cols2.ravel())
            self.v.append(c2.ravel())
        self.rlo.append(np.broadcast_to(np.asarray(lower, dtype=float), (count,)).ravel())
        self.rhi.append(np.broadcast_to(np.asarray(upper, dtype=float), (count,)).ravel())
        self.rows += count

    def constrain_sparse(self, lower, upper, terms: list[tuple[sp.spmatrix, np.ndarray]]) -> None:
        """Rows lower ≤ Σ_terms A · x[cols] ≤ upper, each term a sparse A (rows × len(cols)) and its columns."""
        count = terms[0][0].shape[0]
        base = self.rows
        for a, cols in terms:
            coo = a.tocoo()
            self.r.append(base + coo.row)
            self.c.append(np.asarray(cols)[coo.col])
            self.v.append(coo.data.astype(float))
        self.rlo.append(np.broadcast_to(np.asarray(lower, dtype=float), (count,)).ravel())
        self.rhi.append(np.broadcast_to(np.asarray(upper, dtype=float), (count,)).ravel())
        self.rows += count

    def solve(self, options: dict) -> tuple[str, float, np.ndarray]:
        """Solve with HiGHS; returns (status, objective, column values)."""
        cost = np.concatenate(self.cost)
        for idx, c in self.extra_cost:
            np.add.at(cost, idx, c)
        h = QuietHighs()
        for key, value in options.items():
            h.setOptionValue(key, value)
        h.addVars(self.n, np.concatenate(self.lb), np.concatenate(self.ub))
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), cost)
        if self.rows:
            a = sp.csr_matrix(
                (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))), shape=(self.rows, self.n)
            )
            a.sum_duplicates()
            h.addRows(self.rows, np.concatenate(self.rlo), np.concatenate(self.rhi), a.nnz, a.indptr, a.indices, a.data)
        h.run()
        text = h.modelStatusToString(h.getModelStatus())
        status = _STATUS.get(text, text)
        x = np.asarray(h.getSolution().col_value, dtype=float) if status == "optimal" else np.full(self.n, np.nan)
        return status, float(h.getInfo().objective_function_value), x


def _previous_index(inputs: PlanInputs) -> tuple[np.ndarray, np.ndarray]:
    """Index of the previous step and its coefficient (0 at the first step of a linked typical period)."""
    prev = previous_step(inputs.period)
    keep = np.ones(len(prev))
    if inputs.period_order is not None:
        keep[prev >= np.arange(len(prev))] = 0.0  # a period's first step starts from 0 (δ since its start)
    return prev, keep


def _link(b: _Builder, inputs: PlanInputs, intra: np.ndarray, lower, upper_const, upper_var=None) -> np.ndarray:
    """Kotzur et al. (2018) inter-period linking of ``intra`` (steps × k), as ``define_inter_period_linking``.

    ``upper_var``: a capacity column bounding the energy (storage) instead of the constant ``upper_const``.
    Returns the inter-period energy columns (days × k).
    """
    order = np.asarray(inputs.period_order, dtype=int)
    labels = np.asarray(inputs.period, dtype=int)
    periods = np.unique(labels)
    k = intra.shape[1]
    days = len(order)
    inter = b.var((days, k), -np.inf, np.inf)
    hi = b.var((len(periods), k), 0.0, np.inf)
    lo = b.var((len(periods), k), -np.inf, 0.0)
    per_step = np.searchsorted(periods, labels)
    t = len(labels)
    b.constrain(t * k, -np.inf, 0.0, [(intra.ravel(), 1.0), (hi[per_step].ravel(), -1.0)])
    b.constrain(t * k, 0.0, np.inf, [(intra.ravel(), 1.0), (lo[per_step].ravel(), -1.0)])
    last_step = np.array([np.flatnonzero(labels == p)[-1] for p in periods])
    pos = np.searchsorted(periods, order)
    nxt = (np.arange(days) + 1) % days
    b.constrain(
        days * k,
        0.0,
        0.0,
        [(inter[nxt].ravel(), 1.0), (inter.ravel(), -1.0), (intra[last_step[pos]].ravel(), -1.0)],
    )
    low = np.broadcast_to(np.asarray(lower, dtype=float), (days, k)).ravel()
    b.constrain(days * k, low, np.inf, [(inter.ravel(), 1.0), (lo[pos].ravel(), 1.0)])
    if upper_var is None:
        up = np.broadcast_to(np.asarray(upper_const, dtype=float), (days, k)).ravel()
        b.constrain(days * k, -np.inf, up, [(inter.ravel(), 1.0), (hi[pos].ravel(), 1.0)])
    else:
        b.constrain(
            days * k,
            -np.inf,
            0.0,
            [(inter.ravel(), 1.0), (hi[pos].ravel(), 1.0), (np.full(days * k, upper_var), -1.0)],
        )
    return inter


def define_headroom_rows(b: _Builder, rows: HeadroomRows, charge: np.ndarray, charge_kwh_per_kw: np.ndarray) -> None:
    """η Δt Σ_{t∈D_r} ch_{t,s} ≥ need_{r,s} for every window r with a need at station s (:mod:`chisan.sweep.headroom`);
    ``charge_kwh_per_kw`` = η Δt per station [kWh/kW]."""
    for s in range(charge.shape[1]):
        need = rows.dim_need_kwh[:, s]
        binding = need > 1e-9  # a window whose cars need nothing in the dim steps gives no row
        if binding.any():
            b.constrain_sparse(need[binding], np.inf, [(rows.dim[binding] * float(charge_kwh_per_kw[s]), charge[:, s])])


def solve_aggregate(
    inputs: PlanInputs,
    *,
    time_limit_s: float | None = None,
    threads: int = 1,
    policy_slack_cost: float | None = None,
    split: ParkedSplit | None = None,
    headroom: HeadroomRows | None = None,
) -> AggregateSolution:
    """Solve the planning LP of aggregated ``inputs`` (``fleet_mode="station"``), as ``build_model`` would.

    Parameters
    ----------
    inputs : PlanInputs
        Aggregated (:func:`chisan.plan.reduce.aggregate_fleet`), cyclic (no initial energies, no terminal
        targets); chronological or typical days (linked or not).
    time_limit_s : float, optional
        HiGHS time limit [s].
    threads : int
        HiGHS threads.
    policy_slack_cost : float, optional
        Make the policy rows elastic: each gets a slack ≥ 0 at this cost per unit [currency/kWh or /kg], and the
        solution reports how far each target is missed (``policy_shortfalls``) instead of being infeasible.
    split : ParkedSplit, optional
        Chronological horizons: each station's fleet as its parked and its on-road cars
        (:mod:`chisan.sweep.parked`), a tighter relaxation of the per-vehicle model than one pool.
        ``Fleet-energy_kwh`` is then the sum of both pools and ``Fleet-road_energy_kwh`` the on-road cars'.
    headroom : HeadroomRows, optional
        Chronological horizons: each car's least charging in the dim steps of windows of days, summed over the
        cars (:mod:`chisan.sweep.headroom`), as rows on the pooled charge.
    """
    if inputs.fleet_mode != "station":
        raise NotImplementedError("solve_aggregate needs fleet_mode='station' (aggregate_fleet)")
    if inputs.hydrogen is not None:
        raise NotImplementedError(
            "solve_aggregate does not model hydrogen: the scenario has a [hydrogen] table (electrolyser and "
            "fuel-cell fleets); remove it from the sweep's template, or plan the town with `chisan plan`"
        )
    if any(
        x is not None
        for x in (inputs.initial_storage_kwh, inputs.terminal_fleet_target_kwh, inputs.terminal_storage_target_kwh)
    ):
        raise NotImplementedError("solve_aggregate covers cyclic horizons only (no initial or terminal energies)")
    if inputs.site_priced:
        raise NotImplementedError(
            "solve_aggregate prices the town's import on one bus: its sites have tariffs of their own (sites.tariff); "
            "plan the town with `chisan plan` (a sweep does, with --method two-stage)"
        )
    if has_tariff_peak(inputs) and (inputs.per_site or steps_per_interval(inputs.dt_hours) != 1):
        raise NotImplementedError(
            "solve_aggregate bills a basic charge on one meter at hourly steps only; use chisan.plan.model"
        )
    if split is not None and (inputs.period_order is not None or inputs.vehicles.empty):
        raise NotImplementedError("solve_aggregate splits parked and on-road cars on chronological horizons only")
    if headroom is not None and (inputs.period_order is not None or inputs.vehicles.empty):
        raise NotImplementedError("solve_aggregate bounds the cars' own headroom on chronological horizons only")
    b = _Builder()
    n = len(inputs.snapshots)
    dt = inputs.dt_hours
    k_year = inputs.opex_scale
    w = inputs.weight.to_numpy(float)
    wdt = w * dt
    linked = inputs.period_order is not None
    prev, keep = _previous_index(inputs)

    cap: dict[str, int] = {}
    for name, c in inputs.capacities.items():
        if c.enabled and not c.upper <= 0.0:  # a capacity fixed at 0 is a technology absent: no columns
            cap[name] = int(b.var(1, c.lower, c.upper, c.annual_cost_per_unit)[0])

    def fixed(name: str) -> float | None:
        c = inputs.capacities[name]
        return c.upper if c.enabled and c.lower == c.upper else None

    out: dict[str, np.ndarray] = {}
    credit = -wdt * k_year * inputs.renewable_credit_per_kwh
    for tech, label, cf in (("pv", "PV", inputs.pv_kw_per_kw), ("wind", "Wind", inputs.wind_kw_per_kw)):
        if f"{tech}_kw" not in cap:
            continue
        cfv = cf.to_numpy(float)
        f = fixed(f"{tech}_kw")
        if f is not None:
            out[f"{label}-output_kw"] = b.var(n, 0.0, f * cfv, credit)
        else:
            x = b.var(n, 0.0, np.inf, credit)
            out[f"{label}-output_kw"] = x
            b.constrain(n, -np.inf, 0.0, [(x, 1.0), (np.full(n, cap[f"{tech}_kw"]), -cfv)])

    if "storage_kwh" in cap and "storage_kw" in cap:
        e_cap, p_cap = cap["storage_kwh"], cap["storage_kw"]
        fe, fp = fixed("storage_kwh"), fixed("storage_kw")
        soc = b.var(n, -np.inf if linked else 0.0, np.inf if (fe is None or linked) else fe)
        p_up = np.inf if fp is None else fp
        ch = b.var(n, 0.0, p_up)
        dis = b.var(n, 0.0, p_up)
        out["Storage-charge_kw"], out["Storage-discharge_kw"] = ch, dis
        if fe is None and not linked:
            b.constrain(n, -np.inf, 0.0, [(soc, 1.0), (np.full(n, e_cap), -1.0)])
        if fp is None:
            b.constrain(n, -np.inf, 0.0, [(ch, 1.0), (np.full(n, p_cap), -1.0)])
            b.constrain(n, -np.inf, 0.0, [(dis, 1.0), (np.full(n, p_cap), -1.0)])
        if fe is None or fp is None:
            b.constrain(
                1, -np.inf, 0.0, [(np.array([p_cap]), 1.0), (np.array([e_cap]), -inputs.storage_max_c_rate_per_h)]
            )
        decay = (1.0 - inputs.storage_self_discharge_per_hour) ** dt
        b.constrain(
            n,
            0.0,
            0.0,
            [
                (soc, 1.0),
                (soc[prev], -decay * keep),
                (ch, -inputs.storage_charge_efficiency * dt),
                (dis, dt / inputs.storage_discharge_efficiency),
            ],
        )
        if linked:
            _link(b, inputs, soc[:, None], 0.0, None, upper_var=e_cap)

    charge = discharge = None
    if not inputs.vehicles.empty:
        stations = inputs.stations.index.astype(str)
        veh = inputs.vehicles
        groups = veh.groupby(veh["station"].astype(str))
        usable = groups["usable_kwh"].sum().reindex(stations).fillna(0).to_numpy(float)
        reserve = groups["reserve_kwh"].sum().reindex(stations).fillna(0).to_numpy(float)
        eta = groups["charge_efficiency"].mean().reindex(stations).fillna(1).to_numpy(float)
        available, trips = station_aggregates(inputs)
        avail = available.to_numpy(float)
        s = len(stations)
        need = getattr(inputs, "station_min_energy_kwh", None)
        if linked:
            lower_e = -np.inf
        elif need is not None:  # each vehicle's least energy for its own later bookings, summed per station
            lower_e = np.maximum(need.reindex(columns=inputs.stations.index).to_numpy(float), reserve[None, :])
        else:
            lower_e = reserve
        if split is None:
            energy = b.var((n, s), lower_e, np.inf if linked else usable)
            pools = [energy]
        else:  # the cars parked and the cars on the road (chisan.sweep.parked): energy moves with the cars
            energy = b.var((n, s), split.parked_lower_kwh, split.parked_upper_kwh)
            road = b.var((n, s), split.road_lower_kwh, split.road_upper_kwh)
            leaving = b.var((n, s), 0.0, split.departing_upper_kwh)
            back = b.var((n, s), 0.0, split.arriving_upper_kwh)
            pools = [energy, road]
        charge = b.var((n, s), 0.0, avail)
        # e_t − e_prev(t) − η Δt ch_t (+ Δt/η dis_t) = −trips_t; the fleet wraps within each period
        # (define_fleet_aggregate_constraints), starting from 0 at the first step of a linked period
        terms = [
            (energy, 1.0),
            (energy[prev], -np.repeat(keep[:, None], s, axis=1)),
            (charge, -np.tile(eta * dt, (n, 1))),
        ]
        if inputs.v2g:
            wear = (wdt * k_year * inputs.v2g_cost_per_kwh)[:, None] * np.ones((1, s))
            discharge = b.var((n, s), 0.0, avail, wear)
            terms.append((discharge, np.tile(dt / eta, (n, 1))))
        rhs = -trips.to_numpy(float).ravel()
        if split is None:
            b.constrain(n * s, rhs, rhs, terms)
        else:
            # parked: … + departing − arriving = 0; road: road_t − road_prev − departing + arriving = −trips_t
            b.constrain(n * s, 0.0, 0.0, [*terms, (leaving, 1.0), (back, -1.0)])
            b.constrain(n * s, rhs, rhs, [(road, 1.0), (road[prev], -1.0), (leaving, -1.0), (back, 1.0)])
        hold = inputs.vehicle_holding_cost_per_kwh_h
        if linked:
            inter = _link(b, inputs, energy, reserve[None, :], usable[None, :])
            if hold:
                b.add_cost(inter, hold * 24.0 * k_year)
        elif hold:
            for pool in pools:
                b.add_cost(pool, (wdt * hold * k_year)[:, None] * np.ones((1, s)))
        if headroom is not None:
            define_headroom_rows(b, headroom, charge, eta * dt)
        out["Fleet-charge_kw"] = charge
        out["Fleet-energy_kwh"] = energy
        if split is not None:
            out["Fleet-road_energy_kwh"] = road
        if discharge is not None:
            out["Fleet-discharge_kw"] = discharge

    limit = np.inf if inputs.grid_connection_limit_kw is None else inputs.grid_connection_limit_kw
    price = (
        inputs.import_price_per_kwh.to_numpy(float)
        + inputs.carbon_price_per_kg * inputs.emission_factor_kg_per_kwh.to_numpy(float)
        + inputs.import_penalty_per_kwh
    )
    imp = b.var(n, 0.0, limit, wdt * k_year * price)
    out["Grid-import_kw"] = imp
    exp = None
    if inputs.allow_export:
        exp = b.var(n, 0.0, limit, -wdt * k_year * inputs.export_price_per_kwh.to_numpy(float))
        out["Grid-export_kw"] = exp

    if has_tariff_peak(inputs):
        # basic charge on the contract kW ≥ every step's import (tariff_constraints.define_tariff_peak_constraints;
        # hourly steps hold two 30-minute intervals of the same mean demand), billed months × rate in the objective
        fixed_kw = inputs.contract_kw_fixed
        peak = b.var(
            1,
            float(np.max(peak_lower_kw(inputs))),
            np.inf if fixed_kw is None else float(fixed_kw),
            basic_charge_per_kw(inputs),
        )
        b.constrain(n, -np.inf, 0.0, [(imp, 1.0), (np.full(n, peak[0]), -1.0)])
        out[PEAK] = peak

    bus = [(imp, 1.0)]
    for name in ("PV-output_kw", "Wind-output_kw", "Storage-discharge_kw"):
        if name in out:
            bus.append((out[name], 1.0))
    if discharge is not None:
        bus.append((discharge, 1.0))
    if charge is not None:
        bus.append((charge, -1.0))
    for cols in (out.get("Storage-charge_kw"), exp):
        if cols is not None:
            bus.append((cols, -1.0))
    other = inputs.other_load_kw.to_numpy(float)
    b.constrain(n, other, other, bus)

    other_kwh = float((other * w).sum() * dt)
    slacks: dict[str, np.ndarray] = {}

    def policy(name: str, lower: float, upper: float, terms: list) -> None:
        """A policy row, elastic when ``policy_slack_cost`` is given (slack ≥ 0 priced in the objective)."""
        if policy_slack_cost is not None:
            slack = b.var((1, 1), 0.0, np.inf, policy_slack_cost)
            slacks[name] = slack
            terms = [*terms, (slack, 1.0 if np.isfinite(lower) else -1.0)]
        b.constrain(1, lower, upper, terms)

    target = inputs.renewable_share_min
    if target is not None and target > 0:
        terms = []
        if inputs.renewable_share_basis == "annual":
            for name in ("PV-output_kw", "Wind-output_kw"):
                if name in out:
                    terms.append((out[name][None, :], wdt[None, :]))
            if charge is not None:
                terms.append((charge.ravel()[None, :], -target * np.repeat(wdt, charge.shape[1])[None, :]))
            if not terms:
                terms.append((imp[None, :], 0.0 * wdt[None, :]))
            policy("policy.renewable_share_min_fraction", target * other_kwh, np.inf, terms)
        else:
            terms.append((imp[None, :], wdt[None, :]))
            if charge is not None:
                terms.append((charge.ravel()[None, :], -(1.0 - target) * np.repeat(wdt, charge.shape[1])[None, :]))
            policy("policy.renewable_share_min_fraction", -np.inf, (1.0 - target) * other_kwh, terms)
    if inputs.max_grid_import_kwh is not None:
        terms = [(imp[None, :], (k_year * wdt)[None, :])]
        policy("policy.max_grid_import_kwh_per_year", -np.inf, inputs.max_grid_import_kwh, terms)
    if inputs.max_emissions_kg is not None:
        ef = inputs.emission_factor_kg_per_kwh.to_numpy(float)
        terms = [(imp[None, :], (k_year * wdt * ef)[None, :])]
        policy("policy.max_emissions_kg_per_year", -np.inf, inputs.max_emissions_kg, terms)

    options: dict = {"output_flag": False, "threads": int(threads)}
    if not linked:
        # Devex pricing instead of HiGHS's default dual steepest edge: on the sweep's year-long LP at fixed
        # capacities (≈ 52,000 columns, 26,000 rows, ≈ 30,000 dual simplex iterations) it reached the same
        # objective 30–40 % sooner on five towns; on linked typical days (576 steps) it was 5–10 % slower
        # (benchmarks/bench_sweep.py; HiGHS option simplex_dual_edge_weight_strategy, 1 = devex)
        options["simplex_dual_edge_weight_strategy"] = 1
        # and without presolve: at fixed capacities it removes little from this LP and costs its own time (Shikaoi,
        # realistic template: 0.59 → 0.50 s CPU, same objective to 7 digits; HiGHS option presolve)
        options["presolve"] = "off"
    else:
        # no scaling on linked typical days: the sizing LP reached the same objective (to the yen) 5–7 % sooner on
        # five realistic towns (0.61 → 0.57 s CPU median, two runs each, machine loaded; HiGHS option
        # simplex_scale_strategy, 0 = off); on the year-long LP it made no difference
        options["simplex_scale_strategy"] = 0
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    status, objective, x = b.solve(options)
    capacities = {name: (max(0.0, float(x[cap[name]])) if name in cap else 0.0) for name in inputs.capacities}
    for name in ("pv_kw", "wind_kw", "storage_kwh", "storage_kw"):
        capacities.setdefault(name, 0.0)
    values = {name: x[idx] for name, idx in out.items()}
    if "Fleet-road_energy_kwh" in values:
        values["Fleet-energy_kwh"] = values["Fleet-energy_kwh"] + values["Fleet-road_energy_kwh"]
    shortfalls = {name: float(x[idx].sum()) for name, idx in slacks.items()}
    return AggregateSolution(
        status=status, objective=objective, capacities=capacities, values=values, policy_shortfalls=shortfalls
    )
