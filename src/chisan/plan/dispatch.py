"""Full-year per-vehicle dispatch at fixed capacities, solved week by week with a persistent HiGHS model.

A year of 30 vehicles at hourly steps is a 540,000-variable LP that HiGHS needs 10–15 s for even with the
capacities fixed (and 60–140 s with them free, see benchmarks/). With capacities fixed, the year only couples
through the vehicles' and the storage's energy, so it is solved as a rolling horizon: a window of
``commit_hours + lookahead_hours`` is optimised, its first ``commit_hours`` are kept, and the next window
starts from the energy they leave. The window model is built once; each move only rewrites bounds, right-hand
sides and costs (:func:`chisan.plan.model.update_model_data`), :class:`DirectHighs` writes the entries that changed
into the HiGHS model in place, and HiGHS warm-starts from the previous basis (≈ 40 ms per week instead of ≈ 300 ms).

Myopia is bounded in two ways: each window looks ``lookahead_hours`` beyond what it keeps, and every vehicle
must end a window with at least :func:`minimum_energy_kwh` — the least energy from which all its later bookings
can still be served by charging at full power whenever plugged in — so no window can strand a later booking.
The year is cyclic: the last window must give back the energy the year started with.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
from linopy.solvers import Solver

from chisan.exceptions import SolverError
from chisan.plan.highs import quiet_highs
from chisan.plan.inputs import PlanInputs
from chisan.plan.model import build_model, update_model_data
from chisan.plan.tariff_constraints import billed_months, demand_kw, has_tariff_peak, update_tariff_peak

DISPATCH_VARIABLES = (
    "PV-output_kw",
    "Wind-output_kw",
    "Storage-energy_kwh",
    "Storage-charge_kw",
    "Storage-discharge_kw",
    "Grid-import_kw",
    "Grid-export_kw",
    "Site-import_kw",
    "Site-export_kw",
    "Site-pv_output_kw",
    "Site-storage_energy_kwh",
    "Site-storage_charge_kw",
    "Site-storage_discharge_kw",
    "Link-forward_kw",
    "Link-backward_kw",
    "Vehicle-energy_kwh",
    "Vehicle-charge_kw",
    "Vehicle-discharge_kw",
)
"""Variables whose hourly values make up a dispatch (names as in :mod:`chisan.plan.model`)."""


def minimum_energy_kwh(inputs: PlanInputs, *, cyclic: bool = True) -> pd.DataFrame:
    """Least energy each vehicle must hold after each step so that every later booking can still start [kWh].

    Backward recursion from the end of the horizon, assuming the most charging possible afterwards (full power
    ``max_charge_kw`` × efficiency × Δt whenever plugged in)::

        e_min[t − 1] = max(reserve, e_min[t] + trip[t] − η · p · Δt · plugged[t])

    In f = e_min − reserve this is Lindley's recursion W_n = max(0, W_{n−1} + X_n) over the reversed steps
    (Lindley 1952, doi:10.1017/S0305004100027638), solved in closed form on the prefix sums S_n = Σ_{k≤n} X_k:
    W_n = S_n − min(−W_0, min_{0≤j≤n} S_j), vectorised over steps and vehicles. With ``cyclic`` the need before
    the first step becomes the need after the last, so needs near the start count for the end.

    Where a station's chargers or grid connection cannot give every plugged-in car its full power at once,
    each car counts only its proportional share of the station's limit (:func:`station_share`): charging every
    car at its share respects the limit, so ending a window at or above these needs keeps every later booking
    reachable however the cars share the station (a sufficient condition; without it a window could leave two
    cars each counting on the whole connection, and the next window would be infeasible).

    The result is cached on the data it is computed from (:func:`_need_key`): a two-stage plan asks for it about
    ten times for the same fleet (the sizing, each aggregate year, the dispatch and business as usual).

    Returns
    -------
    pd.DataFrame
        Snapshots × vehicles [kWh]. A value above the usable energy means a booking cannot be served.
    """
    key = _need_key(inputs, cyclic)
    if key in _NEEDS:
        _NEEDS.move_to_end(key)
        return _NEEDS[key].copy()
    need = _minimum_energy_kwh(inputs, cyclic)
    _NEEDS[key] = need.copy()
    while len(_NEEDS) > NEEDS_CACHED:
        _NEEDS.popitem(last=False)
    return need


NEEDS_CACHED = 8
"""How many results of :func:`minimum_energy_kwh` are kept (each steps × vehicles floats: 2 MB for 30 cars)."""

_NEEDS: OrderedDict[bytes, pd.DataFrame] = OrderedDict()


def _need_key(inputs: PlanInputs, cyclic: bool) -> bytes:
    """A digest of everything :func:`minimum_energy_kwh` reads (BLAKE2b over the arrays' bytes, ≈ 1 ms a year of
    30 cars): the same data give the same key whichever ``PlanInputs`` copy carries them, and data changed in
    place give another."""
    veh = inputs.vehicles
    st = inputs.stations
    h = hashlib.blake2b(digest_size=20)
    parts = [
        np.asarray([cyclic, inputs.dt_hours, *inputs.plugged.shape], dtype=float),
        np.asarray(getattr(inputs.snapshots, "asi8", None) if hasattr(inputs.snapshots, "asi8") else []),
        inputs.plugged.to_numpy(),
        inputs.trip_energy_kwh.to_numpy(),
        veh[["charge_efficiency", "max_charge_kw", "reserve_kwh"]].to_numpy(float),
        st[["chargers", "charger_kw", "connection_limit_kw"]].to_numpy(float),
    ]
    for a in parts:
        a = a.astype(float) if a.dtype == object else a  # an object array's bytes are pointers, not values
        h.update(str(a.dtype).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(f"{getattr(inputs.snapshots, 'tz', None)}|{list(inputs.snapshots[:1])}".encode())
    for labels in (veh.index, veh["station"], st.index, inputs.plugged.columns, inputs.trip_energy_kwh.columns):
        h.update("\x1f".join(map(str, labels)).encode() + b"\x1e")
    return h.digest()


def _minimum_energy_kwh(inputs: PlanInputs, cyclic: bool) -> pd.DataFrame:
    """:func:`minimum_energy_kwh` without the cache."""
    veh = inputs.vehicles
    trip = inputs.trip_energy_kwh.to_numpy(float)
    gain = charge_gain_kwh(inputs)
    reserve = veh["reserve_kwh"].to_numpy(float)
    x = (trip - gain)[::-1]  # X_n: the change at step T − n, processed backwards
    s = np.cumsum(x, axis=0)
    running_min = np.minimum(np.minimum.accumulate(s, axis=0), 0.0)  # min over S_0 = 0 … S_n

    def lindley(w0: np.ndarray) -> np.ndarray:
        return s - np.minimum(running_min, -w0[None, :])  # W_1 … W_T

    w = lindley(np.zeros(trip.shape[1]))
    if cyclic:
        w = lindley(w[-1])  # the need before step 0 is the need after the last step
    w0 = w[-1] if cyclic else np.zeros(trip.shape[1])
    # need after step t = W_{T−1−t}: after the last step W_0, after step T − 2 W_1, …
    after = np.vstack([w0[None, :], w[:-1]])[::-1]
    return pd.DataFrame(after + reserve[None, :], index=inputs.snapshots, columns=veh.index)


def station_share(inputs: PlanInputs) -> np.ndarray:
    """Share of its full charging power each plugged-in car can count on at its station [-], steps × vehicles.

    f_{s,t} = min(1, L_s / Σ_{v∈s} plugged_{v,t} p_v), with L_s = min(chargers × charger_kw, connection limit)
    [kW]: the station's power split in proportion to the cars' charge limits p_v [kW]. 1 where nothing binds.
    """
    veh = inputs.vehicles
    stations = inputs.stations
    onehot = (veh["station"].to_numpy()[:, None] == stations.index.to_numpy()[None, :]).astype(float)
    plug_kw = inputs.plugged.to_numpy(float) * veh["max_charge_kw"].to_numpy(float)[None, :]
    wanted_kw = plug_kw @ onehot  # steps × stations
    conn = stations["connection_limit_kw"].astype(float).fillna(np.inf).to_numpy()
    limit_kw = np.minimum((stations["chargers"] * stations["charger_kw"]).to_numpy(float), conn)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(wanted_kw > limit_kw[None, :], limit_kw[None, :] / wanted_kw, 1.0)
    return share @ onehot.T


def charge_gain_kwh(inputs: PlanInputs) -> np.ndarray:
    """Most energy each car can gain in each step at its share of its station [kWh], steps × vehicles.

    η · p · Δt · plugged · f (:func:`station_share`).
    """
    veh = inputs.vehicles
    per_step = veh["charge_efficiency"].to_numpy(float) * veh["max_charge_kw"].to_numpy(float) * inputs.dt_hours
    return inputs.plugged.to_numpy(float) * station_share(inputs) * per_step[None, :]


def _station_limit_text(inputs: PlanInputs, station) -> str:
    row = inputs.stations.loc[station]
    conn = row["connection_limit_kw"]
    return f"{int(row['chargers'])} × {row['charger_kw']:g} kW chargers" + (
        f" behind a {conn:g} kW connection" if pd.notna(conn) else ""
    )


def unreachable_needs(inputs: PlanInputs, need: pd.DataFrame) -> str | None:
    """A sentence naming the first car that cannot serve its bookings at its share of its station, or None.

    Two ways to fail: over the (cyclic) horizon the car's bookings take more energy than it can gain at its
    share, or before some booking it would need more than its usable energy.
    """
    trips_kwh = inputs.trip_energy_kwh.to_numpy(float).sum(axis=0)
    gains_kwh = charge_gain_kwh(inputs).sum(axis=0)
    short = np.flatnonzero(trips_kwh > gains_kwh + 1e-9)
    if len(short):
        v = short[0]
        car, station = need.columns[v], inputs.vehicles["station"].iloc[v]
        return (
            f"car {car} at station {station!r} can gain at most {gains_kwh[v]:.1f} kWh over the horizon at its "
            f"share of the station's {_station_limit_text(inputs, station)}, but its bookings take "
            f"{trips_kwh[v]:.1f} kWh ({len(short)} cars affected). Raise the station's connection_limit_kw or "
            "chargers, or move bookings to another station"
        )
    return _need_above_usable(inputs, need)


def _need_above_usable(inputs: PlanInputs, need: pd.DataFrame) -> str | None:
    """A sentence naming the first car whose need exceeds its usable energy, or None when every need fits."""
    usable = inputs.vehicles["usable_kwh"].to_numpy(float)
    over = need.to_numpy(float) > usable[None, :] + 1e-9
    if not over.any():
        return None
    t, v = np.argwhere(over)[0]
    car = need.columns[v]
    station = inputs.vehicles["station"].iloc[v]
    head = (
        f"car {car} at station {station!r} would need {need.iloc[t, v]:.1f} kWh after "
        f"{need.index[t]:%Y-%m-%d %H:%M} to serve its next bookings, more than its usable {usable[v]:.1f} kWh "
        f"({int(over.any(axis=0).sum())} cars affected)"
    )
    if (station_share(inputs)[:, v] < 1.0).any():  # the station's limit is part of the reason
        return (
            f"{head}: the station's {_station_limit_text(inputs, station)} cannot recharge its cars between those "
            "bookings. Raise the station's connection_limit_kw or chargers, or move bookings to another station"
        )
    return f"{head}: its bookings there need more energy than the battery holds at its full charging power"


def _spread(need_kwh: pd.Series, usable_kwh: pd.Series, total_kwh: float) -> pd.Series:
    """Vehicle energies that sum to ``total_kwh`` (when reachable): each vehicle's need, plus a share of the rest
    in proportion to its room above the need [kWh]."""
    room = (usable_kwh - need_kwh).clip(lower=0.0)
    extra = min(max(0.0, total_kwh - float(need_kwh.sum())), float(room.sum()))
    if room.sum() <= 0 or extra <= 0:
        return need_kwh.copy()
    return need_kwh + room * (extra / float(room.sum()))


@dataclass
class RollingSettings:
    """How the horizon is cut into windows (in hours, so the same at any step length).

    Attributes
    ----------
    commit_hours : float
        Hours kept from each window (168 = one week).
    lookahead_hours : float
        Hours optimised beyond those kept (48 = two days).
    """

    commit_hours: float = 168.0
    lookahead_hours: float = 48.0

    def steps(self, dt_hours: float) -> tuple[int, int]:
        """(steps kept, steps looked ahead) at a step length of ``dt_hours`` [h]."""
        return max(1, round(self.commit_hours / dt_hours)), max(0, round(self.lookahead_hours / dt_hours))


@dataclass
class Dispatch:
    """Hourly values of a dispatch on the full horizon, with how it was obtained.

    Attributes
    ----------
    values : dict[str, np.ndarray]
        Variable name → array (steps,) or (steps, vehicles).
    windows : int
        Number of windows solved.
    solve_seconds : float
        Time spent in HiGHS (diff, in-place update and run) [s].
    initial_energy_kwh : pd.Series
        Vehicle energy at the start of the horizon [kWh] (the year ends with at least as much).
    initial_storage_kwh : float or pd.Series
        Storage energy at the start of the horizon [kWh]; per storage site with metered sites.
    """

    values: dict[str, np.ndarray]
    windows: int
    solve_seconds: float
    initial_energy_kwh: pd.Series
    initial_storage_kwh: float | pd.Series


class DirectHighs:
    """Move a built HiGHS model to the next window by writing only what changed, straight into ``highspy``.

    linopy's persistent solver does the same through a general diff of the whole model (every constraint's
    matrix re-exported and compared at each solve, ≈ 60 ms a window of 50 cars); here the column and row of every
    model entry are looked up once, from linopy's label → position maps (the order linopy built the HiGHS model
    in), and each window compares flat numpy arrays of bounds, right-hand sides and costs with the last ones sent.
    The coefficients must not change between windows (:func:`chisan.plan.model.update_model_data` writes only
    bounds, right-hand sides and the objective). Row bounds follow linopy's ``con_rhs_as_bounds``: ``<=`` rows
    are (−∞, b], ``>=`` rows [b, ∞), ``=`` rows [b, b].

    Parameters
    ----------
    model : linopy.Model
        The window model, as built.
    h : highspy.Highs
        The HiGHS model linopy built from it (``Solver.solver_model``).
    """

    def __init__(self, model: linopy.Model, h) -> None:
        self.h = h
        var_pos = model.variables.label_index.label_to_pos
        con_pos = model.constraints.label_index.label_to_pos
        self.var_pos = var_pos
        self.n_cols = len(model.variables.label_index.vlabels)
        self.cols: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in model.variables:
            lab = model.variables[name].labels.values.ravel()
            mask = lab != -1
            self.cols[name] = (mask, var_pos[lab[mask]].astype(np.int32))
        self.rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in model.constraints:
            con = model.constraints[name]
            mask = con.active_row_mask()
            self.rows[name] = (mask, con_pos[con.labels.values.ravel()[mask]].astype(np.int32))
        self.solution_pos = {
            name: (lab >= 0, var_pos[np.maximum(lab, 0)])
            for name in model.variables
            for lab in [model.variables[name].labels.values]
        }
        self.sent = self._arrays(model)

    def _arrays(self, model: linopy.Model) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(positions, lower, upper) of the columns and rows, and (positions, cost) of the objective."""
        col_idx, col_lo, col_up = [], [], []
        for name, (mask, pos) in self.cols.items():
            var = model.variables[name]
            col_idx.append(pos)
            col_lo.append(np.asarray(var.lower.values, dtype=float).ravel()[mask])
            col_up.append(np.asarray(var.upper.values, dtype=float).ravel()[mask])
        row_idx, row_lo, row_up = [], [], []
        for name, (mask, pos) in self.rows.items():
            con = model.constraints[name]
            rhs = np.asarray(con.rhs.values, dtype=float).ravel()[mask]
            sign = np.asarray(con.sign.values).ravel()[mask].astype("U1")
            row_idx.append(pos)
            row_lo.append(np.where(sign == "<", -np.inf, rhs))
            row_up.append(np.where(sign == ">", np.inf, rhs))
        var_labels, coeffs = model.objective.linear_terms()
        cost = np.zeros(self.n_cols)
        np.add.at(cost, self.var_pos[var_labels], coeffs)  # as linopy's _objective_linear_vector
        cat = np.concatenate
        return {
            "cols": (cat(col_idx), cat(col_lo), cat(col_up)),
            "rows": (cat(row_idx), cat(row_lo), cat(row_up)) if row_idx else None,
            "cost": (np.arange(self.n_cols, dtype=np.int32), cost, cost),
        }

    def push(self, model: linopy.Model) -> None:
        """Write the bounds, right-hand sides and costs of ``model`` that differ from the last ones sent."""
        new = self._arrays(model)
        for key, (idx, lo, up) in ((k, v) for k, v in new.items() if v is not None):
            _, old_lo, old_up = self.sent[key]
            changed = np.flatnonzero((lo != old_lo) | (up != old_up))
            if not changed.size:
                continue
            i = idx[changed]
            if key == "cols":
                self.h.changeColsBounds(i.size, i, lo[changed], up[changed])
            elif key == "rows":
                self.h.changeRowsBounds(i.size, i, lo[changed], up[changed])
            else:
                self.h.changeColsCost(i.size, i, lo[changed])
        self.sent = new

    def run(self, names: tuple[str, ...]) -> tuple[bool, dict[str, np.ndarray]]:
        """Solve (warm-started from the last basis); return whether optimal and the values of ``names``."""
        import highspy

        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return False, {}
        col = np.asarray(self.h.getSolution().col_value, dtype=float)
        return True, {
            name: np.where(ok, col[pos], 0.0)
            for name in names
            if name in self.solution_pos
            for ok, pos in [self.solution_pos[name]]
        }

    def status(self) -> str:
        """HiGHS's model status in words (for error messages)."""
        return self.h.modelStatusToString(self.h.getModelStatus())


def _window(
    inputs: PlanInputs, positions: np.ndarray, e0: pd.Series, s0: float | pd.Series, terminal: pd.Series
) -> PlanInputs:
    """The inputs of one window: the steps at ``positions`` (wrapping around the year), non-cyclic."""
    snaps = inputs.snapshots[positions[0]] + pd.to_timedelta(np.arange(len(positions)) * inputs.dt_hours, unit="h")

    def take(s: pd.Series) -> pd.Series:
        return pd.Series(s.to_numpy()[positions], index=snaps, name=s.name)

    def take_frame(f: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(f.to_numpy()[positions], index=snaps, columns=f.columns)

    return dataclasses.replace(
        inputs,
        snapshots=snaps,
        pv_kw_per_kw=take(inputs.pv_kw_per_kw),
        wind_kw_per_kw=take(inputs.wind_kw_per_kw),
        import_price_per_kwh=take(inputs.import_price_per_kwh),
        export_price_per_kwh=take(inputs.export_price_per_kwh),
        emission_factor_kg_per_kwh=take(inputs.emission_factor_kg_per_kwh),
        other_load_kw=take(inputs.other_load_kw),
        site_other_load_kw=None if inputs.site_other_load_kw is None else take_frame(inputs.site_other_load_kw),
        site_import_price_per_kwh=None if not inputs.site_priced else take_frame(inputs.site_import_price_per_kwh),
        site_export_price_per_kwh=None if not inputs.site_priced else take_frame(inputs.site_export_price_per_kwh),
        temp_air_c=None,
        plugged=take_frame(inputs.plugged),
        trip_energy_kwh=take_frame(inputs.trip_energy_kwh),
        weight=None,
        period=None,
        initial_energy_kwh=e0,
        initial_storage_kwh=s0,
        terminal_energy_kwh=terminal,
        mask_unplugged=False,
        annualise=False,
        renewable_share_min=None,
        max_grid_import_kwh=None,
        max_emissions_kg=None,
    )


def rolling_dispatch(
    inputs: PlanInputs,
    settings: RollingSettings | None = None,
    *,
    solver_options: dict | None = None,
    on_window: Callable[[int, int], None] | None = None,
    targets: pd.DataFrame | None = None,
    shortfall_cost_per_kwh: float | None = None,
    start_fleet_kwh: float | None = None,
    model_update: str = "highs",
) -> Dispatch:
    """Dispatch every vehicle, the storage and the grid over the whole horizon at fixed capacities.

    Parameters
    ----------
    inputs : PlanInputs
        Chronological inputs (one period, weight 1) with every enabled capacity fixed and ``fleet_mode="vehicle"``.
        Annual policy targets are not rows here: pass their shadow prices as ``import_penalty_per_kwh`` /
        ``renewable_credit_per_kwh`` (the two-stage plan does).
    settings : RollingSettings, optional
        Window lengths.
    solver_options : dict, optional
        HiGHS options.
    on_window : callable, optional
        ``f(done, total)`` after each window (progress bars).
    targets : pd.DataFrame, optional
        Energy the whole fleet (column ``vehicle``) and the storage (``storage``) should hold after each step
        [kWh], from a year-long aggregate plan (:func:`chisan.plan.solve.aggregate_year`). Each window must end
        at its target or pay ``shortfall_cost_per_kwh`` for the difference: this carries the year-long view
        (sunny days charging cars for cloudy ones) into the week-long windows.
    shortfall_cost_per_kwh : float, optional
        Price of a missed target [currency/kWh] (e.g. the highest import price over the charging efficiency).
    start_fleet_kwh : float, optional
        Energy the whole fleet holds at the start [kWh] (the aggregate plan's, so that the year closes at the
        level it began); spread over the vehicles above their needs. None = each vehicle starts at its need.
    model_update : {"highs", "linopy", "rebuild"}
        How a window moves on: ``"highs"`` writes the changed bounds, right-hand sides and costs straight into the
        HiGHS model (:class:`DirectHighs`); ``"linopy"`` lets linopy's persistent solver diff the model; ``"rebuild"``
        builds and solves each window from scratch (no warm start; for tests). All three solve the same LPs.

    Raises
    ------
    SolverError
        A window has no optimal solution; the message names its dates.
    """
    settings = settings or RollingSettings()
    if model_update not in ("highs", "linopy", "rebuild"):
        raise ValueError(f"model_update must be 'highs', 'linopy' or 'rebuild', not {model_update!r}")
    for name, cap in inputs.capacities.items():
        if cap.enabled and cap.lower != cap.upper:
            raise ValueError(f"rolling_dispatch needs fixed capacities; {name} is free")
    if inputs.per_site and inputs.capacities["pv_kw"].enabled and inputs.site_pv_fixed_kw is None:
        raise ValueError("rolling_dispatch needs the PV of each site fixed (with_capacities_fixed(caps, site_pv_kw))")
    if (
        len(inputs.storage_sites) > 1
        and inputs.capacities["storage_kwh"].upper > 0
        and inputs.site_storage_fixed_kwh is None
    ):
        raise ValueError(
            "rolling_dispatch needs the storage of each site fixed (with_capacities_fixed(..., site_storage))"
        )
    n = len(inputs.snapshots)
    commit_steps, lookahead_steps = settings.steps(inputs.dt_hours)
    commit = min(commit_steps, n)
    length = min(commit + lookahead_steps, n)
    n_windows = math.ceil(n / commit)
    need = minimum_energy_kwh(inputs, cyclic=True)
    if (why := unreachable_needs(inputs, need)) is not None:
        raise SolverError(f"the per-vehicle dispatch cannot be run: {why}")
    # Start the year with the least energy that serves its first bookings: the cyclic need before step 0, which
    # is the need after the last step. Each window ends at or above the need at its last step, so by backward
    # induction over the recursion of minimum_energy_kwh every kept step is at or above its need, and the
    # year ends with at least the energy it started with (cyclic). Storage starts empty (or as given).
    e_start = need.iloc[-1].copy()
    if start_fleet_kwh is not None:
        e_start = _spread(e_start, inputs.vehicles["usable_kwh"], start_fleet_kwh)
    s_start = 0.0 if inputs.initial_storage_kwh is None else inputs.initial_storage_kwh
    if inputs.per_site and not isinstance(s_start, pd.Series):  # one state per storage site
        s_start = pd.Series(float(s_start) if len(inputs.storage_sites) == 1 else 0.0, index=inputs.storage_sites)
    elif not inputs.per_site:
        s_start = float(s_start)
    e0, s0 = e_start.copy(), s_start
    values: dict[str, np.ndarray] = {}
    solver: Solver | None = None
    model: linopy.Model | None = None
    direct: DirectHighs | None = None
    solve_s = 0.0
    # The contract kW carried from window to window: the sizing stage's (inputs.contract_kw_min) or the highest
    # demand so far; a window pays the year's months of basic charge only for raising it (one structure).
    peak_kw = float(inputs.contract_kw_min)
    if inputs.per_site:  # one contract per meter
        carried = inputs.contract_kw_min_by_site
        peak_site_kw = (
            np.zeros(len(inputs.sites))
            if carried is None
            else carried.reindex(inputs.sites.index).fillna(0).to_numpy(float)
        )
    tariff = has_tariff_peak(inputs)
    for k in range(n_windows):
        start = k * commit
        keep = min(commit, n - start)
        positions = (start + np.arange(length)) % n
        win = _window(inputs, positions, e0, s0, need.iloc[positions[-1]])
        if targets is not None:
            end = positions[-1]
            win = dataclasses.replace(
                win,
                terminal_fleet_target_kwh=float(targets["vehicle"].iloc[end]),
                terminal_storage_target_kwh=float(targets["storage"].iloc[end]) if "storage" in targets else None,
                terminal_shortfall_cost_per_kwh=float(shortfall_cost_per_kwh or 0.0),
            )
        if tariff:
            win = dataclasses.replace(win, contract_kw_min=peak_kw, tariff_billed_months=billed_months(inputs))
            if inputs.per_site:
                win = dataclasses.replace(
                    win, contract_kw_min_by_site=pd.Series(peak_site_kw, index=inputs.sites.index)
                )
        t0 = time.perf_counter()
        if model is None:
            model = build_model(win)
            with quiet_highs():
                solver = Solver.from_name(
                    "highs",
                    model=model,
                    io_api="direct",
                    options=dict(solver_options or {}),
                    track_updates=model_update == "linopy",
                )
            if model_update == "highs":
                direct = DirectHighs(model, solver.solver_model)
            labels = {
                name: model.variables[name].labels.to_numpy() for name in DISPATCH_VARIABLES if name in model.variables
            }
        elif model_update == "rebuild":
            solver.close()
            model = build_model(win)
            with quiet_highs():
                solver = Solver.from_name("highs", model=model, io_api="direct", options=dict(solver_options or {}))
            labels = {name: model.variables[name].labels.to_numpy() for name in labels}
        else:
            update_model_data(model, win)
            update_tariff_peak(model, win)
            if direct is not None:
                direct.push(model)
        if direct is not None:
            optimal, sols = direct.run(DISPATCH_VARIABLES)
            condition = "optimal" if optimal else direct.status()
        else:
            result = solver.solve(model=model) if model_update == "linopy" else solver.solve()
            condition = str(result.status.termination_condition.value)
            optimal = condition == "optimal" and result.solution is not None
        solve_s += time.perf_counter() - t0
        if not optimal:
            when = f"{win.snapshots[0]:%Y-%m-%d %H:%M} – {win.snapshots[keep - 1]:%Y-%m-%d %H:%M}"
            raise SolverError(
                f"dispatch window {k + 1}/{n_windows} ({when}) ended {condition!r}; "
                "a booking or a limit cannot be met with the fixed capacities"
            )
        if direct is None:
            # read the primal values by label instead of assigning the whole result to the model (≈ 50 ms a window)
            primal = result.solution.primal
            sols = {name: np.where(lab >= 0, primal[np.maximum(lab, 0)], 0.0) for name, lab in labels.items()}
        for name, sol in sols.items():
            if name not in values:
                values[name] = np.zeros((n, *sol.shape[1:]))
            values[name][start : start + keep] = np.nan_to_num(sol[:keep])
        if tariff and inputs.per_site and "Site-import_kw" in values:
            kept = values["Site-import_kw"][start : start + keep]
            peak_site_kw = np.maximum(
                peak_site_kw, [demand_kw(kept[:, j], win.dt_hours).max() for j in range(kept.shape[1])]
            )
        elif tariff and "Grid-import_kw" in values:
            peak_kw = max(peak_kw, float(demand_kw(values["Grid-import_kw"][start : start + keep], win.dt_hours).max()))
        if "Vehicle-energy_kwh" in values:
            e0 = pd.Series(values["Vehicle-energy_kwh"][start + keep - 1], index=inputs.vehicles.index)
        if "Site-storage_energy_kwh" in values:
            s0 = pd.Series(values["Site-storage_energy_kwh"][start + keep - 1], index=inputs.storage_sites)
        elif "Storage-energy_kwh" in values:
            s0 = float(values["Storage-energy_kwh"][start + keep - 1])
        if on_window is not None:
            on_window(k + 1, n_windows)
    if solver is not None:
        solver.close()
    return Dispatch(
        values=values,
        windows=n_windows,
        solve_seconds=solve_s,
        initial_energy_kwh=e_start,
        initial_storage_kwh=s_start,
    )
