"""Tables of the operations service (SQLAlchemy 2.0 declarative models).

Every row that belongs to a town carries ``municipality_id`` (the tenant); the API reads and writes only the
rows of the municipality its key belongs to. Quantities carry their unit in their column name (``_kwh``,
``_kw``, ``_w``, ``_wh``, ``_km``, ``_fraction``, ``_deg``, ``_per_kwh``); every time is a UTC instant
(``timestamptz`` on PostgreSQL, ISO text in UTC on SQLite, tz-aware UTC in Python).

The tables are created and changed only by the Alembic migrations (``chisan/service/alembic``). Two guarantees
live in the migrations because the model layer cannot express them on both databases:

- no two bookings of one vehicle overlap (cancelled ones aside): an exclusion constraint
  ``EXCLUDE USING gist (vehicle_id WITH =, tstzrange(start_at, end_at) WITH &&)`` on PostgreSQL (btree_gist),
  and ``BEFORE INSERT``/``BEFORE UPDATE`` triggers that abort with ``booking_overlap`` on SQLite;
- :data:`DATABASE_ONLY_OBJECTS` names them, so that comparing the models with the database ignores them.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

BOOKING_OVERLAP = "booking_overlap"
"""Name of the database guarantee that two active bookings of one vehicle never overlap (and its error text)."""

DATABASE_ONLY_OBJECTS = frozenset(
    {"ex_bookings_no_overlap", "trg_bookings_no_overlap_insert", "trg_bookings_no_overlap_update"}
)
"""Constraints and triggers created by the migrations only (see the module docstring)."""

BOOKING_STATUSES = ("confirmed", "completed", "cancelled")
"""Booking life cycle; every status but ``cancelled`` holds its vehicle for [start_at, end_at)."""

SESSION_STATUSES = ("active", "stopped")
"""Charging session (OCPP transaction) states."""


class UTCDateTime(TypeDecorator):
    """A tz-aware UTC instant: ``timestamptz`` on PostgreSQL, UTC text on SQLite.

    Naive datetimes are refused (they would be ambiguous); aware ones are converted to UTC before storing.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; the database stores tz-aware instants only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so that migrations name every constraint."""

    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Municipality(Base):
    """A town (the tenant): where it is, its installed PV, storage and second-life storage, grid prices and emission
    factor."""

    __tablename__ = "municipalities"
    # server defaults are read back when asked for, not in the INSERT's RETURNING (which would name the 0008
    # columns on a database before 0008)
    __mapper_args__: ClassVar[dict] = {"eager_defaults": False}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Tokyo")
    latitude_deg: Mapped[float] = mapped_column(sa.Float)
    longitude_deg: Mapped[float] = mapped_column(sa.Float)
    pv_kw: Mapped[float] = mapped_column(sa.Float, default=0.0)
    storage_kwh: Mapped[float] = mapped_column(sa.Float, default=0.0)
    storage_kw: Mapped[float] = mapped_column(sa.Float, default=0.0)
    # second-life storage: the retired car packs a plan puts at the town's sites (chisan.plan.second_life; 0008);
    # defaults on the server only, so that an INSERT that does not name them also runs on a database before 0008
    second_life_kwh: Mapped[float] = mapped_column(sa.Float, server_default=sa.text("0"))
    second_life_kw: Mapped[float] = mapped_column(sa.Float, server_default=sa.text("0"))
    second_life_round_trip_efficiency_fraction: Mapped[float] = mapped_column(sa.Float, server_default=sa.text("0.85"))
    grid_connection_limit_kw: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    # the highest 30-minute demand the schedules drew at the town's one meter: the contract kW of a peak-demand
    # tariff so far (0009; chisan.service.site_prices), on the server only as the 0008 columns
    contract_kw: Mapped[float] = mapped_column(sa.Float, server_default=sa.text("0"))
    import_price_per_kwh: Mapped[float] = mapped_column(sa.Float, default=30.0)
    export_price_per_kwh: Mapped[float] = mapped_column(sa.Float, default=0.0)
    emission_factor_kg_per_kwh: Mapped[float] = mapped_column(sa.Float, default=0.4535)
    carbon_price_per_kg: Mapped[float] = mapped_column(sa.Float, default=0.0)
    currency: Mapped[str] = mapped_column(sa.String(3), default="JPY")
    feed_contact_email: Mapped[str] = mapped_column(sa.String(200), default="operator@example.org")
    scenario_path: Mapped[str | None] = mapped_column(sa.String(1000), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)


API_KEY_SCOPES_ALL = "read operate town_admin"
"""``api_keys.scopes`` of a key that may do everything (the first key of a town, and every key made before
scopes existed): space-separated, as OAuth 2.0 writes scopes (RFC 6749 §3.3)."""


class ApiKey(Base):
    """An API key of a municipality; only the SHA-256 hash of the secret is stored.

    ``scopes`` is space-separated (see :mod:`chisan.service.api_keys`); a key past ``expires_at`` or with
    ``revoked_at`` set is refused; ``last_used_at`` is the last request made with it, to within a minute.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scopes: Mapped[str] = mapped_column(sa.String(100), default=API_KEY_SCOPES_ALL, server_default=API_KEY_SCOPES_ALL)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Station(Base):
    """A car-sharing base with chargers and a grid connection."""

    __tablename__ = "stations"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "name"),)
    __mapper_args__: ClassVar[dict] = {"eager_defaults": False}  # as municipalities: no 0009 column in RETURNING

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    latitude_deg: Mapped[float] = mapped_column(sa.Float)
    longitude_deg: Mapped[float] = mapped_column(sa.Float)
    address: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    charger_kw: Mapped[float] = mapped_column(sa.Float, default=6.0)
    connection_limit_kw: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    parking_spaces: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    # the highest 30-minute demand the schedules drew at the station's own meter (per-site meters; 0009) [kW]
    contract_kw: Mapped[float] = mapped_column(sa.Float, server_default=sa.text("0"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)


class Charger(Base):
    """A charge point, known to the central system by its OCPP identity (the last part of its URL)."""

    __tablename__ = "chargers"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(sa.ForeignKey("stations.id"), index=True)
    ocpp_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    max_power_kw: Mapped[float] = mapped_column(sa.Float, default=6.0)
    connectors: Mapped[int] = mapped_column(sa.Integer, default=1)
    vendor: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    model: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    firmware_version: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    protocol: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(30), default="Unknown")
    error_code: Mapped[str | None] = mapped_column(sa.String(50), nullable=True)
    boot_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    # OCPP security profiles 1 and 2: the scrypt hash of the charger's authorization key (chisan.service.charger_keys)
    auth_key_hash: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    auth_key_set_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Vehicle(Base):
    """A shared EV: battery and charging limits, and the last known state of charge."""

    __tablename__ = "vehicles"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "name"), sa.UniqueConstraint("municipality_id", "id_tag"))

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(sa.ForeignKey("stations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    model: Mapped[str] = mapped_column(sa.String(100))
    usable_kwh: Mapped[float] = mapped_column(sa.Float)
    reserve_kwh: Mapped[float] = mapped_column(sa.Float)
    max_charge_kw: Mapped[float] = mapped_column(sa.Float)
    charge_efficiency: Mapped[float] = mapped_column(sa.Float)
    consumption_kwh_per_km: Mapped[float] = mapped_column(sa.Float)
    id_tag: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    soc_fraction: Mapped[float] = mapped_column(sa.Float, default=1.0)
    soc_measured_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    is_disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    @property
    def energy_kwh(self) -> float:
        """Last known battery energy [kWh] = SOC × usable energy."""
        return self.soc_fraction * self.usable_kwh


class Member(Base):
    """A resident who books cars (and may hold a charging card)."""

    __tablename__ = "members"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "id_tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    id_tag: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)


class Booking(Base):
    """A booking of one vehicle for [start_at, end_at); never overlaps another active booking of the vehicle."""

    __tablename__ = "bookings"
    __table_args__ = (
        sa.CheckConstraint("end_at > start_at", name="end_after_start"),
        sa.CheckConstraint("distance_km >= 0", name="distance_non_negative"),
        sa.Index("ix_bookings_vehicle_id_start_at", "vehicle_id", "start_at"),
        sa.Index("ix_bookings_municipality_id_start_at", "municipality_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"))
    vehicle_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicles.id"))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), nullable=True, index=True)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    distance_km: Mapped[float] = mapped_column(sa.Float)
    trip_energy_kwh: Mapped[float] = mapped_column(sa.Float)
    status: Mapped[str] = mapped_column(sa.String(20), default="confirmed")
    expected_return_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)


class ChargingSession(Base):
    """An OCPP transaction.

    OCPP 1.6 charge points get the session's ``id`` as their ``transactionId``; OCPP 2.0.1 charging stations name
    their transactions themselves (``transaction_ref``, unique per charger).
    """

    __tablename__ = "charging_sessions"
    __table_args__ = (
        sa.Index("ix_charging_sessions_charger_id_transaction_ref", "charger_id", "transaction_ref", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    charger_id: Mapped[int] = mapped_column(sa.ForeignKey("chargers.id"), index=True)
    connector_id: Mapped[int] = mapped_column(sa.Integer)
    transaction_ref: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    vehicle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vehicles.id"), nullable=True, index=True)
    id_tag: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default="active")
    meter_start_wh: Mapped[float] = mapped_column(sa.Float)
    meter_last_wh: Mapped[float] = mapped_column(sa.Float)
    meter_stop_wh: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    soc_start_fraction: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    last_power_w: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    last_sample_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    stop_reason: Mapped[str | None] = mapped_column(sa.String(30), nullable=True)

    @property
    def energy_wh(self) -> float:
        """Energy delivered so far [Wh] (meter now − meter at start)."""
        end = self.meter_stop_wh if self.meter_stop_wh is not None else self.meter_last_wh
        return max(0.0, end - self.meter_start_wh)


class MeterSample(Base):
    """One sampled meter value of a connector (energy register, power, state of charge)."""

    __tablename__ = "meter_samples"
    __table_args__ = (sa.Index("ix_meter_samples_charger_id_sampled_at", "charger_id", "sampled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    charger_id: Mapped[int] = mapped_column(sa.ForeignKey("chargers.id"))
    connector_id: Mapped[int] = mapped_column(sa.Integer)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("charging_sessions.id"), nullable=True, index=True)
    sampled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    energy_wh: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    power_w: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    soc_fraction: Mapped[float | None] = mapped_column(sa.Float, nullable=True)


class ChargingProfile(Base):
    """A charging profile sent to a charge point (SetChargingProfile), with the answer it gave."""

    __tablename__ = "charging_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("charging_sessions.id"), index=True)
    schedule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("schedules.id"), nullable=True)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    step_seconds: Mapped[int] = mapped_column(sa.Integer)
    limits_w: Mapped[list] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(20))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    def limit_w_at(self, when: dt.datetime) -> float | None:
        """The limit in force at ``when`` [W] (None outside the profile)."""
        k = int((when - self.start_at).total_seconds() // self.step_seconds)
        if 0 <= k < len(self.limits_w):
            return float(self.limits_w[k])
        return None


class Alert(Base):
    """Something the operator must see: a charger over its profile, a fallback schedule, a booking at risk."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    message: Mapped[str] = mapped_column(sa.Text)
    charger_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chargers.id"), nullable=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("charging_sessions.id"), nullable=True)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id"), nullable=True)
    measured_w: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    limit_w: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)


class Schedule(Base):
    """One computed charging schedule of a town (a rolling window of ``n_steps`` × ``step_minutes``)."""

    __tablename__ = "schedules"
    __table_args__ = (sa.Index("ix_schedules_municipality_id_start_at", "municipality_id", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    step_minutes: Mapped[int] = mapped_column(sa.Integer)
    n_steps: Mapped[int] = mapped_column(sa.Integer)
    method: Mapped[str] = mapped_column(sa.String(20))
    solver_status: Mapped[str] = mapped_column(sa.String(50))
    solve_seconds: Mapped[float] = mapped_column(sa.Float)
    verified: Mapped[bool] = mapped_column(sa.Boolean)
    limits_ok: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    objective: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    pv_kw: Mapped[list] = mapped_column(sa.JSON)
    import_price_per_kwh: Mapped[list] = mapped_column(sa.JSON)
    grid_import_kw: Mapped[list] = mapped_column(sa.JSON)
    at_risk_booking_ids: Mapped[list] = mapped_column(sa.JSON)

    vehicles: Mapped[list[ScheduleVehicle]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    stations: Mapped[list[ScheduleStation]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class ScheduleVehicle(Base):
    """A vehicle's part of a schedule: charging power at the plug and battery energy per step."""

    __tablename__ = "schedule_vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    vehicle_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicles.id", ondelete="CASCADE"), index=True)
    charge_kw: Mapped[list] = mapped_column(sa.JSON)
    energy_kwh: Mapped[list] = mapped_column(sa.JSON)


class ScheduleStation(Base):
    """A station's part of a schedule: charging power, the PV and grid power that supply it, and its limit."""

    __tablename__ = "schedule_stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(sa.ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    charge_kw: Mapped[list] = mapped_column(sa.JSON)
    pv_kw: Mapped[list] = mapped_column(sa.JSON)
    grid_kw: Mapped[list] = mapped_column(sa.JSON)
    limit_kw: Mapped[float | None] = mapped_column(sa.Float, nullable=True)


class PvForecast(Base):
    """A supplied PV forecast of the town's installed PV [kW] per step (overrides the scenario's weather)."""

    __tablename__ = "pv_forecasts"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    pv_kw: Mapped[float] = mapped_column(sa.Float)


class IdempotencyKey(Base):
    """The answer to a booking request made with an ``Idempotency-Key`` header, so that a repeated request gets
    the same answer (and books once): the key, a hash of the request's body, and the stored answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(200))
    request_sha256: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int] = mapped_column(sa.Integer)
    response_json: Mapped[str] = mapped_column(sa.Text)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)


class DisasterMode(Base):
    """A town's disaster mode (issue 12): the shelters kept supplied by called cars, which are kept charged.

    One row per town, kept when the mode is switched off (``active`` false, ``ended_at`` set) so that the last
    activation stays on record. ``shelters`` is a JSON list of ``{"name", "critical_load_kw"}``; the cars called
    are those of ``called_station_ids`` and the ids in ``called_vehicle_ids``.
    """

    __tablename__ = "disaster_modes"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipalities.id", ondelete="CASCADE"), unique=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    shelters: Mapped[list] = mapped_column(sa.JSON)
    called_station_ids: Mapped[list] = mapped_column(sa.JSON)
    called_vehicle_ids: Mapped[list] = mapped_column(sa.JSON)
    v2h_kw_per_car: Mapped[float] = mapped_column(sa.Float)
    v2h_efficiency_fraction: Mapped[float] = mapped_column(sa.Float)
    reserve_soc_fraction: Mapped[float] = mapped_column(sa.Float)
