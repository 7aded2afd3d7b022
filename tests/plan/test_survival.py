"""Survival of the full outage as a constraint (``Survival-*``, :mod:`chisan.plan.survival`), solved by hand.

One day of 24 h, ``annualise=False`` (objective = cost of the day), flat import price (no arbitrage), no PV; one
shelter of 1 kW, an outage of 4 h, every step a start. Either a store or one car must then hold the 4 kWh the
shelter draws, divided by the efficiency of getting it out, at the end of every step.
"""

from __future__ import annotations

import numpy as np
import pytest

from chisan.plan.check import check_solution
from chisan.plan.inputs import Capacity
from chisan.plan.solve import solve_plan
from chisan.plan.survival import SurvivalRequirement, kept_energy_kwh, with_requirement
from tests.factories import hand_inputs

LOAD_KW, OUTAGE_H = 1.0, 4


def _requirement(counted: bool) -> SurvivalRequirement:
    return SurvivalRequirement(
        critical_load_kw=np.full(24, LOAD_KW),
        outage_steps=OUTAGE_H,
        start_steps=np.arange(24),
        counted=np.full((24, 1), counted),
        car_reserve_kwh=np.array([4.0]),  # 20 % of the car's 20 kWh
        v2h_efficiency=0.9,
    )


def test_one_store_keeps_load_times_hours_over_efficiency_and_the_cost_difference_is_its_price():
    # Storage at 100 per kWh (power free), 90 % out: it must hold 1 kW × 4 h / 0.9 = 4.444 kWh at every step;
    # cyclic and with a flat price it never needs to cycle, so the plan costs 100 × 4.444 = 444.4 more.
    base = hand_inputs(
        other_load_kw=np.full(24, 2.0),
        capacities={"storage_kwh": Capacity(annual_cost_per_unit=100.0), "storage_kw": Capacity()},
        storage_charge_efficiency=0.9,
        storage_discharge_efficiency=0.9,
        annualise=False,
    )
    without = solve_plan(base, method="full")
    required = with_requirement(base, _requirement(counted=False))
    with_ = solve_plan(required, method="full")
    need = LOAD_KW * OUTAGE_H / 0.9
    assert without.capacities["storage_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert with_.capacities["storage_kwh"] == pytest.approx(need, rel=1e-6)
    assert with_.values["Storage-energy_kwh"].min() >= need - 1e-6
    assert with_.details["objective"] - without.details["objective"] == pytest.approx(100.0 * need, rel=1e-6)
    assert kept_energy_kwh(required, with_.values).min() == pytest.approx(LOAD_KW * OUTAGE_H, rel=1e-6)
    check_solution(required, with_).raise_if_failed()


def test_one_called_car_keeps_its_reserve_plus_load_times_hours_over_efficiency():
    # The car never leaves; holding energy costs 0.16 per kWh and hour, so without the constraint it sits at its
    # fleet reserve of 2 kWh. Called to the shelter it must keep its 4 kWh outage reserve + 4 / 0.9 = 8.444 kWh,
    # i.e. 6.444 kWh more for 24 h: 6.444 × 24 × 0.16 = 24.75 more a day.
    base = hand_inputs(vehicle_holding_cost_per_kwh_h=0.16, annualise=False)
    without = solve_plan(base, method="full")
    required = with_requirement(base, _requirement(counted=True))
    with_ = solve_plan(required, method="full")
    keep = 4.0 + LOAD_KW * OUTAGE_H / 0.9
    assert without.values["Vehicle-energy_kwh"].max() == pytest.approx(2.0, abs=1e-6)
    assert with_.values["Vehicle-energy_kwh"].min() == pytest.approx(keep, rel=1e-6)
    extra = (keep - 2.0) * 24 * 0.16
    assert with_.details["objective"] - without.details["objective"] == pytest.approx(extra, rel=1e-6)
    check_solution(required, with_).raise_if_failed()


@pytest.mark.slow
def test_plan_requiring_survival_costs_more_and_survives_every_start():
    # The small example town (one month, 2 bases × 3 cars), a 1 kW shelter at the Town Hall base, a 12 h outage
    # from every start step, every base's cars may be called at once: the plan with the requirement costs more
    # than the plan without it (solved both), and the outage simulation then survives every start. Two full
    # one-month plans: ≈ 24 s wall on the shared machine (8 s + 14 s), hence slow.
    from chisan.plan.pipeline import plan_scenario
    from tests.factories import small_scenario

    scenario = small_scenario(
        solver={"method": "full"},
        resilience={
            "shelters": [{"name": "Town Hall gym", "station": "Town Hall", "critical_load_kw": 1.0}],
            "outage_h": 12,
            "called_stations": "all",
            "call_delay_h": 0,
            "require_survival": True,
        },
    )
    run = plan_scenario(scenario)
    s = run.survival
    assert s["start_steps"] == len(run.prepared.inputs.snapshots)
    assert s["cost_per_year"] > 0
    assert s["cost_with_per_year"] == pytest.approx(run.results.kpi("total_cost_per_year"), rel=1e-12)
    assert s["full_outage_probability_with"] == pytest.approx(1.0)
    assert s["full_outage_probability_with"] > s["full_outage_probability_without"]
