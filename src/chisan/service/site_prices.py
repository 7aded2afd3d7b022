"""The import price of each station's meter on a schedule's steps: its site's own tariff, else the town's.

Plans since stop 20 bill each metered site on its own tariff (``tariff`` on a ``[[sites]]`` entry, or on a station
or depot that is its own site: a bundled name or an inline table; :func:`chisan.plan.sites.site_tariffs`). The
service's stations are the scenario's by name (:func:`chisan.service.seed.municipality_from_scenario` creates them
so); a station behind a declared site takes the site's tariff, one that is its own site its own. Each tariff is
compiled on the steps as the planner compiles it (:func:`chisan.plan.tariffs.tariff_prices`): the import price is
the energy charge of the step's band plus the per-kWh levies, what one more imported kWh costs [currency/kWh].
A station the scenario does not name, or whose site has no tariff of its own, is on the town's price.

The town's price is the scenario's ``grid.tariff`` compiled the same way (:func:`chisan.plan.tariffs.grid_prices`:
seasons × day type × hour bands, holidays from ``jpholiday`` or ``chinese-calendar``, levies), for both
topologies; without a tariff, the town's flat price (the database's, which an operator may change) with the
scenario's ``import_tou`` bands. :func:`meter_tariffs` also gives each meter's basic charge as the plan bills it
(:mod:`chisan.plan.tariff_constraints`): a contract fixed in advance caps the meter's import (the breaker), a
contract that is the highest 30-minute demand puts basic charge × :data:`BILLED_MONTHS` per kW of the horizon's
highest demand into the schedule's objective. ``grid.topology = "single_meter"`` has one meter, the town's;
``"per_site"`` has one per site: a station's own, or its declared ``[[sites]]`` entry's, shared by the stations
behind it — a fixed contract is split among them in proportion to their charging power (their caps sum to it), a
peak-demand one billed on each station's own highest demand (Σ of the stations' peaks ≥ the site's: the schedule
never prices a peak below what the meter bills).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError
from chisan.plan.tariffs import GridPrices, grid_prices, import_price_series, tariff_prices
from chisan.scenario.schema import Scenario
from chisan.service.errors import FieldError

BILLED_MONTHS = 12.0
"""Months of basic charge one more kW of contract costs [month]: the contract kW is the highest 30-minute demand of
this month and the 11 before (実量制), so a new peak is billed for a year — as a window of the plan's rolling
dispatch prices it (:func:`chisan.plan.tariff_constraints.billed_months` with ``annualise``)."""


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
            except (ScenarioError, ValueError) as err:  # the tariff's own message names what is wrong
                raise _tariff_error(field, tariff, err) from err
        columns[sid] = compiled[field].to_numpy(float)
    if not compiled:
        return None
    return pd.DataFrame(columns, index=snapshots, dtype=float)


def _tariff_error(field: str, tariff: object, err: Exception) -> FieldError:
    """One message naming the field, the tariff and what is wrong (never a 5xx: a 422 from the API)."""
    name = tariff if isinstance(tariff, str) else getattr(tariff, "name", "inline")
    text = str(err)
    if not text.startswith(field):
        text = f"{field} = {name!r}: {text}"
    return FieldError(text, field=field)


def town_prices(scenario: Scenario, snapshots: pd.DatetimeIndex, flat_price_per_kwh: float) -> GridPrices:
    """The town's grid prices on the steps: ``grid.tariff`` compiled as the plan compiles it, else the flat price
    [currency/kWh] with the scenario's ``import_tou`` bands (no basic charge).

    Raises
    ------
    FieldError
        A tariff the plan would refuse on these steps (another currency than ``finance.currency``, a year its
        holiday calendar does not cover), naming ``grid.tariff``.
    """
    grid = scenario.grid
    if grid.tariff is None:
        imp = import_price_series(snapshots, flat_price_per_kwh, grid.import_tou)
        return GridPrices(imp, pd.Series(float(grid.export_price_per_kwh), index=snapshots))
    try:
        return grid_prices(grid, snapshots, scenario.finance.currency)
    except (ScenarioError, ValueError) as err:
        raise _tariff_error("grid.tariff", grid.tariff, err) from err


@dataclass(frozen=True)
class MeterTariffs:
    """What a schedule takes from the town's tariffs.

    Attributes
    ----------
    town : GridPrices
        The town's prices on the steps (``grid.tariff``, or the flat price and bands).
    station_import_price_per_kwh : pd.DataFrame or None
        Steps × station ids [currency/kWh] when some station's meter has a tariff of its own.
    town_demand_charge_per_kw : float
        Single meter on a peak-demand contract: basic charge × :data:`BILLED_MONTHS` per kW of the town's highest
        30-minute demand in the horizon [currency/kW]; 0 otherwise.
    town_contract_kw : float or None
        Single meter on a contract fixed in advance: the town's import may not exceed it [kW].
    station_demand_charge_per_kw : pd.Series
        Per station id (per-site meters): the same per kW of the station's highest demand [currency/kW].
    station_contract_kw : pd.Series
        Per station id: its meter's fixed contract [kW], NaN where none; a site's contract shared among its
        stations in proportion to their charging power.
    tariff : str or None
        Name of the town's tariff (``grid.tariff``).
    """

    town: GridPrices
    station_import_price_per_kwh: pd.DataFrame | None
    town_demand_charge_per_kw: float
    town_contract_kw: float | None
    station_demand_charge_per_kw: pd.Series
    station_contract_kw: pd.Series
    tariff: str | None


def _contract_terms(prices: GridPrices) -> tuple[float, float]:
    """(demand charge per kW of highest demand [currency/kW], fixed contract [kW] or NaN) of one meter's prices.

    A fixed contract costs the same whatever the schedule does, so it only caps the import; a peak-demand contract
    costs basic charge × :data:`BILLED_MONTHS` per kW (:func:`chisan.plan.tariff_constraints.basic_charge_per_kw`).
    """
    if prices.contract_kw_fixed is not None:
        return 0.0, float(prices.contract_kw_fixed)
    return float(prices.basic_charge_per_kw_month) * BILLED_MONTHS, np.nan


def meter_tariffs(
    scenario: Scenario,
    station_names: dict[str, str],
    snapshots: pd.DatetimeIndex,
    flat_price_per_kwh: float,
    station_kw: dict[str, float] | None = None,
) -> MeterTariffs:
    """Every meter's prices and contract terms on the steps (module docstring).

    Parameters
    ----------
    scenario : Scenario
    station_names : dict of str to str
        Station id → name, for the service's stations.
    snapshots : pd.DatetimeIndex
        The schedule's steps (tz-aware).
    flat_price_per_kwh : float
        The town's flat import price [currency/kWh], used when the scenario has no ``grid.tariff``.
    station_kw : dict of str to float, optional
        Charging power of each station [kW] (chargers × charger power): how a site's fixed contract is shared by
        the stations behind it (equally without).

    Raises
    ------
    FieldError
        A tariff that cannot price the steps, naming its field.
    """
    town = town_prices(scenario, snapshots, flat_price_per_kwh)
    station_price = station_import_prices(scenario, station_names, town.import_price_per_kwh)
    ids = pd.Index(list(station_names), name="station")
    charge = pd.Series(0.0, index=ids)
    contract = pd.Series(np.nan, index=ids)
    town_charge, town_fixed = _contract_terms(town)
    if scenario.grid.topology == "single_meter":  # one meter: the town's contract
        return MeterTariffs(
            town,
            station_price,
            town_charge,
            None if np.isnan(town_fixed) else town_fixed,
            charge,
            contract,
            _name(scenario),
        )
    meters = pd.Series({sid: meter_of(scenario, name) for sid, name in station_names.items()}, dtype=object)
    kw = pd.Series(station_kw if station_kw is not None else 1.0, index=ids, dtype=float).clip(lower=0.0)
    for sid, name in station_names.items():
        found = site_tariff_of(scenario, name)
        own = town if found is None else tariff_prices(found[1], snapshots[:1], scenario.finance.currency, found[0])
        charge[sid], contract[sid] = _contract_terms(own)
        # a site's fixed contract is shared by its stations in proportion to their charging power (their caps sum
        # to the contract); a peak-demand site is billed per station, Σ peaks ≥ the site's peak (on the safe side)
        sharing = meters == meters[sid]
        total = float(kw[sharing].sum())
        share = float(kw[sid]) / total if total > 0 else 1.0 / int(sharing.sum())
        contract[sid] = contract[sid] * share
    return MeterTariffs(town, station_price, 0.0, None, charge, contract, _name(scenario))


def meter_of(scenario: Scenario, station_name: str) -> str:
    """Name of the meter of the scenario's station or depot ``station_name``: its declared site's, else its own."""
    for owner in [*scenario.stations, *scenario.depots]:
        if owner.name == station_name:
            return owner.site if owner.site is not None else owner.name
    return station_name


def _name(scenario: Scenario) -> str | None:
    tariff = scenario.grid.tariff
    return None if tariff is None else tariff if isinstance(tariff, str) else tariff.name


def check_town_tariffs(scenario: Scenario, now: pd.Timestamp, timezone: str) -> None:
    """Compile every tariff of the town on the day from ``now`` (before the service starts), so that a tariff the
    schedule could not use is one message at start, not a failed schedule later.

    Raises
    ------
    FieldError
        Naming the tariff's field, its value and what is allowed.
    """
    snapshots = pd.date_range(pd.Timestamp(now).tz_convert(timezone).floor("h"), periods=24, freq="h")
    names = {x.name: x.name for x in [*scenario.stations, *scenario.depots]}
    meter_tariffs(scenario, names, snapshots, float(scenario.grid.import_price_per_kwh))
