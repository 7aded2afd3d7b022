"""Labels for people: the report and the CLI show these; tables keep the machine-readable names with units."""

from __future__ import annotations

import math

KPI_LABELS = {
    "pv_kw": "PV to build",
    "wind_kw": "Wind to build",
    "storage_kwh": "Storage energy",
    "storage_kw": "Storage power",
    "vehicles": "Shared EVs",
    "chargers": "Chargers (all sites)",
    "depot_vehicles": "Depot vehicles",
    "depot_chargers": "Chargers at the depots",
    "total_cost_per_year": "Total cost (whole town)",
    "energy_system_cost_per_year": "Total cost without the shared cars' leases (whole town)",
    "cost_per_km": "Cost per km (all the town's fleets)",
    "energy_cost_per_km": "Cost per km without the shared cars' leases",
    "cost_per_booking": "Cost per car-sharing booking",
    "local_renewable_share_of_charging": "Local renewable share of charging",
    "renewable_share_annual": "Net annual renewable balance",
    "renewable_share_hourly_matched": "Consumption met locally, hour by hour",
    "pv_self_consumption": "Local renewable output used in the town",
    "self_sufficiency": "Self-sufficiency (same as consumption met locally)",
    "peak_grid_import_kw": "Peak grid import",
    "contract_kw": "Contract kW of the basic charge (highest 30-minute demand)",
    "charging_kwh_per_year": "Energy charged (all chargers)",
    "car_sharing_charging_kwh_per_year": "Energy charged by the shared cars",
    "depot_charging_kwh_per_year": "Energy charged by the depots' vehicles",
    "trip_energy_kwh_per_year": "Energy the car-sharing trips took (served bookings)",
    "km_per_year": "Distance driven by the shared cars",
    "depot_km_per_year": "Distance driven by the depots' vehicles",
    "hydrogen_fleet_km_per_year": "Distance driven by the fuel-cell vehicles",
    "bookings_served": "Car-sharing bookings served",
    "bookings_unserved": "Car-sharing bookings not served",
    "scope2_location_kg": "Scope 2, location-based",
    "scope2_market_kg": "Scope 2, market-based",
    "co2_avoided_kg": "CO2e avoided",
    "co2_avoided_by_car_sharing_kg": "CO2e avoided by car-sharing (private cars replaced)",
    "co2_avoided_by_depots_kg": "CO2e avoided by the depots' electric vehicles (diesel replaced)",
    "co2_avoided_by_hydrogen_fleet_kg": "CO2e avoided by making hydrogen on site (delivered hydrogen replaced)",
    "co2_avoided_by_local_renewables_kg": "CO2e avoided by local renewables (grid avoided)",
    "private_cars_replaced": "Private cars replaced",
}
"""Key figures (:func:`chisan.plan.results.key_figures`) → label."""

FIGURE_LABELS = {
    "investment": "Investment (year 0)",
    "annual_savings_first_year": "Net savings in the first year",
    "simple_payback_years": "Simple payback",
    "discounted_payback_years": "Discounted payback",
    "npv": "Net present value (NPV)",
    "irr": "Internal rate of return (IRR)",
    "lcoe_pv_per_kwh": "Levelised cost of the local PV (LCOE)",
    "levelised_cost_of_charging_per_kwh": "Levelised cost of charging",
    "total_cost_per_year": "Total cost of the plan",
    "bau_total_cost_per_year": "Total cost of business as usual",
    "cost_per_km": "Cost per km (plan)",
    "bau_cost_per_km": "Cost per km (business as usual)",
    "cost_per_booking": "Cost per booking (plan)",
    "bau_cost_per_booking": "Cost per booking (business as usual)",
    "project_life_years": "Project life",
    "discount_rate": "Discount rate",
}
"""Economics figures (:func:`chisan.economics.appraisal.appraise`) → label."""


COUNT_UNITS = frozenset({"vehicles", "chargers", "cars", "bookings/year"})
"""Units of counts: shown without decimals."""


def label(name: str, labels: dict[str, str] | None = None) -> str:
    """The label of ``name``, or ``name`` made readable (underscores → spaces, first letter capital)."""
    if labels and name in labels:
        return labels[name]
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def value_text(value: float, unit: str) -> tuple[str, str]:
    """A value and its unit for people: fractions in percent, counts whole, years with one decimal, missing as a dash.

    Returns
    -------
    (value, unit)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—", ""
    if isinstance(value, float) and math.isinf(value):
        return "not within the project life", ""
    if unit == "fraction":
        return f"{value * 100:,.1f}", "%"
    if unit == "years":
        return f"{value:,.1f}", "years"
    if unit in COUNT_UNITS:
        return f"{value:,.0f}", unit
    if abs(value) >= 100:
        return f"{value:,.0f}", unit
    return f"{value:,.2f}", unit
