"""The roadmap adds the depots' diesel and fuel-cell vehicle-days to its yearly emissions and cost, by hand.

The depot: two vehicle-days (v1: 60 + 40 km, v2: 60 km; mean 80 km) of e-vans on weekdays. Its path: all diesel
from 2026, half battery-electric and half fuel-cell from 2028. Weekdays: 261 in 2026 and 2027 (365 days, a
Thursday and a Friday left over), 260 in 2028 (366 days, a Saturday and a Sunday left over).

- 2026: 2 diesel vehicle-days → 2 × 80 × 261 = 41,760 km; 9.0 l/100 km (e_van) → 3,758.4 l; × 2.62 kg CO2/l
  = 9,847.008 kg; cost = 2 × ¥4,500,000 × crf(3 %, 8) + 41,760 × ¥12/km + 3,758.4 × ¥146/l.
- 2028: round(0.5 × 2) = 1 battery-electric (planned), 1 fuel-cell: 80 × 260 = 20,800 km; 7.75 kg/100 km
  (fc_truck_rigid) → 1,612 kg H2; × 10 kg CO2/kg = 16,120 kg; cost = ¥12,000,000 × crf(3 %, 10)
  + 20,800 × ¥15/km + 1,612 × ¥1,200/kg.
"""

from __future__ import annotations

import pytest
from roadmap_fakes import FakePlanner, town_dict

from chisan.exceptions import ScenarioError
from chisan.roadmap.run import run_roadmap
from chisan.roadmap.schema import roadmap_from_dict
from chisan.scenario.load import scenario_from_dict
from chisan.units import capital_recovery_factor

PATH = {2026: {"diesel": 1.0}, 2028: {"battery_electric": 0.5, "fuel_cell": 0.5}}
CHOICE = {
    "depot": "Yard",
    "fuel_cell_class": "fc_truck_rigid",
    "fuel_cell_capex": 12_000_000,
    "fuel_cell_maintenance_per_km": 15.0,
    "fuel_cell_lifetime_years": 10,
    "hydrogen_price_per_kg": 1_200.0,
    "hydrogen_co2_kg_per_kg": 10.0,
}


def _town(tmp_path, choice=CHOICE):
    (tmp_path / "vans.csv").write_text(
        "vehicle_day_id,start_h,end_h,distance_km\nv1,8,12,60\nv1,13,17,40\nv2,9,17,60\n", encoding="utf-8"
    )
    data = town_dict()
    data.pop("roadmap")
    data["depots"] = [{"name": "Yard", "vehicle_class": "e_van", "duties": "csv", "path": "vans.csv"}]
    if choice is not None:
        data["drivetrain_choice"] = choice
    return scenario_from_dict(data, source="testtown.toml", base_dir=tmp_path)


def _run(scenario):
    settings = roadmap_from_dict(
        {"start_year": 2026, "end_year": 2028, "plan_years": 2, "depot_drivetrain_shares": PATH}
    )
    return run_roadmap(scenario, settings, planner=FakePlanner()).years


def test_diesel_and_fuel_cell_vehicle_days_enter_the_yearly_totals(tmp_path):
    t = _run(_town(tmp_path))
    litres = 41_760 * 9.0 / 100
    assert t.loc[2026, "depot_diesel_km"] == 41_760 and t.loc[2026, "depot_diesel_l"] == pytest.approx(litres)
    assert t.loc[2026, "depot_diesel_co2_kg"] == pytest.approx(9_847.008, rel=1e-12)
    diesel = 2 * 4_500_000 * capital_recovery_factor(0.03, 8) + 41_760 * 12 + litres * 146.0
    assert t.loc[2026, "depot_diesel_cost_per_year"] == pytest.approx(diesel, rel=1e-12)
    assert t.loc[2027, "depot_diesel_cost_per_year"] == pytest.approx(diesel, rel=1e-12)  # 261 weekdays again
    assert t.loc[2028, "depot_diesel_km"] == 0 and t.loc[2026, "depot_fuel_cell_km"] == 0
    assert t.loc[2028, "depot_fuel_cell_h2_kg"] == pytest.approx(1_612.0, rel=1e-12)
    assert t.loc[2028, "depot_fuel_cell_co2_kg"] == pytest.approx(16_120.0, rel=1e-12)
    fc = 12_000_000 * capital_recovery_factor(0.03, 10) + 20_800 * 15.0 + 1_612 * 1_200.0
    assert t.loc[2028, "depot_fuel_cell_cost_per_year"] == pytest.approx(fc, rel=1e-12)
    # into the totals: net emissions = scope 2 + embodied + the depots' tailpipe and hydrogen CO2
    depot = t["depot_diesel_co2_kg"] + t["depot_fuel_cell_co2_kg"]
    assert (t["net_kg"] - t["scope2_kg"] - t["embodied_kg"]).to_numpy() == pytest.approx(depot.to_numpy(), rel=1e-12)
    assert t.loc[2026, "total_cost_per_year"] == pytest.approx(t.loc[2026, "cost_per_year"] + diesel, rel=1e-12)
    assert t.loc[2028, "total_cost_per_year"] == pytest.approx(t.loc[2028, "cost_per_year"] + fc, rel=1e-12)


def test_a_fuel_cell_share_without_its_figures_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match=r"fuel_cell share, but the fuel-cell vehicle's figures are missing"):
        _run(_town(tmp_path, choice=None))
