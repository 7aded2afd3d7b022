"""A grid tariff as it is billed: energy prices by season × day type × hour band, levies, export, basic charge.

A tariff is data (bundled in ``chisan/tariffs/data/*.toml`` with its source and date, or written inline in a
scenario's ``[grid.tariff]``); :func:`chisan.tariffs.compile.compile_tariff` turns it into price series on a
plan's snapshots and the basic-charge rate the LP prices the contract kW with.

Day types follow the tariff's ``calendar``. ``"JP"`` (default), the Japanese utilities' calendars: ``weekday``
(Monday–Friday that is not a holiday), ``saturday``, ``holiday`` (Sundays and national holidays from
``jpholiday``, plus any ``extra_holidays`` the tariff lists, e.g. TEPCO's 1/2, 1/3, 4/30, 5/1, 12/30, 12/31 for
its night-and-holiday plans). ``"CN"``, China's working calendar from ``chinese-calendar`` (State Council holiday
notices): ``weekday`` is a working day — including a weekend day made a working day (调休) — and ``holiday``
a rest day (weekends that are not adjusted, statutory holidays and their bridge days); ``saturday`` does not occur.
Money is in the tariff's ``currency`` (default JPY). A bundled file writes its amounts with that currency in
the key (``price_cny_per_kwh``, ``basic_charge_cny_per_kw_month``); the fields keep the ``_jpy_`` spelling
in Python (``price_jpy_per_kwh`` holds the CNY amount of a CNY tariff), so the compiler has one code path.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DayType = Literal["weekday", "saturday", "holiday"]
DAY_TYPES: tuple[str, ...] = ("weekday", "saturday", "holiday")
CALENDAR_DAY_TYPES: dict[str, tuple[str, ...]] = {"JP": DAY_TYPES, "CN": ("weekday", "holiday")}
"""Day types that occur under each holiday calendar."""


def _currency_keys(data: object, code: str) -> object:
    """Rename ``*_<code>_*`` keys to the ``*_jpy_*`` field names, recursively; refuse ``_jpy_`` keys (or keys
    of another currency) in a tariff priced in ``code``."""
    tag = f"_{code.lower()}_"
    if isinstance(data, list):
        return [_currency_keys(v, code) for v in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        if isinstance(key, str) and "_jpy_" in key:
            raise ValueError(f"{key} in a tariff priced in {code}: write {key.replace('_jpy_', tag)}")
        out[key.replace(tag, "_jpy_") if isinstance(key, str) else key] = _currency_keys(value, code)
    return out


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class EnergyBand(_Part):
    """One hour band of energy price: from ``start_hour`` (inclusive) to ``end_hour`` (exclusive), local clock."""

    name: str = Field(default="all day", min_length=1, description="Label used in messages, e.g. 'day', 'night'.")
    start_hour: int = Field(default=0, ge=0, le=23)
    end_hour: int = Field(default=24, ge=1, le=24)
    price_jpy_per_kwh: float = Field(ge=0, description="Energy price in the band [JPY/kWh], tax included.")
    day_types: list[DayType] = Field(
        default_factory=lambda: list(DAY_TYPES), min_length=1, description="Day types the band applies on."
    )

    @model_validator(mode="after")
    def _ordered(self) -> EnergyBand:
        if self.end_hour <= self.start_hour:
            raise ValueError(
                f"band {self.name!r}: end_hour = {self.end_hour} must be after start_hour = {self.start_hour}"
            )
        return self


class Season(_Part):
    """Months sharing one set of bands (e.g. summer = 7–9 at TEPCO)."""

    name: str = Field(default="all year", min_length=1)
    months: list[int] = Field(default_factory=lambda: list(range(1, 13)), min_length=1)
    bands: list[EnergyBand] = Field(min_length=1)

    @field_validator("months")
    @classmethod
    def _valid_months(cls, months: list[int]) -> list[int]:
        bad = [m for m in months if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"months must be 1–12, got {bad}")
        return months


class EnergyTier(_Part):
    """A block of monthly consumption with its price (従量電灯: 0–120, 120–300, > 300 kWh/month)."""

    up_to_kwh_per_month: float | None = Field(default=None, gt=0, description="Upper end of the block; None = open.")
    price_jpy_per_kwh: float = Field(ge=0)


class Contract(_Part):
    """How the contract kW that the basic charge is billed on is set.

    ``peak_demand``: the highest 30-minute demand over the billing window, an LP variable. The window is the
    Japanese high-voltage one (実量制: this month and the 11 before), so a plan of up to a year has one contract
    kW; monthly demand charges (a look-back shorter than the horizon) are not modelled. ``fixed``: a contract chosen in
    advance (low voltage: ampere breaker, main switch or load equipment), a constant; the breaker also caps the
    import at ``contract_kw``.
    """

    kind: Literal["peak_demand", "fixed"] = "peak_demand"
    contract_kw: float | None = Field(default=None, gt=0, description="Fixed contract [kW] (kVA ≈ kW at cos φ = 1).")

    @model_validator(mode="after")
    def _fixed_has_value(self) -> Contract:
        if self.kind == "fixed" and self.contract_kw is None:
            raise ValueError("contract.kind = 'fixed' needs contract.contract_kw [kW]")
        return self


class Export(_Part):
    """Remuneration of exported energy [JPY/kWh]: FIT fixed price, FIP (reference price + premium) or surplus."""

    scheme: Literal["none", "fit", "fip", "surplus"] = "none"
    price_jpy_per_kwh: float = Field(default=0.0, ge=0, description="FIT or surplus purchase price [JPY/kWh].")
    fip_reference_jpy_per_kwh: float = Field(default=0.0, ge=0, description="FIP: expected market price [JPY/kWh].")
    fip_premium_jpy_per_kwh: float = Field(default=0.0, ge=0, description="FIP: premium [JPY/kWh].")

    @property
    def price(self) -> float:
        """Price paid per exported kWh [JPY/kWh]."""
        if self.scheme == "none":
            return 0.0
        if self.scheme == "fip":
            return self.fip_reference_jpy_per_kwh + self.fip_premium_jpy_per_kwh
        return self.price_jpy_per_kwh


class Tariff(_Part):
    """A retail tariff inline, or ``[grid] tariff = "tepco_high_voltage_business"`` (any bundled name) instead.

    Energy prices by season × day type × hour band (or monthly tiers), per-kWh levies, a basic charge on a
    contract kW and export remuneration, with its source and date. Bundled names:
    :func:`chisan.tariffs.tariff_names` (tepco_low_voltage_lighting_b, tepco_low_voltage_power,
    tepco_high_voltage_business, tepco_high_voltage_business_2025).
    """

    name: str = Field(default="inline", min_length=1)
    title: str = ""
    currency: str = Field(default="JPY", pattern=r"^[A-Z]{3}$", description="ISO 4217 code of every amount.")
    calendar: Literal["JP", "CN"] = Field(default="JP", description="Holiday calendar of the day types.")
    supplier: str = ""
    voltage: Literal["low", "high", "extra_high"] = "low"
    effective_from: dt.date | None = None
    source: str = Field(default="", description="Page the unit prices come from.")
    accessed: dt.date | None = None
    notes: str = Field(default="", description="Approximations and what is left out.")
    provenance: Literal["sourced", "dated", "illustrative"] = Field(
        default="sourced",
        description="'sourced': unit prices read on the supplier's page; 'dated': read in a source, but older or "
        "second-hand (the notes say which); 'illustrative': not read anywhere, derived as the notes say.",
    )
    seasons: list[Season] = Field(default_factory=list)
    tiers: list[EnergyTier] = Field(
        default_factory=list,
        description="Monthly blocks; the LP prices every kWh at the last block (the marginal price of a base "
        "that draws more than the last threshold), the bill in the notes says so.",
    )
    full_day_coverage: bool = Field(default=True, description="Every hour of every day type must lie in a band.")
    base_price_jpy_per_kwh: float | None = Field(default=None, ge=0, description="Price outside every band.")
    extra_holidays: list[str] = Field(default_factory=list, description="'MM-DD' priced as holidays every year.")
    renewable_levy_jpy_per_kwh: float = Field(default=0.0, ge=0, description="再エネ賦課金 [JPY/kWh].")
    fuel_cost_adjustment_jpy_per_kwh: float = Field(default=0.0, description="燃料費調整額 [JPY/kWh], may be < 0.")
    other_levies_jpy_per_kwh: float = Field(default=0.0, description="Other per-kWh adders [JPY/kWh].")
    basic_charge_jpy_per_kw_month: float = Field(default=0.0, ge=0, description="Basic charge [JPY/kW/month].")
    contract: Contract = Field(default_factory=Contract)
    export: Export = Field(default_factory=Export)

    @model_validator(mode="before")
    @classmethod
    def _amount_keys(cls, data: object) -> object:
        if isinstance(data, dict) and str(data.get("currency", "JPY")) != "JPY":
            return _currency_keys(data, str(data["currency"]))
        return data

    @field_validator("extra_holidays")
    @classmethod
    def _month_day(cls, days: list[str]) -> list[str]:
        for d in days:
            try:
                dt.datetime.strptime(f"2000-{d}", "%Y-%m-%d")
            except ValueError as err:
                raise ValueError(f"extra_holidays: {d!r} is not 'MM-DD'") from err
        return days

    @model_validator(mode="after")
    def _prices_defined(self) -> Tariff:
        if not self.seasons and not self.tiers:
            raise ValueError(f"tariff {self.name!r} needs seasons with bands or tiers")
        if self.seasons and self.tiers:
            raise ValueError(f"tariff {self.name!r}: give seasons with bands or tiers, not both")
        if self.tiers and self.tiers[-1].up_to_kwh_per_month is not None:
            raise ValueError(f"tariff {self.name!r}: the last tier must be open (no up_to_kwh_per_month)")
        if not self.full_day_coverage and self.seasons and self.base_price_jpy_per_kwh is None:
            raise ValueError(f"tariff {self.name!r}: full_day_coverage = false needs base_price_jpy_per_kwh")
        from chisan.tariffs.compile import check_bands  # the band rules live with the compiler

        check_bands(self)
        return self

    @property
    def levies_jpy_per_kwh(self) -> float:
        """Per-kWh adders on import [JPY/kWh]: renewable levy + fuel-cost adjustment + others."""
        return self.renewable_levy_jpy_per_kwh + self.fuel_cost_adjustment_jpy_per_kwh + self.other_levies_jpy_per_kwh
