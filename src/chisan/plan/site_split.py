"""Per-site quantities of a two-stage plan with a meter per site: the PV split over the sites, the contract kW
of each meter and the aggregate year's fleet energy per site, as the rolling dispatch needs them.

Split out of :mod:`chisan.plan.solve`; the names stay importable from there.
"""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd

from chisan.plan.inputs import PlanInputs
from chisan.plan.reduce import aggregate_fleet
from chisan.plan.tariff_constraints import PEAK


def site_pv_of(m: linopy.Model, inputs: PlanInputs, total_kw: float | None = None) -> pd.Series | None:
    """PV of each metered site of a solved model [kW], scaled to ``total_kw`` when given; None with one meter."""
    if not inputs.per_site:
        return None
    if "Site-pv_kw" in m.variables:
        split = pd.Series(np.maximum(m.variables["Site-pv_kw"].solution.to_numpy(), 0.0), index=inputs.sites.index)
    elif inputs.site_pv_fixed_kw is not None:
        split = inputs.site_pv_fixed_kw.astype(float)
    else:
        split = pd.Series(0.0, index=inputs.sites.index)
    if total_kw is not None and split.sum() > 0:
        split = split * (float(total_kw) / float(split.sum()))
    return split.rename("pv_kw")


def site_storage_of(m: linopy.Model, inputs: PlanInputs) -> pd.DataFrame | None:
    """Storage energy [kWh] and power [kW] at each metered site of a solved model; None with one meter."""
    if not inputs.per_site:
        return None
    out = pd.DataFrame(0.0, index=inputs.sites.index.astype(str), columns=["storage_kwh", "storage_kw"])
    if "Site-storage_kwh" in m.variables:
        si = inputs.storage_sites
        out.loc[si, "storage_kwh"] = np.maximum(m.variables["Site-storage_kwh"].solution.to_numpy(), 0.0)
        out.loc[si, "storage_kw"] = np.maximum(m.variables["Site-storage_kw"].solution.to_numpy(), 0.0)
    elif inputs.site_storage_fixed_kwh is not None and inputs.site_storage_fixed_kw is not None:
        out["storage_kwh"] = inputs.site_storage_fixed_kwh.reindex(out.index).fillna(0.0).to_numpy(float)
        out["storage_kw"] = inputs.site_storage_fixed_kw.reindex(out.index).fillna(0.0).to_numpy(float)
    elif "Site-storage_energy_kwh" in m.variables:  # one storage site holding the town's fixed capacity
        caps = {name: _capacity(m, name) for name in ("storage_kwh", "storage_kw")}
        out.loc[inputs.storage_sites, ["storage_kwh", "storage_kw"]] = [caps["storage_kwh"], caps["storage_kw"]]
    out.index.name = "site"
    return out


def _capacity(m: linopy.Model, name: str) -> float:
    """A town capacity of a solved model (``Capacity-<name>``), 0 when not a variable (then fixed at 0 or a bound)."""
    var = f"Capacity-{name}"
    return max(0.0, float(m.variables[var].solution)) if var in m.variables else 0.0


def scaled_site_pv(
    split: pd.Series | None, total_kw: float | None, roof_kw: pd.Series | None = None
) -> pd.Series | None:
    """A per-site PV split [kW] scaled to a new town total [kW] (capacities raised after sizing).

    Sites at their roof limit [kW] keep it; what they cannot take goes to the others in proportion to their
    room left.
    """
    if split is None or total_kw is None or split.sum() <= 0:
        return split
    new = split * (float(total_kw) / float(split.sum()))
    if roof_kw is None:
        return new
    roof = roof_kw.reindex(new.index).astype(float)
    excess = float((new - roof).clip(lower=0).sum())
    new = new.clip(upper=roof)
    room = (roof - new).replace(np.inf, 1e12)
    if excess > 0 and room.sum() > 0:
        new = new + excess * room / room.sum()
    return new


def roofs(inputs: PlanInputs) -> pd.Series | None:
    """The PV limit of each metered site's roof [kW]; None with one meter."""
    return inputs.sites["pv_max_kw"] if inputs.per_site else None


def site_contract_of(m: linopy.Model, inputs: PlanInputs) -> pd.Series | None:
    """Contract kW of each metered site in a solved model [kW]; None with one meter or no basic charge."""
    if not inputs.per_site or PEAK not in m.variables:
        return None
    return pd.Series(m.variables[PEAK].solution.to_numpy(), index=inputs.sites.index)


def site_fleet_kwh(m2: linopy.Model, inputs: PlanInputs, year_inputs: PlanInputs) -> pd.DataFrame | None:
    """The aggregate year's fleet energy per real site [kWh] (snapshots × sites), None with one meter.

    ``m2`` has one fleet per site of ``year_inputs`` (or per station); a group's energy is shared among its
    real sites in proportion to the usable energy of their cars.
    """
    if not inputs.per_site or "Fleet-energy_kwh" not in m2.variables:
        return None
    agg = aggregate_fleet(year_inputs)
    energy = pd.DataFrame(
        m2.variables["Fleet-energy_kwh"].solution.to_numpy(), index=inputs.snapshots, columns=agg.stations.index
    )
    by_year_site = energy.T.groupby(agg.stations["site"].astype(str).to_numpy()).sum().T
    real_site = inputs.stations["site"].astype(str).reindex(inputs.vehicles["station"].to_numpy()).to_numpy()
    year_site = year_inputs.stations["site"].astype(str).reindex(inputs.vehicles["station"].to_numpy()).to_numpy()
    usable = pd.DataFrame({"real": real_site, "year": year_site, "kwh": inputs.vehicles["usable_kwh"].to_numpy()})
    per_real = usable.groupby(["real", "year"])["kwh"].sum().reset_index()
    per_real["share"] = per_real["kwh"] / per_real.groupby("year")["kwh"].transform("sum")
    out = pd.DataFrame(0.0, index=inputs.snapshots, columns=inputs.sites.index.astype(str))
    for row in per_real.itertuples():
        if row.year in by_year_site:
            out[row.real] = by_year_site[row.year].to_numpy() * row.share
    return out
