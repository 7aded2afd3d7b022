"""Places of the scenario (:mod:`chisan.scenario.schema`): car-sharing stations, metered sites, the links between
sites, and depots of duty fleets. Units as in :mod:`chisan.scenario.schema` (``_kw`` [kW], ``_kwh`` [kWh] …).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from chisan.scenario.schema_base import Fraction, NonNegative, Positive, _Section
from chisan.tariffs.schema import Tariff

SITE_TARIFF_HELP = (
    "The meter's own tariff: a bundled tariff by name (chisan.tariffs.tariff_names(), e.g. "
    "'tepco_low_voltage_power') or an inline table as [grid.tariff]; omit for the town's (grid.tariff or the flat "
    "grid prices)."
)


def known_site_tariff(value: str | Tariff | None) -> str | Tariff | None:
    """A tariff name must be one of the bundled tariffs (the message suggests the closest)."""
    if isinstance(value, str):
        from chisan.tariffs.library import tariff_names, unknown_tariff_reason

        if value not in tariff_names():
            raise ValueError(unknown_tariff_reason(value))
    return value


def has_site_tariffs(scenario) -> bool:
    """True when some site, station or depot of the scenario names a tariff of its own (its meter's)."""
    owners = [*scenario.sites, *scenario.stations, *(getattr(scenario, "depots", None) or [])]
    return any(x.tariff is not None for x in owners)


def site_tariff_problem(scenario) -> str | None:
    """What is wrong with the scenario's per-site tariffs, or None.

    A tariff belongs to a meter: a station or depot behind a declared site takes the site's, a town behind one
    meter has only ``grid.tariff``, and every tariff is priced in ``finance.currency``.
    """
    owners = [(f"sites[{i}]", x) for i, x in enumerate(scenario.sites)]
    owners += [(f"stations[{i}]", x) for i, x in enumerate(scenario.stations)]
    owners += [(f"depots[{i}]", x) for i, x in enumerate(getattr(scenario, "depots", None) or [])]
    for where, owner in owners:
        tariff = owner.tariff
        if tariff is None:
            continue
        name = tariff if isinstance(tariff, str) else tariff.name
        if scenario.grid.topology == "single_meter":
            return (
                f"{where}.tariff = {name!r}: grid.topology = 'single_meter' has one meter and one tariff; "
                "give it as grid.tariff"
            )
        if not where.startswith("sites") and owner.site is not None:
            return (
                f"{where}.tariff = {name!r} is set but {owner.name!r} is behind site {owner.site!r}: "
                "give the tariff as sites.tariff"
            )
        if isinstance(tariff, str):
            from chisan.tariffs import load_tariff

            tariff = load_tariff(tariff)
        currency = scenario.finance.currency
        if tariff.currency != currency:
            return (
                f"{where}.tariff = {name!r} is priced in {tariff.currency} but finance.currency = {currency!r}; "
                f"choose a tariff priced in {currency}"
            )
    return None


class Station(_Section):
    """A car-sharing base: parking spaces with chargers."""

    name: str = Field(min_length=1)
    latitude_deg: float | None = Field(default=None, ge=-90, le=90)
    longitude_deg: float | None = Field(default=None, ge=-180, le=180)
    vehicles: int | None = Field(
        default=None, ge=0, le=500, description="Shared EVs based here; omit to size from the bookings."
    )
    chargers: int | None = Field(default=None, ge=0, le=500, description="Chargers; omit for one per vehicle.")
    charger_kw: Positive = Field(default=6.0, le=350, description="AC power of one charger [kW].")
    connection_limit_kw: Positive | None = Field(default=None, description="Station grid connection [kW].")
    member_share_fraction: Fraction | None = Field(
        default=None, description="Share of the town's members booking here; omit for an equal split."
    )
    site: str | None = Field(
        default=None,
        description="Site (meter) the station is behind: a name from [[sites]]; omit for a site of its own.",
    )
    pv_max_kw: NonNegative | None = Field(
        default=None, description="Roof/carport PV the station's own site can take [kW]; omit for no limit."
    )
    storage_max_kwh: NonNegative | None = Field(
        default=None,
        description="Stationary storage the station's own site can take [kWh]; omit for no limit, 0 for none (when no "
        "site gives one, storage sits behind the first site's meter).",
    )
    tariff: str | Tariff | None = Field(default=None, description=SITE_TARIFF_HELP + " Only without site.")

    @field_validator("tariff")
    @classmethod
    def _known_tariff(cls, value: str | Tariff | None) -> str | Tariff | None:
        return known_site_tariff(value)


class Site(_Section):
    """A site behind its own meter (grid.topology = "per_site"): several stations, or a place without cars."""

    name: str = Field(min_length=1)
    pv_max_kw: NonNegative | None = Field(default=None, description="Roof/carport PV limit [kW]; omit for none.")
    connection_limit_kw: Positive | None = Field(default=None, description="The meter's import/export limit [kW].")
    storage_max_kwh: NonNegative | None = Field(
        default=None,
        description="Stationary storage behind this meter [kWh]; omit for no limit, 0 for none (when no site gives "
        "one, storage sits behind the first site's meter).",
    )
    tariff: str | Tariff | None = Field(default=None, description=SITE_TARIFF_HELP)

    @field_validator("tariff")
    @classmethod
    def _known_tariff(cls, value: str | Tariff | None) -> str | Tariff | None:
        return known_site_tariff(value)


class SiteLink(_Section):
    """Energy between two sites other than through the public grid: a private line, or self-wheeling (自己託送)."""

    name: str = Field(min_length=1)
    from_site: str = Field(min_length=1)
    to_site: str = Field(min_length=1)
    kind: Literal["private", "wheeling"] = Field(
        default="wheeling", description="'private': own line, no fee; 'wheeling': the utility's network, a fee."
    )
    fee_per_kwh: NonNegative = Field(default=0.0, description="Wheeling fee [currency/kWh], either direction.")
    limit_kw: Positive | None = Field(default=None, description="Most power on the link [kW]; omit for none.")

    @model_validator(mode="after")
    def _fee_for_kind(self) -> SiteLink:
        if self.kind == "private" and self.fee_per_kwh:
            raise ValueError(f"link {self.name!r}: a private line has no fee (fee_per_kwh = {self.fee_per_kwh})")
        if self.from_site == self.to_site:
            raise ValueError(f"link {self.name!r} joins site {self.from_site!r} to itself")
        return self


class Depot(_Section):
    """A depot of delivery vehicles: chargers, a vehicle class, and duties (shifts) laid on the planned days.

    Each depot becomes a station of its own (behind its own site unless ``site`` names one of [[sites]]); each
    shift becomes a booking of one of its vehicles. The duties come from NREL's fleet schedules
    (``duties = "nrel"``, ``path`` = a fleet folder or its ``veh_schedules.csv``) or from a CSV of shifts
    (``duties = "csv"``: columns ``vehicle_day_id, start_h, end_h, distance_km``, hours after local midnight).
    Neither has dates: every working day of the planned period runs ``vehicle_days_per_day`` of the file's
    vehicle-days, drawn without replacement with ``seed`` (see :mod:`chisan.depots.schedule`).
    """

    name: str = Field(min_length=1)
    site: str | None = Field(default=None, description="Site (meter) from [[sites]]; omit for a site of its own.")
    pv_max_kw: NonNegative | None = Field(
        default=None, description="PV the depot's own site can take [kW]; omit for no limit (with site: use sites)."
    )
    vehicle_class: str = Field(description="A class of the catalogue chisan/catalogue/vehicle_classes.csv.")
    vehicles: int | None = Field(default=None, ge=0, le=1000, description="Vehicles; omit to size from the duties.")
    chargers: int | None = Field(default=None, ge=0, le=1000, description="Chargers; omit for one per vehicle.")
    charger_kw: Positive = Field(default=50.0, le=1000, description="Power of one charger [kW].")
    duties: Literal["nrel", "csv"] = Field(default="nrel", description="Format of the duty file.")
    path: Path = Field(description="NREL fleet folder (or its veh_schedules.csv), or the CSV of shifts.")
    vehicle_days_per_day: int | None = Field(
        default=None, ge=1, description="Vehicle-days run per working day; omit for all of the file's vehicle-days."
    )
    working_days: Literal["weekdays", "all"] = Field(default="weekdays", description="Days the depot operates.")
    seed: int = Field(default=0, description="Seed of the draw of vehicle-days per day.")
    reserve_fraction: Fraction = Field(default=0.1, description="Usable energy kept at every departure [-].")
    charge_efficiency_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.9, description="Plug-to-battery efficiency [-] (chisan assumption, as for the cars)."
    )
    tariff: str | Tariff | None = Field(default=None, description=SITE_TARIFF_HELP + " Only without site.")
    diesel_price_per_l: Positive | None = Field(
        default=None,
        description="Diesel price for the comparison [currency/l, finance.currency]; omit for chisan's cited default "
        "of the currency (JPY, CNY).",
    )

    @field_validator("tariff")
    @classmethod
    def _known_tariff(cls, value: str | Tariff | None) -> str | Tariff | None:
        return known_site_tariff(value)

    @field_validator("vehicle_class")
    @classmethod
    def _known_class(cls, value: str) -> str:
        from chisan.catalogue.vehicle_classes import vehicle_classes

        known = vehicle_classes()
        if value not in known:
            raise ValueError(f"{value!r} is not a vehicle class; the classes are {', '.join(known)}")
        return value
