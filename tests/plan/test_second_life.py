"""Second-life storage (``SecondLife-*``, :mod:`chisan.plan.second_life`) on a day solvable by hand.

One day of 24 h, ``annualise=False`` (objective = cost of the day), 1 kW of other load every hour, import at 10
from 00:00 to 08:00 and 30 after; one car that never leaves (draws nothing). A 1-kWh store with round trip
0.81 (0.9 each way) and c-rate 0.5/h charges 1 / 0.9 kWh at 10 and gives back 0.9 kWh at 30 once a day (the
cheap hours are contiguous): V = 0.9 × 30 − 10 / 0.9 = 15.889 per kWh and day — the break-even price with a CRF
of 1. The cost without storage is 8 × 10 + 16 × 30 = 560.
"""

from __future__ import annotations

import numpy as np
import pytest

from chisan.plan.check import check_solution
from chisan.plan.inputs import Capacity
from chisan.plan.second_life import SecondLifeOffer, with_offer
from chisan.plan.solve import evaluate_objective, solve_plan
from tests.factories import hand_inputs

HOURS = np.arange(24)
V_HAND = 0.9 * 30.0 - 10.0 / 0.9


def _inputs(price_per_kwh: float, offered_kwh: float = 5.0):
    inputs = hand_inputs(import_price=np.where(HOURS < 8, 10.0, 30.0), other_load_kw=np.ones(24), annualise=False)
    offer = SecondLifeOffer(
        offered_kwh=offered_kwh,
        price_per_kwh=price_per_kwh,
        lifetime_years=1.0,
        crf_per_year=1.0,
        round_trip_efficiency=0.81,
        max_c_rate_per_h=0.5,
    )
    return with_offer(inputs, offer)


def test_break_even_below_price_leaves_second_life_unused_with_the_hand_value():
    inputs = _inputs(price_per_kwh=20.0)
    sol = solve_plan(inputs, method="full")
    sl = sol.details["second_life"]
    assert sl["used_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert sl["break_even_price_per_kwh"] == pytest.approx(V_HAND, rel=1e-6)
    assert sl["break_even_price_per_kwh"] < sl["price_per_kwh"]
    assert not sl["used"] and sl["reason"].startswith("not used")
    assert sol.details["objective"] == pytest.approx(560.0, rel=1e-9)
    check_solution(inputs, sol).raise_if_failed()


def test_break_even_above_price_uses_the_whole_offer_and_saves_the_hand_amount():
    # 5 kWh used: the day costs 560 − 5 × 15.889 + 5 × 10 = 530.556; the offer's dual is V − price = 5.889.
    inputs = _inputs(price_per_kwh=10.0)
    sol = solve_plan(inputs, method="full")
    sl = sol.details["second_life"]
    assert sl["used_kwh"] == pytest.approx(5.0, abs=1e-6)
    assert sol.details["objective"] == pytest.approx(560.0 - 5 * V_HAND + 5 * 10.0, rel=1e-9)
    assert sl["offer_dual_per_kwh_year"] == pytest.approx(V_HAND - 10.0, rel=1e-6)
    assert evaluate_objective(inputs, sol) == pytest.approx(sol.details["objective"], rel=1e-9)
    report = check_solution(inputs, sol)
    report.raise_if_failed()
    # the store's energy is rebuilt step by step by the check and never exceeds 5 kWh
    assert sol.values["SecondLife-energy_kwh"].max() == pytest.approx(5.0, abs=1e-6)


def _offered(inputs, price_per_kwh: float):
    return with_offer(
        inputs,
        SecondLifeOffer(
            offered_kwh=5.0,
            price_per_kwh=price_per_kwh,
            lifetime_years=1.0,
            crf_per_year=1.0,
            round_trip_efficiency=0.81,
            max_c_rate_per_h=0.5,
        ),
    )


def test_degenerate_duals_pv_exactly_meeting_the_load_give_no_value_to_second_life():
    """Issue 12 point 4: the break-even must agree with the decision when the duals are degenerate.

    1 kW of PV from 08:00 to 16:00 meets the 1 kW load exactly, at a flat 30: the midday balance may be priced
    anywhere from 0 (one more kW of PV would be curtailed) to 30 (one more kW of load is bought), and a 1-kWh store
    priced against 0 at midday and 30 at night would earn 0.9 × 30 = 27 a day. But there is no PV surplus to
    store: charging the store from the PV makes the grid supply the load at 30 instead, and the round trip loses
    19 %. By hand the first kWh of second life saves nothing: V = 0, break-even 0.
    """
    pv = np.where((HOURS >= 8) & (HOURS < 16), 1.0, 0.0)
    day = hand_inputs(
        import_price=30.0,
        other_load_kw=np.ones(24),
        pv_kw_per_kw=pv,
        capacities={"pv_kw": Capacity(fixed_units=1.0)},
        annualise=False,
    )
    sl = solve_plan(_offered(day, 100.0), method="full").details["second_life"]
    assert not sl["used"] and sl["used_kwh"] == pytest.approx(0.0, abs=1e-9)
    assert sl["value_per_kwh_year"] == pytest.approx(0.0, abs=1e-6)
    assert sl["break_even_price_per_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert sl["value_method"] == "1 kWh forced in at town"
    # the duals only bound the value from above
    assert sl["dual_value_per_kwh_year_by_site"]["town"] >= sl["value_per_kwh_year"] - 1e-9
    # consistent with the decision: offered far below what the duals may say (27), it is still not used
    assert solve_plan(_offered(day, 20.0), method="full").details["second_life"]["used_kwh"] < 1e-6


def test_degenerate_duals_at_the_new_storage_power_limit_give_the_right_derivative():
    """New storage (10 per kWh a day, 0.95 each way) may give at most 1 kW: it carries the whole 1 kW load of the
    8 dear hours (30) from the 16 cheap ones (10), so the grid is at 0 and the storage at its power limit in the
    same hours. One more kW of load there costs 30; one less saves only the storage's kWh: 10 / 0.95² to charge it
    and 10 / 0.95 of capacity, 21.607. A kWh of second life (0.9 each way) can only replace new storage: it gives
    0.9 kWh a day, saving 0.9 × 21.607, and costs 10 / 0.9 to charge: V = 8.3349 a day (hand). Offered 5 % below,
    the plan uses it; 5 % above, not; at 12 the reason gives that value, not one from the grid price.
    """
    v_hand = 0.9 * (10.0 / 0.95**2 + 10.0 / 0.95) - 10.0 / 0.9
    day = hand_inputs(
        import_price=np.where(HOURS < 16, 10.0, 30.0),
        other_load_kw=np.ones(24),
        capacities={"storage_kwh": Capacity(annual_cost_per_unit=10.0), "storage_kw": Capacity(max_units=1.0)},
        annualise=False,
    )
    sl = solve_plan(_offered(day, 12.0), method="full").details["second_life"]
    assert not sl["used"]
    assert sl["value_per_kwh_year"] == pytest.approx(v_hand, rel=1e-6)
    assert sl["break_even_price_per_kwh"] == pytest.approx(v_hand, rel=1e-6) and "8 /kWh up front" in sl["reason"]
    assert solve_plan(_offered(day, 0.95 * v_hand), method="full").details["second_life"]["used_kwh"] > 1.0
    assert solve_plan(_offered(day, 1.05 * v_hand), method="full").details["second_life"]["used_kwh"] < 1e-6


@pytest.mark.slow
def test_bundled_case_with_a_basic_charge_uses_second_life():
    # examples/second_life_peak_shaving.toml: two bases behind high-voltage meters (basic charge 3,030 JPY/kW/month)
    # offered 60 kWh of retired packs at 12,500 JPY/kWh over 8 years (a = 12,500 × CRF(3 %, 8) = 1,780.7 /kWh/year).
    # The plan uses some (≈ 9.5 kWh), so at the optimum one more kWh is worth exactly its annual cost: V = a.
    # One month, full co-optimisation: ≈ 30 s wall on the shared machine, hence slow.
    from chisan.plan.pipeline import plan_scenario
    from chisan.scenario.load import example_path, load_scenario
    from chisan.units import capital_recovery_factor

    run = plan_scenario(load_scenario(example_path().parent / "second_life_peak_shaving.toml"))
    sl = run.results.method["second_life"]
    a = 12_500 * capital_recovery_factor(0.03, 8.0)
    assert sl["annual_cost_per_kwh"] == pytest.approx(a, rel=1e-12)
    assert sl["used"] and sl["used_kwh"] > 1.0
    assert sl["value_per_kwh_year"] == pytest.approx(a, rel=1e-4)
    assert set(sl["used_kwh_by_site"]) == {"Town Hall", "Hospital"}
    assert run.results.costs.loc["Second-life storage", "investment_per_year"] == pytest.approx(
        a * sl["used_kwh"], rel=1e-9
    )
    assert "second_life_energy_kwh" in run.results.dispatch


@pytest.mark.slow
def test_example_town_leaves_second_life_unused_above_its_break_even_and_uses_it_below():
    # The bundled example cut to June and 2 bases × 3 cars (its low-voltage time-of-use tariff, no basic charge),
    # offered 100 kWh at 15,000 JPY/kWh over 8 years: not used, and the reason gives a break-even price below the
    # offer (11,740 when measured, by the re-solve with 1 kWh forced in; the duals gave 1,914 /kWh/year, i.e.
    # 13,418). Offered again 5 % below that break-even, the plan does use some: the break-even is where the decision
    # turns. Two one-month plans and one re-solve: ≈ 20-60 s wall on the shared machine.
    from chisan.plan.pipeline import plan_scenario
    from tests.factories import small_scenario

    def offered(price: float) -> dict:
        run = plan_scenario(
            small_scenario(
                solver={"method": "full"},
                second_life={"offered_kwh": 100.0, "price_per_kwh": price, "lifetime_years": 8.0},
            )
        )
        return run.results.method["second_life"]

    sl = offered(15_000.0)
    assert not sl["used"] and sl["used_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert sl["break_even_price_per_kwh"] < 15_000.0
    assert sl["reason"].startswith("not used") and f"{sl['break_even_price_per_kwh']:,.0f}" in sl["reason"]
    below = offered(0.95 * sl["break_even_price_per_kwh"])
    assert below["used"] and below["used_kwh"] > 0.01


@pytest.mark.slow
def test_two_stage_plan_dispatches_second_life_from_the_aggregate_year_and_passes_its_checks():
    # The two-stage method decides the second-life store's year in the year-long aggregate dispatch and gives
    # its schedule to the per-vehicle windows as a load; the after-solve check rebuilds every meter's balance and
    # the store's energy with it. Same town as the bundled case (basic charge), 8 typical days. ≈ 50 s wall.
    from chisan.plan.pipeline import plan_scenario
    from tests.factories import small_scenario

    run = plan_scenario(
        small_scenario(
            solver={"method": "two-stage", "typical_days": 8},
            grid={"tariff": "tepco_high_voltage_business_2025", "import_tou": [], "import_price_per_kwh": 0.0},
            second_life={"offered_kwh": 60.0, "price_per_kwh": 12_500.0, "lifetime_years": 8.0},
        )
    )
    sl = run.results.method["second_life"]
    assert run.checks.passed
    assert sl["used"] and 0 < sl["used_kwh"] < 60.0
    assert run.results.dispatch["second_life_discharge_kw"].sum() > 0
    assert run.results.dispatch["second_life_energy_kwh"].max() <= sl["used_kwh"] + 1e-6


@pytest.mark.slow
def test_two_stage_example_town_unused_offer_gives_a_break_even_below_its_price():
    # The example cut to June (2 bases × 3 cars, low-voltage time of use), two stages: the typical-day sizing
    # leaves 100 kWh at 12,500 JPY/kWh unused, and its duals say why: the first kWh would earn less than
    # 12,500 × CRF(3 %, 8) = 1,781 /kWh/year (measured with 1 kWh forced in: 1,401, break-even 9,836 /kWh; the
    # duals alone gave 1,719). 16-43 s wall on the shared machine.
    # Stationary storage may sit behind both meters (a storage limit given per station), as the typical-day sizing
    # then prices it at both.
    from chisan.plan.pipeline import plan_scenario
    from chisan.scenario.load import scenario_from_dict
    from tests.factories import small_scenario_dict

    data = small_scenario_dict(
        solver={"method": "two-stage"},
        second_life={"offered_kwh": 100.0, "price_per_kwh": 12_500.0, "lifetime_years": 8.0},
    )
    for station in data["stations"]:
        station["storage_max_kwh"] = 1000.0
    run = plan_scenario(scenario_from_dict(data, source="small.toml"))
    sl = run.results.method["second_life"]
    assert run.checks.passed
    assert not sl["used"] and sl["used_kwh"] == pytest.approx(0.0, abs=1e-3)
    assert sl["value_per_kwh_year"] < sl["annual_cost_per_kwh"]
    assert sl["break_even_price_per_kwh"] < 12_500.0
    # measured on the primal at the best place, never above what the duals bound it by
    assert sl["value_method"].startswith("1 kWh forced in at ")
    assert sl["value_per_kwh_year"] <= max(sl["dual_value_per_kwh_year_by_site"].values()) + 1e-6
    assert "SecondLife-charge_kw" not in run.solution.values or run.solution.values["SecondLife-charge_kw"].max() < 1e-6
