"""The roadmap's depot fleet transition: per-year drivetrain shares, planned and reported per year."""

from __future__ import annotations

import pytest
from roadmap_fakes import FakePlanner, town_dict

from chisan.economics.drivetrain import shares_in_year
from chisan.exceptions import ChisanError
from chisan.roadmap.run import run_roadmap
from chisan.roadmap.schema import roadmap_from_dict
from chisan.scenario.load import scenario_from_dict

FLEET = "/work/shared/data/logistics/nrel_hdev_depot_fleets/fleet1-beverage-delivery"
# diesel retiring at a 10-year vehicle life: half the trucks replaced in 2031, the other half in 2036
PATH = {2026: {"diesel": 1.0}, 2031: {"diesel": 0.5, "battery_electric": 0.5}, 2036: {"battery_electric": 1.0}}


def _town_with_depot():
    data = town_dict()
    data.pop("roadmap")
    data["depots"] = [{"name": "Depot", "vehicle_class": "rigid_26t", "path": FLEET, "vehicle_days_per_day": 4}]
    return scenario_from_dict(data, source="testtown.toml")


def test_shares_hold_until_the_next_year_given():
    assert shares_in_year(PATH, 2025) == {"battery_electric": 0.0, "fuel_cell": 0.0, "diesel": 1.0}
    assert shares_in_year(PATH, 2030) == {"battery_electric": 0.0, "fuel_cell": 0.0, "diesel": 1.0}
    assert shares_in_year(PATH, 2033) == {"battery_electric": 0.5, "fuel_cell": 0.0, "diesel": 0.5}
    assert shares_in_year(PATH, 2040)["battery_electric"] == 1.0


def test_roadmap_plans_the_battery_electric_share_of_the_depot_each_year():
    settings = roadmap_from_dict(
        {"start_year": 2026, "end_year": 2036, "plan_years": 3, "depot_drivetrain_shares": PATH}
    )
    planner = FakePlanner()
    result = run_roadmap(_town_with_depot(), settings, planner=planner)
    # planned years 2026, 2031, 2036: no depot (all diesel), 2 of 4 vehicle-days a day, all 4 (the depot as given)
    depots = [[(d.name, d.vehicle_days_per_day) for d in sc.depots] for sc in planner.seen]
    assert depots == [[], [("Depot", 2)], [("Depot", 4)]]
    table = result.years
    assert table.loc[2026:2030, "depot_diesel_share"].tolist() == [1.0] * 5
    assert table.loc[2031:2035, "depot_battery_electric_share"].tolist() == [0.5] * 5
    assert table.loc[2036, "depot_battery_electric_share"] == 1.0
    assert (table["depot_fuel_cell_share"] == 0.0).all()


def test_shares_that_do_not_sum_to_one_are_refused():
    with pytest.raises(ChisanError) as err:
        roadmap_from_dict({"depot_drivetrain_shares": {2026: {"diesel": 0.5, "battery_electric": 0.4}}})
    assert "fractions summing to 1" in str(err.value) and "depot_drivetrain_shares" in str(err.value)
