"""Sizing a town of many metered sites on a few groups of them (spatial clustering of the sizing stage).

The two-stage plan sizes PV, wind and storage on typical days and checks them on an aggregate year before every
vehicle is dispatched site by site. With one bus per site, those two LPs grow with the number of sites and HiGHS
needs minutes for a few dozen identical bases (25 sites: 64 s for the typical days, 47 s for the aggregate year),
while the per-vehicle dispatch that follows enforces every meter exactly. So, as PyPSA-Eur clusters the buses of a
network before optimising capacities (Hörsch & Brown 2017, "The role of spatial scale in joint optimisations of
generation and transmission for European highly renewable scenarios", doi:10.1109/EEM.2017.7982024), sites are
merged into at most ``k`` groups for sizing only:

- groups by k-means on each site's mean daily profile of charging power available and trip energy (the features
  the typical days cluster on), scaled to the town's largest value, seeded (scipy's ``kmeans2``);
- a group is one bus: its stations, the sum of its roofs [kW], storage limits [kWh] and meter limits [kW], its
  other load; wind sits in the group of its site;
- each group's PV [kW] (and storage [kWh, kW]) is then split over its sites in proportion to the trip energy of
  their cars, within each roof (storage limit), before the per-vehicle dispatch runs on the real sites.

Merging sites lets PV on one roof serve another site's cars inside the group during sizing, so the sizing is a
relaxation of the metered town; the per-vehicle dispatch, the after-solve checks and the reported costs are those
of the real sites. Towns with links between sites, or with sites on tariffs of their own, are not grouped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster.vq import kmeans2

from chisan.plan.inputs import PlanInputs, station_aggregates

MAX_SIZING_GROUPS = 8
"""Most site groups the sizing stage works on; towns with more sites are grouped (see the module docstring)."""


@dataclass(frozen=True)
class SiteGrouping:
    """Sites merged into groups for sizing.

    Attributes
    ----------
    inputs : PlanInputs
        The town with one bus per group (``sites`` indexed by group name).
    group_of_site : pd.Series
        The group of each real site.
    trip_energy_kwh : pd.Series
        Trip energy of each real site's cars over the horizon [kWh] (weights of the PV split).
    """

    inputs: PlanInputs
    group_of_site: pd.Series
    trip_energy_kwh: pd.Series


def site_features(inputs: PlanInputs) -> pd.DataFrame:
    """Each site's mean daily profile of charging power available [kW] and trip energy [kWh], sites × 2·steps/day."""
    available, trips = station_aggregates(inputs)
    site_of = inputs.stations["site"].astype(str)
    steps = max(1, round(24.0 / inputs.dt_hours))
    hour = np.arange(len(inputs.snapshots)) % steps
    parts = []
    for frame in (available, trips):
        by_site = frame.T.groupby(site_of.reindex(frame.columns).to_numpy()).sum().T
        by_site = by_site.reindex(columns=inputs.sites.index.astype(str)).fillna(0.0)
        parts.append(by_site.groupby(hour).mean().T)
    return pd.concat(parts, axis=1, ignore_index=True)


def group_sites(inputs: PlanInputs, k: int = MAX_SIZING_GROUPS, seed: int = 0) -> SiteGrouping | None:
    """Merge the sites of ``inputs`` into at most ``k`` groups for sizing; None when there is nothing to merge.

    Parameters
    ----------
    inputs : PlanInputs
        Per-vehicle inputs with metered sites.
    k : int
        Most groups.
    seed : int
        Seed of the k-means initialisation (the grouping is reproducible).
    """
    if not inputs.per_site or len(inputs.sites) <= k or (inputs.links is not None and len(inputs.links)):
        return None
    if inputs.site_priced:  # sites on tariffs of their own are sized on their own meters, not merged
        return None
    names = inputs.sites.index.astype(str)
    features = site_features(inputs)
    scale = features.to_numpy(float).max(axis=0)
    x = features.to_numpy(float) / np.where(scale > 0, scale, 1.0)
    _, label = kmeans2(x, k, seed=seed, minit="++")
    # name each group after its first site; drop empty clusters by relabelling in order of first appearance
    order = pd.unique(label)
    rank = {lab: i for i, lab in enumerate(order)}
    group = pd.Series([f"group {rank[lab] + 1}" for lab in label], index=names, name="group")
    group_names = pd.Index(pd.unique(group.to_numpy()), name="site")
    roof = inputs.sites["pv_max_kw"].groupby(group.to_numpy()).sum().reindex(group_names)
    meter = inputs.sites["connection_limit_kw"].groupby(group.to_numpy()).sum(min_count=1)
    if inputs.sites["connection_limit_kw"].isna().any():  # a site without a limit leaves its group unlimited
        unlimited = group[inputs.sites["connection_limit_kw"].isna().to_numpy()].unique()
        meter[unlimited] = np.nan
    storage_room = inputs.sites["storage_max_kwh"].groupby(group.to_numpy()).sum().reindex(group_names)
    sites = pd.DataFrame(
        {"pv_max_kw": roof, "connection_limit_kw": meter.reindex(group_names), "storage_max_kwh": storage_room},
        index=group_names,
    )
    other = inputs.site_other_load_kw.T.groupby(group.to_numpy()).sum().T.reindex(columns=group_names)
    stations = inputs.stations.assign(site=group.reindex(inputs.stations["site"].astype(str)).to_numpy())
    _, trips = station_aggregates(inputs)
    site_trips = trips.sum().groupby(inputs.stations["site"].astype(str).reindex(trips.columns).to_numpy()).sum()
    grouped = dataclasses.replace(
        inputs,
        stations=stations,
        sites=sites,
        site_other_load_kw=other,
        site_pv_fixed_kw=None,
        storage_site=None,  # each group may hold the storage its sites may (sites["storage_max_kwh"])
        site_storage_fixed_kwh=None,
        site_storage_fixed_kw=None,
        wind_site=group[str(inputs.wind_site)],
        contract_kw_min_by_site=None,
    )
    return SiteGrouping(grouped, group, site_trips.reindex(names).fillna(0.0))


def split_group_pv(grouping: SiteGrouping, group_pv_kw: pd.Series, roof_kw: pd.Series) -> pd.Series:
    """Each real site's PV [kW]: its group's PV in proportion to the site's trip energy, within its roof.

    What a full roof cannot take goes to the group's other sites in proportion to their room left; a group
    without trips splits in proportion to the roofs (equally where roofs are unlimited).
    """
    out = pd.Series(0.0, index=grouping.group_of_site.index, name="pv_kw")
    for name, sites in grouping.group_of_site.groupby(grouping.group_of_site):
        members = sites.index
        total = float(group_pv_kw.get(name, 0.0))
        if total <= 0:
            continue
        roof = roof_kw.reindex(members).astype(float)
        weight = grouping.trip_energy_kwh.reindex(members).astype(float)
        if weight.sum() <= 0:
            weight = roof.replace(np.inf, 1.0)
        share = total * weight / weight.sum()
        for _ in range(len(members)):  # water-filling: at most one pass per site that fills its roof
            excess = float((share - roof).clip(lower=0).sum())
            share = share.clip(upper=roof)
            room = roof - share
            free = room > 1e-12
            if excess <= 1e-12 or not free.any():
                break
            w = weight[free] if weight[free].sum() > 0 else room[free].replace(np.inf, 1.0)
            share[free] += excess * w / w.sum()
        out[members] = share.to_numpy()
    return out


def split_group_storage(grouping: SiteGrouping, group_storage: pd.DataFrame, room_kwh: pd.Series) -> pd.DataFrame:
    """Each real site's storage energy [kWh] and power [kW]: its group's, split as the PV is (:func:`split_group_pv`)
    within each site's ``storage_max_kwh``; the power follows the energy (same c-rate within a group)."""
    energy = split_group_pv(grouping, group_storage["storage_kwh"], room_kwh)
    group_e = group_storage["storage_kwh"].reindex(grouping.group_of_site.to_numpy()).to_numpy(float)
    group_p = group_storage["storage_kw"].reindex(grouping.group_of_site.to_numpy()).to_numpy(float)
    share = np.divide(energy.to_numpy(float), group_e, out=np.zeros(len(energy)), where=group_e > 0)
    return pd.DataFrame({"storage_kwh": energy.to_numpy(float), "storage_kw": share * group_p}, index=energy.index)
