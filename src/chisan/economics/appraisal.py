"""The plan appraised against business as usual: investment table, yearly cash flows and the figures a council
decides on (savings, payback, NPV, IRR, LCOE of the PV, levelised cost of charging, cost per km and booking).

Both plans' annual costs come from the same cost table (:func:`chisan.plan.results.cost_table`), whose optimised
lines are the LP objective term by term, so the savings are differences of the two objectives plus nothing else.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chisan.economics.cashflows import (
    Component,
    component_flows,
    part_replacement_years,
    project_cash_flows,
    pv_output_factor,
    replacement_years,
    salvage_value,
)
from chisan.economics.cautions import AppraisalCautionWarning, appraisal_cautions
from chisan.economics.charging_cost import levelised_cost_of_charging, pv_vehicle_share_of_sites, site_loads_of
from chisan.economics.hydrogen import hydrogen_capacities_of, hydrogen_components
from chisan.economics.metrics import irr, levelised_cost, npv, payback_years
from chisan.plan.results import PlanResults
from chisan.scenario.schema import Scenario

ENERGY_LINES = ("Grid import", "Basic charge", "Grid export", "Self-wheeling fee")
"""The grid bill: energy charge, the basic charge on the contract kW, export remuneration and the fees of power
carried between the town's own sites (chisan.plan.results.key_figures)."""
CARBON_LINES = ("Carbon price",)
AGEING_LINES = ("Battery holding (calendar ageing)", "V2G wear")
HYDROGEN_LINES = ("Hydrogen bought",)


@dataclass
class Economics:
    """The appraisal of a plan against business as usual.

    Attributes
    ----------
    investment : pd.DataFrame
        Per component bought beyond business as usual: what, capex [currency], lifetime [years], replacement
        years, salvage [currency].
    cash_flows : pd.DataFrame
        Years 0 … N (:func:`chisan.economics.cashflows.project_cash_flows`).
    figures : pd.DataFrame
        ``value``, ``unit``, ``definition`` per figure (as the plan's KPIs).
    comparison : pd.DataFrame
        Annual cost by component of the plan and of business as usual [currency/year], and the difference.
    cautions : list[str]
        What the figures rest on that a reader must know (:mod:`chisan.economics.cautions`): a horizon under a
        year scaled to every year of the project, a high-voltage meter with a contract under 50 kW; each was also
        issued as an :class:`~chisan.economics.cautions.AppraisalCautionWarning`. Empty when there is none.
    """

    investment: pd.DataFrame
    cash_flows: pd.DataFrame
    figures: pd.DataFrame
    comparison: pd.DataFrame
    cautions: list[str] = field(default_factory=list)

    def figure(self, name: str) -> float:
        """The value of one figure."""
        return float(self.figures.loc[name, "value"])


def _lines(costs: pd.DataFrame, names: tuple[str, ...]) -> float:
    return float(costs.reindex(list(names))["operation_per_year"].fillna(0.0).sum())


def second_life_kwh(plan: PlanResults) -> float:
    """Second-life storage the plan uses [kWh] (``method["second_life"]["used_kwh"]``, chisan.plan.second_life);
    0 without an offer."""
    reused = plan.method.get("second_life") or {}
    return float(reused.get("used_kwh", 0.0))


def components(
    scenario: Scenario, caps: dict[str, float], base: dict[str, float], n_chargers: int = 0
) -> list[Component]:
    """Investments of capacities ``caps`` above ``base`` [kW, kWh] (and ``n_chargers`` chargers), at the
    scenario's prices; components with nothing to buy are left out."""
    tech = scenario.technologies
    d = {k: max(0.0, caps[k] - base.get(k, 0.0)) for k in caps}
    st = tech.storage
    out = [
        Component(
            "PV",
            tech.pv.capex_per_kw * d["pv_kw"],
            tech.pv.lifetime_years,
            tech.pv.fixed_om_per_kw_year * d["pv_kw"],
            f"{d['pv_kw']:,.1f} kW",
        ),
        Component(
            "Wind",
            tech.wind.capex_per_kw * d["wind_kw"],
            tech.wind.lifetime_years,
            tech.wind.fixed_om_per_kw_year * d["wind_kw"],
            f"{d['wind_kw']:,.1f} kW",
        ),
        Component(
            "Storage",
            st.capex_per_kwh * d["storage_kwh"] + st.capex_per_kw * d["storage_kw"],
            st.lifetime_years,
            st.fixed_om_per_kwh_year * d["storage_kwh"],
            f"{d['storage_kwh']:,.1f} kWh / {d['storage_kw']:,.1f} kW",
        ),
    ]
    sl = scenario.second_life
    if sl is not None and d.get("second_life_kwh", 0.0) > 0:
        # the retired packs the plan uses, at the offered price per usable kWh, bought again every
        # second_life.lifetime_years and salvaged straight-line like any component (module cashflows: REopt's
        # convention, Cutler et al. 2017 §3.3); the cost table's line is the same price × CRF(r, lifetime)
        kwh = d["second_life_kwh"]
        out.append(
            Component(
                "Second-life storage",
                sl.price_per_kwh * kwh,
                sl.lifetime_years,
                sl.fixed_om_per_kwh_year * kwh,
                f"{kwh:,.1f} of {sl.offered_kwh:,.1f} kWh offered",
            )
        )
    if n_chargers:
        ch = tech.chargers
        out.append(
            Component(
                "Chargers",
                ch.capex_per_charger * n_chargers,
                ch.lifetime_years,
                ch.fixed_om_per_charger_year * n_chargers,
                f"{n_chargers} chargers",
            )
        )
    return [c for c in out if c.capex > 0 or c.fixed_om_per_year > 0]


def investment_table(comps: list[Component], life_years: int, salvage: bool, currency: str) -> pd.DataFrame:
    """One row per component: what, capex, lifetime, replacement years (a part's, e.g. the electrolyser's stack,
    after ``;``), salvage value at the end."""
    cur = currency.lower()

    def when(c: Component) -> str:
        text = ", ".join(str(y) for y in replacement_years(c.lifetime_years, life_years)) or "none"
        parts = part_replacement_years(c, life_years) if c.part_capex > 0 else []
        if parts:
            text += f"; stack ({c.part_capex:,.0f} {currency}): " + ", ".join(str(y) for y in parts)
        return text

    rows = [
        {
            "component": c.name,
            "basis": c.basis,
            f"capex_{cur}": c.capex,
            "lifetime_years": c.lifetime_years,
            "replacement_years": when(c),
            f"fixed_om_{cur}_per_year": c.fixed_om_per_year,
            f"salvage_{cur}": salvage_value(c, life_years) if salvage else 0.0,
        }
        for c in comps
    ]
    cols = ["component", "basis", f"capex_{cur}", "lifetime_years", "replacement_years", f"fixed_om_{cur}_per_year"]
    return pd.DataFrame(rows, columns=[*cols, f"salvage_{cur}"]).set_index("component")


def appraise(scenario: Scenario, plan: PlanResults, bau: PlanResults) -> Economics:
    """Appraise ``plan`` against the business-as-usual plan ``bau`` of the same town.

    Parameters
    ----------
    scenario : Scenario
        For the prices, lifetimes and ``finance`` (discount rate, project life, PV degradation, salvage).
    plan, bau : PlanResults
        The plan and the business-as-usual case (:func:`chisan.economics.bau.bau_inputs`), annual figures.
    """
    fin = scenario.finance
    cur = fin.currency
    c = cur.lower()
    r = fin.discount_rate_fraction
    n = fin.project_life_years
    caps = {**dict(plan.capacities), "second_life_kwh": second_life_kwh(plan)}
    base = {**dict(bau.capacities), "second_life_kwh": second_life_kwh(bau)}
    comps = components(scenario, caps, base)
    comps += hydrogen_components(scenario, hydrogen_capacities_of(plan), hydrogen_capacities_of(bau))
    savings = {
        "energy": _lines(bau.costs, ENERGY_LINES) - _lines(plan.costs, ENERGY_LINES),
        "carbon": _lines(bau.costs, CARBON_LINES) - _lines(plan.costs, CARBON_LINES),
        "battery_ageing": _lines(bau.costs, AGEING_LINES) - _lines(plan.costs, AGEING_LINES),
        "hydrogen": _lines(bau.costs, HYDROGEN_LINES) - _lines(plan.costs, HYDROGEN_LINES),
    }
    bal = plan.energy_balance
    local = bal["pv_kwh"] + bal["wind_kwh"]
    phi = float(bal["pv_kwh"] / local) if local > 0 and caps["pv_kw"] > base["pv_kw"] else 0.0
    d = fin.pv_degradation_per_year_fraction
    pv_life = scenario.technologies.pv.lifetime_years
    psi = 0.0  # the share of the hydrogen saving made from PV output: local share of the hydrogen made × φ
    if plan.hydrogen is not None and plan.hydrogen.figure("hydrogen_produced_kg_per_year") > 0:
        h2 = plan.hydrogen
        local_h2 = h2.figure("hydrogen_from_local_renewables_kg_per_year") / h2.figure("hydrogen_produced_kg_per_year")
        psi = local_h2 * phi
    flows = project_cash_flows(
        comps,
        savings,
        life_years=n,
        discount_rate=r,
        pv_degradation_per_year=d,
        pv_savings_share=phi,
        pv_lifetime_years=pv_life,
        hydrogen_pv_share=psi,
        salvage=fin.salvage_value,
        currency=cur,
    )
    net = flows[f"net_{c}"].to_numpy(float)
    invest = float(-flows.loc[0, f"investment_{c}"])
    first_year = float(net[1]) if n >= 1 else float("nan")

    # LCOE of the local PV: every cost of the PV the plan has ÷ its output, both discounted
    factor = pv_output_factor(n, d, pv_life)
    only_pv = {**caps, "wind_kw": 0.0, "storage_kwh": 0.0, "storage_kw": 0.0, "second_life_kwh": 0.0}
    pv_all = components(scenario, only_pv, {})
    pv_costs = sum(
        (component_flows(p, n, salvage=fin.salvage_value, currency=cur).sum(axis=1) for p in pv_all),
        start=pd.Series(0.0, index=flows.index),
    ).to_numpy(float)
    lcoe_pv = levelised_cost(r, pv_costs, bal["pv_kwh"] * factor) if caps["pv_kw"] > 0 else float("nan")

    # levelised cost of charging: the chargers, and the vehicles' share by energy of the shared energy system and
    # grid less the hydrogen station's electricity, each metered site's PV by that site's share
    # (chisan.economics.charging_cost)
    n_chargers = int(plan.kpis.loc["chargers", "value"])

    def flows_of(parts: list[Component]) -> np.ndarray:
        return sum(
            (component_flows(p, n, salvage=fin.salvage_value, currency=cur).sum(axis=1) for p in parts),
            start=pd.Series(0.0, index=flows.index),
        ).to_numpy(float)

    system = components(scenario, caps, {}, n_chargers)
    chargers = [p for p in system if p.name == "Chargers"]
    operating = _lines(plan.costs, ENERGY_LINES + CARBON_LINES + AGEING_LINES)
    lost = (savings["energy"] + savings["carbon"]) * phi * (1.0 - factor)  # bills grow as the PV degrades
    shared = flows_of([p for p in system if p.name != "Chargers"]) + np.where(
        np.arange(n + 1) >= 1, operating + lost, 0.0
    )
    site_loads = site_loads_of(scenario, plan)  # metered sites: each site's PV shared behind its own meter
    lcoc = levelised_cost_of_charging(
        r,
        flows_of(chargers),
        shared,
        plan.hydrogen.figure("hydrogen_electricity_value_per_year") if plan.hydrogen is not None else 0.0,
        float(bal["charging_kwh"]),
        float(bal.get("other_load_kwh", 0.0)),
        pv_costs=flows_of([p for p in system if p.name == "PV"]),
        pv_vehicle_share=None if site_loads is None else pv_vehicle_share_of_sites(**site_loads),
    )

    pk, bk = plan.kpis["value"], bau.kpis["value"]
    rows = [
        (
            "investment",
            invest,
            cur,
            "Investment beyond business as usual in year 0 ("
            + (", ".join(c.name.lower() if c.name != "PV" else c.name for c in comps if c.capex > 0) or "nothing")
            + ")",
        ),
        (
            "annual_savings_first_year",
            first_year,
            f"{cur}/year",
            "Grid bill (energy, basic charge, export, self-wheeling fees), carbon price, battery ageing and "
            "delivered hydrogen saved against business as usual, less the new fixed O&M",
        ),
        ("simple_payback_years", payback_years(net), "years", "Years until the cumulative cash flow reaches 0"),
        (
            "discounted_payback_years",
            payback_years(net, r),
            "years",
            f"Years until the cumulative cash flow discounted at {r:.1%} reaches 0",
        ),
        (
            "npv",
            npv(r, net),
            cur,
            f"Net present value over {n} years at {r:.1%} (replacements, second-life packs and stacks, salvage, "
            "PV ageing)",
        ),
        ("irr", irr(net), "fraction", "Discount rate at which the NPV is 0 (none when the project never pays back)"),
        ("lcoe_pv_per_kwh", lcoe_pv, f"{cur}/kWh", "Levelised cost of the local PV's output (costs ÷ kWh, discounted)"),
        (
            "levelised_cost_of_charging_per_kwh",
            lcoc,
            f"{cur}/kWh",
            "What the electricity put into the cars costs per kWh charged, over the project life, costs and kWh "
            "both discounted. In: the chargers, and the cars' part of the energy system (PV, wind, storage, "
            "second-life packs) and of the grid bill, carbon price and battery ageing; the cars' part is their "
            "share of the electricity used, charging ÷ (charging + the town's other load), and at a metered site "
            "that site's own share for its PV. Not in: the vehicle leases, the hydrogen station's electricity "
            "(counted in the cost of hydrogen), the other load's share",
        ),
        ("total_cost_per_year", float(pk["total_cost_per_year"]), f"{cur}/year", "The plan's total annual cost"),
        (
            "bau_total_cost_per_year",
            float(bk["total_cost_per_year"]),
            f"{cur}/year",
            "Business as usual's total annual cost (grid only, same fleet and chargers)",
        ),
        ("cost_per_km", float(pk["cost_per_km"]), f"{cur}/km", "The plan's total cost per km driven"),
        ("bau_cost_per_km", float(bk["cost_per_km"]), f"{cur}/km", "Business as usual's total cost per km"),
        ("cost_per_booking", float(pk["cost_per_booking"]), f"{cur}/booking", "The plan's total cost per booking"),
        (
            "bau_cost_per_booking",
            float(bk["cost_per_booking"]),
            f"{cur}/booking",
            "Business as usual's total cost per booking",
        ),
        ("project_life_years", float(n), "years", "Years of the appraisal (finance.project_life_years)"),
        (
            "discount_rate",
            r,
            "fraction",
            f"Yearly rate ({r:.1%}) at which money later is worth less than money now: the NPV, the discounted "
            "payback and the levelised costs discount the flow of year y by (1 + rate)^y, and the plan's annual "
            "cost of each investment uses the same rate (finance.discount_rate_fraction)",
        ),
        (
            "share_of_year_planned",
            scenario.horizon.months / 12.0,
            "fraction",
            f"The {scenario.horizon.months} of 12 months of weather, bookings and prices the plan was solved on, "
            "scaled to a year; under 100 %, every year of the appraisal repeats them (see the cautions)",
        ),
    ]
    figures = pd.DataFrame(rows, columns=["figure", "value", "unit", "definition"]).set_index("figure")
    comparison = pd.DataFrame(
        {
            f"plan_{c}_per_year": plan.costs["total_per_year"],
            f"bau_{c}_per_year": bau.costs["total_per_year"].reindex(plan.costs.index).fillna(0.0),
        }
    )
    comparison[f"saving_{c}_per_year"] = comparison[f"bau_{c}_per_year"] - comparison[f"plan_{c}_per_year"]
    cautions = appraisal_cautions(scenario, plan.kpis, plan.sites)
    for text in cautions:
        warnings.warn(text, AppraisalCautionWarning, stacklevel=2)
    return Economics(
        investment=investment_table(comps, n, fin.salvage_value, cur),
        cash_flows=flows,
        figures=figures,
        comparison=comparison,
        cautions=cautions,
    )
