"""The roadmap's yearly accounting: the table of years (plan figures interpolated, emissions) and its summary.

Emissions in kg CO2e/year, as stated in :mod:`chisan.roadmap.run`'s module docstring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

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
    table["baseline_kg"] = table["km"] * scenario.baseline.ice_emission_g_per_km / 1000.0
    table["avoided_kg"] = table["baseline_kg"] - table["scope2_kg"]
    return table.drop(columns=["scope2_shape", "export_shape"])


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
