"""The planning model on cases small enough to solve by hand; every expected number is derived in the test.

All cases run one day (24 steps of 1 h) with ``annualise=False`` (objective = cost of the day) unless said, and
the full co-optimisation (one LP). Tolerances: HiGHS's default primal/dual feasibility tolerance is 1e-7, so
energies are compared to 1e-6 kWh and costs to 1e-6 relative.
"""

from __future__ import annotations

import numpy as np
import pytest

from chisan.exceptions import InfeasibleError
from chisan.plan.check import check_solution
from chisan.plan.inputs import Capacity
from chisan.plan.solve import solve_plan
from tests.factories import hand_inputs

HOURS = np.arange(24)


def _pv_four_hours(level: float = 0.5) -> np.ndarray:
    """PV output per kW: ``level`` from 10:00 to 14:00 (4 steps), 0 otherwise."""
    return np.where((HOURS >= 10) & (HOURS < 14), level, 0.0)


def _trip(at: int = 18, kwh: float = 10.0, away: int = 3) -> tuple[np.ndarray, np.ndarray]:
    plugged = np.ones(24, bool)
    plugged[at : at + away] = False
    trip = np.zeros(24)
    trip[at] = kwh
    return plugged, trip


def test_one_car_fixed_pv_no_storage_grid_import_in_closed_form():
    # One car leaves at 18:00 for a trip that takes 10 kWh from its battery; plugged in all other hours at 3 kW,
    # 90 % plug-to-battery. Cyclic day: the battery must get the 10 kWh back, so the car draws 10 / 0.9 =
    # 11.111 kWh at the plug. Fixed PV of 4 kW at 0.5 kW/kW from 10:00 to 14:00 gives 2 kW × 4 h = 8 kWh, all of
    # it used (2 kW < 3 kW charger; import costs 30 > export 5). Grid import = 11.111 − 8 = 3.111 kWh.
    plugged, trip = _trip()
    inputs = hand_inputs(
        pv_kw_per_kw=_pv_four_hours(),
        plugged=plugged,
        trip_energy_kwh=trip,
        export_price=5.0,
        capacities={"pv_kw": Capacity(fixed_units=4.0)},
        annualise=False,
    )
    sol = solve_plan(inputs, method="full")
    imp = sol.values["Grid-import_kw"].sum()
    assert imp == pytest.approx(10 / 0.9 - 8.0, abs=1e-6)
    assert sol.values["Grid-export_kw"].sum() == pytest.approx(0.0, abs=1e-6)
    assert sol.values["PV-output_kw"].sum() == pytest.approx(8.0, abs=1e-6)
    assert sol.details["objective"] == pytest.approx(30.0 * (10 / 0.9 - 8.0), rel=1e-6)
    check_solution(inputs, sol).raise_if_failed()


def test_charging_goes_to_the_cheapest_hours_within_the_charger_limit():
    # No PV. Import costs 20 from 00:00 to 03:00 and 30 otherwise. The car needs 10 / 0.9 = 11.111 kWh at the plug:
    # 3 cheap hours × 3 kW = 9 kWh at 20, the remaining 2.111 kWh at 30 → 180 + 63.333 = 243.333.
    plugged, trip = _trip()
    price = np.where(HOURS < 3, 20.0, 30.0)
    inputs = hand_inputs(plugged=plugged, trip_energy_kwh=trip, import_price=price, annualise=False)
    sol = solve_plan(inputs, method="full")
    imp = sol.values["Grid-import_kw"]
    assert imp[:3] == pytest.approx([3.0, 3.0, 3.0], abs=1e-6)
    assert imp.sum() == pytest.approx(10 / 0.9, abs=1e-6)
    assert sol.details["objective"] == pytest.approx(9 * 20 + (10 / 0.9 - 9) * 30, rel=1e-6)


def test_booking_starts_with_trip_energy_plus_reserve():
    # A trip needing 17 kWh from a 20 kWh battery with a 2 kWh reserve: before departure the battery must hold
    # ≥ 19 kWh; after the trip it holds ≥ 2 kWh. The plan's energy just before 18:00 is therefore ≥ 19.
    plugged, trip = _trip(kwh=17.0)
    inputs = hand_inputs(plugged=plugged, trip_energy_kwh=trip, annualise=False)
    sol = solve_plan(inputs, method="full")
    energy = sol.values["Vehicle-energy_kwh"][:, 0]
    assert energy[17] >= 19.0 - 1e-6
    assert energy[18] >= 2.0 - 1e-6
    assert energy.min() >= 2.0 - 1e-6


# --- sizing: a flat 1 kW load, PV available 1 kW/kW for 12 h a day, import 30, export 0, PV 20,000 per kW-year.
# Annualised over a day (opex × 365): PV at x ≤ 1 kW saves 30 × 12 × 365 = 131,400 per kW-year > 20,000, and PV
# beyond 1 kW is exported for nothing, so x = 1. Cost = 20,000 + 30 × 12 × 365 (night import) = 151,400.
SUN = np.where((HOURS >= 6) & (HOURS < 18), 1.0, 0.0)


def _sizing_inputs(**fields):
    caps = {"pv_kw": Capacity(annual_cost_per_unit=20_000.0)}
    caps.update(fields.pop("capacities", {}))
    return hand_inputs(pv_kw_per_kw=SUN, other_load_kw=np.ones(24), capacities=caps, **fields)


def test_pv_sized_to_daytime_load():
    sol = solve_plan(_sizing_inputs(), method="full")
    assert sol.capacities["pv_kw"] == pytest.approx(1.0, abs=1e-6)
    assert sol.details["objective"] == pytest.approx(20_000 + 30 * 12 * 365, rel=1e-6)


def test_annual_renewable_target_sizes_pv_to_cover_the_day():
    # 100 % annual (volumetric) share: 12 h × x ≥ 24 kWh → x = 2 kW; cost 40,000 + 131,400 = 171,400.
    sol = solve_plan(_sizing_inputs(renewable_share_min=1.0, renewable_share_basis="annual"), method="full")
    assert sol.capacities["pv_kw"] == pytest.approx(2.0, abs=1e-6)
    assert sol.details["objective"] == pytest.approx(40_000 + 131_400, rel=1e-6)


def test_hourly_matched_target_sizes_pv_and_storage():
    # 60 % hour-by-hour: import ≤ 40 % × 24 = 9.6 kWh a day, so 2.4 kWh of the 12 night hours come from storage
    # (efficiency 1, storage 10,000 per kWh-year, power free). PV covers 12 kWh of daytime load + 2.4 kWh charged:
    # x = 14.4 / 12 = 1.2 kW. Going beyond the target does not pay: one more kWh a day costs 20,000 / 12 + 10,000
    # = 11,667 per year and saves 30 × 365 = 10,950. Cost = 1.2 × 20,000 + 2.4 × 10,000 + 9.6 × 30 × 365 = 153,120.
    inputs = _sizing_inputs(
        renewable_share_min=0.6,
        renewable_share_basis="hourly",
        capacities={"storage_kwh": Capacity(annual_cost_per_unit=10_000.0), "storage_kw": Capacity()},
        storage_charge_efficiency=1.0,
        storage_discharge_efficiency=1.0,
    )
    sol = solve_plan(inputs, method="full")
    assert sol.capacities["pv_kw"] == pytest.approx(1.2, abs=1e-6)
    assert sol.capacities["storage_kwh"] == pytest.approx(2.4, abs=1e-6)
    assert sol.values["Grid-import_kw"].sum() == pytest.approx(9.6, abs=1e-6)
    assert sol.details["objective"] == pytest.approx(153_120, rel=1e-6)
    check_solution(inputs, sol).raise_if_failed()


def test_infeasible_hourly_target_reports_what_is_achievable():
    # Without storage, PV can only serve the 12 daylight hours: at most 12 / 24 = 50 % matched hour by hour.
    inputs = _sizing_inputs(renewable_share_min=0.6, renewable_share_basis="hourly")
    with pytest.raises(InfeasibleError) as err:
        solve_plan(inputs, method="full")
    assert err.value.target == "policy.renewable_share_min_fraction"
    assert err.value.required == pytest.approx(0.6)
    assert err.value.achievable == pytest.approx(0.5, abs=1e-6)
    assert "60.0%" in str(err.value) and "50.0%" in str(err.value)


def test_infeasible_annual_target_with_capped_pv():
    # PV capped at 1.5 kW: 1.5 × 12 = 18 kWh of 24 kWh a day → at most 75 % annual share.
    inputs = _sizing_inputs(
        renewable_share_min=1.0,
        renewable_share_basis="annual",
        capacities={"pv_kw": Capacity(annual_cost_per_unit=20_000.0, max_units=1.5)},
    )
    with pytest.raises(InfeasibleError) as err:
        solve_plan(inputs, method="full")
    assert err.value.achievable == pytest.approx(0.75, abs=1e-6)


def test_v2g_serves_the_evening_load_from_the_car():
    # V2G on, no PV. Other load 2 kW from 18:00 to 20:00 (2 steps, 4 kWh) when import costs 50; 20 otherwise.
    # The car (no trip) can charge at night at 20 and give back at 90 % both ways: 4 kWh to the bus needs
    # 4 / 0.9 = 4.444 kWh in the battery, i.e. 4.444 / 0.9 = 4.938 kWh at the plug bought at 20 = 98.77, instead of
    # 4 × 50 = 200. Cost = 98.77.
    price = np.where((HOURS >= 18) & (HOURS < 20), 50.0, 20.0)
    load = np.where((HOURS >= 18) & (HOURS < 20), 2.0, 0.0)
    inputs = hand_inputs(import_price=price, other_load_kw=load, v2g=True, annualise=False)
    sol = solve_plan(inputs, method="full")
    assert sol.details["objective"] == pytest.approx(4 / 0.9 / 0.9 * 20, rel=1e-6)
    assert sol.values["Vehicle-discharge_kw"][18:20, 0] == pytest.approx([2.0, 2.0], abs=1e-6)


def test_holding_cost_moves_charging_close_to_departure():
    # Same trip, flat price: without a holding cost any charging hour is optimal; with 0.1 per kWh·h of energy
    # held, the car charges in the last hours before departure (15:00–17:00 at 3 kW for 11.111 kWh at the plug:
    # 3 + 3 + 3 + 2.111), since every earlier kWh would be held longer.
    plugged, trip = _trip()
    inputs = hand_inputs(plugged=plugged, trip_energy_kwh=trip, annualise=False, vehicle_holding_cost_per_kwh_h=0.1)
    sol = solve_plan(inputs, method="full")
    charge = sol.values["Vehicle-charge_kw"][:, 0]
    assert charge[14:18] == pytest.approx([10 / 0.9 - 9, 3.0, 3.0, 3.0], abs=1e-6)
    assert charge[:14].sum() == pytest.approx(0.0, abs=1e-6)
