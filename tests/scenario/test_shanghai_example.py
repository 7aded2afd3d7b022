"""The bundled Shanghai example: planned in CNY on China's working calendar with a registry grid factor, with a
delivery depot compared with diesel in CNY and a fuel-cell bus line refuelled at the bus depot's hydrogen station,
appraised against business as usual.

The example plans the calendar year 2025 (its economics are annual). These tests plan one month of it, October
2025 (the National Day week 1–8 October off and Saturday 11 October a working day by the State Council's 2025
notice), by setting the documented ``[horizon]`` fields ``start_month`` and ``months`` before validation
(:data:`MONTH`), which keeps them fast; the year as shipped is planned once, by the slow test at the end. The
built-in Shanghai climate is checked against the numbers it is made from (CMA 1971–2000 normals and the Tokyo
clearness index moved to 31.40 N).
"""

from __future__ import annotations

import re
import tomllib
import warnings

import numpy as np
import pandas as pd
import pytest

from chisan.plan.pipeline import plan_scenario
from chisan.resources.climate import climate_at_site, monthly_climate
from chisan.scenario.load import example_path, scenario_from_dict
from chisan.units import capital_recovery_factor
from tests.factories import write_run

EXAMPLE = example_path().parent / "shanghai_district.toml"
MONTH = {"start_month": 10, "months": 1}
"""The horizon these tests plan: October of the example's year (``[horizon]`` fields, docs/scenario.md)."""


def example_dict(**horizon) -> dict:
    """The example as parsed TOML, with ``horizon`` fields replaced (e.g. :data:`MONTH`)."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["horizon"] = {**data["horizon"], **horizon}
    return data


def test_the_example_plans_a_calendar_year():
    horizon = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["horizon"]
    assert (horizon["year"], horizon["start_month"], horizon["months"]) == (2025, 1, 12)
    scenario = scenario_from_dict(example_dict(), source=str(EXAMPLE), base_dir=EXAMPLE.parent)
    assert (scenario.horizon.start_month, scenario.horizon.months) == (1, 12)


@pytest.fixture(scope="module")
def run_and_report(tmp_path_factory, shanghai_month_plan_with_bau):
    run = shanghai_month_plan_with_bau  # example_dict(**MONTH) with business as usual (tests/conftest.py)
    assert (run.prepared.inputs.snapshots[0].month, len(run.prepared.inputs.snapshots)) == (10, 31 * 24)
    out = tmp_path_factory.mktemp("shanghai") / "out"
    write_run(run, out, scenario_text=EXAMPLE.read_text(encoding="utf-8"), scenario_name=EXAMPLE.name)
    run.out = out
    return run, (out / "report.html").read_text(encoding="utf-8")


def test_the_plan_is_in_cny(run_and_report):
    run, html = run_and_report
    assert run.prepared.inputs.currency == "CNY"
    kpis = run.results.kpis
    assert kpis.loc["total_cost_per_year", "unit"] == "CNY/year"
    assert kpis.loc["cost_per_km", "unit"] == "CNY/km"
    # the page's words, not the figures' base64-encoded data (which may spell any three letters by chance)
    words = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert "CNY/kWh" in words and "JPY" not in words


def test_every_cost_line_is_in_cny(run_and_report):
    run, html = run_and_report
    money = [u for u in run.results.kpis["unit"] if "/" in u and u.split("/")[0].isupper()]
    assert money and all(u.startswith("CNY/") for u in money)
    econ = run.economics.figures["unit"]
    assert {u for u in econ if u not in ("years", "fraction")} == {
        "CNY",
        "CNY/year",
        "CNY/kWh",
        "CNY/km",
        "CNY/booking",
    }
    assert run.results.hydrogen.figures.loc["levelised_cost_of_hydrogen_per_kg", "unit"] == "CNY/kg"
    for table in ("depots.csv", "investment.csv", "cash_flows.csv", "cost_comparison.csv"):
        header = (run.out / table).read_text(encoding="utf-8").splitlines()[0]
        assert "jpy" not in header.lower() and "cny" in header, table
    section = html.split("<h2>Depots against diesel", 1)[1].split("<h2>", 1)[0]
    assert "[CNY/year]" in section and "[CNY/l]" in section and "<td>Delivery Depot</td><td>e_van</td>" in section


def test_the_depot_is_compared_with_diesel_in_cny(run_and_report):
    run, _ = run_and_report
    row = pd.read_csv(run.out / "depots.csv", index_col="depot").loc["Delivery Depot"]
    served = run.prepared.assignment.bookings.query("station == 'Delivery Depot' and vehicle_id.notna()")
    # shanghai_district_depot_shifts.csv: 45 + 50 + 110 + 95 + 40 + 45 = 385 km on each of October's working days
    km = served["distance_km"].sum() * run.prepared.inputs.opex_scale
    assert served["distance_km"].sum() == pytest.approx(385.0 * served["start"].dt.date.nunique(), rel=1e-12)
    assert row["km_per_year"] == pytest.approx(km, rel=1e-9)
    # e_van's diesel counterpart: 9.0 l/100 km at Shanghai's 6.49 CNY/l; 4 vans at CNY 180,000 (diesel) and
    # 250,000 (battery-electric) over 8 years at 3 % (chisan.economics.diesel.CNY_VEHICLE_PRICES)
    assert row["diesel_price_cny_per_l"] == 6.49
    assert row["diesel_fuel_cny_per_year"] == pytest.approx(km * 9.0 / 100.0 * 6.49, rel=1e-9)
    crf = capital_recovery_factor(0.03, 8)
    assert row["diesel_capex_cny_per_year"] == pytest.approx(4 * 180_000 * crf, rel=1e-9)
    assert row["bev_capex_cny_per_year"] == pytest.approx(row["vehicles"] * 250_000 * crf, rel=1e-9)
    assert row["saving_cny_per_year"] == pytest.approx(
        row["diesel_total_cny_per_year"] - row["bev_total_cny_per_year"], rel=1e-9
    )


def test_the_bus_line_is_refuelled_and_business_as_usual_buys_its_hydrogen(run_and_report):
    run, html = run_and_report
    assert run.checks.passed and run.solution.method == "full"
    h2, bau = run.results.hydrogen, run.bau.hydrogen
    # shanghai_district_bus_blocks.csv: (85 + 100) + (55 + 95) + 170 = 505 km a day, every day, at fc_bus_12m's
    # 8.0 kg/100 km = 40.4 kg/day; a year = 365 × 40.4 = 14,746 kg
    assert h2.figure("hydrogen_dispensed_kg_per_year") == pytest.approx(14_746.0, rel=1e-9)
    assert bau.figure("electrolyser_kw") == 0.0 and bau.figure("hydrogen_bought_kg_per_year") == pytest.approx(
        14_746.0, rel=1e-6
    )
    assert run.bau.costs.loc["Hydrogen bought", "total_per_year"] == pytest.approx(14_746.0 * 35.0, rel=1e-6)
    if h2.figure("electrolyser_kw") > 0:  # its investment is in the appraisal, at CNY 7,500/kW
        inv = run.economics.investment.loc["Electrolyser", "capex_cny"]
        assert inv == pytest.approx(h2.figure("electrolyser_kw") * 7_500, rel=1e-12)
    assert "<h2>Hydrogen" in html and "CNY/kg" in html


def test_holiday_prices_of_the_chinese_calendar_reach_the_plan(run_and_report):
    run, _ = run_and_report
    price = run.results.dispatch["import_price_per_kwh"]
    local = price.index.tz_convert("Asia/Shanghai")
    at9 = price[local.hour == 9]
    at9.index = local[local.hour == 9].date.astype(str)
    # the tariff file: 1.10 CNY/kWh peak 08–11 h on working days of Oct; the flat 0.70 on rest days
    assert (at9[[f"2025-10-0{d}" for d in range(1, 9)]] == 0.70).all()  # National Day week
    assert at9["2025-10-11"] == 1.10  # adjusted working Saturday
    assert at9["2025-10-12"] == 0.70  # Sunday
    assert at9["2025-10-09"] == 1.10
    night = price[(local.hour >= 22) | (local.hour < 6)]
    assert (night == 0.30).all()


def test_the_registry_factors_are_used_and_named(run_and_report):
    run, html = run_and_report
    ef = run.results.dispatch["emission_factor_kg_per_kwh"].to_numpy()
    assert np.all(ef == 0.5849)  # CN-SH 2022, MEE & NBS
    assert run.prepared.inputs.market_emission_factor_kg_per_kwh == 0.42  # 沪环气〔2022〕34号
    e = run.results.emissions
    imported = run.results.energy_balance["grid_import_kwh"]
    assert e["scope2_market_based_kg"] == pytest.approx(imported * 0.42, rel=1e-9)
    assert "CN-SH:2022:location" in html and "CN-SH:2022:carbon_market" in html
    assert "National Bureau of Statistics" in html


def test_shanghai_climate_is_what_it_says():
    sh = monthly_climate("shanghai")
    moved = climate_at_site(monthly_climate("tokyo"), 31.40, 121.45, 4.0)
    assert sh.ghi_kwh_per_m2_day == pytest.approx(moved.ghi_kwh_per_m2_day, abs=0.005)
    highs = [8.1, 9.2, 12.8, 19.1, 24.1, 27.6, 31.8, 31.3, 27.2, 22.6, 17.0, 11.1]
    lows = [1.1, 2.2, 5.6, 10.9, 16.1, 20.8, 25, 25, 21, 15, 9, 3]
    assert sh.temp_air_c == pytest.approx([(h + lo) / 2 for h, lo in zip(highs, lows, strict=True)], abs=0.051)
    assert sh.tz == "Asia/Shanghai"


def test_the_roadmap_follows_chinas_path():
    from chisan.roadmap.run import trajectory_summary
    from chisan.roadmap.schema import load_roadmap, resolve

    scenario, settings = load_roadmap(EXAMPLE)
    cfg = resolve(settings, scenario, chemistry="NMC811")
    assert (cfg.years[0], cfg.years[-1], cfg.target_year, cfg.peak_by_year) == (2025, 2060, 2060, 2030)
    assert cfg.grid_factor_kg_per_kwh.eq(0.5849).all()  # the registry factor, flat without points
    # by hand: rising to 2031, so the peak (2031) misses 2030; a path peaking in 2029 meets it
    years = range(2025, 2061)
    late = pd.Series([min(y, 2031) - 2000.0 - max(0, y - 2031) for y in years], index=years)
    s = trajectory_summary(late, 2060, 2030)
    assert (s["peak_year"], s["peak_by_year"], s["peaks_in_time"]) == (2031, 2030, False)
    early = trajectory_summary(late.shift(-2).ffill(), 2060, 2030)
    assert (early["peak_year"], early["peaks_in_time"]) == (2029, True)
    assert trajectory_summary(late, 2060)["peaks_in_time"] is None  # Japan's path: no peak target


@pytest.mark.slow
def test_the_example_year_plans_end_to_end_with_its_report(tmp_path):
    """The example as shipped (the calendar year 2025, two-stage): about 1.5 min; its hydrogen and depot figures."""
    from chisan.scenario.load import load_scenario

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few generated bookings find no free car: counted, not our subject
        run = plan_scenario(load_scenario(EXAMPLE), business_as_usual=False)
    assert run.checks.passed and run.solution.method == "two-stage"
    assert len(run.prepared.inputs.snapshots) == 365 * 24  # 2025 is not a leap year
    h2 = run.results.hydrogen
    # shanghai_district_bus_blocks.csv: 505 km a day at 8.0 kg/100 km = 40.4 kg/day, 365 days = 14,746 kg
    assert h2.figure("hydrogen_dispensed_kg_per_year") == pytest.approx(14_746.0, rel=1e-9)
    # the store is cyclic and lossless: what is made and bought over the year is what is dispensed
    made, bought = h2.figure("hydrogen_produced_kg_per_year"), h2.figure("hydrogen_bought_kg_per_year")
    assert made + bought == pytest.approx(14_746.0, rel=1e-6)
    local, grid = h2.figure("hydrogen_from_local_renewables_kg_per_year"), h2.figure("hydrogen_from_grid_kg_per_year")
    assert local + grid == pytest.approx(made, rel=1e-9)
    assert h2.figure("hydrogen_renewable_share_fraction") == pytest.approx(local / (made + bought), rel=1e-9)
    # full-load hours: the electrolyser's electricity over the year / its kW, at most the 8,760 h of the year
    kw = h2.figure("electrolyser_kw")
    assert kw > 0 and 0 < h2.figure("electrolyser_full_load_hours") <= 8760.0
    assert made == pytest.approx(kw * h2.figure("electrolyser_full_load_hours") / 55.0, rel=1e-6)  # 55 kWh/kg
    # the depot's vans drive 385 km on each of their working days, all year
    served = run.prepared.assignment.bookings.query("station == 'Delivery Depot' and vehicle_id.notna()")
    assert served["distance_km"].sum() == pytest.approx(385.0 * served["start"].dt.date.nunique(), rel=1e-12)
    assert served["start"].dt.month.nunique() == 12
    out = write_run(
        run, tmp_path / "out", scenario_text=EXAMPLE.read_text(encoding="utf-8"), scenario_name=EXAMPLE.name
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Hydrogen" in html and "<h2>Depots against diesel" in html
    sites = pd.read_csv(out / "sites.csv", index_col=0)
    assert {"Delivery Depot", "Bus Depot"} <= set(sites.index.astype(str))


def test_key_figures_keep_car_sharing_depot_and_hydrogen_fleet_apart(run_and_report):
    """The town's figures each with one scope: the shared cars' trip energy beside the shared cars' charging (the
    vans charge too), the chargers of the whole town with the depot's in their row, the town's cost per km over the
    km of all three fleets; the bus km hand-derived from shanghai_district_bus_blocks.csv."""
    import pandas as pd

    run, _ = run_and_report
    res = run.results
    k, d = res.kpis["value"], res.kpis["definition"]
    depot = res.stations.loc["Delivery Depot"]
    assert k["vehicles"] == res.stations["vehicles"].sum() - depot["vehicles"]  # shared EVs only
    assert k["depot_vehicles"] == depot["vehicles"] and k["depot_chargers"] == depot["chargers"]
    assert "at the depots" in d["chargers"]
    assert k["charging_kwh_per_year"] == pytest.approx(
        k["car_sharing_charging_kwh_per_year"] + k["depot_charging_kwh_per_year"], rel=1e-9
    )
    assert 0.8 < k["trip_energy_kwh_per_year"] / k["car_sharing_charging_kwh_per_year"] <= 1.0
    blocks = pd.read_csv(EXAMPLE.parent / "shanghai_district_bus_blocks.csv")
    assert k["hydrogen_fleet_km_per_year"] == pytest.approx(blocks["distance_km"].sum() * 365, rel=1e-9)
    all_km = k["km_per_year"] + k["depot_km_per_year"] + k["hydrogen_fleet_km_per_year"]
    assert k["cost_per_km"] == pytest.approx(k["total_cost_per_year"] / all_km, rel=1e-12)
    assert "fuel-cell vehicles" in d["cost_per_km"] and "depots' vehicles" in d["cost_per_km"]
