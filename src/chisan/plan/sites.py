"""The sites of a town whose stations and depots have meters of their own (``grid.topology = "per_site"``):
roof, meter and storage limits per site, links between sites, and the tariffs of the sites that name their own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError
from chisan.plan.tariffs import GridPrices, site_price_fields, tariff_prices
from chisan.scenario.schema import Scenario


def metered_sites(scenario: Scenario, snapshots: pd.DatetimeIndex) -> dict:
    """The ``PlanInputs`` fields of a town whose sites have their own meters (empty for ``single_meter``).

    Sites are the declared ``[[sites]]`` and every station not behind one of them (a station is its own site);
    roof limits [kW], meter limits [kW] and storage limits [kWh] per site; storage at every site, or only at
    ``technologies.storage.site``; wind at its named site (default: the first);
    links with their fee [currency/kWh] (0 for a private line).
    """
    if scenario.grid.topology == "single_meter":
        return {}
    declared = {x.name: x for x in scenario.sites}
    names = scenario.site_names()
    own = {s.name: s for s in scenario.stations if s.site is None and s.name not in declared}

    def roof(name: str) -> float:
        value = declared[name].pv_max_kw if name in declared else own[name].pv_max_kw
        return np.inf if value is None else float(value)

    def meter(name: str) -> float:
        value = declared[name].connection_limit_kw if name in declared else None
        return np.nan if value is None else float(value)

    def storage_room(name: str) -> float:
        value = getattr(declared[name] if name in declared else own[name], "storage_max_kwh", None)
        return np.inf if value is None else float(value)

    sites = pd.DataFrame(
        {
            "pv_max_kw": [roof(x) for x in names],
            "connection_limit_kw": [meter(x) for x in names],
            "storage_max_kwh": [storage_room(x) for x in names],
        },
        index=pd.Index(names, name="site"),
    )
    tech = scenario.technologies
    pv_fixed = tech.pv.fixed_kw if tech.pv.enabled else None
    if pv_fixed is not None and pv_fixed > sites["pv_max_kw"].sum() + 1e-9:
        raise ScenarioError(
            f"technologies.pv.fixed_kw = {pv_fixed:g} kW is more than the sites' roofs take together "
            f"({sites['pv_max_kw'].sum():g} kW: {', '.join(f'{k} {v:g}' for k, v in sites['pv_max_kw'].items())})"
        )
    links = None
    if scenario.grid.links:
        links = pd.DataFrame(
            {
                "site0": [x.from_site for x in scenario.grid.links],
                "site1": [x.to_site for x in scenario.grid.links],
                "fee_per_kwh": [x.fee_per_kwh for x in scenario.grid.links],
                "limit_kw": [np.inf if x.limit_kw is None else x.limit_kw for x in scenario.grid.links],
            },
            index=pd.Index([x.name for x in scenario.grid.links], name="link"),
        )
    # Storage behind every meter only when the scenario gives a site's storage limit: free at every site it
    # roughly doubles the year-long LPs (a 40-car, 8-base town's supply re-sizing went past 600 s), so by default
    # it sits behind the first site's meter, as before storage per site.
    limits = [x.storage_max_kwh for x in scenario.sites] + [s.storage_max_kwh for s in scenario.stations]
    storage_site = tech.storage.site
    if storage_site is None and all(v is None for v in limits):
        storage_site = names[0]
    return {"sites": sites, "storage_site": storage_site, "wind_site": tech.wind.site, "links": links}


def site_tariffs(scenario: Scenario, town: GridPrices, site_names: pd.Index, snapshots: pd.DatetimeIndex) -> dict:
    """The ``PlanInputs`` fields of the sites that name a tariff of their own (``sites.tariff``, or ``tariff`` of
    a station or depot that is its own site); empty when every site is on the town's prices (``town``).

    Raises
    ------
    ScenarioError
        An unknown tariff name (the message lists the bundled ones), or a tariff priced in another currency than
        ``finance.currency`` (naming both).
    """
    given = [(f"sites[{i}].tariff", x.name, x.tariff) for i, x in enumerate(scenario.sites)]
    given += [(f"stations[{i}].tariff", x.name, x.tariff) for i, x in enumerate(scenario.stations) if x.site is None]
    given += [(f"depots[{i}].tariff", x.name, x.tariff) for i, x in enumerate(scenario.depots) if x.site is None]
    currency = scenario.finance.currency
    own = {
        name: tariff_prices(tariff, snapshots, currency, field) for field, name, tariff in given if tariff is not None
    }
    return site_price_fields(town, own, list(site_names.astype(str)), snapshots)
