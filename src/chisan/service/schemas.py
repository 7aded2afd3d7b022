"""Request and response bodies of the REST API (pydantic), with units in every field name.

Times are tz-aware (RFC 3339 with an offset); a time without an offset is refused with a message naming the
field. Unknown fields are refused too (a typo must not be silently ignored).

Every input is bounded (issue 10): times between :data:`EARLIEST` and :data:`LATEST`, ids within a 32-bit
signed integer (the range of both databases' integer columns), finite numbers only (no NaN/Infinity), no NUL
character in any text. In a PATCH body a field that cannot be empty may be left out but not set to ``null``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""No time before this is accepted (UTC)."""
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
"""No time at or after this is accepted (UTC)."""
MAX_ID = 2**31 - 1
"""Largest id (a 32-bit signed integer: SQLite and PostgreSQL ``integer`` columns both hold it)."""


def _sane_time(value: dt.datetime) -> dt.datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"{value.isoformat()} is outside the allowed years 2000 to 2099")
    return value


def _sane_day(value: dt.date) -> dt.date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(f"{value.isoformat()} is outside the allowed years 2000 to 2099")
    return value


Time = Annotated[AwareDatetime, AfterValidator(_sane_time)]
"""A tz-aware time in the years 2000 to 2099."""
Day = Annotated[dt.date, AfterValidator(_sane_day)]
"""A calendar day in the years 2000 to 2099."""
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""An id in a request body (1 to 2^31 − 1)."""
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Id (1 to 2^31 − 1).")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Id (1 to 2^31 − 1).")]

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
LARGEST = 1e7
"""Largest power, energy or price a request may give (e.g. [kW], [kWh], [currency/kWh]): finite, and far above any
town's, so that a schedule's LP stays well scaled."""
NonNegative = Annotated[float, Field(ge=0.0, le=LARGEST)]
Positive = Annotated[float, Field(gt=0.0, le=LARGEST)]
Price = Annotated[float, Field(ge=-LARGEST, le=LARGEST)]
RoundTrip = Annotated[float, Field(gt=0.0, le=1.0)]
"""A round-trip efficiency: battery in → battery out, above 0 and at most 1 [fraction]."""
Name = Annotated[str, Field(min_length=1, max_length=200)]
IdTag = Annotated[str, Field(min_length=1, max_length=20, description="OCPP idTag (RFID card) [≤ 20 characters].")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain the NUL character (\\u0000)")
        return value


class _Patch(_In):
    """A PATCH body: fields left out keep their value; those in ``not_null`` cannot be set to null."""

    not_null: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _required_not_null(cls, value, info: ValidationInfo):
        if value is None and info.field_name in cls.not_null:
            raise ValueError("must not be null (leave the field out to keep its value)")
        return value


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- municipalities and keys


class MunicipalityFields(_In):
    name: Name
    timezone: str = Field(default="Asia/Tokyo", max_length=64, description="IANA time zone of the town.")
    latitude_deg: float = Field(ge=-90, le=90, description="Town-hall latitude [degrees north].")
    longitude_deg: float = Field(ge=-180, le=180, description="Town-hall longitude [degrees east].")
    pv_kw: NonNegative = Field(default=0.0, description="Installed PV feeding the stations [kWp].")
    storage_kwh: NonNegative = Field(default=0.0, description="Stationary storage energy [kWh].")
    storage_kw: NonNegative = Field(default=0.0, description="Stationary storage power [kW].")
    second_life_kwh: NonNegative = Field(
        default=0.0, description="Second-life storage (retired car packs at the sites) usable energy [kWh]."
    )
    second_life_kw: NonNegative = Field(default=0.0, description="Second-life storage power [kW].")
    second_life_round_trip_efficiency_fraction: RoundTrip = Field(
        default=0.85, description="Second-life storage battery in → battery out; each way its square root."
    )
    grid_connection_limit_kw: Positive | None = Field(default=None, description="Town-side import limit [kW].")
    import_price_per_kwh: Price = Field(default=30.0, description="Grid import price [currency/kWh].")
    export_price_per_kwh: Price = Field(default=0.0, description="Export remuneration [currency/kWh].")
    emission_factor_kg_per_kwh: NonNegative = Field(default=0.4535, description="Grid factor [kg CO2e/kWh].")
    carbon_price_per_kg: NonNegative = Field(default=0.0, description="Internal carbon price [currency/kg CO2e].")
    currency: str = Field(default="JPY", min_length=3, max_length=3)
    feed_contact_email: str = Field(default="operator@example.org", max_length=200, description="GBFS feed contact.")

    @model_validator(mode="after")
    def _known_timezone(self):
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(
                f"timezone: unknown time zone {self.timezone!r}; use an IANA name like 'Asia/Tokyo'"
            ) from err
        return self


class MunicipalityCreate(MunicipalityFields):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="URL name of the town (GBFS feeds).")


class MunicipalityUpdate(_Patch):
    not_null = frozenset(
        {
            "name",
            "pv_kw",
            "storage_kwh",
            "storage_kw",
            "second_life_kwh",
            "second_life_kw",
            "second_life_round_trip_efficiency_fraction",
            "import_price_per_kwh",
            "export_price_per_kwh",
            "emission_factor_kg_per_kwh",
            "carbon_price_per_kg",
            "feed_contact_email",
        }
    )

    name: Name | None = None
    pv_kw: NonNegative | None = None
    storage_kwh: NonNegative | None = None
    storage_kw: NonNegative | None = None
    second_life_kwh: NonNegative | None = None
    second_life_kw: NonNegative | None = None
    second_life_round_trip_efficiency_fraction: RoundTrip | None = None
    grid_connection_limit_kw: Positive | None = None
    import_price_per_kwh: Price | None = None
    export_price_per_kwh: Price | None = None
    emission_factor_kg_per_kwh: NonNegative | None = None
    carbon_price_per_kg: NonNegative | None = None
    feed_contact_email: str | None = Field(default=None, max_length=200)


class MunicipalityOut(_Out):
    id: int
    slug: str
    name: str
    timezone: str
    latitude_deg: float
    longitude_deg: float
    pv_kw: float
    storage_kwh: float
    storage_kw: float
    second_life_kwh: float
    second_life_kw: float
    second_life_round_trip_efficiency_fraction: float
    grid_connection_limit_kw: float | None
    import_price_per_kwh: float
    export_price_per_kwh: float
    emission_factor_kg_per_kwh: float
    carbon_price_per_kg: float
    currency: str
    feed_contact_email: str


class ApiKeyCreate(_In):
    name: str = Field(default="", max_length=200)


class ApiKeyOut(_Out):
    id: int
    name: str
    prefix: str = Field(description="First characters of the key, to recognise it (the key itself is not stored).")
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret key; shown once, only its hash is stored.")


class MunicipalityCreated(BaseModel):
    municipality: MunicipalityOut
    api_key: ApiKeyCreated


# --- stations, chargers


class StationCreate(_In):
    name: Name
    latitude_deg: float = Field(ge=-90, le=90)
    longitude_deg: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)
    charger_kw: Positive = Field(default=6.0, le=350, description="AC power of one charger [kW].")
    connection_limit_kw: Positive | None = Field(default=None, description="Station grid connection [kW].")
    parking_spaces: int | None = Field(default=None, ge=0, le=100_000)


class StationUpdate(_Patch):
    not_null = frozenset({"name", "latitude_deg", "longitude_deg", "charger_kw"})

    name: Name | None = None
    latitude_deg: float | None = Field(default=None, ge=-90, le=90)
    longitude_deg: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)
    charger_kw: Positive | None = Field(default=None, le=350)
    connection_limit_kw: Positive | None = None
    parking_spaces: int | None = Field(default=None, ge=0, le=100_000)


class StationOut(_Out):
    id: int
    name: str
    latitude_deg: float
    longitude_deg: float
    address: str | None
    charger_kw: float
    connection_limit_kw: float | None
    parking_spaces: int | None


class ChargerCreate(_In):
    station_id: Id
    ocpp_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$", description="OCPP identity.")
    max_power_kw: Positive = Field(default=6.0, le=350)
    connectors: int = Field(default=1, ge=1, le=8)


class ChargerUpdate(_Patch):
    not_null = frozenset({"station_id", "max_power_kw", "connectors"})

    station_id: Id | None = None
    max_power_kw: Positive | None = Field(default=None, le=350)
    connectors: int | None = Field(default=None, ge=1, le=8)


class ChargerOut(_Out):
    id: int
    station_id: Id
    ocpp_id: str
    max_power_kw: float
    connectors: int
    vendor: str | None
    model: str | None
    protocol: str | None
    status: str
    error_code: str | None
    boot_at: dt.datetime | None
    last_seen_at: dt.datetime | None


# --- vehicles, members


class VehicleCreate(_In):
    station_id: Id
    name: Annotated[str, Field(min_length=1, max_length=100)]
    model: str = Field(default="nissan_sakura", description="Catalogue key (chisan.catalogue) or 'custom'.")
    usable_kwh: Positive | None = Field(default=None, description="Usable battery [kWh]; default: catalogue.")
    max_charge_kw: Positive | None = Field(default=None, description="On-board AC limit [kW]; default: catalogue.")
    consumption_kwh_per_km: Positive | None = Field(
        default=None, description="Battery-side consumption [kWh/km]; default: catalogue AC figure × efficiency."
    )
    charge_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.9
    reserve_fraction: Fraction = Field(default=0.1, description="Energy kept at every departure [fraction of usable].")
    id_tag: IdTag | None = None
    soc_fraction: Fraction = 1.0
    is_disabled: bool = False


class VehicleUpdate(_Patch):
    not_null = frozenset({"station_id", "name", "is_disabled", "reserve_fraction"})

    station_id: Id | None = None
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    id_tag: IdTag | None = None
    is_disabled: bool | None = None
    reserve_fraction: Fraction | None = None


class VehicleOut(_Out):
    id: int
    station_id: Id
    name: str
    model: str
    usable_kwh: float
    reserve_kwh: float
    max_charge_kw: float
    charge_efficiency: float
    consumption_kwh_per_km: float
    id_tag: str | None
    soc_fraction: float
    soc_measured_at: dt.datetime
    energy_kwh: float
    is_disabled: bool


class TelemetryIn(_In):
    soc_fraction: Fraction
    measured_at: Time


class MemberCreate(_In):
    name: Name
    email: str | None = Field(default=None, max_length=200)
    id_tag: IdTag | None = None


class MemberUpdate(_Patch):
    not_null = frozenset({"name"})

    name: Name | None = None
    email: str | None = Field(default=None, max_length=200)
    id_tag: IdTag | None = None


class MemberOut(_Out):
    id: int
    name: str
    email: str | None
    id_tag: str | None


# --- bookings


class BookingCreate(_In):
    vehicle_id: Id | None = Field(default=None, description="The car; omit and give station_id to get any car.")
    station_id: Id | None = Field(default=None, description="Book any car of this station.")
    member_id: Id | None = None
    start_at: Time
    end_at: Time
    distance_km: Annotated[float, Field(ge=0, le=2000)] = Field(description="Planned distance [km].")

    @field_validator("end_at")
    @classmethod
    def _after_start(cls, value: dt.datetime, info: ValidationInfo) -> dt.datetime:
        start = info.data.get("start_at")
        if start is not None and value <= start:
            raise ValueError(f"must be after start_at ({start.isoformat()})")
        return value

    @model_validator(mode="after")
    def _vehicle_or_station(self):
        if self.vehicle_id is None and self.station_id is None:
            raise ValueError("vehicle_id: give vehicle_id (a car) or station_id (any car of the station)")
        return self


class BookingUpdate(_Patch):
    not_null = frozenset({"vehicle_id", "start_at", "end_at", "distance_km"})

    vehicle_id: Id | None = None
    member_id: Id | None = None
    start_at: Time | None = None
    end_at: Time | None = None
    distance_km: Annotated[float, Field(ge=0, le=2000)] | None = None


class BookingOut(_Out):
    id: int
    vehicle_id: int
    member_id: int | None
    start_at: dt.datetime
    end_at: dt.datetime
    distance_km: float
    trip_energy_kwh: float = Field(description="Energy the trip takes from the battery [kWh].")
    status: str
    expected_return_at: dt.datetime | None
    returned_at: dt.datetime | None
    energy_at_start_kwh: float | None = Field(
        default=None, description="Battery energy expected at the start, charging as soon as possible [kWh]."
    )


class LateReturnIn(_In):
    expected_return_at: Time
    soc_fraction: Fraction | None = Field(default=None, description="State of charge reported by the car, if known.")


class ReturnIn(_In):
    returned_at: Time
    soc_fraction: Fraction | None = None


class AffectedBooking(BaseModel):
    booking_id: int
    status: Literal["ok", "reassigned", "at_risk"]
    vehicle_id: int
    previous_vehicle_id: int | None = None
    reason: str = ""


class LateReturnOut(BaseModel):
    booking: BookingOut
    affected: list[AffectedBooking]

    @property
    def at_risk(self) -> list[int]:
        return [a.booking_id for a in self.affected if a.status == "at_risk"]


class BookingRefusal(BaseModel):
    message: str
    field: str
    reason: Literal["vehicle_busy", "insufficient_energy", "no_vehicle", "disaster_mode"]
    energy_needed_kwh: float | None = None
    energy_available_kwh: float | None = None
    earliest_feasible_start_at: dt.datetime | None = None
    alternative_vehicle_ids: list[int] = Field(default_factory=list)


# --- disaster mode (issue 12)


class DisasterShelterIn(_In):
    name: Name = Field(description="The shelter (town hall, school gym).")
    critical_load_kw: Positive = Field(description="Its critical load (lights, phones, a pump, a fridge) [kW].")


class DisasterIn(_In):
    """Switch a town's disaster mode on: the shelters, and the cars called to them (by base, by id, or both)."""

    shelters: list[DisasterShelterIn] = Field(min_length=1, max_length=100)
    called_station_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=1000, description="Bases whose cars are all called."
    )
    called_vehicle_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=10000, description="Cars called one by one."
    )
    v2h_kw_per_car: float = Field(
        default=6.0, gt=0, le=50, description="V2H/V2B discharge power of one car into a shelter [kW]."
    )
    v2h_efficiency_fraction: float = Field(
        default=0.9, gt=0, le=1, description="Battery-to-shelter efficiency of the V2H/V2B unit."
    )
    reserve_soc_fraction: Fraction = Field(
        default=0.2, description="Energy each car keeps (to drive) [fraction of usable]."
    )


class DisasterCarOut(BaseModel):
    vehicle_id: int
    name: str
    station_id: int
    energy_kwh: float = Field(description="Energy now: the last SOC reading less the trips started since [kWh].")
    above_reserve_kwh: float = Field(description="Energy above the car's reserve [kWh].")


class DisasterOut(BaseModel):
    """A town's disaster mode and how long its shelters would stay supplied by the called cars."""

    town: str
    active: bool
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    shelters: list[DisasterShelterIn] = Field(default_factory=list)
    called_station_ids: list[int] = Field(default_factory=list)
    called_vehicle_ids: list[int] = Field(default_factory=list)
    v2h_kw_per_car: float | None = None
    v2h_efficiency_fraction: float | None = None
    reserve_soc_fraction: float | None = None
    critical_load_kw: float = Field(default=0.0, description="Critical load of all shelters together [kW].")
    cars: list[DisasterCarOut] = Field(default_factory=list, description="The called cars in service.")
    usable_energy_kwh: float = Field(
        default=0.0, description="Energy the called cars can give the shelters: above reserve × V2H efficiency [kWh]."
    )
    storage_energy_kwh: float = Field(
        default=0.0,
        description="Energy the town's stationary storage can give the shelters: half its energy (the state the "
        "rolling schedules start and end at; the service has no storage telemetry) × the share at the shelters "
        "(the scenario's [resilience] storage_share_fraction, else 1) × its discharge efficiency [kWh].",
    )
    second_life_energy_kwh: float = Field(
        default=0.0,
        description="Energy the town's second-life storage (retired car packs at its sites) can give the shelters: "
        "half its energy, as the stationary storage's, × the share at the shelters × √ its round-trip efficiency "
        "[kWh].",
    )
    hours_of_supply_left_h: float | None = Field(
        default=None,
        description="Hours the shelters stay supplied by the town's storage, its second-life storage and the called "
        "cars from now (REopt's outage simulation, chisan.resilience.outage, in 1-minute steps, storage first, then "
        "second life, then the cars, no PV); capped at horizon_h.",
    )
    horizon_h: float = Field(default=0.0, description="Longest supply the simulation looks at [h].")
    conflicting_booking_ids: list[int] = Field(
        default_factory=list, description="Confirmed bookings of called cars not yet over: cancel or move them."
    )


# --- forecasts, schedules, metrics, alerts, sessions


class PvForecastIn(_In):
    start_at: Time
    step_minutes: int = Field(default=15, ge=1, le=60)
    pv_kw: list[NonNegative] = Field(min_length=1, max_length=2000, description="PV output of the town [kW].")


class PvForecastOut(BaseModel):
    start_at: list[dt.datetime]
    pv_kw: list[float]


class ScheduleVehicleOut(_Out):
    vehicle_id: int
    charge_kw: list[float]
    energy_kwh: list[float]


class ScheduleStationOut(_Out):
    station_id: int
    charge_kw: list[float]
    pv_kw: list[float]
    grid_kw: list[float]
    limit_kw: float | None


class ScheduleSummary(_Out):
    id: int
    created_at: dt.datetime
    start_at: dt.datetime
    step_minutes: int
    n_steps: int
    method: str = Field(description="'optimal' (linopy/HiGHS) or 'fallback' (least laxity first).")
    solver_status: str
    solve_seconds: float
    verified: bool = Field(description="Every limit kept and every booking that can be served ready.")
    limits_ok: bool = Field(description="Every limit kept (only such schedules are sent to chargers).")
    message: str
    at_risk_booking_ids: list[int]


class ScheduleOut(ScheduleSummary):
    pv_kw: list[float]
    import_price_per_kwh: list[float]
    grid_import_kw: list[float]
    vehicles: list[ScheduleVehicleOut]
    stations: list[ScheduleStationOut]


class StationDayMetrics(BaseModel):
    station_id: int
    day: dt.date
    bookings: int
    bookings_ready_on_time: int
    energy_needed_kwh: float = Field(description="Trip energy of the day's departures [kWh].")
    energy_planned_kwh: float = Field(description="Charging energy the schedule plans on the day [kWh at the plug].")
    energy_delivered_kwh: float = Field(description="Energy the chargers metered on the day [kWh].")
    pv_share_fraction: float | None
    grid_kwh: float
    grid_cost: float
    peak_kw: float
    limit_kw: float | None


class AlertOut(_Out):
    id: int
    kind: str
    message: str
    charger_id: int | None
    session_id: int | None
    booking_id: int | None
    measured_w: float | None
    limit_w: float | None
    created_at: dt.datetime


class ChargingSessionOut(_Out):
    id: int
    charger_id: int
    connector_id: int
    vehicle_id: int | None
    id_tag: str
    status: str
    meter_start_wh: float
    meter_last_wh: float
    meter_stop_wh: float | None
    energy_wh: float
    last_power_w: float | None
    started_at: dt.datetime
    stopped_at: dt.datetime | None


class DashboardOut(BaseModel):
    municipality: MunicipalityOut
    now: dt.datetime
    stations: list[StationOut]
    chargers: list[ChargerOut]
    vehicles: list[VehicleOut]
    bookings_today: list[BookingOut]
    schedule: ScheduleOut | None
    alerts: list[AlertOut]
    disaster: DisasterOut | None = None


# --- error bodies (documented on every route; see chisan.service.main.add_error_handlers)


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description="Where the fault is: 'body', 'path', 'query' or 'header', then the field.")
    msg: str
    type: str
    input: Any = Field(default=None, description="The value at fault (at most 200 characters of it).")


class ErrorOut(BaseModel):
    """A refused request: the fields at fault, and one message naming them, the value and what is allowed."""

    detail: list[ErrorItem]
    message: str
    request_id: str | None = Field(default=None, description="Id of the request (5xx only; quote it in reports).")


class RefusalOut(BaseModel):
    """A booking refused: why, and what is possible instead."""

    detail: BookingRefusal
    message: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` of the error answers ``codes``, each with its body (:class:`ErrorOut`)."""
    what = {
        401: "The X-API-Key header is missing, unknown or revoked.",
        403: "The admin token is missing or wrong.",
        404: "No such object in the caller's municipality.",
        409: "The change conflicts with stored data.",
        413: "The request body is larger than the service accepts (1 MB by default).",
        422: "A field is not allowed: the message names it, its value and what is allowed.",
        431: "The request headers are larger than the service accepts (16 KB by default).",
        503: "The database is unavailable, or the request ran out of time; nothing changed. See Retry-After.",
    }
    return {code: {"model": ErrorOut, "description": what[code]} for code in codes}
