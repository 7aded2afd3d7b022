"""Every metered site on its own tariff: a hand-derived two-site bill, the same case against PyPSA, the pipeline
end to end, and the errors for an unknown name or a tariff in another currency.

Every number asserted is derived in the comment above it from the inputs built in the test.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pypsa  # noqa: F401  (in the test extra: a missing PyPSA must fail the suite, not skip it)
import pytest

from chisan.exceptions import ScenarioError
from chisan.plan.inputs import Capacity
from chisan.plan.model import build_model
from chisan.plan.pipeline import plan_scenario
from chisan.plan.solve import _highs_options, _solve, solve_plan
from chisan.plan.tariff_constraints import PEAK
from chisan.plan.tariffs import GridPrices, site_price_fields, tariff_prices
from chisan.scenario.load import scenario_from_dict
from chisan.tariffs import Tariff
from tests.factories import hand_inputs, small_scenario_dict
from tests.pypsa_reference import solve_pypsa

DAYS_PER_YEAR = 365.0  # a 24-hour horizon annualised: 8760 h / 24 h
MONTHS = 12.0  # a year of contract: the basic charge × 12 months

# Site A, a small base on low voltage (低圧電力): ¥20/kWh all day, a 5 kW contract fixed in advance at ¥1,000/kW/month.
LOW_VOLTAGE = Tariff.model_validate(
    {
        "name": "flat_low_voltage",
        "voltage": "low",
        "seasons": [{"bands": [{"price_jpy_per_kwh": 20.0}]}],
        "basic_charge_jpy_per_kw_month": 1000.0,
        "contract": {"kind": "fixed", "contract_kw": 5.0},
    }
)
# Site B, a depot on high voltage (業務用電力): night (22:00–08:00) ¥15/kWh, day ¥30/kWh, every day type, and a basic
# charge of ¥1,500/kW/month on the highest 30-minute demand.
HIGH_VOLTAGE = Tariff.model_validate(
    {
        "name": "tou_high_voltage",
        "voltage": "high",
        "seasons": [
            {
                "bands": [
                    {"name": "early night", "start_hour": 0, "end_hour": 8, "price_jpy_per_kwh": 15.0},
                    {"name": "day", "start_hour": 8, "end_hour": 22, "price_jpy_per_kwh": 30.0},
                    {"name": "late night", "start_hour": 22, "end_hour": 24, "price_jpy_per_kwh": 15.0},
                ]
            }
        ],
        "basic_charge_jpy_per_kw_month": 1500.0,
    }
)


def _two_sites_one_car_each(site_tariffs: dict[str, Tariff], **changes):
    """Stations A and B, each its own site, one car each (η 0.9, 3 kW, 2–20 kWh) leaving at 20:00 with 10 kWh.

    The town's own price (¥30/kWh flat) is that of any site without a tariff of its own.
    """
    trip = np.zeros(24)
    trip[20] = 10.0
    base = hand_inputs(trip_energy_kwh=trip, **changes)
    car = base.vehicles.iloc[0]
    vehicles = pd.DataFrame([car, car], index=pd.Index(["car_a", "car_b"], name="vehicle")).assign(station=["A", "B"])
    stations = pd.DataFrame(
        {"chargers": [1, 1], "charger_kw": [3.0, 3.0], "connection_limit_kw": [np.nan, np.nan]},
        index=pd.Index(["A", "B"], name="station"),
    )
    both = lambda frame: pd.concat([frame.iloc[:, 0]] * 2, axis=1, keys=vehicles.index)  # noqa: E731
    town = GridPrices(base.import_price_per_kwh, base.export_price_per_kwh)
    own = {site: tariff_prices(t, base.snapshots, "JPY", f"sites.{site}") for site, t in site_tariffs.items()}
    return dataclasses.replace(
        base,
        stations=stations,
        vehicles=vehicles,
        plugged=both(base.plugged),
        trip_energy_kwh=both(base.trip_energy_kwh),
        sites=pd.DataFrame({"pv_max_kw": [np.inf, np.inf]}, index=pd.Index(["A", "B"], name="site")),
        **site_price_fields(town, own, ["A", "B"], base.snapshots),
    )


def _solved(inputs):
    m = build_model(inputs)
    assert _solve(m, _highs_options(None, None)) == "optimal"
    return m


def test_two_sites_are_billed_on_their_own_tariffs():
    inputs = _two_sites_one_car_each({"A": LOW_VOLTAGE, "B": HIGH_VOLTAGE})
    m = _solved(inputs)
    need_kwh = 10.0 / 0.9  # each car takes 11.11 kWh from its meter a day
    # A: every kWh at ¥20, × 365 days = ¥81,111.11; the contract is fixed at 5 kW: ¥1,000 × 12 × 5 = ¥60,000
    bill_a = need_kwh * 20.0 * DAYS_PER_YEAR + 1000.0 * MONTHS * 5.0
    # B: all 11.11 kWh in the ten night hours (00–08, 22–24) at ¥15, × 365 = ¥60,833.33, spread evenly so the peak is
    # 11.11 / 10 = 1.111 kW: ¥1,500 × 12 × 1.111 = ¥20,000. (Taking δ kW off the peak would move 10 δ kWh into
    # the day at ¥15 more: ¥54,750 δ a year against ¥18,000 δ saved, so the night spread is the optimum.)
    peak_b = need_kwh / 10.0
    bill_b = need_kwh * 15.0 * DAYS_PER_YEAR + 1500.0 * MONTHS * peak_b
    assert float(m.objective.value) == pytest.approx(bill_a + bill_b, rel=1e-6)
    peak = m.variables[PEAK].solution
    assert float(peak.sel(site="A")) == pytest.approx(5.0)
    assert float(peak.sel(site="B")) == pytest.approx(peak_b, rel=1e-6)
    site_b = m.variables["Site-import_kw"].solution.sel(site="B").to_numpy()
    night = np.r_[np.arange(0, 8), np.arange(22, 24)]
    assert site_b[night].sum() == pytest.approx(need_kwh, rel=1e-6)
    # the town's one tariff (¥30 flat, no basic charge) would have billed both cars' 22.22 kWh at ¥30 × 365
    town = _solved(_two_sites_one_car_each({}))
    assert float(town.objective.value) == pytest.approx(2 * need_kwh * 30.0 * DAYS_PER_YEAR, rel=1e-6)


def test_a_site_without_its_own_tariff_keeps_the_towns():
    # Only B names a tariff: A stays on the town's ¥30/kWh without a basic charge (its contract is unbounded, and
    # costs nothing), B as in the test above.
    inputs = _two_sites_one_car_each({"B": HIGH_VOLTAGE})
    assert list(inputs.site_tariffs["tariff"]) == ["grid prices", "tou_high_voltage"]
    need_kwh = 10.0 / 0.9
    expected = need_kwh * 30.0 * DAYS_PER_YEAR + need_kwh * 15.0 * DAYS_PER_YEAR + 1500.0 * MONTHS * need_kwh / 10
    assert float(_solved(inputs).objective.value) == pytest.approx(expected, rel=1e-6)


def _energy_only(tariff: Tariff) -> Tariff:
    data = tariff.model_dump()
    return Tariff.model_validate({**data, "basic_charge_jpy_per_kw_month": 0.0, "contract": {"kind": "peak_demand"}})


def test_two_sites_on_different_energy_tariffs_as_pypsa():
    # The two-site case with PV to size (¥2,000/kW/year, output cf 0.8 from 10:00 to 14:00) and both cars free to
    # charge from it: PyPSA builds two buses whose grid generators carry each meter's own price as marginal cost
    # (flat ¥20 at A, ¥15 / ¥30 at B), without basic charges (energy-only tariffs).
    cf = np.r_[np.zeros(10), np.full(4, 0.8), np.zeros(10)]
    inputs = _two_sites_one_car_each(
        {"A": _energy_only(LOW_VOLTAGE), "B": _energy_only(HIGH_VOLTAGE)},
        pv_kw_per_kw=cf,
        capacities={"pv_kw": Capacity(annual_cost_per_unit=2000.0)},
    )
    ours = solve_plan(inputs, method="full")
    n = solve_pypsa(inputs)
    assert ours.details["objective"] == pytest.approx(float(n.objective + n.objective_constant), rel=1e-4)
    per_meter = n.generators_t.p[["grid_import:A", "grid_import:B"]].to_numpy().sum(axis=0)
    assert ours.values["Site-import_kw"].sum(axis=0) == pytest.approx(per_meter, rel=1e-3, abs=1e-2)
    # and the prices differ between the meters, so the case is not the town's one price twice
    marginal = n.generators_t.marginal_cost
    assert marginal["grid_import:A"].max() == pytest.approx(20.0)
    assert marginal["grid_import:B"].min() == pytest.approx(15.0)


def _scenario(**site_changes):
    data = small_scenario_dict()
    data["grid"]["tariff"] = "tepco_high_voltage_business"
    data["grid"].pop("import_tou", None)  # the tariff carries its own time-of-use bands
    data["sites"] = [{"name": "Base", **site_changes}]
    data["stations"][0]["site"] = "Base"
    return data


def test_an_unknown_site_tariff_suggests_the_closest_bundled_ones():
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_scenario(tariff="tepco_low_voltage_powr"), source="t.toml")
    message = str(err.value)
    assert "sites[0].tariff = 'tepco_low_voltage_powr': not a bundled tariff; did you mean " in message
    assert "'tepco_low_voltage_power'" in message and "kansai_high_voltage_business" not in message
    data = small_scenario_dict()
    data["stations"][1]["tariff"] = "nope"
    with pytest.raises(ScenarioError, match=r"stations\[1\]\.tariff = 'nope': not a bundled tariff; All 23 names"):
        scenario_from_dict(data, source="t.toml")


def test_a_site_tariff_in_another_currency_is_refused_naming_both():
    # the Shanghai tariff is priced in CNY (shanghai_commercial_tou_illustrative.toml), the town in JPY
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_scenario(tariff="shanghai_commercial_tou_illustrative"), source="t.toml")
    assert str(err.value) == (
        "t.toml: invalid scenario: sites[0].tariff = 'shanghai_commercial_tou_illustrative' is priced in CNY but "
        "finance.currency = 'JPY'; choose a tariff priced in JPY"
    )


def test_a_station_behind_a_site_gives_its_tariff_to_the_site():
    data = _scenario()
    data["stations"][0]["tariff"] = "tepco_low_voltage_power"
    with pytest.raises(ScenarioError, match=r"stations\[0\]\.tariff = 'tepco_low_voltage_power' is set but"):
        scenario_from_dict(data, source="t.toml")


@pytest.fixture(scope="module")
def low_voltage_base_plan():
    # The small town on TEPCO's high-voltage business tariff, the first station behind a site "Base" on TEPCO's
    # low-voltage power tariff (20 kW contract fixed); the second station is its own site on the town's tariff.
    # Two-stage: the typical days and the rolling windows carry each site's prices.
    data = _scenario(tariff="tepco_low_voltage_power")
    return plan_scenario(
        scenario_from_dict(data, source="t.toml"), method="two-stage", n_typical_days=8, business_as_usual=True
    )


def _optimised(costs: pd.DataFrame) -> float:
    return float(costs.loc[costs["in_objective"], "total_per_year"].sum())


def test_pipeline_bills_each_site_on_its_tariff(low_voltage_base_plan):
    run = low_voltage_base_plan
    assert run.checks.passed, run.checks.table()
    sites = run.results.sites
    hospital = sites.index[1]
    assert list(sites["tariff"]) == ["tepco_low_voltage_power", "tepco_high_voltage_business"]
    # the low-voltage contract is fixed at 20 kW; the other site's contract is its highest 30-minute demand
    assert sites.loc["Base", "contract_kw"] == pytest.approx(20.0)
    assert sites.loc[hospital, "contract_kw"] == pytest.approx(sites.loc[hospital, "peak_demand_kw"], rel=1e-6)
    # Base's basic charge: ¥1,155.84/kW/month × 12 × 20 kW = ¥277,401.60 (tepco_low_voltage_power.toml); the
    # other's at tepco_high_voltage_business's own rate
    assert sites.loc["Base", "basic_charge_per_year"] == pytest.approx(1155.84 * 12 * 20.0, rel=1e-9)
    rate = run.prepared.inputs.site_tariffs.loc[hospital, "basic_charge_per_kw_month"]
    assert rate != pytest.approx(1155.84)
    assert sites.loc[hospital, "basic_charge_per_year"] == pytest.approx(
        rate * 12 * sites.loc[hospital, "contract_kw"], rel=1e-9
    )
    # the sites' bills are the cost table's lines, and the optimised lines are the evaluated objective
    costs = run.results.costs
    assert sites["energy_charge_per_year"].sum() == pytest.approx(costs.at["Grid import", "total_per_year"], rel=1e-9)
    assert sites["basic_charge_per_year"].sum() == pytest.approx(costs.at["Basic charge", "total_per_year"], rel=1e-9)
    assert _optimised(costs) == pytest.approx(run.results.method["objective_evaluated"], rel=1e-6)


def test_business_as_usual_sees_the_per_site_bill(low_voltage_base_plan):
    run = low_voltage_base_plan
    bau = run.bau
    assert list(bau.sites["tariff"]) == list(run.results.sites["tariff"])
    assert bau.sites.loc["Base", "basic_charge_per_year"] == pytest.approx(1155.84 * 12 * 20.0, rel=1e-9)
    assert bau.sites["energy_charge_per_year"].sum() == pytest.approx(
        bau.costs.at["Grid import", "total_per_year"], rel=1e-9
    )
    assert _optimised(bau.costs) == pytest.approx(bau.method["objective_evaluated"], rel=1e-6)


def test_the_carried_peak_is_written_without_the_deprecated_setter():
    import warnings

    from chisan.plan.tariff_constraints import update_tariff_peak

    inputs = _two_sites_one_car_each({"A": LOW_VOLTAGE, "B": HIGH_VOLTAGE})
    m = build_model(inputs)
    # a rolling window carries B's contract of 2.5 kW in; A's contract is fixed at 5 kW (LOW_VOLTAGE)
    carried = dataclasses.replace(inputs, contract_kw_min_by_site=pd.Series({"A": 0.0, "B": 2.5}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # linopy's Variable.lower setter warns
        update_tariff_peak(m, carried)
    assert m.variables[PEAK].lower.sel(site=["A", "B"]).to_numpy().tolist() == [5.0, 2.5]
    assert _solve(m, _highs_options(None, None)) == "optimal"
    # B alone needs 10 kWh / 0.9 over 20 hours ≈ 0.56 kW: the carried 2.5 kW is its contract; A keeps its 5 kW
    assert m.variables[PEAK].solution.sel(site=["A", "B"]).to_numpy() == pytest.approx([5.0, 2.5], abs=1e-7)
