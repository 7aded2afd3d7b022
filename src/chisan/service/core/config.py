"""Settings of the operations service, from keyword arguments or ``CHISAN_*`` environment variables.

Every setting has a default that runs a small town on one machine: SQLite in ``./chisan.db``, the REST API on
port 8000, the OCPP central system on port 9000, a 36 h schedule at 15 min recomputed every 15 min.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
        Processes serving the REST API (Linux SO_REUSEPORT); the first also runs OCPP and the scheduler.
    access_log : bool
        Log every HTTP request (uvicorn's access log).
    threads : int
        Worker threads per process for the API's database work. Few are enough (a request holds one for a few
        milliseconds) and more only make them fight for Python's interpreter lock.
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
