"""Stationary storage behind every metered site: hand-derived cases, the per-site limit, scenario and pipeline.

Every number asserted here is derived in the comment above it from the inputs built in the test.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from chisan.plan.check import check_solution
from chisan.plan.inputs import Capacity
from chisan.plan.model import build_model
from chisan.plan.pipeline import plan_scenario
from chisan.plan.solve import _highs_options, _solve, solve_plan
from chisan.plan.tariff_constraints import PEAK
from chisan.scenario.load import scenario_from_dict
from tests.factories import hand_inputs, small_scenario_dict

DAYS_PER_YEAR = 365.0  # a 24-hour horizon annualised: 8760 h / 24 h
BASIC = 1800.0 * 12  # ¥1,800 per contract kW per month, 12 months [¥/kW/year]
STORAGE_PER_KWH_YEAR = 1000.0  # annualised storage cost [¥/kWh/year]; power free


def _two_sites(inputs, **fields):
    """Stations A and B, each its own site; the one car of ``inputs`` at B."""
    stations = pd.DataFrame(
        {"chargers": [1, 1], "charger_kw": [3.0, 3.0], "connection_limit_kw": [np.nan, np.nan]},
        index=pd.Index(["A", "B"], name="station"),
    )
    fields.setdefault("sites", pd.DataFrame({"pv_max_kw": [0.0, 0.0]}, index=pd.Index(["A", "B"], name="site")))
    return dataclasses.replace(inputs, stations=stations, vehicles=inputs.vehicles.assign(station="B"), **fields)


@pytest.fixture
def short_plug_window():
    # The car (η = 0.9, 3 kW) is plugged in 00:00–06:00 only and leaves at 06:00 with a 12 kWh trip: it takes
    # 12 / 0.9 = 13.33 kWh at the plug in 6 hours, 2.222 kW at best. Flat ¥30/kWh, basic charge ¥1,800/kW/month,
    # lossless storage (η = 1, c-rate 1) at ¥1,000/kWh/year; no PV.
    plugged = np.zeros(24, bool)
    plugged[:6] = True
    trip = np.zeros(24)
    trip[6] = 12.0
    return hand_inputs(
        plugged=plugged,
        trip_energy_kwh=trip,
        basic_charge_per_kw_month=1800.0,
        capacities={
            "pv_kw": Capacity(enabled=False),
            "storage_kwh": Capacity(annual_cost_per_unit=STORAGE_PER_KWH_YEAR),
            "storage_kw": Capacity(),
        },
        storage_charge_efficiency=1.0,
        storage_discharge_efficiency=1.0,
    )


def _solved(inputs):
    m = build_model(inputs)
    assert _solve(m, _highs_options(None, None)) == "optimal"
    return m


ENERGY = 12.0 / 0.9 * 30.0 * DAYS_PER_YEAR  # the car's energy at ¥30, a year: ¥146,000


def test_storage_behind_the_cars_meter_shaves_its_contract(short_plug_window):
    # Storage at B: import flat over 24 h, 13.33 / 24 = 0.5556 kW; the storage gives the other 2.222 − 0.5556 =
    # 1.667 kW in each of the 6 plugged hours, 10 kWh. Each kW of contract saved needs 6 kWh of storage (¥6,000 <
    # ¥21,600 of basic charge), so the flat import is optimal: ¥146,000 + ¥21,600 × 0.5556 + ¥1,000 × 10 = ¥168,000.
    m = _solved(_two_sites(short_plug_window))
    assert list(m.variables["Site-storage_kwh"].coords["site"].values) == ["A", "B"]
    storage = m.variables["Site-storage_kwh"].solution
    assert float(storage.sel(site="B")) == pytest.approx(10.0, rel=1e-6)
    assert float(storage.sel(site="A")) == pytest.approx(0.0, abs=1e-6)
    assert float(m.variables["Capacity-storage_kwh"].solution) == pytest.approx(10.0, rel=1e-6)
    assert float(m.variables[PEAK].solution.sel(site="B")) == pytest.approx(12.0 / 0.9 / 24, rel=1e-6)
    assert float(m.objective.value) == pytest.approx(ENERGY + BASIC * 12.0 / 0.9 / 24 + 10_000.0, rel=1e-6)
    # the town's Storage-* are the sums over sites
    town = m.variables["Storage-discharge_kw"].solution.to_numpy()
    per_site = m.variables["Site-storage_discharge_kw"].solution.to_numpy().sum(axis=1)
    assert town == pytest.approx(per_site, abs=1e-9)


def test_storage_allowed_only_at_another_site_cannot_shave_it(short_plug_window):
    # technologies.storage.site = "A" (or sites.storage_max_kwh = 0 at B): a battery behind A's meter cannot
    # feed B's car, so none is built and B's contract is the car's 2.222 kW: ¥146,000 + ¥21,600 × 2.222 = ¥194,000.
    for inputs in (
        _two_sites(short_plug_window, storage_site="A"),
        _two_sites(
            short_plug_window,
            sites=pd.DataFrame(
                {"pv_max_kw": [0.0, 0.0], "storage_max_kwh": [np.inf, 0.0]}, index=pd.Index(["A", "B"], name="site")
            ),
        ),
    ):
        m = _solved(inputs)
        assert list(m.variables["Site-storage_kwh"].coords["site"].values) == ["A"]
        assert float(m.variables["Capacity-storage_kwh"].solution) == pytest.approx(0.0, abs=1e-6)
        assert float(m.variables[PEAK].solution.sel(site="B")) == pytest.approx(12.0 / 0.9 / 6, rel=1e-6)
        assert float(m.objective.value) == pytest.approx(ENERGY + BASIC * 12.0 / 0.9 / 6, rel=1e-6)


def test_a_site_storage_limit_caps_the_shaving(short_plug_window):
    # sites.storage_max_kwh = 4 at B: the storage gives 4 / 6 = 0.6667 kW in the plugged hours, so the contract is
    # 2.222 − 0.6667 = 1.5556 kW (the 18 other hours refill 4 kWh at 0.222 kW, below it):
    # ¥146,000 + ¥21,600 × 1.5556 + ¥1,000 × 4 = ¥183,600.
    sites = pd.DataFrame({"pv_max_kw": [0.0, 0.0], "storage_max_kwh": [np.inf, 4.0]}, index=pd.Index(["A", "B"]))
    m = _solved(_two_sites(short_plug_window, sites=sites))
    assert float(m.variables["Site-storage_kwh"].solution.sel(site="B")) == pytest.approx(4.0, rel=1e-6)
    contract = 12.0 / 0.9 / 6 - 4.0 / 6
    assert float(m.variables[PEAK].solution.sel(site="B")) == pytest.approx(contract, rel=1e-6)
    assert float(m.objective.value) == pytest.approx(ENERGY + BASIC * contract + 4_000.0, rel=1e-6)


def test_site_storage_through_the_full_method_is_checked_per_site(short_plug_window):
    inputs = _two_sites(short_plug_window)
    solution = solve_plan(inputs, method="full")
    assert solution.site_storage.loc["B", "storage_kwh"] == pytest.approx(10.0, rel=1e-6)
    assert solution.site_storage["storage_kwh"].sum() == pytest.approx(solution.capacities["storage_kwh"], rel=1e-9)
    report = check_solution(inputs, solution)
    assert report.passed, report.table()
    assert "each site's storage rebuilt step by step" in set(report.table()["check"])
    # a solution whose storage sits at the wrong site fails the per-site meter check
    moved = dict(solution.values)
    for name in ("Site-storage_charge_kw", "Site-storage_discharge_kw", "Site-storage_energy_kwh"):
        moved[name] = moved[name][:, ::-1].copy()
    wrong = dataclasses.replace(solution, values=moved, site_storage=solution.site_storage.iloc[::-1])
    assert not check_solution(inputs, wrong).passed


def test_scenario_storage_limits_per_site_and_only_there():
    data = small_scenario_dict()
    data["sites"] = [{"name": "Campus", "storage_max_kwh": 5.0}]
    data["stations"][0]["site"] = "Campus"
    data["stations"][1]["storage_max_kwh"] = 0.0
    from chisan.plan.prepare import metered_sites

    sc = scenario_from_dict(data, source="t.toml")
    sites = metered_sites(sc, None)["sites"]
    assert sites["storage_max_kwh"].to_dict() == {"Campus": 5.0, data["stations"][1]["name"]: 0.0}
    # a station behind a declared site gives its storage limit there
    data["stations"][0]["storage_max_kwh"] = 3.0
    with pytest.raises(Exception, match=r"stations\[0\].storage_max_kwh is set but station .* give the storage limit"):
        scenario_from_dict(data, source="t.toml")


def _stored_town():
    # The small town (two stations, each its own site) with cheap storage (¥2,000/kWh, no O&M) and room for 3 kWh
    # at the first site.
    data = small_scenario_dict()
    storage = {"enabled": True, "capex_per_kwh": 2000.0, "fixed_om_per_kwh_year": 0.0, "max_kwh": 200.0}
    data["technologies"]["storage"].update(storage)
    data["stations"][0]["storage_max_kwh"] = 3.0
    return scenario_from_dict(data, source="t.toml")


@pytest.fixture(scope="module")
def stored_plan():
    # The two-stage plan sizes, dispatches (windows carrying each site's storage energy) and checks the storage
    # of each site.
    return plan_scenario(_stored_town(), method="two-stage", n_typical_days=8)


def test_two_stage_plan_reports_storage_per_site(stored_plan):
    run = stored_plan
    assert run.checks.passed, run.checks.table()
    sites = run.results.sites
    assert sites["storage_kwh"].sum() == pytest.approx(run.results.capacities["storage_kwh"], rel=1e-6)
    first = sites.index[0]
    assert sites.loc[first, "storage_max_kwh"] == 3.0
    # storage is worth having at both sites: the first fills its 3 kWh, the second holds more
    assert sites.loc[first, "storage_kwh"] == pytest.approx(3.0, abs=1e-6)
    assert sites.loc[sites.index[1], "storage_kwh"] > 3.0
    dispatch = run.results.dispatch
    cols = [f"site_storage_energy_kwh:{x}" for x in sites.index]
    assert dispatch[cols].sum(axis=1).to_numpy() == pytest.approx(dispatch["storage_energy_kwh"].to_numpy(), abs=1e-6)


def test_storage_of_each_site_dispatched_in_parallel_parts(stored_plan, monkeypatch):
    # One part per site on two processes: each part carries its own site's storage from window to window and
    # the merged values put each site's storage back in its column; same sizing, cost within 0.5 %, checks pass.
    import chisan.plan.site_dispatch as site_dispatch

    monkeypatch.setattr(site_dispatch, "MIN_VEHICLES_PER_PART", 1)
    split = plan_scenario(_stored_town(), method="two-stage", n_typical_days=8)
    assert split.results.method["shadow_prices"]["dispatch_parts"] == 2
    assert split.checks.passed, split.checks.table()
    joint_sites, split_sites = stored_plan.results.sites, split.results.sites
    assert split_sites["storage_kwh"].to_numpy() == pytest.approx(joint_sites["storage_kwh"].to_numpy(), rel=1e-9)
    total = [float(r.results.costs["total_per_year"].sum()) for r in (stored_plan, split)]
    assert total[1] == pytest.approx(total[0], rel=5e-3)
    d = split.results.dispatch
    cols = [f"site_storage_energy_kwh:{x}" for x in split_sites.index]
    peak = d[cols].to_numpy().max(axis=0)
    assert (peak <= split_sites["storage_kwh"].to_numpy() + 1e-6).all()
    assert peak.min() > 0  # both sites' storage is used
