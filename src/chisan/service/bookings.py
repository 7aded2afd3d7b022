"""The booking life cycle: admission of a trip to a car, refusals with alternatives, changes, returns, late returns.

Keyword-only functions over a SQLAlchemy session, as in :mod:`chisan.service.crud` (which re-exports them). The
disaster mode (:mod:`chisan.service.disaster`) is checked here: a car called to the shelters is not booked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chisan.service import admission, disaster, models, schemas
from chisan.service.booking_limits import (
    ADMISSION_STEP_HOURS,
    DEFAULT_LIMITS,
    PAST_TOLERANCE,
    BookingLimits,
    hours_text,
)
from chisan.service.errors import BookingRefusedError, ConflictError, FieldError, HeaderError
from chisan.service.rows import one as _one
from chisan.service.rows import ref as _ref
from chisan.service.vehicles import (
    battery_at_station,
    battery_of,
    effective_end,
    energy_now_kwh,
    list_vehicles,
    rows_frame,
    station_power_columns,
    trip_energy_for,
    trips_frame,
)

# --- the car of a booking and how a trip fits it


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
            *station_power_columns(v.station_id),
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
    return row, battery_at_station(row, *row[-4:])


def _vehicle_bookings(session: Session, *, vehicle_id: int, after: dt.datetime, exclude: int | None = None):
    stmt = sa.select(models.Booking).where(
        models.Booking.vehicle_id == vehicle_id,
        models.Booking.status == "confirmed",
        sa.or_(models.Booking.end_at > after, models.Booking.expected_return_at > after),
    )
    if exclude is not None:
        stmt = stmt.where(models.Booking.id != exclude)
    return session.scalars(stmt.order_by(models.Booking.start_at)).all()


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
        return rows_frame(self.rows)


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
    bookings = [b for b in recent if b.status == "confirmed" and effective_end(b) > now and b.id != exclude_booking]
    free = not any(b.start_at < end and start < effective_end(b) for b in bookings)
    battery = battery or battery_of(session, vehicle=vehicle)
    energy = trip_energy_for(municipality, vehicle, start=start, end=end, distance_km=distance_km)
    rows = [(b.id, b.start_at, effective_end(b), b.trip_energy_kwh) for b in bookings]
    rows.append((-1, start, end, energy))
    ahead = [r[3] for r in rows if r[1] >= now]
    if admission.serves_without_charging(battery, e_now, ahead):
        ok, need = True, battery.reserve_kwh + sum(ahead)
    else:
        check = admission.energy_check(battery, e_now, [rows_frame(rows)], now=now, dt_hours=ADMISSION_STEP_HOURS)
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


def _station_called_to_shelters(held, *, station_id: int, vehicle_id: int) -> BookingRefusedError:
    """The refusal of a booking at a station whose every car in service is called to the shelters (disaster mode).

    ``held`` is :func:`chisan.service.disaster.called_cars`; its refusal for one of the cars, ``vehicle_id``, is
    said of the station (field ``station_id``, reason ``disaster_mode``).
    """
    refused = held.refusal(vehicle_id)
    refused.refusal.reason = "disaster_mode"
    refused.refusal.field = "station_id"
    refused.refusal.message = (
        f"station_id: every car of station {station_id} in service is called to the shelters; "
        + refused.message.removeprefix("vehicle_id: ")
    )
    refused.message = refused.refusal.message
    return refused


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
                raise _station_called_to_shelters(held, station_id=data.station_id, vehicle_id=called_here[0])
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
            f"expected_return_at: {expected_return_at.isoformat()} is more than {hours_text(limits.max_span)} h after "
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
