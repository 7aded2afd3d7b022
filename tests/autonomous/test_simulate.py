"""The autonomous fleet simulation against hand-derived cases, its invariants and its reproducibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chisan.autonomous import FleetConfig, Requests, TravelModel, ZoneGrid, simulate
from chisan.autonomous.charging import ChargingPolicy
from chisan.autonomous.metrics import fleet_size_for_service, service_level, summary
from chisan.autonomous.requests import requests_from_bookings
from chisan.autonomous.zones import zone_grid
from chisan.mobility.bookings import generate_bookings

TZ = "Asia/Tokyo"
ORIGIN = pd.Timestamp("2025-06-02", tz=TZ)
# 30 km/h everywhere and no detour: 1 km takes exactly 2 min
FLAT = TravelModel(circuity=1.0, speed_kmh_by_hour=(30.0,) * 24)


def _requests(times, ox, oy, dx, dy) -> Requests:
    n = len(times)
    return Requests(
        np.array([f"R{i}" for i in range(n)]), np.asarray(times, float), np.asarray(ox, float),
        np.asarray(oy, float), np.asarray(dx, float), np.asarray(dy, float), ORIGIN,
    )  # fmt: skip


def _two_zone_case():
    grid = ZoneGrid(36.0, 140.0, 1.0, 2, 1)  # two 1-km zones side by side
    sites = pd.DataFrame({"x_km": [0.5], "y_km": [0.5]}, index=["S"])
    # ride 1: from the site's point at t = 10 to the other zone; ride 2: back from the site's point at t = 20
    req = _requests([10.0, 20.0], [0.5, 0.5], [0.5, 0.5], [1.5, 1.5], [0.5, 0.5])
    cfg = FleetConfig(
        cars=1, consumption_kwh_per_km=0.15, rebalance_every_min=0, travel=FLAT,
        charging=ChargingPolicy(need_km=0.0),
    )  # fmt: skip
    return grid, sites, req, cfg


def test_one_car_two_zones_gives_the_hand_derived_wait_distance_and_energy():
    grid, sites, req, cfg = _two_zone_case()
    res = simulate(req, grid, sites, cfg, horizon_min=60, seed=0)
    # ride 1: the car waits at the origin → picked up at once (wait 0), 1 km = 2 min, dropped at (1.5, 0.5)
    # at t = 12. Ride 2 at t = 20 starts at (0.5, 0.5): the car drives 1 km empty (2 min) → wait 2 min.
    np.testing.assert_allclose(res.wait_min, [0.0, 2.0])
    km = res.legs.groupby("kind", observed=False)["distance_km"].sum()
    assert km["ride"] == pytest.approx(2.0)
    assert km["pickup"] == pytest.approx(1.0)
    assert km["reposition"] == 0 and km["to_charger"] == 0
    # energy: 3 km × 0.15 kWh/km = 0.45 kWh leaves the battery; nothing is charged (no PV, flat price, above need)
    assert res.energy_start_kwh[0] - res.energy_end_kwh[0] == pytest.approx(0.45)
    s = summary(res, max_wait_min=10)
    assert s.loc["empty_distance_fraction", "value"] == pytest.approx(1 / 3)
    assert s.loc["energy_per_km_kwh_per_km", "value"] == pytest.approx(0.15)
    # the states: with rider from 20 + 2 = 22 to 24, then idle away from the site
    assert res.state[22, 0] == 2 and res.state[25, 0] == 0 and not res.plugged[25, 0]


def test_a_trip_beyond_the_battery_is_never_dispatched():
    grid = ZoneGrid(36.0, 140.0, 10.0, 3, 1)
    sites = pd.DataFrame({"x_km": [1.0], "y_km": [5.0]}, index=["S"])
    # 28 km ride at 1 kWh/km needs more than the 20 kWh battery can give
    req = _requests([5.0], [1.0], [5.0], [29.0], [5.0])
    cfg = FleetConfig(cars=1, consumption_kwh_per_km=1.0, rebalance_every_min=0, travel=FLAT)
    res = simulate(req, grid, sites, cfg, horizon_min=120, seed=0)
    assert res.car_of_request[0] == -1 and np.isnan(res.wait_min[0])
    assert len(res.legs) == 0


@pytest.fixture(scope="module")
def town_run():
    grid = zone_grid(36.18, 140.42, radius_km=2.5)
    sites = pd.DataFrame({"x_km": [1.5, 3.5], "y_km": [2.5, 2.5]}, index=["A", "B"])
    bookings = generate_bookings(
        stations=["A", "B"], members=3000, bookings_per_member_per_month=2.0, start=ORIGIN,
        end=ORIGIN + pd.Timedelta(days=1), seed=3,
    )  # fmt: skip
    req = requests_from_bookings(bookings, grid, {"A": (1.5, 2.5), "B": (3.5, 2.5)}, origin=ORIGIN, seed=3)
    pv = np.clip(np.sin((np.arange(1440) / 1440 - 0.25) * 2 * np.pi), 0, None) * 20.0
    price = np.where((np.arange(1440) // 60) < 7, 15.0, 30.0)

    def run(cars: int, seed: int = 1):
        cfg = FleetConfig(cars=cars, usable_kwh=8.0, reserve_kwh=1.0, step_min=1.0)
        return simulate(req, grid, sites, cfg, horizon_min=1440, seed=seed, pv_kw=pv, price_per_kwh=price)

    return run, req


def test_energy_never_below_the_reserve_and_every_leg_follows_the_previous_one(town_run):
    run, req = town_run
    res = run(12)
    cfg = res.config
    assert res.min_energy_kwh >= cfg.reserve_kwh - 1e-9
    assert np.all(res.energy_end_kwh >= cfg.reserve_kwh - 1e-9)
    # a small battery (8 kWh) forces charging: the rule must have charged and PV must have fed some of it
    assert res.charged_kwh.sum() > 0 and summary(res).loc["charging_pv_kwh", "value"] > 0
    legs = res.legs.sort_values(["car", "start_min"], kind="stable")
    same = legs["car"].to_numpy()[1:] == legs["car"].to_numpy()[:-1]
    gap = legs["start_min"].to_numpy()[1:] - legs["end_min"].to_numpy()[:-1]
    assert np.all(gap[same] >= -1e-6), "a car started a leg before finishing the previous one"
    served = np.flatnonzero(res.car_of_request >= 0)
    rides = res.legs[res.legs["kind"] == "ride"].set_index("request")
    assert len(rides) == len(served)
    np.testing.assert_allclose(rides.loc[served, "distance_km"], req.trip_km(cfg.travel)[served])
    assert np.all(res.wait_min[served] <= cfg.give_up_min + cfg.max_pickup_min)


def test_same_seed_same_result_and_another_seed_another_start(town_run):
    run, _ = town_run
    a, b, c = run(10, seed=5), run(10, seed=5), run(10, seed=6)
    np.testing.assert_array_equal(a.state, b.state)
    np.testing.assert_array_equal(a.wait_min, b.wait_min)
    pd.testing.assert_frame_equal(a.legs, b.legs)
    assert not np.array_equal(a.energy_start_kwh, c.energy_start_kwh)


def test_fleet_search_finds_the_smallest_fleet_of_a_known_service_curve():
    from types import SimpleNamespace

    # service level c / 20 for c cars: 0.95 needs 19 cars
    def run(cars):
        wait = np.where(np.arange(20) < cars, 1.0, np.nan)
        return SimpleNamespace(wait_min=wait)

    cars, res, tried = fleet_size_for_service(run, level=0.95, max_wait_min=10)
    assert cars == 19 and service_level(res, 10) == pytest.approx(0.95)
    assert tried["cars"].tolist()[:6] == [1, 2, 4, 8, 16, 32]


def test_pv_surplus_charges_an_idle_car_at_its_site_and_none_without_it():
    grid, sites, _, _ = _two_zone_case()
    none = _requests([], [], [], [], [])
    policy = ChargingPolicy(soc_target_fraction=0.5, opportunistic_below_fraction=1.0, need_km=0.0)
    cfg = FleetConfig(cars=1, rebalance_every_min=0, travel=FLAT, charging=policy)
    sunny = simulate(none, grid, sites, cfg, horizon_min=600, seed=4, pv_kw=10.0)
    gap = cfg.usable_kwh - sunny.energy_start_kwh[0]
    assert gap > 0.5  # seed 4 starts the car well below full
    # 3 kW at the plug × 0.9 into the battery: full after gap / 2.7 h, all of it from PV
    assert sunny.charged_kwh[0] == pytest.approx(gap)
    assert sunny.charging_kw[1, 0] == pytest.approx(3.0)  # decided at the end of step 0, drawn from step 1
    minutes = int(np.sum(sunny.state[:, 0] == 5))
    assert minutes == int(np.ceil(gap / (3.0 * 0.9 / 60) - 1e-9))
    assert summary(sunny).loc["charging_pv_fraction", "value"] == pytest.approx(1.0)
    dark = simulate(none, grid, sites, cfg, horizon_min=600, seed=4, pv_kw=0.0, price_per_kwh=30.0)
    assert dark.charged_kwh[0] == 0.0


def test_station_comparison_counts_the_same_rides_and_the_sized_station_fleet():
    from chisan.autonomous.metrics import station_comparison

    grid, sites, _, _ = _two_zone_case()
    # two bookings of the one station, overlapping in time: the station needs 2 cars; each drove 4 km booked
    b = pd.DataFrame(
        {
            "booking_id": ["B1", "B2"],
            "station": ["S", "S"],
            "start": [ORIGIN + pd.Timedelta(minutes=10), ORIGIN + pd.Timedelta(minutes=20)],
            "end": [ORIGIN + pd.Timedelta(minutes=50), ORIGIN + pd.Timedelta(minutes=60)],
            "distance_km": [4.0, 4.0],
        }
    )
    _, _, req, cfg = _two_zone_case()
    res = simulate(req, grid, sites, cfg, horizon_min=60, seed=0)
    cmp = station_comparison(res, b, consumption_kwh_per_km=0.15)
    assert cmp.loc["fleet_cars", "station_based"] == 2 and cmp.loc["fleet_cars", "autonomous"] == 1
    assert cmp.loc["cars_replaced_per_autonomous_car", "autonomous"] == pytest.approx(2.0)
    assert cmp.loc["distance_km", "station_based"] == pytest.approx(8.0)
    # same rides: 2 km of rides by station car; 3 km (rides + 1 km empty pick-up) by the autonomous car
    assert cmp.loc["distance_same_rides_km", "station_based"] == pytest.approx(2.0)
    assert cmp.loc["distance_same_rides_km", "autonomous"] == pytest.approx(3.0)
