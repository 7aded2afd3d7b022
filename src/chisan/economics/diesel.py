"""Depot fleets against diesel: cost per km and a yearly total cost of ownership of both drivetrains.

Per depot and year [currency/year, the scenario's ``finance.currency``]::

    battery-electric = n x capex x crf(r, L) + km x maintenance + electricity
    diesel           = n x diesel capex x crf(r, L) + km x diesel maintenance + km x l/100 km / 100 x diesel price

``crf`` is the capital recovery factor (:func:`chisan.units.capital_recovery_factor`, discount rate ``r`` of the
scenario, lifetime ``L`` of the class); vehicle figures from :mod:`chisan.catalogue.vehicle_classes`; ``km`` the
distance of the depot's served shifts per year. Electricity is the depot's site as planned: import at the
step's price - export at its price + the basic charge on the site's contract kW + the annuity and O&M of the
PV, wind and storage at the site; a site shared with other stations is split by the depot's share of the
site's charging energy. Chargers are in the plan's cost table, not here.

Money is in the scenario's currency. The vehicle prices and maintenance come from the vehicle-class catalogue for
JPY (its currency) and from :data:`CNY_VEHICLE_PRICES` for CNY; the diesel price from ``depots[].diesel_price_per_l``
(in the scenario's currency) or the default of the currency, :data:`DIESEL_PRICE_PER_L`. A currency or a class
without a needed figure is refused with a message naming what is missing (:func:`check_depot_prices`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.catalogue.vehicle_classes import vehicle_class
from chisan.exceptions import ScenarioError
from chisan.plan.tariff_constraints import basic_charge_per_kw
from chisan.units import capital_recovery_factor

DIESEL_CO2_KG_PER_L = 2.62
"""Tailpipe CO2 of diesel [kg CO2/l] = 38.2 MJ/l x 0.0187 kg C/MJ x 44/12.

Japan's Ministry of the Environment, 温室効果ガス総排出量算定方法ガイドライン (2007-03), as tabulated by 自交総連
(http://jikosoren.jp/seisaku/co2/co2-3.html).
"""

DIESEL_PRICE_JPY_PER_L = 146.0
"""Japanese national average retail price of diesel (軽油), taxes included [JPY/l], survey of 2025-12-15.

The Agency for Natural Resources and Energy's weekly retail survey (石油製品価格調査, 店頭現金小売価格), as reported
by trucknews.biz on 2025-12-19 (https://www.trucknews.biz/article/r121936): 146.0 JPY/l, 0.5 down
on the week; the government's fuel subsidy was 17.1 JPY/l from 2025-11-27 (same source). The previous weeks for
comparison: 149.2 JPY/l on 2025-11-25 (https://www.trucknews.biz/article/r112737), 164.6 JPY/l on 2025-03-31
(https://www.trucknews.biz/article/r040337). Prices move every week: set ``depots[].diesel_price_per_l`` to the
current one.
"""

DIESEL_PRICE_CNY_PER_L = 6.49
"""Shanghai's ceiling retail price of 0# diesel (0号柴油), taxes included [CNY/l], from 2018-02-10.

The Shanghai Development and Reform Commission's adjustment as reported by Shanghai Daily
(https://www.shine.cn/news/metro/1802090214/): diesel 6.49 CNY/l, down from 6.63. It is the latest Shanghai price
chisan found with a source; prices are set by the NDRC's mechanism every 10 working days and have moved since:
set ``depots[].diesel_price_per_l`` [CNY/l] to the current one.
"""

DIESEL_PRICE_PER_L = {"JPY": DIESEL_PRICE_JPY_PER_L, "CNY": DIESEL_PRICE_CNY_PER_L}
"""Default diesel price by currency [currency/l]."""


@dataclass(frozen=True)
class VehiclePrices:
    """Purchase and maintenance of a class's battery-electric vehicle and of its diesel counterpart.

    Attributes
    ----------
    capex, diesel_capex : float
        Price of one vehicle [currency].
    maintenance_per_km, diesel_maintenance_per_km : float
        Maintenance [currency/km].
    source : str
        Where the figures come from, and which are assumptions.
    """

    capex: float
    maintenance_per_km: float
    diesel_capex: float
    diesel_maintenance_per_km: float
    source: str


CNY_VEHICLE_PRICES = {
    "e_van": VehiclePrices(
        250_000.0,
        0.30,
        180_000.0,
        0.50,
        "chisan assumption, unsourced: a 3.5 t battery-electric van in China (about CNY 250,000) against a 3.5 t "
        "diesel van (about CNY 180,000); maintenance 0.30 and 0.50 CNY/km",
    ),
    "rigid_7_5t": VehiclePrices(
        350_000.0,
        0.40,
        160_000.0,
        0.60,
        "chisan assumption, unsourced: a battery-electric light truck in China (about CNY 350,000) against a diesel "
        "light truck (about CNY 160,000); maintenance 0.40 and 0.60 CNY/km",
    ),
}
"""Vehicle prices in CNY by vehicle class (the catalogue's classes; the others have no CNY figures yet)."""


def vehicle_prices(vehicle_class_name: str, currency: str, *, field: str = "vehicle_class") -> VehiclePrices:
    """Vehicle prices of a class in ``currency``: the catalogue for JPY, :data:`CNY_VEHICLE_PRICES` for CNY.

    Raises
    ------
    ScenarioError
        No figures for that class in that currency (names the field, the class and what is priced).
    """
    if currency == "JPY":
        cls = vehicle_class(vehicle_class_name, field=field)
        return VehiclePrices(
            cls.capex_jpy,
            cls.maintenance_jpy_per_km,
            cls.diesel_capex_jpy,
            cls.diesel_maintenance_jpy_per_km,
            cls.source,
        )
    if currency == "CNY" and vehicle_class_name in CNY_VEHICLE_PRICES:
        return CNY_VEHICLE_PRICES[vehicle_class_name]
    priced = {"JPY": "every class of the catalogue", "CNY": ", ".join(CNY_VEHICLE_PRICES)}
    allowed = "; ".join(f"{cur}: {what}" for cur, what in priced.items())
    raise ScenarioError(
        f"{field} = {vehicle_class_name!r}: the depot comparison with diesel has no vehicle prices for it in "
        f"finance.currency = {currency!r}; priced are {allowed}"
    )


def diesel_price_per_l(given: float | None, currency: str, *, field: str = "diesel_price_per_l") -> float:
    """The diesel price [currency/l]: ``given`` or the currency's default (:data:`DIESEL_PRICE_PER_L`).

    Raises
    ------
    ScenarioError
        None given and no default for the currency.
    """
    if given is not None:
        return float(given)
    if currency in DIESEL_PRICE_PER_L:
        return DIESEL_PRICE_PER_L[currency]
    raise ScenarioError(
        f"{field} is not given and chisan has no default diesel price in finance.currency = {currency!r}; allowed: "
        f"a price > 0 [{currency}/l], or a currency with a default ({', '.join(DIESEL_PRICE_PER_L)})"
    )


def check_depot_prices(scenario) -> None:
    """Refuse, before solving, a scenario whose depots lack a price in its currency (see :func:`vehicle_prices`)."""
    cur = scenario.finance.currency
    for i, d in enumerate(scenario.depots):
        vehicle_prices(d.vehicle_class, cur, field=f"depots[{i}].vehicle_class")
        diesel_price_per_l(d.diesel_price_per_l, cur, field=f"depots[{i}].diesel_price_per_l")


def depot_tco(scenario, inputs, results, assignment) -> pd.DataFrame:
    """Cost per km and yearly cost of each depot's fleet, battery-electric as planned and diesel.

    Parameters
    ----------
    scenario : Scenario
    inputs : PlanInputs
    results : PlanResults
        With ``stations``, ``sites`` (per-site plans) and ``dispatch``.
    assignment : FleetAssignment
        Bookings with their vehicle (served shifts count).

    Returns
    -------
    pandas.DataFrame
        One row per depot, money columns named with the currency ``<cur>`` (lower case, e.g. ``jpy``, ``cny``):
        ``vehicle_class``, ``vehicles``, ``km_per_year`` [km], ``charging_kwh_per_year`` [kWh],
        ``peak_charging_kw`` [kW], ``electricity_<cur>_per_year``, ``bev_capex_<cur>_per_year``,
        ``bev_maintenance_<cur>_per_year``, ``bev_total_<cur>_per_year``, ``bev_<cur>_per_km``,
        ``diesel_l_per_year`` [l], ``diesel_price_<cur>_per_l``, ``diesel_fuel_<cur>_per_year``,
        ``diesel_capex_<cur>_per_year``, ``diesel_maintenance_<cur>_per_year``, ``diesel_total_<cur>_per_year``,
        ``diesel_<cur>_per_km``, ``saving_<cur>_per_year`` (diesel - battery-electric). Empty when the scenario
        has no depots.

    Raises
    ------
    ScenarioError
        A depot's class has no vehicle prices in the scenario's currency, or there is no diesel price for it.
    """
    if not scenario.depots:
        return pd.DataFrame()
    check_depot_prices(scenario)
    cur = scenario.finance.currency
    c = cur.lower()
    dt, scale, r = inputs.dt_hours, inputs.opex_scale, scenario.finance.discount_rate_fraction
    dispatch = results.dispatch
    weight = dispatch["weight"].to_numpy(float) if "weight" in dispatch else np.ones(len(dispatch))
    served = assignment.bookings[assignment.bookings["vehicle_id"].notna()]
    km = served.groupby("station")["distance_km"].sum() * scale  # [km/year]
    rows = {}
    for d in scenario.depots:
        cls = vehicle_class(d.vehicle_class)
        prices = vehicle_prices(d.vehicle_class, cur)
        st = results.stations.loc[d.name]
        n = int(st["vehicles"])
        electricity = _site_cost(d.site or d.name, d.name, inputs, results, dispatch, weight, dt, scale, r)
        dist = float(km.get(d.name, 0.0))
        crf = capital_recovery_factor(r, cls.lifetime_years)
        bev_capex = n * prices.capex * crf
        bev_maint = dist * prices.maintenance_per_km
        price = diesel_price_per_l(d.diesel_price_per_l, cur)
        litres = dist * cls.diesel_l_per_100km / 100.0  # [l] = [km] x [l/100 km] / 100
        diesel_capex = n * prices.diesel_capex * crf
        diesel_maint = dist * prices.diesel_maintenance_per_km
        bev_total = bev_capex + bev_maint + electricity
        diesel_total = diesel_capex + diesel_maint + litres * price
        per_km = 1.0 / dist if dist > 0 else np.nan  # [1/km]
        rows[d.name] = {
            "vehicle_class": d.vehicle_class,
            "vehicles": n,
            "km_per_year": dist,
            "charging_kwh_per_year": float(st["charging_kwh_per_year"]),
            "peak_charging_kw": float(st["peak_charging_kw"]),
            f"electricity_{c}_per_year": electricity,
            f"bev_capex_{c}_per_year": bev_capex,
            f"bev_maintenance_{c}_per_year": bev_maint,
            f"bev_total_{c}_per_year": bev_total,
            f"bev_{c}_per_km": bev_total * per_km,
            "diesel_l_per_year": litres,
            f"diesel_price_{c}_per_l": price,
            f"diesel_fuel_{c}_per_year": litres * price,
            f"diesel_capex_{c}_per_year": diesel_capex,
            f"diesel_maintenance_{c}_per_year": diesel_maint,
            f"diesel_total_{c}_per_year": diesel_total,
            f"diesel_{c}_per_km": diesel_total * per_km,
            f"saving_{c}_per_year": diesel_total - bev_total,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("depot")


def _site_cost(site, depot, inputs, results, dispatch, weight, dt, scale, r) -> float:
    """The depot's share of its site's yearly electricity cost [currency/year] (see the module docstring)."""
    sites = results.sites
    if sites is None or site not in sites.index:  # one town meter: the depot's charging at the grid price
        charge = results.stations.loc[depot, "charging_kwh_per_year"]
        price = float(np.average(dispatch["import_price_per_kwh"].to_numpy(float), weights=weight))
        return float(charge * price)
    row = sites.loc[site]
    if "energy_charge_per_year" in sites:  # the site's bill at its own tariff (results.site_bills)
        energy = float(row["energy_charge_per_year"]) - float(row["export_revenue_per_year"])
        basic = float(row["basic_charge_per_year"])
    else:
        imp = dispatch[f"site_import_kw:{site}"].to_numpy(float) * weight
        exp_col = f"site_export_kw:{site}"
        exp = dispatch[exp_col].to_numpy(float) * weight if exp_col in dispatch else np.zeros(len(dispatch))
        energy = (imp * dispatch["import_price_per_kwh"].to_numpy(float)).sum() * dt * scale
        energy -= (exp * dispatch["export_price_per_kwh"].to_numpy(float)).sum() * dt * scale
        # the basic charge as the cost table bills it: contract kW x rate x months billed (tariff_constraints)
        basic = float(row["contract_kw"]) * basic_charge_per_kw(inputs) if "contract_kw" in sites else 0.0
    caps = inputs.capacities
    assets = sum(
        float(row[k]) * caps[k].annual_cost_per_unit for k in ("pv_kw", "wind_kw", "storage_kwh", "storage_kw")
    )
    total = float(energy + basic + assets)
    site_charging = float(row["charging_kwh_per_year"])
    share = results.stations.loc[depot, "charging_kwh_per_year"] / site_charging if site_charging > 0 else 1.0
    return total * float(share)
