"""Settings of the operations service, from keyword arguments or ``CHISAN_*`` environment variables.

Every setting has a default that runs a small town on one machine: SQLite in ``./chisan.db``, the REST API on
port 8000, the OCPP central system on port 9000, a 36 h schedule at 15 min recomputed every 15 min.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ENV_PREFIX = "CHISAN_"
"""Environment variables ``CHISAN_<FIELD>`` (upper case) override the defaults, e.g. ``CHISAN_DATABASE_URL``."""

DEFAULT_DATABASE_URL = "sqlite:///chisan.db"
"""A SQLite file in the working folder, created on first start."""


class Settings(BaseModel):
    """Settings of one service process.

    Attributes
    ----------
    database_url : str
        SQLAlchemy URL: ``sqlite:///path.db`` or ``postgresql://user@host:port/db`` (psycopg 3 is used).
    host, port : str, int
        Where the REST API listens.
    ocpp_host, ocpp_port : str, int
        Where the OCPP central system (websockets, ``ws://host:port/<charge point id>``) listens.
    scenario_path : Path or None
        A scenario TOML: its municipality, stations and fleet are loaded into the database on start (once), and
        its weather gives the PV forecast.
    plan_path : Path or None
        A ``chisan plan`` output folder: its town is loaded on start (once) with the planned stations, cars,
        chargers, PV and storage, and its scenario's tariffs and weather (:mod:`chisan.service.from_plan`).
        Exclusive with ``scenario_path``.
    admin_token : str or None
        Token of the ``/api/v1/admin`` routes (creating municipalities); None disables them.
    horizon_hours : float
        Length of the rolling charging schedule [h].
    step_minutes : int
        Step of the schedule [min].
    solver_time_limit_s : float
        Time budget of HiGHS for one schedule [s]; beyond it the least-laxity-first fallback is used.
    schedule_interval_s : float
        Seconds between two scheduled runs (0 = only on request).
    heartbeat_interval_s : int
        Heartbeat interval given to charge points in BootNotification [s].
    overdraw_tolerance_fraction, overdraw_tolerance_w : float
        A charger draws more than its profile when its measured power exceeds limit × (1 + fraction) + w [W].
    pv_credit_per_kwh : float
        Preference for local PV in the schedule [currency/kWh]: a credit per kWh of PV used, so that surplus PV
        tops up cars even when it saves no import cost.
    workers : int
        Processes serving the REST API (Linux SO_REUSEPORT); the first also runs the scheduler (OCPP runs in a
        process of its own).
    access_log : bool
        Log every HTTP request (uvicorn's access log).
    gbfs_secret : str
        Secret salt of the rotating ``vehicle_id`` of the GBFS feeds (never published); default a random one per
        start, shared by the processes of one service. Set it to keep ids stable across restarts.
    threads : int
        Worker threads per process for the API's database work. Few are enough (a request holds one for a few
        milliseconds) and more only make them fight for Python's interpreter lock.
    rate_limit_per_key_per_s : int
        Requests per second one API key may make (any 1 s window; 0 = no limit) [1/s]. Beyond it: 429 with
        ``Retry-After``.
    rate_limit_per_address_per_s : int
        Requests per second one client address may make, on every route (0 = no limit) [1/s]. Behind a reverse
        proxy, let uvicorn take the address from ``X-Forwarded-For`` (``--forwarded-allow-ips``).
    rate_limit_storage_uri : str
        Where the counts live (a ``limits`` storage URI). ``memory://``: in each process, so with ``workers`` > 1
        a client may make up to ``workers`` × the limit (the kernel spreads connections over the processes);
        a shared storage (e.g. ``redis://host:6379``, needs the ``redis`` package) makes the limit exact.
    ocpp_security_profile : int
        OCPP security profile of the central system: 1 (default) HTTP Basic authentication of each charge point
        with its authorization key, 2 the same over TLS (``wss://``, needs ``ocpp_tls_cert_path`` and
        ``ocpp_tls_key_path``), 0 no authentication (development only: any client knowing an identity is let in).
    ocpp_tls_cert_path, ocpp_tls_key_path : Path or None
        PEM certificate (chain) and private key of the central system's TLS server (security profile 2).
    ocpp_auth_failures_per_minute : int
        Failed authentications allowed per charge point identity and per client address in 60 s; beyond it the
        handshake is answered 429 until the window has passed.
    ocpp_clock_skew_s : float
        How far a meter value's timestamp may lie ahead of the service's clock, or before its transaction's start,
        before it is refused [s].
    ocpp_power_limit_factor : float
        Largest plausible metered power as a multiple of the charger's rated power [-]; above it the meter value is
        refused.
    booking_horizon_days : float
        A booking starts at most this far ahead [days].
    booking_max_hours : float
        A booking lasts at most this long [h].
    max_body_bytes : int
        Largest request body [bytes]; a larger one is refused with 413 before it is parsed.
    max_header_bytes : int
        Largest total size of a request's headers [bytes]; larger ones are refused with 431.
    request_budget_s : float
        Time budget of a booking's admission [s]; beyond it the request is answered 503 (nothing stored).
    clock_skew_s : float
        How far in the future a reported time (telemetry, a return) may be, for clocks that run ahead [s].
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    ocpp_host: str = "127.0.0.1"
    ocpp_port: int = Field(default=9000, ge=0, le=65535)
    scenario_path: Path | None = None
    plan_path: Path | None = None
    admin_token: str | None = None
    horizon_hours: float = Field(default=36.0, gt=0, le=168)
    step_minutes: int = Field(default=15, ge=1, le=60)
    solver_time_limit_s: float = Field(default=10.0, gt=0)
    schedule_interval_s: float = Field(default=900.0, ge=0)
    heartbeat_interval_s: int = Field(default=300, ge=1)
    overdraw_tolerance_fraction: float = Field(default=0.05, ge=0)
    overdraw_tolerance_w: float = Field(default=200.0, ge=0)
    pv_credit_per_kwh: float = Field(default=1.0, ge=0)
    workers: int = Field(default=1, ge=1, le=64)
    access_log: bool = True
    threads: int = Field(default=8, ge=1, le=256)
    rate_limit_per_key_per_s: int = Field(default=50, ge=0, le=1_000_000)
    rate_limit_per_address_per_s: int = Field(default=100, ge=0, le=1_000_000)
    rate_limit_storage_uri: str = "memory://"
    gbfs_secret: str = Field(default_factory=lambda: secrets.token_hex(32), min_length=16, repr=False)

    @model_validator(mode="after")
    def _one_town_source(self) -> Settings:
        if self.scenario_path is not None and self.plan_path is not None:
            raise ValueError(
                f"scenario_path = {str(self.scenario_path)!r} and plan_path = {str(self.plan_path)!r}: give one "
                "(a plan folder holds its scenario.toml)"
            )
        return self

    ocpp_security_profile: int = Field(default=1, ge=0, le=2)
    ocpp_tls_cert_path: Path | None = None
    ocpp_tls_key_path: Path | None = None
    ocpp_auth_failures_per_minute: int = Field(default=5, ge=1, le=10_000)
    ocpp_clock_skew_s: float = Field(default=300.0, ge=0, le=86_400)
    ocpp_power_limit_factor: float = Field(default=1.5, ge=1.0, le=10.0)
    booking_horizon_days: float = Field(default=90.0, gt=0, le=3650)
    booking_max_hours: float = Field(default=168.0, gt=0, le=24 * 366)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    request_budget_s: float = Field(default=10.0, gt=0)
    clock_skew_s: float = Field(default=300.0, ge=0)

    @field_validator("step_minutes")
    @classmethod
    def _divides_hour(cls, value: int) -> int:
        if 60 % value:
            raise ValueError(f"step_minutes = {value} must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)")
        return value

    @model_validator(mode="after")
    def _tls_files(self) -> Settings:
        if self.ocpp_security_profile == 2 and (self.ocpp_tls_cert_path is None or self.ocpp_tls_key_path is None):
            raise ValueError(
                "ocpp_security_profile = 2 (TLS) needs ocpp_tls_cert_path and ocpp_tls_key_path (PEM files); "
                f"given: cert {self.ocpp_tls_cert_path}, key {self.ocpp_tls_key_path}"
            )
        for name in ("ocpp_tls_cert_path", "ocpp_tls_key_path"):
            path = getattr(self, name)
            if self.ocpp_security_profile == 2 and not path.is_file():
                raise ValueError(f"{name} = {str(path)!r}: no such file (a PEM file is needed for TLS)")
        return self

    @property
    def dt_hours(self) -> float:
        """Schedule step [h]."""
        return self.step_minutes / 60.0

    @property
    def n_steps(self) -> int:
        """Steps in the schedule horizon [-]."""
        return round(self.horizon_hours * 60 / self.step_minutes)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Settings from ``CHISAN_*`` variables of ``environ`` (default ``os.environ``), then ``overrides``.

        Overrides that are None are ignored, so CLI options left unset keep the environment's value.
        """
        environ = os.environ if environ is None else environ
        values: dict = {}
        for name in cls.model_fields:
            key = ENV_PREFIX + name.upper()
            if key in environ:
                values[name] = environ[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
