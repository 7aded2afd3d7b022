"""Elastic versions of the planning LP: penalised slack on the rows that can make a plan infeasible.

When a plan (or one of its stages) is infeasible, HiGHS says only that. The elastic model adds a non-negative slack
to each row family that can fail and prices it far above any energy cost (:data:`SLACK_PENALTY_PER_KWH`), so its
optimum first meets as much as it can and then costs what the feasible part costs — the "elastic programming" of
Brown & Graves 1975 and the usual phase-1 of an LP (Chinneck 2008, *Feasibility and Infeasibility in
Optimization*, §2). The slacks left in the optimum name the family, the site and the period that cannot be met
and by how much [kWh]; on a feasible problem they are all 0 and the optimum is unchanged (tested).

Families with a slack:

- ``Slack-balance_kw`` (snapshot, site): energy a meter lacks (``Site-balance``, or ``Bus-balance`` with one
  meter) — a meter or connection limit, or storage and PV too small for the charging behind it;
- ``Slack-hourly_import_kw`` (snapshot, site): import above what the hourly-matched renewable target allows,
  at most the site's import in the step — where and when the target is missed;
- ``Slack-fleet_kwh`` (snapshot, station): energy a pooled fleet lacks (``Fleet-energy_balance`` of the sizing
  and aggregate models) — trips its batteries cannot drive on what they hold and can charge, e.g. a typical day
  whose trip chain is longer than the station's usable energy;
- ``Slack-policy`` (one per target row): the annual renewable target [kWh], the import cap [kWh] and the
  emission cap [kg].

The elastic model is used only to explain or repair an infeasible plan; normal runs never build it.
"""

from __future__ import annotations

from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from chisan.plan.inputs import PlanInputs
from chisan.plan.model import STATION, _t, build_model, site_index

SLACK_PENALTY_PER_KWH = 1e6
"""Price of one kWh (or kg) of slack in the elastic model [currency/kWh]: above any shadow price a feasible plan has
(a kWh of storage or PV costs ≤ ¥1e5 a year), so the slacks are 0 whenever the rows can be met."""

POLICY_ROWS = {
    "Policy-renewable_share": "policy.renewable_share_min_fraction",
    "Policy-grid_import": "policy.max_grid_import_kwh_per_year",
    "Policy-emissions": "policy.max_emissions_kg_per_year",
}

BALANCE_PENALTY_FACTOR = 10.0
"""A kWh missing at a meter costs this many times :data:`SLACK_PENALTY_PER_KWH`: a missed target (import beyond it)
is cheaper than energy from nowhere, so the elastic model names the target when importing would serve the load."""

FLEET_PENALTY_FACTOR = 10.0 * BALANCE_PENALTY_FACTOR
"""A kWh put into a pooled fleet from nowhere costs this many times :data:`SLACK_PENALTY_PER_KWH`: more than a kWh
missing at its meter over any charging efficiency ≥ 0.1, so a fleet is named only when no meter energy could
charge it (its trips are longer than its batteries or its plugged-in hours allow)."""

SLACK_TOL_KWH = 1e-3
"""Slack below this is solver noise [kWh]."""


def _relax(m: linopy.Model, name: str, term: linopy.LinearExpression) -> None:
    """Replace constraint ``name`` by the same row with ``term`` added to its left-hand side."""
    con = m.constraints[name]
    lhs, rhs = con.lhs, con.rhs
    sign = str(np.unique(con.sign.values)[0])
    m.remove_constraints(name)
    if sign == "=":
        m.add_constraints(lhs + term == rhs, name=name)
    elif sign == ">=":
        m.add_constraints(lhs + term >= rhs, name=name)
    else:
        m.add_constraints(lhs - term <= rhs, name=name)


def add_slack(m: linopy.Model, inputs: PlanInputs) -> None:
    """Add the slack families to a built model (an ``extra_functionality``); see the module docstring."""
    t = _t(inputs)
    wdt = xr.DataArray(inputs.weight.to_numpy(float) * inputs.dt_hours, coords=[t])
    if inputs.per_site:
        short = m.add_variables(lower=0, coords=[t, site_index(inputs)], name="Slack-balance_kw")
        _relax(m, "Site-balance", short.to_linexpr())
    else:
        short = m.add_variables(lower=0, coords=[t], name="Slack-balance_kw")
        _relax(m, "Bus-balance", short.to_linexpr())
    if "Fleet-energy_balance" in m.constraints:  # energy from nowhere into a pooled fleet's batteries [kWh]
        stations = pd.Index(inputs.stations.index.astype(str), name=STATION)
        lacking = m.add_variables(lower=0, coords=[t, stations], name="Slack-fleet_kwh")
        _relax(m, "Fleet-energy_balance", -1.0 * lacking)
    hourly = inputs.renewable_share_basis == "hourly" and "Policy-renewable_share" in m.constraints
    if hourly:
        imp = m.variables["Site-import_kw"] if inputs.per_site else m.variables["Grid-import_kw"]
        coords = [t, site_index(inputs)] if inputs.per_site else [t]
        over = m.add_variables(lower=0, coords=coords, name="Slack-hourly_import_kw")
        m.add_constraints(over - imp <= 0, name="Slack-hourly_import_within")
        _relax(m, "Policy-renewable_share", (over * wdt).sum())
    for row in POLICY_ROWS:
        if row in m.constraints and not (hourly and row == "Policy-renewable_share"):
            slack = m.add_variables(lower=0, name=f"Slack-{row[len('Policy-') :]}")
            _relax(m, row, 1.0 * slack)


def build_elastic_model(inputs: PlanInputs, penalty_per_kwh: float = SLACK_PENALTY_PER_KWH) -> linopy.Model:
    """The model of ``inputs`` with slack on every row family that can fail, priced at ``penalty_per_kwh``."""
    m = build_model(inputs, extra_functionality=add_slack)
    t = _t(inputs)
    wdt = xr.DataArray(inputs.weight.to_numpy(float) * inputs.dt_hours, coords=[t])
    extra = None
    for name, factor in (("Slack-balance_kw", BALANCE_PENALTY_FACTOR), ("Slack-hourly_import_kw", 1.0)):
        if name in m.variables:
            term = (m.variables[name] * (wdt * penalty_per_kwh * factor)).sum()
            extra = term if extra is None else extra + term
    if "Slack-fleet_kwh" in m.variables:  # [kWh] per step already: weighted, not times the step length
        weight = xr.DataArray(inputs.weight.to_numpy(float), coords=[t])
        extra = extra + (m.variables["Slack-fleet_kwh"] * (weight * penalty_per_kwh * FLEET_PENALTY_FACTOR)).sum()
    for row in POLICY_ROWS:
        name = f"Slack-{row[len('Policy-') :]}"
        if name in m.variables:
            extra = extra + penalty_per_kwh * m.variables[name]
    m.add_objective(m.objective.expression + extra, overwrite=True)
    return m


@dataclass(frozen=True)
class Shortfall:
    """What an elastic model could not meet.

    Attributes
    ----------
    family : str
        The requirement: ``"meter balance"``, ``"hourly renewable target"``, or a scenario field for a target row.
    kwh : float
        The amount missing [kWh] (kg CO2e for the emission cap), as represented by the steps (a typical day counts
        its weight).
    by_site_day : pd.DataFrame
        For time-resolved families: kWh missing per (calendar day start, site), largest first (columns ``day``,
        ``site``, ``kwh``); empty for annual rows.
    """

    family: str
    kwh: float
    by_site_day: pd.DataFrame


def shortfalls(m: linopy.Model, inputs: PlanInputs, days: pd.DatetimeIndex | None = None) -> list[Shortfall]:
    """The slacks of a solved elastic model, per family, largest first; empty when the rows are all met.

    Parameters
    ----------
    days : pd.DatetimeIndex, optional
        Calendar date each step stands for (for typical days: a date of the days the cluster represents);
        default the snapshots' dates.
    """
    out = []
    w = inputs.weight.to_numpy(float) * inputs.dt_hours
    dates = (inputs.snapshots if days is None else days).normalize()
    families = (
        ("Slack-balance_kw", "meter balance"),
        ("Slack-hourly_import_kw", "hourly renewable target"),
        ("Slack-fleet_kwh", "fleet energy"),
    )
    for name, family in families:
        if name not in m.variables:
            continue
        sol = np.nan_to_num(m.variables[name].solution.to_numpy())
        per_step = inputs.weight.to_numpy(float) if family == "fleet energy" else w  # kWh already, or kW x h
        kwh = sol * (per_step[:, None] if sol.ndim == 2 else per_step)
        if kwh.sum() <= SLACK_TOL_KWH:
            continue
        if family == "fleet energy":
            sites = list(inputs.stations.index.astype(str))
        else:
            sites = list(site_index(inputs)) if sol.ndim == 2 else ["town"]
        frame = pd.DataFrame(kwh.reshape(len(w), -1), columns=sites)
        frame["day"] = np.asarray(dates)
        per = frame.groupby("day").sum().stack().rename("kwh").reset_index()
        per.columns = ["day", "site", "kwh"]
        per = per[per["kwh"] > SLACK_TOL_KWH].sort_values("kwh", ascending=False, ignore_index=True)
        out.append(Shortfall(family, float(kwh.sum()), per))
    for row, field in POLICY_ROWS.items():
        name = f"Slack-{row[len('Policy-') :]}"
        if name in m.variables and float(m.variables[name].solution) > SLACK_TOL_KWH:
            empty = pd.DataFrame(columns=["day", "site", "kwh"])
            out.append(Shortfall(field, float(m.variables[name].solution), empty))
    return sorted(out, key=lambda s: -s.kwh)


def _week(day: pd.Timestamp) -> str:
    monday = pd.Timestamp(day) - pd.Timedelta(days=pd.Timestamp(day).dayofweek)
    return f"{monday:%Y-%m-%d}"


def describe(found: list[Shortfall], inputs: PlanInputs, scale: float = 1.0) -> str:
    """One sentence per family: what is short, where and when most of it is, e.g. "the hourly 99 % renewable
    target is short by 1,234 kWh a year, most at site Base 003 in the week of 2025-02-03 (456 kWh)".

    ``scale`` turns the kWh the steps represent into kWh a year (``inputs.opex_scale``).
    """
    parts = []
    for s in found:
        amount = f"{s.kwh * scale:,.0f} {'kg CO2e' if 'emissions' in s.family else 'kWh'} a year"
        if s.family == "hourly renewable target":
            what = f"the hourly {inputs.renewable_share_min:.0%} renewable target"
        elif s.family == "meter balance":
            what = "the meter balance (energy no import, PV or storage can bring within the limits)"
        elif s.family == "fleet energy":
            what = "the fleet energy (trips the pooled batteries cannot drive on what they hold and can charge)"
        else:
            what = s.family
        text = f"{what} is short by {amount}"
        if len(s.by_site_day):
            weeks = s.by_site_day.assign(week=[_week(d) for d in s.by_site_day["day"]])
            top = weeks.groupby(["site", "week"])["kwh"].sum().sort_values(ascending=False)
            (site, week), kwh = top.index[0], float(top.iloc[0])
            place = "station" if s.family == "fleet energy" else "site"
            text += f", most at {place} {site} in the week of {week} ({kwh * scale:,.0f} kWh"
            if len(top) > 1:
                text += f"; {len(top)} site-weeks in all"
            text += ")"
        parts.append(text)
    return "; ".join(parts)


def short_days(found: list[Shortfall], inputs: PlanInputs) -> list[pd.Timestamp]:
    """Calendar days with any time-resolved shortfall, most missing first."""
    frames = [s.by_site_day for s in found if len(s.by_site_day)]
    if not frames:
        return []
    per_day = pd.concat(frames).groupby("day")["kwh"].sum().sort_values(ascending=False)
    return [pd.Timestamp(d) for d in per_day.index]
