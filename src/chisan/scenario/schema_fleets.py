"""Fleets of the scenario (:mod:`chisan.scenario.schema`): the shared car fleet (station-based or autonomous), its
bookings, and fuel-cell fleets. Units as in :mod:`chisan.scenario.schema`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from chisan.scenario.schema_base import Fraction, NonNegative, Positive, _Section


class AutonomousFleet(_Section):
    """A self-driving shared fleet simulated minute by minute (chisan.autonomous), for fleet.kind = 'autonomous'."""

    cars: int | None = Field(
        default=None, ge=1, le=100_000, description="Fleet size; omit for the fewest cars that meet the service level."
    )
    service_level_fraction: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.95,
        description="Share of requests picked up within max_wait_min (sizes the fleet when cars is omitted).",
    )
    max_wait_min: Positive = Field(default=10.0, le=120, description="Wait limit of the service level [min].")
    simulated_days: int = Field(
        default=7,
        ge=1,
        le=31,
        description="Days simulated from the start of the planned period; repeated over a longer period.",
    )
    seed: int = Field(default=0, description="Seed of the door-to-door requests and of the cars' starting charge.")
    requests_path: Path | None = Field(
        default=None,
        description="CSV of requests (time + origin/destination lat/lon or zones); omit to turn the bookings into "
        "door-to-door trips. Relative to the scenario.",
    )
    pv_kw: NonNegative | None = Field(
        default=None,
        description="PV the simulation's charging rule sees at the chargers [kWp]; omit for technologies.pv.fixed_kw, "
        "else 10 kWp per station (the plan then sizes the PV itself).",
    )


class Fleet(_Section):
    """The shared vehicles."""

    kind: Literal["station", "autonomous"] = Field(
        default="station",
        description="'station' = round-trip car-sharing serving the bookings at the stations; 'autonomous' = a "
        "self-driving fleet simulated by chisan.autonomous ([fleet.autonomous]) charging at the stations.",
    )
    autonomous: AutonomousFleet | None = Field(
        default=None, description="Settings of the simulated fleet when kind = 'autonomous' (defaults if omitted)."
    )
    vehicle_model: str = Field(default="nissan_sakura", description="Catalogue key, or 'custom'.")
    battery_kwh: Positive | None = Field(default=None, description="custom: gross battery [kWh].")
    usable_kwh: Positive | None = Field(default=None, description="custom: usable battery [kWh].")
    consumption_ac_kwh_per_km: Positive | None = Field(
        default=None, description="custom: consumption at the plug [kWh/km] (WLTC AC figure)."
    )
    max_ac_charge_kw: Positive | None = Field(default=None, description="custom: on-board charger limit [kW].")
    chemistry: str | None = Field(default=None, description="custom: NMC111, NMC622, NMC811 or LFP.")
    charge_efficiency_fraction: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.9, description="Plug-to-battery efficiency."
    )
    reserve_fraction: Fraction = Field(
        default=0.1,
        description="Energy kept in reserve at every departure, beyond the trip [fraction of usable].",
    )
    v2g: bool = Field(default=False, description="Allow vehicle-to-grid discharge while plugged in.")
    v2g_cycle_cost_per_kwh: NonNegative = Field(
        default=0.0, description="Battery wear charged per kWh discharged to the grid [currency/kWh]."
    )
    battery_holding_cost_per_kwh_h: NonNegative = Field(
        default=0.0,
        description="Cost of keeping energy in a car battery [currency/kWh/h]: calendar ageing at higher state of "
        "charge priced at the pack cost (0 = holding energy is free, and the LP may keep cars full for weeks).",
    )
    max_vehicles_per_station: int = Field(default=50, ge=1, description="Cap when sizing from bookings.")
    turnaround_min: NonNegative = Field(default=0.0, description="Minimum gap between two bookings [min].")
    lease_per_vehicle_year: NonNegative = Field(
        default=0.0, description="Leasing cost of one vehicle [currency/year], counted in cost per km."
    )
    heating_threshold_c: float = Field(default=15.0, description="Below this air temperature heating adds load.")
    cooling_threshold_c: float = Field(default=25.0, description="Above this air temperature cooling adds load.")
    heating_increase_per_c: NonNegative | None = Field(
        default=None, description="Consumption increase per °C below threshold [fraction/°C]; None = default."
    )
    cooling_increase_per_c: NonNegative | None = Field(
        default=None, description="Consumption increase per °C above threshold [fraction/°C]; None = default."
    )

    @model_validator(mode="after")
    def _autonomous_settings_need_the_kind(self) -> Fleet:
        if self.autonomous is not None and self.kind != "autonomous":
            raise ValueError(
                f"[fleet.autonomous] is given but fleet.kind = {self.kind!r}; set kind = 'autonomous' or remove it"
            )
        return self

    @model_validator(mode="after")
    def _custom_needs_figures(self) -> Fleet:
        if self.vehicle_model == "custom":
            missing = [k for k in ("battery_kwh", "consumption_ac_kwh_per_km") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"vehicle_model = 'custom' needs {', '.join(missing)}")
        if self.usable_kwh is not None and self.battery_kwh is not None and self.usable_kwh > self.battery_kwh:
            raise ValueError(f"usable_kwh = {self.usable_kwh} exceeds battery_kwh = {self.battery_kwh}; usable ≤ gross")
        return self


class Bookings(_Section):
    """Bookings: generated from the town's members, or imported from a CSV."""

    source: Literal["generated", "csv"] = "generated"
    path: Path | None = Field(default=None, description="csv: bookings file; relative to the scenario.")
    seed: int = 0
    members: int | None = Field(default=None, ge=0, description="Members; omit for population × membership.")
    membership_fraction: Fraction = Field(default=0.01, description="Members per resident when members omitted.")
    bookings_per_member_per_month: NonNegative = Field(default=2.0)
    mean_duration_h: Positive | None = Field(default=None, description="Mean booking length [h]; None = default.")
    mean_speed_kmh: Positive | None = Field(
        default=None, description="Mean distance per hour booked [km/h]; None = default."
    )
    weekend_factor: Positive | None = Field(default=None, description="Weekend/weekday booking rate ratio.")
    max_distance_km: Positive | None = Field(
        default=None, description="Longest trip generated [km]; longer ones are capped (None = no cap)."
    )

    @model_validator(mode="after")
    def _path_when_csv(self) -> Bookings:
        if self.source == "csv" and self.path is None:
            raise ValueError("bookings.source = 'csv' needs bookings.path (the bookings file)")
        return self


class FuelCellFleet(_Section):
    """A fleet of fuel-cell vehicles and their duties, refuelled at the hydrogen station.

    Every vehicle-day of the duty file (NREL fleet schedule or a CSV of shifts with ``vehicle_day_id, start_h,
    end_h, distance_km``) is one vehicle that runs its shifts on every working day; each shift's hydrogen is
    distance × the class's kg/100 km, dispensed in the hours the vehicle stands at the station before the shift.
    """

    name: str = Field(min_length=1)
    vehicle_class: str = Field(description="A class of chisan/catalogue/fuel_cell_classes.csv.")
    duties: Literal["nrel", "csv"] = Field(default="csv", description="Format of the duty file.")
    path: Path = Field(description="CSV of shifts, or an NREL fleet folder (or its veh_schedules.csv).")
    working_days: Literal["weekdays", "all"] = Field(default="all", description="Days the fleet runs.")

    @field_validator("vehicle_class")
    @classmethod
    def _known_class(cls, value: str) -> str:
        from chisan.catalogue.fuel_cell_classes import fuel_cell_classes

        known = fuel_cell_classes()
        if value not in known:
            raise ValueError(f"{value!r} is not a fuel-cell class; the classes are {', '.join(known)}")
        return value
