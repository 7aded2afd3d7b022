"""The whole pipeline: reproducible with a seed, and real data paths (EPW weather, hourly grid factors)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chisan.plan.pipeline import plan_scenario
from chisan.scenario.load import scenario_from_dict
from tests.factories import small_scenario, small_scenario_dict


@pytest.fixture(scope="module")
def run(small_full_plan):
    return small_full_plan  # plan_scenario(small_scenario(), method="full"), tests/conftest.py


def test_same_seed_same_plan(run):
    again = plan_scenario(small_scenario(), method="full")
    pd.testing.assert_frame_equal(run.results.kpis, again.results.kpis)
    pd.testing.assert_frame_equal(run.results.dispatch, again.results.dispatch)
    pd.testing.assert_frame_equal(run.prepared.assignment.bookings, again.prepared.assignment.bookings)


def test_other_seed_other_bookings(run):
    other = plan_scenario(small_scenario(bookings={"seed": 8}), method="full")
    assert not run.prepared.assignment.bookings["start"].equals(other.prepared.assignment.bookings["start"])
    assert run.results.kpi("km_per_year") != other.results.kpi("km_per_year")


def test_kpis_follow_from_the_dispatch(run):
    # the KPIs are re-derivable from the dispatch table: the report's numbers trace back to it
    d = run.results.dispatch
    k = run.results.kpis["value"]
    scale = 8760 / len(d)
    charging = d["charging_kw"].sum() * scale
    assert k["charging_kwh_per_year"] == pytest.approx(charging, rel=1e-12)
    assert k["renewable_share_annual"] == pytest.approx((d["pv_kw"] + d["wind_kw"]).sum() * scale / charging)
    assert k["renewable_share_hourly_matched"] == pytest.approx(1 - d["grid_import_kw"].sum() * scale / charging)
    assert k["peak_grid_import_kw"] == pytest.approx(d["grid_import_kw"].max())
    assert k["scope2_location_kg"] == pytest.approx(
        (d["grid_import_kw"] * d["emission_factor_kg_per_kwh"]).sum() * scale
    )
    total = run.results.costs["total_per_year"].sum()
    assert k["cost_per_km"] == pytest.approx(total / k["km_per_year"])
    # CO2 avoided = km × 155 g/km − scope 2 (DESIGN.md §7 default baseline)
    assert k["co2_avoided_kg"] == pytest.approx(k["km_per_year"] * 0.155 - k["scope2_location_kg"])
    assert k["private_cars_replaced"] == pytest.approx(6 * 5.0)


def test_trip_energy_uses_battery_side_consumption(run):
    # Sakura: 124 Wh/km at the plug × 0.9 = 111.6 Wh/km from the battery, × temperature factor ≥ 1
    bk = run.prepared.assignment.bookings
    per_km = bk["trip_energy_kwh"] / bk["distance_km"]
    assert per_km.min() >= 0.124 * 0.9 - 1e-12
    june = per_km.median()  # June in the Tokyo climate: mostly in the neutral 15–25 °C band
    assert june == pytest.approx(0.124 * 0.9, rel=0.05)


def test_plan_on_the_real_tokyo_epw(shared_data, tmp_path):
    epw = shared_data / "weather" / "JPN_Tokyo.Hyakuri.477150_IWEC.epw"
    sc = scenario_from_dict(small_scenario_dict(weather={"source": "epw", "path": str(epw)}), source="t.toml")
    run = plan_scenario(sc, method="full")
    assert run.checks.passed
    # June GHI of the file (DESIGN.md §7: 4.14 kWh/m²/day × 30 days = 124.2 kWh/m²) is what the plan used
    ghi_june = run.prepared.weather["ghi"].sum() / 1000.0
    assert ghi_june == pytest.approx(4.14 * 30, abs=0.5 * 30 * 0.01 + 0.2)
    assert "EPW file" in run.prepared.weather_source


def test_hourly_grid_factors_from_electricity_maps(shared_data):
    path = shared_data / "grid_carbon" / "electricitymaps_JP-TK_2024_hourly.csv"
    sc = scenario_from_dict(small_scenario_dict(grid={"emission_factor_path": str(path)}), source="t.toml")
    run = plan_scenario(sc, method="full")
    ef = run.results.dispatch["emission_factor_kg_per_kwh"]
    assert ef.std() > 0.01  # hourly, not constant
    raw = pd.read_csv(path)
    june = raw[pd.to_datetime(raw["Datetime (UTC)"], utc=True).dt.tz_convert("Asia/Tokyo").dt.month == 6]
    assert ef.mean() * 1000 == pytest.approx(june["Carbon Intensity gCO₂eq/kWh (direct)"].mean(), abs=0.5)
    assert run.results.kpi("scope2_location_kg") == pytest.approx(
        float((run.results.dispatch["grid_import_kw"] * ef).sum() * 8760 / len(ef))
    )
    assert np.isfinite(run.results.kpi("co2_avoided_kg"))


def test_quarter_hour_steps_agree_with_hourly(june_single_meter):
    # The same month at 15 min and at 60 min: same bookings and trip energy; the plans differ only by the finer
    # timing, so the PV built and the matched share agree closely (measured: 8.37 vs 8.44 kW, 0.856 vs 0.857).
    # One meter: with a meter per station the PV split between the two identical roofs is degenerate, and the
    # matched share then moves by a few points with the split the sizing happens to pick, not with the step.
    one = {"topology": "single_meter"}
    hourly = june_single_meter  # plan_scenario(small_scenario(grid=one), two stages, 8 days), tests/plan/conftest.py
    quarter = plan_scenario(
        small_scenario(horizon={"step_minutes": 15}, grid=one), method="two-stage", n_typical_days=8
    )
    assert quarter.checks.passed
    assert len(quarter.prepared.inputs.snapshots) == 4 * len(hourly.prepared.inputs.snapshots)
    assert quarter.prepared.inputs.dt_hours == 0.25
    # the same bookings are generated (their trip energy differs slightly: the air temperature is averaged over
    # each booking's quarter hours instead of its hours, by ≤ 2.2 % for a half-hour trip); charging counted in
    # whole quarter hours serves at least as many bookings
    bq, bh = quarter.prepared.assignment.bookings, hourly.prepared.assignment.bookings
    pd.testing.assert_series_equal(bq["distance_km"], bh["distance_km"])
    np.testing.assert_allclose(bq["trip_energy_kwh"], bh["trip_energy_kwh"], rtol=0.03)  # short trips: ≤ 2.2 %
    assert quarter.prepared.assignment.served_count >= hourly.prepared.assignment.served_count
    assert quarter.results.kpi("pv_kw") == pytest.approx(hourly.results.kpi("pv_kw"), rel=0.05)
    assert quarter.results.kpi("renewable_share_hourly_matched") == pytest.approx(
        hourly.results.kpi("renewable_share_hourly_matched"), abs=0.02
    )


def test_fleet_sized_from_the_bookings_serves_every_booking():
    # stations without a vehicle count: each gets the fewest vehicles that serve all its servable bookings, and
    # one charger per vehicle when chargers are not given
    data = small_scenario_dict()
    for station in data["stations"]:
        station.pop("vehicles")
        station.pop("chargers")
    run = plan_scenario(scenario_from_dict(data, source="t.toml"), method="full")
    assert run.prepared.assignment.unserved_count == 0
    stations = run.results.stations
    assert (stations["vehicles"] >= 1).all()
    assert (stations["chargers"] == stations["vehicles"]).all()
    # fewest: one vehicle less at the busiest station would leave a booking unserved (overlap ≥ its count)
    bk = run.prepared.assignment.bookings
    busiest = stations["vehicles"].idxmax()
    at = bk[bk["station"] == busiest]
    starts = np.sort(at["start"].to_numpy())
    ends = np.sort(at["end"].to_numpy())
    overlap = int(np.max(np.arange(1, len(starts) + 1) - np.searchsorted(ends, starts, side="right")))
    assert stations.loc[busiest, "vehicles"] >= overlap
    assert run.checks.passed
