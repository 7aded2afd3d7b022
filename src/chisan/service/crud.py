"""Reading and writing the service's data: keyword-only functions over a SQLAlchemy session.

Every function that touches a town's data takes ``municipality_id`` and only ever reads or writes that town's
rows; an object of another town is "not found" (:class:`~chisan.service.errors.NotFoundError`), and a reference to
one in a request body is refused naming the field (:class:`~chisan.service.errors.FieldError`). Functions that
change data commit.

This module holds towns, API keys, stations, chargers, members, PV forecasts and the reads of alerts, sessions and
schedules. The cars are in :mod:`chisan.service.vehicles`, the booking life cycle (and its disaster-mode checks) in
:mod:`chisan.service.bookings`, the bounds of a booking in :mod:`chisan.service.booking_limits`; their public names
are re-exported here, so ``crud.create_booking`` and the like keep working.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chisan.service import models, schemas
from chisan.service.booking_limits import ADMISSION_STEP_HOURS as ADMISSION_STEP_HOURS
from chisan.service.booking_limits import DEFAULT_LIMITS as DEFAULT_LIMITS
from chisan.service.booking_limits import PAST_TOLERANCE as PAST_TOLERANCE
from chisan.service.booking_limits import BookingLimits as BookingLimits
from chisan.service.bookings import IdempotentReplayError as IdempotentReplayError
from chisan.service.bookings import VehicleFit as VehicleFit
from chisan.service.bookings import booking_out as booking_out
from chisan.service.bookings import cancel_booking as cancel_booking
from chisan.service.bookings import complete_booking as complete_booking
from chisan.service.bookings import create_booking as create_booking
from chisan.service.bookings import fit_trip as fit_trip
from chisan.service.bookings import get_booking as get_booking
from chisan.service.bookings import idempotent_answer as idempotent_answer
from chisan.service.bookings import list_bookings as list_bookings
from chisan.service.bookings import report_late_return as report_late_return
from chisan.service.bookings import update_booking as update_booking
from chisan.service.bookings import vehicle_for_booking as vehicle_for_booking
from chisan.service.errors import ConflictError, NotFoundError
from chisan.service.rows import apply as _apply
from chisan.service.rows import commit as _commit
from chisan.service.rows import one as _one
from chisan.service.rows import ref as _ref
from chisan.service.vehicles import battery_of as battery_of
from chisan.service.vehicles import create_vehicle as create_vehicle
from chisan.service.vehicles import delete_vehicle as delete_vehicle
from chisan.service.vehicles import energies_now_kwh as energies_now_kwh
from chisan.service.vehicles import energy_now_kwh as energy_now_kwh
from chisan.service.vehicles import get_vehicle as get_vehicle
from chisan.service.vehicles import list_vehicles as list_vehicles
from chisan.service.vehicles import record_soc as record_soc
from chisan.service.vehicles import trip_energy_for as trip_energy_for
from chisan.service.vehicles import trips_frame as trips_frame
from chisan.service.vehicles import update_vehicle as update_vehicle

API_KEY_PREFIX = "chisan_"
"""Every API key starts with this; the rest is 32 random bytes (URL-safe base64)."""

ACTIVE = ("confirmed", "completed")
"""Booking statuses that hold their vehicle (the database's overlap guard ignores only ``cancelled``)."""

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


def api_key_row(*, municipality_id: int, name: str, **columns) -> tuple[models.ApiKey, str]:
    """A new (unsaved) API key of the town and its secret; only the secret's hash and prefix are stored.

    ``columns`` are further :class:`~chisan.service.models.ApiKey` columns (scopes, expiry).
    """
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = models.ApiKey(
        municipality_id=municipality_id,
        name=name,
        prefix=secret[: len(API_KEY_PREFIX) + 6],
        key_hash=hash_api_key(secret),
        **columns,
    )
    return key, secret


def _new_key(session: Session, *, municipality_id: int, name: str) -> tuple[models.ApiKey, str]:
    key, secret = api_key_row(municipality_id=municipality_id, name=name)
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
