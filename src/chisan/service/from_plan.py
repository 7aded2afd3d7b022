"""Start the service from a plan: the town that ``chisan plan`` sized, read from its output folder.

``chisan plan --out chisan-out/`` writes (chisan.report.render.write_outputs) the scenario it solved
(``scenario.toml``), the optimal capacities (``capacities.csv``: ``pv_kw``, ``wind_kw``, ``storage_kwh``,
``storage_kw``) and each station's fleet and chargers (``stations.csv``: ``station``, ``vehicles``, ``chargers``,
``charger_kw``, …). :func:`load_plan` reads them into one scenario whose PV and storage are fixed at the planned
capacities and whose stations have the planned cars and chargers; :func:`municipality_from_plan` loads that
town into the database (:func:`chisan.service.seed.municipality_from_scenario`). The tariffs are the scenario's
(import price with its time-of-use bands, export price, emission factor): the municipality keeps the plan's
``scenario.toml`` as its scenario, so the schedules price every step with the plan's tariff and forecast PV
from its weather.

Second-life storage (retired car packs, :mod:`chisan.plan.second_life`) is the plan's choice, not a capacity of
``capacities.csv``: when the scenario offers it (``[second_life]``), the kWh the plan placed at each site are read
from ``run.json`` (``details.second_life.used_kwh_by_site``, written by ``chisan plan``), summed, with the power
the plan allows them (c-rate × energy, ``SecondLife-charge_limit``) and the offer's round-trip efficiency.

Every station must have its coordinates in ``scenario.toml``: they are published in the GBFS feed and are never
guessed. Wind is not run by the service (its schedules know PV and storage only); a plan with wind says so in
:attr:`Plan.notes`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from chisan.exceptions import ScenarioError
from chisan.scenario.load import load_scenario
from chisan.scenario.schema import Scenario
from chisan.service import models
from chisan.service.seed import check_station_coordinates, municipality_from_scenario

PLAN_FILES = ("scenario.toml", "capacities.csv", "stations.csv")
"""Files of a plan output folder that the service reads."""

CAPACITIES = ("pv_kw", "wind_kw", "storage_kwh", "storage_kw")
"""Rows of ``capacities.csv`` [kW, kW, kWh, kW]."""


@dataclass(frozen=True)
class Plan:
    """A plan output folder, read and checked.

    Attributes
    ----------
    folder : Path
    scenario_path : Path
        The plan's ``scenario.toml``.
    scenario : Scenario
        That scenario with PV and storage fixed at the planned capacities and the planned cars and chargers.
    capacities : dict of str to float
        ``pv_kw`` [kW], ``wind_kw`` [kW], ``storage_kwh`` [kWh], ``storage_kw`` [kW], and the second-life storage
        the plan placed: ``second_life_kwh`` [kWh], ``second_life_kw`` [kW],
        ``second_life_round_trip_efficiency_fraction``; ``contract_kw`` [kW], the plan's contract of the town's
        one meter on a peak-demand tariff (0 otherwise).
    notes : list of str
        What of the plan the service does not run (wind).
    """

    folder: Path
    scenario_path: Path
    scenario: Scenario
    capacities: dict[str, float]
    notes: list[str] = field(default_factory=list)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise ScenarioError(f"{path}: not a readable CSV table ({type(err).__name__}: {err})") from err


def _capacities(path: Path) -> dict[str, float]:
    table = _read_csv(path)
    if not {"capacity", "value"} <= set(table.columns):
        raise ScenarioError(f"{path}: columns 'capacity' and 'value' expected, found {list(table.columns)}")
    values = dict(zip(table["capacity"].astype(str), table["value"], strict=True))
    out = {}
    for name in CAPACITIES:
        if name not in values:
            raise ScenarioError(f"{path}: row {name!r} missing (rows: {', '.join(CAPACITIES)})")
        try:
            value = float(values[name])
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise ScenarioError(f"{path}: {name} = {values[name]!r}; a finite capacity ≥ 0 is expected")
        out[name] = value
    return out


SECOND_LIFE_NONE = {"second_life_kwh": 0.0, "second_life_kw": 0.0, "second_life_round_trip_efficiency_fraction": 0.85}
"""A plan without second-life storage (the efficiency is the scenario schema's default)."""


def _second_life(folder: Path, scenario: Scenario) -> dict[str, float]:
    """The second-life storage the plan placed (module docstring); none when the scenario offers none."""
    offer = scenario.second_life
    if offer is None or offer.offered_kwh <= 0:
        return dict(SECOND_LIFE_NONE)
    path = folder / "run.json"
    try:
        details = json.loads(path.read_text(encoding="utf-8")).get("details") or {}
    except OSError as err:
        raise ScenarioError(
            f"{path}: not readable ({err.strerror}); the plan's scenario offers second-life storage, and "
            "run.json (written by `chisan plan`) says where the plan put it"
        ) from err
    except (ValueError, AttributeError) as err:
        raise ScenarioError(f"{path}: not a JSON object as `chisan plan` writes it ({err})") from err
    reused = details.get("second_life") if isinstance(details, dict) else None
    by_site = (reused or {}).get("used_kwh_by_site", {}) if isinstance(reused, dict) else None
    if not isinstance(by_site, dict):
        raise ScenarioError(f"{path}: details.second_life.used_kwh_by_site = {by_site!r}; a table site → kWh expected")
    total = 0.0
    for site, value in by_site.items():
        kwh = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
        if not math.isfinite(kwh) or kwh < 0:
            raise ScenarioError(
                f"{path}: details.second_life.used_kwh_by_site.{site} = {value!r}; a finite energy ≥ 0 kWh is expected"
            )
        total += kwh
    return {
        "second_life_kwh": total,
        "second_life_kw": total * offer.max_c_rate_per_h,  # SecondLife-charge/discharge_limit: ≤ c · E
        "second_life_round_trip_efficiency_fraction": float(offer.round_trip_efficiency_fraction),
    }


def _stations(path: Path, scenario: Scenario) -> dict[str, tuple[int, int]]:
    """Planned (vehicles, chargers) of each station, by name; the names must be the scenario's."""
    table = _read_csv(path)
    needed = {"station", "vehicles", "chargers"}
    if not needed <= set(table.columns):
        raise ScenarioError(f"{path}: columns {sorted(needed)} expected, found {list(table.columns)}")
    planned = {}
    for row in table.itertuples(index=False):
        name = str(row.station)
        for col in ("vehicles", "chargers"):
            value = getattr(row, col)
            if pd.isna(value) or float(value) < 0 or float(value) != int(value):
                raise ScenarioError(f"{path}: station {name!r}: {col} = {value!r}; a whole number ≥ 0 is expected")
        planned[name] = (int(row.vehicles), int(row.chargers))
    names = [st.name for st in scenario.stations]
    unknown = sorted(set(planned) - set(names))
    missing = [n for n in names if n not in planned]
    if unknown or missing:
        raise ScenarioError(
            f"{path}: the stations do not match the plan's scenario.toml"
            + (f"; not in scenario.toml: {unknown}" if unknown else "")
            + (f"; not in stations.csv: {missing}" if missing else "")
        )
    return planned


def _contract_kw(folder: Path, scenario: Scenario) -> float:
    """The plan's contract kW of the town's one meter on a peak-demand tariff (``kpis.csv``, row ``contract_kw``)
    [kW], the contract the town starts its schedules on (a new high-voltage supply's first contract is agreed on
    the expected demand); 0 without one, or with meters per site (each station starts at 0)."""
    path = folder / "kpis.csv"
    if scenario.grid.topology != "single_meter" or scenario.grid.tariff is None or not path.is_file():
        return 0.0
    try:
        kpis = pd.read_csv(path, index_col=0)
        value = float(kpis.loc["contract_kw", "value"]) if "contract_kw" in kpis.index else 0.0
    except (pd.errors.ParserError, UnicodeDecodeError, KeyError, ValueError) as err:
        raise ScenarioError(f"{path}: not the table `chisan plan` writes ({type(err).__name__}: {err})") from err
    if not (math.isfinite(value) and value >= 0):
        raise ScenarioError(f"{path}: contract_kw = {value!r}; a finite contract ≥ 0 kW is expected")
    return value


def load_plan(folder: str | Path) -> Plan:
    """Read a ``chisan plan`` output folder into the scenario the service runs.

    Raises
    ------
    ScenarioError
        The folder or one of :data:`PLAN_FILES` is missing or invalid, its stations do not match, or a station
        has no coordinates (the message names the station and the field).
    """
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise ScenarioError(f"{folder}: plan folder not found (the --out folder of `chisan plan`)")
    absent = [name for name in PLAN_FILES if not (folder / name).is_file()]
    if absent:
        raise ScenarioError(
            f"{folder}: {', '.join(absent)} missing; a plan folder written by `chisan plan` holds "
            + ", ".join(PLAN_FILES)
        )
    scenario_path = folder / "scenario.toml"
    scenario = load_scenario(scenario_path)
    check_station_coordinates(scenario, source=scenario_path)
    capacities = _capacities(folder / "capacities.csv") | _second_life(folder, scenario)
    capacities["contract_kw"] = _contract_kw(folder, scenario)
    planned = _stations(folder / "stations.csv", scenario)
    tech = scenario.technologies
    pv = tech.pv.model_copy(update={"enabled": capacities["pv_kw"] > 0, "fixed_kw": capacities["pv_kw"]})
    storage = tech.storage.model_copy(
        update={
            "enabled": capacities["storage_kwh"] > 0,
            "fixed_kwh": capacities["storage_kwh"],
            "fixed_kw": capacities["storage_kw"],
        }
    )
    stations = [
        st.model_copy(update={"vehicles": planned[st.name][0], "chargers": planned[st.name][1]})
        for st in scenario.stations
    ]
    resolved = scenario.model_copy(
        update={"technologies": tech.model_copy(update={"pv": pv, "storage": storage}), "stations": stations}
    )
    notes = []
    if capacities["wind_kw"] > 0:
        notes.append(
            f"the plan's {capacities['wind_kw']:.1f} kW of wind is not in the service's schedules (PV and storage only)"
        )
    return Plan(folder=folder, scenario_path=scenario_path, scenario=resolved, capacities=capacities, notes=notes)


def municipality_from_plan(
    session: Session, *, folder: str | Path, now: dt.datetime
) -> tuple[models.Municipality, str | None]:
    """The plan's town in the database: created with its stations, chargers and cars when new.

    An existing town (same slug) keeps its stations and fleet, and takes the plan's PV and storage capacities,
    its prices and its scenario (time-of-use tariff, weather). Returns the municipality and the secret of its
    first API key when it was created (None otherwise).
    """
    plan = load_plan(folder)
    municipality, secret = municipality_from_scenario(session, path=plan.scenario_path, now=now, scenario=plan.scenario)
    municipality.pv_kw = plan.capacities["pv_kw"]
    municipality.storage_kwh = plan.capacities["storage_kwh"]
    municipality.storage_kw = plan.capacities["storage_kw"]
    for name in SECOND_LIFE_NONE:
        setattr(municipality, name, plan.capacities[name])
    municipality.contract_kw = max(float(municipality.contract_kw or 0.0), plan.capacities["contract_kw"])
    grid = plan.scenario.grid
    municipality.import_price_per_kwh = grid.import_price_per_kwh
    municipality.export_price_per_kwh = grid.export_price_per_kwh
    municipality.emission_factor_kg_per_kwh = grid.emission_factor_kg_per_kwh
    session.commit()
    return municipality, secret
