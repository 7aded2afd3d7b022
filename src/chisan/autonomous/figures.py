"""Plotly figures of a simulation: the fleet's states over time, the wait-time distribution, charging against PV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from chisan.autonomous.metrics import pv_used_kw
from chisan.autonomous.simulate import STATES, SimulationResult


def _times(result: SimulationResult) -> pd.DatetimeIndex:
    return result.origin + pd.to_timedelta(np.arange(result.n_steps) * result.step_min, unit="min")


def fleet_state_figure(result: SimulationResult) -> go.Figure:
    """Cars in each state over time (stacked areas)."""
    counts = np.stack([(result.state == code).sum(axis=1) for code in range(len(STATES))], axis=1)
    t = _times(result)
    fig = go.Figure()
    for code, name in enumerate(STATES):
        fig.add_trace(go.Scatter(x=t, y=counts[:, code], name=name.replace("_", " "), stackgroup="fleet", mode="none"))
    fig.update_layout(title="Fleet state", xaxis_title="time", yaxis_title="cars", template="plotly_white")
    return fig


def wait_figure(result: SimulationResult, max_wait_min: float) -> go.Figure:
    """Histogram of the waits [min] of served requests, with the wait limit."""
    wait = result.wait_min[np.isfinite(result.wait_min)]
    fig = go.Figure(go.Histogram(x=wait, xbins={"size": 1.0}, name="served requests"))
    fig.add_vline(x=max_wait_min, line_dash="dash", annotation_text=f"{max_wait_min:g} min")
    unserved = int(np.sum(~np.isfinite(result.wait_min)))
    fig.update_layout(
        title=f"Wait from request to pick-up ({unserved:,} unserved)",
        xaxis_title="wait [min]",
        yaxis_title="requests",
        template="plotly_white",
    )
    return fig


def charging_figure(result: SimulationResult) -> go.Figure:
    """Charging power of the fleet, the PV output and the part of the charging PV covers [kW]."""
    t = _times(result)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t, y=result.pv_kw, name="PV output [kW]", line={"color": "orange"}))
    fig.add_trace(go.Scatter(x=t, y=result.charging_kw.sum(axis=1), name="charging [kW]", line={"color": "blue"}))
    fig.add_trace(go.Scatter(x=t, y=pv_used_kw(result), name="charging from PV [kW]", fill="tozeroy",
                             line={"color": "green", "width": 0}))  # fmt: skip
    fig.update_layout(title="Charging against PV", xaxis_title="time", yaxis_title="kW", template="plotly_white")
    return fig
