"""Reading and writing the service's data: keyword-only functions over a SQLAlchemy session.

Every function that touches a town's data takes ``municipality_id`` and only ever reads or writes that town's
rows; an object of another town is "not found" (:class:`~chisan.service.errors.NotFoundError`), and a reference to
one in a request body is refused naming the field (:class:`~chisan.service.errors.FieldError`). Functions that
change data commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chisan.catalogue.vehicles import vehicle_model
from chisan.exceptions import ScenarioError
from chisan.mobility.energy import booking_temperature_c, trip_energy_kwh
from chisan.service import admission, disaster, models, schemas
from chisan.service.errors import (
    BookingRefusedError,
    ConflictError,
    FieldError,
    HeaderError,
    NotFoundError,
    UnavailableError,
)
from chisan.service.forecast import NEUTRAL_TEMPERATURE_C, scenario_weather, weather_on

API_KEY_PREFIX = "chisan_"
"""Every API key starts with this; the rest is 32 random bytes (URL-safe base64)."""

ACTIVE = ("confirmed", "completed")
"""Booking statuses that hold their vehicle (the database's overlap guard ignores only ``cancelled``)."""

ADMISSION_STEP_HOURS = 0.25
"""Step of the admission check [h] (the schedule's step)."""

PAST_TOLERANCE = dt.timedelta(minutes=1)
"""A booking may start this much before now (the request's own travel time)."""


@dataclass(frozen=True)
class BookingLimits:
    """Bounds of a booking and of the work its admission may take.

    Attributes
    ----------
    horizon : timedelta
        A booking starts at most this far after now.
    max_span : timedelta
        A booking (or its late return) lasts at most this long.
    clock_skew : timedelta
        A reported time (telemetry, a return) may be this far after now.
    deadline : float or None
        ``time.monotonic()`` after which the admission stops and nothing is stored (503).
    """

    horizon: dt.timedelta = dt.timedelta(days=90)
    max_span: dt.timedelta = dt.timedelta(days=7)
    clock_skew: dt.timedelta = dt.timedelta(minutes=5)
    deadline: float | None = None

    @classmethod
    def of(cls, settings, *, budget: bool = False) -> BookingLimits:
        """The limits of a :class:`~chisan.service.core.config.Settings`; with ``budget``, a deadline from now."""
        return cls(
            horizon=dt.timedelta(days=settings.booking_horizon_days),
            max_span=dt.timedelta(hours=settings.booking_max_hours),
            clock_skew=dt.timedelta(seconds=settings.clock_skew_s),
            deadline=time.monotonic() + settings.request_budget_s if budget else None,
        )

    def check_time_left(self) -> None:
        """Raise :class:`UnavailableError` (503) when the deadline has passed."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise UnavailableError("the admission took longer than its time budget; nothing was stored, try again")

    def check_window(self, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
        """A booking from ``start`` to ``end`` starts within the horizon and lasts at most ``max_span``."""
        latest = now + self.horizon
        if start > latest:
            raise FieldError(
                f"start_at: {start.isoformat()} is more than {_days(self.horizon)} days ahead; the latest start "
                f"allowed now is {latest.isoformat()}",
                field="start_at",
            )
        if end - start > self.max_span:
            raise FieldError(
                f"end_at: the booking would last {_hours(end - start)} h (from {start.isoformat()} to "
                f"{end.isoformat()}); at most {_hours(self.max_span)} h allowed",
                field="end_at",
            )

    def check_reported(self, at: dt.datetime, now: dt.datetime, *, field: str) -> None:
        """A time reported by a car or a member is not in the future (beyond the clock skew allowed)."""
        if at > now + self.clock_skew:
            raise FieldError(
                f"{field}: {at.isoformat()} is in the future (now {now.isoformat()}, clocks may run ahead by "
                f"{self.clock_skew.total_seconds():g} s)",
                field=field,
            )


DEFAULT_LIMITS = BookingLimits()


def _days(span: dt.timedelta) -> str:
    return f"{span.total_seconds() / 86400:g}"


def _hours(span: dt.timedelta) -> str:
    return f"{span.total_seconds() / 3600:g}"


# --- helpers


def _one(session: Session, model, municipality_id: int, obj_id: int, *, field: str, what: str, lock: bool = False):
    stmt = sa.select(model).where(model.id == obj_id, model.municipality_id == municipality_id)
    if lock and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    obj = session.scalars(stmt).first()
    if obj is None:
        raise NotFoundError(f"no {what} {obj_id} in this municipality", field=field)
    return obj


def _ref(session: Session, model, municipality_id: int, obj_id: int, *, field: str, what: str, lock: bool = False):
    """An object a request body refers to; a missing one (or another town's) is a FieldError naming the field."""
    try:
        return _one(session, model, municipality_id, obj_id, field=field, what=what, lock=lock)
    except NotFoundError as err:
        raise FieldError(f"{field}: {err.message}", field=field) from None


def _commit(session: Session, *, unique_field: str = "", message: str = "") -> None:
    try:
        session.commit()
    except IntegrityError as err:
        session.rollback()
        raise ConflictError(
            message or f"{unique_field}: already used in this municipality", field=unique_field
        ) from err


def _apply(obj, data) -> None:
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(obj, key, value)


# --- municipalities and API keys


def hash_api_key(key: str) -> str:
    """SHA-256 of an API key (hex). Keys are 256-bit random secrets, so a fast hash is as safe as a slow one."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_municipality(session: Session, *, data: schemas.MunicipalityCreate, scenario_path: str | None = None):
    """Create a town and its first API key; returns ``(municipality, api_key, secret)``."""
    municipality = models.Municipality(**data.model_dump(), scenario_path=scenario_path)
    session.add(municipality)
    try:
        session.flush()
    except IntegrityError as err:
        session.rollback()
        raise ConflictError(f"slug: {data.slug!r} is already used by another municipality", field="slug") from err
    key, secret = _new_key(session, municipality_id=municipality.id, name="first key")
    session.commit()
    return municipality, key, secret


def update_municipality(session: Session, *, municipality: models.Municipality, data: schemas.MunicipalityUpdate):
    _apply(municipality, data)
    session.commit()
    return municipality


def get_municipality_by_slug(session: Session, *, slug: str) -> models.Municipality:
    obj = session.scalars(sa.select(models.Municipality).where(models.Municipality.slug == slug)).first()
    if obj is None:
        raise NotFoundError(f"no municipality {slug!r}", field="slug")
    return obj


def _new_key(session: Session, *, municipality_id: int, name: str) -> tuple[models.ApiKey, str]:
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = models.ApiKey(
        municipality_id=municipality_id,
        name=name,
        prefix=secret[: len(API_KEY_PREFIX) + 6],
        key_hash=hash_api_key(secret),
    )
    session.add(key)
    session.flush()
    return key, secret


# --- stations


def list_stations(session: Session, *, municipality_id: int) -> Sequence[models.Station]:
    return session.scalars(
        sa.select(models.Station).where(models.Station.municipality_id == municipality_id).order_by(models.Station.id)
    ).all()


def get_station(session: Session, *, municipality_id: int, station_id: int) -> models.Station:
    return _one(session, models.Station, municipality_id, station_id, field="station_id", what="station")


def create_station(session: Session, *, municipality_id: int, data: schemas.StationCreate) -> models.Station:
    station = models.Station(municipality_id=municipality_id, **data.model_dump())
    session.add(station)
    _commit(session, unique_field="name")
    return station


def update_station(
    session: Session, *, municipality_id: int, station_id: int, data: schemas.StationUpdate
) -> models.Station:
    station = get_station(session, municipality_id=municipality_id, station_id=station_id)
    _apply(station, data)
    _commit(session, unique_field="name")
    return station


def delete_station(session: Session, *, municipality_id: int, station_id: int) -> None:
    station = get_station(session, municipality_id=municipality_id, station_id=station_id)
    for model, what in ((models.Vehicle, "vehicles"), (models.Charger, "chargers")):
        n = session.scalar(sa.select(sa.func.count()).select_from(model).where(model.station_id == station_id))
        if n:
            raise ConflictError(
                f"station_id: station {station_id} still has {n} {what}; move or delete them first", field="station_id"
            )
    session.delete(station)
    session.commit()


# --- chargers


def list_chargers(session: Session, *, municipality_id: int) -> Sequence[models.Charger]:
    return session.scalars(
        sa.select(models.Charger).where(models.Charger.municipality_id == municipality_id).order_by(models.Charger.id)
    ).all()


def get_charger(session: Session, *, municipality_id: int, charger_id: int) -> models.Charger:
    return _one(session, models.Charger, municipality_id, charger_id, field="charger_id", what="charger")


def get_charger_by_ocpp_id(session: Session, *, ocpp_id: str) -> models.Charger | None:
    """The charger a charge point identity belongs to (identities are unique across towns)."""
    return session.scalars(sa.select(models.Charger).where(models.Charger.ocpp_id == ocpp_id)).first()


def create_charger(session: Session, *, municipality_id: int, data: schemas.ChargerCreate) -> models.Charger:
    _ref(session, models.Station, municipality_id, data.station_id, field="station_id", what="station")
    charger = models.Charger(municipality_id=municipality_id, **data.model_dump())
    session.add(charger)
    _commit(
        session,
        unique_field="ocpp_id",
        message=(  # says nothing of whose: identities are unique across towns
            f"ocpp_id: {data.ocpp_id!r} cannot be used; choose another charge point identity "
            "(a random one, e.g. 'CP-' and 12 hex digits, is never taken)"
        ),
    )
    return charger


def update_charger(
    session: Session, *, municipality_id: int, charger_id: int, data: schemas.ChargerUpdate
) -> models.Charger:
    charger = get_charger(session, municipality_id=municipality_id, charger_id=charger_id)
    if data.station_id is not None:
        _ref(session, models.Station, municipality_id, data.station_id, field="station_id", what="station")
    _apply(charger, data)
    session.commit()
    return charger


def delete_charger(session: Session, *, municipality_id: int, charger_id: int) -> None:
    charger = get_charger(session, municipality_id=municipality_id, charger_id=charger_id)
    n = session.scalar(
        sa.select(sa.func.count())
        .select_from(models.ChargingSession)
        .where(models.ChargingSession.charger_id == charger_id)
    )
    if n:
        raise ConflictError(f"charger_id: charger {charger_id} has {n} charging sessions on record", field="charger_id")
    session.delete(charger)
    session.commit()


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


# --- members


def list_members(session: Session, *, municipality_id: int) -> Sequence[models.Member]:
    return session.scalars(
        sa.select(models.Member).where(models.Member.municipality_id == municipality_id).order_by(models.Member.id)
    ).all()


def get_member(session: Session, *, municipality_id: int, member_id: int) -> models.Member:
    return _one(session, models.Member, municipality_id, member_id, field="member_id", what="member")


def create_member(session: Session, *, municipality_id: int, data: schemas.MemberCreate) -> models.Member:
    member = models.Member(municipality_id=municipality_id, **data.model_dump())
    session.add(member)
    _commit(session, unique_field="id_tag")
    return member


def update_member(session: Session, *, municipality_id: int, member_id: int, data: schemas.MemberUpdate):
    member = get_member(session, municipality_id=municipality_id, member_id=member_id)
    _apply(member, data)
    _commit(session, unique_field="id_tag")
    return member


def delete_member(session: Session, *, municipality_id: int, member_id: int) -> None:
    member = get_member(session, municipality_id=municipality_id, member_id=member_id)
    n = session.scalar(
        sa.select(sa.func.count()).select_from(models.Booking).where(models.Booking.member_id == member_id)
    )
    if n:
        raise ConflictError(f"member_id: member {member_id} has {n} bookings on record", field="member_id")
    session.delete(member)
    session.commit()


# --- bookings: energy of a trip and of a car


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


def _station_power_columns(station_id):
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


def _battery(vehicle: models.Vehicle, charger_kw, connection_kw, n_chargers, n_vehicles) -> admission.Battery:
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
        sa.select(*_station_power_columns(vehicle.station_id)).where(models.Station.id == vehicle.station_id)
    ).one()
    return _battery(vehicle, *row)


def _vehicle_for_booking_statement(lock: bool):
    v = models.Vehicle.__table__.c
    stmt = (
        sa.select(
            v.id,
            v.name,
            v.station_id,
            v.is_disabled,
            v.usable_kwh,
            v.reserve_kwh,
            v.max_charge_kw,
            v.charge_efficiency,
            v.consumption_kwh_per_km,
            v.soc_measured_at,
            (v.soc_fraction * v.usable_kwh).label("energy_kwh"),
            *_station_power_columns(v.station_id),
        )
        .join(models.Station, models.Station.id == v.station_id)
        .where(v.id == sa.bindparam("vehicle_id"), v.municipality_id == sa.bindparam("municipality_id"))
    )
    return stmt.with_for_update(of=models.Vehicle.__table__) if lock else stmt


# statements of the booking hot path, built once (building a statement costs more than running it)
_VEHICLE_FOR_BOOKING = {True: _vehicle_for_booking_statement(True), False: _vehicle_for_booking_statement(False)}
_B = models.Booking
_TRIPS_OF_VEHICLE = (
    sa.select(_B.id, _B.start_at, _B.end_at, _B.expected_return_at, _B.trip_energy_kwh, _B.status)
    .where(
        _B.vehicle_id == sa.bindparam("vehicle_id"),
        _B.status != "cancelled",
        sa.or_(
            _B.end_at > sa.bindparam("since", type_=models.UTCDateTime),
            _B.expected_return_at > sa.bindparam("since", type_=models.UTCDateTime),
        ),
    )
    .order_by(_B.start_at)
)
_INSERT_BOOKING = sa.insert(models.Booking.__table__).returning(models.Booking.__table__.c.id)


def vehicle_for_booking(
    session: Session, *, municipality_id: int, vehicle_id: int, field: str = "vehicle_id"
) -> tuple[sa.Row, admission.Battery]:
    """A car of the town, locked for the admission (PostgreSQL), with its battery — one query.

    The car is a row with the :class:`~chisan.service.models.Vehicle` attributes the admission reads (and
    ``energy_kwh``), not an ORM object: the booking hot path does not pay for the identity map.
    Raises FieldError naming ``field`` when the town has no such car.
    """
    stmt = _VEHICLE_FOR_BOOKING[session.bind.dialect.name == "postgresql"]
    row = session.connection().execute(stmt, {"vehicle_id": vehicle_id, "municipality_id": municipality_id}).first()
    if row is None:
        raise FieldError(f"{field}: no vehicle {vehicle_id} in this municipality", field=field)
    return row, _battery(row, *row[-4:])


def _vehicle_bookings(session: Session, *, vehicle_id: int, after: dt.datetime, exclude: int | None = None):
    stmt = sa.select(models.Booking).where(
        models.Booking.vehicle_id == vehicle_id,
        models.Booking.status == "confirmed",
        sa.or_(models.Booking.end_at > after, models.Booking.expected_return_at > after),
    )
    if exclude is not None:
        stmt = stmt.where(models.Booking.id != exclude)
    return session.scalars(stmt.order_by(models.Booking.start_at)).all()


def _effective_end(b) -> dt.datetime:
    """When a booking's car is back: its end, or its expected late return."""
    return max(b.end_at, b.expected_return_at or b.end_at)


def trips_frame(bookings: Sequence[models.Booking]) -> pd.DataFrame:
    """Trips of bookings (``booking_id``, ``start``, ``end``, ``trip_energy_kwh``); a late return extends the end."""
    return _frame([(b.id, b.start_at, _effective_end(b), b.trip_energy_kwh) for b in bookings])


def _frame(rows: list[tuple]) -> pd.DataFrame:
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


@dataclass
class VehicleFit:
    """How a trip fits one car: free of its bookings, and with energy for all of them.

    ``rows`` are the car's trips (booking id, start, end, energy [kWh]) with the asked-for trip last (id −1).
    ``vehicle`` is the car's ORM object, or the row of :func:`vehicle_for_booking` (same attribute names).
    """

    vehicle: models.Vehicle | sa.Row
    free: bool
    ok: bool
    battery: admission.Battery
    energy_now_kwh: float
    need_now_kwh: float
    rows: list[tuple]

    @property
    def trip_energy_kwh(self) -> float:
        """Energy of the asked-for trip [kWh]."""
        return float(self.rows[-1][3])

    @property
    def trips(self) -> pd.DataFrame:
        return _frame(self.rows)


def fit_trip(
    session: Session,
    *,
    municipality: models.Municipality,
    vehicle: models.Vehicle | sa.Row,
    start: dt.datetime,
    end: dt.datetime,
    distance_km: float,
    now: dt.datetime,
    exclude_booking: int | None = None,
    battery: admission.Battery | None = None,
) -> VehicleFit:
    """Whether a trip fits ``vehicle`` (see :mod:`chisan.service.admission`).

    A car that holds enough for all its trips without charging is admitted at once
    (:func:`~chisan.service.admission.serves_without_charging`); otherwise the least-energy recursion decides.
    """
    since = min(now, vehicle.soc_measured_at)
    recent = session.connection().execute(_TRIPS_OF_VEHICLE, {"vehicle_id": vehicle.id, "since": since}).all()
    departed = sum(b.trip_energy_kwh for b in recent if vehicle.soc_measured_at <= b.start_at < now)
    e_now = float(np.clip(vehicle.energy_kwh - departed, 0.0, vehicle.usable_kwh))
    bookings = [b for b in recent if b.status == "confirmed" and _effective_end(b) > now and b.id != exclude_booking]
    free = not any(b.start_at < end and start < _effective_end(b) for b in bookings)
    battery = battery or battery_of(session, vehicle=vehicle)
    energy = trip_energy_for(municipality, vehicle, start=start, end=end, distance_km=distance_km)
    rows = [(b.id, b.start_at, _effective_end(b), b.trip_energy_kwh) for b in bookings]
    rows.append((-1, start, end, energy))
    ahead = [r[3] for r in rows if r[1] >= now]
    if admission.serves_without_charging(battery, e_now, ahead):
        ok, need = True, battery.reserve_kwh + sum(ahead)
    else:
        check = admission.energy_check(battery, e_now, [_frame(rows)], now=now, dt_hours=ADMISSION_STEP_HOURS)
        ok, need = bool(check.ok[0]), float(check.need_now_kwh[0])
    return VehicleFit(
        vehicle=vehicle, free=free, ok=free and ok, battery=battery, energy_now_kwh=e_now, need_now_kwh=need, rows=rows
    )


def _alternatives(
    session: Session,
    *,
    municipality: models.Municipality,
    fit: VehicleFit,
    start: dt.datetime,
    end: dt.datetime,
    distance_km: float,
    now: dt.datetime,
    exclude_booking: int | None = None,
) -> tuple[dt.datetime | None, list[int]]:
    """The earliest feasible start for the same car, and the other cars of its station that fit as asked.

    Read-only: the session's transaction (and on PostgreSQL the car's row lock, on SQLite the database lock) is
    ended before the earliest start is searched, the longest computation of a refusal.
    """
    alternatives = []
    for other in list_vehicles(session, municipality_id=municipality.id, station_id=fit.vehicle.station_id):
        if other.id == fit.vehicle.id or other.is_disabled:
            continue
        f = fit_trip(
            session,
            municipality=municipality,
            vehicle=other,
            start=start,
            end=end,
            distance_km=distance_km,
            now=now,
            exclude_booking=exclude_booking,
        )
        if f.ok:
            alternatives.append(other.id)
    session.rollback()  # nothing was written: hold no transaction while computing
    earliest = admission.earliest_feasible_start(
        fit.battery,
        fit.energy_now_kwh,
        fit.trips.iloc[:-1],
        start=start,
        end=end,
        trip_energy_kwh=fit.trip_energy_kwh,
        now=now,
        dt_hours=ADMISSION_STEP_HOURS,
    )
    return earliest, alternatives


@dataclass(frozen=True)
class _CarName:
    id: int
    name: str


def _refuse(session: Session, *, municipality, fit: VehicleFit, start, end, distance_km, now, exclude_booking=None):
    v = _CarName(fit.vehicle.id, fit.vehicle.name)  # read before the transaction ends (an ORM object would reload)
    earliest, alternatives = _alternatives(
        session,
        municipality=municipality,
        fit=fit,
        start=start,
        end=end,
        distance_km=distance_km,
        now=now,
        exclude_booking=exclude_booking,
    )
    if not fit.free:
        refusal = schemas.BookingRefusal(
            message=f"start_at: vehicle {v.id} ({v.name}) is already booked between {start.isoformat()} and "
            f"{end.isoformat()}",
            field="start_at",
            reason="vehicle_busy",
            earliest_feasible_start_at=earliest,
            alternative_vehicle_ids=alternatives,
        )
    else:
        refusal = schemas.BookingRefusal(
            message=f"start_at: vehicle {v.id} ({v.name}) cannot charge enough by {start.isoformat()}: its bookings "
            f"need {fit.need_now_kwh:.2f} kWh now (reserve included) and it holds {fit.energy_now_kwh:.2f} kWh, "
            f"charging at {fit.battery.charge_kw:.2f} kW",
            field="start_at",
            reason="insufficient_energy",
            energy_needed_kwh=round(fit.need_now_kwh, 3),
            energy_available_kwh=round(fit.energy_now_kwh, 3),
            earliest_feasible_start_at=earliest,
            alternative_vehicle_ids=alternatives,
        )
    return BookingRefusedError(refusal)


def _is_overlap(err: IntegrityError) -> bool:
    text = str(err.orig).lower()
    return models.BOOKING_OVERLAP in text or "ex_bookings_no_overlap" in text or "exclusion" in text


# --- bookings: create, change, cancel, list


def list_bookings(
    session: Session,
    *,
    municipality_id: int,
    start_from: dt.datetime | None = None,
    start_to: dt.datetime | None = None,
    vehicle_id: int | None = None,
    station_id: int | None = None,
    status: str | None = None,
    limit: int = 1000,
) -> Sequence[models.Booking]:
    stmt = sa.select(models.Booking).where(models.Booking.municipality_id == municipality_id)
    if start_from is not None:
        stmt = stmt.where(models.Booking.start_at >= start_from)
    if start_to is not None:
        stmt = stmt.where(models.Booking.start_at < start_to)
    if vehicle_id is not None:
        stmt = stmt.where(models.Booking.vehicle_id == vehicle_id)
    if station_id is not None:
        stmt = stmt.join(models.Vehicle, models.Vehicle.id == models.Booking.vehicle_id).where(
            models.Vehicle.station_id == station_id
        )
    if status is not None:
        stmt = stmt.where(models.Booking.status == status)
    return session.scalars(stmt.order_by(models.Booking.start_at, models.Booking.id).limit(limit)).all()


def get_booking(session: Session, *, municipality_id: int, booking_id: int) -> models.Booking:
    return _one(session, models.Booking, municipality_id, booking_id, field="booking_id", what="booking")


def _energy_at_start(fit: VehicleFit, now: dt.datetime) -> float | None:
    """Energy the car is expected to hold at the start of the asked-for trip [kWh] (None when under way)."""
    rows = [(r[1], r[2], r[3]) for r in fit.rows]
    at = admission.energy_before_trips(fit.battery, fit.energy_now_kwh, rows, now=now, dt_hours=ADMISSION_STEP_HOURS)
    return None if np.isnan(at[-1]) else round(float(at[-1]), 3)


_BOOKING_OUT_STORED = ("vehicle_id", "member_id", "start_at", "end_at", "distance_km", "trip_energy_kwh", "status")


def create_booking(
    session: Session,
    *,
    municipality: models.Municipality,
    data: schemas.BookingCreate,
    now: dt.datetime,
    limits: BookingLimits = DEFAULT_LIMITS,
    idempotency: tuple[str, str] | None = None,
) -> schemas.BookingOut:
    """Book a car, or refuse with the earliest feasible start and the other cars that fit.

    Returns the booking as stored, with the energy expected at its start [kWh]. With ``idempotency`` (the
    request's ``Idempotency-Key`` and the SHA-256 of its body), the answer is stored with the booking, in the same
    transaction (:func:`idempotent_answer` finds it). The car's row is locked
    (PostgreSQL) while its bookings are checked, so two requests for one car are admitted one after the other;
    the database's overlap guard decides in the end.

    Raises
    ------
    BookingRefusedError
        The car is taken (``vehicle_busy``), cannot charge enough (``insufficient_energy``), or no car of the
        station fits (``no_vehicle``).
    FieldError
        A referenced member, vehicle or station is not the town's; the booking starts in the past or beyond
        ``limits.horizon``, or lasts longer than ``limits.max_span``.
    UnavailableError
        The admission ran past ``limits.deadline`` (nothing is stored).
    """
    mid = municipality.id
    if data.start_at < now - PAST_TOLERANCE:
        raise FieldError(
            f"start_at: {data.start_at.isoformat()} is in the past (now {now.isoformat()})", field="start_at"
        )
    limits.check_window(data.start_at, data.end_at, now)
    if data.member_id is not None:
        _ref(session, models.Member, mid, data.member_id, field="member_id", what="member")
    kwargs = dict(start=data.start_at, end=data.end_at, distance_km=data.distance_km, now=now)
    if data.vehicle_id is not None:
        vehicle, battery = vehicle_for_booking(session, municipality_id=mid, vehicle_id=data.vehicle_id)
        if data.station_id is not None and vehicle.station_id != data.station_id:
            raise FieldError(
                f"station_id: vehicle {vehicle.id} is based at station {vehicle.station_id}", field="station_id"
            )
        if vehicle.is_disabled:
            raise FieldError(f"vehicle_id: vehicle {vehicle.id} is disabled", field="vehicle_id")
        disaster.check_booking(session, municipality_id=mid, vehicle_id=vehicle.id)
        fit = fit_trip(session, municipality=municipality, vehicle=vehicle, battery=battery, **kwargs)
        if not fit.ok:
            limits.check_time_left()
            raise _refuse(session, municipality=municipality, fit=fit, **kwargs)
    else:
        _ref(session, models.Station, mid, data.station_id, field="station_id", what="station")
        fit = None
        first_fit = None
        held = disaster.called_cars(session, municipality_id=mid)
        called_here = []
        for vehicle in list_vehicles(session, municipality_id=mid, station_id=data.station_id):
            if vehicle.is_disabled:
                continue
            if held is not None and vehicle.id in held.names:
                called_here.append(vehicle.id)  # kept at the shelters by the disaster mode
                continue
            limits.check_time_left()
            f = fit_trip(session, municipality=municipality, vehicle=vehicle, **kwargs)
            first_fit = first_fit or f
            if f.ok:
                fit = f
                break
        if fit is None:
            if first_fit is None and called_here:
                refused = held.refusal(called_here[0])
                refused.refusal.reason = "disaster_mode"
                refused.refusal.field = "station_id"
                refused.refusal.message = (
                    f"station_id: every car of station {data.station_id} in service is called to the shelters; "
                    + refused.message.removeprefix("vehicle_id: ")
                )
                refused.message = refused.refusal.message
                raise refused
            if first_fit is None:
                raise BookingRefusedError(
                    schemas.BookingRefusal(
                        message=f"station_id: station {data.station_id} has no vehicle in service",
                        field="station_id",
                        reason="no_vehicle",
                    )
                )
            refused = _refuse(session, municipality=municipality, fit=first_fit, **kwargs)
            refused.refusal.reason = "no_vehicle"
            refused.refusal.field = "station_id"
            refused.refusal.message = f"station_id: no vehicle of station {data.station_id} fits; " + refused.message
            refused.message = refused.refusal.message
            raise refused
        if session.bind.dialect.name == "postgresql":
            session.execute(sa.select(models.Vehicle.id).where(models.Vehicle.id == fit.vehicle.id).with_for_update())
    limits.check_time_left()
    stamp = dt.datetime.now(dt.UTC)
    values = dict(
        municipality_id=mid,
        vehicle_id=fit.vehicle.id,
        member_id=data.member_id,
        start_at=data.start_at,
        end_at=data.end_at,
        distance_km=data.distance_km,
        trip_energy_kwh=fit.trip_energy_kwh,
        status="confirmed",
        created_at=stamp,
        updated_at=stamp,
    )
    try:
        # a Core insert: the hot path of the service skips the ORM's unit of work
        booking_id = session.connection().execute(_INSERT_BOOKING, values).scalar()
        out = schemas.BookingOut(
            id=booking_id,
            **{k: values[k] for k in _BOOKING_OUT_STORED},
            expected_return_at=None,
            returned_at=None,
            energy_at_start_kwh=_energy_at_start(fit, now),
        )
        if idempotency is not None:
            session.connection().execute(
                sa.insert(models.IdempotencyKey.__table__),
                dict(
                    municipality_id=mid,
                    key=idempotency[0],
                    request_sha256=idempotency[1],
                    status_code=201,
                    response_json=out.model_dump_json(),
                    booking_id=booking_id,
                    created_at=stamp,
                ),
            )
        session.commit()
    except IntegrityError as err:
        session.rollback()
        if idempotency is not None and idempotent_answer(session, municipality_id=mid, key=idempotency[0]):
            raise IdempotentReplayError from err  # the same request, admitted meanwhile by another worker
        if not _is_overlap(err):
            raise
        vehicle = session.get(models.Vehicle, fit.vehicle.id)
        again = fit_trip(session, municipality=municipality, vehicle=vehicle, **kwargs)
        again.free = False
        raise _refuse(session, municipality=municipality, fit=again, **kwargs) from None
    return out


class IdempotentReplayError(Exception):
    """A booking request whose ``Idempotency-Key`` was stored while it ran: answer with the stored answer."""


def idempotent_answer(
    session: Session, *, municipality_id: int, key: str, request_sha256: str | None = None
) -> tuple[int, str] | None:
    """The stored answer (status, JSON body) to the town's booking request with this ``Idempotency-Key``.

    Raises FieldError (422) when the key was used with another body (``request_sha256`` given and different).
    """
    row = session.execute(
        sa.select(
            models.IdempotencyKey.status_code, models.IdempotencyKey.response_json, models.IdempotencyKey.request_sha256
        ).where(models.IdempotencyKey.municipality_id == municipality_id, models.IdempotencyKey.key == key)
    ).first()
    session.rollback()  # a read only: end it at once
    if row is None:
        return None
    if request_sha256 is not None and row.request_sha256 != request_sha256:
        raise HeaderError(
            "Idempotency-Key: this key was already used with another request body; use a new key for a new request",
            field="Idempotency-Key",
        )
    return row.status_code, row.response_json


def update_booking(
    session: Session,
    *,
    municipality: models.Municipality,
    booking_id: int,
    data: schemas.BookingUpdate,
    now: dt.datetime,
    limits: BookingLimits = DEFAULT_LIMITS,
) -> tuple[models.Booking, float | None]:
    """Change a confirmed booking (times, distance, car, member); the change is admitted like a new booking.

    New times are bounded as a new booking's (:meth:`BookingLimits.check_window`): a booking cannot be moved to
    start in the past, nor to end before now.
    """
    mid = municipality.id
    booking = get_booking(session, municipality_id=mid, booking_id=booking_id)
    if booking.status != "confirmed":
        raise ConflictError(
            f"booking_id: booking {booking_id} is {booking.status}; only confirmed bookings change", field="booking_id"
        )
    values = data.model_dump(exclude_unset=True)
    start = values.get("start_at", booking.start_at)
    end = values.get("end_at", booking.end_at)
    if end <= start:
        field = "end_at" if "end_at" in values else "start_at"
        raise FieldError(f"{field}: end_at {end.isoformat()} must be after start_at {start.isoformat()}", field=field)
    if "start_at" in values and start != booking.start_at and start < now - PAST_TOLERANCE:
        raise FieldError(f"start_at: {start.isoformat()} is in the past (now {now.isoformat()})", field="start_at")
    if "end_at" in values and end != booking.end_at and end <= now:
        raise FieldError(f"end_at: {end.isoformat()} is in the past (now {now.isoformat()})", field="end_at")
    if start != booking.start_at or end != booking.end_at:
        limits.check_window(start, end, now)
    if values.get("member_id") is not None:
        _ref(session, models.Member, mid, values["member_id"], field="member_id", what="member")
    vehicle_id = values.get("vehicle_id") or booking.vehicle_id
    vehicle, battery = vehicle_for_booking(session, municipality_id=mid, vehicle_id=vehicle_id)
    disaster.check_booking(session, municipality_id=mid, vehicle_id=vehicle.id)
    distance = values.get("distance_km", booking.distance_km)
    kwargs = dict(start=start, end=end, distance_km=distance, now=now)
    fit = fit_trip(
        session, municipality=municipality, vehicle=vehicle, exclude_booking=booking.id, battery=battery, **kwargs
    )
    if not fit.ok:
        raise _refuse(session, municipality=municipality, fit=fit, exclude_booking=booking.id, **kwargs)
    booking.vehicle_id = vehicle.id
    booking.start_at, booking.end_at, booking.distance_km = start, end, distance
    booking.trip_energy_kwh = fit.trip_energy_kwh
    if "member_id" in values:
        booking.member_id = values["member_id"]
    try:
        session.commit()
    except IntegrityError as err:
        session.rollback()
        if not _is_overlap(err):
            raise
        fit.free = False
        raise _refuse(session, municipality=municipality, fit=fit, exclude_booking=booking_id, **kwargs) from None
    return booking, _energy_at_start(fit, now)


def cancel_booking(session: Session, *, municipality_id: int, booking_id: int) -> models.Booking:
    booking = get_booking(session, municipality_id=municipality_id, booking_id=booking_id)
    if booking.status == "completed":
        raise ConflictError(
            f"booking_id: booking {booking_id} is completed and cannot be cancelled", field="booking_id"
        )
    booking.status = "cancelled"
    session.commit()
    return booking


def complete_booking(
    session: Session,
    *,
    municipality_id: int,
    booking_id: int,
    returned_at: dt.datetime,
    soc_fraction: float | None,
) -> models.Booking:
    """The car is back: the booking is completed and the car's SOC recorded (if given).

    A return before the booking's start is refused.
    """
    booking = get_booking(session, municipality_id=municipality_id, booking_id=booking_id)
    if booking.status == "cancelled":
        raise ConflictError(f"booking_id: booking {booking_id} was cancelled", field="booking_id")
    if returned_at < booking.start_at:
        raise FieldError(
            f"returned_at: {returned_at.isoformat()} is before the booking started ({booking.start_at.isoformat()})",
            field="returned_at",
        )
    booking.status = "completed"
    booking.returned_at = returned_at
    if booking.expected_return_at is not None and returned_at > booking.end_at:
        booking.expected_return_at = returned_at
    if soc_fraction is not None:
        vehicle = session.get(models.Vehicle, booking.vehicle_id)
        if returned_at >= vehicle.soc_measured_at:
            vehicle.soc_fraction = soc_fraction
            vehicle.soc_measured_at = returned_at
    session.commit()
    return booking


def report_late_return(
    session: Session,
    *,
    municipality: models.Municipality,
    booking_id: int,
    expected_return_at: dt.datetime,
    soc_fraction: float | None,
    now: dt.datetime,
    limits: BookingLimits = DEFAULT_LIMITS,
) -> schemas.LateReturnOut:
    """A car comes back late: re-plan the car's following bookings and say which are at risk.

    Each following booking that starts before the car is back, or that the car can no longer charge for, is
    moved to another car of the station that fits it (``reassigned``); when none fits it stays and is
    ``at_risk`` (an alert is raised). The others stay (``ok``).
    """
    mid = municipality.id
    booking = get_booking(session, municipality_id=mid, booking_id=booking_id)
    if booking.status != "confirmed":
        raise ConflictError(f"booking_id: booking {booking_id} is {booking.status}", field="booking_id")
    if expected_return_at <= booking.start_at:
        raise FieldError(
            f"expected_return_at: {expected_return_at.isoformat()} is before the booking starts",
            field="expected_return_at",
        )
    if expected_return_at - booking.end_at > limits.max_span:
        raise FieldError(
            f"expected_return_at: {expected_return_at.isoformat()} is more than {_hours(limits.max_span)} h after "
            f"the booking's end ({booking.end_at.isoformat()})",
            field="expected_return_at",
        )
    vehicle = _one(session, models.Vehicle, mid, booking.vehicle_id, field="vehicle_id", what="vehicle", lock=True)
    booking.expected_return_at = expected_return_at
    if soc_fraction is not None and now >= vehicle.soc_measured_at:
        # a reading taken on the way: the trip's energy has (mostly) left already; count it as the return SOC
        vehicle.soc_fraction = soc_fraction
        vehicle.soc_measured_at = max(now, booking.start_at)
    session.flush()
    following = [
        b
        for b in _vehicle_bookings(session, vehicle_id=vehicle.id, after=now, exclude=booking.id)
        if b.start_at >= booking.start_at
    ]
    affected: list[schemas.AffectedBooking] = []
    battery = battery_of(session, vehicle=vehicle)
    e_now = energy_now_kwh(session, vehicle=vehicle, now=now)
    kept = [booking]
    for nxt in following:
        trial = [*kept, nxt]
        conflict = nxt.start_at < expected_return_at
        check = admission.energy_check(battery, e_now, [trips_frame(trial)], now=now, dt_hours=ADMISSION_STEP_HOURS)
        if not conflict and bool(check.ok[0]):
            kept.append(nxt)
            affected.append(schemas.AffectedBooking(booking_id=nxt.id, status="ok", vehicle_id=vehicle.id))
            continue
        reason = (
            f"vehicle {vehicle.id} is back only at {expected_return_at.isoformat()}"
            if conflict
            else f"vehicle {vehicle.id} cannot charge enough after the late return"
        )
        moved = None
        for other in list_vehicles(session, municipality_id=mid, station_id=vehicle.station_id):
            if other.id == vehicle.id or other.is_disabled:
                continue
            f = fit_trip(
                session,
                municipality=municipality,
                vehicle=other,
                start=nxt.start_at,
                end=nxt.end_at,
                distance_km=nxt.distance_km,
                now=now,
            )
            if f.ok:
                moved = other
                break
        if moved is not None:
            nxt.vehicle_id = moved.id
            nxt.trip_energy_kwh = trip_energy_for(
                municipality, moved, start=nxt.start_at, end=nxt.end_at, distance_km=nxt.distance_km
            )
            session.flush()  # the overlap guard checks the move now
            affected.append(
                schemas.AffectedBooking(
                    booking_id=nxt.id,
                    status="reassigned",
                    vehicle_id=moved.id,
                    previous_vehicle_id=vehicle.id,
                    reason=reason,
                )
            )
        else:
            affected.append(
                schemas.AffectedBooking(
                    booking_id=nxt.id,
                    status="at_risk",
                    vehicle_id=vehicle.id,
                    reason=reason + "; no other car of the station fits",
                )
            )
            session.add(
                models.Alert(
                    municipality_id=mid,
                    kind="booking_at_risk",
                    booking_id=nxt.id,
                    message=f"booking {nxt.id} at risk: {reason}",
                    created_at=now,
                )
            )
    session.commit()
    return schemas.LateReturnOut(booking=booking_out(booking), affected=affected)


def booking_out(booking: models.Booking, energy_at_start_kwh: float | None = None) -> schemas.BookingOut:
    out = schemas.BookingOut.model_validate(booking)
    out.energy_at_start_kwh = energy_at_start_kwh
    return out


# --- PV forecast


def set_pv_forecast(session: Session, *, municipality_id: int, data: schemas.PvForecastIn) -> int:
    """Store a supplied PV forecast [kW] (replacing stored values at the same times); returns the count."""
    times = [data.start_at + k * dt.timedelta(minutes=data.step_minutes) for k in range(len(data.pv_kw))]
    session.execute(
        sa.delete(models.PvForecast).where(
            models.PvForecast.municipality_id == municipality_id,
            models.PvForecast.start_at >= times[0],
            models.PvForecast.start_at <= times[-1],
        )
    )
    session.add_all(
        models.PvForecast(municipality_id=municipality_id, start_at=t, pv_kw=float(v))
        for t, v in zip(times, data.pv_kw, strict=True)
    )
    session.commit()
    return len(times)


def get_pv_forecast(session: Session, *, municipality_id: int, start: dt.datetime, end: dt.datetime) -> pd.Series:
    """Supplied PV forecast [kW] in [start, end), indexed by UTC time (empty when none)."""
    rows = session.execute(
        sa.select(models.PvForecast.start_at, models.PvForecast.pv_kw)
        .where(
            models.PvForecast.municipality_id == municipality_id,
            models.PvForecast.start_at >= start,
            models.PvForecast.start_at < end,
        )
        .order_by(models.PvForecast.start_at)
    ).all()
    index = pd.DatetimeIndex([pd.Timestamp(r[0]) for r in rows], tz="UTC") if rows else pd.DatetimeIndex([], tz="UTC")
    return pd.Series([float(r[1]) for r in rows], index=index, name="pv_kw", dtype=float)


# --- alerts, sessions, schedules (reads)


def list_alerts(session: Session, *, municipality_id: int, kind: str | None = None, limit: int = 200):
    stmt = sa.select(models.Alert).where(models.Alert.municipality_id == municipality_id)
    if kind is not None:
        stmt = stmt.where(models.Alert.kind == kind)
    return session.scalars(stmt.order_by(models.Alert.id.desc()).limit(limit)).all()


def list_sessions(session: Session, *, municipality_id: int, status: str | None = None, limit: int = 500):
    stmt = sa.select(models.ChargingSession).where(models.ChargingSession.municipality_id == municipality_id)
    if status is not None:
        stmt = stmt.where(models.ChargingSession.status == status)
    return session.scalars(stmt.order_by(models.ChargingSession.id.desc()).limit(limit)).all()


def get_schedule(session: Session, *, municipality_id: int, schedule_id: int) -> models.Schedule:
    return _one(session, models.Schedule, municipality_id, schedule_id, field="schedule_id", what="schedule")


def latest_schedule(session: Session, *, municipality_id: int, limits_ok: bool | None = None) -> models.Schedule | None:
    """The town's newest schedule (only among those that keep every limit when ``limits_ok``)."""
    stmt = sa.select(models.Schedule).where(models.Schedule.municipality_id == municipality_id)
    if limits_ok is not None:
        stmt = stmt.where(models.Schedule.limits_ok.is_(limits_ok))
    return session.scalars(stmt.order_by(models.Schedule.id.desc()).limit(1)).first()


def list_schedules(session: Session, *, municipality_id: int, limit: int = 50) -> Sequence[models.Schedule]:
    return session.scalars(
        sa.select(models.Schedule)
        .where(models.Schedule.municipality_id == municipality_id)
        .order_by(models.Schedule.id.desc())
        .limit(limit)
    ).all()
