"""Yearly cash flows over the project life: investment, replacements, fixed O&M, savings against business as
usual, salvage value.

Conventions (as REopt, Cutler et al. 2017, NREL/TP-7A40-70022, §3.3, and HOMER's cash-flow view):

- year 0 is the investment; years 1 … N are operation; every flow in year y is discounted by (1 + r)^y;
- a component with lifetime L is bought again at years L, 2L, … before N, at today's price (no cost decline);
- a part of a component with a shorter life S (the electrolyser's stack, :mod:`chisan.plan.hydrogen`) is bought
  again at u + S, u + 2S, … with k·S < L within each unit's life (u = the unit's install year), as the LP's
  stack-replacement factor counts it (:func:`chisan.plan.hydrogen.stack_replacement_factor`);
- in year N each component is credited its straight-line remaining value, capex × remaining life / L
  (``finance.salvage_value``); with a part, (capex − part) × the unit's remaining fraction + part × the last
  part's remaining fraction (a part serves until the next part or the unit's end, whichever is first);
- PV output falls by d per year from installation, (1 − d)^age with age = (y − 1) mod L_PV, so a replacement
  restores it; the savings that PV output makes (the PV share of local generation × the grid savings) fall with it,
  and so does the delivered hydrogen saved by hydrogen made from the PV's output (the electrolyser makes less from
  the PV and the station buys the rest delivered): hydrogen saving of year y = S_h × [(1 − ψ) + ψ (1 − d)^age], ψ the
  share of that saving made from the PV.

Money is in the scenario's currency; every column name ends with it (``investment_jpy``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Component:
    """One investment of the project.

    Attributes
    ----------
    name : str
        ``"PV"``, ``"Wind"``, ``"Storage"``, ``"Chargers"``.
    capex : float
        Investment [currency], paid in year 0 and again at each replacement.
    lifetime_years : float
        Service life [years].
    fixed_om_per_year : float
        Fixed O&M [currency/year], paid in years 1 … N.
    basis : str
        What was bought (e.g. ``"120.0 kW"``), for the investment table.
    part_capex : float
        Cost of a part inside ``capex`` replaced more often (the electrolyser's stack) [currency]; 0 = none.
    part_lifetime_years : float or None
        Years between replacements of that part [years]; None or ≥ ``lifetime_years`` = never within a unit.
    """

    name: str
    capex: float
    lifetime_years: float
    fixed_om_per_year: float = 0.0
    basis: str = ""
    part_capex: float = 0.0
    part_lifetime_years: float | None = None


def replacement_years(lifetime_years: float, life_years: int) -> list[int]:
    """Years of the project (1 … N − 1) in which a component of ``lifetime_years`` is bought again.

    A replacement due in year N or later is not made: the project ends.
    """
    years = []
    k = 1
    while round(k * lifetime_years) < life_years:
        years.append(round(k * lifetime_years))
        k += 1
    return years


def salvage_fraction(lifetime_years: float, life_years: int) -> float:
    """Straight-line remaining value at the end of year N of the unit installed last [fraction of capex]."""
    last = max([0, *replacement_years(lifetime_years, life_years)])
    remaining = last + lifetime_years - life_years
    return float(min(max(remaining, 0.0), lifetime_years) / lifetime_years)


def _unit_installs(lifetime_years: float, life_years: int) -> list[int]:
    """Years a unit is installed: 0 and every :func:`replacement_years` year."""
    return [0, *replacement_years(lifetime_years, life_years)]


def _part_installs(component: Component, unit_year: int) -> list[float]:
    """Years the part of the unit installed in ``unit_year`` is installed: u + k·S with k·S < L (k = 0 first)."""
    s, life = component.part_lifetime_years, component.lifetime_years
    if not s or s >= life:
        return [float(unit_year)]
    k = np.arange(int(np.ceil(life / s)) + 1)
    return [unit_year + float(x) * s for x in k if x * s < life - 1e-9]


def part_replacement_years(component: Component, life_years: int) -> list[int]:
    """Years of the project (1 … N − 1) a component's part is replaced within a unit's life (not with the unit)."""
    years = []
    for u in _unit_installs(component.lifetime_years, life_years):
        years += [round(t) for t in _part_installs(component, u)[1:] if round(t) < life_years]
    return years


def salvage_value(component: Component, life_years: int) -> float:
    """Straight-line remaining value of a component at the end of year N [currency] (module docstring)."""
    unit = salvage_fraction(component.lifetime_years, life_years)
    if component.part_capex <= 0:
        return component.capex * unit
    u = _unit_installs(component.lifetime_years, life_years)[-1]
    installs = [t for t in _part_installs(component, u) if round(t) < life_years]
    start = installs[-1]
    nxt = [t for t in _part_installs(component, u) if t > start]
    end = min(nxt[0] if nxt else np.inf, u + component.lifetime_years)
    part = float(min(max((end - life_years) / (end - start), 0.0), 1.0))
    return (component.capex - component.part_capex) * unit + component.part_capex * part


def component_flows(component: Component, life_years: int, *, salvage: bool, currency: str) -> pd.DataFrame:
    """Costs of one component by year 0 … N [currency], positive = money paid (salvage is negative).

    Columns ``investment_<cur>``, ``replacements_<cur>``, ``fixed_om_<cur>``, ``salvage_<cur>``.
    """
    cur = currency.lower()
    years = pd.RangeIndex(0, life_years + 1, name="year")
    out = pd.DataFrame(0.0, index=years, columns=[f"{c}_{cur}" for c in ("investment", "replacements", "fixed_om")])
    out.loc[0, f"investment_{cur}"] = component.capex
    for y in replacement_years(component.lifetime_years, life_years):
        out.loc[y, f"replacements_{cur}"] += component.capex
    for y in part_replacement_years(component, life_years):
        out.loc[y, f"replacements_{cur}"] += component.part_capex
    out.loc[1:, f"fixed_om_{cur}"] = component.fixed_om_per_year
    out[f"salvage_{cur}"] = 0.0
    if salvage:
        out.loc[life_years, f"salvage_{cur}"] = -salvage_value(component, life_years)
    return out


def pv_output_factor(life_years: int, degradation_per_year: float, pv_lifetime_years: float) -> np.ndarray:
    """PV output in years 0 … N relative to its first year [-]: (1 − d)^age (0 in year 0).

    age = y − 1 − (the last year ≤ y − 1 the PV was bought: 0 or a :func:`replacement_years` year), so a unit
    bought in year k produces at full output in year k + 1.
    """
    y = np.arange(life_years + 1)
    installs = np.array([0, *replacement_years(pv_lifetime_years, life_years)])
    last = installs[np.searchsorted(installs, np.maximum(y - 1, 0), side="right") - 1]
    age = np.maximum(y - 1 - last, 0)
    factor = (1.0 - degradation_per_year) ** age
    factor[0] = 0.0
    return factor


def project_cash_flows(
    components: list[Component],
    annual_savings: dict[str, float],
    *,
    life_years: int,
    discount_rate: float,
    pv_degradation_per_year: float = 0.0,
    pv_savings_share: float = 0.0,
    pv_lifetime_years: float = 25.0,
    hydrogen_pv_share: float = 0.0,
    salvage: bool = True,
    currency: str = "JPY",
) -> pd.DataFrame:
    """The yearly cash flows of the project against business as usual [currency], year 0 … N.

    Parameters
    ----------
    components : list[Component]
        What the project buys beyond business as usual (capacities above BAU's).
    annual_savings : dict[str, float]
        Savings in the first year of operation against business as usual [currency/year], by kind:
        ``energy`` (grid bill: import − export + basic charge + self-wheeling fees), ``carbon`` (carbon price),
        ``battery_ageing`` (holding cost and V2G wear of the cars), ``hydrogen`` (delivered hydrogen bought; its
        PV-made share ``hydrogen_pv_share`` falls with the PV output). Negative = the project costs more.
    life_years : int
        Project life N [years].
    discount_rate : float
        r [fraction/year].
    pv_degradation_per_year : float
        d [fraction/year].
    pv_savings_share : float
        φ: the share of the energy and carbon savings made by PV output (PV / local generation) [-]; that share
        falls with the PV output factor.
    pv_lifetime_years : float
        PV lifetime [years] (degradation restarts at a replacement).
    hydrogen_pv_share : float
        ψ: the share of the hydrogen saving made from PV output [-] (the hydrogen made from local renewables over
        all made × the PV share of local generation); that share falls with the PV output factor.
    salvage : bool
        Credit the remaining value in year N.
    currency : str

    Returns
    -------
    pd.DataFrame
        Index ``year``; columns ``investment``, ``replacements``, ``fixed_om``, ``energy_savings``,
        ``carbon_savings``, ``battery_ageing_savings``, ``hydrogen_savings``, ``salvage``, ``net``, ``cumulative``,
        ``discount_factor`` [-], ``discounted_net``, ``cumulative_discounted`` — each money column suffixed with
        the currency and signed as cash to the town (+ = money in or saved, − = money paid).
    """
    cur = currency.lower()
    years = pd.RangeIndex(0, life_years + 1, name="year")
    flows = pd.DataFrame(0.0, index=years, columns=[f"{c}_{cur}" for c in ("investment", "replacements", "fixed_om")])
    flows[f"salvage_{cur}"] = 0.0
    for comp in components:
        flows -= component_flows(comp, life_years, salvage=salvage, currency=currency)[flows.columns]
    pv_factor = pv_output_factor(life_years, pv_degradation_per_year, pv_lifetime_years)
    # savings of year y: S × [(1 − φ) + φ (1 − d)^age] for energy and carbon; ageing savings stay constant
    scale = (1.0 - pv_savings_share) + pv_savings_share * pv_factor
    scale[0] = 0.0
    operating = (years >= 1).astype(float)
    flows[f"energy_savings_{cur}"] = annual_savings.get("energy", 0.0) * scale
    flows[f"carbon_savings_{cur}"] = annual_savings.get("carbon", 0.0) * scale
    flows[f"battery_ageing_savings_{cur}"] = annual_savings.get("battery_ageing", 0.0) * operating
    hydrogen_scale = (1.0 - hydrogen_pv_share) + hydrogen_pv_share * pv_factor  # pv_factor[0] = 0
    flows[f"hydrogen_savings_{cur}"] = annual_savings.get("hydrogen", 0.0) * hydrogen_scale * operating
    order = [
        "investment",
        "replacements",
        "fixed_om",
        "energy_savings",
        "carbon_savings",
        "battery_ageing_savings",
        "hydrogen_savings",
    ]
    flows = flows[[f"{c}_{cur}" for c in order] + [f"salvage_{cur}"]]
    flows[f"net_{cur}"] = flows.sum(axis=1)
    flows[f"cumulative_{cur}"] = flows[f"net_{cur}"].cumsum()
    flows["discount_factor"] = (1.0 + discount_rate) ** -years.to_numpy(float)
    flows[f"discounted_net_{cur}"] = flows[f"net_{cur}"] * flows["discount_factor"]
    flows[f"cumulative_discounted_{cur}"] = flows[f"discounted_net_{cur}"].cumsum()
    return flows
