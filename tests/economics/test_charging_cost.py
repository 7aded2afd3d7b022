"""The levelised cost of charging is the cost of the vehicles' electricity per kWh charged: the chargers, and the
vehicles' share by energy of the shared system less the hydrogen station's electricity
(:mod:`chisan.economics.charging_cost`), by hand.

Tiny case (r = 10 %, N = 2, a = 1/1.1 + 1/1.21): chargers 100 in year 0 and 10 a year; the shared system 1,000 in
year 0 and 200 a year; the hydrogen station's electricity H = 50 a year; E_c = 300 kWh/year charged, E_o = 100
kWh/year of other load. s = 300 / 400 = 0.75; the vehicles' costs are 100 + 0.75 × 1,000 = 850 in year 0 and
10 + 0.75 × (200 − 50) = 122.5 a year, so LCOC = (850 + 122.5 a) / (300 a). With metered sites each site's PV is
shared behind its own meter (the two-site cases below).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from chisan.economics.appraisal import appraise
from chisan.economics.charging_cost import (
    levelised_cost_of_charging,
    located_other_load_kwh,
    pv_vehicle_share_of_sites,
    site_loads_of,
    vehicle_share_of_energy,
)
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
    # the town rule: the small town's two meters read as one (no sites table), so the PV is shared by s too
    sc, plan, bau = small_scenario(), dataclasses.replace(run.results, sites=None), run.bau
    lcoc = appraise(sc, plan, bau).figure("levelised_cost_of_charging_per_kwh")
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


def test_with_metered_sites_each_sites_pv_is_shared_behind_its_own_meter_by_hand():
    """Two metered sites. A: PV (its costs P = 600 in year 0 and 20 a year, inside the shared costs above), 100 kWh
    a year charged and 100 of other load (s_A = 1/2); B: no PV, 200 kWh charged and no other load. The town's
    s = 300 / 400 = 0.75 shares the rest of the system R = S − P (400, then 180 a year) less H = 50.

    The PV part of the LCOC is the charging-weighted mean of the sites' PV cost per kWh of their electricity:
    A's PV costs (600 + 20 a) discounted over A's (100 + 100) a kWh, B's 0; weights 100/300 and 200/300."""
    pv = np.array([600.0, 20.0, 20.0])
    e_c = pd.Series({"A": 100.0, "B": 200.0})
    e_o = pd.Series({"A": 100.0, "B": 0.0})
    sigma = pv_vehicle_share_of_sites(e_c, e_o, pd.Series({"A": 10.0, "B": 0.0}))
    assert sigma == pytest.approx(0.5, rel=1e-12)  # s_A × 1 + s_B × 0
    lcoc = levelised_cost_of_charging(0.1, CHARGERS, SHARED, 50.0, 300.0, 100.0, pv_costs=pv, pv_vehicle_share=sigma)
    rest = (100 + 0.75 * 400 + (10 + 0.75 * (180 - 50)) * A) / (300 * A)  # chargers + s (R − H), per kWh charged
    pv_per_kwh = {"A": (600 + 20 * A) / (200 * A), "B": 0.0}  # each site's PV cost per kWh it uses
    weighted = sum(e_c[k] / 300.0 * pv_per_kwh[k] for k in ("A", "B"))
    assert lcoc == pytest.approx(rest + weighted, rel=1e-12)
    assert lcoc == pytest.approx((700 + 117.5 * A) / (300 * A), rel=1e-12)  # year 0: 100 + 300 + 300; then 117.5
    # the town-wide rule gave the vehicles s = 3/4 of the PV, though B's charging sees none of it
    town = levelised_cost_of_charging(0.1, CHARGERS, SHARED, 50.0, 300.0, 100.0)
    assert town - lcoc == pytest.approx((0.75 - 0.5) * (600 + 20 * A) / (300 * A), rel=1e-12)
    # one site: σ = s and the rule is the town's
    one = pv_vehicle_share_of_sites(pd.Series({"A": 300.0}), pd.Series({"A": 100.0}), pd.Series({"A": 10.0}))
    assert one == 0.75
    assert levelised_cost_of_charging(0.1, CHARGERS, SHARED, 50.0, 300.0, 100.0, pv_costs=pv, pv_vehicle_share=one) == (
        pytest.approx(town, rel=1e-12)
    )


def test_the_towns_other_load_is_placed_where_the_meters_leave_it_by_hand():
    # meters: A used 250 kWh, of it 100 charging; B 210, of it 200 charging and 0 hydrogen → residuals 150 and 10
    meter = pd.Series({"A": 250.0, "B": 210.0})
    placed = located_other_load_kwh(meter, pd.Series({"A": 100.0, "B": 200.0}), pd.Series({"B": 0.0}), 100.0)
    assert placed["A"] == pytest.approx(100 * 150 / 160, rel=1e-12) and placed["B"] == pytest.approx(100 * 10 / 160)
    # the hydrogen station's electricity at B is not other load: B's residual is 0
    placed = located_other_load_kwh(meter, pd.Series({"A": 100.0, "B": 200.0}), pd.Series({"B": 10.0}), 100.0)
    assert placed["A"] == pytest.approx(100.0) and placed["B"] == 0.0
    # nothing left on any meter: on the first site, as the planning inputs place it by default
    placed = located_other_load_kwh(meter, meter, pd.Series(dtype=float), 40.0)
    assert placed.to_dict() == {"A": 40.0, "B": 0.0}


def _two_sites(plan, pv_share_a: float, charging_share_a: float) -> pd.DataFrame:
    """A sites table of ``plan`` split on two meters: A has ``pv_share_a`` of the PV and ``charging_share_a`` of the
    charging, B the rest; each site imports what its charging needs beyond its PV (no other load in the town)."""
    bal, pv_kw = plan.energy_balance, float(plan.capacities["pv_kw"])
    pv = np.array([pv_share_a, 1 - pv_share_a]) * float(bal["pv_kwh"])
    charging = np.array([charging_share_a, 1 - charging_share_a]) * float(bal["charging_kwh"])
    return pd.DataFrame(
        {
            "pv_kw": np.array([pv_share_a, 1 - pv_share_a]) * pv_kw,
            "wind_kw": 0.0,
            "pv_kwh_per_year": pv,
            "import_kwh_per_year": np.clip(charging - pv, 0, None),
            "export_kwh_per_year": np.clip(pv - charging, 0, None),
            "charging_kwh_per_year": charging,
        },
        index=pd.Index(["A", "B"], name="site"),
    )


def test_appraisal_shares_the_pv_site_by_site(run):
    """The small town (no other load: s = 1) on two meters. PV at a site without chargers is none of the vehicles'
    (σ = 0); half of it there, σ = 1/2 and the LCOC halfway; every site charging, σ = 1 and the town's LCOC. Without
    PV degradation the PV's discounted costs over the discounted kWh charged are its LCOE × PV kWh ÷ kWh charged."""
    sc = small_scenario()
    sc = sc.model_copy(update={"finance": sc.finance.model_copy(update={"pv_degradation_per_year_fraction": 0.0})})
    plan, bau = run.results, run.bau
    assert float(plan.capacities["pv_kw"]) > 0 and float(plan.energy_balance["other_load_kwh"]) == 0.0
    base = appraise(sc, plan, bau)
    lcoc = base.figure("levelised_cost_of_charging_per_kwh")

    def lcoc_on(pv_share_a: float, charging_share_a: float) -> float:
        sites = _two_sites(plan, pv_share_a, charging_share_a)
        return appraise(sc, dataclasses.replace(plan, sites=sites), bau).figure("levelised_cost_of_charging_per_kwh")

    none_of_it = lcoc_on(1.0, 0.0)
    pv_per_kwh_charged = base.figure("lcoe_pv_per_kwh") * float(plan.energy_balance["pv_kwh"])
    pv_per_kwh_charged /= float(plan.energy_balance["charging_kwh"])
    assert lcoc - none_of_it == pytest.approx(pv_per_kwh_charged, rel=1e-9)
    assert lcoc_on(0.5, 0.0) == pytest.approx((lcoc + none_of_it) / 2, rel=1e-9)
    assert lcoc_on(0.5, 0.5) == pytest.approx(lcoc, rel=1e-12)
    loads = site_loads_of(sc, dataclasses.replace(plan, sites=_two_sites(plan, 1.0, 0.0)))
    assert loads["other_load_kwh_per_year"].sum() == 0.0 and list(loads["pv_kw"] > 0) == [True, False]
