"""The depot figures of the plan report: each depot site's charging, PV output and grid import (issue 14, point 4).

For every site with a depot (``[[depots]]``), two plotly figures in the style of :mod:`chisan.report.figures`
(its colours and layout): the hourly charging of the site's vehicles, the PV output and the grid import over a
representative week (the Monday-to-Sunday week nearest the middle of the horizon, :func:`pick_week`), and the
energy of each month [MWh/month]. The numbers are the plan's own: the charging of the vehicles based at the site's
stations (``PlanResults.vehicle_charge_kw``), and the site meter's PV output and import from the dispatch table
(``site_pv_kw:<site>``, ``site_import_kw:<site>``). With one town meter (``grid.topology = "single_meter"``) a
depot has no meter of its own: the figure then shows the town's PV and import next to the depot's charging and
says so in its title.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from chisan.report.figures import COLOURS, LABELS, _layout, pick_week
from chisan.report.output import fig_html

FLOWS = ("charging_kw", "pv_kw", "grid_import_kw")
"""Columns of a depot site's hourly frame, in the order they are drawn [kW]."""


def depot_sites(prepared) -> dict[str, list[str]]:
    """The sites holding a depot → the depots there (one entry per depot, named by the depot, without meters)."""
    inputs = prepared.inputs
    out: dict[str, list[str]] = {}
    for depot in prepared.scenario.depots:
        if inputs.per_site and "site" in inputs.stations:
            site = str(inputs.stations.at[depot.name, "site"])
        else:
            site = depot.name
        out.setdefault(site, []).append(depot.name)
    return out


def site_hourly(prepared, results, site: str) -> pd.DataFrame:
    """One depot site's hourly flows [kW]: ``charging_kw`` of its vehicles, ``pv_kw`` and ``grid_import_kw`` at its
    meter (the town's with one meter), on the plan's steps."""
    inputs = prepared.inputs
    stations = inputs.stations
    if inputs.per_site and "site" in stations:
        here = stations.index[stations["site"].astype(str) == site]
        pv_col, import_col = f"site_pv_kw:{site}", f"site_import_kw:{site}"
    else:
        here = pd.Index([site])
        pv_col, import_col = "pv_kw", "grid_import_kw"
    vehicles = inputs.vehicles.index[inputs.vehicles["station"].isin(here)]
    charge = results.vehicle_charge_kw.reindex(columns=vehicles)
    dispatch = results.dispatch
    return pd.DataFrame(
        {
            "charging_kw": charge.fillna(0.0).sum(axis=1).to_numpy(float),
            "pv_kw": dispatch[pv_col].to_numpy(float),
            "grid_import_kw": dispatch[import_col].to_numpy(float),
        },
        index=dispatch.index,
    )


def monthly_energy_kwh(hourly: pd.DataFrame, dt_hours: float) -> pd.DataFrame:
    """Energy of each calendar month of the horizon [kWh/month] = Σ power [kW] × step [h], one row per month."""
    months = hourly.index.to_period("M") if hourly.index.tz is None else hourly.index.tz_localize(None).to_period("M")
    energy = hourly.groupby(months).sum() * dt_hours
    energy.columns = [c.replace("_kw", "_kwh") for c in energy.columns]
    return energy


def depot_week_figure(hourly: pd.DataFrame, title: str) -> go.Figure:
    """Charging, PV output and grid import of a depot site over one week [kW], lines in the report's colours."""
    fig = go.Figure()
    for col in FLOWS:
        fig.add_trace(
            go.Scatter(
                x=hourly.index,
                y=hourly[col],
                name=LABELS[col],
                mode="lines",
                line={"color": COLOURS[col], "width": 1.5},
                fill="tozeroy" if col == "pv_kw" else None,
            )
        )
    return _layout(fig, title, "power [kW]")


def depot_month_figure(energy_kwh: pd.DataFrame, title: str) -> go.Figure:
    """Charging, PV output and grid import of a depot site per month [MWh/month], grouped bars."""
    names = [p.strftime("%b %Y") for p in energy_kwh.index]
    fig = go.Figure()
    for col in FLOWS:
        fig.add_trace(
            go.Bar(
                x=names,
                y=energy_kwh[col.replace("_kw", "_kwh")] / 1000.0,  # [MWh] = [kWh] / 1000
                name=LABELS[col],
                marker_color=COLOURS[col],
            )
        )
    fig.update_layout(barmode="group")
    return _layout(fig, title, "energy [MWh/month]")


def depot_figures(prepared, results) -> list[tuple[go.Figure, go.Figure]]:
    """Per depot site, its week figure and its monthly figure (empty without depots)."""
    out = []
    single = not prepared.inputs.per_site
    for site, depots in depot_sites(prepared).items():
        hourly = site_hourly(prepared, results, site)
        where = f"depot {', '.join(depots)}" + (" (the town's meter: PV and import are the town's)" if single else "")
        if not single:
            where = f"site {site} ({', '.join(depots)})"
        week = pick_week(hourly, tuple(sorted(set(hourly.index.month))))
        start, end = week.index[0], week.index[-1]
        out.append(
            (
                depot_week_figure(week, f"{where}: charging, PV and grid import, {start:%d %b} – {end:%d %b}"),
                depot_month_figure(monthly_energy_kwh(hourly, prepared.inputs.dt_hours), f"{where}: monthly energy"),
            )
        )
    return out


def depot_figures_html(prepared, results) -> list[str]:
    """The depot figures as HTML fragments for the report template (an empty list without depots)."""
    if not prepared.scenario.depots:
        return []
    return [fig_html(f) for pair in depot_figures(prepared, results) for f in pair]
