"""The national picture of a sweep: totals, per-prefecture tables, a map coloured by a KPI, costs per km.

Everything is computed from the consolidated table (:func:`chisan.sweep.store.read_results`), over the
municipalities planned successfully; the failed ones are listed with their errors. Sums are sums; ratios are
ratios of sums (national cost per km = Σ cost / Σ km), never means of ratios.

The HTML report is one self-contained file: plotly.js is embedded once and the map is a plain longitude–latitude
scatter (equirectangular, aspect corrected at the mean latitude), so it opens without internet — plotly's
``scattergeo`` would fetch its coastlines from a CDN and ``scattermap`` its tiles. The prefecture outlines under
the towns are read from the data folder (``--data`` / ``$CHISAN_DATA``: ``maps/japan_prefectures.topojson``,
Global Map Japan (GSI) via dataofjapan/land) and decoded here (:func:`read_topojson_arcs`); they are not bundled
with chisan, and without the folder the map is the towns alone, with a note saying so. The report, which then
holds the outline coordinates, names that source under the map.
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
from chisan.sweep.method import DERIVATION_RULES
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

PREFECTURE_MAP = Path("maps") / "japan_prefectures.topojson"
"""Prefecture outlines inside a data folder laid out like chisan's shared data."""

MAP_ATTRIBUTION = "Prefecture outlines: Global Map Japan (GSI), via dataofjapan/land (japan.topojson)"
"""The attribution the outlines' source asks for (SOURCES.md of the shared data)."""

LABELS: dict[str, str] = {
    **SUMMED,
    "cost_jpy_per_km": "cost per km driven, everything [JPY/km]",
    "energy_cost_jpy_per_km": "energy cost per km driven [JPY/km]",
    "renewable_share_annual_fraction": "renewable share of charging, annual [%]",
    "renewable_share_hourly_matched_fraction": "renewable share of charging, hour by hour [%]",
    "co2_avoided_t_per_year": "CO2 avoided [t CO2e/year]",
    "grid_emission_factor_kg_per_kwh": "grid emission factor [kg CO2/kWh]",
    "import_price_index": "import price index (template's area = 1)",
    "municipalities_ok": "municipalities planned",
    "municipalities_failed": "municipalities failed",
    "municipalities": "municipalities",
}
"""Human labels of the columns shown in the report; other columns get :func:`human_label`'s generic one."""

_UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_jpy_per_year", "JPY/year"),
    ("_jpy_per_km", "JPY/km"),
    ("_jpy_per_kwh", "JPY/kWh"),
    ("_kwh_per_year", "kWh/year"),
    ("_kg_per_year", "kg CO2e/year"),
    ("_kg_per_kwh", "kg CO2/kWh"),
    ("_km_per_year", "km/year"),
    ("_per_year", "/year"),
    ("_fraction", "%"),
    ("_kwh", "kWh"),
    ("_kw", "kW"),
    ("_km", "km"),
    ("_kg", "kg"),
    ("_mb", "MB"),
    ("_deg", "°"),
)
_WORDS = {"co2": "CO2", "pv": "PV", "ev": "EV", "evs": "EVs", "v2g": "V2G", "jpy": "JPY", "kpi": "KPI"}


def human_label(column: str) -> str:
    """A reader's label of a result column: :data:`LABELS`, else words with the unit in brackets.

    ``storage_kw`` → ``"storage power [kW]"``; ``unserved_bookings_fraction`` → ``"unserved bookings [%]"``.
    """
    if column in LABELS:
        return LABELS[column]
    stem, unit = column, ""
    for suffix, text in _UNIT_SUFFIXES:
        if column.endswith(suffix) and len(column) > len(suffix):
            stem, unit = column[: -len(suffix)], text
            break
    words = " ".join(_WORDS.get(w, w) for w in stem.split("_") if w)
    return f"{words} [{unit}]" if unit else words


def _shown(column: str, values: pd.Series) -> pd.Series:
    """Values as :func:`human_label` states them (fractions in %)."""
    return values * 100.0 if column.endswith("_fraction") else values


def prefecture_map_path(data_dir: str | Path | None = None) -> Path | None:
    """The prefecture outlines of the data folder (``data_dir``, else ``$CHISAN_DATA``), None without one.

    Raises
    ------
    DataError
        ``data_dir`` (or ``$CHISAN_DATA``) is given but is not a folder.
    """
    from chisan.resources.japan_climate import resolve_data_dir

    folder = resolve_data_dir(data_dir)
    if folder is None:
        return None
    path = folder / PREFECTURE_MAP
    return path if path.is_file() else None


def read_topojson_arcs(path: str | Path) -> list[np.ndarray]:
    """The arcs of a TopoJSON file as longitude–latitude polylines [°], each an (n, 2) array.

    Quantized arcs are delta-encoded integer positions: position_k = Σ_{j ≤ k} delta_j, then
    lon/lat = position × ``transform.scale`` + ``transform.translate`` (TopoJSON specification, §2.1.2 and §2.2,
    https://github.com/topojson/topojson-specification). Every shared border is one arc, so drawing the arcs
    once draws each coastline and prefecture border once.

    Raises
    ------
    DataError
        The file is not readable TopoJSON (no ``arcs``, or arcs that are not lists of positions).
    """
    path = Path(path)
    try:
        topo = json.loads(path.read_text(encoding="utf-8"))
        arcs = topo["arcs"]
        transform = topo.get("transform")
        out = []
        for arc in arcs:
            xy = np.asarray(arc, dtype=float)[:, :2]
            if transform is not None:
                xy = np.cumsum(xy, axis=0) * np.asarray(transform["scale"], float) + np.asarray(
                    transform["translate"], float
                )
            out.append(xy)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, IndexError) as err:
        raise DataError(f"{path}: not a readable TopoJSON file with arcs ({type(err).__name__}: {err})") from None
    return out


def _outline_trace(arcs: list[np.ndarray]) -> go.Scatter:
    """All arcs as one line trace, polylines separated by gaps (NaN)."""
    gap = np.full((1, 2), np.nan)
    xy = np.concatenate([part for arc in arcs for part in (arc, gap)]) if arcs else np.empty((0, 2))
    return go.Scatter(
        x=xy[:, 0],
        y=xy[:, 1],
        mode="lines",
        line={"color": "#9a9a9a", "width": 0.7},
        name="prefecture outlines",
        hoverinfo="skip",
        showlegend=False,
    )


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
    skip = {"seconds", "cpu_seconds", "worker_peak_rss_mb", "latitude_deg", "longitude_deg"}
    return [c for c in results.columns if c not in skip and pd.api.types.is_numeric_dtype(results[c])]


def kpi_map(results: pd.DataFrame, kpi: str = DEFAULT_MAP_KPI, *, outlines: str | Path | None = None) -> go.Figure:
    """Municipalities at their town halls on prefecture outlines, coloured by ``kpi``, sized by population.

    Every municipality of ``results`` with coordinates is drawn: the planned ones coloured (colours saturate
    beyond the 2nd–98th percentiles, so a few remote islands do not flatten the rest; hover shows every value),
    the planned ones without a value and the failed ones in grey.

    Parameters
    ----------
    kpi : str
        A numeric column (:func:`numeric_kpis`).
    outlines : path, optional
        A TopoJSON file of outlines (:func:`prefecture_map_path`); without one, the towns alone with a note.

    Raises
    ------
    DataError
        ``kpi`` is not a numeric column of the results (the message lists the allowed ones), or the outline
        file is not readable TopoJSON.
    """
    allowed = numeric_kpis(results)
    if kpi not in allowed:
        raise DataError(f"map KPI {kpi!r} is not a numeric column of the results; allowed: {', '.join(allowed)}")
    label = human_label(kpi)
    placed = results.dropna(subset=["latitude_deg", "longitude_deg"])
    ok_mask = placed["status"] == STATUS_OK if "status" in placed else pd.Series(True, index=placed.index)
    coloured = placed[ok_mask & placed[kpi].notna()]
    grey = placed[~(ok_mask & placed[kpi].notna())]
    values = _shown(kpi, coloured[kpi]).to_numpy(float)
    low, high = np.percentile(values, [2, 98]) if len(values) else (0.0, 1.0)
    if high <= low:
        low, high = float(np.min(values, initial=0.0)), float(np.max(values, initial=1.0))
    pop_max = max(1.0, float(placed["population"].max())) if len(placed) else 1.0

    def size(frame: pd.DataFrame) -> np.ndarray:
        return 4.0 + 26.0 * np.sqrt(frame["population"].fillna(0).to_numpy(float) / pop_max)

    def text(frame: pd.DataFrame, what: list[str]) -> list[str]:
        return [
            f"{html.escape(str(n))} ({html.escape(str(p))})<br>{html.escape(w)}<br>residents {pop:,.0f}"
            for n, p, w, pop in zip(frame["name"], frame["prefecture"], what, frame["population"], strict=True)
        ]

    fig = go.Figure()
    note = ""
    if outlines is not None:
        fig.add_trace(_outline_trace(read_topojson_arcs(outlines)))
        note = MAP_ATTRIBUTION
    else:
        note = (
            "No prefecture outlines: give the data folder (--data DIR or $CHISAN_DATA, with "
            f"{PREFECTURE_MAP.as_posix()}) to draw them"
        )
    fig.add_trace(
        go.Scatter(
            x=coloured["longitude_deg"],
            y=coloured["latitude_deg"],
            mode="markers",
            name="municipalities planned",
            marker={
                "color": values,
                "size": size(coloured),
                "colorscale": "Viridis",
                "cmin": low,
                "cmax": high,
                "showscale": True,
                "colorbar": {"title": {"text": f"{html.escape(label)}<br>(saturates beyond 2nd–98th percentile)"}},
                "line": {"width": 0.3, "color": "#333"},
                "opacity": 0.85,
            },
            text=text(coloured, [f"{label} = {v:,.4g}" for v in values]),
            hoverinfo="text",
        )
    )
    if len(grey):
        failed = grey["status"] != STATUS_OK if "status" in grey else pd.Series(False, index=grey.index)
        what = ["failed: see the list at the end" if f else f"{label}: no value" for f in failed]
        fig.add_trace(
            go.Scatter(
                x=grey["longitude_deg"],
                y=grey["latitude_deg"],
                mode="markers",
                name="failed or no value",
                marker={"color": "#bbbbbb", "size": size(grey), "line": {"width": 0.5, "color": "#555"}},
                text=text(grey, what),
                hoverinfo="text",
            )
        )
    unplaced = len(results) - len(placed)
    if unplaced:
        note += f"; {unplaced} municipalities without coordinates are not on the map"
    mean_lat = float(placed["latitude_deg"].mean()) if len(placed) else 35.0
    fig.update_layout(
        title=f"Municipalities coloured by {html.escape(label)} (marker area ∝ residents)",
        xaxis={"title": "longitude [°E]", "showgrid": False, "zeroline": False},
        yaxis={
            "title": "latitude [°N]",
            "showgrid": False,
            "zeroline": False,
            "scaleanchor": "x",
            "scaleratio": 1.0 / math.cos(math.radians(mean_lat)),  # equirectangular at the mean latitude
        },
        annotations=[
            {
                "text": html.escape(note),
                "xref": "paper",
                "yref": "paper",
                "x": 0.0,
                "y": -0.06,
                "showarrow": False,
                "font": {"size": 10, "color": "#555"},
                "xanchor": "left",
            }
        ],
        legend={"orientation": "h", "y": 1.02},
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
    # every municipality in a bin: the bins span the whole range (no percentile cut hides a town)
    low = float(values.min()) if len(values) else 0.0
    top = float(values.max()) if len(values) else 1.0
    width = (top - low) / 50.0 if top > low else 1.0
    fig.add_trace(
        go.Histogram(
            x=values,
            xbins={"start": low, "end": top + width, "size": width},
            name="municipalities",
            marker_color="#4c78a8",
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
        title=f"{human_label(column)}: {what}; all {len(values):,} municipalities planned",
        xaxis={"title": "cost per km driven [JPY/km]", "range": [low - width, top + 2 * width]},
        yaxis={"title": "municipalities"},
        yaxis2={"title": "share of km", "overlaying": "y", "side": "right", "range": [0, 1]},
        template="plotly_white",
        height=420,
    )
    return fig


def _fmt_table(frame: pd.DataFrame, *, index: bool = True) -> str:
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

    return frame.map(fmt).to_html(escape=False, classes="table", border=0, index=index)


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
    weather = str(derive.get("weather", "japan" if not settings else "municipality"))
    climate = {
        "japan": "each town's own climate (its climate region's typical year, irradiance scaled to the measured "
        "GHI near it; hourly regional files of the data folder, else the bundled monthly means)",
        "municipality": "the template's synthetic (Tokyo) climate moved to the town's sun: latitude moves the sun, "
        "not the clouds, temperature or wind",
        "template": "the template's weather, the same everywhere",
    }.get(weather, weather)
    rules = "".join(f"<li><b>{html.escape(what)}</b>: {html.escape(how)}</li>" for what, how in DERIVATION_RULES)
    return (
        "<h2>How these figures were derived</h2>"
        f"<p>Each municipality's scenario is derived from the template and its row (location → weather = "
        f"{html.escape(weather)}: {html.escape(climate)}; population → members, bookings and "
        f"fleet; prefecture → grid area, emission factor ({html.escape(str(derive.get('grid_factors', 'fy2013')))})"
        f" and tariff ({html.escape(str(derive.get('prices', 'area')))}); see <code>chisan.sweep.derive</code> and "
        "the table below for every town). "
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
        f"<p>The rules, as <code>chisan sweep --help</code> states them:</p><ul>{rules}</ul>"
        "<h3>Climate, emission factor and tariff of each town</h3>" + _fmt_table(derivation_table(results), index=False)
    )


DERIVATION_COLUMNS = {
    "code": "code",
    "name": "municipality",
    "prefecture": "prefecture",
    "area": "grid area",
    "weather_source": "climate",
    "grid_factor_source": "emission factor",
    "tariff_source": "tariff",
}
"""Columns of the per-town derivation table, with their headings."""


def derivation_table(results: pd.DataFrame) -> pd.DataFrame:
    """Climate, emission factor and tariff of every municipality of ``results`` (planned or not), in words.

    Rows of an older sweep without the text columns get the numbers they have (the factor in kg CO2/kWh, the
    price index) or "–".
    """
    table = pd.DataFrame(index=results.index)
    for col, heading in DERIVATION_COLUMNS.items():
        table[heading] = results.get(col, "–")
    if "grid_factor_source" not in results and "grid_emission_factor_kg_per_kwh" in results:
        table["emission factor"] = [
            f"{v:.3f} kg CO2/kWh" if pd.notna(v) else "–" for v in results["grid_emission_factor_kg_per_kwh"]
        ]
    if "tariff_source" not in results and "import_price_index" in results:
        table["tariff"] = [
            f"template × price index {v:.3f}" if pd.notna(v) else "–" for v in results["import_price_index"]
        ]
    if "status" in results:  # a town that failed before its derivation has no texts
        failed = (results["status"] != STATUS_OK) & table["climate"].isna()
        table.loc[failed, "climate"] = "– (failed: see the list at the end)"
    return table.fillna("–")


def write_summary(
    results: pd.DataFrame,
    out_dir: str | Path,
    *,
    kpi: str = DEFAULT_MAP_KPI,
    title: str = "chisan sweep",
    data_dir: str | Path | None = None,
) -> Path:
    """Write ``summary.html`` (self-contained), ``totals.csv``, ``prefectures.csv`` and ``failures.csv``.

    Each file is written to a temporary name and moved into place, so a reader never sees half a file.

    Parameters
    ----------
    data_dir : path, optional
        Data folder holding ``maps/japan_prefectures.topojson`` for the map's outlines; default ``$CHISAN_DATA``;
        without one the map shows the towns alone and says so.

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
    outlines = prefecture_map_path(data_dir)
    map_note = (
        f"{MAP_ATTRIBUTION}, read from {outlines}."
        if outlines is not None
        else "No prefecture outlines: give the data folder (--data DIR or $CHISAN_DATA, holding "
        f"{PREFECTURE_MAP.as_posix()}) to draw them; the towns are at their town halls."
    )
    figures = [
        kpi_map(results, kpi, outlines=outlines),
        cost_per_km_figure(results, "cost_jpy_per_km"),
        cost_per_km_figure(results, "energy_cost_jpy_per_km"),
    ]
    shown_totals = totals.copy()
    for key in shown_totals.index:
        if str(key).endswith("_fraction"):
            shown_totals[key] = shown_totals[key] * 100.0  # human_label states fractions in %
    totals_table = pd.DataFrame({"value": shown_totals}).rename(index=human_label)
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
        f"<p style='font-size:0.85em;color:#555'>{html.escape(map_note)}</p>",
        "<h2>Cost per km</h2>",
        figures[1].to_html(full_html=False, include_plotlyjs=False),
        figures[2].to_html(full_html=False, include_plotlyjs=False),
        "<h2>By prefecture</h2>",
        _fmt_table(pref_show.rename(columns=human_label)),
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
