"""Levelised cost of charging: the cost of the electricity that went into the vehicles, per kWh charged.

Allocation rule (average cost shared by energy, after the hydrogen station's electricity is taken out):

- the chargers serve only the vehicles: all their cost C^ch_y is the vehicles';
- the shared energy system (PV, wind, storage, the grid bill, carbon price, battery ageing) S_y serves three
  loads: the vehicles' charging E_c, the other (non-vehicle) load E_o and the hydrogen station's electricity.
  The hydrogen station's electricity leaves at the value the levelised cost of hydrogen already carries, H per
  year (its marginal value, :mod:`chisan.plan.hydrogen_results`), so no kWh is paid for twice;
- what is left, S_y − H, is the cost of the electricity of the vehicles and the other load, shared between them
  by energy: the vehicles' share s = E_c / (E_c + E_o) (the average price of a kWh, the same for both loads).

    LCOC = Σ_y v^y [C^ch_y + s (S_y − H)] ÷ Σ_{y≥1} v^y E_c      v = 1 / (1 + r)    [currency/kWh]

(levelised cost: :func:`chisan.economics.metrics.levelised_cost`, Short, Packey & Holt 1995, §4). Without other
load s = 1 and the rule is the system's cost, less the hydrogen's electricity, per kWh charged.

Sites with meters of their own (``grid.topology = "per_site"``): a site's PV feeds the loads behind its meter, so
the PV's costs P_y are shared site by site. The PV of site k costs P_y × π_k (π_k its share of the PV's kW, one
price per kW) and the vehicles pay s_k = E_c,k / (E_c,k + E_o,k) of it, the vehicles' share of that site's
electricity; over the town their share of the PV is σ = Σ_k s_k π_k instead of s:

    LCOC = Σ_y v^y [C^ch_y + s (S_y − H) + (σ − s) P_y] ÷ Σ_{y≥1} v^y E_c

In kWh: the PV share of site k's electricity is ψ_k = Q_k / (E_c,k + E_o,k) (Q_k its PV output), its charging
takes ψ_k E_c,k of it, and with one yield per kW the vehicles' PV kWh over the town's, Σ_k ψ_k E_c,k / Σ_k Q_k, is
σ: each site's PV share weighted by that site's charging. The PV part of the LCOC is then the charging-weighted mean
of the sites' PV cost per kWh of their electricity (0 at a site without PV); with one meter σ = s. The other load
of each site is the town's E_o placed where the sites' meter balances leave electricity that is neither charging
nor the hydrogen station's (:func:`located_other_load_kwh`). The rest of the shared system (wind, storage, the grid
bill, carbon price, ageing) stays shared by the town's s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from chisan.economics.metrics import levelised_cost

if TYPE_CHECKING:
    from chisan.plan.results import PlanResults
    from chisan.scenario.schema import Scenario


def vehicle_share_of_energy(charging_kwh_per_year: float, other_load_kwh_per_year: float) -> float:
    """s = E_c / (E_c + E_o): the vehicles' share of the electricity the shared system delivers [-] (0 without
    any)."""
    total = charging_kwh_per_year + other_load_kwh_per_year
    return float(charging_kwh_per_year / total) if total > 0 else 0.0


def levelised_cost_of_charging(
    rate: float,
    charger_costs: np.ndarray,
    shared_costs: np.ndarray,
    hydrogen_electricity_value_per_year: float,
    charging_kwh_per_year: float,
    other_load_kwh_per_year: float,
    pv_costs: np.ndarray | None = None,
    pv_vehicle_share: float | None = None,
) -> float:
    """Levelised cost of the vehicles' electricity [currency/kWh] (module docstring for the rule).

    Parameters
    ----------
    rate : float
        Discount rate r [fraction/year].
    charger_costs : numpy.ndarray
        Cash-flow costs of the chargers in years 0 … N [currency] (investment, replacements, O&M, less salvage).
    shared_costs : numpy.ndarray
        Costs of the shared energy system in years 0 … N [currency]: its investment flows, and in years 1 … N its
        grid bill, carbon price and battery ageing.
    hydrogen_electricity_value_per_year : float
        H, the hydrogen station's electricity at the value its levelised cost of hydrogen carries
        [currency/year], taken out of the shared costs in years 1 … N.
    charging_kwh_per_year, other_load_kwh_per_year : float
        E_c and E_o [kWh/year], in years 1 … N.
    pv_costs : numpy.ndarray, optional
        P_y, the PV's part of ``shared_costs`` in years 0 … N [currency].
    pv_vehicle_share : float, optional
        σ, the vehicles' share of the PV's costs over the metered sites [-] (:func:`pv_vehicle_share_of_sites`);
        without it (one town meter) the PV is shared by s like the rest of the system.
    """
    charger_costs = np.asarray(charger_costs, dtype=float)
    years = np.arange(len(charger_costs))
    operating = years >= 1
    share = vehicle_share_of_energy(charging_kwh_per_year, other_load_kwh_per_year)
    vehicles = charger_costs + share * (
        np.asarray(shared_costs, dtype=float) - np.where(operating, hydrogen_electricity_value_per_year, 0.0)
    )
    if pv_costs is not None and pv_vehicle_share is not None:  # the PV by site: σ of it instead of s (docstring)
        vehicles = vehicles + (pv_vehicle_share - share) * np.asarray(pv_costs, dtype=float)
    return levelised_cost(rate, vehicles, np.where(operating, charging_kwh_per_year, 0.0))


def pv_vehicle_share_of_sites(
    charging_kwh_per_year: pd.Series, other_load_kwh_per_year: pd.Series, pv_kw: pd.Series
) -> float:
    """σ = Σ_k s_k π_k: the vehicles' share of the PV's costs when each site's PV feeds its own meter [-].

    Parameters
    ----------
    charging_kwh_per_year, other_load_kwh_per_year : pandas.Series
        E_c,k and E_o,k per site [kWh/year].
    pv_kw : pandas.Series
        PV of each site [kW]; π_k = its share of the town's PV kW.

    Returns
    -------
    float
        σ (0 without PV at any site).
    """
    pv = pv_kw.astype(float).clip(lower=0.0)
    if pv.sum() <= 0:
        return 0.0
    e_c = charging_kwh_per_year.reindex(pv.index).fillna(0.0).astype(float)
    e_o = other_load_kwh_per_year.reindex(pv.index).fillna(0.0).astype(float)
    s_k = np.array([vehicle_share_of_energy(c, o) for c, o in zip(e_c, e_o, strict=True)])
    return float((s_k * pv.to_numpy(float)).sum() / pv.sum())


def located_other_load_kwh(
    meter_kwh_per_year: pd.Series,
    charging_kwh_per_year: pd.Series,
    hydrogen_kwh_per_year: pd.Series,
    other_load_kwh_per_year: float,
) -> pd.Series:
    """The town's other load E_o placed on its sites [kWh/year]: in proportion to what each site's meter balance
    leaves once its charging and the hydrogen station are taken out, r_k = max(M_k − E_c,k − E_h,k, 0).

    ``meter_kwh_per_year`` is M_k, the electricity site k used over the year: its PV output + import − export (+ the
    wind behind its meter and what its links brought in net) [kWh/year]. The shares sum to E_o exactly, so with one
    site E_o,1 = E_o; storage losses and V2G inside M_k only move where E_o sits. Without any residual (the meter
    balance all charging) E_o is placed on the first site, as the planning inputs place it by default
    (:class:`chisan.plan.inputs.PlanInputs`, ``site_other_load_kw``).
    """
    index = meter_kwh_per_year.index
    residual = (
        meter_kwh_per_year.astype(float)
        - charging_kwh_per_year.reindex(index).fillna(0.0)
        - hydrogen_kwh_per_year.reindex(index).fillna(0.0)
    ).clip(lower=0.0)
    if residual.sum() <= 0:
        residual = pd.Series(0.0, index=index)
        residual.iloc[0] = 1.0
    return other_load_kwh_per_year * residual / residual.sum()


def _kwh_per_kw_step(sites: pd.DataFrame, dispatch: pd.DataFrame) -> float:
    """Hours a step's kW stand for in the sites table's per-year figures [h/year per step] (its Δt × opex scale),
    read back from a per-site flow and its column sums; 0 when every site flow is 0."""
    for prefix, column in (("site_import_kw", "import_kwh_per_year"), ("site_pv_kw", "pv_kwh_per_year")):
        cols = [f"{prefix}:{x}" for x in sites.index.astype(str)]
        if all(c in dispatch for c in cols):
            kw = float(dispatch[cols].to_numpy(float).sum())
            if kw > 0:
                return float(sites[column].sum()) / kw
    return 0.0


def site_loads_of(scenario: Scenario, plan: PlanResults) -> pd.DataFrame | None:
    """Per metered site: ``charging_kwh_per_year``, ``other_load_kwh_per_year`` [kWh/year] and ``pv_kw`` [kW] of a
    plan, from its sites table (:func:`chisan.plan.site_results.site_table`); None with one town meter."""
    sites = plan.sites
    if sites is None or len(sites) == 0:
        return None
    names = sites.index.astype(str)
    bal = plan.energy_balance
    meter = (
        sites["pv_kwh_per_year"].astype(float)
        + sites["import_kwh_per_year"].astype(float)
        - sites["export_kwh_per_year"].astype(float)
    )
    meter.index = names
    if "wind_kw" in sites and float(sites["wind_kw"].sum()) > 0:  # the wind is behind its one site's meter
        wind_share = sites["wind_kw"].astype(float).to_numpy() / float(sites["wind_kw"].sum())
        meter = meter + float(bal.get("wind_kwh", 0.0)) * wind_share
    hours = _kwh_per_kw_step(sites, plan.dispatch)
    for link in scenario.grid.links:  # net inflow [kWh/year]: forward from from_site to to_site
        col = f"link_kw:{link.name}"
        if col in plan.dispatch and hours > 0:
            carried = float(plan.dispatch[col].to_numpy(float).sum()) * hours
            meter[str(link.to_site)] += carried
            meter[str(link.from_site)] -= carried
    hydrogen = pd.Series(0.0, index=names)
    if plan.hydrogen is not None and scenario.hydrogen is not None:
        site = scenario.hydrogen.site or names[0]
        if site in hydrogen.index:
            hydrogen[site] = plan.hydrogen.figure("hydrogen_electricity_kwh_per_year")
    charging = sites["charging_kwh_per_year"].astype(float)
    charging.index = names
    other = located_other_load_kwh(meter, charging, hydrogen, float(bal.get("other_load_kwh", 0.0)))
    pv = sites["pv_kw"].astype(float)
    pv.index = names
    return pd.DataFrame({"charging_kwh_per_year": charging, "other_load_kwh_per_year": other, "pv_kw": pv})
