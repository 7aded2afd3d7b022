"""The roadmap's yearly accounting: the table of years (plan figures interpolated, emissions) and its summary.

Emissions in kg CO2e/year, as stated in :mod:`chisan.roadmap.run`'s module docstring.

Depot vehicle-days off the electricity system (``depot_drivetrain_shares``): a depot of ``V`` vehicle-days a day
runs ``k_b = round(s_b V)`` battery-electric (planned), ``k_f = min(round(s_f V), V − k_b)`` fuel-cell and
``k_d = V − k_b − k_f`` diesel, one vehicle per vehicle-day, as :mod:`chisan.economics.drivetrain` counts them.
Their distance is the expected one: km = k × the duty file's mean km per vehicle-day × the working days of the
calendar year (Monday–Friday, or every day). Per year::

    diesel    CO2 = km_d × l/100 km / 100 × DIESEL_CO2_KG_PER_L;  cost = k_d × diesel capex × crf(r, L)
              + km_d × diesel maintenance + litres × diesel price (chisan.economics.diesel, scenario currency)
    fuel-cell CO2 = km_f × kg/100 km / 100 × hydrogen_co2_kg_per_kg;  cost = k_f × fc capex × crf(r, L_fc)
              + km_f × fc maintenance + kg × hydrogen_price_per_kg ([drivetrain_choice] figures, scenario currency)

Both are added to ``net_kg`` and to ``total_cost_per_year`` (= the plan's ``cost_per_year`` + these).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError
from chisan.roadmap.packs import PROJECTION_YEARS, _Packs
from chisan.roadmap.schema import ResolvedRoadmap
from chisan.scenario.schema import Scenario

if TYPE_CHECKING:
    from chisan.roadmap.run import PlannedYear


def trajectory_summary(net_kg: pd.Series, target_year: int, peak_by_year: int | None = None) -> dict:
    """Peak year, net-zero year and the gap left at the target year of a yearly net-emissions path.

    Parameters
    ----------
    net_kg : pandas.Series
        Net emissions [kg CO2e/year] indexed by year.
    target_year : int
    peak_by_year : int, optional
        Year the emissions must peak by (China: 2030).

    Returns
    -------
    dict
        ``peak_year`` (first year of the largest value), ``peak_kg``, ``net_zero_year`` (first year ≤ 0, or
        None), ``target_year``, ``net_at_target_kg``, ``gap_at_target_kg`` (= max(0, net at target)),
        ``reaches_target`` (a net-zero year at or before the target year), ``peak_by_year`` and
        ``peaks_in_time`` (peak year ≤ peak_by_year; None without a peak target).
    """
    peak_year = int(net_kg.idxmax())
    at_or_below = net_kg[net_kg <= 0.0]
    zero_year = int(at_or_below.index[0]) if len(at_or_below) else None
    at_target = float(net_kg.loc[target_year])
    return {
        "peak_year": peak_year,
        "peak_kg": float(net_kg.loc[peak_year]),
        "net_zero_year": zero_year,
        "target_year": int(target_year),
        "net_at_target_kg": at_target,
        "gap_at_target_kg": max(0.0, at_target),
        "reaches_target": zero_year is not None and zero_year <= target_year,
        "peak_by_year": peak_by_year,
        "peaks_in_time": None if peak_by_year is None else peak_year <= peak_by_year,
    }


def _years_table(
    rows: dict[int, dict], plans: dict[int, PlannedYear], cfg: ResolvedRoadmap, scenario: Scenario, packs: _Packs
) -> pd.DataFrame:
    """Yearly table: fleet and packs from the loop, plan figures interpolated, emissions."""
    s = cfg.settings
    years = cfg.years
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "year"
    planned = pd.DataFrame(
        {
            y: {
                "pv_kw": p.capacities["pv_kw"],
                "wind_kw": p.capacities["wind_kw"],
                **p.energy_kwh,
                "km": p.km,
                "cost_per_year": p.cost_per_year,
                "scope2_shape": p.scope2_shape,
                "export_shape": p.export_shape,
            }
            for y, p in plans.items()
        }
    ).T
    # Years between planned years: linear between the planned years around them.
    planned = planned.reindex(years).astype(float).interpolate(method="index", limit_area="inside")
    table = table.join(planned)
    factor = cfg.grid_factor_kg_per_kwh
    table["grid_factor_kg_per_kwh"] = factor
    table["scope2_kg"] = table["grid_import_kwh"] * factor * table["scope2_shape"]
    table["export_credit_kg"] = table["grid_export_kwh"] * factor * table["export_shape"]
    tech = scenario.technologies
    for name, t in (("pv", tech.pv), ("wind", tech.wind)):
        table[f"embodied_{name}_kg"] = _embodied_capacity(
            table[f"{name}_kw"], t.embodied_kg_per_kw, t.lifetime_years, s.embodied_accounting
        )
    entered = pd.Series(packs.entry).value_counts()
    left = pd.Series(packs.retire_year).value_counts()
    table["new_packs"] = entered.reindex(years, fill_value=0).astype(int).to_numpy()
    table["retired_packs"] = left.reindex([float(y) for y in years], fill_value=0).astype(int).to_numpy()
    table["embodied_battery_kg"] = _embodied_packs(
        packs, years, s.cell_production_kg_co2e_per_kwh, s.embodied_accounting
    )
    table["embodied_kg"] = table[["embodied_pv_kg", "embodied_wind_kg", "embodied_battery_kg"]].sum(axis=1)
    table["net_kg"] = (
        table["scope2_kg"] + table["embodied_kg"] - (table["export_credit_kg"] if s.export_credit else 0.0)
    )
    if s.depot_drivetrain_shares and scenario.depots:
        table = table.join(depot_off_grid(table, scenario))
        table["net_kg"] += table["depot_diesel_co2_kg"] + table["depot_fuel_cell_co2_kg"]
        table["total_cost_per_year"] = (
            table["cost_per_year"] + table["depot_diesel_cost_per_year"] + table["depot_fuel_cell_cost_per_year"]
        )
    table["baseline_kg"] = table["km"] * scenario.baseline.ice_emission_g_per_km / 1000.0
    table["avoided_kg"] = table["baseline_kg"] - table["scope2_kg"]
    return table.drop(columns=["scope2_shape", "export_shape"])


def _working_days(year: int, which: str) -> int:
    """Days of calendar ``year`` a depot works (``"weekdays"``: Monday–Friday; ``"all"``) [days]."""
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    return int((days.dayofweek < 5).sum()) if which == "weekdays" else len(days)


def depot_off_grid(table: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Diesel and fuel-cell vehicle-days of the depots by year: km, CO2 and cost (module docstring).

    Parameters
    ----------
    table : pandas.DataFrame
        Index ``year``; ``depot_battery_electric_share``, ``depot_fuel_cell_share``, ``depot_diesel_share`` [-].
    scenario : Scenario
        Its depots, currency, discount rate and (for fuel-cell shares) ``[drivetrain_choice]``.

    Returns
    -------
    pandas.DataFrame
        Index ``year``: ``depot_diesel_km``, ``depot_diesel_l``, ``depot_diesel_co2_kg``,
        ``depot_diesel_cost_per_year``, ``depot_fuel_cell_km``, ``depot_fuel_cell_h2_kg``,
        ``depot_fuel_cell_co2_kg``, ``depot_fuel_cell_cost_per_year`` [km, l, kg, kg CO2, currency per year].

    Raises
    ------
    ScenarioError
        A fuel-cell share without the ``[drivetrain_choice]`` fuel-cell figures (in the scenario's currency); a
        depot without vehicle prices or a diesel price in the currency.
    """
    from chisan.catalogue.fuel_cell_classes import fuel_cell_class
    from chisan.catalogue.vehicle_classes import vehicle_class
    from chisan.depots.duties import read_nrel_vehicle_days
    from chisan.depots.schedule import read_shift_csv
    from chisan.economics.diesel import diesel_price_per_l, vehicle_prices
    from chisan.economics.drivetrain import DIESEL_CO2_KG_PER_L
    from chisan.units import capital_recovery_factor

    cur, r = scenario.finance.currency, scenario.finance.discount_rate_fraction
    years = table.index
    s_b = table["depot_battery_electric_share"].to_numpy(float)
    s_f = table["depot_fuel_cell_share"].to_numpy(float)
    choice = scenario.drivetrain_choice
    if (s_f > 0).any() and (choice is None or choice.fuel_cell_capex is None):
        raise ScenarioError(
            "roadmap.depot_drivetrain_shares gives the depots a fuel_cell share, but the fuel-cell vehicle's "
            "figures are missing; allowed: a [drivetrain_choice] table with fuel_cell_class, "
            f"fuel_cell_capex [{cur} per vehicle], fuel_cell_maintenance_per_km [{cur}/km], "
            f"fuel_cell_lifetime_years, hydrogen_price_per_kg [{cur}/kg] and hydrogen_co2_kg_per_kg, or no "
            "fuel_cell share"
        )
    out = pd.DataFrame(0.0, index=years, columns=[
        "depot_diesel_km", "depot_diesel_l", "depot_diesel_co2_kg", "depot_diesel_cost_per_year",
        "depot_fuel_cell_km", "depot_fuel_cell_h2_kg", "depot_fuel_cell_co2_kg", "depot_fuel_cell_cost_per_year",
    ])  # fmt: skip
    for i, d in enumerate(scenario.depots):
        path = scenario.resolve(d.path)
        shifts = read_nrel_vehicle_days(path) if d.duties == "nrel" else read_shift_csv(path)
        n_days = int(pd.unique(shifts["vehicle_day_id"].astype(str)).size)
        v = d.vehicle_days_per_day or n_days
        km_per_vehicle_day = float(shifts["distance_km"].sum()) / n_days  # [km] the file's mean
        k_b = np.round(s_b * v)
        k_f = np.minimum(np.round(s_f * v), v - k_b)
        k_d = v - k_b - k_f
        days = np.array([_working_days(int(y), d.working_days) for y in years], dtype=float)
        km_d, km_f = k_d * km_per_vehicle_day * days, k_f * km_per_vehicle_day * days  # [km/year]
        cls = vehicle_class(d.vehicle_class, field=f"depots[{i}].vehicle_class")
        if (k_d > 0).any():
            prices = vehicle_prices(d.vehicle_class, cur, field=f"depots[{i}].vehicle_class")
            price = diesel_price_per_l(d.diesel_price_per_l, cur, field=f"depots[{i}].diesel_price_per_l")
            litres = km_d * cls.diesel_l_per_100km / 100.0  # [l] = [km] × [l/100 km] / 100
            out["depot_diesel_km"] += km_d
            out["depot_diesel_l"] += litres
            out["depot_diesel_co2_kg"] += litres * DIESEL_CO2_KG_PER_L
            out["depot_diesel_cost_per_year"] += (
                k_d * prices.diesel_capex * capital_recovery_factor(r, cls.lifetime_years)
                + km_d * prices.diesel_maintenance_per_km
                + litres * price
            )
        if (k_f > 0).any():
            fc = fuel_cell_class(choice.fuel_cell_class, field="drivetrain_choice.fuel_cell_class")
            kg = km_f * fc.kg_per_100km / 100.0  # [kg] = [km] × [kg/100 km] / 100
            out["depot_fuel_cell_km"] += km_f
            out["depot_fuel_cell_h2_kg"] += kg
            out["depot_fuel_cell_co2_kg"] += kg * choice.hydrogen_co2_kg_per_kg
            out["depot_fuel_cell_cost_per_year"] += (
                k_f * choice.fuel_cell_capex * capital_recovery_factor(r, choice.fuel_cell_lifetime_years)
                + km_f * choice.fuel_cell_maintenance_per_km
                + kg * choice.hydrogen_price_per_kg
            )
    return out


def _embodied_capacity(capacity: pd.Series, kg_per_unit: float, lifetime_years: float, accounting: str) -> pd.Series:
    """Embodied emissions of PV or wind per year [kg CO2e/year].

    ``annualised``: capacity in service × factor / lifetime. ``upfront``: capacity added in the year, and
    capacity re-built when it reaches its lifetime (rounded to whole years), × factor.
    """
    if accounting == "annualised":
        return capacity * kg_per_unit / lifetime_years
    added = capacity.diff().fillna(capacity).clip(lower=0.0)
    life = max(1, round(lifetime_years))
    rebuilt = sum(added.shift(k * life, fill_value=0.0) for k in range(1, len(capacity) // life + 1))
    return (added + rebuilt) * kg_per_unit


def _embodied_packs(packs: _Packs, years: list[int], kg_per_kwh: float, accounting: str) -> pd.Series:
    """Embodied emissions of new packs per year [kg CO2e/year] (module docstring)."""
    out = pd.Series(0.0, index=pd.Index(years, name="year"))
    kg = packs.capacity_kwh * kg_per_kwh
    for entry, retire, leave in zip(packs.entry, packs.retire_year, packs.leave_projected, strict=True):
        if accounting == "upfront":
            out.loc[entry] += kg
            continue
        if np.isfinite(retire):
            life = retire - entry
        elif np.isfinite(leave):
            life = leave - entry
        else:  # not expected to reach the threshold within the projection
            life = years[-1] + 1 + PROJECTION_YEARS - entry
        span = [y for y in range(int(entry), int(entry + life)) if y in out.index]
        out.loc[span] += kg / life
    return out
