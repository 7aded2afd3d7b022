"""Figures of the roadmap report (plotly), one function per figure, each returning a ``go.Figure``.

Colours follow the plan report (:data:`chisan.report.figures.COLOURS`) where the quantity is the same.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from chisan.report.figures import COLOURS

STATE_COLOURS = {
    "new": "#4d4d4d",
    "in_car": "#d1495b",
    "second_life": "#7b61a8",
    "resold": "#2e8b57",
    "refabricated": "#e07b39",
    "recycled": "#8c8c8c",
    "recycled_modules": "#b3b3b3",
}
STATE_LABELS = {
    "new": "New packs",
    "in_car": "In cars",
    "second_life": "Reuse: storage at the bases",
    "resold": "Resell: replacement packs",
    "refabricated": "Refabricate: rebuilt packs",
    "recycled": "Recycle: whole packs",
    "recycled_modules": "Recycle: bad modules of rebuilt packs (no pack)",
}
EMISSION_PARTS = {
    "scope2_kg": ("Grid electricity (scope 2)", COLOURS["grid_import_kw"]),
    "embodied_pv_kg": ("PV, embodied", COLOURS["pv_kw"]),
    "embodied_wind_kg": ("Wind, embodied", COLOURS["wind_kw"]),
    "embodied_battery_kg": ("New packs, embodied", COLOURS["charging_kw"]),
}


def _layout(fig: go.Figure, title: str, yaxis: str, xaxis: str = "year", height: int = 430) -> go.Figure:
    fig.update_layout(
        title=title,
        yaxis_title=yaxis,
        xaxis_title=xaxis,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.22},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=height,
    )
    return fig


def emissions_path(years: pd.DataFrame, summary: dict, *, export_credit: bool) -> go.Figure:
    """Yearly emissions by source (stacked, t CO2e), net emissions, peak, net-zero year and target year.

    Parameters
    ----------
    years : pandas.DataFrame
        :attr:`chisan.roadmap.run.RoadmapResult.years`.
    summary : dict
        :attr:`chisan.roadmap.run.RoadmapResult.summary`.
    export_credit : bool
        Whether the export credit is netted (drawn below zero) or only shown as a line.
    """
    fig = go.Figure()
    x = years.index
    for column, (label, colour) in EMISSION_PARTS.items():
        values = years[column] / 1000.0
        if column == "embodied_wind_kg" and not (values > 0).any():
            continue
        fig.add_bar(x=x, y=values, name=label, marker_color=colour)
    credit = -years["export_credit_kg"] / 1000.0
    if export_credit:
        fig.add_bar(x=x, y=credit, name="Export credit (netted)", marker_color=COLOURS["grid_export_kw"])
    else:
        fig.add_scatter(
            x=x, y=credit, name="Export credit (not netted)", mode="lines", line={"dash": "dot", "color": "#999"}
        )
    fig.add_scatter(x=x, y=years["net_kg"] / 1000.0, name="Net emissions", mode="lines+markers", line={"color": "#111"})
    planned = years[years["planned"]]
    fig.add_scatter(
        x=planned.index,
        y=planned["net_kg"] / 1000.0,
        name="Planned years",
        mode="markers",
        marker={"symbol": "diamond-open", "size": 11, "color": "#111"},
    )
    fig.add_vline(x=summary["target_year"], line_dash="dash", line_color="#b00020")
    fig.add_annotation(x=summary["target_year"], y=1, yref="paper", text="target", showarrow=False, yshift=8)
    fig.add_annotation(
        x=summary["peak_year"], y=summary["peak_kg"] / 1000.0, text=f"peak {summary['peak_year']}", showarrow=True
    )
    if summary["net_zero_year"] is not None:
        fig.add_annotation(x=summary["net_zero_year"], y=0, text=f"net zero {summary['net_zero_year']}", showarrow=True)
    fig.update_layout(barmode="relative")
    return _layout(fig, "Emissions path", "t CO2e / year")


def capacity_path(years: pd.DataFrame) -> go.Figure:
    """Fleet, renewables built and second-life storage offered and used, year by year."""
    fig = go.Figure()
    x = years.index
    fig.add_scatter(x=x, y=years["pv_kw"], name="PV [kW]", line={"color": COLOURS["pv_kw"]})
    if (years["wind_kw"] > 0).any():
        fig.add_scatter(x=x, y=years["wind_kw"], name="Wind [kW]", line={"color": COLOURS["wind_kw"]})
    fig.add_bar(
        x=x,
        y=years["second_life_offered_kwh"],
        name="Second-life storage offered [kWh]",
        marker_color=STATE_COLOURS["second_life"],
        opacity=0.35,
    )
    fig.add_bar(
        x=x,
        y=years["storage_kwh"],
        name="Second-life storage used [kWh]",
        marker_color=STATE_COLOURS["second_life"],
    )
    fig.add_scatter(
        x=x, y=years["vehicles"], name="Vehicles", yaxis="y2", mode="lines", line={"color": "#111", "dash": "dot"}
    )
    fig.update_layout(
        barmode="overlay",
        yaxis={"rangemode": "tozero"},
        yaxis2={"title": "vehicles", "overlaying": "y", "side": "right", "rangemode": "tozero"},
    )
    return _layout(fig, "Renewables, storage and fleet", "kW / kWh")


def health_curves(health: pd.DataFrame, *, retire_soh: float, end_soh: float, max_packs: int = 120) -> go.Figure:
    """State of health of every pack, year by year, in a car (red) and in second-life storage (purple).

    Parameters
    ----------
    health : pandas.DataFrame
        :attr:`chisan.roadmap.run.RoadmapResult.health`.
    retire_soh, end_soh : float
        Thresholds drawn as horizontal lines [fraction].
    max_packs : int, default 120
        At most this many packs are drawn (evenly chosen), to keep the report light.
    """
    fig = go.Figure()
    ids = health["pack_id"].unique()
    if len(ids) > max_packs:
        ids = ids[np.linspace(0, len(ids) - 1, max_packs).round().astype(int)]
    shown = {"in_car": False, "second_life": False}
    for pack_id, rows in health[health["pack_id"].isin(ids)].groupby("pack_id", sort=False):
        # SOH at the end of year y is drawn at y + 1 (1 January); a pack starts new (100 %) in its first year.
        x = np.concatenate([[rows["year"].iloc[0]], rows["year"].to_numpy() + 1])
        soh = np.concatenate([[1.0], rows["soh"].to_numpy()]) * 100
        state = np.concatenate([[rows["state"].iloc[0]], rows["state"].to_numpy()])
        for name in ("in_car", "second_life"):
            here = np.flatnonzero(state == name)
            if here.size == 0:
                continue
            start = max(here[0] - 1, 0)  # join the second life to the last point in the car
            part = slice(start, here[-1] + 1)
            fig.add_scatter(
                x=x[part],
                y=soh[part],
                mode="lines",
                line={"color": STATE_COLOURS[name], "width": 1},
                opacity=0.6,
                name=STATE_LABELS[name],
                legendgroup=name,
                showlegend=not shown[name],
                hovertemplate=f"{pack_id}<br>%{{x}}: %{{y:.1f}} %<extra></extra>",
            )
            shown[name] = True
    for value, text in ((retire_soh, "leaves the car"), (end_soh, "end of second life")):
        fig.add_hline(y=value * 100, line_dash="dash", line_color="#555", annotation_text=text)
    return _layout(fig, "State of health of every pack (at the start of each year)", "state of health [% of nominal]")


def lifecycle_sankey(flows: pd.DataFrame, unit: str = "capacity_kwh") -> go.Figure:
    """The 4R flows of the whole roadmap as a Sankey diagram (capacity [kWh] or packs).

    Parameters
    ----------
    flows : pandas.DataFrame
        :attr:`chisan.batteries.lifecycle.StockFlowResult.flows` (``year, source, target, packs,
        capacity_kwh``), summed over the years.
    unit : {"capacity_kwh", "packs"}
    """
    total = flows.groupby(["source", "target"], as_index=False)[["packs", "capacity_kwh"]].sum()
    total = total[total[unit] > 0]
    nodes = [s for s in STATE_COLOURS if s in set(total["source"]) | set(total["target"])]
    index = {name: i for i, name in enumerate(nodes)}
    label_unit = "kWh" if unit == "capacity_kwh" else "packs"
    fig = go.Figure(
        go.Sankey(
            node={
                "label": [STATE_LABELS[n] for n in nodes],
                "color": [STATE_COLOURS[n] for n in nodes],
                "pad": 18,
                "thickness": 18,
            },
            link={
                "source": [index[s] for s in total["source"]],
                "target": [index[t] for t in total["target"]],
                "value": total[unit].tolist(),
                "customdata": total["packs"].tolist(),
                "hovertemplate": f"%{{value:,.0f}} {label_unit} (%{{customdata}} packs)<extra></extra>",
            },
        )
    )
    fig.update_layout(title=f"Where the packs went [{label_unit}]", template="plotly_white", height=420)
    return fig


def materials_recovered(materials: pd.DataFrame) -> go.Figure:
    """Material recovered by recycling each year (stacked by material) and the mass lost [kg]."""
    fig = go.Figure()
    if materials.empty:
        return _layout(fig, "Materials recovered (no pack recycled in the roadmap)", "kg")
    by_year = materials.groupby(["year", "material"])[["recovered_kg", "lost_kg"]].sum().reset_index()
    palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
    lost = by_year.groupby("year")["lost_kg"].sum()
    recovered = by_year.groupby("material")["recovered_kg"].sum()
    by_year = by_year[by_year["material"].isin(recovered[recovered > 0].index)]
    for i, (material, part) in enumerate(by_year.groupby("material")):
        fig.add_bar(x=part["year"], y=part["recovered_kg"], name=f"{material} recovered", marker_color=palette[i % 8])
    fig.add_bar(x=lost.index, y=-lost.to_numpy(), name="lost (all materials)", marker_color="#bbbbbb")
    fig.update_layout(barmode="relative")
    return _layout(fig, "Materials recovered from recycled packs (lost below zero)", "kg / year")
