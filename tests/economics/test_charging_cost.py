"""The levelised cost of charging is the cost of the vehicles' electricity per kWh charged: the chargers, and the
vehicles' share by energy of the shared system less the hydrogen station's electricity
(:mod:`chisan.economics.charging_cost`), by hand.

Tiny case (r = 10 %, N = 2, a = 1/1.1 + 1/1.21): chargers 100 in year 0 and 10 a year; the shared system 1,000 in
year 0 and 200 a year; the hydrogen station's electricity H = 50 a year; E_c = 300 kWh/year charged, E_o = 100
kWh/year of other load. s = 300 / 400 = 0.75; the vehicles' costs are 100 + 0.75 × 1,000 = 850 in year 0 and
10 + 0.75 × (200 − 50) = 122.5 a year, so LCOC = (850 + 122.5 a) / (300 a).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from chisan.economics.appraisal import appraise
from chisan.economics.charging_cost import levelised_cost_of_charging, vehicle_share_of_energy
from chisan.plan.hydrogen_results import HydrogenResults
from tests.factories import small_scenario

A = 1 / 1.1 + 1 / 1.21
CHARGERS = np.array([100.0, 10.0, 10.0])
SHARED = np.array([1000.0, 200.0, 200.0])


def test_the_vehicles_pay_their_share_by_energy_by_hand():
    assert vehicle_share_of_energy(300.0, 100.0) == 0.75
    lcoc = levelised_cost_of_charging(0.1, CHARGERS, SHARED, 50.0, 300.0, 100.0)
    assert lcoc == pytest.approx((850 + 122.5 * A) / (300 * A), rel=1e-12)
    # the other load's electricity is not the vehicles': all of the system on the charging would be
    everything = (1100 + (210 - 50) * A) / (300 * A)
    assert lcoc < everything


def test_the_hydrogen_stations_electricity_is_not_the_vehicles():
    without = levelised_cost_of_charging(0.1, CHARGERS, SHARED, 0.0, 300.0, 0.0)
    with_h2 = levelised_cost_of_charging(0.1, CHARGERS, SHARED, 50.0, 300.0, 0.0)
    assert without == pytest.approx((1100 + 210 * A) / (300 * A), rel=1e-12)
    assert without - with_h2 == pytest.approx(50 / 300, rel=1e-12)  # H a year ÷ E_c a year, both discounted alike


@pytest.fixture(scope="module")
def run(small_full_plan_with_bau):
    return small_full_plan_with_bau  # plan_scenario(small_scenario(), method="full", business_as_usual=True)


def _hydrogen(value_per_year: float) -> HydrogenResults:
    """The hydrogen tables appraise reads: no capacities to buy, none made, the electricity at ``value_per_year``."""
    figures = pd.Series(
        {
            "electrolyser_kw": 0.0,
            "hydrogen_storage_kg": 0.0,
            "dispenser_kg_per_h": 0.0,
            "hydrogen_produced_kg_per_year": 0.0,
            "hydrogen_from_local_renewables_kg_per_year": 0.0,
            "hydrogen_electricity_value_per_year": value_per_year,
        }
    ).to_frame("value")
    return HydrogenResults(hourly=pd.DataFrame(), figures=figures, costs=pd.DataFrame(), vehicles=pd.DataFrame())


def test_appraisal_leaves_out_the_other_load_and_the_hydrogen_electricity(run):
    sc, plan, bau = small_scenario(), run.results, run.bau
    lcoc = run.economics.figure("levelised_cost_of_charging_per_kwh")
    e_c = float(plan.energy_balance["charging_kwh"])
    assert float(plan.energy_balance["other_load_kwh"]) == 0.0  # the small town has no other load: s = 1

    def lcoc_of(**balance) -> float:
        other = dataclasses.replace(plan, energy_balance=plan.energy_balance.copy())
        for key, value in balance.items():
            other.energy_balance[key] = value
        return appraise(sc, other, bau).figure("levelised_cost_of_charging_per_kwh")

    # H a year taken out: the cost falls by H / E_c (the costs and the kWh of years 1 … N discounted alike)
    h = 0.1 * e_c  # [currency/year]
    with_h2 = appraise(sc, dataclasses.replace(plan, hydrogen=_hydrogen(h)), bau)
    assert lcoc - with_h2.figure("levelised_cost_of_charging_per_kwh") == pytest.approx(0.1, rel=1e-9)
    # as much other load as charging: s = 1/2, the shared system's part halves and the chargers' stays
    chargers_only = lcoc_of(other_load_kwh=1e12 * e_c)  # s → 0: the chargers alone
    assert lcoc_of(other_load_kwh=e_c) == pytest.approx(chargers_only + (lcoc - chargers_only) / 2, rel=1e-9)
    assert chargers_only < lcoc_of(other_load_kwh=e_c) < lcoc
