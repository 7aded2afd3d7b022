"""What the central system writes when charge points talk: boots, status, sessions, meter values, profiles.

Plain synchronous functions over a session (the websocket handlers run them in a worker thread). Times are
tz-aware UTC; energy in Wh and power in W as OCPP sends them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from chisan.service import crud, models

LOGGER = logging.getLogger("chisan.service.ocpp")

OVERDRAW_REPEAT = dt.timedelta(minutes=15)
"""A session's over-draw is reported at most once in this time (the meter keeps sending while it lasts)."""


def parse_time(value: str | None, default: dt.datetime) -> dt.datetime:
    """An OCPP timestamp (RFC 3339) as tz-aware UTC; ``default`` when absent or unreadable."""
    if not value:
        return default
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return default
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


class FrameError(ValueError):
    """A frame (a meter value, a connector id) the central system refuses: answered with a CALLERROR, nothing of
    the frame is stored.

    ``formation`` True: the frame is not what the message's structure allows (an unreadable number or time;
    OCPP 1.6 ``FormationViolation``, 2.0.1 ``FormatViolation``); False: a well-formed field with an impossible
    value (``PropertyConstraintViolation``).
    """

    def __init__(self, message: str, *, formation: bool = False) -> None:
        super().__init__(message)
        self.formation = formation


@dataclass
class Sample:
    """One meter value of a connector: energy register [Wh], power [W], state of charge [0–1] (each optional)."""

    sampled_at: dt.datetime
    energy_wh: float | None = None
    power_w: float | None = None
    soc_fraction: float | None = None


_ENERGY_FACTOR = {"Wh": 1.0, "kWh": 1000.0}
_POWER_FACTOR = {"W": 1.0, "kW": 1000.0}
_READ = ("Energy.Active.Import.Register", "Power.Active.Import", "SoC")


def _sample_time(value: str | None, default: dt.datetime) -> dt.datetime:
    if not value:
        return default
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FrameError(f"timestamp: {value[:40]!r} is not an RFC 3339 time", formation=True) from None
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _number(raw, measurand: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise FrameError(f"{measurand}: {str(raw)[:40]!r} is not a number", formation=True) from None
    if not math.isfinite(value):
        raise FrameError(f"{measurand}: {value} is not a finite number")
    return value


def _record(sample: Sample, measurand: str, value: float, unit: str | None) -> None:
    """Put one sampled value into ``sample``: energy [Wh], power [W] or state of charge [fraction]; other
    measurands are ignored. ``unit`` None means the measurand's default (Wh, W, percent)."""
    if not math.isfinite(value):
        raise FrameError(f"{measurand}: {value} is not a finite number")
    if measurand == "Energy.Active.Import.Register":
        sample.energy_wh = value * _ENERGY_FACTOR.get(unit or "Wh", 1.0)
    elif measurand == "Power.Active.Import":
        sample.power_w = value * _POWER_FACTOR.get(unit or "W", 1.0)
    elif measurand == "SoC":
        if not 0.0 <= value <= 100.0:
            raise FrameError(f"SoC: {value} % is outside 0–100 %")
        sample.soc_fraction = value / 100.0


def parse_meter_values(meter_value: list[dict], default_time: dt.datetime) -> list[Sample]:
    """OCPP 1.6 ``meterValue`` items (snake_case keys, as the ``ocpp`` library passes them) as samples.

    Measurands read: ``Energy.Active.Import.Register`` (the default measurand; Wh or kWh), ``Power.Active.Import``
    (W or kW), ``SoC`` (percent). Phase-specific values and other measurands are ignored (the totals are used).

    Raises
    ------
    FrameError
        A value read is not a finite number, a state of charge is outside 0–100 %, or a timestamp is unreadable.
    """
    out = []
    for item in meter_value or []:
        sample = Sample(sampled_at=_sample_time(item.get("timestamp"), default_time))
        for sv in item.get("sampled_value", []):
            measurand = sv.get("measurand", "Energy.Active.Import.Register")
            if sv.get("phase") or measurand not in _READ:
                continue
            _record(sample, measurand, _number(sv.get("value"), measurand), sv.get("unit"))
        out.append(sample)
    return out


def parse_meter_values_201(meter_value: list[dict], default_time: dt.datetime) -> list[Sample]:
    """OCPP 2.0.1 ``meterValue`` items (snake_case keys) as samples: numbers, with ``unit_of_measure`` and an
    optional power-of-ten ``multiplier``; the same measurands (and errors) as :func:`parse_meter_values`."""
    out = []
    for item in meter_value or []:
        sample = Sample(sampled_at=_sample_time(item.get("timestamp"), default_time))
        for sv in item.get("sampled_value", []):
            measurand = sv.get("measurand", "Energy.Active.Import.Register")
            if sv.get("phase") or measurand not in _READ:
                continue
            unit = sv.get("unit_of_measure") or {}
            multiplier = int(unit.get("multiplier", 0))
            if not -3 <= multiplier <= 6:
                raise FrameError(f"{measurand}: multiplier {multiplier} is outside -3…6")
            value = _number(sv.get("value"), measurand) * 10.0**multiplier
            _record(sample, measurand, value, unit.get("unit"))
        out.append(sample)
    return out


@dataclass(frozen=True)
class MeterBounds:
    """What the central system accepts from a meter.

    Attributes
    ----------
    now : datetime
        The service's time (tz-aware UTC).
    clock_skew_s : float
        A sample may lie this far ahead of ``now``, or before its transaction's start [s].
    power_limit_factor : float
        Largest plausible power as a multiple of the charger's rated power [-].
    """

    now: dt.datetime
    clock_skew_s: float = 300.0
    power_limit_factor: float = 1.5


def check_connector(charger: models.Charger, connector_id: int, *, allow_zero: bool = True) -> None:
    """Refuse a connector (1.6) or EVSE (2.0.1) id the charger does not have (0 is the whole charge point)."""
    low = 0 if allow_zero else 1
    if not low <= connector_id <= charger.connectors:
        raise FrameError(
            f"connectorId: {connector_id} is not a connector of charge point {charger.ocpp_id} "
            f"(allowed {low}–{charger.connectors})"
        )


def check_samples(
    charger: models.Charger, row: models.ChargingSession | None, samples: list[Sample], bounds: MeterBounds
) -> None:
    """Refuse samples no meter of this charger can have taken (nothing is stored when one is refused).

    - a time more than ``clock_skew_s`` ahead of ``now``, or before the start of its transaction by as much;
    - a power below 0 or above ``power_limit_factor`` × the charger's rated power;
    - an energy register below the transaction's start, running backwards (a later sample lower than an earlier
      one, also than the last stored), or above what the charger can have delivered since the transaction
      started: rated power × factor × (elapsed time + ``clock_skew_s``).
    """
    skew = dt.timedelta(seconds=bounds.clock_skew_s)
    p_max_w = charger.max_power_kw * 1000.0 * bounds.power_limit_factor
    last_t = (row.last_sample_at or row.started_at) if row is not None else None
    last_e = row.meter_last_wh if row is not None else None
    for s in sorted(samples, key=lambda x: x.sampled_at):
        if s.sampled_at > bounds.now + skew:
            raise FrameError(
                f"timestamp: {iso(s.sampled_at)} is ahead of the central system's clock ({iso(bounds.now)}) by more "
                f"than {bounds.clock_skew_s:.0f} s"
            )
        if row is not None and s.sampled_at < row.started_at - skew:
            raise FrameError(
                f"timestamp: {iso(s.sampled_at)} is before the start of transaction {row.id} ({iso(row.started_at)})"
            )
        if s.power_w is not None and not 0.0 <= s.power_w <= p_max_w:
            raise FrameError(
                f"Power.Active.Import: {s.power_w:.0f} W is outside 0–{p_max_w:.0f} W "
                f"({bounds.power_limit_factor} × the {charger.max_power_kw} kW charge point {charger.ocpp_id})"
            )
        if s.energy_wh is None:
            continue
        if s.energy_wh < 0:
            raise FrameError(f"Energy.Active.Import.Register: {s.energy_wh} Wh is negative")
        if row is None:
            continue
        if s.energy_wh < row.meter_start_wh:
            raise FrameError(
                f"Energy.Active.Import.Register: {s.energy_wh:.0f} Wh is below the transaction's start "
                f"({row.meter_start_wh:.0f} Wh)"
            )
        if s.sampled_at >= last_t and s.energy_wh < last_e:
            raise FrameError(
                f"Energy.Active.Import.Register: {s.energy_wh:.0f} Wh at {iso(s.sampled_at)} runs backwards "
                f"(already {last_e:.0f} Wh at {iso(last_t)})"
            )
        if s.sampled_at < last_t and s.energy_wh > last_e:
            raise FrameError(
                f"Energy.Active.Import.Register: {s.energy_wh:.0f} Wh at {iso(s.sampled_at)} is above the "
                f"{last_e:.0f} Wh measured later, at {iso(last_t)}"
            )
        elapsed_s = max(0.0, (s.sampled_at - row.started_at).total_seconds())
        possible_wh = p_max_w * (elapsed_s + bounds.clock_skew_s) / 3600.0
        if s.energy_wh - row.meter_start_wh > possible_wh:
            raise FrameError(
                f"Energy.Active.Import.Register: {s.energy_wh - row.meter_start_wh:.0f} Wh since the transaction "
                f"started is more than the {possible_wh:.0f} Wh a {charger.max_power_kw} kW charge point can "
                f"deliver in {elapsed_s:.0f} s"
            )
        if s.sampled_at >= last_t:
            last_t, last_e = s.sampled_at, s.energy_wh


def iso(t: dt.datetime) -> str:
    """A UTC time as ``2025-06-02T06:00:00Z`` (for messages)."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def boot(
    session: Session, *, ocpp_id: str, vendor: str, model: str, firmware: str | None, protocol: str, now: dt.datetime
) -> bool:
    """Record a BootNotification; False when the identity is not registered."""
    charger = crud.get_charger_by_ocpp_id(session, ocpp_id=ocpp_id)
    if charger is None:
        return False
    charger.vendor, charger.model, charger.firmware_version = vendor, model, firmware
    charger.protocol, charger.boot_at, charger.last_seen_at = protocol, now, now
    session.commit()
    return True


def seen(session: Session, *, ocpp_id: str, now: dt.datetime) -> None:
    """Record that a charge point spoke (Heartbeat)."""
    session.execute(sa.update(models.Charger).where(models.Charger.ocpp_id == ocpp_id).values(last_seen_at=now))
    session.commit()


def status(
    session: Session, *, ocpp_id: str, connector_id: int, status: str, error_code: str, now: dt.datetime
) -> None:
    """Record a StatusNotification (connector 0 is the whole charge point; the status of the last one wins)."""
    session.execute(
        sa.update(models.Charger)
        .where(models.Charger.ocpp_id == ocpp_id)
        .values(status=status, error_code=None if error_code == "NoError" else error_code, last_seen_at=now)
    )
    session.commit()


def _owner_of_tag(session: Session, municipality_id: int, id_tag: str):
    vehicle = session.scalars(
        sa.select(models.Vehicle).where(
            models.Vehicle.municipality_id == municipality_id, models.Vehicle.id_tag == id_tag
        )
    ).first()
    member = None
    if vehicle is None:
        member = session.scalars(
            sa.select(models.Member).where(
                models.Member.municipality_id == municipality_id, models.Member.id_tag == id_tag
            )
        ).first()
    return vehicle, member


def authorize(session: Session, *, ocpp_id: str, id_tag: str) -> bool:
    """An idTag is accepted when it is a car's or a member's of the charger's town."""
    charger = crud.get_charger_by_ocpp_id(session, ocpp_id=ocpp_id)
    if charger is None:
        return False
    vehicle, member = _owner_of_tag(session, charger.municipality_id, id_tag)
    return vehicle is not None or member is not None


def start_transaction(
    session: Session,
    *,
    ocpp_id: str,
    connector_id: int,
    id_tag: str,
    meter_start_wh: float,
    started_at: dt.datetime,
    transaction_ref: str | None = None,
) -> tuple[int, bool, int | None]:
    """Open a charging session; returns (session id, idTag accepted, vehicle id).

    The car is the one whose idTag started the session (car-sharing cars carry their own charging card); its
    energy at the start is the service's best estimate, so meter values can update its state of charge.
    ``transaction_ref`` is the charging station's own transaction id (OCPP 2.0.1); starting a transaction that is
    already open (a repeated message) returns the open session.
    """
    charger = crud.get_charger_by_ocpp_id(session, ocpp_id=ocpp_id)
    if charger is None:
        raise LookupError(f"unknown charge point {ocpp_id!r}")
    check_connector(charger, connector_id, allow_zero=False)
    if transaction_ref is not None:
        existing = find_session(session, charger=charger, transaction_ref=transaction_ref)
        if existing is not None:
            return existing.id, True, existing.vehicle_id
    vehicle, member = _owner_of_tag(session, charger.municipality_id, id_tag)
    soc0 = None
    if vehicle is not None:
        soc0 = crud.energy_now_kwh(session, vehicle=vehicle, now=started_at) / vehicle.usable_kwh
    row = models.ChargingSession(
        municipality_id=charger.municipality_id,
        charger_id=charger.id,
        connector_id=connector_id,
        transaction_ref=transaction_ref,
        vehicle_id=vehicle.id if vehicle else None,
        id_tag=id_tag[:20],
        status="active",
        meter_start_wh=meter_start_wh,
        meter_last_wh=meter_start_wh,
        soc_start_fraction=soc0,
        started_at=started_at,
        last_sample_at=started_at,
    )
    session.add(row)
    charger.last_seen_at = started_at
    session.commit()
    return row.id, (vehicle is not None or member is not None), row.vehicle_id


def find_session(
    session: Session, *, charger: models.Charger, transaction_id: int | None = None, transaction_ref: str | None = None
) -> models.ChargingSession | None:
    """A session of ``charger`` by its OCPP 1.6 transaction id (the session id) or 2.0.1 transaction name."""
    if transaction_ref is not None:
        return session.scalars(
            sa.select(models.ChargingSession).where(
                models.ChargingSession.charger_id == charger.id,
                models.ChargingSession.transaction_ref == transaction_ref,
            )
        ).first()
    if transaction_id is not None:
        row = session.get(models.ChargingSession, transaction_id)
        return row if row is not None and row.charger_id == charger.id else None
    return None


def _update_soc(session: Session, row: models.ChargingSession, sample_time: dt.datetime, soc: float | None) -> None:
    if row.vehicle_id is None:
        return
    vehicle = session.get(models.Vehicle, row.vehicle_id)
    if soc is None and row.soc_start_fraction is not None:
        soc = row.soc_start_fraction + row.energy_wh / 1000.0 * vehicle.charge_efficiency / vehicle.usable_kwh
    if soc is not None and sample_time >= vehicle.soc_measured_at:
        vehicle.soc_fraction = min(1.0, max(0.0, soc))
        vehicle.soc_measured_at = sample_time


def active_profile(session: Session, *, session_id: int) -> models.ChargingProfile | None:
    """The last profile the charge point accepted for a session."""
    return session.scalars(
        sa.select(models.ChargingProfile)
        .where(models.ChargingProfile.session_id == session_id, models.ChargingProfile.status == "Accepted")
        .order_by(models.ChargingProfile.id.desc())
        .limit(1)
    ).first()


def meter_values(
    session: Session,
    *,
    ocpp_id: str,
    connector_id: int,
    transaction_id: int | None,
    samples: list[Sample],
    overdraw_fraction: float,
    overdraw_w: float,
    transaction_ref: str | None = None,
    bounds: MeterBounds | None = None,
) -> list[models.Alert]:
    """Store meter values, update the session and the car's state of charge, and detect over-draw.

    A charger draws more than its profile when its power — measured, or from the energy register between two
    samples — exceeds the profile's limit at that time × (1 + ``overdraw_fraction``) + ``overdraw_w``.
    Returns the alerts raised.

    Raises
    ------
    FrameError
        With ``bounds``: the connector is not the charger's or a sample is impossible (:func:`check_samples`);
        nothing is stored then.
    """
    charger = crud.get_charger_by_ocpp_id(session, ocpp_id=ocpp_id)
    if charger is None:
        return []
    row = find_session(session, charger=charger, transaction_id=transaction_id, transaction_ref=transaction_ref)
    if bounds is not None:
        check_connector(charger, connector_id)
        check_samples(charger, row, samples, bounds)
    profile = active_profile(session, session_id=row.id) if row is not None else None
    alerts = []
    for s in sorted(samples, key=lambda x: x.sampled_at):
        power = s.power_w
        if power is None and s.energy_wh is not None and row is not None and row.last_sample_at is not None:
            seconds = (s.sampled_at - row.last_sample_at).total_seconds()
            if seconds > 0:
                power = (s.energy_wh - row.meter_last_wh) * 3600.0 / seconds
        session.add(
            models.MeterSample(
                municipality_id=charger.municipality_id,
                charger_id=charger.id,
                connector_id=connector_id,
                session_id=row.id if row else None,
                sampled_at=s.sampled_at,
                energy_wh=s.energy_wh,
                power_w=power,
                soc_fraction=s.soc_fraction,
            )
        )
        if row is None:
            continue
        if s.energy_wh is not None:
            row.meter_last_wh = max(row.meter_last_wh, s.energy_wh)
        if power is not None:
            row.last_power_w = power
        row.last_sample_at = max(row.last_sample_at or s.sampled_at, s.sampled_at)
        _update_soc(session, row, s.sampled_at, s.soc_fraction)
        limit = profile.limit_w_at(s.sampled_at) if profile is not None else None
        if power is not None and limit is not None and power > limit * (1 + overdraw_fraction) + overdraw_w:
            recent = session.scalar(
                sa.select(sa.func.count())
                .select_from(models.Alert)
                .where(
                    models.Alert.session_id == row.id,
                    models.Alert.kind == "overdraw",
                    models.Alert.created_at > s.sampled_at - OVERDRAW_REPEAT,
                )
            )
            if not recent:
                alert = models.Alert(
                    municipality_id=charger.municipality_id,
                    kind="overdraw",
                    charger_id=charger.id,
                    session_id=row.id,
                    measured_w=round(power, 1),
                    limit_w=limit,
                    created_at=s.sampled_at,
                    message=f"charger {ocpp_id} connector {connector_id} draws {power:.0f} W, above the "
                    f"{limit:.0f} W its accepted charging profile allows (transaction {row.id})",
                )
                session.add(alert)
                session.flush()
                alerts.append(alert)
    charger.last_seen_at = (
        max(charger.last_seen_at or samples[-1].sampled_at, samples[-1].sampled_at)
        if samples
        else (charger.last_seen_at)
    )
    session.commit()
    return alerts


def stop_transaction(
    session: Session,
    *,
    ocpp_id: str,
    transaction_id: int | None,
    meter_stop_wh: float | None,
    stopped_at: dt.datetime,
    reason: str | None,
    transaction_ref: str | None = None,
    bounds: MeterBounds | None = None,
) -> bool:
    """Close a session (also one opened before a restart of the service); False when it is unknown.

    Without a final meter reading (``meter_stop_wh`` None) the last one received closes it. With ``bounds``, an
    impossible final reading (see :func:`check_samples`) is not used either, and a stop time out of bounds is
    replaced by the service's time: the transaction is closed all the same (a charger repeats a refused stop
    for ever), but a bad value never reaches the car's state of charge.
    """
    charger = crud.get_charger_by_ocpp_id(session, ocpp_id=ocpp_id)
    if charger is None:
        return False
    row = find_session(session, charger=charger, transaction_id=transaction_id, transaction_ref=transaction_ref)
    if row is None:
        return False
    if bounds is not None:
        skew = dt.timedelta(seconds=bounds.clock_skew_s)
        if not row.started_at - skew <= stopped_at <= bounds.now + skew:
            LOGGER.warning("charge point %s: stop time %s of transaction %s out of bounds", ocpp_id, stopped_at, row.id)
            stopped_at = max(bounds.now, row.started_at)
        if meter_stop_wh is not None:
            try:
                check_samples(charger, row, [Sample(sampled_at=stopped_at, energy_wh=meter_stop_wh)], bounds)
            except FrameError as err:
                LOGGER.warning("charge point %s: final meter value not used: %s", ocpp_id, err)
                meter_stop_wh = None
    meter_stop_wh = row.meter_last_wh if meter_stop_wh is None else meter_stop_wh
    row.meter_stop_wh = meter_stop_wh
    row.meter_last_wh = max(row.meter_last_wh, meter_stop_wh)
    row.stopped_at = stopped_at
    row.stop_reason = reason
    row.status = "stopped"
    _update_soc(session, row, stopped_at, None)
    session.commit()
    return True


def record_profile(
    session: Session,
    *,
    session_id: int,
    schedule_id: int | None,
    start_at: dt.datetime,
    step_seconds: int,
    limits_w: list[float],
    status: str,
    now: dt.datetime,
) -> models.ChargingProfile:
    row = session.get(models.ChargingSession, session_id)
    profile = models.ChargingProfile(
        municipality_id=row.municipality_id,
        session_id=session_id,
        schedule_id=schedule_id,
        start_at=start_at,
        step_seconds=step_seconds,
        limits_w=limits_w,
        status=status,
        sent_at=now,
    )
    session.add(profile)
    session.commit()
    return profile


@dataclass
class ProfilePlan:
    """A profile to send: the session it belongs to, where, and the limits per step [W]."""

    session_id: int
    transaction_ref: str | None
    ocpp_id: str
    connector_id: int
    schedule_id: int
    start_at: dt.datetime
    step_seconds: int
    limits_w: list[float]


def profiles_to_send(
    session: Session,
    *,
    municipality_id: int | None = None,
    ocpp_id: str | None = None,
    session_id: int | None = None,
    now: dt.datetime,
) -> list[ProfilePlan]:
    """Profiles for the active sessions (of a town, a charger or one session) from the latest schedule that keeps
    every limit (a schedule that failed its check is stored, for the operator, but never sent).

    Each profile starts at the step of the schedule that contains ``now`` and carries the car's planned power
    for the rest of the horizon, in W.
    """
    stmt = (
        sa.select(models.ChargingSession, models.Charger.ocpp_id)
        .join(models.Charger, models.Charger.id == models.ChargingSession.charger_id)
        .where(models.ChargingSession.status == "active", models.ChargingSession.vehicle_id.is_not(None))
    )
    if municipality_id is not None:
        stmt = stmt.where(models.ChargingSession.municipality_id == municipality_id)
    if ocpp_id is not None:
        stmt = stmt.where(models.Charger.ocpp_id == ocpp_id)
    if session_id is not None:
        stmt = stmt.where(models.ChargingSession.id == session_id)
    out = []
    latest: dict[int, models.Schedule | None] = {}
    for row, cp_id in session.execute(stmt).all():
        if row.municipality_id not in latest:
            latest[row.municipality_id] = crud.latest_schedule(
                session, municipality_id=row.municipality_id, limits_ok=True
            )
        schedule = latest[row.municipality_id]
        if schedule is None:
            continue
        plan = session.scalars(
            sa.select(models.ScheduleVehicle).where(
                models.ScheduleVehicle.schedule_id == schedule.id, models.ScheduleVehicle.vehicle_id == row.vehicle_id
            )
        ).first()
        if plan is None:
            continue
        step = schedule.step_minutes * 60
        k = max(0, int((now - schedule.start_at).total_seconds() // step))
        if k >= len(plan.charge_kw):
            continue
        limits = [float(round(kw * 1000.0)) for kw in plan.charge_kw[k:]]
        out.append(
            ProfilePlan(
                session_id=row.id,
                transaction_ref=row.transaction_ref,
                ocpp_id=cp_id,
                connector_id=row.connector_id,
                schedule_id=schedule.id,
                start_at=schedule.start_at + dt.timedelta(seconds=k * step),
                step_seconds=step,
                limits_w=limits,
            )
        )
    return out


def active_sessions(session: Session, *, ocpp_id: str) -> list[int]:
    """Ids of the active sessions of a charger (resumed after a restart of the service)."""
    return list(
        session.scalars(
            sa.select(models.ChargingSession.id)
            .join(models.Charger, models.Charger.id == models.ChargingSession.charger_id)
            .where(models.Charger.ocpp_id == ocpp_id, models.ChargingSession.status == "active")
        ).all()
    )


def auth_key_hash(session: Session, *, ocpp_id: str) -> tuple[bool, str | None]:
    """Whether a charger has this identity, and the hash of its authorization key (None: none set)."""
    row = session.execute(sa.select(models.Charger.auth_key_hash).where(models.Charger.ocpp_id == ocpp_id)).first()
    session.commit()  # end the read at once (SQLite)
    return (row is not None, row[0] if row is not None else None)
