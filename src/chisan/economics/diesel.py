"""Depot fleets against diesel: cost per km and a yearly total cost of ownership of both drivetrains.

Per depot and year [JPY/year]::

    battery-electric = n x capex x crf(r, L) + km x maintenance + electricity
    diesel           = n x diesel capex x crf(r, L) + km x diesel maintenance + km x l/100 km / 100 x diesel price

``crf`` is the capital recovery factor (:func:`chisan.units.capital_recovery_factor`, discount rate ``r`` of the
scenario, lifetime ``L`` of the class); vehicle figures from :mod:`chisan.catalogue.vehicle_classes`; ``km`` the
distance of the depot's served shifts per year. Electricity is the depot's site as planned: import at the
step's price - export at its price + the basic charge on the site's contract kW + the annuity and O&M of the
PV, wind and storage at the site; a site shared with other stations is split by the depot's share of the
site's charging energy. Chargers are in the plan's cost table, not here. Money is in yen: the catalogue is in
JPY, so the scenario's ``finance.currency`` must be JPY.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.catalogue.vehicle_classes import vehicle_class
from chisan.exceptions import ScenarioError
from chisan.plan.tariff_constraints import basic_charge_per_kw
from chisan.units import capital_recovery_factor

DIESEL_PRICE_JPY_PER_L = 146.0
"""Japanese national average retail price of diesel (軽油), taxes included [JPY/l], survey of 2025-12-15.

The Agency for Natural Resources and Energy's weekly retail survey (石油製品価格調査, 店頭現金小売価格), as reported
by trucknews.biz on 2025-12-19 (https://www.trucknews.biz/article/r121936): 146.0 JPY/l, 0.5 down
on the week; the government's fuel subsidy was 17.1 JPY/l from 2025-11-27 (same source). The previous weeks for
comparison: 149.2 JPY/l on 2025-11-25 (https://www.trucknews.biz/article/r112737), 164.6 JPY/l on 2025-03-31
(https://www.trucknews.biz/article/r040337). Prices move every week: set ``depots[].diesel_price_per_l`` to the
current one.
"""


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
        One row per depot: ``vehicle_class``, ``vehicles``, ``km_per_year`` [km], ``charging_kwh_per_year``
        [kWh], ``peak_charging_kw`` [kW], ``electricity_jpy_per_year``, ``bev_capex_jpy_per_year``,
        ``bev_maintenance_jpy_per_year``, ``bev_total_jpy_per_year``, ``bev_jpy_per_km``, ``diesel_l_per_year``
        [l], ``diesel_price_jpy_per_l``, ``diesel_fuel_jpy_per_year``, ``diesel_capex_jpy_per_year``,
        ``diesel_maintenance_jpy_per_year``, ``diesel_total_jpy_per_year``, ``diesel_jpy_per_km``,
        ``saving_jpy_per_year`` (diesel - battery-electric). Empty when the scenario has no depots.

    Raises
    ------
    ScenarioError
        When the scenario has depots and its currency is not JPY.
    """
    if not scenario.depots:
        return pd.DataFrame()
    if scenario.finance.currency != "JPY":
        raise ScenarioError(
            f"finance.currency = {scenario.finance.currency!r}: the depot comparison with diesel is in JPY (the "
            "vehicle-class catalogue's currency); allowed: 'JPY'"
        )
    dt, scale, r = inputs.dt_hours, inputs.opex_scale, scenario.finance.discount_rate_fraction
    dispatch = results.dispatch
    weight = dispatch["weight"].to_numpy(float) if "weight" in dispatch else np.ones(len(dispatch))
    served = assignment.bookings[assignment.bookings["vehicle_id"].notna()]
    km = served.groupby("station")["distance_km"].sum() * scale  # [km/year]
    rows = {}
    for d in scenario.depots:
        cls = vehicle_class(d.vehicle_class)
        st = results.stations.loc[d.name]
        n = int(st["vehicles"])
        electricity = _site_cost(d.site or d.name, d.name, inputs, results, dispatch, weight, dt, scale, r)
        dist = float(km.get(d.name, 0.0))
        crf = capital_recovery_factor(r, cls.lifetime_years)
        bev_capex = n * cls.capex_jpy * crf
        bev_maint = dist * cls.maintenance_jpy_per_km
        price = d.diesel_price_per_l or DIESEL_PRICE_JPY_PER_L
        litres = dist * cls.diesel_l_per_100km / 100.0  # [l] = [km] x [l/100 km] / 100
        diesel_capex = n * cls.diesel_capex_jpy * crf
        diesel_maint = dist * cls.diesel_maintenance_jpy_per_km
        bev_total = bev_capex + bev_maint + electricity
        diesel_total = diesel_capex + diesel_maint + litres * price
        per_km = 1.0 / dist if dist > 0 else np.nan  # [1/km]
        rows[d.name] = {
            "vehicle_class": d.vehicle_class,
            "vehicles": n,
            "km_per_year": dist,
            "charging_kwh_per_year": float(st["charging_kwh_per_year"]),
            "peak_charging_kw": float(st["peak_charging_kw"]),
            "electricity_jpy_per_year": electricity,
            "bev_capex_jpy_per_year": bev_capex,
            "bev_maintenance_jpy_per_year": bev_maint,
            "bev_total_jpy_per_year": bev_total,
            "bev_jpy_per_km": bev_total * per_km,
            "diesel_l_per_year": litres,
            "diesel_price_jpy_per_l": price,
            "diesel_fuel_jpy_per_year": litres * price,
            "diesel_capex_jpy_per_year": diesel_capex,
            "diesel_maintenance_jpy_per_year": diesel_maint,
            "diesel_total_jpy_per_year": diesel_total,
            "diesel_jpy_per_km": diesel_total * per_km,
            "saving_jpy_per_year": diesel_total - bev_total,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("depot")


def _site_cost(site, depot, inputs, results, dispatch, weight, dt, scale, r) -> float:
    """The depot's share of its site's yearly electricity cost [JPY/year] (see the module docstring)."""
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
