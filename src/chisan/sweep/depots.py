"""The depots of a sweep's town kept apart from its car-sharing fleet, so that each CO2 line compares like with like.

A template may have [[depots]] (delivery vehicles on shifts, :mod:`chisan.depots`): chisan plan makes each one a
station, and its results set the depots' charging against diesel and the shared cars' charging against private
cars (:func:`chisan.plan.results.key_figures`, module docstring of :mod:`chisan.plan.results`). The reduced plan
pools the town's fleet into one battery, which would mix the two; :func:`pool_fleet` pools the car-sharing
stations and the depots separately instead, so that the year's solution says, hour by hour, what the depots drew.
The depots are never represented by a sample (:func:`chisan.sweep.reduced.representative_scenario` samples
stations only): their vehicles, chargers and shifts are not scaled.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from chisan.catalogue.vehicle_classes import vehicle_class
from chisan.plan.inputs import PlanInputs
from chisan.plan.reduce import TOWN, aggregate_fleet
from chisan.scenario.schema import Scenario

DEPOTS = "(depots)"
"""Name of the pooled depots' aggregate station."""


def depot_names(scenario: Scenario) -> list[str]:
    """Names of the scenario's depots (stations of the prepared inputs)."""
    return [d.name for d in scenario.depots]


def pool_fleet(inputs: PlanInputs, depots: list[str]) -> PlanInputs:
    """Aggregated inputs (:func:`chisan.plan.reduce.aggregate_fleet`) with the depots pooled apart from the cars.

    Without depots, or where aggregate_fleet keeps stations (or metered sites) apart anyway, it is
    aggregate_fleet's own result. Otherwise the car-sharing stations become one pool (:data:`chisan.plan.reduce.
    TOWN`) and the depots another (:data:`DEPOTS`): chargers summed, charger power the highest, available power,
    trip energy and least energy summed per step [kW, kWh].
    """
    merge = not depots or inputs.per_site or not bool(inputs.stations["connection_limit_kw"].isna().all())
    if merge:
        return aggregate_fleet(inputs)
    agg = aggregate_fleet(inputs, town=False)
    key = pd.Series(np.where(agg.stations.index.isin(depots), DEPOTS, TOWN), index=agg.stations.index)
    pools = pd.Index([TOWN, DEPOTS], name=agg.stations.index.name)
    grouped = agg.stations.groupby(key)
    stations = pd.DataFrame(
        {
            "chargers": grouped["chargers"].sum().reindex(pools).fillna(0).astype(int).to_numpy(),
            "charger_kw": grouped["charger_kw"].max().reindex(pools).fillna(0.0).to_numpy(float),
            "connection_limit_kw": np.nan,
        },
        index=pools,
    )

    def summed(frame: pd.DataFrame) -> pd.DataFrame:  # steps × stations → steps × pools
        return frame.T.groupby(key.reindex(frame.columns).to_numpy()).sum().T.reindex(columns=pools, fill_value=0.0)

    return dataclasses.replace(
        agg,
        stations=stations,
        vehicles=agg.vehicles.assign(station=key.reindex(agg.vehicles["station"].to_numpy()).to_numpy()),
        station_available_kw=summed(agg.station_available_kw),
        station_trip_energy_kwh=summed(agg.station_trip_energy_kwh),
        station_min_energy_kwh=summed(agg.station_min_energy_kwh),
    )


def is_depot(stations: pd.Index, depots: list[str]) -> np.ndarray:
    """Which aggregate stations are depots (a depot's own name, or :data:`DEPOTS`) [bool]."""
    return np.asarray(stations.isin([*depots, DEPOTS]), dtype=bool)


def depot_diesel_l_per_year(scenario: Scenario, bookings: pd.DataFrame, per_year: float) -> float:
    """Diesel the depots' served km would take with diesel vehicles of their class [l/year].

    [l] = [km] × [l/100 km] / 100, as :func:`chisan.plan.results.build_results` (chisan.economics.diesel).
    ``per_year`` scales the bookings' horizon to a year (the depots are not sampled).
    """
    served = bookings[bookings["vehicle_id"].notna()]
    km = served.groupby("station")["distance_km"].sum() * per_year
    return float(
        sum(
            float(km.get(d.name, 0.0)) * vehicle_class(d.vehicle_class).diesel_l_per_100km / 100.0
            for d in scenario.depots
        )
    )
