"""The basic charge in the LP, on cases solved by hand (HiGHS, full co-optimisation unless said).

One car at one station (tests.factories.hand_inputs): 90 % plug-to-battery, 20 kWh usable, 2 kWh reserve.
The objective is per year (annualise=True): a one-day horizon's energy costs × 365, the contract kW × basic
charge × 12 months (not × 365). Costs are compared to 1e-6 relative (HiGHS feasibility tolerance 1e-7).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chisan.plan.check import check_solution
from chisan.plan.dispatch import RollingSettings, rolling_dispatch
from chisan.plan.inputs import PlanInputs
from chisan.plan.solve import evaluate_objective, solve_plan
from chisan.plan.tariff_constraints import billed_months, demand_kw, steps_per_interval
from chisan.tariffs import compile_tariff, load_tariff
from tests.factories import hand_inputs

HOURS = np.arange(24)
HV = load_tariff("tepco_high_voltage_business")  # 1,890.00 JPY/kW/month; 19.51 + 3.98 levy = 23.49 JPY/kWh


def _hv_prices(hours: int = 24) -> np.ndarray:
    snaps = pd.date_range("2025-06-01", periods=hours, freq="h", tz="Asia/Tokyo")
    return compile_tariff(HV, snaps).import_price_jpy_per_kwh.to_numpy()


def test_one_car_with_a_known_import_peak_gives_the_known_basic_charge():
    # The car is plugged in only 03:00–04:00 at 6 kW and its trip at 10:00 takes 5.4 kWh from the battery; the
    # day is cyclic, so it must draw 5.4 / 0.9 = 6 kWh in that one hour: import 6 kW, contract 6 kW.
    # Basic charge = 6 kW × 1,890 JPY/kW/month × 12 months = 136,080 JPY/year.
    # Energy = 6 kWh × 23.49 JPY/kWh × 365 days = 51,443.1 JPY/year. Bill = 187,523.1 JPY/year.
    plugged = HOURS == 3
    trip = np.where(HOURS == 10, 5.4, 0.0)
    inputs = hand_inputs(
        plugged=plugged,
        trip_energy_kwh=trip,
        max_charge_kw=6.0,
        import_price=_hv_prices(),
        basic_charge_per_kw_month=HV.basic_charge_jpy_per_kw_month,
    )
    sol = solve_plan(inputs, method="full")
    assert sol.values["Grid-import_kw"][3] == pytest.approx(6.0, abs=1e-6)
    assert billed_months(inputs) == 12.0
    assert sol.details["objective"] == pytest.approx(6 * 1890.0 * 12 + 6 * 23.49 * 365, rel=1e-6)
    assert sol.details["objective"] == pytest.approx(187_523.1, rel=1e-6)
    # The bill evaluated on the solution (a second path: from the import series, not the LP variable).
    assert evaluate_objective(inputs, sol) == pytest.approx(187_523.1, rel=1e-6)
    check_solution(inputs, sol).raise_if_failed()


def _spread_case(**fields) -> PlanInputs:
    # Plugged 00:00–08:00 (8 h) at up to 6 kW; the trip at 12:00 takes 16.2 kWh → 18 kWh at the plug a day.
    # Import costs 20 JPY/kWh 00:00–03:00 and 30 otherwise.
    plugged = HOURS < 8
    trip = np.where(HOURS == 12, 16.2, 0.0)
    price = np.where(HOURS < 3, 20.0, 30.0)
    return hand_inputs(plugged=plugged, trip_energy_kwh=trip, max_charge_kw=6.0, import_price=price, **fields)


def test_a_basic_charge_spreads_charging_and_the_objective_is_the_hand_computed_bill():
    # Without a basic charge: all 18 kWh in the 3 cheap hours at 6 kW → peak 6 kW; cost 18 × 20 × 365 = 131,400.
    flat = solve_plan(_spread_case(), method="full")
    assert flat.values["Grid-import_kw"].max() == pytest.approx(6.0, abs=1e-6)
    assert flat.details["objective"] == pytest.approx(131_400.0, rel=1e-6)
    # With 1,890 JPY/kW/month: a contract of P kW costs 22,680 P a year; the cheap hours carry 3P kWh, the
    # rest 18 − 3P at 30, so cost(P) = 22,680 P + 365 (60 P + 30 (18 − 3P)) = 11,730 P + 197,100, rising in
    # P: the least P that delivers 18 kWh in 8 h, P = 2.25 kW, flat over the 8 hours.
    # Bill = 11,730 × 2.25 + 197,100 = 223,492.5 JPY/year.
    inputs = _spread_case(basic_charge_per_kw_month=1890.0)
    sol = solve_plan(inputs, method="full")
    imp = sol.values["Grid-import_kw"]
    assert imp.max() == pytest.approx(2.25, abs=1e-6)
    assert imp[:8] == pytest.approx(np.full(8, 2.25), abs=1e-6)
    assert imp.max() < flat.values["Grid-import_kw"].max()
    assert sol.details["objective"] == pytest.approx(223_492.5, rel=1e-6)
    assert evaluate_objective(inputs, sol) == pytest.approx(223_492.5, rel=1e-6)


def test_a_horizon_only_objective_bills_its_share_of_the_year():
    # annualise=False: the objective is the day's cost, and the contract is billed 12 × 24 / 8760 months.
    # Same physics as above: the day costs 472.5 JPY of energy at P = 2.25 if the basic charge still binds:
    # cost(P) = 1890 × 12 × 24/8760 × P + (60 P + 540 − 90 P) = 62.137 P − 30 P + 540 → rising in P, P = 2.25.
    inputs = _spread_case(basic_charge_per_kw_month=1890.0, annualise=False)
    assert billed_months(inputs) == pytest.approx(12 * 24 / 8760)
    sol = solve_plan(inputs, method="full")
    months = 12 * 24 / 8760
    assert sol.values["Grid-import_kw"].max() == pytest.approx(2.25, abs=1e-6)
    assert sol.details["objective"] == pytest.approx(1890.0 * months * 2.25 + 472.5, rel=1e-6)


def test_a_fixed_low_voltage_contract_caps_the_import_and_is_billed():
    # 低圧電力 with a 4 kW contract: the breaker caps import at 4 kW; the cheap hours carry 12 kWh at 20, the
    # other 6 kWh at 30; basic charge 4 × 1,155.84 × 12 = 55,480.32.
    # Bill = 365 × (12 × 20 + 6 × 30) + 55,480.32 = 153,300 + 55,480.32 = 208,780.32 JPY/year.
    inputs = _spread_case(basic_charge_per_kw_month=1155.84, contract_kw_fixed=4.0)
    sol = solve_plan(inputs, method="full")
    imp = sol.values["Grid-import_kw"]
    assert imp.max() == pytest.approx(4.0, abs=1e-6)
    assert imp[:3] == pytest.approx([4.0, 4.0, 4.0], abs=1e-6)
    assert sol.details["objective"] == pytest.approx(208_780.32, rel=1e-6)
    assert evaluate_objective(inputs, sol) == pytest.approx(208_780.32, rel=1e-6)


def _quarter_hour_inputs(plugged: np.ndarray, trip: np.ndarray, **fields) -> PlanInputs:
    base = hand_inputs(max_charge_kw=6.0)
    n = len(plugged)
    idx = pd.date_range("2025-06-01", periods=n, freq="15min", tz="Asia/Tokyo")
    s = lambda v: pd.Series(np.full(n, v, dtype=float), index=idx)  # noqa: E731
    return PlanInputs(
        snapshots=idx,
        dt_hours=0.25,
        pv_kw_per_kw=s(0.0),
        wind_kw_per_kw=s(0.0),
        import_price_per_kwh=s(23.49),
        export_price_per_kwh=s(0.0),
        emission_factor_kg_per_kwh=s(0.5),
        stations=base.stations,
        vehicles=base.vehicles,
        plugged=pd.DataFrame({"car": plugged}, index=idx),
        trip_energy_kwh=pd.DataFrame({"car": trip}, index=idx),
        capacities={},
        **fields,
    )


def test_the_contract_is_the_30_minute_demand_at_15_minute_steps():
    assert steps_per_interval(0.25) == 2 and steps_per_interval(0.5) == 1 and steps_per_interval(1.0) == 1
    # 30-minute means of 6, 0 | 2, 4 | 1 (partial, summed over 2 steps): 3, 3, 0.5.
    assert demand_kw(np.array([6.0, 0.0, 2.0, 4.0, 1.0]), 0.25) == pytest.approx([3.0, 3.0, 0.5])
    # One day at 15 min. The car is plugged in only 03:00–03:15 (step 12) at 6 kW and the trip takes 1.35 kWh:
    # it must draw 1.35 / 0.9 = 1.5 kWh in that quarter hour, 6 kW. The meter's 03:00–03:30 demand is
    # (6 + 0) / 2 = 3 kW, so the contract is 3 kW, not 6: 3 × 1,890 × 12 = 68,040;
    # energy 1.5 × 23.49 × 365 = 12,860.775. Bill = 80,900.775 JPY/year.
    n = 96
    plugged = np.arange(n) == 12
    trip = np.where(np.arange(n) == 40, 1.35, 0.0)
    inputs = _quarter_hour_inputs(plugged, trip, basic_charge_per_kw_month=1890.0)
    sol = solve_plan(inputs, method="full")
    assert sol.values["Grid-import_kw"][12] == pytest.approx(6.0, abs=1e-6)
    assert sol.details["objective"] == pytest.approx(80_900.775, rel=1e-6)
    assert evaluate_objective(inputs, sol) == pytest.approx(80_900.775, rel=1e-6)


def test_the_rolling_dispatch_carries_the_contract_found_so_far():
    # Two days, one window a day (commit 24 h, no look-ahead). Day 1: plugged only 03:00–04:00, trip takes
    # 5.4 kWh → 6 kW import, contract 6 kW. Day 2: plugged 00:00–08:00, trip 16.2 kWh → 18 kWh at the plug,
    # 20 JPY/kWh 00:00–03:00 and 30 later. The second window starts with the contract at 6 kW (a lower bound it
    # pays for anyway), so it charges 6 kW in the three cheap hours instead of spreading 2.25 kW over 8 hours
    # as a window priced from zero would (test above).
    h = np.arange(48)
    plugged = (h == 3) | ((h >= 24) & (h < 32))
    trip = np.where(h == 10, 5.4, 0.0) + np.where(h == 36, 16.2, 0.0)
    price = np.where((h >= 24) & (h < 27), 20.0, 30.0)
    inputs = hand_inputs(
        hours=48,
        plugged=plugged,
        trip_energy_kwh=trip,
        max_charge_kw=6.0,
        import_price=price,
        basic_charge_per_kw_month=1890.0,
        mask_unplugged=False,
    )
    dispatch = rolling_dispatch(inputs, RollingSettings(commit_hours=24, lookahead_hours=0))
    imp = dispatch.values["Grid-import_kw"]
    assert imp[3] == pytest.approx(6.0, abs=1e-6)
    assert imp[24:27] == pytest.approx([6.0, 6.0, 6.0], abs=1e-6)
    assert imp.max() == pytest.approx(6.0, abs=1e-6)
    # Starting from a contract carried in from sizing (8 kW) changes nothing here: both days stay ≤ 8 kW.
    carried = rolling_dispatch(
        hand_inputs(
            hours=48,
            plugged=plugged,
            trip_energy_kwh=trip,
            max_charge_kw=6.0,
            import_price=price,
            basic_charge_per_kw_month=1890.0,
            mask_unplugged=False,
            contract_kw_min=8.0,
        ),
        RollingSettings(commit_hours=24, lookahead_hours=0),
    )
    assert carried.values["Grid-import_kw"][24:27] == pytest.approx([6.0, 6.0, 6.0], abs=1e-6)
