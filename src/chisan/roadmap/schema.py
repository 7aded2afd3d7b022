"""The ``[roadmap]`` table of a scenario file: the years, how the town changes over them, and the 4R settings.

A roadmap reads the same TOML file as ``chisan plan``; its settings live in their own ``[roadmap]`` table,
parsed and validated here (the planning scenario itself is validated by :mod:`chisan.scenario`). Every
quantity carries its unit in its name, as in the scenario: ``_fraction`` [0-1], ``_years`` [years],
``_kg_per_kwh`` [kg CO2e/kWh], ``_per_kwh`` [currency/kWh]. Unknown keys are rejected.

Example::

    [roadmap]
    start_year = 2026
    end_year = 2050
    target_year = 2050
    fleet_growth_per_year_fraction = 0.01
    retire_soh_fraction = 0.8                     # a pack leaves its car at 80 % SOH (NREL: 70-80 %)
    second_life_end_soh_fraction = 0.6            # and is recycled from stationary storage at 60 %
    second_life_price_per_kwh = 12500

    [roadmap.grid_emission_factor_kg_per_kwh]     # points of the grid's path, linear in between
    2026 = 0.4535
    2030 = 0.37
    2050 = 0.0

    [roadmap.route_shares]                        # what happens to packs leaving the cars
    reuse = 0.5
    resell = 0.1
    refabricate = 0.2
    recycle = 0.2

References
----------
.. [1] E. Emilsson, L. Dahllöf (2019), Lithium-Ion Vehicle Battery Production: Status 2019, IVL Swedish
   Environmental Research Institute, report C 444 (cell production 61-106 kg CO2e/kWh).
.. [2] J. Neubauer, K. Smith, E. Wood, A. Pesaran (2015), Identifying and Overcoming Critical Barriers to
   Widespread Second Use of PEV Batteries, NREL/TP-5400-63332 (retire at 70-80 % SOH, about 10 more years
   stationary; repurposed packs US$38-132/kWh).
.. [3] 4R Energy Corporation / Nissan: refabricated 24 kWh Leaf pack ¥300,000 (¥12,500/kWh) against ¥650,000
   new (DESIGN.md §7).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chisan.batteries.ageing import AGEING_MODELS
from chisan.batteries.field import band_factors, field_factor
from chisan.batteries.lifecycle import DEFAULT_GOOD_MODULE_SHARE, DEFAULT_ROUTE_SHARES, ROUTES
from chisan.batteries.materials import CELL_PRODUCTION_KG_CO2E_PER_KWH, CHEMISTRIES, PROCESSES, check_chemistry
from chisan.exceptions import ScenarioError
from chisan.scenario.load import scenario_from_dict
from chisan.scenario.schema import Scenario

DEFAULT_END_YEAR: int = 2050
"""Last year of a roadmap when none is given: Japan's 2050 carbon-neutrality goal."""

DEFAULT_CELL_PRODUCTION_KG_CO2E_PER_KWH: float = 0.5 * sum(CELL_PRODUCTION_KG_CO2E_PER_KWH)
"""Mid-point of IVL 2019's 61-106 kg CO2e/kWh for cell production [1]_: 83.5 kg CO2e/kWh."""

SECOND_LIFE_PRICE_JPY_PER_KWH: float = 300_000 / 24
"""Price of a second-life pack in JPY [JPY/kWh]: 4R Energy's refabricated 24 kWh Leaf pack at ¥300,000 [3]_,
¥12,500/kWh, inside NREL's US$38-132/kWh for repurposed packs [2]_ at ¥100-150 per US$."""

SECOND_LIFE_LIFETIME_YEARS: float = 10.0
"""Years a second-life pack is expected to serve stationary storage (NREL [2]_), for its annuity [years]."""

EXAMPLE_ROADMAP_TOML: str = """\
[roadmap]
# chisan roadmap: the town run forward year by year to its carbon target. Figures marked "assumption" are
# illustrative; change them for your town.
start_year = 2026
end_year = 2050
target_year = 2050                       # Japan's 2050 carbon-neutrality goal
plan_years = 3                           # planned in full (first, middle, last); the others interpolated
fleet_growth_per_year_fraction = 0.01    # assumption: 1 % more cars and members every year
vehicle_service_years = 10               # assumption: shared cars replaced after 10 years, packs to the 4Rs
retire_soh_fraction = 0.8                # a pack leaves its car at 80 % SOH (NREL: 70-80 %)
second_life_end_soh_fraction = 0.6       # and is recycled from stationary storage at 60 % (NREL)
second_life_price_per_kwh = 12500        # 4R Energy: refabricated 24 kWh Leaf pack ¥300,000
second_life_ageing_model = "lmo_nissan_leaf"  # NREL's fit to used Leaf modules (BLAST-Lite), from the retirement SOH
recycling_process = "hydrometallurgy"

[roadmap.grid_emission_factor_kg_per_kwh]
# Policy targets, not forecasts: Tokyo-area mean 2024 (Electricity Maps JP-TK, the example's factor), the
# power sector's FY2030 target of about 0.37 kg CO2/kWh (Electric Power Council for a Low Carbon Society), and a
# carbon-neutral grid in 2050.
2026 = 0.4535
2030 = 0.37
2050 = 0.0

[roadmap.route_shares]                   # assumption: what happens to packs leaving the cars
reuse = 0.5
resell = 0.1
refabricate = 0.2
recycle = 0.2
"""
"""The ``[roadmap]`` table used with the bundled example town (``chisan roadmap`` without a file), with the
source or the word "assumption" next to every figure; ``chisan roadmap --example`` prints it."""

PlanYears = int | list[int]


class RoadmapSettings(BaseModel):
    """The ``[roadmap]`` table, validated. Years left out default to the scenario's (see :func:`resolve`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_year: int | None = Field(default=None, ge=2000, le=2100, description="First year; default horizon.year.")
    end_year: int | None = Field(default=None, ge=2000, le=2150, description="Last year; default 2050.")
    target_year: int | None = Field(
        default=None, ge=2000, le=2150, description="Year the town wants net zero by; default end_year."
    )
    peak_by_year: int | None = Field(
        default=None,
        ge=2000,
        le=2150,
        description="Year the net emissions must peak by (China's path: peak before 2030, target_year = 2060); "
        "the report states the peak year against it. None: no peak target (Japan's path).",
    )
    plan_years: PlanYears = Field(
        default=3,
        description="Years planned in full: a number (evenly spaced, first and last included) or a list of "
        "years; the other years are interpolated between them.",
    )
    fleet_growth_per_year_fraction: float = Field(
        default=0.0, ge=-0.5, le=1.0, description="Yearly growth of the fleet and its members [fraction/year]."
    )
    grid_emission_factor_kg_per_kwh: dict[str, float] | None = Field(
        default=None,
        description="Points {year = factor} of the grid's location-based factor [kg CO2e/kWh], linear in "
        "between and held flat outside; default: the scenario's factor every year.",
    )
    grid_emission_factor_change_per_year_fraction: float | None = Field(
        default=None, ge=-1.0, le=1.0, description="Instead of points: yearly change of the factor [fraction/year]."
    )
    retire_soh_fraction: float = Field(default=0.8, description="SOH at which a pack leaves its car [fraction].")
    vehicle_service_years: float | None = Field(
        default=None,
        gt=0,
        le=50,
        description="Years a vehicle serves before it is replaced by a new one, its pack going to the 4Rs "
        "whatever its SOH; None = vehicles are kept and only packs at the threshold are replaced.",
    )
    second_life_end_soh_fraction: float = Field(
        default=0.6, description="SOH at which a reused, resold or refabricated pack is recycled [fraction]."
    )
    route_shares: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_ROUTE_SHARES),
        description="Share of retired packs per route (resell, reuse, refabricate, recycle) [fraction], sum 1.",
    )
    recycling_process: str | dict[str, float] = Field(
        default="hydrometallurgy", description="pyrometallurgy, hydrometallurgy, direct, or shares of them."
    )
    good_module_share_fraction: float = Field(
        default=DEFAULT_GOOD_MODULE_SHARE, description="Share of a refabricated pack's modules reused [fraction]."
    )
    second_life_derate_fraction: float = Field(
        default=1.0, description="Usable share of a reused pack's remaining capacity [fraction]."
    )
    second_life_price_per_kwh: float | None = Field(
        default=None, ge=0.0, description="Price of second-life storage [currency/kWh]; default ¥12,500 in JPY."
    )
    second_life_lifetime_years: float = Field(
        default=SECOND_LIFE_LIFETIME_YEARS, gt=0, le=50, description="Annuity period of second-life storage."
    )
    second_life_idle_soc_fraction: float = Field(
        default=0.5, ge=0.0, le=1.0, description="SOC at which reused packs the plan does not use are kept."
    )
    chemistry: str | None = Field(default=None, description="Cell chemistry; default the vehicle's.")
    ageing_model: str | None = Field(
        default=None,
        description=(
            "Ageing model name (nmc622_denso, nmc111_kokam, lfp_250ah, lfp_naumann, nmc811_lgmj1, "
            "nca_panasonic, lmo_nissan_leaf); default by chemistry."
        ),
    )
    second_life_ageing_model: str = Field(
        default="lmo_nissan_leaf",
        description=(
            "Ageing model of reused packs in second life (SOH = SOH at retirement × its relative capacity): "
            "lmo_nissan_leaf (NREL BLAST-Lite fit to used Nissan Leaf modules, Braco et al.) or any model name; "
            "'car' = the car's model runs on."
        ),
    )
    battery_temperature_offset_c: float = Field(
        default=0.0, ge=-20, le=40, description="Cell temperature above the air temperature [°C]."
    )
    cell_production_kg_co2e_per_kwh: float = Field(
        default=DEFAULT_CELL_PRODUCTION_KG_CO2E_PER_KWH, ge=0.0, description="Embodied emissions of new packs."
    )
    embodied_accounting: Literal["annualised", "upfront"] = Field(
        default="annualised",
        description="'annualised': spread over each asset's service life; 'upfront': in the year it is made.",
    )
    export_credit: bool = Field(
        default=False, description="Subtract exported renewable energy × grid factor from net emissions."
    )
    depot_drivetrain_shares: dict[int, dict[str, float]] | None = Field(
        default=None,
        description="Drivetrain shares of the depots' vehicle-days by year, e.g. {2026 = {diesel = 1.0}, 2031 = "
        "{diesel = 0.5, battery_electric = 0.5}, 2036 = {battery_electric = 1.0}} (diesel retiring at a 10-year "
        "vehicle life); a year's shares hold until the next year given. Only the battery-electric share is planned.",
    )

    @field_validator(
        "retire_soh_fraction",
        "second_life_end_soh_fraction",
        "good_module_share_fraction",
        "second_life_derate_fraction",
    )
    @classmethod
    def _threshold(cls, value: float) -> float:
        if not (0.0 < value <= 1.0):
            raise ValueError("allowed: a fraction in (0, 1], e.g. 0.8 for 80 % of nominal capacity")
        return value

    @field_validator("depot_drivetrain_shares")
    @classmethod
    def _drivetrain_shares(cls, value: dict[int, dict[str, float]] | None) -> dict[int, dict[str, float]] | None:
        if value is None:
            return value
        allowed = ("battery_electric", "fuel_cell", "diesel")
        for year, shares in value.items():
            unknown = sorted(set(shares) - set(allowed))
            if unknown:
                raise ValueError(f"year {year}: unknown drivetrain(s) {unknown}; allowed: {', '.join(allowed)}")
            total = sum(shares.values())
            if any(not 0.0 <= x <= 1.0 for x in shares.values()) or abs(total - 1.0) > 1e-9:
                raise ValueError(f"year {year}: shares {shares} are not allowed; allowed: fractions summing to 1")
        return value

    @field_validator("route_shares")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(ROUTES))
        if unknown:
            raise ValueError(f"unknown route(s) {unknown}; allowed: {', '.join(ROUTES)}")
        out = {route: float(value.get(route, 0.0)) for route in ROUTES}
        bad = {k: v for k, v in out.items() if not 0.0 <= v <= 1.0}
        if bad:
            raise ValueError(f"shares {bad} are not fractions; allowed: each in [0, 1], summing to 1")
        total = sum(out.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"the shares sum to {total:.6g}; allowed: shares of {', '.join(ROUTES)} summing to 1")
        return out

    @field_validator("recycling_process")
    @classmethod
    def _process(cls, value: str | dict[str, float]) -> str | dict[str, float]:
        names = [value] if isinstance(value, str) else list(value)
        unknown = [n for n in names if str(n).strip().lower() not in PROCESSES]
        if unknown:
            raise ValueError(f"unknown process {unknown[0]!r}; allowed: {', '.join(PROCESSES)}")
        if isinstance(value, str):
            return value.strip().lower()
        shares = {str(k).strip().lower(): float(v) for k, v in value.items()}
        if any(not 0.0 <= v <= 1.0 for v in shares.values()) or abs(sum(shares.values()) - 1.0) > 1e-9:
            raise ValueError(f"process shares {shares} must be fractions summing to 1")
        return shares

    @field_validator("chemistry")
    @classmethod
    def _chemistry(cls, value: str | None) -> str | None:
        if value is None:
            return None
        canonical = {c.lower(): c for c in CHEMISTRIES}
        key = value.strip().lower()
        if key not in canonical:
            raise ValueError(f"unknown chemistry {value!r}; allowed: {', '.join(CHEMISTRIES)}")
        return canonical[key]

    @field_validator("ageing_model")
    @classmethod
    def _model(cls, value: str | None) -> str | None:
        if value is None:
            return None
        key = value.strip().lower()
        if key not in AGEING_MODELS:
            raise ValueError(f"unknown ageing model {value!r}; allowed: {', '.join(sorted(AGEING_MODELS))}")
        return key

    @field_validator("second_life_ageing_model")
    @classmethod
    def _second_life_model(cls, value: str) -> str:
        key = value.strip().lower()
        if key != "car" and key not in AGEING_MODELS:
            raise ValueError(
                f"unknown second-life ageing model {value!r}; allowed: car, {', '.join(sorted(AGEING_MODELS))}"
            )
        return key

    @field_validator("grid_emission_factor_kg_per_kwh")
    @classmethod
    def _path(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("give at least one point {year = factor}")
        for year, factor in value.items():
            if not re.fullmatch(r"\d{4}", str(year)):
                raise ValueError(f"key {year!r} is not a year; allowed: keys such as 2030 = 0.37")
            if not (np.isfinite(factor) and factor >= 0):
                raise ValueError(f"factor {factor!r} for {year}; allowed: a number >= 0 kg CO2e/kWh")
        return {str(k): float(v) for k, v in sorted(value.items())}

    @field_validator("plan_years")
    @classmethod
    def _plan_years(cls, value: PlanYears) -> PlanYears:
        if isinstance(value, int) and value < 2:
            raise ValueError("plan at least 2 years (the first and the last), or give a list of years")
        if isinstance(value, list) and not value:
            raise ValueError("give at least one year to plan")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RoadmapSettings:
        if self.second_life_end_soh_fraction >= self.retire_soh_fraction:
            raise ValueError(
                f"second_life_end_soh_fraction = {self.second_life_end_soh_fraction} must be below "
                f"retire_soh_fraction = {self.retire_soh_fraction} (a pack retires from its car before its "
                "second life ends)"
            )
        if self.grid_emission_factor_kg_per_kwh is not None and self.grid_emission_factor_change_per_year_fraction:
            raise ValueError(
                "give grid_emission_factor_kg_per_kwh (points) or grid_emission_factor_change_per_year_fraction, "
                "not both"
            )
        if self.start_year is not None and self.end_year is not None and self.end_year <= self.start_year:
            raise ValueError(f"end_year = {self.end_year} must be after start_year = {self.start_year}")
        return self


@dataclass(frozen=True)
class ResolvedRoadmap:
    """Settings made concrete for one scenario (years filled in, defaults resolved).

    Attributes
    ----------
    settings : RoadmapSettings
    years : list of int
        Every year of the roadmap, consecutive.
    planned_years : list of int
        Years planned in full (always the first and the last).
    target_year : int
    grid_factor_kg_per_kwh : pandas.Series
        Location-based grid factor of each year [kg CO2e/kWh].
    chemistry : str
    ageing_model : str
    second_life_price_per_kwh : float
        [currency/kWh].
    field_factors : dict of float
        Field calibration factors ``low``, ``central``, ``high`` of the ageing model (the scenario's
        ``[batteries]``, :mod:`chisan.batteries.field`); the roadmap ages the packs with ``central``.
    peak_by_year : int or None
        Year the emissions must peak by (``[roadmap] peak_by_year``), or None.
    """

    settings: RoadmapSettings
    years: list[int]
    planned_years: list[int]
    target_year: int
    grid_factor_kg_per_kwh: pd.Series
    chemistry: str
    ageing_model: str
    second_life_price_per_kwh: float
    field_factors: Mapping[str, float] = field(default_factory=lambda: {"low": 1.0, "central": 1.0, "high": 1.0})
    peak_by_year: int | None = None


DEFAULT_AGEING_MODEL_BY_CHEMISTRY: Mapping[str, str] = {
    "NMC111": "nmc111_kokam",
    "NMC622": "nmc622_denso",
    "NMC811": "nmc111_kokam",
    "LFP": "lfp_250ah",
    "NCA": "nca_panasonic",
}
"""Ageing model used for each chemistry when the roadmap names none. NMC622 packs (every car of the catalogue) age
with BLAST-Lite's fit of DENSO's 50 Ah NMC622|graphite EV cells (Smith et al. 2021), an automotive cell of the same
chemistry; NMC811 packs with the Kokam NMC111 model (Smith et al. 2017), an approximation. BLAST-Lite's LG MJ1
NMC811|graphite-Si fit (``nmc811_lgmj1``) can be named in ``ageing_model`` but is not the NMC811 default: it is a
high-energy 18650 cell of poor life (about 9 % calendar fade in its first year at 20 °C and half charge,
BLAST-Lite's own storage value 0.9069), not a car pack. NCA packs (a vehicle's ``pack_chemistry``) age with
``nca_panasonic``; ``lmo_nissan_leaf`` (used Leaf modules in second life) is selectable by name; see
:data:`chisan.batteries.ageing.AGEING_MODELS`. The key is the vehicle's ``pack_chemistry`` (catalogue), unless the
roadmap names a ``chemistry``."""


def planned_years(years: list[int], plan_years: PlanYears) -> list[int]:
    """The years planned in full: ``plan_years`` evenly spaced years, or the given list, plus both ends.

    Parameters
    ----------
    years : list of int
        All years of the roadmap.
    plan_years : int or list of int

    Raises
    ------
    ScenarioError
        A listed year outside the roadmap.
    """
    if isinstance(plan_years, int):
        count = min(plan_years, len(years))
        positions = np.unique(np.round(np.linspace(0, len(years) - 1, count)).astype(int))
        return [years[i] for i in positions]
    outside = sorted(set(plan_years) - set(years))
    if outside:
        raise ScenarioError(
            f"[roadmap] plan_years: {outside} outside the roadmap {years[0]}-{years[-1]}; allowed: years within it."
        )
    return sorted(set(plan_years) | {years[0], years[-1]})


def grid_factor_path(years: list[int], settings: RoadmapSettings, base_kg_per_kwh: float) -> pd.Series:
    """Location-based grid emission factor of each year [kg CO2e/kWh].

    Points given in ``grid_emission_factor_kg_per_kwh`` are joined linearly and held flat before the first
    and after the last; a yearly change compounds from ``base_kg_per_kwh`` in the first year; with neither the
    factor stays at ``base_kg_per_kwh``.
    """
    index = pd.Index(years, name="year")
    if settings.grid_emission_factor_kg_per_kwh:
        points = {int(k): v for k, v in settings.grid_emission_factor_kg_per_kwh.items()}
        xs = np.array(sorted(points), dtype=float)
        values = np.interp(np.asarray(years, dtype=float), xs, [points[int(x)] for x in xs])
        return pd.Series(values, index=index, name="grid_factor_kg_per_kwh")
    rate = settings.grid_emission_factor_change_per_year_fraction or 0.0
    values = base_kg_per_kwh * (1.0 + rate) ** (np.asarray(years) - years[0])
    return pd.Series(values, index=index, name="grid_factor_kg_per_kwh")


def parse_years(text: str) -> tuple[int, int]:
    """``"2026-2050"`` → ``(2026, 2050)``; ScenarioError for anything else."""
    match = re.fullmatch(r"\s*(\d{4})\s*[-–:]\s*(\d{4})\s*", str(text))
    if not match or int(match.group(2)) <= int(match.group(1)):
        raise ScenarioError(f"--years {text!r}: allowed: a range of calendar years such as 2026-2050.")
    return int(match.group(1)), int(match.group(2))


def resolve(
    settings: RoadmapSettings,
    scenario: Scenario,
    *,
    chemistry: str,
    base_grid_factor_kg_per_kwh: float | None = None,
    years: tuple[int, int] | None = None,
    pack_chemistry: str | None = None,
) -> ResolvedRoadmap:
    """Fill in the defaults that depend on the scenario.

    Parameters
    ----------
    settings : RoadmapSettings
    scenario : Scenario
    chemistry : str
        The vehicle's chemistry (used unless the roadmap names one).
    base_grid_factor_kg_per_kwh : float, optional
        The scenario's mean grid factor [kg CO2e/kWh] (default ``grid.emission_factor_kg_per_kwh``).
    years : (int, int), optional
        First and last year, overriding the table (``chisan roadmap --years``).
    pack_chemistry : str, optional
        The vehicle's pack chemistry (catalogue ``pack_chemistry``), which selects the default ageing model;
        default ``chemistry``.
    """
    start = years[0] if years else (settings.start_year or scenario.horizon.year)
    end = years[1] if years else (settings.end_year or max(DEFAULT_END_YEAR, start + 1))
    if end <= start:
        raise ScenarioError(f"[roadmap] end_year = {end} must be after start_year = {start}.")
    all_years = list(range(start, end + 1))
    target = settings.target_year or end
    if not start <= target <= end:
        raise ScenarioError(
            f"[roadmap] target_year = {target} is outside the roadmap {start}-{end}; allowed: a year within it."
        )
    chem = settings.chemistry or check_chemistry(chemistry, where="the vehicle's chemistry ([roadmap] chemistry)")
    key = settings.chemistry or pack_chemistry or chem
    model = settings.ageing_model or DEFAULT_AGEING_MODEL_BY_CHEMISTRY.get(key)
    if model is None:
        raise ScenarioError(
            f"[roadmap] no default ageing model for {key} packs; name one in ageing_model (allowed: "
            f"{', '.join(sorted(AGEING_MODELS))})."
        )
    price = settings.second_life_price_per_kwh
    if price is None:
        if scenario.finance.currency != "JPY":
            raise ScenarioError(
                f"[roadmap] second_life_price_per_kwh is required when the currency is "
                f"{scenario.finance.currency!r} (the default, ¥12,500/kWh from 4R Energy, is in JPY); NREL gives "
                "US$38-132/kWh for repurposed packs."
            )
        price = SECOND_LIFE_PRICE_JPY_PER_KWH
    base = (
        scenario.grid.emission_factor_kg_per_kwh if base_grid_factor_kg_per_kwh is None else base_grid_factor_kg_per_kwh
    )
    batteries = scenario.batteries
    low, mid, high = batteries.field_fade_band_per_year_fraction
    factors = band_factors(
        field_factor(model, batteries.field_calibration_factor), {"low": low, "central": mid, "high": high}
    )
    return ResolvedRoadmap(
        field_factors=factors,
        settings=settings,
        years=all_years,
        planned_years=planned_years(all_years, settings.plan_years),
        target_year=target,
        grid_factor_kg_per_kwh=grid_factor_path(all_years, settings, base),
        chemistry=chem,
        ageing_model=model,
        second_life_price_per_kwh=float(price),
        peak_by_year=settings.peak_by_year,
    )


def roadmap_from_dict(data: Mapping[str, Any] | None, *, source: str = "<roadmap>", text: str | None = None):
    """Validate a ``[roadmap]`` table.

    Parameters
    ----------
    data : mapping or None
        The table (``None`` = all defaults).
    source : str
        File name for messages.
    text : str, optional
        The TOML text, to point at the line of a bad key.

    Raises
    ------
    ScenarioError
        One message naming the file, the key (and line), the value and what is allowed.
    """
    try:
        return RoadmapSettings.model_validate(dict(data or {}))
    except ValidationError as err:
        raise ScenarioError(_format(err, source, text)) from None


def _read_toml(path: Path) -> tuple[dict, str]:
    if not path.is_file():
        raise ScenarioError(f"{path}: file not found")
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML: {err}") from err


def _roadmap_table(data: dict, path: Path) -> dict | None:
    table = data.pop("roadmap", None)
    if table is not None and not isinstance(table, dict):
        raise ScenarioError(f"{path}: 'roadmap' must be a table ([roadmap]), got {table!r}.")
    return table


def load_roadmap(path: str | Path, settings_path: str | Path | None = None) -> tuple[Scenario, RoadmapSettings]:
    """Read a scenario file and its ``[roadmap]`` table (in the same file, or in a file of its own).

    The ``[roadmap]`` table is taken out before the scenario is validated, so the rest of the file is checked
    exactly as ``chisan plan`` checks it (``chisan plan`` accepts the table and leaves it to this command), or it
    can stand in a file of its own (``settings_path``).

    Parameters
    ----------
    path : str or Path
        Scenario TOML file.
    settings_path : str or Path, optional
        A TOML file holding the ``[roadmap]`` table (or its keys at the top level).

    Returns
    -------
    (Scenario, RoadmapSettings)

    Raises
    ------
    ScenarioError
    """
    path = Path(path)
    data, text = _read_toml(path)
    table = _roadmap_table(data, path)
    scenario = scenario_from_dict(data, source=str(path), base_dir=path.parent.resolve(), text=text)
    if settings_path is None:
        return scenario, roadmap_from_dict(table, source=str(path), text=text)
    settings_path = Path(settings_path)
    if table is not None:
        raise ScenarioError(
            f"{path} has a [roadmap] table and {settings_path} was given too; keep the roadmap settings in one place."
        )
    extra, extra_text = _read_toml(settings_path)
    own = _roadmap_table(extra, settings_path)
    if own is not None and extra:
        raise ScenarioError(
            f"{settings_path}: tables other than [roadmap] ({', '.join(extra)}) are not roadmap settings; "
            "keep the scenario in the scenario file."
        )
    return scenario, roadmap_from_dict(own if own is not None else extra, source=str(settings_path), text=extra_text)


def example_settings() -> RoadmapSettings:
    """The roadmap settings of the bundled example (:data:`EXAMPLE_ROADMAP_TOML`)."""
    data = tomllib.loads(EXAMPLE_ROADMAP_TOML)
    return roadmap_from_dict(data["roadmap"], source="example roadmap", text=EXAMPLE_ROADMAP_TOML)


def _format(err: ValidationError, source: str, text: str | None) -> str:
    lines = []
    for e in err.errors(include_url=False):
        key = ".".join(str(p) for p in e["loc"]) or "(table)"
        line = _line_of(text, e["loc"]) if text else None
        where = f" (line {line})" if line else ""
        if e["type"] == "extra_forbidden":
            allowed = list(RoadmapSettings.model_fields)
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"unknown key {key!r}{where}{hint} Allowed in [roadmap]: {', '.join(allowed)}")
            continue
        value = e.get("input")
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        reason = e["msg"].removeprefix("Value error, ")
        lines.append(f"{key} = {shown}{where}: {reason}" if e["loc"] else reason)
    head = f"{source}: invalid [roadmap]"
    return f"{head}: {lines[0]}" if len(lines) == 1 else head + ":\n  " + "\n  ".join(lines)


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Line of the key ``loc[0]`` inside ``[roadmap]`` (or of its sub-table), best effort."""
    if not loc:
        return None
    key = str(loc[0])
    in_roadmap = False
    for n, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]\s*$", line)
        if header:
            name = header.group(1)
            if name == f"roadmap.{key}":
                return n
            in_roadmap = name == "roadmap"
            continue
        if in_roadmap and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return n
    return None
