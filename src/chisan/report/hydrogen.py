"""The hydrogen section of the plan report: electrolyser operation, hydrogen stock, kg made and bought, cost per kg."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from chisan.report.output import fig_html, num

FIGURE_DAYS = 14
"""Days shown in the electrolyser and stock figure (the first of the horizon)."""


def hydrogen_figure(hourly, days: int = FIGURE_DAYS) -> go.Figure:
    """Electrolyser electricity and hydrogen made, dispensed, bought [kg/h] above; the store's stock [kg] below."""
    step = hourly.index[1] - hourly.index[0] if len(hourly) > 1 else pd.Timedelta(hours=1)
    part = hourly.iloc[: int(days * (pd.Timedelta(days=1) / step))]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, specs=[[{"secondary_y": True}], [{}]])
    fig.add_trace(
        go.Scatter(x=part.index, y=part["electricity_kw"], name="electrolyser + compressor [kW]", line={"width": 1}),
        row=1,
        col=1,
    )
    for col, name in (
        ("produced_kg_per_h", "made [kg/h]"),
        ("dispensed_kg_per_h", "dispensed [kg/h]"),
        ("bought_kg_per_h", "bought [kg/h]"),
    ):
        if part[col].abs().sum() > 1e-9:
            fig.add_trace(
                go.Scatter(x=part.index, y=part[col], name=name, line={"width": 1, "dash": "dot"}),
                row=1,
                col=1,
                secondary_y=True,
            )
    fig.add_trace(go.Scatter(x=part.index, y=part["stock_kg"], name="stock [kg]", fill="tozeroy"), row=2, col=1)
    fig.update_yaxes(title_text="kW", row=1, col=1)
    fig.update_yaxes(title_text="kg/h", row=1, col=1, secondary_y=True)
    fig.update_yaxes(title_text="kg", row=2, col=1)
    fig.update_layout(
        title=f"Electrolyser operation and hydrogen stock, first {days} days",
        template="plotly_white",
        legend={"orientation": "h", "y": -0.15},
        margin={"l": 60, "r": 60, "t": 50, "b": 40},
        height=520,
    )
    return fig


DECIMALS = {"kW": 1, "h/year": 0, "kg": 1, "kg/h": 1, "kg/year": 0, "kWh/year": 0}
"""Decimals shown per unit (hours and kg per year whole; capacities to a tenth); other units: 0 from 100, else 2."""


def figure_text(value: float, unit: str) -> tuple[str, str]:
    """A hydrogen figure and its unit for people: shares in percent, kg and hours per year without decimals.

    Returns
    -------
    (value, unit)
    """
    if unit == "fraction":
        return f"{value * 100:,.1f}", "%"
    decimals = DECIMALS.get(unit, 0 if abs(value) >= 100 else 2)
    return num(value, decimals), unit


def hydrogen_context(results, inputs) -> dict:
    """Template values of the hydrogen section (``hydrogen`` is None without hydrogen)."""
    h2 = getattr(results, "hydrogen", None)
    if h2 is None:
        return {"hydrogen": None}
    f = h2.figures["value"]
    cur = inputs.currency
    text = (
        f"The station at {inputs.hydrogen.site or 'the town bus'} dispenses "
        f"{num(f['hydrogen_dispensed_kg_per_year'])} kg of hydrogen a year to {len(h2.vehicles)} fuel-cell vehicles. "
        f"An electrolyser of {num(f['electrolyser_kw'], 1)} kW runs {num(f['electrolyser_full_load_hours'])} "
        f"full-load hours a year and makes {num(f['hydrogen_produced_kg_per_year'])} kg, "
        f"{num(f['hydrogen_from_local_renewables_kg_per_year'])} kg of it from local renewables; "
        f"{num(f['hydrogen_bought_kg_per_year'])} kg is bought delivered. The renewable share of the hydrogen is "
        f"{f['hydrogen_renewable_share_fraction'] * 100:.1f} %; its levelised cost is "
        f"{num(f['levelised_cost_of_hydrogen_per_kg'], 2)} {cur}/kg (store {num(f['hydrogen_storage_kg'], 1)} kg, "
        f"dispenser {num(f['dispenser_kg_per_h'], 1)} kg/h)."
    )
    rows = [
        {
            "name": str(r.label),
            **dict(zip(("value", "unit"), figure_text(r.value, r.unit), strict=True)),
            "definition": r.definition,
        }
        for r in h2.figures.itertuples()
    ]
    return {"hydrogen": {"text": text, "rows": rows, "figure": fig_html(hydrogen_figure(h2.hourly))}}
