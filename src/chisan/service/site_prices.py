"""The import price of each station's meter on a schedule's steps: its site's own tariff, else the town's.

Plans since stop 20 bill each metered site on its own tariff (``tariff`` on a ``[[sites]]`` entry, or on a station
or depot that is its own site: a bundled name or an inline table; :func:`chisan.plan.sites.site_tariffs`). The
service's stations are the scenario's by name (:func:`chisan.service.seed.municipality_from_scenario` creates them
so); a station behind a declared site takes the site's tariff, one that is its own site its own. Each tariff is
compiled on the steps as the planner compiles it (:func:`chisan.plan.tariffs.tariff_prices`): the import price is
the energy charge of the step's band plus the per-kWh levies, what one more imported kWh costs [currency/kWh].
A station the scenario does not name, or whose site has no tariff of its own, is on the town's price.
"""

from __future__ import annotations

import pandas as pd

from chisan.exceptions import ScenarioError
from chisan.plan.tariffs import tariff_prices
from chisan.scenario.schema import Scenario


def site_tariff_of(scenario: Scenario, station_name: str) -> tuple[str, object] | None:
    """Where the tariff of the meter of the scenario's station or depot ``station_name`` is given (the field, e.g.
    ``"sites[1].tariff"``) and the tariff (a bundled name or a table); None when it is on the town's prices."""
    sites = {x.name: (f"sites[{i}].tariff", x.tariff) for i, x in enumerate(scenario.sites)}
    owners = [(f"stations[{i}]", x) for i, x in enumerate(scenario.stations)]
    owners += [(f"depots[{i}]", x) for i, x in enumerate(scenario.depots)]
    for where, owner in owners:
        if owner.name != station_name:
            continue
        field, tariff = sites[owner.site] if owner.site is not None else (f"{where}.tariff", owner.tariff)
        return None if tariff is None else (field, tariff)
    return None


def station_import_prices(
    scenario: Scenario, station_names: dict[str, str], town_price_per_kwh: pd.Series
) -> pd.DataFrame | None:
    """Import price of each station's meter on the steps of ``town_price_per_kwh`` [currency/kWh].

    Parameters
    ----------
    scenario : Scenario
        The town's scenario.
    station_names : dict of str to str
        Station id → name, for the service's stations.
    town_price_per_kwh : pd.Series
        The town's import price on the steps (tz-aware index) [currency/kWh]: every station without a tariff of
        its own.

    Returns
    -------
    pd.DataFrame or None
        Steps × station ids [currency/kWh]; None when no station has a tariff of its own.

    Raises
    ------
    ScenarioError
        A tariff the planner would refuse too (another currency than ``finance.currency``, naming the field).
    """
    snapshots = town_price_per_kwh.index
    compiled: dict[str, pd.Series] = {}
    columns = {}
    for sid, name in station_names.items():
        found = site_tariff_of(scenario, name)
        if found is None:
            columns[sid] = town_price_per_kwh.to_numpy(float)
            continue
        field, tariff = found
        if field not in compiled:
            try:
                compiled[field] = tariff_prices(
                    tariff, snapshots, scenario.finance.currency, field
                ).import_price_per_kwh
            except ValueError as err:  # a band missing at a step: the tariff's own message names it
                raise ScenarioError(f"{field}: {err}") from err
        columns[sid] = compiled[field].to_numpy(float)
    if not compiled:
        return None
    return pd.DataFrame(columns, index=snapshots, dtype=float)
