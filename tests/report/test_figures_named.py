"""Figures named for what they are: the local renewable share is hour by hour and ≤ 100 %, the CO2 avoided is
split by cause, weeks lie inside the horizon, and implausible inputs are warned about."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from chisan.plan.pipeline import plan_scenario
from chisan.report.figures import carbon_breakdown, report_weeks
from chisan.report.labels import value_text
from chisan.scenario.sanity import ImplausibleInputWarning, implausible_inputs
from tests.factories import small_scenario


@pytest.fixture(scope="module")
def run(small_full_plan):
    # annual target 100 % (the example's): PV is sized so that the net balance reaches 100 %, with exports
    return small_full_plan  # plan_scenario(small_scenario(), method="full"), tests/conftest.py


def test_local_renewable_share_is_hour_by_hour_and_at_most_one(run):
    d = run.results.dispatch
    k = run.results.kpis["value"]
    # by hand: each hour, the charging met by PV used in the town (PV − export; no storage, no wind here)
    local = np.minimum(d["charging_kw"], (d["pv_kw"] - d["grid_export_kw"]).clip(lower=0)).sum()
    assert k["local_renewable_share_of_charging"] == pytest.approx(local / d["charging_kw"].sum(), rel=1e-12)
    assert k["local_renewable_share_of_charging"] <= 1.0
    # the net annual balance counts exports and reaches the 100 % target; the hourly share does not
    assert k["renewable_share_annual"] >= 1.0 - 1e-6
    assert k["local_renewable_share_of_charging"] < k["renewable_share_annual"]
    # with no other load, what is not met locally is imported: the share = 1 − import / charging
    assert k["local_renewable_share_of_charging"] == pytest.approx(
        1 - d["grid_import_kw"].sum() / d["charging_kw"].sum(), rel=1e-9
    )


def test_co2_avoided_split_into_car_sharing_and_local_renewables(run):
    d = run.results.dispatch
    k = run.results.kpis["value"]
    scale = 8760 / len(d)
    grid_only = (d["charging_kw"] * d["emission_factor_kg_per_kwh"]).sum() * scale  # all charging from the grid
    assert k["co2_avoided_by_car_sharing_kg"] == pytest.approx(k["km_per_year"] * 0.155 - grid_only, rel=1e-9)
    assert k["co2_avoided_by_local_renewables_kg"] == pytest.approx(grid_only - k["scope2_location_kg"], rel=1e-9)
    assert k["co2_avoided_by_car_sharing_kg"] + k["co2_avoided_by_local_renewables_kg"] == pytest.approx(
        k["co2_avoided_kg"], rel=1e-12
    )
    assert k["co2_avoided_by_local_renewables_kg"] > 0


def test_carbon_figure_draws_every_non_zero_cause_and_the_total(run):
    # the small scenario has no depots and no hydrogen: car-sharing, renewables and the total, no zero bars
    e = run.results.emissions
    bars = dict(zip(*(carbon_breakdown(e).data[0][axis] for axis in ("x", "y")), strict=True))
    assert bars["Avoided by car-sharing (private cars replaced)"] == pytest.approx(e["avoided_by_car_sharing_kg"] / 1e3)
    renewables = e["avoided_by_local_renewables_kg"] / 1e3
    assert bars["Avoided by local renewables (grid avoided)"] == pytest.approx(renewables)
    assert bars["Avoided in total"] == pytest.approx(e["avoided_kg"] / 1e3, rel=1e-12)
    assert not any("depots" in label or "hydrogen" in label for label in bars)
    # all four causes, by hand: 5 + 2 + 1.5 + 0.5 = 9 t avoided; each bar is its line in t
    four = pd.Series(
        {
            "scope2_location_based_kg": 1000.0,
            "scope2_market_based_kg": 1200.0,
            "baseline_private_car_kg": 6000.0,
            "baseline_depot_diesel_kg": 2500.0,
            "baseline_delivered_hydrogen_kg": 1800.0,
            "avoided_kg": 9000.0,
            "avoided_by_car_sharing_kg": 5000.0,
            "avoided_by_depots_kg": 2000.0,
            "avoided_by_hydrogen_fleet_kg": 1500.0,
            "avoided_by_local_renewables_kg": 500.0,
        }
    )
    bars = dict(zip(*(carbon_breakdown(four).data[0][axis] for axis in ("x", "y")), strict=True))
    assert [v for k, v in bars.items() if k.startswith("Avoided by")] == [5.0, 2.0, 1.5, 0.5]
    assert bars["Avoided in total"] == 9.0
    assert bars["Baseline: diesel depot vehicles"] == 2.5 and bars["Baseline: delivered grey hydrogen"] == 1.8
    assert len(bars) == 10


def _dispatch(start: str, end: str) -> pd.DataFrame:
    idx = pd.date_range(start, end, freq="h", tz="Asia/Tokyo", inclusive="left")
    return pd.DataFrame({"charging_kw": np.ones(len(idx))}, index=idx)


def test_weeks_lie_inside_the_horizon():
    year = report_weeks(_dispatch("2025-01-01", "2026-01-01"))
    assert [t for t, _ in year] == ["A summer week", "A winter week"]
    assert year[0][1].index.month.isin([7, 8]).all() and year[1][1].index.month.isin([1, 2]).all()
    two_months = report_weeks(_dispatch("2025-06-01", "2025-08-01"))  # June–July: summer, no winter
    assert two_months[0][0] == "A summer week" and two_months[1][0].startswith("The week of")
    for _, week in two_months:
        assert week.index.min() >= pd.Timestamp("2025-06-01", tz="Asia/Tokyo") and len(week) == 7 * 24
    spring = report_weeks(_dispatch("2025-04-01", "2025-06-01"))
    assert all(t.startswith("The week of") for t, _ in spring)
    assert spring[0][1].index[0] != spring[1][1].index[0]
    assert all(w.index.month.isin([4, 5]).all() for _, w in spring)


def test_values_for_people():
    assert value_text(0.841, "fraction") == ("84.1", "%")
    assert value_text(float("inf"), "years") == ("not within the project life", "")
    assert value_text(12.345, "years") == ("12.3", "years")
    assert value_text(float("nan"), "JPY") == ("—", "")


def test_implausible_inputs_are_warned_about():
    sc = small_scenario(technologies={"pv": {"capex_per_kw": 200}}, stations=[{"name": "A", "charger_kw": 300.0}])
    messages = implausible_inputs(sc)
    assert any("technologies.pv.capex_per_kw = 200 JPY/kW is implausibly low" in m for m in messages)
    assert any("stations[0].charger_kw = 300 kW" in m and "in W?" in m for m in messages)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan_scenario(small_scenario(technologies={"storage": {"capex_per_kwh": 15}}), method="full")
    texts = [str(w.message) for w in caught if issubclass(w.category, ImplausibleInputWarning)]
    assert texts == [
        "technologies.storage.capex_per_kwh = 15 JPY/kWh is implausibly low (usually 10,000 – 500,000 JPY/kWh); "
        "given in thousands of yen?"
    ]
    assert implausible_inputs(small_scenario()) == []  # the example's own figures are plausible


def test_a_charger_of_6000_kw_is_refused_with_a_unit_hint():
    from chisan.exceptions import ScenarioError

    with pytest.raises(ScenarioError) as err:
        small_scenario(stations=[{"name": "A", "charger_kw": 6000}])
    text = str(err.value)
    assert "stations[0].charger_kw = 6000" in text and "less than or equal to 350" in text
    assert "given in W? 6 kW was probably meant" in text
