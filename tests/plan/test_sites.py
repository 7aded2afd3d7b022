"""Sites behind their own meters: hand-derived cases, scenario errors and the pipeline end to end.

Every number asserted here is derived in the comment above it from the inputs built in the test.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from chisan.exceptions import ScenarioError
from chisan.plan.inputs import Capacity
from chisan.plan.model import build_model
from chisan.plan.pipeline import plan_scenario
from chisan.plan.solve import _highs_options, _solve
from chisan.plan.tariff_constraints import PEAK
from chisan.scenario.load import scenario_from_dict
from tests.factories import hand_inputs, small_scenario, small_scenario_dict

DAYS_PER_YEAR = 365.0  # a 24-hour horizon annualised: 8760 h / 24 h


def _two_sites(inputs, *, car_station="B", links=None, **fields):
    """Stations A and B, each its own site; the one car of ``inputs`` at ``car_station``."""
    stations = pd.DataFrame(
        {"chargers": [1, 1], "charger_kw": [3.0, 3.0], "connection_limit_kw": [np.nan, np.nan]},
        index=pd.Index(["A", "B"], name="station"),
    )
    fields.setdefault("sites", pd.DataFrame({"pv_max_kw": [np.inf, np.inf]}, index=pd.Index(["A", "B"], name="site")))
    fields.setdefault("vehicles", inputs.vehicles.assign(station=car_station))
    return dataclasses.replace(inputs, stations=stations, links=links, **fields)


def _solved(inputs):
    m = build_model(inputs)
    assert _solve(m, _highs_options(None, None)) == "optimal"
    return m


@pytest.fixture
def daylight_pv_and_an_evening_trip():
    # 10 kW of PV fixed, available (cf = 1) from 08:00 to 16:00; one car (η = 0.9, 3 kW) leaves at 20:00 with a
    # 10 kWh trip; import ¥30/kWh, export ¥0. The car must take 10 / 0.9 = 11.11 kWh from its bus per day.
    cf = np.r_[np.zeros(8), np.ones(8), np.zeros(8)]
    trip = np.zeros(24)
    trip[20] = 10.0
    return hand_inputs(pv_kw_per_kw=cf, trip_energy_kwh=trip, capacities={"pv_kw": Capacity(fixed_units=10.0)})


def test_pv_at_site_a_cannot_charge_site_b_car(daylight_pv_and_an_evening_trip):
    base = daylight_pv_and_an_evening_trip
    # one town bus: the PV charges the car, nothing is imported
    single = _solved(_two_sites(base, sites=None))
    assert float(single.variables["Grid-import_kw"].solution.sum()) == pytest.approx(0.0, abs=1e-6)
    # a meter per site, all 10 kW of PV on A's roof: B's car is charged from B's import, 11.11 kWh at ¥30,
    # annualised × 365 = ¥121,666.67; A exports its PV (at ¥0) instead
    metered = _solved(_two_sites(base, site_pv_fixed_kw=pd.Series({"A": 10.0, "B": 0.0})))
    site_import = metered.variables["Site-import_kw"].solution.sum("snapshot")
    assert float(site_import.sel(site="B")) == pytest.approx(10.0 / 0.9, rel=1e-6)
    assert float(site_import.sel(site="A")) == pytest.approx(0.0, abs=1e-6)
    assert float(metered.objective.value) == pytest.approx(10.0 / 0.9 * 30.0 * DAYS_PER_YEAR, rel=1e-6)


def test_a_private_line_or_self_wheeling_carries_a_to_b(daylight_pv_and_an_evening_trip):
    base = daylight_pv_and_an_evening_trip
    split = pd.Series({"A": 10.0, "B": 0.0})

    def link(fee: float) -> pd.DataFrame:
        return pd.DataFrame(
            {"site0": ["A"], "site1": ["B"], "fee_per_kwh": [fee], "limit_kw": [np.inf]},
            index=pd.Index(["line"], name="link"),
        )

    # a private line (no fee): A's PV reaches B's car, nothing is imported, the plan costs nothing
    private = _solved(_two_sites(base, site_pv_fixed_kw=split, links=link(0.0)))
    assert float(private.variables["Grid-import_kw"].solution.sum()) == pytest.approx(0.0, abs=1e-6)
    assert float(private.objective.value) == pytest.approx(0.0, abs=1e-6)
    # self-wheeling at ¥5/kWh (< ¥30 import): the 11.11 kWh are wheeled, ¥5 × 11.11 × 365 = ¥20,277.78 a year
    wheeled = _solved(_two_sites(base, site_pv_fixed_kw=split, links=link(5.0)))
    assert float(wheeled.variables["Link-forward_kw"].solution.sum()) == pytest.approx(10.0 / 0.9, rel=1e-6)
    assert float(wheeled.objective.value) == pytest.approx(5.0 * 10.0 / 0.9 * DAYS_PER_YEAR, rel=1e-6)
    # a fee above the import price: B imports instead of wheeling
    dear = _solved(_two_sites(base, site_pv_fixed_kw=split, links=link(40.0)))
    assert float(dear.variables["Link-forward_kw"].solution.sum()) == pytest.approx(0.0, abs=1e-6)


def test_basic_charge_of_one_car_at_one_site_by_hand():
    # One car, plugged in every hour but 20:00, when it leaves with 12 kWh; η = 0.9; flat ¥30/kWh; basic charge
    # ¥1,800/kW/month. The cheapest plan spreads the 12 / 0.9 = 13.33 kWh evenly over the 23 plugged hours:
    # the contract (highest hourly demand = the 30-minute demand at hourly steps) is 13.33 / 23 = 0.5797 kW, billed
    # 12 months: ¥1,800 × 12 × 0.5797 = ¥12,521.74 a year.
    plugged = np.ones(24, bool)
    plugged[20] = False
    trip = np.zeros(24)
    trip[20] = 12.0
    base = hand_inputs(plugged=plugged, trip_energy_kwh=trip, basic_charge_per_kw_month=1800.0)
    inputs = _two_sites(base, car_station="A")
    m = _solved(inputs)
    peak = m.variables[PEAK].solution
    assert list(peak.coords["site"].values) == ["A", "B"]  # one contract per meter
    assert float(peak.sel(site="A")) == pytest.approx(12.0 / 0.9 / 23.0, rel=1e-6)
    assert float(peak.sel(site="B")) == pytest.approx(0.0, abs=1e-9)
    energy = 12.0 / 0.9 * 30.0 * DAYS_PER_YEAR
    assert float(m.objective.value) == pytest.approx(energy + 1800.0 * 12 * 12.0 / 0.9 / 23.0, rel=1e-6)


def test_two_meters_pay_two_contracts_where_one_meter_pays_one():
    # Car 1 at site A is plugged in 00:00–12:00, car 2 at site B 12:00–24:00, each needs 12 kWh (13.33 kWh at the
    # plug) and leaves in the hour it unplugs. Each spreads its charging over its 12 hours: 1.111 kW. On one
    # meter the two never overlap and the town contract is 1.111 kW; on two meters each site has its own
    # 1.111 kW contract, 2.222 kW billed: the basic charge doubles (¥1,800 × 12 × 1.111 = ¥24,000 more a year).
    idx = hand_inputs().snapshots
    plug = np.zeros((24, 2), bool)
    plug[:12, 0] = True
    plug[12:, 1] = True
    trip = np.zeros((24, 2))
    trip[12, 0] = 12.0
    trip[0, 1] = 12.0
    base = hand_inputs(basic_charge_per_kw_month=1800.0)
    vehicles = pd.concat([base.vehicles] * 2)
    vehicles.index = pd.Index(["car1", "car2"], name="vehicle")
    vehicles["station"] = ["A", "B"]
    stations = pd.DataFrame(
        {"chargers": [1, 1], "charger_kw": [3.0, 3.0], "connection_limit_kw": [np.nan, np.nan]},
        index=pd.Index(["A", "B"], name="station"),
    )
    common = dict(
        stations=stations,
        vehicles=vehicles,
        plugged=pd.DataFrame(plug, index=idx, columns=vehicles.index),
        trip_energy_kwh=pd.DataFrame(trip, index=idx, columns=vehicles.index),
    )
    per_kw = 12.0 / 0.9 / 12.0
    one = _solved(dataclasses.replace(base, **common))
    assert float(one.variables[PEAK].solution) == pytest.approx(per_kw, rel=1e-6)
    sites = pd.DataFrame({"pv_max_kw": [np.inf, np.inf]}, index=pd.Index(["A", "B"], name="site"))
    two = _solved(dataclasses.replace(base, sites=sites, **common))
    assert two.variables[PEAK].solution.to_numpy() == pytest.approx([per_kw, per_kw], rel=1e-6)
    assert float(two.objective.value) - float(one.objective.value) == pytest.approx(1800.0 * 12 * per_kw, rel=1e-6)


def test_roof_limits_bound_each_site_and_the_split_follows_the_cars():
    # Two sites, one car each, PV costs less than import. A's roof takes 1 kW: A gets 1 kW, B the rest; the
    # total equals Σ sites (Site-pv_total).
    cf = np.r_[np.zeros(8), np.ones(8), np.zeros(8)]
    trip = np.zeros((24, 2))
    trip[20] = 10.0
    base = hand_inputs(pv_kw_per_kw=cf, capacities={"pv_kw": Capacity(annual_cost_per_unit=1000.0)})
    idx = base.snapshots
    vehicles = pd.concat([base.vehicles] * 2)
    vehicles.index = pd.Index(["car1", "car2"], name="vehicle")
    vehicles["station"] = ["A", "B"]
    inputs = _two_sites(
        base,
        car_station="A",
        vehicles=vehicles,
        plugged=pd.DataFrame(True, index=idx, columns=vehicles.index),
        trip_energy_kwh=pd.DataFrame(trip, index=idx, columns=vehicles.index),
    )
    inputs = dataclasses.replace(inputs, sites=inputs.sites.assign(pv_max_kw=[1.0, np.inf]))
    m = _solved(inputs)
    site_pv = m.variables["Site-pv_kw"].solution
    assert float(site_pv.sel(site="A")) == pytest.approx(1.0, abs=1e-6)
    # B's car takes 11.11 kWh at the plug within 8 sunny hours, so B needs 11.11 / 8 = 1.389 kW of PV
    assert float(site_pv.sel(site="B")) == pytest.approx(10.0 / 0.9 / 8.0, rel=1e-6)
    assert float(m.variables["Capacity-pv_kw"].solution) == pytest.approx(float(site_pv.sum()), rel=1e-9)


def test_scenario_names_sites_links_and_roofs_clearly():
    data = small_scenario_dict()
    data["stations"][0]["site"] = "Depot"
    with pytest.raises(Exception, match=r"stations\[0\]\.site = 'Depot' is not a site; the sites are"):
        scenario_from_dict(data, source="t.toml")
    data = small_scenario_dict()
    data["sites"] = [{"name": "North"}, {"name": "South"}]
    data["grid"]["links"] = [
        {"name": "line", "from_site": "North", "to_site": "South", "kind": "private", "fee_per_kwh": 3}
    ]
    with pytest.raises(Exception, match="a private line has no fee"):
        scenario_from_dict(data, source="t.toml")
    data = small_scenario_dict(grid={"topology": "single_meter"})
    data["sites"] = [{"name": "North"}]
    with pytest.raises(Exception, match="single_meter' has one meter"):
        scenario_from_dict(data, source="t.toml")


def test_fixed_pv_beyond_the_roofs_is_refused_naming_them():
    data = small_scenario_dict()
    data["technologies"]["pv"]["fixed_kw"] = 30.0
    for station in data["stations"]:
        station["pv_max_kw"] = 10.0
    sc = scenario_from_dict(data, source="t.toml")
    with pytest.raises(ScenarioError, match=r"fixed_kw = 30 kW is more than the sites' roofs take together \(20 kW"):
        plan_scenario(sc)


@pytest.fixture(scope="module")
def shared_site_plan():
    # The small town with both stations behind one site "Campus" with a 6 kW roof, and a site "Farm" without
    # cars (a solar field with no roof limit) joined to it by self-wheeling at ¥3/kWh.
    data = small_scenario_dict()
    data["sites"] = [{"name": "Campus", "pv_max_kw": 6.0}, {"name": "Farm"}]
    for station in data["stations"]:
        station["site"] = "Campus"
    data["grid"]["links"] = [{"name": "wheel", "from_site": "Farm", "to_site": "Campus", "fee_per_kwh": 3.0}]
    return plan_scenario(scenario_from_dict(data, source="t.toml"), method="two-stage", n_typical_days=8)


def test_pipeline_reports_every_site_and_its_checks(shared_site_plan):
    run = shared_site_plan
    assert run.checks.passed, run.checks.table()
    names = set(run.checks.table()["check"])
    assert any("every site's meter balances" in n for n in names)
    sites = run.results.sites
    assert list(sites.index) == ["Campus", "Farm"]
    assert sites.loc["Campus", "vehicles"] == 6 and sites.loc["Farm", "vehicles"] == 0
    assert sites.loc["Campus", "pv_kw"] <= 6.0 + 1e-6
    # the town's figures are the sums of the sites'
    dispatch = run.results.dispatch
    scale = run.prepared.inputs.opex_scale
    assert sites["import_kwh_per_year"].sum() == pytest.approx(dispatch["grid_import_kw"].sum() * scale, rel=1e-6)
    assert sites["pv_kw"].sum() == pytest.approx(run.results.capacities["pv_kw"], rel=1e-6)
    # wheeling is a cost line of its own, priced at ¥3 per kWh carried
    carried = dispatch["link_carried_kw:wheel"].sum() * scale
    costs = run.results.costs
    assert costs.loc["Self-wheeling fee", "operation_per_year"] == pytest.approx(3.0 * carried, rel=1e-6)


def test_single_meter_keeps_one_town_bus(june_single_meter):
    run = june_single_meter  # plan_scenario(small_scenario(grid={"topology": "single_meter"}), two stages, 8 days)
    assert run.results.sites is None
    assert not run.prepared.inputs.per_site
    assert "site_import_kw:Town Hall" not in run.results.dispatch


def test_sites_dispatched_in_parallel_parts_equal_the_joint_dispatch(monkeypatch, march_joint):
    # Two metered sites, no line between them: the rolling dispatch splits into one part per site on two
    # processes. The windows of the parts are the joint windows' per-site blocks, so the plan is the same up to
    # the split of the soft end-of-window fleet target: costs within 0.5 %, every check passing on the whole town.
    import chisan.plan.site_dispatch as site_dispatch

    sc = small_scenario(horizon={"months": 1, "start_month": 3})
    joint = march_joint  # sc planned in two stages with 8 typical days (tests/plan/conftest.py)
    assert joint.results.method["shadow_prices"]["dispatch_parts"] == 1  # 6 cars: one part is faster
    monkeypatch.setattr(site_dispatch, "MIN_VEHICLES_PER_PART", 1)
    split = plan_scenario(sc, method="two-stage", n_typical_days=8)
    assert split.results.method["shadow_prices"]["dispatch_parts"] == 2
    assert split.checks.passed, split.checks.table()
    # the whole plan's cost per year, line by line as the report gives it
    total = {
        name: float(run.results.costs["total_per_year"].sum()) for name, run in (("joint", joint), ("split", split))
    }
    assert total["split"] == pytest.approx(total["joint"], rel=5e-3)
    assert split.results.capacities["pv_kw"] == pytest.approx(joint.results.capacities["pv_kw"], rel=1e-9)
    # each car's charging stays at its own site in the merged values (vehicles back in the town's order)
    charge = split.results.vehicle_charge_kw
    assert list(charge.columns) == list(split.prepared.inputs.vehicles.index)
    assert split.results.stations["charging_kwh_per_year"].to_numpy() == pytest.approx(
        joint.results.stations["charging_kwh_per_year"].to_numpy(), rel=0.05
    )
