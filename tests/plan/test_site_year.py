"""The business-as-usual aggregate year of a metered town, one LP per site (plan/site_year.py), against the joint LP:
same optimum, each site's arrays on their own site, and the joint LP whenever a row couples the sites."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import chisan.plan.site_year as site_year
from chisan.economics.bau import bau_inputs
from chisan.plan.inputs import CAPACITIES
from chisan.plan.pipeline import plan_scenario
from chisan.plan.prepare import prepare_inputs
from chisan.plan.solve import _highs_options, _year_by_site, aggregate_year
from chisan.plan.tariff_constraints import PEAK
from chisan.scenario.load import scenario_from_dict
from tests.factories import small_scenario_dict

# 3 metered bases (a meter per station, the default topology) on TEPCO's high-voltage tariff: time of use and a
# basic charge on each meter's contract kW, so every site's LP has its own peak variable
STATIONS = [
    {"name": f"Base {i}", "vehicles": n, "chargers": n, "charger_kw": 6.0, "member_share_fraction": 1 / 3}
    for i, n in enumerate([3, 2, 1], start=1)
]


def town(**grid):
    """The 3 bases on TEPCO's tariff (its own time-of-use bands replace the example's) in March, ``grid`` merged."""
    data = small_scenario_dict(stations=STATIONS, horizon={"months": 1, "start_month": 3})
    data["grid"].pop("import_tou", None)
    data["grid"].update(tariff="tepco_high_voltage_business_2025", **grid)
    return scenario_from_dict(data, source="small.toml", base_dir=Path("."))


@pytest.fixture(scope="module")
def bau():
    inputs = bau_inputs(prepare_inputs(town()).inputs)
    caps = dict.fromkeys(CAPACITIES, 0.0)
    pv = pd.Series(0.0, index=inputs.sites.index, name="pv_kw")
    storage = pd.DataFrame(0.0, index=inputs.sites.index.astype(str), columns=["storage_kwh", "storage_kw"])
    return inputs, caps, pv, storage


@pytest.fixture(scope="module")
def year_in_one_process(bau):
    """The business-as-usual year at fixed capacities, its sites solved one by one here (workers=1): solved once
    for the tests that compare other ways of solving it against it (they only read it)."""
    inputs, caps, pv, storage = bau
    fixed = inputs.with_capacities_fixed(caps, pv, storage)
    return site_year.solve_year_by_site(fixed, _highs_options(120, None), workers=1)


def test_the_sites_solved_one_by_one_give_the_joint_optimum_and_each_site_its_own_arrays(bau, year_in_one_process):
    inputs, caps, pv, storage = bau
    options = _highs_options(120, None)
    joint, condition = aggregate_year(inputs, caps, options, pv, storage)
    assert condition == "optimal"
    fixed = inputs.with_capacities_fixed(caps, pv, storage)
    assert site_year.town_coupling(fixed) is None
    year, condition = year_in_one_process  # site_year.solve_year_by_site(fixed, options, workers=1)
    assert condition == "optimal" and year.sites_solved == 3
    # a block-diagonal LP: the sum of the blocks' optima is the optimum (the brief's 1e-6 relative)
    assert year.objective.value == pytest.approx(float(joint.objective.value), rel=1e-6)
    for name in ("Fleet-energy_kwh", "Site-import_kw", PEAK, "Grid-import_kw"):
        got, want = year.variables[name].solution, joint.variables[name].solution
        assert got.dims == want.dims and got.shape == want.shape, name
        for dim in got.dims:
            if dim != "snapshot":
                assert list(got.indexes[dim]) == list(want.indexes[dim]), (name, dim)
    # each site's contract is its own meter's peak: the basic charge is minimised, so P_s = max_t import_s,t
    # (hourly steps: the hourly mean is the demand, tariff_constraints.py); a site's arrays landing on another
    # site would break it
    imp = year.variables["Site-import_kw"].solution.to_numpy()
    np.testing.assert_allclose(year.variables[PEAK].solution.to_numpy(), imp.max(axis=0), rtol=1e-6, atol=1e-6)
    # the town's import is the sum of its meters' (Grid-site_import_sum), summed back from the parts
    np.testing.assert_allclose(year.variables["Grid-import_kw"].solution.to_numpy(), imp.sum(axis=1), atol=1e-6)
    # the same total energy need per site as the joint LP: Σ_t import of each site equals (no PV, no storage,
    # no export worth having at a price below every import price) its charging plus its other load
    np.testing.assert_allclose(
        imp.sum(axis=0), joint.variables["Site-import_kw"].solution.to_numpy().sum(axis=0), rtol=1e-6
    )


def test_two_processes_give_the_same_year_as_one(bau, monkeypatch, year_in_one_process):
    inputs, caps, pv, storage = bau
    options = _highs_options(120, None)
    fixed = inputs.with_capacities_fixed(caps, pv, storage)
    one, _ = year_in_one_process  # site_year.solve_year_by_site(fixed, options, workers=1)
    monkeypatch.setattr(site_year, "MIN_VEHICLES_FOR_PROCESSES", 1)
    two, condition = site_year.solve_year_by_site(fixed, options, workers=2)
    assert condition == "optimal"
    assert two.objective.value == pytest.approx(one.objective.value, rel=1e-9)
    np.testing.assert_allclose(
        two.variables["Fleet-energy_kwh"].solution.to_numpy(),
        one.variables["Fleet-energy_kwh"].solution.to_numpy(),
        atol=1e-6,
    )


def test_a_row_over_the_town_couples_the_sites(bau):
    inputs = bau[0]
    assert site_year.town_coupling(inputs) is None
    assert site_year.town_coupling(dataclasses.replace(inputs, grid_connection_limit_kw=50.0)) == (
        "a town connection limit"
    )
    assert site_year.town_coupling(dataclasses.replace(inputs, renewable_share_min=0.5)) == (
        "a town-wide policy target"
    )
    free = dict(inputs.capacities)
    free["pv_kw"] = dataclasses.replace(free["pv_kw"], enabled=True, fixed_units=None)
    assert site_year.town_coupling(dataclasses.replace(inputs, capacities=free)) == "capacities to size"


def test_business_as_usual_of_a_metered_town_is_solved_site_by_site_and_passes_its_checks():
    run = plan_scenario(town(), method="two-stage", n_typical_days=6, business_as_usual=True)
    first = run.bau.method["sizing_passes"][0]
    assert first["aggregate_year_sites"] == 3 and "aggregate_year_joint" not in first
    # the plan itself sizes PV under its target: one joint LP, as before
    assert "aggregate_year_sites" not in run.results.method["sizing_passes"][0]


def test_a_town_connection_limit_sends_the_year_back_to_the_joint_lp_with_the_reason_recorded(bau):
    inputs, caps, pv, storage = bau
    options = _highs_options(120, None)
    how: dict = {}
    limited = dataclasses.replace(inputs, grid_connection_limit_kw=500.0)
    joint, condition = _year_by_site(limited, caps, options, pv, storage, how)
    assert condition == "optimal" and how == {"aggregate_year_joint": "a town connection limit"}
    assert hasattr(joint, "solve")  # the linopy model of the joint LP, not an assembled year
    how = {}
    by_site, _ = _year_by_site(inputs, caps, options, pv, storage, how)
    assert how == {"aggregate_year_sites": 3}
    # 500 kW never binds 6 cars on 6 kW chargers: the same optimum either way
    assert by_site.objective.value == pytest.approx(float(joint.objective.value), rel=1e-6)


def test_inside_a_daemonic_process_the_sites_are_solved_here(bau, monkeypatch, year_in_one_process):
    """A Dask worker of ``chisan compare`` is daemonic: multiprocessing refuses it children (AssertionError; the
    compare of the example's 40-car variant failed so). The year is then solved here, with the same optimum."""
    import multiprocessing

    inputs, caps, pv, storage = bau
    options = _highs_options(120, None)
    fixed = inputs.with_capacities_fixed(caps, pv, storage)
    one, _ = year_in_one_process  # site_year.solve_year_by_site(fixed, options, workers=1)
    monkeypatch.setattr(site_year, "MIN_VEHICLES_FOR_PROCESSES", 1)
    monkeypatch.setitem(multiprocessing.current_process()._config, "daemon", True)
    with pytest.raises(AssertionError, match="daemonic"):  # the premise: no child may be started here
        multiprocessing.get_context("spawn").Process(target=print).start()
    year, condition = site_year.solve_year_by_site(fixed, options, workers=2)
    assert condition == "optimal"
    assert year.objective.value == pytest.approx(one.objective.value, rel=1e-9)


def test_a_process_beside_a_busy_one_leaves_its_core(monkeypatch):
    """Two cores, the plan solving beside the business-as-usual worker: the worker solves its sites itself (1);
    four cores leave it two; alone on two cores, two."""
    monkeypatch.setattr(site_year.os, "cpu_count", lambda: 2)
    assert site_year.default_workers() == 2
    monkeypatch.setattr(site_year, "BUSY_CORES_BESIDE", 1)
    assert site_year.default_workers() == 1
    monkeypatch.setattr(site_year.os, "cpu_count", lambda: 4)
    assert site_year.default_workers() == 2
