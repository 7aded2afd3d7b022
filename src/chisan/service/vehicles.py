"""The town's cars: their records, their batteries at their stations, and the energy they hold now.

Keyword-only functions over a SQLAlchemy session, as in :mod:`chisan.service.crud` (which re-exports them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from chisan.catalogue.vehicles import vehicle_model
from chisan.exceptions import ScenarioError
from chisan.mobility.energy import booking_temperature_c, trip_energy_kwh
from chisan.service import admission, models, schemas
from chisan.service.booking_limits import DEFAULT_LIMITS, BookingLimits
from chisan.service.errors import ConflictError, FieldError
from chisan.service.forecast import NEUTRAL_TEMPERATURE_C, scenario_weather, weather_on
from chisan.service.rows import commit as _commit
from chisan.service.rows import one as _one
from chisan.service.rows import ref as _ref

# --- vehicles


def list_vehicles(session: Session, *, municipality_id: int, station_id: int | None = None) -> Sequence[models.Vehicle]:
    stmt = sa.select(models.Vehicle).where(models.Vehicle.municipality_id == municipality_id)
    if station_id is not None:
        stmt = stmt.where(models.Vehicle.station_id == station_id)
    return session.scalars(stmt.order_by(models.Vehicle.id)).all()


def get_vehicle(session: Session, *, municipality_id: int, vehicle_id: int) -> models.Vehicle:
    return _one(session, models.Vehicle, municipality_id, vehicle_id, field="vehicle_id", what="vehicle")


def create_vehicle(
    session: Session, *, municipality_id: int, data: schemas.VehicleCreate, now: dt.datetime
) -> models.Vehicle:
    """A car; battery, charging limit and consumption default to the catalogue entry of ``data.model``."""
    _ref(session, models.Station, municipality_id, data.station_id, field="station_id", what="station")
    if data.model == "custom":
        missing = [f for f in ("usable_kwh", "max_charge_kw", "consumption_kwh_per_km") if getattr(data, f) is None]
        if missing:
            raise FieldError(f"{missing[0]}: model 'custom' needs {', '.join(missing)}", field=missing[0])
        usable, max_kw, consumption = data.usable_kwh, data.max_charge_kw, data.consumption_kwh_per_km
    else:
        try:
            spec = vehicle_model(data.model)
        except ScenarioError as err:
            raise FieldError(f"model: {err}", field="model") from None
        usable = data.usable_kwh or spec.usable_kwh
        max_kw = data.max_charge_kw or spec.max_ac_charge_kw
        consumption = data.consumption_kwh_per_km or spec.consumption_battery_kwh_per_km(data.charge_efficiency)
    vehicle = models.Vehicle(
        municipality_id=municipality_id,
        station_id=data.station_id,
        name=data.name,
        model=data.model,
        usable_kwh=usable,
        reserve_kwh=data.reserve_fraction * usable,
        max_charge_kw=max_kw,
        charge_efficiency=data.charge_efficiency,
        consumption_kwh_per_km=consumption,
        id_tag=data.id_tag,
        soc_fraction=data.soc_fraction,
        soc_measured_at=now,
        is_disabled=data.is_disabled,
    )
    session.add(vehicle)
    _commit(session, unique_field="name", message="name or id_tag: already used by another vehicle of this town")
    return vehicle


def update_vehicle(
    session: Session, *, municipality_id: int, vehicle_id: int, data: schemas.VehicleUpdate
) -> models.Vehicle:
    vehicle = get_vehicle(session, municipality_id=municipality_id, vehicle_id=vehicle_id)
    values = data.model_dump(exclude_unset=True)
    if values.get("station_id") is not None:
        _ref(session, models.Station, municipality_id, values["station_id"], field="station_id", what="station")
    if "reserve_fraction" in values:
        vehicle.reserve_kwh = values.pop("reserve_fraction") * vehicle.usable_kwh
    for key, value in values.items():
        setattr(vehicle, key, value)
    _commit(session, unique_field="name", message="name or id_tag: already used by another vehicle of this town")
    return vehicle


def delete_vehicle(session: Session, *, municipality_id: int, vehicle_id: int) -> None:
    vehicle = get_vehicle(session, municipality_id=municipality_id, vehicle_id=vehicle_id)
    n = session.scalar(
        sa.select(sa.func.count()).select_from(models.Booking).where(models.Booking.vehicle_id == vehicle_id)
    )
    if n:
        raise ConflictError(
            f"vehicle_id: vehicle {vehicle_id} has {n} bookings on record; disable it instead", field="vehicle_id"
        )
    session.delete(vehicle)
    session.commit()


def record_soc(
    session: Session,
    *,
    municipality_id: int,
    vehicle_id: int,
    soc_fraction: float,
    measured_at: dt.datetime,
    now: dt.datetime | None = None,
    limits: BookingLimits = DEFAULT_LIMITS,
) -> models.Vehicle:
    """Store a state-of-charge reading (telemetry) unless a newer one is already stored.

    A reading from the future (beyond ``limits.clock_skew`` after ``now``) is refused: it would hide every later
    true reading.
    """
    vehicle = get_vehicle(session, municipality_id=municipality_id, vehicle_id=vehicle_id)
    if now is not None:
        limits.check_reported(measured_at, now, field="measured_at")
    if measured_at >= vehicle.soc_measured_at:
        vehicle.soc_fraction = soc_fraction
        vehicle.soc_measured_at = measured_at
    session.commit()
    return vehicle


# --- energy of a trip and of a car


def trip_energy_for(
    municipality: models.Municipality,
    vehicle: models.Vehicle,
    *,
    start: dt.datetime,
    end: dt.datetime,
    distance_km: float,
) -> float:
    """Energy a trip takes from the battery [kWh]: distance × consumption × temperature factor.

    The temperature is the mean air temperature of the scenario's weather over the trip (same month, day and
    hour, see :mod:`chisan.service.forecast`), or :data:`NEUTRAL_TEMPERATURE_C` when the town has no scenario.
    """
    temp = NEUTRAL_TEMPERATURE_C
    if municipality.scenario_path:
        hours = pd.date_range(pd.Timestamp(start).floor("h"), pd.Timestamp(end).ceil("h"), freq="h")
        weather = weather_on(scenario_weather(municipality.scenario_path), hours)
        booking = pd.DataFrame({"start": [pd.Timestamp(start)], "end": [pd.Timestamp(end)]})
        temp = float(booking_temperature_c(booking, weather["temp_air"]).iloc[0])
    return float(trip_energy_kwh(distance_km, vehicle.consumption_kwh_per_km, temp))


def station_power_columns(station_id):
    """Charger power, connection limit, and counts of chargers and of cars in service at the station.

    The counts are subqueries on aliases, so that ``station_id`` may be a column of the enclosing query (it is
    compared with the alias's own column, not with itself).
    """
    charger, car = sa.orm.aliased(models.Charger), sa.orm.aliased(models.Vehicle)
    chargers = (
        sa.select(sa.func.count()).select_from(charger).where(charger.station_id == station_id)
    ).scalar_subquery()
    vehicles = (
        sa.select(sa.func.count()).select_from(car).where(car.station_id == station_id, car.is_disabled.is_(False))
    ).scalar_subquery()
    return models.Station.charger_kw, models.Station.connection_limit_kw, chargers, vehicles


def battery_at_station(vehicle: models.Vehicle, charger_kw, connection_kw, n_chargers, n_vehicles) -> admission.Battery:
    """The car's battery with its guaranteed charging power, from the columns of :func:`station_power_columns`."""
    power = admission.guaranteed_charge_kw(
        max_charge_kw=vehicle.max_charge_kw,
        charger_kw=charger_kw,
        chargers=int(n_chargers or 0),
        vehicles=int(n_vehicles or 0),
        connection_limit_kw=connection_kw,
    )
    return admission.Battery(
        usable_kwh=vehicle.usable_kwh,
        reserve_kwh=vehicle.reserve_kwh,
        charge_efficiency=vehicle.charge_efficiency,
        charge_kw=power,
    )


def battery_of(session: Session, *, vehicle: models.Vehicle) -> admission.Battery:
    """The car's battery and its guaranteed charging power at its station (one query)."""
    row = session.execute(
        sa.select(*station_power_columns(vehicle.station_id)).where(models.Station.id == vehicle.station_id)
    ).one()
    return battery_at_station(vehicle, *row)


def effective_end(b) -> dt.datetime:
    """When a booking's car is back: its end, or its expected late return."""
    return max(b.end_at, b.expected_return_at or b.end_at)


def trips_frame(bookings: Sequence[models.Booking]) -> pd.DataFrame:
    """Trips of bookings (``booking_id``, ``start``, ``end``, ``trip_energy_kwh``); a late return extends the end."""
    return rows_frame([(b.id, b.start_at, effective_end(b), b.trip_energy_kwh) for b in bookings])


def rows_frame(rows: list[tuple]) -> pd.DataFrame:
    """Trips of rows (booking id, start, end, energy [kWh]) as a frame of UTC times and floats."""
    frame = pd.DataFrame(rows, columns=["booking_id", "start", "end", "trip_energy_kwh"])
    for c in ("start", "end"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    frame["trip_energy_kwh"] = frame["trip_energy_kwh"].astype(float)
    return frame


def energy_now_kwh(session: Session, *, vehicle: models.Vehicle, now: dt.datetime) -> float:
    """Energy in the car now [kWh]: the last SOC reading, less the trips that started since (none charged since).

    Charging since the reading is not counted (the chargers' meter values update the reading), so the value
    is never above the truth for a car that followed its bookings.
    """
    departed = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(models.Booking.trip_energy_kwh), 0.0)).where(
            models.Booking.vehicle_id == vehicle.id,
            models.Booking.status != "cancelled",
            models.Booking.start_at >= vehicle.soc_measured_at,
            models.Booking.start_at < now,
        )
    )
    return float(np.clip(vehicle.energy_kwh - float(departed or 0.0), 0.0, vehicle.usable_kwh))


def energies_now_kwh(session: Session, *, municipality_id: int, now: dt.datetime) -> dict[int, float]:
    """:func:`energy_now_kwh` of every car of a town, in two queries [kWh] (vehicle id → energy)."""
    cars = list_vehicles(session, municipality_id=municipality_id)
    departed = dict(
        session.execute(
            sa.select(models.Booking.vehicle_id, sa.func.sum(models.Booking.trip_energy_kwh))
            .join(models.Vehicle, models.Vehicle.id == models.Booking.vehicle_id)
            .where(
                models.Booking.municipality_id == municipality_id,
                models.Booking.status != "cancelled",
                models.Booking.start_at >= models.Vehicle.soc_measured_at,
                models.Booking.start_at < now,
            )
            .group_by(models.Booking.vehicle_id)
        ).all()
    )
    return {v.id: float(np.clip(v.energy_kwh - float(departed.get(v.id) or 0.0), 0.0, v.usable_kwh)) for v in cars}
