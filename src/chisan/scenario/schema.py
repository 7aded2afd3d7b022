"""The scenario: everything chisan needs to plan one town, validated by pydantic.

Every quantity carries its unit in its name: ``_kw`` [kW], ``_kwh`` [kWh], ``_km`` [km], ``_deg`` [degrees],
``_m`` [m], ``_h`` [h], ``_c`` [°C], ``_fraction`` [0–1], ``_years`` [years]. Money is in the scenario's currency
(``finance.currency``), so ``capex_per_kw`` is [currency/kW] and ``import_price_per_kwh`` is [currency/kWh].
Unknown keys are rejected (a typo must not be silently ignored).
"""

from __future__ import annotations

import calendar
import warnings
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from chisan.exceptions import ScenarioError
from chisan.scenario.schema_base import Fraction, NonNegative, Positive, _Section
from chisan.scenario.schema_fleets import AutonomousFleet, Bookings, Fleet, FuelCellFleet  # noqa: F401 -- re-exported
from chisan.scenario.schema_sites import Depot, Site, SiteLink, Station, site_tariff_problem
from chisan.scenario.schema_technologies import (  # noqa: F401 -- every model stays importable from here
    PV,
    Chargers,
    Compressor,
    Electrolyser,
    HydrogenDispenser,
    HydrogenStorage,
    Storage,
    Technologies,
    Wind,
    _Technology,
)
from chisan.tariffs.library import load_tariff, tariff_names, unknown_tariff_reason
from chisan.tariffs.schema import Tariff


class Municipality(_Section):
    """The town being planned."""

    name: str = Field(min_length=1)
    latitude_deg: float = Field(ge=-90, le=90, description="Town-hall latitude [degrees north].")
    longitude_deg: float = Field(ge=-180, le=180, description="Town-hall longitude [degrees east].")
    altitude_m: float = Field(default=0.0, ge=-500, le=9000, description="Altitude above sea level [m].")
    timezone: str = Field(default="Asia/Tokyo", description="IANA time zone of the town, e.g. 'Asia/Tokyo'.")
    population: int = Field(ge=0, description="Residents [persons].")
    code: str | None = Field(default=None, description="Local-government code, e.g. '082015'.")
    prefecture: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Asia/Tokyo'") from err
        return value


class Horizon(_Section):
    """The planning year and time step."""

    year: int = Field(default=2025, ge=2000, le=2100, description="Calendar year planned (8,760 h).")
    step_minutes: Literal[15, 30, 60] = Field(default=60, description="Time step [min].")
    start_month: int = Field(default=1, ge=1, le=12, description="First month planned (for shorter runs).")
    months: int = Field(default=12, ge=1, le=12, description="Number of months planned.")

    @model_validator(mode="after")
    def _within_the_year(self) -> Horizon:
        if self.start_month + self.months - 1 > 12:
            raise ValueError(
                f"start_month = {self.start_month} with months = {self.months} runs past December; the planned "
                f"period must lie within one calendar year (months ≤ {13 - self.start_month})"
            )
        return self

    @field_validator("year")
    @classmethod
    def _not_leap(cls, value: int) -> int:
        if calendar.isleap(value):
            raise ValueError(
                f"{value} is a leap year; chisan plans 365-day years (8,760 h) so that annual figures compare "
                f"between years — use {value + 1} or another non-leap year (weather files of {value} still work: "
                "29 February is left out)"
            )
        return value


class Weather(_Section):
    """Where the hourly weather comes from."""

    source: Literal["synthetic", "epw", "tmy3", "csv", "japan"] = "synthetic"
    path: Path | None = Field(default=None, description="Weather file (epw, tmy3, csv); relative to the scenario.")
    data_dir: Path | None = Field(
        default=None,
        description="source='japan': data folder with the regional hourly years (laid out like chisan's shared "
        "data); default $CHISAN_DATA, else the bundled monthly figures. Relative to the scenario.",
    )
    climate: str = Field(default="tokyo", description="Built-in monthly climate for source='synthetic'.")
    site: Literal["climate", "municipality"] = Field(
        default="climate",
        description="source='synthetic': make the year at the climate's own station, or at the municipality "
        "(sun and clear sky of the town; the climate's monthly clearness index, temperature and wind).",
    )
    seed: int = Field(default=0, description="Seed of the synthetic year.")
    columns: dict[str, str] | None = Field(
        default=None,
        description="csv only: source column -> glossary name (ghi, dni, dhi, temp_air, wind_speed).",
    )
    units: dict[str, str] = Field(
        default_factory=dict,
        description="csv only: unit of each glossary quantity, e.g. {wind_speed = 'km/h', temp_air = 'degC'}.",
    )
    time_column: str = "time"
    wind_height_m: float = Field(default=10.0, gt=0, description="Height of the wind measurement [m].")

    @model_validator(mode="after")
    def _path_when_file(self) -> Weather:
        if self.source not in ("synthetic", "japan") and self.path is None:
            raise ValueError(f"weather.source = {self.source!r} needs weather.path (the file to read)")
        return self


class Hydrogen(_Section):
    """A hydrogen station at one site and the fuel-cell fleets it refuels (chisan.plan.hydrogen)."""

    site: str | None = Field(
        default=None, description="Site, station or depot whose meter the electrolyser is behind (default: first)."
    )
    bought_price_per_kg: NonNegative | None = Field(
        default=None, description="Hydrogen delivered to the station [currency/kg]; omit for none bought."
    )
    fleets: list[FuelCellFleet] = Field(min_length=1, description="Fuel-cell fleets refuelled at the station.")


class DrivetrainChoice(_Section):
    """The cheapest drivetrain mix for one depot's fleet within a carbon target (:mod:`chisan.economics.drivetrain`).

    Candidates are the shares of the depot's vehicle-days per day run battery-electric, fuel-cell and diesel, in
    steps of ``step_fraction`` over ``drivetrains``; each is planned (battery-electric part) and costed per year.
    Fuel-cell vehicles run on hydrogen bought delivered at ``hydrogen_price_per_kg``.
    """

    depot: str = Field(min_length=1, description="Name of the depot of [[depots]] whose fleet is chosen.")
    drivetrains: list[Literal["battery_electric", "fuel_cell", "diesel"]] = Field(
        default=["battery_electric", "fuel_cell", "diesel"], min_length=1, description="Drivetrains to mix."
    )
    step_fraction: Literal[0.25, 0.5, 1.0] = Field(default=0.25, description="Step of the shares [-].")
    max_co2_kg_per_year: NonNegative | None = Field(
        default=None, description="Carbon target of the depot fleet [kg CO2/year]; omit for none."
    )
    fuel_cell_class: str = Field(
        default="fc_truck_rigid", description="A class of chisan/catalogue/fuel_cell_classes.csv."
    )
    fuel_cell_capex: Positive | None = Field(
        default=None,
        description="Price of one fuel-cell vehicle [currency per vehicle, finance.currency]; chisan has no default "
        "(was fuel_cell_capex_jpy, still read when finance.currency = 'JPY').",
    )
    fuel_cell_maintenance_per_km: NonNegative | None = Field(
        default=None,
        description="Fuel-cell vehicle maintenance [currency/km, finance.currency]; chisan has no default "
        "(was fuel_cell_maintenance_jpy_per_km, still read when finance.currency = 'JPY').",
    )
    fuel_cell_lifetime_years: Positive | None = Field(default=None, description="Fuel-cell vehicle life [years].")
    hydrogen_price_per_kg: NonNegative | None = Field(
        default=None, description="Delivered hydrogen [currency/kg, finance.currency]."
    )
    hydrogen_co2_kg_per_kg: NonNegative | None = Field(
        default=None, description="CO2 of the delivered hydrogen [kg CO2/kg H2] (0 for renewable hydrogen)."
    )

    @model_validator(mode="after")
    def _fuel_cell_figures(self) -> DrivetrainChoice:
        if "fuel_cell" in self.drivetrains:
            keys = (
                "fuel_cell_capex",
                "fuel_cell_maintenance_per_km",
                "fuel_cell_lifetime_years",
                "hydrogen_price_per_kg",
                "hydrogen_co2_kg_per_kg",
            )
            missing = [k for k in keys if getattr(self, k) is None]
            if missing:
                raise ValueError(f"drivetrains include 'fuel_cell': give {', '.join(missing)} (chisan has no default)")
        return self


RENAMED_DRIVETRAIN_FIELDS = {
    "fuel_cell_capex_jpy": "fuel_cell_capex",
    "fuel_cell_maintenance_jpy_per_km": "fuel_cell_maintenance_per_km",
}
"""Old ``[drivetrain_choice]`` names (in JPY) -> their names in ``finance.currency``."""


class RenamedFieldWarning(UserWarning):
    """A scenario field given by its old name, still accepted (the message names the new one)."""


def renamed_drivetrain_fields(data: Any) -> Any:
    """Raw scenario data with ``[drivetrain_choice]``'s old JPY names moved to their currency-neutral names.

    An old name is accepted, with a :class:`RenamedFieldWarning`, only when ``finance.currency`` is JPY (its
    figures were in JPY); in another currency, or beside its new name, it is refused with a message naming the
    new field.
    """
    if not isinstance(data, dict) or not isinstance(data.get("drivetrain_choice"), dict):
        return data
    choice = data["drivetrain_choice"]
    old = [k for k in RENAMED_DRIVETRAIN_FIELDS if k in choice]
    if not old:
        return data
    finance = data.get("finance")
    currency = getattr(finance, "currency", None) if not isinstance(finance, dict) else finance.get("currency")
    currency = currency or Finance.model_fields["currency"].default
    choice = dict(choice)
    for name in old:
        new = RENAMED_DRIVETRAIN_FIELDS[name]
        unit = " per vehicle" if new == "fuel_cell_capex" else "/km"
        if new in choice:
            raise ValueError(
                f"drivetrain_choice.{name} and drivetrain_choice.{new} are both set; {name} is the old name of "
                f"{new}: give {new} only"
            )
        if currency != "JPY":
            raise ValueError(
                f"drivetrain_choice.{name} is in JPY and finance.currency = {currency!r}; give "
                f"drivetrain_choice.{new} [{currency}{unit}] instead"
            )
        choice[new] = choice.pop(name)
        warnings.warn(
            f"drivetrain_choice.{name} is renamed drivetrain_choice.{new} (in finance.currency, here JPY); the old "
            "name is still read for JPY scenarios, rename it",
            RenamedFieldWarning,
            stacklevel=2,
        )
    return {**data, "drivetrain_choice": choice}


class TimeOfUse(_Section):
    """A time-of-use price band: applies from ``start_hour`` (inclusive) to ``end_hour`` (exclusive)."""

    start_hour: int = Field(ge=0, le=23)
    end_hour: int = Field(ge=1, le=24)
    price_per_kwh: float
    weekdays_only: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> TimeOfUse:
        if self.end_hour < self.start_hour:
            raise ValueError(
                f"the band wraps midnight ({self.start_hour}→{self.end_hour} h); a band runs within one day: split "
                f"it into two bands, {self.start_hour}–24 (start_hour = {self.start_hour}, end_hour = 24) and "
                f"0–{self.end_hour} (start_hour = 0, end_hour = {self.end_hour})"
            )
        if self.end_hour == self.start_hour:
            raise ValueError(f"end_hour = {self.end_hour} must be after start_hour = {self.start_hour}")
        return self


class Grid(_Section):
    """The connection to the public grid."""

    import_price_per_kwh: float = Field(default=30.0, description="Flat import price [currency/kWh].")
    import_tou: list[TimeOfUse] = Field(default_factory=list, description="Bands overriding the flat price.")
    export_price_per_kwh: float = Field(default=0.0, description="Export remuneration [currency/kWh].")
    allow_export: bool = True
    emission_factor_kg_per_kwh: NonNegative = Field(
        default=0.4535, description="Location-based grid factor [kg CO2e/kWh] when no hourly file."
    )
    emission_factor_path: Path | None = Field(default=None, description="Hourly factors (CSV); overrides.")
    emission_factor_column: str = Field(
        default="carbon_intensity_direct_gco2eq_per_kwh",
        description="Column of the hourly file [g CO2e/kWh]: direct (scope 2 basis, default) or life-cycle.",
    )
    market_emission_factor_kg_per_kwh: NonNegative | None = Field(
        default=None,
        description="Supplier's (market-based) factor [kg CO2e/kWh]; None = location-based value.",
    )
    emission_factor: str | None = Field(
        default=None,
        description="A registry factor by name, e.g. 'JP-shikoku:2023:basic' or 'CN-SH:location' (latest year) "
        "(chisan.carbon.factors.grid_factor_names()); sets emission_factor_kg_per_kwh and names its source.",
    )
    market_emission_factor: str | None = Field(
        default=None,
        description="A registry factor by name for the market-based figure, e.g. 'CN-SH:2022:green'; sets "
        "market_emission_factor_kg_per_kwh.",
    )

    @model_validator(mode="before")
    @classmethod
    def _registry_factors(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        from chisan.carbon.factors import grid_factor  # the registry reads its CSV on first use

        data = dict(data)
        if data.get("emission_factor") is not None and data.get("emission_factor_path") is not None:
            raise ValueError("grid.emission_factor and grid.emission_factor_path both set; give one of them")
        for name_key, value_key in (
            ("emission_factor", "emission_factor_kg_per_kwh"),
            ("market_emission_factor", "market_emission_factor_kg_per_kwh"),
        ):
            if data.get(name_key) is None:
                continue
            try:
                factor = grid_factor(data[name_key]).kg_co2_per_kwh
            except ScenarioError:
                continue  # _known_factor names the field and lists the registry
            given = data.get(value_key)
            if given is not None and abs(float(given) - factor) > 1e-12:
                raise ValueError(
                    f"grid.{name_key} = {data[name_key]!r} is {factor} kg CO2/kWh but grid.{value_key} = {given}; "
                    "give one of them"
                )
            data[value_key] = factor
        return data

    @field_validator("emission_factor", "market_emission_factor")
    @classmethod
    def _known_factor(cls, value: str | None) -> str | None:
        if value is not None:
            from chisan.carbon.factors import grid_factor, unknown_factor_reason

            try:
                grid_factor(value)
            except ScenarioError:
                raise ValueError(unknown_factor_reason(value)) from None  # the field and value named once, by load
        return value

    connection_limit_kw: Positive | None = Field(default=None, description="Town-side import/export limit [kW].")
    topology: Literal["per_site", "single_meter"] = Field(
        default="per_site",
        description="'per_site': every site (by default every station) has its own meter, contract and bill, and a "
        "car charges only from its site; 'single_meter': one town bus behind one meter (e.g. one campus).",
    )
    links: list[SiteLink] = Field(default_factory=list, description="Private lines or self-wheeling between sites.")
    tariff: str | Tariff | None = Field(
        default=None,
        description="A bundled tariff by name (chisan.tariffs.tariff_names()) or an inline [grid.tariff] table; "
        "replaces the flat prices and import_tou.",
    )

    @field_validator("tariff")
    @classmethod
    def _known_tariff(cls, value: str | Tariff | None) -> str | Tariff | None:
        if isinstance(value, str):
            if value not in tariff_names():
                raise ValueError(unknown_tariff_reason(value))  # the field and value named once, by load
            load_tariff(value)
        return value

    @field_validator("import_tou")
    @classmethod
    def _bands_disjoint(cls, bands: list[TimeOfUse]) -> list[TimeOfUse]:
        # as tariff files (chisan.tariffs.compile.check_bands): each hour has one price, whatever the band order
        for j, b in enumerate(bands):
            for i, a in enumerate(bands[:j]):
                start, end = max(a.start_hour, b.start_hour), min(a.end_hour, b.end_hour)
                if start < end:
                    raise ValueError(
                        f"bands grid.import_tou[{i}] ({a.start_hour}–{a.end_hour} h) and grid.import_tou[{j}] "
                        f"({b.start_hour}–{b.end_hour} h) overlap at {start:02d}:00–{end:02d}:00; each hour must have "
                        "one price: end one band where the next starts"
                    )
        return bands

    @model_validator(mode="after")
    def _one_price_source(self) -> Grid:
        if self.tariff is not None and self.import_tou:
            raise ValueError("grid.tariff and grid.import_tou both set; put the time-of-use bands in the tariff")
        return self


class Policy(_Section):
    """Targets the plan must meet."""

    renewable_share_min_fraction: Fraction | None = Field(
        default=None, description="Minimum share of charging covered by local renewables."
    )
    renewable_share_basis: Literal["annual", "hourly"] = Field(
        default="annual", description="'annual' = yearly volumes; 'hourly' = matched hour by hour (24/7)."
    )
    carbon_price_per_t: NonNegative = Field(default=0.0, description="Price on grid emissions [currency/t CO2e].")
    max_grid_import_kwh_per_year: NonNegative | None = None
    max_emissions_kg_per_year: NonNegative | None = None


class Finance(_Section):
    """Money: the discount rate of the annuities and of the cash flows, and the project appraisal against business
    as usual (:mod:`chisan.economics`)."""

    discount_rate_fraction: Annotated[float, Field(ge=0, le=0.5)] = 0.03
    currency: str = Field(default="JPY", min_length=3, max_length=3)
    project_life_years: int = Field(
        default=25, ge=1, le=60, description="Years of the cash-flow appraisal (NPV, IRR, payback) [years]."
    )
    pv_degradation_per_year_fraction: Annotated[float, Field(ge=0, le=0.05)] = Field(
        default=0.005,
        description="Yearly loss of PV output [fraction/year], e.g. 0.005 = 0.5 %/year (NREL, Jordan & Kurtz "
        "2013: median 0.5 %/year); restarts when the PV is replaced.",
    )
    salvage_value: bool = Field(
        default=True,
        description="Credit the straight-line remaining value of each component in the last year of the project.",
    )


class SensitivityParameter(_Section):
    """One input varied by ``chisan compare``: the plan is solved again at its low and at its high value."""

    field: str = Field(
        min_length=1,
        description="Dotted path of a numeric input, e.g. 'technologies.pv.capex_per_kw', "
        "'grid.import_price_per_kwh', 'finance.discount_rate_fraction', 'bookings.membership_fraction'; "
        "'stations.*.vehicles' sets it at every station.",
    )
    low: float = Field(description="Low value [the field's unit].")
    high: float = Field(description="High value [the field's unit].")

    @model_validator(mode="after")
    def _ordered(self) -> SensitivityParameter:
        if self.low > self.high:
            raise ValueError(f"low = {self.low:g} is above high = {self.high:g} for {self.field}")
        return self


class Sensitivity(_Section):
    """One-at-a-time sensitivity of the plan (``chisan compare``): a tornado chart of NPV and the other figures."""

    parameters: list[SensitivityParameter] = Field(default_factory=list, description="Inputs varied.")


class Baseline(_Section):
    """What the shared EVs replace, for the CO2 avoided (defaults: DESIGN.md §7)."""

    ice_emission_g_per_km: NonNegative = Field(
        default=155.0,
        description="Private gasoline car [g CO2/km]: 2.32 kg/L ÷ 15 km/L (Japan GHG ordinance).",
    )
    substitution_factor: NonNegative = Field(
        default=5.0, description="Private cars replaced per shared car (Martin, Shaheen & Lidicker 2010)."
    )
    private_car_km_per_year: NonNegative = Field(
        default=0.0, description="Annual km of each private car not bought; 0 = count only shared km."
    )


class Shelter(_Section):
    """An evacuation shelter (town hall, school gym) kept supplied during a grid outage."""

    name: str = Field(min_length=1)
    station: str | None = Field(
        default=None, description="Car-sharing base at the shelter: cars parked there when the outage starts plug in."
    )
    critical_load_kw: NonNegative | None = Field(
        default=None, description="Constant critical load (lights, phones, a pump, a fridge) [kW]."
    )
    critical_load_csv: Path | None = Field(
        default=None,
        description="Critical load profile: a CSV with a column 'critical_load_kw' [kW], 24 rows (hour of day) or "
        "one row per step of the horizon.",
    )

    @model_validator(mode="after")
    def _one_load(self) -> Shelter:
        given = (self.critical_load_kw is not None) + (self.critical_load_csv is not None)
        if given != 1:
            raise ValueError(
                f"shelter {self.name!r}: give exactly one of critical_load_kw (a constant [kW]) or critical_load_csv "
                f"(a profile), not {'both' if given == 2 else 'neither'}"
            )
        return self


class Resilience(_Section):
    """Emergency power: how long the shelters would stay supplied if the grid failed (REopt's outage simulation)."""

    shelters: list[Shelter] = Field(min_length=1, description="The shelters, supplied together as one microgrid.")
    outage_h: Annotated[float, Field(gt=0, le=720)] = Field(default=72.0, description="Outage length to survive [h].")
    v2h_kw_per_car: Positive = Field(
        default=6.0, le=50, description="V2H/V2B discharge power of one car into a shelter [kW]."
    )
    v2h_efficiency_fraction: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.9, description="Battery-to-shelter efficiency of the V2H/V2B unit."
    )
    called_stations: list[str] | Literal["all", "none"] = Field(
        default="none",
        description="Bases whose cars may be called to a shelter ('all', 'none' or a list of station names); "
        "a called car arrives after call_delay_h with the energy it had when the outage started.",
    )
    call_delay_h: NonNegative = Field(default=1.0, le=48, description="Time for a called car to reach a shelter [h].")
    reserve_soc_fraction: Fraction = Field(
        default=0.2, description="Energy each car keeps (to drive, or for the next day) [fraction of usable]."
    )
    pv_share_fraction: Fraction = Field(
        default=1.0, description="Share of the plan's PV that feeds the shelters when islanded."
    )
    storage_share_fraction: Fraction = Field(
        default=1.0, description="Share of the plan's stationary storage that feeds the shelters when islanded."
    )
    require_survival: bool = Field(
        default=False,
        description="Require the plan to keep enough energy in storage and the counted cars to supply the shelters "
        "for the whole outage (chisan.plan.survival; needs solver.method = 'full'); the report gives its cost.",
    )
    survival_start_hours: Literal["all"] | Annotated[int, Field(ge=1)] = Field(
        default="all",
        description="Outage starts the requirement holds at: 'all' steps, or the N worst starts of the outage "
        "simulation, repeated with the new worst starts (up to 3 passes).",
    )


class SecondLife(_Section):
    """Retired car packs offered to the plan as stationary storage (chisan.plan.second_life; issue 12)."""

    offered_kwh: NonNegative = Field(description="Usable energy offered [kWh] (nominal × SOH × derate).")
    price_per_kwh: NonNegative = Field(description="Price of one usable kWh, up front [currency/kWh].")
    lifetime_years: Annotated[float, Field(gt=0, le=50)] = Field(
        default=8.0, description="Years of second life the price is annualised over."
    )
    fixed_om_per_kwh_year: NonNegative = Field(default=0.0, description="Fixed O&M [currency/kWh/year].")
    site: str = Field(
        default="any", min_length=1, description="Site the packs go to, or 'any' (the plan chooses the sites)."
    )
    round_trip_efficiency_fraction: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.85, description="Battery in → battery out; charge and discharge each its square root."
    )
    max_c_rate_per_h: Positive = Field(default=0.5, le=10, description="Power ≤ c-rate × energy [1/h].")


class Solver(_Section):
    """How the plan is solved."""

    method: Literal["auto", "full", "two-stage"] = Field(
        default="auto",
        description="'full' = one LP for capacities and the hourly year; 'two-stage' = sizing on typical "
        "days, then the full-year dispatch at those capacities; 'auto' picks by problem size.",
    )
    typical_days: int = Field(default=24, ge=2, le=366)
    time_limit_s: Positive = Field(default=600.0)
    threads: int = Field(default=1, ge=1, le=64)


class Batteries(_Section):
    """How the packs age as car packs, not lab cells (chisan.batteries.field; issue 12)."""

    field_calibration_factor: Positive | None = Field(
        default=None,
        description="Multiplier of the ageing model's calendar and cycle fade; None = the model's factor "
        "calibrated to Geotab's fleet data (1.8 %/year, chisan.batteries.field.DEFAULT_FIELD_CALIBRATION).",
    )
    field_calibration_source: str = Field(
        default="Geotab EV battery health studies 2019, 2024, 2025 (telematics of 6,300-22,700 EVs)",
        min_length=1,
        description="Where the calibration comes from (named in the reports).",
    )
    field_fade_band_per_year_fraction: tuple[Positive, Positive, Positive] = Field(
        default=(0.010, 0.018, 0.023),
        description="Low, central, high fleet fade [fraction/year] of the health band (Geotab: 1.0 %/year best "
        "models 2024, 1.8 %/year average 2024, 2.3 %/year average 2019 and 2025).",
    )
    c_rate_definition: Literal["while_cycling", "time_average"] = Field(
        default="while_cycling",
        description="C-rate stressor: 'while_cycling' (throughput over the hours charging or discharging) or "
        "'time_average' (over the whole day, rests included, as BLAST-Lite 1.1).",
    )
    sun_offset_c: float = Field(
        default=4.0, ge=-20, le=40, description="Pack above air temperature in full sun (1 kW/m²) [°C]; assumption."
    )
    charging_offset_c: float = Field(
        default=2.0, ge=-20, le=40, description="Pack above air temperature while charging [°C]; assumption."
    )
    pack_thermal_model: Literal["offsets", "v2g_sim"] = Field(
        default="offsets",
        description="Car pack temperature: 'offsets' (air + sun_offset_c, charging_offset_c) or 'v2g_sim' (LBNL "
        "V2G-Sim's cabin/pack thermal network, chisan.batteries.thermal; the offsets are then not used).",
    )
    cabin_solar_rise_c: float = Field(
        default=22.2,
        ge=0,
        le=80,
        description="'v2g_sim': cabin air above the air of a closed car in 1 kW/m² sun [°C] (McLaren et al. 2005: "
        "about 40 °F in 60 minutes on clear sunny days).",
    )

    @field_validator("field_fade_band_per_year_fraction")
    @classmethod
    def _ordered_band(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if not value[0] <= value[1] <= value[2] or value[2] >= 0.5:
            raise ValueError(f"{list(value)}; allowed: low <= central <= high fade rates, each below 0.5 per year")
        return value


class Scenario(_Section):
    """A complete, validated planning scenario."""

    municipality: Municipality
    horizon: Horizon = Horizon()
    weather: Weather = Weather()
    stations: list[Station] = Field(min_length=1)
    sites: list[Site] = Field(default_factory=list, description="Sites shared by several stations, or without cars.")
    depots: list[Depot] = Field(default_factory=list, description="Depots of delivery vehicles with their duties.")
    fleet: Fleet = Fleet()
    bookings: Bookings = Bookings()
    technologies: Technologies = Technologies()
    grid: Grid = Grid()
    policy: Policy = Policy()
    finance: Finance = Finance()
    baseline: Baseline = Baseline()
    solver: Solver = Solver()
    batteries: Batteries = Batteries()
    hydrogen: Hydrogen | None = Field(
        default=None, description="A hydrogen station and its fuel-cell fleets (none = no hydrogen)."
    )
    drivetrain_choice: DrivetrainChoice | None = Field(
        default=None, description="The cheapest drivetrain mix of one depot's fleet (`chisan drivetrain`)."
    )
    resilience: Resilience | None = Field(
        default=None, description="Shelters and outage to simulate after the plan solves (none = not simulated)."
    )
    sensitivity: Sensitivity | None = Field(
        default=None, description="Inputs varied by `chisan compare` (`chisan plan` ignores them)."
    )
    second_life: SecondLife | None = Field(
        default=None, description="Second-life storage offered to the plan (none = not offered)."
    )
    roadmap: dict[str, Any] | None = Field(
        default=None, description="Settings of `chisan roadmap` (validated by it; `chisan plan` ignores them)."
    )
    base_dir: Path = Field(default=Path("."), exclude=True, description="Folder relative paths refer to.")

    @model_validator(mode="before")
    @classmethod
    def _renamed_fields(cls, data: Any) -> Any:
        return renamed_drivetrain_fields(data)

    @model_validator(mode="after")
    def _unique_station_names(self) -> Scenario:
        names = [s.name for s in self.stations]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"station names must be unique; repeated: {', '.join(dupes)}")
        shares = [s.member_share_fraction for s in self.stations]
        given = [s for s in shares if s is not None]
        if given and len(given) != len(shares):
            raise ValueError("give member_share_fraction for every station or for none")
        if given and abs(sum(given) - 1.0) > 1e-6:
            raise ValueError(f"member_share_fraction of the stations must sum to 1, they sum to {sum(given):.4g}")
        return self

    def site_names(self) -> list[str]:
        """Names of the metered sites, in order: the declared [[sites]], then each station without one."""
        declared = [x.name for x in self.sites]
        own = [s.name for s in self.stations if s.site is None and s.name not in declared]
        return declared + own

    @model_validator(mode="after")
    def _sites_are_known(self) -> Scenario:
        declared = [x.name for x in self.sites]
        dupes = sorted({n for n in declared if declared.count(n) > 1})
        if dupes:
            raise ValueError(f"site names must be unique; repeated: {', '.join(dupes)}")
        known = self.site_names()
        named = [(f"stations[{i}].site", s.site) for i, s in enumerate(self.stations)]
        named += [("technologies.storage.site", self.technologies.storage.site)]
        named += [("technologies.wind.site", self.technologies.wind.site)]
        if self.second_life is not None and self.second_life.site != "any":
            named += [("second_life.site", self.second_life.site)]
        for i, link in enumerate(self.grid.links):
            named += [(f"grid.links[{i}].from_site", link.from_site), (f"grid.links[{i}].to_site", link.to_site)]
        for where, name in named:
            if name is not None and name not in known:
                raise ValueError(f"{where} = {name!r} is not a site; the sites are {', '.join(known)}")
        for i, s in enumerate(self.stations):
            if s.site is not None and s.pv_max_kw is not None:
                raise ValueError(
                    f"stations[{i}].pv_max_kw is set but station {s.name!r} is behind site {s.site!r}: "
                    "give the roof limit as sites.pv_max_kw"
                )
            if s.site is not None and s.storage_max_kwh is not None:
                raise ValueError(
                    f"stations[{i}].storage_max_kwh is set but station {s.name!r} is behind site {s.site!r}: "
                    "give the storage limit as sites.storage_max_kwh"
                )
        if self.grid.topology == "single_meter" and (self.sites or self.grid.links):
            raise ValueError("grid.topology = 'single_meter' has one meter: remove [[sites]] and grid.links")
        if (problem := site_tariff_problem(self)) is not None:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _autonomous_fleet_is_simulated(self) -> Scenario:
        if self.fleet.kind != "autonomous":
            return self
        for i, s in enumerate(self.stations):
            if s.vehicles is not None:
                raise ValueError(
                    f"stations[{i}].vehicles = {s.vehicles}: with fleet.kind = 'autonomous' the simulation sizes and "
                    "homes the fleet; remove vehicles (fix the size with fleet.autonomous.cars)"
                )
        if not any(s.latitude_deg is not None and s.longitude_deg is not None for s in self.stations):
            raise ValueError(
                "fleet.kind = 'autonomous' charges its cars at the stations: give latitude_deg and longitude_deg "
                "of at least one station"
            )
        return self

    @model_validator(mode="after")
    def _resilience_names_stations(self) -> Scenario:
        if self.resilience is None:
            return self
        known = [s.name for s in self.stations]
        named = [(f"resilience.shelters[{i}].station", sh.station) for i, sh in enumerate(self.resilience.shelters)]
        called = self.resilience.called_stations
        if isinstance(called, list):
            named += [(f"resilience.called_stations[{i}]", name) for i, name in enumerate(called)]
        for where, name in named:
            if name is not None and name not in known:
                raise ValueError(f"{where} = {name!r} is not a station; the stations are {', '.join(known)}")
        shelters = [sh.name for sh in self.resilience.shelters]
        dupes = sorted({n for n in shelters if shelters.count(n) > 1})
        if dupes:
            raise ValueError(f"resilience shelter names must be unique; repeated: {', '.join(dupes)}")
        return self

    def resolve(self, path: Path | None) -> Path | None:
        """Return ``path`` made absolute against the scenario's folder (``None`` stays ``None``)."""
        if path is None:
            return None
        return path if path.is_absolute() else (self.base_dir / path)
