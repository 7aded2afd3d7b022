"""Grid prices on the plan's snapshots: a tariff compiled by :mod:`chisan.tariffs`, or a flat price overridden by
time-of-use bands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError
from chisan.tariffs import compile_tariff, load_tariff


def import_price_series(snapshots: pd.DatetimeIndex, flat_price_per_kwh: float, bands: Sequence = ()) -> pd.Series:
    """Import price at every snapshot [currency/kWh].

    Parameters
    ----------
    snapshots : pd.DatetimeIndex
        tz-aware; bands apply on the local clock of the index.
    flat_price_per_kwh : float
        Price outside every band [currency/kWh].
    bands : sequence of TimeOfUse
        Each with ``start_hour`` (inclusive), ``end_hour`` (exclusive), ``price_per_kwh`` and
        ``weekdays_only`` (Monday–Friday). Later bands override earlier ones where they overlap.
    """
    price = np.full(len(snapshots), float(flat_price_per_kwh))
    hour = snapshots.hour.to_numpy()
    weekday = snapshots.dayofweek.to_numpy() < 5
    for band in bands:
        inside = (hour >= band.start_hour) & (hour < band.end_hour)
        if band.weekdays_only:
            inside &= weekday
        price[inside] = float(band.price_per_kwh)
    return pd.Series(price, index=snapshots, name="import_price_per_kwh")


@dataclass(frozen=True)
class GridPrices:
    """What the plan takes from the grid section: price series and the basic-charge terms.

    Attributes
    ----------
    import_price_per_kwh, export_price_per_kwh : pd.Series
        [currency/kWh] on the snapshots (levies included in the import price).
    basic_charge_per_kw_month : float
        [currency/kW/month]; 0 without a tariff.
    contract_kw_fixed : float or None
        Fixed low-voltage contract [kW]; None when the contract is the peak demand or there is no tariff.
    tariff : str or None
        Name of the tariff used.
    """

    import_price_per_kwh: pd.Series
    export_price_per_kwh: pd.Series
    basic_charge_per_kw_month: float = 0.0
    contract_kw_fixed: float | None = None
    tariff: str | None = None


def grid_prices(grid, snapshots: pd.DatetimeIndex, currency: str = "JPY") -> GridPrices:
    """Prices of a scenario's ``[grid]``: its tariff compiled on the snapshots, or the flat price and bands.

    Raises
    ------
    ScenarioError
        A tariff priced in another currency than ``finance.currency``.
    """
    if grid.tariff is None:
        imp = import_price_series(snapshots, grid.import_price_per_kwh, grid.import_tou)
        exp = pd.Series(float(grid.export_price_per_kwh), index=snapshots, name="export_price_per_kwh")
        return GridPrices(imp, exp)
    tariff = load_tariff(grid.tariff) if isinstance(grid.tariff, str) else grid.tariff
    if currency != tariff.currency:
        raise ScenarioError(
            f"grid.tariff {tariff.name!r} is priced in {tariff.currency} but finance.currency = {currency!r}"
        )
    compiled = compile_tariff(tariff, snapshots)
    return GridPrices(
        import_price_per_kwh=compiled.import_price_jpy_per_kwh.rename("import_price_per_kwh"),
        export_price_per_kwh=compiled.export_price_jpy_per_kwh.rename("export_price_per_kwh"),
        basic_charge_per_kw_month=compiled.basic_charge_jpy_per_kw_month,
        contract_kw_fixed=compiled.contract_kw_fixed,
        tariff=tariff.name,
    )
