"""Figures of the plan report (plotly), one function per figure, each returning a ``plotly.graph_objects.Figure``.

Colours are fixed per flow so the same quantity looks the same in every figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

COLOURS = {
    "pv_kw": "#f2b705",
    "wind_kw": "#4ba3c3",
    "storage_discharge_kw": "#7b61a8",
    "grid_import_kw": "#8c8c8c",
    "v2g_kw": "#2e8b57",
    "charging_kw": "#d1495b",
    "storage_charge_kw": "#b39ddb",
    "grid_export_kw": "#c9c9c9",
    "curtailed_kw": "#ffe08a",
    "other_load_kw": "#6d597a",
    "hydrogen_electricity_kw": "#1f77b4",
}
LABELS = {
    "pv_kw": "PV",
    "wind_kw": "Wind",
    "storage_discharge_kw": "Storage out",
    "grid_import_kw": "Grid import",
    "v2g_kw": "V2G",
    "charging_kw": "Vehicle charging",
    "storage_charge_kw": "Storage in",
    "grid_export_kw": "Grid export",
    "curtailed_kw": "Curtailed",
    "other_load_kw": "Other load",
    "hydrogen_electricity_kw": "Electrolyser + compressor",
}
SUPPLY = ["pv_kw", "wind_kw", "storage_discharge_kw", "v2g_kw", "grid_import_kw"]
DEMAND = ["charging_kw", "storage_charge_kw", "grid_export_kw", "other_load_kw", "hydrogen_electricity_kw"]


def _layout(fig: go.Figure, title: str, yaxis: str, xaxis: str = "") -> go.Figure:
    fig.update_layout(
        title=title,
        yaxis_title=yaxis,
        xaxis_title=xaxis,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=420,
    )
    return fig


def pick_week(dispatch: pd.DataFrame, months: tuple[int, ...]) -> pd.DataFrame:
    """The 7 days starting on the Monday nearest the middle of the given months (or the first week there)."""
    idx = dispatch.index
    inside = dispatch[np.isin(idx.month, months)]
    if inside.empty:
        inside = dispatch
    middle = inside.index[len(inside) // 2]
    start = middle.normalize() - pd.Timedelta(days=middle.dayofweek)
    week = dispatch[(dispatch.index >= start) & (dispatch.index < start + pd.Timedelta(days=7))]
    return week if len(week) else inside.iloc[: 7 * 24]


def dispatch_week(dispatch: pd.DataFrame, title: str) -> go.Figure:
    """Supply stacked above zero, consumption stacked below zero, for one week [kW]."""
    fig = go.Figure()
    for col in SUPPLY:
        if col in dispatch and dispatch[col].abs().sum() > 1e-9:
            fig.add_trace(
                go.Scatter(
                    x=dispatch.index,
                    y=dispatch[col],
                    name=LABELS[col],
                    stackgroup="supply",
                    line={"width": 0},
                    fillcolor=COLOURS[col],
                    mode="lines",
                )
            )
    for col in DEMAND:
        if col in dispatch and dispatch[col].abs().sum() > 1e-9:
            fig.add_trace(
                go.Scatter(
                    x=dispatch.index,
                    y=-dispatch[col],
                    name=LABELS[col],
                    stackgroup="demand",
                    line={"width": 0},
                    fillcolor=COLOURS[col],
                    mode="lines",
                )
            )
    if "pv_available_kw" in dispatch and dispatch["pv_available_kw"].sum() > 0:
        fig.add_trace(
            go.Scatter(
                x=dispatch.index,
                y=dispatch["pv_available_kw"],
                name="PV available",
                line={"color": "#a67c00", "dash": "dot", "width": 1},
            )
        )
    return _layout(fig, title, "power [kW] (supply > 0, consumption < 0)")


def monthly_energy(dispatch: pd.DataFrame, dt_hours: float) -> go.Figure:
    """Monthly energy by flow [MWh]."""
    months = dispatch.groupby(dispatch.index.month).sum() * dt_hours / 1000.0
    names = pd.to_datetime([f"2001-{m:02d}-01" for m in months.index]).strftime("%b")
    fig = go.Figure()
    for col in SUPPLY:
        if col in months and months[col].sum() > 1e-9:
            fig.add_trace(
                go.Bar(x=names, y=months[col], name=LABELS[col], marker_color=COLOURS[col], offsetgroup="supply")
            )
    for col in [*DEMAND, "curtailed_kw"]:
        if col in months and months[col].sum() > 1e-9:
            fig.add_trace(
                go.Bar(x=names, y=-months[col], name=LABELS[col], marker_color=COLOURS[col], offsetgroup="demand")
            )
    fig.update_layout(barmode="relative")
    return _layout(fig, "Monthly energy", "energy [MWh/month] (supply > 0, consumption < 0)")


def vehicle_energy_heatmap(energy: pd.DataFrame, usable_kwh: pd.Series) -> go.Figure:
    """Each vehicle's lowest daily state of charge [%], vehicles × days (the days a booking drew it down)."""
    soc = energy.divide(usable_kwh.reindex(energy.columns), axis=1) * 100.0
    daily = soc.groupby(soc.index.normalize()).min()
    fig = go.Figure(
        go.Heatmap(
            z=daily.T.to_numpy(),
            x=daily.index,
            y=[str(c) for c in daily.columns],
            colorscale="Viridis",
            zmin=0,
            zmax=100,
            colorbar={"title": "lowest SOC [%]"},
        )
    )
    fig = _layout(fig, "Lowest state of charge of each vehicle per day", "vehicle", "day")
    fig.update_layout(height=max(420, 14 * len(daily.columns)))
    return fig


def fleet_soc_by_hour(energy: pd.DataFrame, usable_kwh: pd.Series) -> go.Figure:
    """Mean fleet state of charge [%] by hour of day and day of year."""
    total = energy.sum(axis=1) / float(usable_kwh.reindex(energy.columns).sum()) * 100.0
    frame = pd.DataFrame({"soc": total.to_numpy(), "day": total.index.normalize(), "hour": total.index.hour})
    grid = frame.pivot_table(index="hour", columns="day", values="soc", aggfunc="mean")
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(), x=grid.columns, y=grid.index, colorscale="Viridis", colorbar={"title": "fleet SOC [%]"}
        )
    )
    return _layout(fig, "Energy stored in the whole fleet, by hour of day", "hour of day", "day")


def cost_breakdown(costs: pd.DataFrame, currency: str) -> go.Figure:
    """Annualised cost of the energy system and chargers by component: investment, fixed O&M, operation
    [currency/year]. Vehicle leases are left out (they dwarf the rest; the cost table lists them)."""
    costs = costs.drop(index=[c for c in costs.index if c.startswith("Vehicles")])
    fig = go.Figure()
    for col, name, colour in (
        ("investment_per_year", "Investment (annuity)", "#355c7d"),
        ("fixed_om_per_year", "Fixed O&M", "#6c5b7b"),
        ("operation_per_year", "Operation / lease / grid", "#c06c84"),
    ):
        fig.add_trace(go.Bar(x=costs.index, y=costs[col], name=name, marker_color=colour))
    fig.update_layout(barmode="relative")
    return _layout(fig, "Annualised cost of the energy system and chargers", f"{currency}/year")


CARBON_BARS = (
    ("scope2_location_based_kg", "Scope 2, location-based", "#8c8c8c"),
    ("scope2_market_based_kg", "Scope 2, market-based", "#b0b0b0"),
    ("baseline_private_car_kg", "Baseline: private gasoline cars", "#d1495b"),
    ("baseline_depot_diesel_kg", "Baseline: diesel depot vehicles", "#a23b4a"),
    ("baseline_delivered_hydrogen_kg", "Baseline: delivered grey hydrogen", "#7a2d3a"),
    ("avoided_by_car_sharing_kg", "Avoided by car-sharing (private cars replaced)", "#2e8b57"),
    ("avoided_by_depots_kg", "Avoided by the depots (diesel replaced)", "#3f7f6a"),
    ("avoided_by_hydrogen_fleet_kg", "Avoided by hydrogen (delivered grey hydrogen replaced)", "#4a90a4"),
    ("avoided_by_local_renewables_kg", "Avoided by local renewables (grid avoided)", "#f2b705"),
    ("avoided_kg", "Avoided in total", "#1b5e20"),
)
"""Lines of :func:`carbon_breakdown`: key of ``PlanResults.emissions`` [kg CO2e/year], label and colour. The four
``avoided_by_*`` lines sum to ``avoided_kg`` (:mod:`chisan.plan.results`)."""

ALWAYS_DRAWN = {"scope2_location_based_kg", "scope2_market_based_kg", "avoided_kg"}
"""Lines drawn even when zero; the others only when non-zero (a plan without depots has no depot line)."""


def carbon_breakdown(emissions: pd.Series) -> go.Figure:
    """Scope-2 emissions (location and market based), the baselines, each non-zero cause of the CO2 avoided
    (car-sharing, depots, hydrogen, local renewables) and the total avoided [t CO2e/year]."""
    bars = [
        (label, float(emissions[key]) / 1000.0, colour)  # [t] = [kg] / 1000
        for key, label, colour in CARBON_BARS
        if key in emissions and (key in ALWAYS_DRAWN or abs(float(emissions[key])) > 1e-9)
    ]
    fig = go.Figure(
        go.Bar(
            x=[b[0] for b in bars],
            y=[b[1] for b in bars],
            marker_color=[b[2] for b in bars],
            text=[f"{b[1]:,.1f}" for b in bars],
            textposition="outside",
        )
    )
    return _layout(fig, "Carbon: the plan against what the town would emit without it", "t CO2e/year")


def duration_curve(dispatch: pd.DataFrame) -> go.Figure:
    """Grid import and export sorted from highest to lowest over the year [kW]."""
    fig = go.Figure()
    for col in ("grid_import_kw", "grid_export_kw", "charging_kw"):
        values = np.sort(dispatch[col].to_numpy())[::-1]
        fig.add_trace(go.Scatter(y=values, name=LABELS[col], line={"color": COLOURS[col]}))
    return _layout(fig, "Duration curves", "power [kW]", "hours of the year, sorted")


CASH_FLOW_COLUMNS = {
    "investment": ("Investment", "#355c7d"),
    "replacements": ("Replacements", "#6c8ebf"),
    "fixed_om": ("Fixed O&M", "#6c5b7b"),
    "energy_savings": ("Grid bill saved", "#f2b705"),
    "carbon_savings": ("Carbon price saved", "#2e8b57"),
    "battery_ageing_savings": ("Battery ageing saved", "#c06c84"),
    "hydrogen_savings": ("Delivered hydrogen saved", "#4a90a4"),
    "salvage": ("Salvage value", "#8c8c8c"),
}
"""Cash-flow columns (without the currency suffix) → label and colour."""


def cash_flow_chart(flows: pd.DataFrame, currency: str) -> go.Figure:
    """Yearly cash flows against business as usual, stacked by kind, with the cumulative and discounted
    cumulative flow as lines [currency] (:func:`chisan.economics.cashflows.project_cash_flows`)."""
    cur = currency.lower()
    fig = go.Figure()
    for col, (name, colour) in CASH_FLOW_COLUMNS.items():
        values = flows[f"{col}_{cur}"]
        if values.abs().sum() > 1e-9:
            fig.add_trace(go.Bar(x=flows.index, y=values, name=name, marker_color=colour))
    fig.add_trace(go.Scatter(x=flows.index, y=flows[f"cumulative_{cur}"], name="Cumulative", line={"color": "#222"}))
    fig.add_trace(
        go.Scatter(
            x=flows.index,
            y=flows[f"cumulative_discounted_{cur}"],
            name="Cumulative, discounted",
            line={"color": "#222", "dash": "dot"},
        )
    )
    fig.update_layout(barmode="relative")
    return _layout(fig, "Yearly cash flows against business as usual", f"{currency} (money in > 0, out < 0)", "year")


SEASON_WEEKS = (("A summer week", (7, 8)), ("A winter week", (1, 2)))
"""Weeks the report shows when the horizon holds them: title and months to pick from."""


def report_weeks(dispatch: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Two weeks to show, each inside the horizon: the summer and the winter week when the horizon holds those
    months, otherwise weeks of the horizon itself (its middle, then its last seven days) titled by their dates —
    a two-month run in June never shows "A winter week"."""
    months = set(dispatch.index.month)
    weeks = [(title, pick_week(dispatch, m)) for title, m in SEASON_WEEKS if months & set(m)]
    steps_per_week = max(1, round(pd.Timedelta(days=7) / (dispatch.index[1] - dispatch.index[0])))
    for week in (pick_week(dispatch, tuple(sorted(months))), dispatch.iloc[-steps_per_week:]):
        if len(weeks) >= 2:
            break
        if any(w.index[0] == week.index[0] for _, w in weeks):
            continue
        start, end = week.index[0], week.index[-1]
        weeks.append((f"The week of {start:%d %B} – {end:%d %B}", week))
    while len(weeks) < 2:  # a horizon of a week or less: the same days twice
        weeks.append(weeks[-1])
    return weeks
