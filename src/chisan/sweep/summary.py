"""The national picture of a sweep: totals, per-prefecture tables, a map coloured by a KPI, costs per km.

Everything is computed from the consolidated table (:func:`chisan.sweep.store.read_results`), over the
municipalities planned successfully; the failed ones are listed with their errors. Sums are sums; ratios are
ratios of sums (national cost per km = Σ cost / Σ km), never means of ratios.

The HTML report is one self-contained file: plotly.js is embedded once and the map is a plain longitude–latitude
scatter (equirectangular, aspect corrected at the mean latitude), so it opens without internet — plotly's
``scattergeo`` would fetch its coastlines from a CDN and ``scattermap`` its tiles.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from chisan.exceptions import DataError
from chisan.report.output import atomic_file
from chisan.sweep.derive import PREFECTURE_AREAS
from chisan.sweep.store import MANIFEST, STATUS_OK

SUMMED = {
    "population": "residents [persons]",
    "members": "car-sharing members [persons]",
    "stations": "car-sharing stations",
    "vehicles": "shared EVs",
    "chargers": "chargers",
    "pv_kw": "PV [kW]",
    "wind_kw": "wind [kW]",
    "storage_kwh": "storage [kWh]",
    "storage_kw": "storage power [kW]",
    "total_cost_jpy_per_year": "total cost [JPY/year]",
    "energy_system_cost_jpy_per_year": "energy system cost [JPY/year]",
    "km_per_year": "shared km [km/year]",
    "charging_kwh_per_year": "charging [kWh/year]",
    "pv_kwh_per_year": "PV used or exported [kWh/year]",
    "wind_kwh_per_year": "wind used or exported [kWh/year]",
    "grid_import_kwh_per_year": "grid import [kWh/year]",
    "scope2_location_kg_per_year": "scope 2, location-based [kg CO2e/year]",
    "co2_avoided_kg_per_year": "CO2 avoided [kg CO2e/year]",
    "private_cars_replaced": "private cars replaced",
}
"""Columns summed in the national and per-prefecture tables, with their labels."""

DEFAULT_MAP_KPI = "cost_jpy_per_km"


def _ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["status"] == STATUS_OK] if "status" in results else results


def _ratios(sums: pd.Series) -> dict[str, float]:
    """Ratios of sums: cost per km [JPY/km], renewable share of charging [-], CO2 avoided [t/year]."""

    def div(a: str, b: str) -> float:
        den = float(sums.get(b, 0.0))
        return float(sums.get(a, 0.0)) / den if den else float("nan")

    renewable = float(sums.get("pv_kwh_per_year", 0.0)) + float(sums.get("wind_kwh_per_year", 0.0))
    charging = float(sums.get("charging_kwh_per_year", 0.0))
    return {
        "cost_jpy_per_km": div("total_cost_jpy_per_year", "km_per_year"),
        "energy_cost_jpy_per_km": div("energy_system_cost_jpy_per_year", "km_per_year"),
        "renewable_share_annual_fraction": renewable / charging if charging else float("nan"),
        "co2_avoided_t_per_year": float(sums.get("co2_avoided_kg_per_year", 0.0)) / 1000.0,
    }


def national_totals(results: pd.DataFrame) -> pd.Series:
    """Sums over the municipalities planned, ratios of those sums, and counts.

    Returns
    -------
    pd.Series
        The columns of :data:`SUMMED` summed, ``cost_jpy_per_km``, ``energy_cost_jpy_per_km``,
        ``renewable_share_annual_fraction``, ``co2_avoided_t_per_year``, ``municipalities_ok``,
        ``municipalities_failed``.
    """
    ok = _ok(results)
    sums = ok[[c for c in SUMMED if c in ok]].sum(numeric_only=True)
    out = pd.concat([sums, pd.Series(_ratios(sums))])
    out["municipalities_ok"] = len(ok)
    out["municipalities_failed"] = len(results) - len(ok)
    return out


def _prefecture_order() -> dict[str, int]:
    order = {}
    for code, (en, ja, _) in PREFECTURE_AREAS.items():
        order[en] = order[ja] = int(code)
    return order


def prefecture_table(results: pd.DataFrame) -> pd.DataFrame:
    """The sums of :data:`SUMMED` and the ratios of :func:`national_totals` per prefecture (JIS order)."""
    ok = _ok(results)
    if ok.empty:
        return pd.DataFrame(columns=["municipalities", *SUMMED, *_ratios(pd.Series(dtype=float))])
    cols = [c for c in SUMMED if c in ok]
    groups = ok.groupby("prefecture", sort=False)
    table = groups[cols].sum()
    ratios = pd.DataFrame({p: _ratios(row) for p, row in table.iterrows()}).T
    table = pd.concat([groups.size().rename("municipalities"), table, ratios], axis=1)
    rank = _prefecture_order()
    return table.loc[sorted(table.index, key=lambda p: (rank.get(p, 99), str(p)))]


def numeric_kpis(results: pd.DataFrame) -> list[str]:
    """Columns that can colour the map."""
    skip = {"seconds", "worker_peak_rss_mb", "latitude_deg", "longitude_deg"}
    return [c for c in results.columns if c not in skip and pd.api.types.is_numeric_dtype(results[c])]


def kpi_map(results: pd.DataFrame, kpi: str = DEFAULT_MAP_KPI) -> go.Figure:
    """Municipalities at their town halls, coloured by ``kpi``, sized by population (offline: no base map).

    Raises
    ------
    DataError
        ``kpi`` is not a numeric column of the results; the message lists the allowed ones.
    """
    allowed = numeric_kpis(results)
    if kpi not in allowed:
        raise DataError(f"map KPI {kpi!r} is not a numeric column of the results; allowed: {', '.join(allowed)}")
    ok = _ok(results).dropna(subset=[kpi, "latitude_deg", "longitude_deg"])
    values = ok[kpi].to_numpy(float)
    # colours span the 2nd–98th percentiles, so that a few remote islands do not flatten the rest of the country
    low, high = np.percentile(values, [2, 98]) if len(values) else (0.0, 1.0)
    if high <= low:
        low, high = float(np.min(values, initial=0.0)), float(np.max(values, initial=1.0))
    size = 4.0 + 26.0 * np.sqrt(ok["population"].to_numpy(float) / max(1.0, float(ok["population"].max())))
    text = [
        f"{html.escape(str(n))} ({html.escape(str(p))})<br>{kpi} = {v:,.4g}<br>population {pop:,.0f}"
        for n, p, v, pop in zip(ok["name"], ok["prefecture"], ok[kpi], ok["population"], strict=True)
    ]
    fig = go.Figure(
        go.Scatter(
            x=ok["longitude_deg"],
            y=ok["latitude_deg"],
            mode="markers",
            marker={
                "color": ok[kpi],
                "size": size,
                "colorscale": "Viridis",
                "cmin": low,
                "cmax": high,
                "showscale": True,
                "colorbar": {"title": {"text": f"{kpi}<br>(2nd–98th percentile)"}},
                "line": {"width": 0.3, "color": "#333"},
                "opacity": 0.85,
            },
            text=text,
            hoverinfo="text",
        )
    )
    mean_lat = float(ok["latitude_deg"].mean()) if len(ok) else 35.0
    fig.update_layout(
        title=f"Municipalities coloured by {kpi} (marker area ∝ population)",
        xaxis={"title": "longitude [°E]", "showgrid": False},
        yaxis={
            "title": "latitude [°N]",
            "showgrid": False,
            "scaleanchor": "x",
            "scaleratio": 1.0 / math.cos(math.radians(mean_lat)),  # equirectangular at the mean latitude
        },
        height=800,
        template="plotly_white",
    )
    return fig


def cost_per_km_figure(results: pd.DataFrame, column: str = "cost_jpy_per_km") -> go.Figure:
    """Distribution of a cost per km over the municipalities, and the share of all shared km at or below each cost.

    Parameters
    ----------
    column : str
        ``cost_jpy_per_km`` (everything, vehicle leases included) or ``energy_cost_jpy_per_km`` (energy system
        and chargers only) [JPY/km].
    """
    ok = _ok(results).dropna(subset=[column])
    fig = go.Figure()
    values = ok[column].to_numpy(float)
    low = float(values.min()) if len(values) else 0.0
    top = float(np.percentile(values, 99)) if len(values) else 1.0
    beyond = int((values > top).sum())
    width = (top - low) / 50.0 if top > low else 1.0
    fig.add_trace(
        go.Histogram(
            x=values, xbins={"start": low, "end": top, "size": width}, name="municipalities", marker_color="#4c78a8"
        )
    )
    if len(ok):
        order = ok.sort_values(column)
        share = order["km_per_year"].cumsum() / order["km_per_year"].sum()
        fig.add_trace(
            go.Scatter(
                x=order[column],
                y=share,
                name="share of all shared km at or below",
                yaxis="y2",
                mode="lines",
                line={"color": "#e45756"},
            )
        )
        median = float(np.median(values))
        fig.add_vline(x=median, line_dash="dash", annotation_text=f"median {median:,.1f} JPY/km")
    what = "everything, vehicle leases included" if column == "cost_jpy_per_km" else "energy system and chargers"
    fig.update_layout(
        title=f"{column}: cost per km driven ({what}); {beyond} municipalities above the 99th percentile not shown",
        xaxis={"title": "cost per km [JPY/km]", "range": [low - width, top + width]},
        yaxis={"title": "municipalities"},
        yaxis2={"title": "share of km", "overlaying": "y", "side": "right", "range": [0, 1]},
        template="plotly_white",
        height=420,
    )
    return fig


def _fmt_table(frame: pd.DataFrame) -> str:
    def fmt(v):
        if isinstance(v, bool | np.bool_):
            return str(v)
        if isinstance(v, int | np.integer):
            return f"{v:,}"
        if isinstance(v, float | np.floating):
            if math.isnan(v):
                return "–"
            if abs(v) < 5e-4:
                return "0"  # solver round-off of a capacity not built
            if float(v).is_integer() or abs(v) >= 10:
                return f"{v:,.0f}"
            return f"{v:,.3f}"
        return html.escape(str(v))

    return frame.map(fmt).to_html(escape=False, classes="table", border=0)


def method_html(out_dir: Path, results: pd.DataFrame) -> str:
    """How the figures were computed: the sweep's settings (``sweep.json``) and the reduced plan's measured error."""
    settings: dict = {}
    manifest = out_dir / MANIFEST
    if manifest.exists():
        settings = json.loads(manifest.read_text(encoding="utf-8")).get("settings", {})
    derive = settings.get("derive", {})
    days = results["typical_days"].dropna() if "typical_days" in results else pd.Series(dtype=float)
    n_days = f"{int(days.median())}" if len(days) else "24"
    operation = settings.get("operation", "year")
    if operation == "year":
        operating = (
            "Energy flows, shares, costs and emissions come from a dispatch of all 8,760 hours at those "
            "capacities, with the town's cars charged as one battery of their summed energy and power."
        )
    else:
        operating = (
            "Energy flows, shares, costs and emissions are read off the typical days, weighted by the days they "
            "stand for (faster; hour-level figures are smoothed further)."
        )
    return (
        "<h2>How these figures are computed</h2>"
        f"<p>Each municipality's scenario is derived from the template and its row (location → sun and climate, "
        f"weather = {html.escape(str(derive.get('weather', 'municipality')))}; population → members, bookings and "
        f"fleet; prefecture → grid area, emission factor ({html.escape(str(derive.get('grid_factors', 'fy2013')))})"
        f" and tariff ({html.escape(str(derive.get('prices', 'area')))}); see <code>chisan.sweep.derive</code>). "
        f"It is planned with the reduced method: capacities co-optimised on {n_days} linked typical days (tsam; "
        "Kotzur et al. 2018) with the town's fleet as one battery, the same sizing stage as <code>chisan plan</code>; "
        f"towns with more than {settings.get('max_stations', 10)} car-sharing bases are computed on their first "
        f"bases and scaled. {operating}</p>"
        "<p>Measured against <code>chisan plan</code> (every car dispatched hour by hour over the year) on eight "
        "municipalities of up to 45,000 residents (<code>benchmarks/bench_sweep.py --accuracy 8</code>): total "
        "cost and annual renewable share within 0.12 %; installed PV within 0.1 %. The hour-by-hour figures are "
        "optimistic, because one battery of the whole fleet is more flexible than cars each tied to their own "
        "bookings: the hourly-matched renewable share is about 3 % (at most 4 %) higher and the grid import about "
        "11 % (at most 14 %) lower than in <code>chisan plan</code>. Plan a single town with <code>chisan plan</code> "
        "for its hourly figures.</p>"
    )


def write_summary(
    results: pd.DataFrame, out_dir: str | Path, *, kpi: str = DEFAULT_MAP_KPI, title: str = "chisan sweep"
) -> Path:
    """Write ``summary.html`` (self-contained), ``totals.csv``, ``prefectures.csv`` and ``failures.csv``.

    Each file is written to a temporary name and moved into place, so a reader never sees half a file.

    Returns
    -------
    Path
        The HTML report.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    totals = national_totals(results)
    prefs = prefecture_table(results)
    failed = results[results["status"] != STATUS_OK] if "status" in results else results.iloc[0:0]
    fail_cols = [c for c in ("code", "name", "prefecture", "error_type", "error") if c in failed]
    figures = [
        kpi_map(results, kpi),
        cost_per_km_figure(results, "cost_jpy_per_km"),
        cost_per_km_figure(results, "energy_cost_jpy_per_km"),
    ]
    labels = {**SUMMED, **{k: k for k in _ratios(pd.Series(dtype=float))}}
    totals_table = pd.DataFrame({"value": totals}).rename(index=lambda k: labels.get(k, k))
    pref_show = prefs[
        [
            c
            for c in (
                "municipalities",
                "population",
                "vehicles",
                "pv_kw",
                "wind_kw",
                "storage_kwh",
                "total_cost_jpy_per_year",
                "cost_jpy_per_km",
                "co2_avoided_t_per_year",
            )
            if c in prefs
        ]
    ]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1400px}"
        "table.table{border-collapse:collapse;font-size:0.85em}"
        "table.table td,table.table th{padding:2px 8px;text-align:right;border-bottom:1px solid #ddd}</style>",
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{int(totals['municipalities_ok']):,} municipalities planned, {int(totals['municipalities_failed']):,} "
        "failed (listed at the end). Sums over the municipalities planned; ratios are ratios of the sums.</p>",
        "<h2>National totals</h2>",
        _fmt_table(totals_table),
        "<h2>Map</h2>",
        figures[0].to_html(full_html=False, include_plotlyjs=False),
        "<h2>Cost per km</h2>",
        figures[1].to_html(full_html=False, include_plotlyjs=False),
        figures[2].to_html(full_html=False, include_plotlyjs=False),
        "<h2>By prefecture</h2>",
        _fmt_table(pref_show),
        method_html(out, results),
        "<h2>Failed municipalities</h2>",
        _fmt_table(failed[fail_cols]) if len(failed) else "<p>none</p>",
        "</body></html>",
    ]
    report = out / "summary.html"
    _write_text(report, "\n".join(parts))
    _write_text(out / "totals.csv", totals.rename("value").to_csv(index_label="quantity"))
    _write_text(out / "prefectures.csv", prefs.to_csv(index_label="prefecture"))
    _write_text(out / "failures.csv", failed[fail_cols].to_csv(index=False))
    return report


def _write_text(path: Path, text: str) -> None:
    atomic_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
