"""Hand-overs between rolling-dispatch windows when cars share a station's limited power (issue 11, point 6).

Two cars at one station, 3 kW each, behind a 3 kW connection; both leave at hour 30 with 10 kWh trips, after
six plugged-in hours (24–29). Counting each car's full 3 kW, a day-long window ending at hour 23 may leave both
cars empty (6 h × 3 kW = 18 kWh ≥ 10 kWh each, but the station gives only 18 kWh for the two: 20 are needed) and
the next window was infeasible. With each car's proportional share (1.5 kW), each needs
10 − 1.5 kW × 6 h = 1 kWh at hour 23, and the next window can serve both trips.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from chisan.exceptions import SolverError
from chisan.plan.dispatch import RollingSettings, minimum_energy_kwh, rolling_dispatch, station_share, unreachable_needs
from chisan.plan.inputs import Capacity
from tests.factories import hand_inputs

HOURS = 48


def _two_cars(connection_kw: float) -> object:
    base = hand_inputs(hours=HOURS, efficiency=1.0, reserve_kwh=0.0, capacities={"pv_kw": Capacity(fixed_units=0.0)})
    idx = base.snapshots
    cars = ["a", "b"]
    plugged = np.ones((HOURS, 2), bool)
    plugged[30:36] = False
    trip = np.zeros((HOURS, 2))
    trip[30] = 10.0
    vehicles = pd.concat([base.vehicles] * 2)
    vehicles.index = pd.Index(cars, name="vehicle")
    stations = pd.DataFrame(
        {"chargers": [2], "charger_kw": [3.0], "connection_limit_kw": [connection_kw]},
        index=pd.Index(["A"], name="station"),
    )
    return dataclasses.replace(
        base,
        vehicles=vehicles,
        stations=stations,
        plugged=pd.DataFrame(plugged, index=idx, columns=cars),
        trip_energy_kwh=pd.DataFrame(trip, index=idx, columns=cars),
        mask_unplugged=False,
        vehicle_holding_cost_per_kwh_h=0.01,  # no reason to charge early: the window charges as late as it may
    )


def test_each_car_counts_its_share_of_the_station():
    inputs = _two_cars(connection_kw=3.0)
    share = station_share(inputs)
    # both plugged: 3 kW / (3 + 3) kW = 0.5; during the trip nobody is plugged: 1 (nothing to share)
    assert share[0].tolist() == [0.5, 0.5]
    assert share[31].tolist() == [1.0, 1.0]
    need = minimum_energy_kwh(inputs, cyclic=False)
    assert need.iloc[23].tolist() == pytest.approx([1.0, 1.0])  # 10 − 1.5 kW × 6 h, by hand
    assert need.iloc[29].tolist() == pytest.approx([10.0, 10.0])


def test_day_windows_hand_over_enough_energy_for_the_shared_station():
    inputs = _two_cars(connection_kw=3.0)
    dispatch = rolling_dispatch(inputs, RollingSettings(commit_hours=24, lookahead_hours=0))
    energy = dispatch.values["Vehicle-energy_kwh"]
    charge = dispatch.values["Vehicle-charge_kw"]
    assert energy[29].tolist() == pytest.approx([10.0, 10.0], abs=1e-6)  # both trips start full enough
    assert charge.sum(axis=1).max() <= 3.0 + 1e-6  # the station's connection is never exceeded
    assert energy[23].sum() >= 2.0 - 1e-6  # the first window handed over at least the two shares


def test_a_station_that_cannot_recharge_its_cars_is_named():
    # 0.1 kW for two cars: 0.05 kW each × 42 plugged hours = 2.1 kWh over the cyclic horizon, but the trip takes
    # 10 kWh: no dispatch exists (the monolithic LP is infeasible too), and the message says which car and why.
    inputs = _two_cars(connection_kw=0.1)
    with pytest.raises(SolverError) as err:
        rolling_dispatch(inputs, RollingSettings(commit_hours=24, lookahead_hours=0))
    msg = str(err.value)
    assert "car a at station 'A' can gain at most 2.1 kWh" in msg
    assert "2 × 3 kW chargers behind a 0.1 kW connection" in msg and "take 10.0 kWh (2 cars affected)" in msg


def test_a_need_above_the_usable_energy_is_named():
    # A 25 kWh trip from a 20 kWh battery, 1.5 kW each: the need after hour 29 is 25 kWh, after hour 26
    # 25 − 3 h × 1.5 kW = 20.5 kWh — the first step above the usable 20 kWh (hour 26 = 2025-06-02 02:00).
    inputs = _two_cars(connection_kw=3.0)
    trip = inputs.trip_energy_kwh.copy()
    trip.iloc[30] = 25.0
    inputs = dataclasses.replace(inputs, trip_energy_kwh=trip)
    with pytest.raises(SolverError) as err:
        rolling_dispatch(inputs, RollingSettings(commit_hours=24, lookahead_hours=0))
    msg = str(err.value)
    assert "would need 20.5 kWh after 2025-06-02 02:00" in msg and "more than its usable 20.0 kWh" in msg
    assert "the station's 2 × 3 kW chargers behind a 3 kW connection cannot recharge" in msg


def test_a_trip_beyond_the_battery_is_not_blamed_on_the_station():
    # Same 25 kWh trip with no connection limit: each car keeps its full 3 kW (share 1), so the station is not
    # the reason. Need after hour 29 = 25 kWh, after hour 28 = 25 − 3 kW × 1 h = 22 > 20 (first over the usable
    # 20 kWh, hour 28 = 2025-06-02 04:00), after hour 27 = 19 ≤ 20.
    inputs = _two_cars(connection_kw=3.0)
    stations = inputs.stations.copy()
    stations["connection_limit_kw"] = np.nan
    trip = inputs.trip_energy_kwh.copy()
    trip.iloc[30] = 25.0
    inputs = dataclasses.replace(inputs, stations=stations, trip_energy_kwh=trip)
    with pytest.raises(SolverError) as err:
        rolling_dispatch(inputs, RollingSettings(commit_hours=24, lookahead_hours=0))
    msg = str(err.value)
    assert "would need 22.0 kWh after 2025-06-02 04:00" in msg
    assert "more energy than the battery holds" in msg and "connection" not in msg


def test_two_stage_names_a_trip_beyond_the_battery_before_sizing():
    # A 25 kWh trip for a car of 20 kWh usable: no charging can serve it. The two-stage plan says so first, naming
    # the car, instead of after the minutes of sizing a large town takes (the 1,002-car town ended that way).
    from chisan.plan.solve import solve_plan

    trip = np.zeros(48)
    trip[30] = 25.0
    inputs = hand_inputs(hours=48, trip_energy_kwh=trip, capacities={"pv_kw": Capacity(annual_cost_per_unit=1e3)})
    with pytest.raises(SolverError, match=r"car car .* more energy than the battery holds"):
        solve_plan(inputs, method="two-stage", n_typical_days=2)


def test_bookings_no_charging_can_serve_are_given_back_before_planning(monkeypatch):
    # The example scaled to 167 bases (1,002 cars), as issue 11 ran it: the fleet assignment, charging each car as
    # soon as it is back, gave car Base 126-01 a chain of bookings the plan's whole-step charging cannot serve
    # (19.2 kWh needed after 2025-12-31 15:00, 19.0 kWh usable), and the dispatch stopped. Without the repair the
    # need is still there; with it that car's next booking is unserved and every need fits its battery.
    import sys
    import warnings
    from pathlib import Path

    import chisan.plan.prepare as prepare
    from chisan.scenario.load import scenario_from_dict

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_large_towns import scaled_example

    scenario = scenario_from_dict(scaled_example(167), source="scaled-167.toml")
    # One prepare of the 1,002-car year: what the repair is handed inside prepare_inputs is the plan without the
    # repair (what it was with UNREACHABLE_REPAIR_PASSES = 0, the repair's loop not run), what prepare_inputs
    # returns is the plan with it; the repair copies the bookings and replaces the series, so "raw" stays as given.
    raw: dict = {}
    real_repair = prepare.unserve_unreachable_bookings

    def read_raw(inputs, assignment, snapshots, dt):
        raw.update(inputs=inputs, assignment=assignment)
        return real_repair(inputs, assignment, snapshots, dt)

    monkeypatch.setattr(prepare, "unserve_unreachable_bookings", read_raw)  # read where the repair runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # thousands of bookings find no free car in a town this size
        repaired = prepare.prepare_inputs(scenario)
    why = unreachable_needs(raw["inputs"], minimum_energy_kwh(raw["inputs"], cyclic=True))
    assert why is not None and "Base 126-01" in why and "19.0 kWh" in why
    assert unreachable_needs(repaired.inputs, minimum_energy_kwh(repaired.inputs, cyclic=True)) is None
    before, after = raw["assignment"].bookings, repaired.assignment.bookings
    given_back = before["vehicle_id"].notna() & after["vehicle_id"].isna()
    assert given_back.sum() >= 1
    assert (after.loc[given_back, "unserved_reason"] == "not_enough_time_to_charge").all()
    assert "Base 126-01" in set(before.loc[given_back, "vehicle_id"].astype(str))
