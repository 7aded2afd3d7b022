"""The sweep's sparse-matrix LP against chisan.plan.model.build_model: the same optimum on the same inputs.

Two independent constructions of one formulation: linopy's (the core's) and the sweep's (numpy/scipy, for speed).
Each case makes one constraint family bind, so that a family built differently — or one the core gains and the
sweep does not follow — changes the optimum. Objectives are compared to 1e-6 relative: both solve with HiGHS to
its default optimality tolerance 1e-7 on problems whose objective is 10⁵–10⁶ JPY/year.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from chisan.plan.highs import quiet_highs
from chisan.plan.model import build_model
from chisan.plan.prepare import prepare_inputs
from chisan.plan.reduce import aggregate_fleet, typical_days
from chisan.sweep.derive import derive_scenario
from chisan.sweep.lp import solve_aggregate


@pytest.fixture(scope="module")
def per_vehicle(template, municipalities):
    """Koumi (Nagano, 4,414 residents): 66 members, one station of 4 Sakura, per vehicle."""
    scenario = derive_scenario(template, "203033", municipalities.loc["203033"].to_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few bookings cannot be served; not what this file tests
        return prepare_inputs(scenario).inputs


@pytest.fixture(scope="module")
def aggregate(per_vehicle):
    """The same town with its fleet as one battery."""
    return aggregate_fleet(per_vehicle)


def _core(inputs):
    m = build_model(inputs)
    with quiet_highs():
        _, condition = m.solve(solver_name="highs", io_api="direct", output_flag=False, threads=1)
    assert condition == "optimal"
    return m


def _total(m, name, weight):
    values = np.nan_to_num(m.variables[name].solution.to_numpy())
    return float((values.reshape(len(weight), -1).sum(axis=1) * weight).sum())


def _fast_total(sol, name, weight):
    return float((sol.values[name].reshape(len(weight), -1).sum(axis=1) * weight).sum())


def _cheaper(inputs, factor, names=("storage_kwh", "storage_kw")):
    caps = dict(inputs.capacities)
    for k in names:
        caps[k] = dataclasses.replace(caps[k], annual_cost_per_unit=caps[k].annual_cost_per_unit * factor)
    return dataclasses.replace(inputs, capacities=caps)


def _compare(inputs):
    m = _core(inputs)
    fast = solve_aggregate(inputs)
    assert fast.status == "optimal"
    assert fast.objective == pytest.approx(float(m.objective.value), rel=1e-6)
    w = inputs.weight.to_numpy(float)
    for name in ("Grid-import_kw", "Grid-export_kw", "Fleet-charge_kw"):
        assert _fast_total(fast, name, w) == pytest.approx(_total(m, name, w), rel=1e-5, abs=1e-3)
    return m, fast


def test_typical_days_linked_with_annual_target(aggregate):
    red = typical_days(aggregate, 12).inputs
    m, fast = _compare(red)
    w = red.weight.to_numpy(float)
    # the 100 % annual target binds: renewable output = charging over the represented year
    assert _fast_total(fast, "PV-output_kw", w) == pytest.approx(_fast_total(fast, "Fleet-charge_kw", w), rel=1e-6)
    assert fast.capacities["pv_kw"] == pytest.approx(float(m.variables["Capacity-pv_kw"].solution), rel=1e-6)


def test_year_at_fixed_capacities_with_storage_wind_and_holding_cost(aggregate):
    fixed = aggregate.with_capacities_fixed({"pv_kw": 12.0, "wind_kw": 3.0, "storage_kwh": 10.0, "storage_kw": 4.0})
    _m, fast = _compare(fixed)
    ones = np.ones(len(fixed.snapshots))
    assert _fast_total(fast, "Storage-discharge_kw", ones) > 100.0  # the storage works: its rows matter
    assert fixed.vehicle_holding_cost_per_kwh_h > 0


def test_cheap_storage_on_typical_days(aggregate):
    red = _cheaper(typical_days(aggregate, 12).inputs, 0.02)  # ≈ ¥270/kWh/year: day–night arbitrage pays
    red = dataclasses.replace(red, renewable_share_min=None)
    m, fast = _compare(red)
    assert fast.capacities["storage_kwh"] > 1.0  # built: the storage rows and the c-rate shape the optimum
    assert fast.capacities["storage_kwh"] == pytest.approx(
        float(m.variables["Capacity-storage_kwh"].solution), rel=1e-4
    )


def test_v2g_on_typical_days(aggregate):
    # export paid 97 % of the import price from 10:00 to 16:00 (below it: no import–export loop): night energy
    # through a car costs 0.75 × day price / 0.9² + wear 0.1 ≈ 0.93 × day price (TOU night = 21/28 of day), so the
    # cars discharge to the grid (holding cost off: it would eat part of the margin)
    red = typical_days(aggregate, 12).inputs
    hours = red.snapshots.hour
    day = (hours >= 10) & (hours < 16)
    export = red.export_price_per_kwh.where(~day, 0.97 * red.import_price_per_kwh)
    red = dataclasses.replace(
        red,
        export_price_per_kwh=export,
        v2g=True,
        v2g_cost_per_kwh=0.1,
        vehicle_holding_cost_per_kwh_h=0.0,
        renewable_share_min=None,
    )
    _m, fast = _compare(red)
    assert fast.values["Fleet-discharge_kw"].sum() > 1.0


def test_hourly_matched_target(aggregate):
    red = dataclasses.replace(
        typical_days(aggregate, 12).inputs, renewable_share_min=0.85, renewable_share_basis="hourly"
    )
    _m, fast = _compare(red)
    w = red.weight.to_numpy(float)
    # binding: import = (1 − 0.85) × charging (without the target the town imports ≈ 32 %)
    assert _fast_total(fast, "Grid-import_kw", w) == pytest.approx(
        0.15 * _fast_total(fast, "Fleet-charge_kw", w), rel=1e-6
    )


def test_import_and_emission_caps_and_carbon_price(aggregate):
    red = typical_days(aggregate, 12).inputs
    w = red.weight.to_numpy(float)
    base = solve_aggregate(red)
    imported = _fast_total(base, "Grid-import_kw", w)
    capped = dataclasses.replace(red, max_grid_import_kwh=0.5 * imported, carbon_price_per_kg=0.02)
    _m, fast = _compare(capped)
    assert _fast_total(fast, "Grid-import_kw", w) == pytest.approx(0.5 * imported, rel=1e-6)  # binding
    ef = red.emission_factor_kg_per_kwh.to_numpy(float)
    kg = float((base.values["Grid-import_kw"] * w * ef).sum())
    capped = dataclasses.replace(red, max_emissions_kg=0.4 * kg)
    _m, fast = _compare(capped)
    assert float((fast.values["Grid-import_kw"] * w * ef).sum()) == pytest.approx(0.4 * kg, rel=1e-6)


def test_unlinked_typical_days(aggregate):
    _compare(typical_days(aggregate, 12, link=False).inputs)


def test_elastic_policy_reports_the_shortfall(aggregate):
    # at 1 kW of PV the 100 % annual target cannot be met: the elastic row reports the missing renewable kWh
    fixed = aggregate.with_capacities_fixed({"pv_kw": 1.0, "wind_kw": 0.0, "storage_kwh": 0.0, "storage_kw": 0.0})
    assert solve_aggregate(fixed).status in ("infeasible", "infeasible_or_unbounded")
    sol = solve_aggregate(fixed, policy_slack_cost=1e4)
    ones = np.ones(len(fixed.snapshots))
    short = _fast_total(sol, "Fleet-charge_kw", ones) - fixed.pv_kw_per_kw.sum()  # charging − all of 1 kW's output
    assert sol.policy_shortfalls["policy.renewable_share_min_fraction"] == pytest.approx(short, rel=1e-6)


def test_what_it_does_not_cover_is_refused(per_vehicle, aggregate):
    with pytest.raises(NotImplementedError, match="fleet_mode='station'"):
        solve_aggregate(per_vehicle)
    with pytest.raises(NotImplementedError, match="cyclic horizons only"):
        solve_aggregate(dataclasses.replace(aggregate, initial_storage_kwh=0.0))
