"""The plan's PV, storage and cars as outage sources for the shelters of ``[resilience]``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.exceptions import DataError, ScenarioError
from chisan.plan.inputs import PlanInputs
from chisan.plan.prepare import second_life_offer
from chisan.plan.results import PlanResults
from chisan.resilience.outage import OutageResult, OutageSources, outage_result
from chisan.scenario.schema import Resilience, Scenario, Shelter


def critical_load_kw(scenario: Scenario, shelter: Shelter, snapshots: pd.DatetimeIndex) -> np.ndarray:
    """The shelter's critical load in each step [kW]: its constant, or its CSV profile (24 hours or every step).

    Raises
    ------
    DataError
        The CSV is missing, has no ``critical_load_kw`` column, the wrong number of rows or negative values.
    """
    if shelter.critical_load_kw is not None:
        return np.full(len(snapshots), float(shelter.critical_load_kw))
    path = scenario.resolve(shelter.critical_load_csv)
    where = f"resilience shelter {shelter.name!r}: critical_load_csv = {shelter.critical_load_csv}"
    if path is None or not path.is_file():
        raise DataError(f"{where}: file not found")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{where}: not a readable CSV ({err})") from None
    if "critical_load_kw" not in frame:
        raise DataError(f"{where}: needs a column 'critical_load_kw' [kW]; it has {', '.join(map(str, frame))}")
    values = pd.to_numeric(frame["critical_load_kw"], errors="coerce").to_numpy(float)
    if not np.isfinite(values).all() or (values < 0).any():
        bad = int(np.flatnonzero(~np.isfinite(values) | (values < 0))[0])
        raise DataError(f"{where}: row {bad + 2} is '{frame['critical_load_kw'].iloc[bad]}'; loads are numbers ≥ 0 kW")
    if len(values) == 24:
        return values[snapshots.hour]
    if len(values) == len(snapshots):
        return values
    raise DataError(
        f"{where}: has {len(values)} rows; give 24 (one per hour of the day) or {len(snapshots)} (one per step)"
    )


def _called_stations(res: Resilience, stations: list[str]) -> set[str]:
    if res.called_stations == "all":
        return set(stations)
    if res.called_stations == "none":
        return set()
    return set(res.called_stations)


def outage_sources(scenario: Scenario, inputs: PlanInputs, results: PlanResults) -> OutageSources:
    """What supplies the shelters for an outage starting in each step of the solved plan.

    PV is what the built PV could produce (the plan's ``pv_available_kw``, curtailment included) times
    ``pv_share_fraction``; the new storage and the second-life packs (each with its own energy, power and
    efficiencies) start with the plan's energy at the end of the step before. A car counts when it
    is plugged in at a shelter's base at the start (at once) or belongs to a base that may be called (after the
    delay), with its energy at the end of the step before, less its reserve (``reserve_soc_fraction`` × usable).
    """
    res = scenario.resilience
    if res is None:
        raise ScenarioError("the scenario has no [resilience] table: add shelters to simulate an outage")
    d = results.dispatch
    if "weight" in d and not np.allclose(d["weight"].to_numpy(float), 1.0):
        raise ScenarioError("the outage simulation needs the plan's chronological year, not weighted typical days")
    load = sum(critical_load_kw(scenario, sh, inputs.snapshots) for sh in res.shelters)
    st = scenario.technologies.storage
    caps = results.capacities
    energy = results.vehicle_energy_kwh
    veh = inputs.vehicles.loc[energy.columns]
    # energy at the start of step s = energy after step s-1 (the year wraps, as in REopt)
    start_kwh = np.roll(energy.to_numpy(float), 1, axis=0)
    above_kwh = np.clip(start_kwh - res.reserve_soc_fraction * veh["usable_kwh"].to_numpy(float)[None, :], 0.0, None)
    shelter_bases = {sh.station for sh in res.shelters if sh.station is not None}
    at_shelter = veh["station"].isin(shelter_bases).to_numpy()[None, :]
    plugged = (
        inputs.plugged[energy.columns].to_numpy(bool)
        if inputs.plugged is not None
        else np.ones(energy.shape, dtype=bool)
    )
    parked = plugged & at_shelter
    callable_ = veh["station"].isin(_called_stations(res, list(inputs.stations.index))).to_numpy()[None, :] & ~parked
    storage_start = np.roll(d["storage_energy_kwh"].to_numpy(float), 1) if "storage_energy_kwh" in d else 0.0
    share = res.storage_share_fraction
    storage_kwh, storage_kw = float(caps.get("storage_kwh", 0.0)), float(caps.get("storage_kw", 0.0))
    reused = results.method.get("second_life")
    packs_start, packs_kwh, packs_kw, packs_eta = 0.0, 0.0, 0.0, 1.0
    offer = second_life_offer(scenario)
    if reused is not None and offer is not None and "second_life_energy_kwh" in d:
        # the packs are a store of their own: their energy, power (c-rate × energy) and √ round-trip efficiency
        packs_start = np.roll(d["second_life_energy_kwh"].to_numpy(float), 1) * share
        packs_kwh = float(reused["used_kwh"]) * share
        packs_kw = float(reused["used_kwh"]) * offer.max_c_rate_per_h * share
        packs_eta = offer.efficiency
    return OutageSources(
        critical_load_kw=np.asarray(load, float),
        pv_kw=d["pv_available_kw"].to_numpy(float) * res.pv_share_fraction,
        storage_start_kwh=np.broadcast_to(np.asarray(storage_start, float) * share, len(d)).copy(),
        storage_kwh=storage_kwh * share,
        storage_kw=storage_kw * share,
        storage_charge_efficiency_fraction=st.charge_efficiency_fraction,
        storage_discharge_efficiency_fraction=st.discharge_efficiency_fraction,
        parked_kwh=(above_kwh * parked).sum(axis=1),
        parked_cars=parked.sum(axis=1).astype(float),
        called_kwh=(above_kwh * callable_).sum(axis=1),
        called_cars=callable_.sum(axis=1).astype(float),
        v2h_kw_per_car=res.v2h_kw_per_car,
        v2h_efficiency_fraction=res.v2h_efficiency_fraction,
        dt_hours=float(inputs.dt_hours),
        second_life_start_kwh=packs_start,
        second_life_kwh=packs_kwh,
        second_life_kw=packs_kw,
        second_life_efficiency_fraction=packs_eta,
    )


def simulate_plan(scenario: Scenario, inputs: PlanInputs, results: PlanResults) -> OutageResult:
    """REopt's outage simulation for the shelters of ``scenario.resilience`` on the solved plan."""
    res = scenario.resilience
    sources = outage_sources(scenario, inputs, results)
    return outage_result(sources, results.dispatch.index, res.outage_h, res.call_delay_h)
