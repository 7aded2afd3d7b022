"""Reduced versions of a plan: fleets aggregated into batteries, and a year reduced to typical days (tsam).

Two relaxations of the per-vehicle model, used by the two-stage method (:mod:`chisan.plan.solve`):

- :func:`aggregate_fleet` — the vehicles of a station (or of the whole town) become one battery: the summed
  energy between the summed needs (each vehicle's least energy for its own later bookings, so one car's energy
  cannot start another car's trip) and the summed usable energies, charged at most at the summed power of the
  vehicles plugged in (capped by the chargers), drained by the summed trip energy. Any per-vehicle schedule is a
  schedule of the aggregate, so the aggregate's optimum is a lower bound of the per-vehicle optimum.
- :func:`typical_days` — the year cut into days that tsam clusters on every series the model sees (PV and wind
  output per kW, prices, emission factor, other load, and the fleets' available power and trip energy); each
  cluster is represented by a real day (medoid), rescaled so that every series keeps its annual mean (tsam
  ``preserve_column_means``), weighted by the number of days it stands for. Storage and fleet energy are linked
  across the calendar days (Kotzur et al. 2018, doi:10.1016/j.apenergy.2018.01.023), so energy can be carried
  from a sunny day to the cloudy days after it — without the link, sizing undervalues PV for a fleet whose
  batteries hold several days of driving. A hydrogen station is kept with its store linked the same way and the
  fuel-cell fleets' refuelling clustered as one demand series (:mod:`chisan.plan.hydrogen_stages`).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError
from chisan.plan.dispatch import minimum_energy_kwh
from chisan.plan.hydrogen_stages import hydrogen_demand_kw, typical_day_hydrogen
from chisan.plan.inputs import PlanInputs, station_aggregates

TOWN = "(town)"
"""Name of the single aggregate station when all stations' fleets are merged."""

H2_DEMAND = "hydrogen_demand"
"""Feature column of the fuel-cell fleets' hydrogen demand [kW LHV] (:mod:`chisan.plan.hydrogen_stages`)."""

DRIVABLE_BISECTIONS = 30
"""Halvings of the interval in :func:`_drivable_fleet_days` when tsam's rescaled fleet days cannot be driven."""


def aggregate_fleet(inputs: PlanInputs, *, town: bool | None = None) -> PlanInputs:
    """The same inputs with each station's fleet (or the town's) as one battery (``fleet_mode="station"``).

    Parameters
    ----------
    inputs : PlanInputs
        Per-vehicle inputs.
    town : bool, optional
        Merge all stations into one (one energy chain instead of one per station, much faster to solve when
        linked across days). None = merge when no station has its own connection limit, the only station-level
        row the aggregate needs (charger limits are already in the available power).
    """
    if inputs.fleet_mode == "station":
        return inputs
    available, trips = station_aggregates(inputs)
    need = minimum_energy_kwh(inputs, cyclic=True)
    need = need.T.groupby(inputs.vehicles["station"]).sum().T.reindex(columns=inputs.stations.index).fillna(0.0)
    stations, vehicles = inputs.stations, inputs.vehicles
    if town is None:
        town = bool(inputs.stations["connection_limit_kw"].isna().all())
    if town and inputs.per_site:
        # metered sites: merge the stations behind each meter (a site's cars charge only from its bus)
        key = inputs.stations["site"].astype(str)
        grouped = inputs.stations.groupby(key, sort=False)
        merged = pd.Index(list(grouped.groups), name=inputs.stations.index.name)
        stations = pd.DataFrame(
            {
                "chargers": grouped["chargers"].sum().reindex(merged).astype(int).to_numpy(),
                "charger_kw": grouped["charger_kw"].max().reindex(merged).to_numpy(float),
                "connection_limit_kw": np.nan,
                "site": merged.to_numpy(),
            },
            index=merged,
        )
        vehicles = inputs.vehicles.assign(station=key.reindex(inputs.vehicles["station"].to_numpy()).to_numpy())
        available = available.T.groupby(key.reindex(available.columns).to_numpy()).sum().T.reindex(columns=merged)
        trips = trips.T.groupby(key.reindex(trips.columns).to_numpy()).sum().T.reindex(columns=merged)
        need = need.T.groupby(key.reindex(need.columns).to_numpy()).sum().T.reindex(columns=merged)
    elif town:
        stations = pd.DataFrame(
            {
                "chargers": [int(inputs.stations["chargers"].sum())],
                "charger_kw": [float(inputs.stations["charger_kw"].max())],
                "connection_limit_kw": [np.nan],
            },
            index=pd.Index([TOWN], name=inputs.stations.index.name),
        )
        vehicles = inputs.vehicles.assign(station=TOWN)
        available = available.sum(axis=1).to_frame(TOWN)
        trips = trips.sum(axis=1).to_frame(TOWN)
        need = need.sum(axis=1).to_frame(TOWN)
    return dataclasses.replace(
        inputs,
        fleet_mode="station",
        stations=stations,
        vehicles=vehicles,
        station_available_kw=available,
        station_trip_energy_kwh=trips,
        station_min_energy_kwh=need,
        plugged=None,
        trip_energy_kwh=None,
        initial_energy_kwh=None,
        terminal_energy_kwh=None,
    )


def _cyclic_need_kwh(trips_kwh: np.ndarray, gain_kwh: np.ndarray) -> np.ndarray:
    """Most energy above the reserve each column needs over a cyclic sequence of steps [kWh], per column.

    The backward recursion of :func:`chisan.plan.dispatch.minimum_energy_kwh`, f[t − 1] = max(0, f[t] + trip[t] −
    gain[t]), is Lindley's recursion (Lindley 1952, doi:10.1017/S0305004100027638) over the reversed steps; its
    closed form on the prefix sums S_n is W_n = S_n − min(−W_0, min_{j≤n} S_j), run twice so the need before the
    first step is the need after the last (cyclic). Returns max_n W_n per column.
    """
    s = np.cumsum((trips_kwh - gain_kwh)[::-1], axis=0)
    running_min = np.minimum(np.minimum.accumulate(s, axis=0), 0.0)
    w = s - running_min  # W_0 = 0
    w = s - np.minimum(running_min, -w[-1][None, :])
    return w.max(axis=0)


def _drivable_fleet_days(
    reduced: pd.DataFrame, features: pd.DataFrame, agg: PlanInputs, order: np.ndarray, medoids: np.ndarray, steps: int
) -> None:
    """Bring each station's fleet days back towards their medoid's real day where tsam's rescaling made the
    reduced year undrivable (in place on ``reduced``; unchanged where it is drivable).

    tsam keeps each column's annual mean (``preserve_column_means``) by a water-fill that moves energy into every
    hour of the typical days in proportion to its headroom: trip energy appears while the cars are plugged in, and
    a day can ask more of a fleet than its batteries hold. The linked sizing model (Kotzur et al. 2018) then has no
    solution although the year has one (the calendar year of ``benchmarks/bench_depot.py`` failed so: a one-car
    station's rescaled trips in one absence added up to 22.4 kWh on a 17.1 kWh span). Per station the fleet columns
    become ``medoid + λ (rescaled − medoid)``, the largest λ ∈ [0, 1] (by bisection) for which the typical days
    in calendar order leave the station's fleet drivable at full charging power (:func:`_cyclic_need_kwh` ≤
    usable − reserve); λ = 1 is tsam's result, λ = 0 the medoid's real day. Below that (never met so far: real
    days in another order), the medoid's trips are scaled down. The trip energy of the year the pulled-back days
    lack is then added back in proportion to the clustered days' available power (trips recharged while plugged
    in), the largest share κ ∈ [0, 1] that keeps the days drivable, so the sizing still sees the year's driving.
    """
    stations = [c[len("trips:") :] for c in reduced.columns if c.startswith("trips:")]
    if not stations:
        return
    veh = agg.vehicles.groupby(agg.vehicles["station"].astype(str))
    room = (veh["usable_kwh"].sum() - veh["reserve_kwh"].sum()).reindex(stations).fillna(0.0).to_numpy(float)
    eta = veh["charge_efficiency"].mean().reindex(stations).fillna(1.0).to_numpy(float)
    trip_cols = [f"trips:{s}" for s in stations]
    avail_cols = [f"available:{s}" for s in stations]
    n_clustered = len(medoids) * steps
    day_of_step = np.arange(len(features)) // steps
    real = [features[np.isin(day_of_step, [d])] for d in medoids]  # one real day per cluster, in cluster order

    def fleet(cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
        rescaled = reduced[cols].to_numpy(float).clip(min=0)
        medoid = rescaled.copy()
        medoid[:n_clustered] = np.vstack([d[cols].to_numpy(float) for d in real]).clip(min=0)
        return rescaled, medoid

    trips_tsam, trips_real = fleet(trip_cols)
    avail_tsam, avail_real = fleet(avail_cols)
    rows = (order[:, None] * steps + np.arange(steps)[None, :]).ravel()  # the reduced rows in calendar order

    def at(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fleet trips and available power at x ∈ [0, 2]: x − 1 = λ above 1, a scale of the medoid's trips below."""
        lam = np.clip(x - 1.0, 0.0, 1.0)[None, :]
        trips = trips_real * np.clip(x, 0.0, 1.0)[None, :] + lam * (trips_tsam - trips_real)
        return trips, avail_real + lam * (avail_tsam - avail_real)

    def drivable(x: np.ndarray) -> np.ndarray:
        trips, avail = at(x)
        gain = avail * eta[None, :] * agg.dt_hours  # [kWh] = [kW] x [-] x [h]
        return _cyclic_need_kwh(trips[rows], gain[rows]) <= room + 1e-9

    high = np.full(len(stations), 2.0)
    ok = drivable(high)
    if ok.all():
        return
    low = np.where(ok, high, 0.0)
    for _ in range(DRIVABLE_BISECTIONS):
        mid = 0.5 * (low + high)
        fits = drivable(mid)
        low = np.where(fits, mid, low)
        high = np.where(fits, high, mid)
    trips, avail = at(low)
    # the year's trip energy that the pulled-back days no longer carry, as far as the days stay drivable: spread
    # over the clustered days' plugged-in power (trips the fleet recharges as it is plugged in, as tsam's fill did)
    weight = np.repeat(np.bincount(order, minlength=len(reduced) // steps), steps).astype(float)
    year = features[trip_cols].to_numpy(float).sum(axis=0)
    missing = year - (trips * weight[:, None]).sum(axis=0)  # [kWh] over the horizon
    plugged = avail * (np.arange(len(reduced)) < n_clustered)[:, None]
    per_kw = (plugged * weight[:, None]).sum(axis=0)  # [kW] x days represented
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(per_kw > 0, np.maximum(missing, 0.0) / per_kw, 0.0)[None, :] * plugged

    def fits(kappa: np.ndarray) -> np.ndarray:
        gain = avail * eta[None, :] * agg.dt_hours
        return _cyclic_need_kwh((trips + kappa[None, :] * spread)[rows], gain[rows]) <= room + 1e-9

    low_k, high_k = np.zeros(len(stations)), np.ones(len(stations))
    whole = fits(high_k)
    low_k[whole] = 1.0
    for _ in range(DRIVABLE_BISECTIONS if not whole.all() else 0):
        mid = 0.5 * (low_k + high_k)
        ok_mid = fits(mid)
        low_k = np.where(ok_mid, mid, low_k)
        high_k = np.where(ok_mid, high_k, mid)
    reduced[trip_cols] = trips + low_k[None, :] * spread
    reduced[avail_cols] = avail


@dataclass
class Reduction:
    """A year reduced to typical days.

    Attributes
    ----------
    inputs : PlanInputs
        The reduced inputs (typical days, aggregated fleets, linked across days).
    n_days : int
        Number of typical days.
    day_of_cluster : pd.Series
        Cluster of each day of the year.
    rmse : pd.Series
        Root-mean-square error of each clustered series, normalised as tsam reports it [-].
    """

    inputs: PlanInputs
    n_days: int
    day_of_cluster: pd.Series
    rmse: pd.Series


def _features(inputs: PlanInputs) -> pd.DataFrame:
    available, trips = station_aggregates(inputs)
    data = {
        "pv": inputs.pv_kw_per_kw,
        "wind": inputs.wind_kw_per_kw,
        "import_price": inputs.import_price_per_kwh,
        "export_price": inputs.export_price_per_kwh,
        "emission_factor": inputs.emission_factor_kg_per_kwh,
        "other_load": inputs.other_load_kw,
    }
    frame = pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in data.items()}, index=inputs.snapshots)
    if inputs.site_other_load_kw is not None:
        for site in inputs.site_other_load_kw.columns:
            frame[f"site_load:{site}"] = inputs.site_other_load_kw[site].to_numpy(float)
    if inputs.site_priced:  # each meter's own prices (sites.tariff)
        for site in inputs.site_import_price_per_kwh.columns:
            frame[f"site_import_price:{site}"] = inputs.site_import_price_per_kwh[site].to_numpy(float)
            frame[f"site_export_price:{site}"] = inputs.site_export_price_per_kwh[site].to_numpy(float)
    for s in available.columns:
        frame[f"available:{s}"] = available[s].to_numpy(float)
        frame[f"trips:{s}"] = trips[s].to_numpy(float)
    return frame


def _site_frame(frame: pd.DataFrame | None, reduced: pd.DataFrame, key: str, snaps) -> pd.DataFrame | None:
    """The typical days of a per-site frame (columns ``key:<site>`` of the reduced features), or None."""
    if frame is None:
        return None
    return pd.DataFrame({c: reduced[f"{key}:{c}"].to_numpy(float) for c in frame.columns}, index=snaps)


def typical_days(
    inputs: PlanInputs,
    n_days: int,
    *,
    link: bool = True,
    town: bool | None = None,
    keep_days: Sequence[int] = (),
) -> Reduction:
    """Reduce a chronological year to ``n_days`` typical days with aggregated fleets.

    Parameters
    ----------
    inputs : PlanInputs
        Chronological inputs covering whole days (one period, weight 1), per vehicle or aggregated.
    n_days : int
        Number of typical days (clusters).
    link : bool
        Link storage and fleet energy across the calendar days (Kotzur et al. 2018); otherwise each typical
        day is cyclic on its own.
    town : bool, optional
        See :func:`aggregate_fleet`.
    keep_days : sequence of int, optional
        Days of the horizon (0 = the first) kept as they are, each a typical day of its own with weight 1, and
        left out of the clustering — the extreme periods of tsam (Hoffmann et al. 2022,
        doi:10.1016/j.apenergy.2022.119029), chosen here by where the year ran short (:mod:`chisan.plan.slack`).
        The other days are clustered into ``n_days``.
    """
    import tsam  # here, not at the top: tsam imports scikit-learn (≈ 2 s of CPU), which only typical days need

    agg = aggregate_fleet(inputs, town=town)
    steps_per_day = round(24.0 / agg.dt_hours)
    n = len(agg.snapshots)
    if n % steps_per_day:
        raise ScenarioError(f"a reduced year needs whole days; {n} steps of {agg.dt_hours} h are not")
    total_days = n // steps_per_day
    kept = sorted({int(d) for d in keep_days if 0 <= int(d) < total_days})
    rest = np.setdiff1d(np.arange(total_days), kept)
    if not len(rest):  # every day kept: nothing to cluster, keep the first one clustered
        kept, rest = kept[1:], np.array([kept[0]])
    n_days = min(n_days, len(rest))
    features = _features(agg)
    if agg.hydrogen is not None:  # the fuel-cell fleets' refuelling as one demand (chisan.plan.hydrogen_stages)
        features[H2_DEMAND] = hydrogen_demand_kw(agg).to_numpy(float)
    varying = [c for c in features if features[c].std() > 1e-12]  # constant series come back unchanged
    day_of_step = np.arange(n) // steps_per_day
    clustered_in = features[varying][np.isin(day_of_step, rest)].copy()
    clustered_in.index = pd.date_range("2001-01-01", periods=len(clustered_in), freq=pd.Timedelta(hours=agg.dt_hours))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tsam warns when rescaling leaves a value beyond the original range
        result = tsam.aggregate(
            clustered_in,
            n_clusters=n_days,
            period_duration=24,
            temporal_resolution=agg.dt_hours,
            cluster=tsam.ClusterConfig(method="hierarchical", representation="medoid"),
            preserve_column_means=True,
        )
    reps = result.cluster_representatives
    counts = pd.Series(result.cluster_counts).sort_index()
    clusters = counts.index.to_numpy()
    reduced = pd.DataFrame(np.vstack([reps.loc[c].to_numpy(float) for c in clusters]), columns=reps.columns)
    for c in features.columns:
        if c not in reduced:
            reduced[c] = float(features[c].iloc[0])
    if kept:  # the kept days as they are, after the clusters
        rows = features[np.isin(day_of_step, kept)][list(reduced.columns)].to_numpy(float)
        reduced = pd.concat([reduced, pd.DataFrame(rows, columns=reduced.columns)], ignore_index=True)
    weights = np.r_[counts.to_numpy(float), np.ones(len(kept))]
    order = np.empty(total_days, dtype=int)
    order[rest] = np.searchsorted(clusters, np.asarray(result.cluster_assignments))
    order[kept] = len(clusters) + np.arange(len(kept))
    medoids = rest[np.asarray(result.clustering.cluster_centers, dtype=int)]  # the real day of each cluster
    _drivable_fleet_days(reduced, features, agg, order, medoids, steps_per_day)
    snaps = agg.snapshots[0] + pd.to_timedelta(np.arange(len(reduced)) * agg.dt_hours, unit="h")
    reduced.index = snaps
    stations = agg.stations.index
    red = dataclasses.replace(
        agg,
        snapshots=snaps,
        pv_kw_per_kw=reduced["pv"].clip(lower=0),
        wind_kw_per_kw=reduced["wind"].clip(lower=0),
        import_price_per_kwh=reduced["import_price"],
        export_price_per_kwh=reduced["export_price"],
        emission_factor_kg_per_kwh=reduced["emission_factor"].clip(lower=0),
        other_load_kw=reduced["other_load"].clip(lower=0),
        site_other_load_kw=None
        if agg.site_other_load_kw is None
        else pd.DataFrame(
            {c: reduced[f"site_load:{c}"].clip(lower=0).to_numpy() for c in agg.site_other_load_kw.columns},
            index=snaps,
        ),
        site_import_price_per_kwh=_site_frame(agg.site_import_price_per_kwh, reduced, "site_import_price", snaps),
        site_export_price_per_kwh=_site_frame(agg.site_export_price_per_kwh, reduced, "site_export_price", snaps),
        temp_air_c=None,
        weight=pd.Series(np.repeat(weights, steps_per_day), index=snaps, name="weight"),
        period=pd.Series(np.repeat(np.arange(len(weights)), steps_per_day), index=snaps, name="period"),
        period_order=order if link else None,
        station_available_kw=pd.DataFrame(
            {s: reduced[f"available:{s}"].clip(lower=0).to_numpy() for s in stations}, index=snaps
        ),
        station_trip_energy_kwh=pd.DataFrame(
            {s: reduced[f"trips:{s}"].clip(lower=0).to_numpy() for s in stations}, index=snaps
        ),
        initial_storage_kwh=None,
        station_min_energy_kwh=None,
        hydrogen=None
        if agg.hydrogen is None
        else typical_day_hydrogen(agg.hydrogen, reduced[H2_DEMAND].to_numpy(float), snaps),
    )
    day_of_cluster = pd.Series(order, index=pd.RangeIndex(total_days, name="day"), name="cluster")
    return Reduction(inputs=red, n_days=len(weights), day_of_cluster=day_of_cluster, rmse=result.accuracy.rmse)
