"""Load a scenario's town into the service: municipality, stations, chargers and cars (once, on first start)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from chisan.exceptions import ScenarioError
from chisan.scenario.load import load_scenario
from chisan.scenario.schema import Scenario
from chisan.service import charger_keys, crud, models, schemas


def check_station_coordinates(scenario: Scenario, *, source: str | Path) -> None:
    """Every station has its latitude and longitude: they go into the public GBFS feed, so none is ever guessed.

    Raises
    ------
    ScenarioError
        Naming the file, each station without a position and the fields it lacks.
    """
    missing = []
    for k, st in enumerate(scenario.stations):
        fields = [f for f in ("latitude_deg", "longitude_deg") if getattr(st, f) is None]
        if fields:
            missing.append(f"stations[{k}] ({st.name!r}): {' and '.join(fields)} missing")
    if missing:
        raise ScenarioError(
            f"{source}: " + "; ".join(missing) + " — the service publishes each station's position (GBFS "
            "station_information): give latitude_deg (-90 to 90) and longitude_deg (-180 to 180) of every station"
        )


def slug_of(scenario: Scenario) -> str:
    """URL name of the scenario's town: its local-government code, else its name in lower case."""
    raw = scenario.municipality.code or scenario.municipality.name
    slug = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")
    return (slug or "town")[:63]


def municipality_from_scenario(
    session: Session, *, path: str | Path, now: dt.datetime, scenario: Scenario | None = None
) -> tuple[models.Municipality, str | None]:
    """The scenario's town in the database, created with its stations, chargers and cars if it is new.

    Returns the municipality and, when it was created, the secret of its first API key (None otherwise).
    Installed PV and storage are the scenario's fixed (or minimum) capacities; each station gets its chargers
    (``chargers``, else one per car) with random OCPP identities (``CP-`` and 12 hex digits: never derived from
    the names the open data publish; each charger connects once its town has set its authorization key), and its cars
    (``vehicles``; none when the scenario leaves the fleet to the planner). Every station needs its coordinates
    (:func:`check_station_coordinates`), also when the town exists already. A scenario's ``[second_life]`` is an
    offer the plan may take or leave, not packs in place: the town starts with no second-life storage (it takes the
    plan's with :mod:`chisan.service.from_plan`, or ``PATCH /api/v1/municipality``). ``scenario`` is the scenario of
    ``path`` already loaded (and completed, e.g. with a plan's capacities by :mod:`chisan.service.from_plan`);
    default: read from ``path``.
    """
    path = Path(path).resolve()
    scenario = scenario if scenario is not None else load_scenario(path)
    check_station_coordinates(scenario, source=path)
    slug = slug_of(scenario)
    existing = session.scalars(sa.select(models.Municipality).where(models.Municipality.slug == slug)).first()
    if existing is not None:
        if existing.scenario_path != str(path):
            existing.scenario_path = str(path)
            session.commit()
        return existing, None
    muni, tech, grid = scenario.municipality, scenario.technologies, scenario.grid
    data = schemas.MunicipalityCreate(
        slug=slug,
        name=muni.name,
        timezone=muni.timezone,
        latitude_deg=muni.latitude_deg,
        longitude_deg=muni.longitude_deg,
        pv_kw=(tech.pv.fixed_kw if tech.pv.fixed_kw is not None else tech.pv.min_kw) if tech.pv.enabled else 0.0,
        storage_kwh=(tech.storage.fixed_kwh or 0.0) if tech.storage.enabled else 0.0,
        storage_kw=(tech.storage.fixed_kw or 0.0) if tech.storage.enabled else 0.0,
        grid_connection_limit_kw=grid.connection_limit_kw,
        import_price_per_kwh=grid.import_price_per_kwh,
        export_price_per_kwh=grid.export_price_per_kwh,
        emission_factor_kg_per_kwh=grid.emission_factor_kg_per_kwh,
        carbon_price_per_kg=scenario.policy.carbon_price_per_t / 1000.0,
        currency=scenario.finance.currency,
    )
    municipality, _key, secret = crud.create_municipality(session, data=data, scenario_path=str(path))
    fleet = scenario.fleet
    for k, st in enumerate(scenario.stations):
        station = crud.create_station(
            session,
            municipality_id=municipality.id,
            data=schemas.StationCreate(
                name=st.name,
                latitude_deg=st.latitude_deg,
                longitude_deg=st.longitude_deg,
                charger_kw=st.charger_kw,
                connection_limit_kw=st.connection_limit_kw,
                parking_spaces=st.vehicles,
            ),
        )
        station_slug = re.sub(r"[^A-Za-z0-9]+", "-", st.name).strip("-") or f"s{k + 1}"
        n_chargers = st.chargers if st.chargers is not None else (st.vehicles or 0)
        for _ in range(n_chargers):
            crud.create_charger(
                session,
                municipality_id=municipality.id,
                data=schemas.ChargerCreate(
                    station_id=station.id, ocpp_id=charger_keys.new_identity(), max_power_kw=st.charger_kw
                ),
            )
        for v in range(st.vehicles or 0):
            custom = fleet.vehicle_model == "custom"
            crud.create_vehicle(
                session,
                municipality_id=municipality.id,
                now=now,
                data=schemas.VehicleCreate(
                    station_id=station.id,
                    name=f"{station_slug}-{v + 1:02d}",
                    model=fleet.vehicle_model,
                    usable_kwh=fleet.usable_kwh or (fleet.battery_kwh if custom else None),
                    max_charge_kw=fleet.max_ac_charge_kw or (6.0 if custom else None),
                    consumption_kwh_per_km=(
                        fleet.consumption_ac_kwh_per_km * fleet.charge_efficiency_fraction
                        if fleet.consumption_ac_kwh_per_km
                        else None
                    ),
                    charge_efficiency=fleet.charge_efficiency_fraction,
                    reserve_fraction=fleet.reserve_fraction,
                    id_tag=f"{station_slug[:12]}-{v + 1:02d}"[:20],
                ),
            )
    return municipality, secret
