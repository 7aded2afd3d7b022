"""Technologies of the scenario (:mod:`chisan.scenario.schema`): PV, wind, storage, chargers and the hydrogen
chain (electrolyser, compressor, storage, dispenser), with their costs. Units as in :mod:`chisan.scenario.schema`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from chisan.scenario.schema_base import Fraction, NonNegative, Positive, _Section


class _Technology(_Section):
    capex_per_kw: NonNegative = Field(default=0.0, description="Investment per kW [currency/kW].")
    fixed_om_per_kw_year: NonNegative = Field(default=0.0, description="Fixed O&M [currency/kW/year].")
    lifetime_years: Annotated[float, Field(gt=0, le=100)] = 20.0
    min_kw: NonNegative = Field(default=0.0, description="Lower bound of the capacity (e.g. existing) [kW].")
    max_kw: NonNegative | None = Field(default=None, description="Site limit of the capacity [kW]; None = none.")
    fixed_kw: NonNegative | None = Field(default=None, description="Fix the capacity instead of optimising [kW].")
    embodied_kg_per_kw: NonNegative = Field(default=0.0, description="Embodied emissions [kg CO2e/kW].")

    @model_validator(mode="after")
    def _bounds_ordered(self) -> _Technology:
        if self.max_kw is not None and self.min_kw > self.max_kw:
            raise ValueError(f"min_kw = {self.min_kw} exceeds max_kw = {self.max_kw}")
        if self.fixed_kw is not None and self.max_kw is not None and self.fixed_kw > self.max_kw:
            raise ValueError(f"fixed_kw = {self.fixed_kw} exceeds max_kw = {self.max_kw}")
        return self


class PV(_Technology):
    """Solar PV, capacity in kW of DC nameplate (kWp)."""

    enabled: bool = True
    lifetime_years: Annotated[float, Field(gt=0, le=100)] = 25.0
    tilt_deg: float = Field(default=20.0, ge=0, le=90)
    azimuth_deg: float = Field(default=180.0, ge=0, lt=360, description="180 = south.")
    dc_ac_ratio: Annotated[float, Field(ge=0.5, le=3.0)] = 1.2
    losses_percent: Annotated[float, Field(ge=0, lt=100)] = 14.08


class Wind(_Technology):
    """Wind turbines, capacity in kW rated."""

    enabled: bool = True
    turbine_type: str = "E-53/800"
    site: str | None = Field(default=None, description="Site whose meter the turbine is behind (default: the first).")
    hub_height_m: Positive | None = None
    roughness_length_m: Positive = 0.1


class Storage(_Section):
    """Stationary battery storage at the stations (new, or second-life packs)."""

    enabled: bool = True
    capex_per_kwh: NonNegative = 0.0
    capex_per_kw: NonNegative = 0.0
    fixed_om_per_kwh_year: NonNegative = 0.0
    lifetime_years: Annotated[float, Field(gt=0, le=100)] = 15.0
    max_kwh: NonNegative | None = None
    max_kw: NonNegative | None = None
    fixed_kwh: NonNegative | None = None
    fixed_kw: NonNegative | None = None
    charge_efficiency_fraction: Annotated[float, Field(gt=0, le=1)] = 0.95
    discharge_efficiency_fraction: Annotated[float, Field(gt=0, le=1)] = 0.95
    self_discharge_per_hour_fraction: Annotated[float, Field(ge=0, lt=0.1)] = 0.0
    max_c_rate_per_h: Positive = Field(default=1.0, description="Power ≤ c-rate × energy [1/h].")
    embodied_kg_per_kwh: NonNegative = 0.0
    site: str | None = Field(
        default=None,
        description="The only site whose meter storage may be behind; omit for every site that gives a "
        "storage_max_kwh (sites / stations), or, when none does, the first site.",
    )


class Chargers(_Section):
    """Charger costs (counted in the annualised cost; the number follows the stations)."""

    capex_per_charger: NonNegative = 0.0
    fixed_om_per_charger_year: NonNegative = 0.0
    lifetime_years: Annotated[float, Field(gt=0, le=100)] = 10.0


class Electrolyser(_Section):
    """Electrolyser of the hydrogen station (used only with a [hydrogen] table; chisan.plan.hydrogen).

    Defaults: US DOE Hydrogen and Fuel Cell Technologies Office, technical targets for liquid alkaline electrolysis
    (2022 status: system 55 kWh/kg, uninstalled system $500/kW of which the stack $250/kW, stack life 60,000 h;
    https://www.energy.gov/eere/fuelcells/technical-targets-liquid-alkaline-electrolysis). Costs are 0 by default:
    give them in the scenario's currency.
    """

    enabled: bool = True
    capex_per_kw: NonNegative = Field(default=0.0, description="Installed system per kW electric [currency/kW].")
    fixed_om_per_kw_year: NonNegative = Field(default=0.0, description="Fixed O&M [currency/kW/year].")
    lifetime_years: Annotated[float, Field(gt=0, le=100)] = 20.0
    stack_lifetime_years: Annotated[float, Field(gt=0, le=100)] = Field(
        default=10.0,
        description="Years between stack replacements (DOE 2022 status 60,000 h ≈ 7 years at 8,760 h/year; a "
        "PV-driven stack runs fewer hours; assumption).",
    )
    stack_cost_fraction: Fraction = Field(
        default=0.5, description="Stack share of capex_per_kw, paid again at each replacement (DOE: $250 of $500)."
    )
    kwh_per_kg: Annotated[float, Field(ge=33.33, le=200)] = Field(
        default=55.0, description="System electricity per kg of hydrogen [kWh/kg] (DOE 2022 status, 61 % LHV)."
    )
    min_load_fraction: Fraction = Field(
        default=0.0,
        description="Least load as a fraction of the capacity [-]; linear (no on/off): above 0 it never stops.",
    )
    min_kw: NonNegative = 0.0
    max_kw: NonNegative | None = None
    fixed_kw: NonNegative | None = None


class Compressor(_Section):
    """Compression of the hydrogen made on site, electricity drawn at the station's site."""

    kwh_per_kg: Annotated[float, Field(ge=0, le=20)] = Field(
        default=3.0,
        description="Electricity per kg compressed [kWh/kg]; 1.5-6 kWh/kg depending on the pressure "
        "(Renewable Hydrogen Alliance, renewableh2.org). Delivered hydrogen arrives compressed.",
    )


class HydrogenStorage(_Section):
    """Hydrogen store of the station, in kg (kWh of LHV inside the model)."""

    enabled: bool = True
    capex_per_kg: NonNegative = Field(default=0.0, description="Installed store per kg [currency/kg].")
    fixed_om_per_kg_year: NonNegative = 0.0
    lifetime_years: Annotated[float, Field(gt=0, le=100)] = 20.0
    max_kg: NonNegative | None = None
    fixed_kg: NonNegative | None = None


class HydrogenDispenser(_Section):
    """Dispenser capacity of the station [kg/h]."""

    capex_per_kg_per_h: NonNegative = Field(default=0.0, description="Installed per kg/h [currency/(kg/h)].")
    fixed_om_per_kg_per_h_year: NonNegative = 0.0
    lifetime_years: Annotated[float, Field(gt=0, le=100)] = 10.0
    max_kg_per_h: NonNegative | None = None
    fixed_kg_per_h: NonNegative | None = None


class Technologies(_Section):
    pv: PV = PV()
    wind: Wind = Wind()
    storage: Storage = Storage()
    chargers: Chargers = Chargers()
    electrolyser: Electrolyser = Electrolyser()
    compressor: Compressor = Compressor()
    hydrogen_storage: HydrogenStorage = HydrogenStorage()
    hydrogen_dispenser: HydrogenDispenser = HydrogenDispenser()
