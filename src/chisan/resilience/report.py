"""The report section on emergency power: hours of shelter supply for an outage starting in every step."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from chisan.report.output import fig_html, num
from chisan.resilience.outage import OutageResult
from chisan.scenario.schema import Resilience


def survival_figure(result: OutageResult) -> go.Figure:
    """Left: hours survived by start time over the year; right: probability of surviving each outage length."""
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.62, 0.38],
        subplot_titles=("Hours supplied, by start of the outage", "Probability of surviving an outage of d hours"),
    )
    s = result.survival
    fig.add_trace(
        go.Scattergl(x=s.index, y=s["hours_survived_h"], mode="lines", name="hours supplied [h]", line={"width": 1}),
        row=1,
        col=1,
    )
    p = result.probabilities
    fig.add_trace(
        go.Scatter(
            x=p["duration_h"],
            y=p["survival_probability_fraction"] * 100,
            mode="lines",
            name="probability [%]",
            line={"shape": "hv"},
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(title_text="hours [h]", range=[0, result.outage_h * 1.05], row=1, col=1)
    fig.update_xaxes(title_text="outage length d [h]", row=1, col=2)
    fig.update_yaxes(title_text="starts surviving ≥ d [%]", range=[0, 105], row=1, col=2)
    fig.update_layout(height=380, showlegend=False, margin={"t": 40, "b": 40, "l": 50, "r": 20})
    return fig


def resilience_context(result: OutageResult | None, settings: Resilience | None, survival: dict | None = None) -> dict:
    """Template values of the section (``resilience`` is None when the scenario has no ``[resilience]``);
    ``survival`` is :attr:`chisan.plan.pipeline.PlanRun.survival` when the plan requires survival."""
    if result is None or settings is None:
        return {"resilience": None}
    k = result.summary()["value"]
    shelters = ", ".join(
        f"{sh.name} ({f'{sh.critical_load_kw:g} kW' if sh.critical_load_kw is not None else sh.critical_load_csv})"
        for sh in settings.shelters
    )
    called = settings.called_stations
    called_text = ", ".join(called) if isinstance(called, list) else {"all": "all bases", "none": "no base"}[called]
    text = (
        f"If the grid failed, the shelters ({shelters}) would be islanded with "
        f"{settings.pv_share_fraction:.0%} of the plan's PV and {settings.storage_share_fraction:.0%} of its storage, "
        f"the cars parked at their bases and the cars called in from {called_text} (arriving after "
        f"{settings.call_delay_h:g} h), each car discharging up to {settings.v2h_kw_per_car:g} kW and keeping "
        f"{settings.reserve_soc_fraction:.0%} of its battery. For an outage of {num(result.outage_h)} h starting in "
        f"every step of the plan, the shelters stay supplied {num(k['resilience_hours_min'], 1)} h at worst, "
        f"{num(k['resilience_hours_mean'], 1)} h on average and {num(k['resilience_hours_max'], 1)} h at best; "
        f"they survive the whole outage in {k['full_outage_probability'] * 100:.1f} % of the start steps. "
        "Method: REopt's outage simulator (NREL REopt.jl, outagesim/outage_simulator.jl): PV first, then storage, "
        "then the cars, step by step, until the load is first not met; the year wraps around. Tables: "
        "outage_survival.csv (every start) and outage_probabilities.csv (each outage length)."
    )
    if survival is not None:
        text += (
            f" This plan is required to survive the full outage (chisan.plan.survival) at {survival['start_steps']} "
            f"start steps ({survival['passes']} plan(s)): it costs {num(survival['cost_with_per_year'])} a year, "
            f"{num(survival['cost_per_year'])} more than the plan without the requirement "
            f"({num(survival['cost_without_per_year'])}); the full outage is survived from "
            f"{survival['full_outage_probability_with'] * 100:.1f} % of the start steps instead of "
            f"{survival['full_outage_probability_without'] * 100:.1f} %. In the requirement the cars are pooled, PV "
            "counts hour by hour against the load only, and the call delay and V2H power are not modelled "
            "(the simulation above applies them)."
        )
    rows = [{"name": name, "value": num(r.value, 3 if r.unit == "fraction" else 1), "unit": r.unit,
             "definition": r.definition} for name, r in result.summary().iterrows()]  # fmt: skip
    return {"resilience": {"text": text, "fig": fig_html(survival_figure(result)), "rows": rows}}
