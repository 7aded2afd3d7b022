"""Sentences of the plan report that turn result tables into plain words for a council.

Every function here reads existing results (:class:`chisan.plan.results.PlanResults`, the scenario, the economics)
and returns text; none computes a new quantity of the plan beyond sums and ratios of what the results hold.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from chisan.carbon.factors import grid_factor
from chisan.plan.results import DELIVERED_HYDROGEN_CO2_KG_PER_KG
from chisan.report.output import num

NOT_STATED = "a number given in the scenario; source not stated"
"""What the inputs table says of a factor or price typed into the scenario without a registry name."""

_CAUSES = (
    ("co2_avoided_by_car_sharing_kg", "car-sharing (private gasoline cars replaced)"),
    ("co2_avoided_by_depots_kg", "the depots' electric vehicles (diesel replaced)"),
    ("co2_avoided_by_hydrogen_fleet_kg", "making hydrogen on site (delivered hydrogen replaced)"),
    ("co2_avoided_by_local_renewables_kg", "local renewables (grid power avoided)"),
)


def co2_split(k: pd.Series) -> str:
    """The CO2 avoided by cause, as a phrase [t CO2e/year]; a cause that adds CO2 is said to add it.

    The causes are those of :func:`chisan.plan.results.key_figures` (car-sharing, depots and hydrogen when there
    are any, local renewables); they sum to the total avoided.
    """
    parts = []
    for key, what in _CAUSES:
        value_kg = float(k.get(key, 0.0))
        if not value_kg and key in ("co2_avoided_by_depots_kg", "co2_avoided_by_hydrogen_fleet_kg"):
            continue
        if value_kg >= 0:
            parts.append(f"{value_kg / 1000:,.1f} t avoided by {what}")
        else:
            parts.append(f"{-value_kg / 1000:,.1f} t added by {what}")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def electrolyser_grid_kg_per_kg(emissions: pd.Series) -> float:
    """CO2 of the electrolyser's and compressor's electricity at the grid's factor per kg of hydrogen made
    [kg CO2e/kg H2], from the emissions of :func:`chisan.plan.results.key_figures`.

    hydrogen made = baseline_delivered_hydrogen / 9.35 and grid_(electrolyser) = baseline_delivered_hydrogen −
    avoided_by_hydrogen_fleet (chisan.plan.results), so the ratio is 9.35 × (1 − avoided / baseline).
    """
    delivered_kg = float(emissions.get("baseline_delivered_hydrogen_kg", 0.0))
    if delivered_kg <= 0:
        return float("nan")
    by_hydrogen_kg = float(emissions.get("avoided_by_hydrogen_fleet_kg", 0.0))
    return DELIVERED_HYDROGEN_CO2_KG_PER_KG * (1.0 - by_hydrogen_kg / delivered_kg)


def co2_sentence(k: pd.Series, emissions: pd.Series) -> str:
    """The summary's CO2 sentence: 'avoids X t' when the plan avoids CO2, else plainly how much more it emits
    than the town without it, and the main cause."""
    avoided_kg = float(k["co2_avoided_kg"])
    if avoided_kg >= 0:
        return f"avoids {avoided_kg / 1000:,.1f} t CO2e a year: {co2_split(k)}."
    worst_key = min((c for c, _ in _CAUSES), key=lambda c: float(k.get(c, 0.0)))
    because = {
        "co2_avoided_by_hydrogen_fleet_kg": (
            "the electrolyser runs on grid power (its electricity at the grid's factor is "
            f"{electrolyser_grid_kg_per_kg(emissions):,.1f} kg CO2e per kg of hydrogen, against "
            f"{DELIVERED_HYDROGEN_CO2_KG_PER_KG:g} kg for delivered hydrogen made from natural gas)"
        ),
        "co2_avoided_by_car_sharing_kg": "the shared cars' charging from the grid emits more than the private "
        "gasoline cars they replace",
        "co2_avoided_by_depots_kg": "the depot vehicles' charging from the grid emits more than their diesel",
        "co2_avoided_by_local_renewables_kg": "of the grid power it still draws",
    }[worst_key]
    return (
        f"<b>emits {-avoided_kg / 1000:,.1f} t CO2e a year more than the town without it</b> (private "
        f"gasoline cars, diesel depot vehicles and delivered hydrogen), mainly because {because}: "
        f"{co2_split(k)}."
    )


def renewable_balance_sentence(k: pd.Series, balance: pd.Series, scaled: bool) -> str:
    """The summary's net-renewable-balance sentence, naming what the PV + wind output is divided by
    (:func:`chisan.plan.results.key_figures`, ``renewable_share_annual``)."""
    charging_kwh = float(balance["charging_kwh"])
    hydrogen_kwh = float(balance.get("hydrogen_electricity_kwh", 0.0))
    period = "horizon" if scaled else "year"
    net = f"the net {'annual ' if not scaled else ''}balance, counting exports"
    if hydrogen_kwh > 0:
        return (
            f"over the {period} local PV and wind produce {k['renewable_share_annual'] * 100:.1f} % of the "
            "electricity drawn by the vehicles' chargers and the electrolyser together "
            f"({net}: PV + wind output ÷ ({num(charging_kwh)} kWh of charging + {num(hydrogen_kwh)} kWh for the "
            f"electrolyser and compressor){', all scaled to a year' if scaled else ''})"
        )
    return (
        f"over the {period} local PV and wind produce {k['renewable_share_annual'] * 100:.1f} % of the energy "
        f"the cars draw at their chargers ({net})"
    )


def week_text(week: pd.DataFrame, dt_hours: float, depot_charging_kw: pd.Series | None = None) -> str:
    """What happened in a week, in numbers: what drew the energy, where it came from, when imports happened.

    ``depot_charging_kw`` is the part of ``week["charging_kw"]`` drawn by the depots' vehicles [kW] (None = no
    depots); the electrolyser and compressor (``hydrogen_electricity_kw``) are named apart from the cars.
    """
    charging = float(week["charging_kw"].sum() * dt_hours)
    depot = float(depot_charging_kw.sum() * dt_hours) if depot_charging_kw is not None else 0.0
    hydrogen = float(week["hydrogen_electricity_kw"].sum() * dt_hours) if "hydrogen_electricity_kw" in week else 0.0
    other = float(week["other_load_kw"].sum() * dt_hours) if "other_load_kw" in week else 0.0
    local = float((week["pv_kw"] + week["wind_kw"] + week["storage_discharge_kw"]).sum() * dt_hours)
    imp = week["grid_import_kw"] * dt_hours
    total_imp = float(imp.sum())
    cheap = week["import_price_per_kwh"] <= week["import_price_per_kwh"].min() + 1e-9
    cheap_share = float(imp[cheap].sum() / total_imp) if total_imp > 0 else 0.0
    night = (week.index.hour < 6) | (week.index.hour >= 20)
    drew = [f"the shared cars drew {charging - depot:,.0f} kWh"]
    if depot_charging_kw is not None:
        drew.append(f"the depots' vehicles {depot:,.0f} kWh")
    if "hydrogen_electricity_kw" in week:
        drew.append(f"the electrolyser and compressor {hydrogen:,.0f} kWh")
    if other > 0:
        drew.append(f"the other load {other:,.0f} kWh")
    text = ", ".join(drew) + f"; local supply was {local:,.0f} kWh and the grid delivered {total_imp:,.0f} kWh"
    if total_imp > 0:
        text += (
            f", {cheap_share:.0%} of it in the cheapest tariff hours and "
            f"{float(imp[night].sum() / total_imp):.0%} of it between 20:00 and 06:00"
        )
    return text + "."


def bookings_text(bookings: pd.DataFrame, depot_names: set[str], source: str) -> str:
    """Car-sharing bookings and depot shifts counted apart (both are rows of the assignment's bookings)."""
    is_depot = bookings["station"].isin(depot_names)

    def counted(rows: pd.DataFrame, what: str) -> str:
        served = int(rows["vehicle_id"].notna().sum())
        unserved = len(rows) - served
        reasons = rows.loc[rows["vehicle_id"].isna(), "unserved_reason"].value_counts()
        why = ", ".join(f"{n} {str(r).replace('_', ' ')}" for r, n in reasons.items() if n)
        return f"{len(rows):,} {what} in the period; {served:,} served; {unserved:,} unserved" + (
            f" ({why})" if why else ""
        )

    cs = bookings[~is_depot]
    text = counted(cs, f"car-sharing bookings ({source})")
    if is_depot.any():
        text += "; " + counted(bookings[is_depot], "depot shifts (the depots' own vehicles)")
    text += (
        f"; car-sharing bookings last {((cs['end'] - cs['start']).dt.total_seconds().mean() / 3600):.1f} h and "
        f"{cs['distance_km'].mean():.1f} km on average. Unserved bookings are counted, never dropped: see bookings.csv."
    )
    return text


def market_factor_text(grid, market_kg_per_kwh: float) -> str:
    """How the market-based scope 2 factor was chosen: a registry factor, a supplier's number, or none given."""
    if grid.market_emission_factor:
        return (
            f"market-based uses the supplier's factor ({market_kg_per_kwh * 1000:.0f} g/kWh, "
            f"{grid_factor(grid.market_emission_factor).source})"
        )
    if grid.market_emission_factor_kg_per_kwh is not None:
        return f"market-based uses the supplier's factor ({market_kg_per_kwh * 1000:.0f} g/kWh; {NOT_STATED})"
    return (
        "market-based: no supplier factor given, so the location factor is used "
        f"({market_kg_per_kwh * 1000:.0f} g/kWh, its mean)"
    )


def location_factor_text(grid, factor_kg_per_kwh: np.ndarray) -> str:
    """The location-based grid factor of the inputs table: where it comes from and its value."""
    ef = np.asarray(factor_kg_per_kwh, float)
    if grid.emission_factor_path:
        return (
            f"hourly file {grid.emission_factor_path} (column {grid.emission_factor_column}): mean "
            f"{ef.mean() * 1000:.1f} g CO2e/kWh"
        )
    if grid.emission_factor:
        return f"constant {ef.mean() * 1000:.1f} g CO2e/kWh, registry factor {grid_factor(grid.emission_factor).source}"
    return f"constant {ef.mean() * 1000:.1f} g CO2e/kWh ({NOT_STATED})"


def scope2_location_definition(grid) -> str:
    """'… × the grid's emission factor in each hour' for an hourly file, '× the grid's constant factor' else."""
    if grid.emission_factor_path:
        return "grid import × the grid's emission factor in each hour"
    return "grid import × the grid's constant emission factor"


def basis_with_currency(basis: str, currency: str) -> str:
    """A cost-table basis with its prices in the currency (``0 per t CO2e`` → ``0 CNY/t CO2e``)."""
    basis = re.sub(r"(\d) per t CO2e", rf"\1 {currency}/t CO2e", basis)
    basis = re.sub(r"(\d) per kWh·h", rf"\1 {currency}/kWh·h", basis)
    basis = re.sub(r"× ([\d,.]+)/kW/month", rf"× \1 {currency}/kW/month", basis)
    return re.sub(r"^([\d,.]+ kWh) × ([\d.eE+-]+)$", rf"\1 × \2 {currency}/kWh", basis)


def money_units(text: str, currency: str) -> str:
    """Prices written as ' /kWh' (no currency) with the currency put in: ' 12,500 /kWh' → ' 12,500 CNY/kWh', and
    the value V of :mod:`chisan.plan.second_life`'s reason with its unit [currency/kWh/year]."""
    text = re.sub(r"\(V = ([\d,.]+):", rf"(V = \1 {currency}/kWh/year:", text)
    return re.sub(r"(\d) /kWh", rf"\1 {currency}/kWh", text)


def check_row(row: dict) -> dict:
    """A check row for people: fractions in percent, and the worst case said as excess over the limit or the
    margin inside it (checks.csv keeps the signed excess: ≤ tolerance passes, negative = inside)."""
    if row.get("unit") == "fraction":
        row = {**row, "worst": row["worst"] * 100.0, "tolerance": row["tolerance"] * 100.0, "unit": "%"}
    worst = float(row["worst"])
    if worst < 0:
        worst_text = f"inside by {-worst:.3g}"
    elif worst > 0:
        worst_text = f"over by {worst:.3g}"
    else:
        worst_text = "0"
    return {**row, "worst_text": worst_text}


def reconcile_savings(economics, currency: str) -> str:
    """One sentence that reconciles the annual cost gap (BAU − plan) with the first-year saving of the cash flows.

    gap = Σ saving of every line of the comparison; first-year saving = the operating lines' saving − the new
    fixed O&M (chisan.economics.appraisal); so first year = gap + (plan − BAU) of the equipment lines (annuity and
    O&M in the cost table) − the new fixed O&M of the investment table.
    """
    c = currency.lower()
    comp = economics.comparison
    v = economics.figures["value"]
    gap = float(v["bau_total_cost_per_year"] - v["total_cost_per_year"])
    first = float(v["annual_savings_first_year"])
    bought = [name for name in economics.investment.index if name in comp.index]
    extra = comp.loc[bought, f"plan_{c}_per_year"] - comp.loc[bought, f"bau_{c}_per_year"]
    extra_total = float(extra.sum())
    om = float(economics.investment[f"fixed_om_{c}_per_year"].sum())
    rest = first - (gap + extra_total - om)
    lines = ", ".join(f"{name} {num(x)}" for name, x in extra.items() if abs(x) >= 0.5)
    text = (
        f"The annual costs differ by {num(gap)} {currency}/year, while the plan saves {num(first)} {currency} in its "
        f"first year: the annual costs carry the new equipment as annuities with its fixed O&amp;M ({lines} "
        f"{currency}/year, {num(extra_total)} in all), the first year's cash flow only its fixed O&amp;M "
        f"({num(om)} {currency}; the investment itself is paid in year 0): {num(gap)} + {num(extra_total)} − "
        f"{num(om)}"
    )
    if abs(rest) >= 0.5:  # e.g. a line the cash flows value differently from the cost table: said, not hidden
        text += (
            f" {'+' if rest > 0 else '−'} {num(abs(rest))} = {num(first)} {currency}, the {num(abs(rest))} being "
            "lines the first year's cash flow values differently from the cost table (compare cash_flows.csv "
            "with cost_comparison.csv)."
        )
        return text
    return text + f" = {num(first)} {currency}."
