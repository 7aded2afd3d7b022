"""A stand-in planner for roadmap tests: constant, hand-chosen plan figures and battery operation.

Planning a year takes seconds; the roadmap's own logic (fleet, packs, ageing, 4R, emissions) does not need a
real plan, so most tests give it this planner, whose every number is visible here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chisan.roadmap.health import PlanOperation
from chisan.roadmap.run import ENERGY_COLUMNS, PlannedYear
from chisan.scenario.load import scenario_from_dict

HOURS = 24 * 7  # a week of hourly operation stands for the year (repeated to 365 days)


def town_dict(vehicles: tuple[int, ...] = (2, 2), **roadmap) -> dict:
    """A small town: Nissan Sakura (20 kWh) at two stations, and a [roadmap] table."""
    return {
        "municipality": {"name": "Testtown", "latitude_deg": 36.18, "longitude_deg": 140.42, "population": 3000},
        "stations": [
            {"name": f"S{i}", "vehicles": n, "chargers": n, "member_share_fraction": 1 / len(vehicles)}
            for i, n in enumerate(vehicles)
        ],
        "technologies": {
            "pv": {"capex_per_kw": 200000, "embodied_kg_per_kw": 0.0, "lifetime_years": 25},
            "wind": {"enabled": False},
            "storage": {"capex_per_kwh": 150000},
        },
        "grid": {"emission_factor_kg_per_kwh": 0.5},
        # The lab cell at the air temperature, so that the hand-derived ageing of these tests holds; the field
        # calibration and the pack offsets are tested in tests/batteries/test_battery_field.py.
        "batteries": {"field_calibration_factor": 1.0, "sun_offset_c": 0.0, "charging_offset_c": 0.0},
        "roadmap": roadmap,
    }


def town(vehicles: tuple[int, ...] = (2, 2), **scenario_changes):
    data = town_dict(vehicles)
    data.pop("roadmap")
    for section, values in scenario_changes.items():
        data.setdefault(section, {}).update(values)
    return scenario_from_dict(data, source="testtown.toml")


@dataclass
class FakePlanner:
    """Returns the same plan figures every year; records the scenario of every planned year.

    ``import_kwh_per_vehicle`` scales grid import with the fleet so interpolation can be checked.
    """

    pv_kw: float = 50.0
    import_kwh: float = 10_000.0
    import_kwh_per_vehicle: float = 0.0
    export_kwh: float = 4_000.0
    km_per_vehicle: float = 5_000.0
    vehicle_soc: float = 0.5
    storage_soc: float = 0.5
    temp_c: float = 25.0
    use_storage: bool = True
    seen: list = field(default_factory=list)

    def __call__(self, scenario, progress=None) -> PlannedYear:
        self.seen.append(scenario)
        n = sum(s.vehicles for s in scenario.stations)
        index = pd.date_range("2025-06-01", periods=HOURS, freq="h", tz="Asia/Tokyo")
        offer = scenario.second_life  # the reused packs, offered as the plan's second-life family
        storage_kwh = float(offer.offered_kwh) if (offer is not None and self.use_storage) else 0.0
        vehicle_soc = pd.DataFrame(self.vehicle_soc, index=index, columns=[f"v{i}" for i in range(n)], dtype=float)
        storage_soc = pd.Series(self.storage_soc, index=index) if storage_kwh > 0 else None
        energy = dict.fromkeys(ENERGY_COLUMNS, 0.0)
        energy["grid_import_kwh"] = self.import_kwh + self.import_kwh_per_vehicle * n
        energy["grid_export_kwh"] = self.export_kwh
        return PlannedYear(
            capacities={
                "pv_kw": max(self.pv_kw, scenario.technologies.pv.min_kw),
                "wind_kw": 0.0,
                "storage_kwh": storage_kwh,
                "storage_kw": storage_kwh,
            },
            energy_kwh=energy,
            km=self.km_per_vehicle * n,
            cost_per_year=1e6,
            scope2_shape=1.0,
            export_shape=1.0,
            operation=PlanOperation(
                vehicle_soc=vehicle_soc,
                storage_soc=storage_soc,
                storage_kwh=storage_kwh,
                temp_c=pd.Series(self.temp_c, index=index),
                dt_hours=1.0,
            ),
            second_life=None
            if offer is None
            else {
                "used_kwh": storage_kwh,
                "break_even_price_per_kwh": 9_000.0,
                "reason": f"stand-in: {storage_kwh:.1f} of {offer.offered_kwh:.1f} kWh used",
            },
        )


def naumann_k_per_sqrt_day(temp_c: float, soc: float = 0.5) -> float:
    """Naumann 2018 calendar rate [1/√day] by hand (DESIGN.md §7): 1.2571e-5 · Arrhenius · SOC term · √86400."""
    arrhenius = np.exp(-17126.0 / 8.314462618 * (1.0 / (temp_c + 273.15) - 1.0 / 298.15))
    return 1.2571e-5 * arrhenius * (2.8575 * (soc - 0.5) ** 3 + 0.60225) * np.sqrt(86400.0)
