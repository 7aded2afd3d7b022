"""Compare and vary: several scenarios, or one scenario's ``[sensitivity]`` variants, planned by the same pipeline
(plan + business as usual + appraisal) and gathered into one table, a tornado chart of NPV and an Excel workbook.

Variants are independent plans, so they run in parallel on a local Dask cluster (one single-threaded worker
process per core, as ``chisan sweep``), or one after another (``scheduler="synchronous"``).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import logging
import os
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chisan.exceptions import ChisanError, ScenarioError
from chisan.scenario.load import scenario_from_dict
from chisan.scenario.schema import Scenario

SUMMARY_FIGURES = (
    "npv",
    "irr",
    "simple_payback_years",
    "investment",
    "annual_savings_first_year",
    "total_cost_per_year",
    "bau_total_cost_per_year",
    "cost_per_km",
    "lcoe_pv_per_kwh",
    "levelised_cost_of_charging_per_kwh",
)
"""Economics figures in the comparison table."""

SUMMARY_KPIS = (
    "pv_kw",
    "wind_kw",
    "storage_kwh",
    "vehicles",
    "local_renewable_share_of_charging",
    "renewable_share_annual",
    "co2_avoided_kg",
    "bookings_served",
)
"""Key figures of the plan in the comparison table."""


TORNADO_FIGURES = ("npv", "cost_per_km", "local_renewable_share_of_charging")
"""Figures whose sensitivity ``chisan compare`` tabulates and charts."""


@dataclass
class Variant:
    """One scenario to plan: its name (a file name, or ``field = value``) and the scenario."""

    name: str
    scenario: Scenario


@dataclass
class VariantResult:
    """What one variant's plan gave.

    Attributes
    ----------
    name : str
    figures : pd.DataFrame
        ``value``, ``unit`` per figure (the plan's KPIs and the economics figures); empty on error.
    costs : pd.Series
        Annual cost by component [currency/year].
    cash_flows : pd.Series
        Net cash flow against business as usual by year [currency].
    error : str
        Empty when the plan succeeded.
    sites : pd.DataFrame or None
        The plan's table of metered sites (PV, storage, import, export, contract per site); None with one meter.
    """

    name: str
    figures: pd.DataFrame
    costs: pd.Series
    cash_flows: pd.Series
    error: str = ""
    sites: pd.DataFrame | None = None


def plan_variant(variant: Variant, method: str | None = None, **done) -> VariantResult:
    """Plan one variant with business as usual and its appraisal; a chisan error is returned, not raised.

    ``done`` passes work already done (``prepared``, ``solution``, ``bau_solution``) to
    :func:`chisan.plan.pipeline.plan_scenario`.
    """
    from chisan.plan.pipeline import plan_scenario

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = plan_scenario(variant.scenario, method=method, business_as_usual=True, **done)
    except ChisanError as err:
        return _failed_result(variant.name, str(err))
    econ = run.economics
    kpis = run.results.kpis[["value", "unit"]]
    figures = pd.concat([kpis, econ.figures[["value", "unit"]].drop(index=kpis.index, errors="ignore")])
    net = econ.cash_flows[next(c for c in econ.cash_flows if c.startswith("net_"))]
    return VariantResult(variant.name, figures, run.results.costs["total_per_year"], net, sites=run.results.sites)


def set_field(data: dict, path: str, value: float) -> None:
    """Set ``value`` at the dotted ``path`` of a scenario dictionary (``*`` = every item of a list).

    Raises
    ------
    ScenarioError
        The path does not name an existing input.
    """
    parts = path.split(".")

    def walk(node: Any, i: int) -> None:
        key = parts[i]
        last = i == len(parts) - 1
        if isinstance(node, list):
            if key == "*":
                items = node
            elif key.isdigit() and int(key) < len(node):
                items = [node[int(key)]]
            else:
                raise ScenarioError(
                    f"sensitivity field {path!r}: {key!r} is not an index of the list (0 … {len(node) - 1} or *)"
                )
            if last:
                raise ScenarioError(f"sensitivity field {path!r} names a list, not a number")
            for item in items:
                walk(item, i + 1)
            return
        if not isinstance(node, dict) or key not in node:
            allowed = ", ".join(sorted(node)) if isinstance(node, dict) else "none"
            raise ScenarioError(f"sensitivity field {path!r}: no input {key!r} here; allowed: {allowed}")
        if last:
            current = node[key]
            if isinstance(current, list | dict):
                kind = "a list" if isinstance(current, list) else "a section"
                raise ScenarioError(f"sensitivity field {path!r} names {kind}, not a number")
            if current is not None and (isinstance(current, bool) or not isinstance(current, int | float)):
                raise ScenarioError(f"sensitivity field {path!r} is not a number (it is {str(current)!r})")
            node[key] = value
        else:
            walk(node[key], i + 1)

    walk(data, 0)


def _as_dict(scenario: Scenario) -> dict:
    data = scenario.model_dump(mode="python", exclude={"base_dir"})
    data.pop("sensitivity", None)
    return data


def sensitivity_variants(scenario: Scenario, name: str = "base") -> list[tuple[str, str, Variant]]:
    """The base case and, per ``[sensitivity]`` parameter, its low and high variants.

    Returns
    -------
    list of (field, "base" / "low" / "high", Variant)
    """
    base = _as_dict(scenario)
    out = [("", "base", Variant(name, scenario_from_dict(base, source=name, base_dir=scenario.base_dir)))]
    params = scenario.sensitivity.parameters if scenario.sensitivity else []
    for p in params:
        for side, value in (("low", p.low), ("high", p.high)):
            data = copy.deepcopy(base)
            set_field(data, p.field, value)
            label = f"{p.field} = {value:g}"
            out.append(
                (
                    p.field,
                    side,
                    Variant(label, scenario_from_dict(data, source=f"{name} ({label})", base_dir=scenario.base_dir)),
                )
            )
    return out


@dataclass
class _Failed:
    """A chisan error met while preparing or solving, carried to the variants that depend on it."""

    message: str


def _failed_result(name: str, message: str) -> VariantResult:
    empty = pd.DataFrame(columns=["value", "unit"])
    return VariantResult(name, empty, pd.Series(dtype=float), pd.Series(dtype=float), message)


def _prepare(variant: Variant):
    """The prepared inputs of a variant (weather, PV per kW, bookings, fleet), or the error that stopped it."""
    from chisan.plan.prepare import prepare_inputs

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return prepare_inputs(variant.scenario)
    except ChisanError as err:
        return _Failed(str(err))


def _fingerprint(obj: Any) -> str:
    """A digest of ``obj``'s content: equal digests, equal objects.

    Built from the values, not from one pickle of the whole: a pickle also records which fields share one object
    (its memo), so equal inputs prepared in two worker processes could give two digests and a second solve of the
    same LP (seen: the base case solved twice, once per worker, in ``chisan compare`` on the Dask cluster).
    """
    digest = hashlib.sha256()
    _feed(digest, obj)
    return digest.hexdigest()


def _feed(digest, obj: Any) -> None:
    """Add ``obj``'s type and content to ``digest`` (pandas and NumPy by their values, containers item by item)."""
    digest.update(type(obj).__qualname__.encode())
    if isinstance(obj, pd.DataFrame | pd.Series | pd.Index):
        dtypes = list(obj.dtypes) if isinstance(obj, pd.DataFrame | pd.MultiIndex) else [obj.dtype]
        digest.update(repr((obj.shape, getattr(obj, "name", None), getattr(obj, "names", None), dtypes)).encode())
        if isinstance(obj, pd.DataFrame):
            _feed(digest, obj.columns)
        if not isinstance(obj, pd.Index):
            _feed(digest, obj.index)
        try:
            digest.update(pd.util.hash_pandas_object(obj, index=False).to_numpy().tobytes())
        except TypeError:  # cells pandas cannot hash (lists, dicts)
            digest.update(pickle.dumps(obj.to_numpy().tolist(), protocol=5))
    elif isinstance(obj, np.ndarray):
        digest.update(repr((obj.shape, str(obj.dtype))).encode())
        digest.update(np.ascontiguousarray(obj).tobytes() if obj.dtype != object else pickle.dumps(obj.tolist()))
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            digest.update(f.name.encode())
            _feed(digest, getattr(obj, f.name))
    elif isinstance(obj, dict):
        for key in sorted(obj, key=repr):
            _feed(digest, key)
            _feed(digest, obj[key])
    elif isinstance(obj, list | tuple):
        digest.update(str(len(obj)).encode())
        for item in obj:
            _feed(digest, item)
    elif obj is None or isinstance(obj, bool | int | float | str | np.generic):
        digest.update(repr(obj).encode())
    else:  # anything else by its pickle
        digest.update(pickle.dumps(obj, protocol=5))


def _without_idle_costs(inputs):
    """``inputs`` with the cost of every capacity fixed at 0 units set to 0 (it multiplies nothing), so that
    business-as-usual towns differing only in the price of what they do not build share one solve."""
    caps = {
        k: dataclasses.replace(c, annual_cost_per_unit=0.0) if c.fixed_units == 0 or not c.enabled else c
        for k, c in inputs.capacities.items()
    }
    return dataclasses.replace(inputs, capacities=caps)


def solve_keys(prepared, variant: Variant, method: str | None) -> tuple[str, str] | None:
    """Digests of the plan's and the business-as-usual solve of a variant (inputs and solver settings); None when
    its preparation failed. Variants with equal digests solve the same LPs: ``chisan compare`` solves them once."""
    from chisan.economics.bau import bau_inputs
    from chisan.plan.pipeline import solve_settings

    if isinstance(prepared, _Failed):
        return None
    settings = solve_settings(variant.scenario, method=method)
    return (
        _fingerprint((prepared.inputs, settings)),
        _fingerprint((_without_idle_costs(bau_inputs(prepared.inputs)), settings)),
    )


def _solve(prepared, variant: Variant, method: str | None, bau: bool):
    """The plan (or business-as-usual) solution of a prepared variant, or the error that stopped it."""
    from chisan.economics.bau import bau_inputs
    from chisan.plan.pipeline import solve_settings
    from chisan.plan.solve import solve_plan

    if isinstance(prepared, _Failed):
        return prepared
    inputs = bau_inputs(prepared.inputs) if bau else prepared.inputs
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return solve_plan(inputs, **solve_settings(variant.scenario, method=method))
    except ChisanError as err:
        return _Failed(str(err))


def _finish(variant: Variant, prepared, solution, bau_solution, method: str | None) -> VariantResult:
    """Check, tabulate and appraise a variant from its (possibly shared) prepared inputs and solutions."""
    for part in (prepared, solution, bau_solution):
        if isinstance(part, _Failed):
            return _failed_result(variant.name, part.message)
    return plan_variant(variant, method, prepared=prepared, solution=solution, bau_solution=bau_solution)


def run_variants(
    variants: list[Variant],
    *,
    method: str | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    on_done: Callable[[VariantResult], None] | None = None,
) -> list[VariantResult]:
    """Plan every variant: on a local Dask cluster (default; ``n_workers`` processes, one per core), or one after
    another in this process (``scheduler="synchronous"``). Results are in the order of ``variants``.

    Work is shared: each variant is prepared once, and variants whose prepared inputs are equal (a sensitivity
    of an input the LP does not see, such as the lease of a car or the emissions of the cars it replaces) solve
    the plan once; the business-as-usual solve is shared as well (it builds no PV, so the price of PV does not
    change it). Each variant is then checked, tabulated and appraised on its own scenario.
    """
    done = on_done or (lambda r: None)
    if scheduler not in (None, "synchronous"):
        raise ScenarioError(f"scheduler = {scheduler!r}; allowed: 'synchronous' or none (a local Dask cluster)")
    if scheduler == "synchronous" or len(variants) <= 1:
        results = []
        solved: dict[str, Any] = {}
        for v in variants:
            prepared = _prepare(v)
            keys = solve_keys(prepared, v, method)
            if keys is None:
                results.append(_finish(v, prepared, None, None, method))
            else:
                for key, bau in zip(keys, (False, True), strict=True):
                    if key not in solved:
                        solved[key] = _solve(prepared, v, method, bau)
                results.append(_finish(v, prepared, solved[keys[0]], solved[keys[1]], method))
            done(results[-1])
        return results
    from distributed import Client, LocalCluster, as_completed

    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with (
            LocalCluster(
                n_workers=min(len(variants), n_workers or os.cpu_count() or 1),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            # prepared inputs stay on the workers; only their digests come back to decide what to solve
            prepared = [client.submit(_prepare, v, pure=False) for v in variants]
            keys = client.gather(
                [client.submit(solve_keys, p, v, method, pure=False) for p, v in zip(prepared, variants, strict=True)]
            )
            solved: dict[str, Any] = {}
            finish = {}
            for i, (v, p, k) in enumerate(zip(variants, prepared, keys, strict=True)):
                sols = [None, None]
                if k is not None:
                    for j, (key, bau) in enumerate(zip(k, (False, True), strict=True)):
                        if key not in solved:  # the plans (about twice the work of a BAU) first: LPT order
                            solved[key] = client.submit(_solve, p, v, method, bau, pure=False, priority=0 if bau else 1)
                        sols[j] = solved[key]
                finish[client.submit(_finish, v, p, sols[0], sols[1], method, pure=False)] = i
            results: list[VariantResult | None] = [None] * len(variants)
            for future in as_completed(finish):
                result = future.result()
                results[finish[future]] = result
                done(result)
    finally:
        quiet.setLevel(level)
    return [r for r in results if r is not None]


def comparison_table(results: list[VariantResult]) -> pd.DataFrame:
    """One table: a row per figure (key figures, then economics), a column per variant, and the unit."""
    names = [*SUMMARY_KPIS, *SUMMARY_FIGURES]
    table = pd.DataFrame(index=pd.Index(names, name="figure"))
    units = pd.Series("", index=table.index)
    for r in results:
        if r.error:
            table[r.name] = float("nan")
            continue
        table[r.name] = r.figures["value"].reindex(names).astype(float)
        units = units.where(units != "", r.figures["unit"].reindex(names).fillna(""))
    table.insert(0, "unit", units)
    return table


def tornado_table(entries: list[tuple[str, str, VariantResult]], figure: str = "npv") -> pd.DataFrame:
    """Per sensitivity parameter: the figure at the low and high value and the swing against the base case,
    sorted by swing (largest first)."""
    base = next(r for _, side, r in entries if side == "base")
    base_value = float(base.figures.loc[figure, "value"]) if not base.error else float("nan")
    rows: dict[str, dict[str, Any]] = {}
    for field, side, r in entries:
        if side == "base":
            continue
        row = rows.setdefault(field, {"parameter": field, "base": base_value})
        row[side] = float(r.figures.loc[figure, "value"]) if not r.error else float("nan")
        row[f"{side}_variant"] = r.name
        row[f"{side}_error"] = r.error
    table = pd.DataFrame(
        list(rows.values()),
        columns=["parameter", "base", "low", "high", "low_variant", "high_variant", "low_error", "high_error"],
    )
    table["swing"] = (table["high"] - table["low"]).abs()
    return table.sort_values("swing", ascending=False).set_index("parameter")


def tornado_chart(table: pd.DataFrame, figure_label: str, unit: str):
    """Horizontal bars from the base value to the low and high variants' values, widest on top (plotly)."""
    import plotly.graph_objects as go

    t = table.iloc[::-1]
    base = float(t["base"].iloc[0]) if len(t) else 0.0
    fig = go.Figure()
    fig.add_trace(
        go.Bar(y=t.index, x=t["low"] - base, base=base, orientation="h", name="low value", marker_color="#355c7d")
    )
    fig.add_trace(
        go.Bar(y=t.index, x=t["high"] - base, base=base, orientation="h", name="high value", marker_color="#c06c84")
    )
    fig.update_layout(
        title=f"Sensitivity of {figure_label}",
        barmode="overlay",
        xaxis_title=f"{figure_label} [{unit}]",
        template="plotly_white",
        height=max(300, 60 * len(t) + 120),
        margin={"l": 260, "r": 20, "t": 50, "b": 40},
    )
    return fig


def write_workbook(
    path: Path,
    results: list[VariantResult],
    comparison: pd.DataFrame,
    tornado: pd.DataFrame | None = None,
) -> None:
    """An Excel workbook (XlsxWriter): key figures, costs, sites and cash flows by variant, and the sensitivity."""
    costs = pd.DataFrame({r.name: r.costs for r in results if not r.error})
    flows = pd.DataFrame({r.name: r.cash_flows for r in results if not r.error})
    errors = pd.DataFrame(
        [{"variant": r.name, "error": r.error} for r in results if r.error], columns=["variant", "error"]
    )
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": {"nan_inf_to_errors": True}}) as xl:
        comparison.to_excel(xl, sheet_name="key figures")
        costs.rename_axis("component").to_excel(xl, sheet_name="costs per year")
        flows.rename_axis("year").to_excel(xl, sheet_name="net cash flows")
        sites = [r.sites.assign(variant=r.name) for r in results if not r.error and r.sites is not None]
        if sites:
            pd.concat(sites).rename_axis("site").reset_index().set_index(["variant", "site"]).to_excel(
                xl, sheet_name="sites"
            )
        if tornado is not None:
            tornado.to_excel(xl, sheet_name="sensitivity")
        if len(errors):
            errors.to_excel(xl, sheet_name="errors", index=False)
        for sheet in xl.sheets.values():
            sheet.set_column(0, 0, 40)
            sheet.set_column(1, 60, 18)
