"""The basic charge in the LP: a contract kW ≥ every demand interval's mean import (``Tariff-*``).

Japanese high-voltage supply bills a basic charge [JPY/kW/month] on the contract kW, which is the highest
30-minute demand (最大需要電力) of the month and the eleven before it (実量制; e.g. Okinawa Electric's and Chubu
Electric's 業務用電力 terms: "各月の契約電力は、その1月の最大需要電力と前11月の最大需要電力のうち、いずれか大きい
値"). A year-long plan therefore has one contract kW, as REopt's ``add_demand_lookback_constraints`` with a
12-month look-back at 100 %:

    P ≥ (1/k) Σ_{t ∈ interval i} import_t   for every 30-minute interval i (k = steps per 30 min),

and with hourly steps (k < 1) the hourly mean is the demand: P ≥ import_t. The objective adds
basic charge × P × months billed, where a year of contract costs 12 months whatever the horizon the energy
is annualised from — it is not multiplied by the annualisation of the energy costs (``opex_scale``).
A low-voltage contract fixed in advance fixes P (the breaker then caps the demand at it).

With metered sites every site has its own meter and contract: P_s ≥ the mean import of site s in every
interval, and each P_s is billed — at the town's rate, or at its own tariff's rate and contract rule when the
sites have tariffs of their own (``PlanInputs.site_tariffs``: a low-voltage base with a fixed contract next to a
high-voltage depot billed on its peak).
"""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from chisan.plan.inputs import PlanInputs

SNAPSHOT = "snapshot"
SITE = "site"
PEAK = "Tariff-peak_kw"
DEMAND_INTERVAL_H = 0.5
"""Demand interval of Japanese meters [h]: 30 minutes (計量器の30分最大需要電力)."""


def steps_per_interval(dt_hours: float) -> int:
    """Steps per 30-minute demand interval: 2 at 15 min, 1 at 30 min, and 1 at hourly steps (hourly mean)."""
    if dt_hours >= DEMAND_INTERVAL_H - 1e-9:
        return 1
    return max(1, round(DEMAND_INTERVAL_H / dt_hours))


def demand_kw(import_kw: np.ndarray, dt_hours: float) -> np.ndarray:
    """Mean import of each demand interval [kW] (a last, partial interval is summed over k steps, as in the LP)."""
    imp = np.asarray(import_kw, dtype=float)
    k = steps_per_interval(dt_hours)
    if k == 1:
        return imp
    pad = (-len(imp)) % k
    return np.r_[imp, np.zeros(pad)].reshape(-1, k).sum(axis=1) / k


def has_tariff_peak(inputs: PlanInputs) -> bool:
    """True when the tariff bills a contract kW (a basic charge, or a fixed contract that caps the demand)."""
    if inputs.site_priced:
        rate, fixed = site_basic_charge_per_kw_month(inputs), site_contract_fixed_kw(inputs)
        return bool((rate > 0).any() or np.isfinite(fixed).any())
    return inputs.basic_charge_per_kw_month > 0 or inputs.contract_kw_fixed is not None


def site_basic_charge_per_kw_month(inputs: PlanInputs) -> np.ndarray:
    """Basic charge of each metered site's tariff [currency/kW/month], in site order (the town's by default)."""
    if inputs.site_priced:
        return inputs.site_tariffs["basic_charge_per_kw_month"].to_numpy(float)
    return np.full(len(inputs.sites), float(inputs.basic_charge_per_kw_month))


def site_contract_fixed_kw(inputs: PlanInputs) -> np.ndarray:
    """Each metered site's contract fixed in advance [kW], NaN where the contract is the site's peak demand."""
    if inputs.site_priced:
        return inputs.site_tariffs["contract_kw_fixed"].to_numpy(float)
    fixed = np.nan if inputs.contract_kw_fixed is None else float(inputs.contract_kw_fixed)
    return np.full(len(inputs.sites), fixed)


def billed_months(inputs: PlanInputs) -> float:
    """Months of basic charge one contract kW costs in the objective [month].

    12 for an objective per year (the contract holds 12 months, a shorter horizon does not shorten it); for an
    objective over the horizon only (``annualise=False``), the horizon's share of 12; ``tariff_billed_months``
    when given (a rolling-dispatch window prices a new peak at the year's 12 months).
    """
    if inputs.tariff_billed_months is not None:
        return float(inputs.tariff_billed_months)
    if inputs.annualise:
        return 12.0
    return 12.0 * inputs.hours_represented / 8760.0


def basic_charge_per_kw(inputs: PlanInputs) -> float | np.ndarray:
    """Objective coefficient of ``Tariff-peak_kw`` [currency/kW]: basic charge × months billed (per site, in site
    order, when the sites have tariffs of their own)."""
    if inputs.site_priced:
        return site_basic_charge_per_kw_month(inputs) * billed_months(inputs)
    return inputs.basic_charge_per_kw_month * billed_months(inputs)


def peak_lower_kw(inputs: PlanInputs) -> float | xr.DataArray:
    """Lower bound of the contract kW [kW]: the fixed contract, or the peak carried in (per site when metered)."""
    if inputs.site_priced:
        sites = pd.Index(inputs.sites.index.astype(str), name=SITE)
        carried = np.zeros(len(sites))
        if inputs.contract_kw_min_by_site is not None:
            carried = inputs.contract_kw_min_by_site.reindex(sites).fillna(0.0).to_numpy(float)
        fixed = site_contract_fixed_kw(inputs)
        return xr.DataArray(np.where(np.isfinite(fixed), fixed, carried), coords=[sites])
    if inputs.contract_kw_fixed is not None:
        return float(inputs.contract_kw_fixed)
    if inputs.per_site and inputs.contract_kw_min_by_site is not None:
        sites = pd.Index(inputs.sites.index.astype(str), name=SITE)
        carried = inputs.contract_kw_min_by_site.reindex(sites).fillna(0.0).to_numpy(float)
        return xr.DataArray(carried, coords=[sites])
    return float(inputs.contract_kw_min)


def peak_upper_kw(inputs: PlanInputs) -> float | xr.DataArray:
    """Upper bound of the contract kW [kW]: a fixed contract (the breaker caps the demand), inf otherwise."""
    if inputs.site_priced:
        sites = pd.Index(inputs.sites.index.astype(str), name=SITE)
        fixed = site_contract_fixed_kw(inputs)
        return xr.DataArray(np.where(np.isfinite(fixed), fixed, np.inf), coords=[sites])
    return np.inf if inputs.contract_kw_fixed is None else float(inputs.contract_kw_fixed)


def contract_kw(inputs: PlanInputs, import_kw: np.ndarray) -> float:
    """Contract kW a dispatch is billed on [kW]: the fixed contract, or max(highest demand, carried peak).

    With metered sites pass the import of every site (steps × sites): the result is the sum of the sites'
    contracts (:func:`site_contract_kw`), which is what the basic charge is billed on.
    """
    imp = np.asarray(import_kw, dtype=float)
    if imp.ndim == 2:
        return float(site_contract_kw(inputs, imp).sum())
    if inputs.contract_kw_fixed is not None:
        return float(inputs.contract_kw_fixed)
    peak = float(demand_kw(imp, inputs.dt_hours).max()) if len(imp) else 0.0
    return max(peak, float(inputs.contract_kw_min))


def site_contract_kw(inputs: PlanInputs, site_import_kw: np.ndarray) -> np.ndarray:
    """Contract kW of each metered site [kW]: fixed, or max(its highest 30-minute demand, its carried peak)."""
    imp = np.asarray(site_import_kw, dtype=float)
    peak = np.array([demand_kw(imp[:, j], inputs.dt_hours).max() if len(imp) else 0.0 for j in range(imp.shape[1])])
    carried = peak_lower_kw(inputs)
    carried = carried.to_numpy() if isinstance(carried, xr.DataArray) else np.full(imp.shape[1], float(carried))
    fixed = site_contract_fixed_kw(inputs)
    return np.where(np.isfinite(fixed), fixed, np.maximum(peak, carried))


def basic_charge_cost(inputs: PlanInputs, import_kw: np.ndarray) -> float:
    """Basic charge of a dispatch [currency/year, or over the horizon]: Σ over meters of rate × months × contract.

    ``import_kw`` is the town's import (steps,) or, with metered sites, every site's (steps × sites) [kW].
    """
    if not has_tariff_peak(inputs):
        return 0.0
    imp = np.asarray(import_kw, dtype=float)
    if inputs.site_priced:
        return float((basic_charge_per_kw(inputs) * site_contract_kw(inputs, imp)).sum())
    return float(basic_charge_per_kw(inputs)) * contract_kw(inputs, imp)


def define_tariff_peak_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """Contract kW ≥ the mean import of every demand interval (``Tariff-peak_kw``, ``Tariff-peak_demand``).

    On typical days the one contract kW covers every typical day (each stands for days of every month it
    represents); in a rolling dispatch its lower bound is the peak carried in (:func:`update_tariff_peak`), so
    every window keeps one structure.
    """
    if not has_tariff_peak(inputs) or "Grid-import_kw" not in m.variables:
        return
    upper = peak_upper_kw(inputs)
    if inputs.per_site:
        sites = pd.Index(inputs.sites.index.astype(str), name=SITE)
        peak = m.add_variables(lower=peak_lower_kw(inputs), upper=upper, coords=[sites], name=PEAK)
        imp = m.variables["Site-import_kw"]
    else:
        peak = m.add_variables(lower=peak_lower_kw(inputs), upper=upper, name=PEAK)
        imp = m.variables["Grid-import_kw"]
    k = steps_per_interval(inputs.dt_hours)
    if k == 1:
        m.add_constraints(imp - peak <= 0, name="Tariff-peak_demand")
        return
    t = pd.Index(np.arange(len(inputs.snapshots)), name=SNAPSHOT)
    interval = xr.DataArray(np.arange(len(t)) // k, coords=[t], name="demand_interval")
    per_interval = imp.to_linexpr().groupby(interval).sum()
    m.add_constraints(per_interval - k * peak <= 0, name="Tariff-peak_demand")


def update_tariff_peak(m: linopy.Model, inputs: PlanInputs) -> None:
    """Write the carried peak into the lower bound of ``Tariff-peak_kw``, in place (rolling dispatch)."""
    if PEAK in m.variables and (inputs.site_priced or inputs.contract_kw_fixed is None):
        lower = peak_lower_kw(inputs)
        bound = m.variables[PEAK].lower
        if isinstance(lower, xr.DataArray):  # one carried peak per site: a fresh array (the bound may be a view)
            m.variables[PEAK].update(lower=lower.reindex_like(bound))
        else:
            bound.values[...] = lower
