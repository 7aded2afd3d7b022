"""The autonomous fleet in ``chisan plan``: hand-derived windows and energy, the after-solve checks, bad settings."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from chisan.autonomous import FleetConfig, Requests, TravelModel, ZoneGrid, simulate
from chisan.autonomous.charging import ChargingPolicy
from chisan.autonomous.plan_inputs import cyclic_shortfall_kwh, step_inputs, stretch_draws
from chisan.autonomous.simulate import SimulationResult
from chisan.exceptions import ScenarioError
from chisan.plan.check import check_solution
from chisan.plan.dispatch import minimum_energy_kwh
from chisan.plan.solve import solve_plan
from chisan.scenario.load import scenario_from_dict
from tests.factories import hand_inputs, small_scenario_dict

TZ = "Asia/Tokyo"
ORIGIN = pd.Timestamp("2025-06-01", tz=TZ)  # hand_inputs' first hour
HOUR = pd.Timedelta(hours=1)


def _hand_result(second_departure_kwh: float) -> SimulationResult:
    """One car, four hours at 1-minute steps, every state set by hand (3 kW at the plug, η = 0.9: 0.045 kWh/min).

    parked [0, 60) · away [60, 90) drawing 3 kWh · parked and charging [90, 130) · away [130, 150) drawing
    ``second_departure_kwh`` · parked [150, 240). With the export's convention (row k parked = at the site from
    minute k + 1, row 0 from 0) the parked rows are 0-58, 89-128 and 149-239.
    """
    n = 240
    plugged = np.zeros((n, 1), bool)
    plugged[0:59] = plugged[89:129] = plugged[149:240] = True
    cfg = FleetConfig(cars=1, charge_power_kw=3.0, charge_efficiency=0.9)
    legs = pd.DataFrame(
        {
            "car": [0, 0],
            "start_min": [60.0, 130.0],
            "end_min": [80.0, 140.0],
            "distance_km": [10.0, 5.0],
            "energy_kwh": [3.0, second_departure_kwh],
            "kind": pd.Categorical(["ride", "ride"], categories=["pickup", "ride", "reposition", "to_charger"]),
            "request": [0, 1],
        }
    )
    charging_minutes = np.arange(90, 130)  # 40 min × 0.045 kWh = 1.8 kWh into the battery
    charges = pd.DataFrame({"car": 0, "step": charging_minutes, "energy_kwh": 3.0 * 0.9 / 60.0})
    req = Requests(np.array(["R0", "R1"]), np.array([59.0, 129.0]), *(np.zeros(2),) * 4, ORIGIN)
    return SimulationResult(
        config=cfg, requests=req, sites=pd.DataFrame({"x_km": [0.0], "y_km": [0.0]}, index=["S"]),
        car_site=np.array([0]), step_min=1.0, state=np.zeros((n, 1), np.int8), plugged=plugged,
        charging_kw=np.zeros((n, 1)), pv_kw=np.zeros(n), price_per_kwh=np.zeros(n), car_of_request=np.array([0, 0]),
        wait_min=np.zeros(2), legs=legs, energy_start_kwh=np.array([15.0]), energy_end_kwh=np.array([15.0]),
        min_energy_kwh=10.0, charged_kwh=np.array([1.8]), charges=charges,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("second_kwh", "trips"),
    [
        # hour 1: the 3 kWh departure (the battery's low); the 1.8 kWh charged in hours 1-2 then the 1 kWh
        # departure leave it 0.8 kWh above that low: given back in hour 3, the next whole parked hour
        (1.0, [0.0, 3.0, 0.0, -0.8]),
        # a 2 kWh second departure goes 0.2 kWh below the first low: drawn in hour 2, nothing given back
        (2.0, [0.0, 3.0, 0.2, 0.0]),
    ],
)
def test_hand_case_windows_draws_and_kept_charging(second_kwh, trips):
    snapshots = pd.date_range(ORIGIN, periods=4, freq="h")
    s = step_inputs(_hand_result(second_kwh), snapshots, 1.0)
    assert s.plugged.iloc[:, 0].tolist() == [True, False, False, True]
    np.testing.assert_allclose(s.trip_energy_kwh.iloc[:, 0], trips, atol=1e-12)
    # kept charging at the plug: 30 min × 3 kW in hour 1 = 1.5 kWh, 10 min in hour 2 = 0.5 kWh
    np.testing.assert_allclose(s.fixed_charge_kw.iloc[:, 0], [0.0, 1.5, 0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(s.simulated_charge_kw.iloc[:, 0], [0.0, 1.5, 0.5, 0.0], atol=1e-12)


def test_hand_case_plan_charges_trip_energy_over_efficiency_inside_the_windows():
    s = step_inputs(_hand_result(1.0), pd.date_range(ORIGIN, periods=4, freq="h"), 1.0)
    inputs = hand_inputs(
        hours=4, plugged=s.plugged.iloc[:, 0].to_numpy(), trip_energy_kwh=s.trip_energy_kwh.iloc[:, 0].to_numpy(),
        other_load_kw=s.fixed_charge_kw.iloc[:, 0].to_numpy(), annualise=False,
    )  # fmt: skip
    sol = solve_plan(inputs, method="full")
    report = check_solution(inputs, sol)
    assert report.passed, report.table()
    ch = sol.values["Vehicle-charge_kw"][:, 0]
    # the plan charges only in the whole parked hours 0 and 3 ...
    assert ch[1] == pytest.approx(0.0, abs=1e-9) and ch[2] == pytest.approx(0.0, abs=1e-9)
    # ... what the trips took, 3 + 1 kWh, less the 1.8 kWh kept, over η: (4 − 1.8) / 0.9 = 2.444 kWh
    assert ch.sum() == pytest.approx((4.0 - 1.8) / 0.9, rel=1e-6)
    # with the kept charging the town's chargers draw the trips' energy over η: 4 / 0.9 = 4.444 kWh
    assert ch.sum() + inputs.other_load_kw.sum() == pytest.approx(4.0 / 0.9, rel=1e-6)
    # before the 3 kWh departure the car holds it plus the 2 kWh reserve
    e = sol.values["Vehicle-energy_kwh"][:, 0]
    assert e[0] >= 5.0 - 1e-6


def test_a_car_short_of_energy_for_a_dispatched_trip_is_caught():
    s = step_inputs(_hand_result(1.0), pd.date_range(ORIGIN, periods=4, freq="h"), 1.0)
    inputs = hand_inputs(
        hours=4, plugged=s.plugged.iloc[:, 0].to_numpy(), trip_energy_kwh=s.trip_energy_kwh.iloc[:, 0].to_numpy(),
        other_load_kw=s.fixed_charge_kw.iloc[:, 0].to_numpy(), annualise=False,
    )  # fmt: skip
    sol = solve_plan(inputs, method="full")
    bad = copy.deepcopy(inputs)
    trips = bad.trip_energy_kwh.copy()
    trips.iloc[1, 0] += 14.0  # the first away period drew 17 kWh, not the 3 kWh the plan charged for
    bad.trip_energy_kwh = trips
    failed = [r["check"] for r in check_solution(bad, sol).rows if not r["passed"]]
    assert any("no booking starts short" in f for f in failed)
    assert any("vehicle energy ≥ reserve" in f for f in failed)


def test_stretch_draws_is_the_running_low():
    # one stretch: −3, +1.8, −1 → draws 3, 0, 0 and 0.8 back; a second stretch: +1, −2 → draws 0, 1, nothing back
    draw, back = stretch_draws(np.array([0, 0, 0, 1, 1]), np.array([-3.0, 1.8, -1.0, 1.0, -2.0]))
    np.testing.assert_allclose(draw, [3.0, 0.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(back, [0.8, 0.8, 0.8, 0.0, 0.0], atol=1e-12)


def test_simulated_two_zone_fleet_draws_every_kwh_driven_in_the_plan():
    """Two cars, two zones, rides every half hour between them: every kWh driven is drawn or met by kept charging."""
    flat = TravelModel(circuity=1.0, speed_kmh_by_hour=(30.0,) * 24)  # 1 km takes 2 min
    grid = ZoneGrid(36.0, 140.0, 1.0, 2, 1)
    sites = pd.DataFrame({"x_km": [0.5], "y_km": [0.5]}, index=["A"])
    times = np.arange(30.0, 24 * 60, 30.0)
    k = len(times)
    ox = np.where(np.arange(k) % 2 == 0, 0.5, 1.5)
    req = Requests(np.array([f"R{i}" for i in range(k)]), times, ox, np.full(k, 0.5), 2.0 - ox, np.full(k, 0.5),
                   ORIGIN)  # fmt: skip
    # 1 kWh/km and a need of 14 kWh: the cars go home to charge often, so they have windows
    cfg = FleetConfig(
        cars=2, consumption_kwh_per_km=1.0, rebalance_every_min=0, travel=flat,
        charging=ChargingPolicy(need_km=12.0),
    )  # fmt: skip
    res = simulate(req, grid, sites, cfg, horizon_min=24 * 60, seed=1)
    snapshots = pd.date_range(ORIGIN, periods=24, freq="h")
    s = step_inputs(res, snapshots, 1.0)
    driven = res.legs["energy_kwh"].sum()
    kept = s.fixed_charge_kw.to_numpy().sum() * 0.9
    # every kWh driven is drawn in the plan or met by kept charging, less what is given back
    assert s.trip_energy_kwh.to_numpy().sum() == pytest.approx(driven - kept, rel=1e-9)
    assert s.plugged.to_numpy().any()


def test_cyclic_shortfall_agrees_with_the_plans_minimum_energy():
    rng = np.random.default_rng(4)
    plugged = rng.random(48) < 0.4
    trips = np.where(~plugged & (rng.random(48) < 0.3), rng.uniform(0.0, 6.0, 48), 0.0)
    inputs = hand_inputs(hours=48, plugged=plugged, trip_energy_kwh=trips)
    need = minimum_energy_kwh(inputs, cyclic=True).to_numpy()[:, 0]
    over = cyclic_shortfall_kwh(trips[:, None], plugged[:, None], 3.0 * 0.9, 20.0, 2.0)[0]
    assert over == pytest.approx(need.max() - 20.0)


def _autonomous(**fleet) -> dict:
    data = small_scenario_dict()
    for st in data["stations"]:
        st.pop("vehicles"), st.pop("chargers")
        st.update({"latitude_deg": 36.18, "longitude_deg": 140.42})
    data["stations"][1].update({"latitude_deg": 36.171, "longitude_deg": 140.432})
    data["fleet"] = {**data["fleet"], "kind": "autonomous", "autonomous": fleet}
    return data


@pytest.mark.parametrize(
    ("fleet", "message"),
    [
        ({"service_level_fraction": 1.5}, r"fleet\.autonomous\.service_level_fraction = 1\.5"),
        ({"cars": 0}, r"fleet\.autonomous\.cars = 0"),
        ({"simulated_days": 40}, r"fleet\.autonomous\.simulated_days = 40"),
        ({"max_wait": 10}, r"unknown field 'fleet\.autonomous\.max_wait'"),
    ],
)
def test_a_bad_autonomous_setting_names_the_field(fleet, message):
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(_autonomous(**fleet))


def test_town_inputs_names_the_callers_field_in_its_errors():
    """Called from the plan, a bad value is named by its scenario field, not by the CLI's option."""
    from chisan.autonomous.town import town_inputs

    sc = scenario_from_dict(_autonomous())
    names = ("fleet.autonomous.simulated_days", "fleet.autonomous.pv_kw")
    with pytest.raises(ScenarioError, match=r"^fleet\.autonomous\.simulated_days = 0 must be a whole number"):
        town_inputs(sc, days=0, names=names)
    with pytest.raises(ScenarioError, match=r"^fleet\.autonomous\.pv_kw = -1\.0 must be a number ≥ 0"):
        town_inputs(sc, days=1, pv_kwp=-1.0, names=names)
    with pytest.raises(ScenarioError, match=r"^--days = 0"):
        town_inputs(sc, days=0)


def test_autonomous_settings_without_the_kind_and_station_vehicles_are_refused():
    data = _autonomous()
    data["fleet"]["kind"] = "station"
    with pytest.raises(ScenarioError, match=r"\[fleet\.autonomous\] is given but fleet\.kind = 'station'"):
        scenario_from_dict(data)
    data = _autonomous()
    data["stations"][0]["vehicles"] = 3
    with pytest.raises(ScenarioError, match=r"stations\[0\]\.vehicles = 3: with fleet\.kind = 'autonomous'"):
        scenario_from_dict(data)
    data = _autonomous()
    for st in data["stations"]:
        st.pop("latitude_deg"), st.pop("longitude_deg")
    with pytest.raises(ScenarioError, match=r"give latitude_deg and longitude_deg"):
        scenario_from_dict(data)


@pytest.fixture(scope="module")
def small_autonomous_plan():
    """The full plan of the small autonomous town (3 cars, 5 simulated days, seed 1): solved once, only read."""
    from chisan.plan.pipeline import plan_scenario

    sc = scenario_from_dict(_autonomous(cars=3, simulated_days=5, seed=1))  # June = 6 × 5 days
    return plan_scenario(sc, method="full")


def test_plan_of_a_small_autonomous_town_passes_its_checks(small_autonomous_plan):
    run = small_autonomous_plan
    assert run.checks.passed
    av = run.prepared.autonomous
    assert len(run.prepared.inputs.vehicles) == 3 and av.result.config.cars == 3
    v = run.solution.values
    ch = v["Vehicle-charge_kw"]
    assert np.abs(ch[~run.prepared.inputs.plugged.to_numpy(bool)]).max(initial=0.0) <= 1e-6
    # over the cyclic month the plan's charging plus the kept charging gives the cars what they drove
    dt = run.prepared.inputs.dt_hours
    driven = run.prepared.assignment.bookings["trip_energy_kwh"].sum()
    into_batteries = (ch.sum() + run.prepared.inputs.other_load_kw.sum()) * dt * 0.9
    assert into_batteries == pytest.approx(driven, rel=0.02)
    # the report's figures: the fleet, and the planned charging split into re-optimised and kept
    from chisan.report.render import _autonomous_html, autonomous_table

    t = autonomous_table(run.prepared, run.results)["value"]
    assert t["fleet_cars"] == 3 and t["fleet_size_from"] == "fixed"
    assert t["charging_planned_kwh"] == pytest.approx(t["charging_reoptimised_kwh"] + t["charging_kept_kwh"])
    assert t["charging_reoptimised_kwh"] == pytest.approx(ch.sum() * dt)
    html = _autonomous_html(run.prepared, run.results)
    assert "3 cars, fixed by fleet.autonomous.cars" in html and "re-optimised" in html


@pytest.mark.slow
@pytest.mark.parametrize(("method", "topology"), [("two-stage", "single_meter"), ("full", "per_site")])
def test_autonomous_town_two_stage_and_per_site_pass_their_checks(method, topology, request):
    from chisan.plan.pipeline import plan_scenario

    data = _autonomous(cars=3, simulated_days=5, seed=1)
    data["grid"]["topology"] = topology
    if (method, topology) == ("full", "per_site"):  # per_site is the default topology: the module's full plan
        assert scenario_from_dict(data) == scenario_from_dict(_autonomous(cars=3, simulated_days=5, seed=1))
        run = request.getfixturevalue("small_autonomous_plan")
    else:
        run = plan_scenario(scenario_from_dict(data), method=method)
    assert run.checks.passed and run.results.method["method"] == method
    if topology == "per_site":  # the kept charging is each site's own load
        kept = run.prepared.autonomous.fixed_charge_kw.sum()
        site_load = run.prepared.inputs.site_other_load_kw.sum()
        assert site_load["Town Hall"] == pytest.approx(kept["Town Hall"])
        assert site_load["Hospital"] == pytest.approx(kept["Hospital"])
