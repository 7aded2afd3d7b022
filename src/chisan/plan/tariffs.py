"""Grid prices on the plan's snapshots: a tariff compiled by :mod:`chisan.tariffs`, or a flat price overridden by
time-of-use bands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError
from chisan.tariffs import compile_tariff, load_tariff, tariff_names
from chisan.tariffs.library import unknown_tariff_reason


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
        ``weekdays_only`` (Monday–Friday); disjoint, as the scenario schema requires (``Grid._bands_disjoint``).
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
    return tariff_prices(grid.tariff, snapshots, currency, "grid.tariff")


def tariff_prices(tariff, snapshots: pd.DatetimeIndex, currency: str, field: str) -> GridPrices:
    """A tariff (bundled name or :class:`~chisan.tariffs.Tariff`) compiled on the snapshots.

    Raises
    ------
    ScenarioError
        An unknown name (the message suggests the closest bundled ones), or a tariff priced in another currency than
        ``finance.currency`` (naming both); ``field`` names where the tariff was given (``"sites[1].tariff"``).
    """
    if isinstance(tariff, str):
        if tariff not in tariff_names():
            raise ScenarioError(f"{field} = {tariff!r}: {unknown_tariff_reason(tariff)}")
        tariff = load_tariff(tariff)
    if currency != tariff.currency:
        raise ScenarioError(
            f"{field} {tariff.name!r} is priced in {tariff.currency} but finance.currency = {currency!r}; "
            f"choose a tariff priced in {currency}"
        )
    compiled = compile_tariff(tariff, snapshots)
    return GridPrices(
        import_price_per_kwh=compiled.import_price_jpy_per_kwh.rename("import_price_per_kwh"),
        export_price_per_kwh=compiled.export_price_jpy_per_kwh.rename("export_price_per_kwh"),
        basic_charge_per_kw_month=compiled.basic_charge_jpy_per_kw_month,
        contract_kw_fixed=compiled.contract_kw_fixed,
        tariff=tariff.name,
    )


TOWN_PRICES = "grid prices"
"""Name of the town's prices in the sites' ``tariff`` column when ``[grid]`` gives flat prices, not a tariff."""


def site_price_fields(
    town: GridPrices, own: dict[str, GridPrices], site_names: Sequence[str], snapshots: pd.DatetimeIndex
) -> dict:
    """The ``PlanInputs`` fields that bill every metered site on its own tariff (empty when none has one).

    Parameters
    ----------
    town : GridPrices
        The town's prices (``grid.tariff``, or the flat prices and bands): every site without a tariff of its own.
    own : dict[str, GridPrices]
        The sites with a tariff of their own, by site name.
    site_names : sequence of str
        Every metered site, in order.

    Returns
    -------
    dict
        ``site_import_price_per_kwh``, ``site_export_price_per_kwh`` (snapshots × sites [currency/kWh]) and
        ``site_tariffs`` (index site: ``tariff``, ``basic_charge_per_kw_month`` [currency/kW/month],
        ``contract_kw_fixed`` [kW], NaN = on the site's highest 30-minute demand).
    """
    if not own:
        return {}
    names = [str(x) for x in site_names]
    unknown = sorted(set(own) - set(names))
    if unknown:
        raise ScenarioError(f"tariffs given for unknown sites {unknown}; the sites are {names}")
    prices = {x: own.get(x, town) for x in names}
    imp = pd.DataFrame({x: p.import_price_per_kwh.to_numpy(float) for x, p in prices.items()}, index=snapshots)
    exp = pd.DataFrame({x: p.export_price_per_kwh.to_numpy(float) for x, p in prices.items()}, index=snapshots)
    fixed = [np.nan if p.contract_kw_fixed is None else float(p.contract_kw_fixed) for p in prices.values()]
    table = pd.DataFrame(
        {
            "tariff": [p.tariff or TOWN_PRICES for p in prices.values()],
            "basic_charge_per_kw_month": [float(p.basic_charge_per_kw_month) for p in prices.values()],
            "contract_kw_fixed": fixed,
        },
        index=pd.Index(names, name="site"),
    )
    return {"site_import_price_per_kwh": imp, "site_export_price_per_kwh": exp, "site_tariffs": table}


def grid_energy_bill(
    inputs,
    step_hours: np.ndarray,
    import_kw: np.ndarray,
    export_kw: np.ndarray,
    site_import_kw: np.ndarray | None = None,
    site_export_kw: np.ndarray | None = None,
) -> tuple[float, float]:
    """Energy charge of the import and remuneration of the export [currency]: Σ_t h_t · price_t · power_t.

    Parameters
    ----------
    inputs : PlanInputs
    step_hours : np.ndarray
        Hours each step stands for (w_t Δt, times the annualisation for a yearly figure) [h].
    import_kw, export_kw : np.ndarray
        The town's import and export (steps,) [kW]: billed at the town's prices.
    site_import_kw, site_export_kw : np.ndarray, optional
        Every site's (steps × sites) [kW]: with tariffs of their own (``inputs.site_priced``) each column is billed
        at its site's prices instead of the town's.
    """
    h = np.asarray(step_hours, dtype=float)
    if inputs.site_priced and site_import_kw is not None:
        imp = np.asarray(site_import_kw, dtype=float)
        cost = float((h[:, None] * imp * inputs.site_import_price_per_kwh.to_numpy(float)).sum())
        exp = np.zeros_like(imp) if site_export_kw is None else np.asarray(site_export_kw, dtype=float)
        revenue = float((h[:, None] * exp * inputs.site_export_price_per_kwh.to_numpy(float)).sum())
        return cost, revenue
    cost = float((h * np.asarray(import_kw, dtype=float) * inputs.import_price_per_kwh.to_numpy(float)).sum())
    revenue = float((h * np.asarray(export_kw, dtype=float) * inputs.export_price_per_kwh.to_numpy(float)).sum())
    return cost, revenue
