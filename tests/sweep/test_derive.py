"""Deriving a municipality's scenario from the template: the documented mapping, computed by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from chisan.exceptions import DataError, ScenarioError
from chisan.scenario.load import scenario_from_dict
from chisan.sweep.derive import (
    AREA_PRICE_INDEX,
    GRID_EMISSION_FACTORS,
    PREFECTURE_AREAS,
    DeriveOptions,
    derivation_facts,
    derive_scenario,
    grid_area,
    prefecture_code,
    read_municipalities,
)


def _row(**changes):
    row = {
        "name": "Test Town",
        "prefecture": "Ibaraki",
        "pref_code": "08",
        "latitude_deg": 36.18,
        "longitude_deg": 140.42,
        "population": 30000,
    }
    row.update(changes)
    return row


def test_read_the_real_table(municipalities_csv):
    whole = read_municipalities(municipalities_csv)
    # SOURCES.md: 1,741 municipalities whose populations sum to the national total 125,927,902 (MIC, 2022-01-01)
    assert len(whole) == 1741
    assert whole["population"].sum() == 125_927_902
    assert whole.index[0] == "011002" and whole.loc["011002", "name"] == "Sapporo"
    wards = read_municipalities(municipalities_csv, wards="only")
    assert len(wards) == 175 and wards["is_ward"].all()
    # every ward's designated city: Sapporo's ten wards (codes 01101–01110) belong to 011002
    assert set(wards.loc[wards.index.str.startswith("011"), "parent_code"]) == {"011002"}
    instead = read_municipalities(municipalities_csv, wards="instead-of-city")
    # the 20 designated cities are replaced by their 175 wards; the wards' populations add up to the cities'
    assert len(instead) == 1741 - 20 + 175
    assert instead["population"].sum() == 125_927_902
    assert "141003" not in instead.index and "141011" in instead.index  # Yokohama → its Tsurumi ward


def test_read_errors_name_the_problem(tmp_path):
    bad = tmp_path / "m.csv"
    bad.write_text("code,name,lat,lon,population\n1,A,35,139,100\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"missing column.*prefecture"):
        read_municipalities(bad)
    dup = tmp_path / "d.csv"
    dup.write_text("code,name,prefecture,lat,lon,population\n1,A,Tokyo,35,139,100\n1,B,Tokyo,35,139,200\n")
    with pytest.raises(DataError, match="repeats code"):
        read_municipalities(dup)
    with pytest.raises(DataError, match="wards = 'some'; allowed: exclude, only, instead-of-city"):
        read_municipalities(dup, wards="some")
    # a bad value in a row is kept: that municipality fails later, alone
    holes = tmp_path / "h.csv"
    holes.write_text("code,name,prefecture,lat,lon,population\n1,A,Tokyo,,139,100\n2,B,Tokyo,35,139,200\n")
    table = read_municipalities(holes)
    assert len(table) == 2 and math.isnan(table.loc["1", "latitude_deg"])


def test_template_population_gives_the_template(template):
    sc = derive_scenario(template, "082015", _row())
    # f = 450/450 = 1: five stations, six vehicles each, as in the template, the same member shares
    assert [s.vehicles for s in sc.stations] == [6, 6, 6, 6, 6]
    assert [s.name for s in sc.stations] == [s.name for s in template.stations]
    assert [s.member_share_fraction for s in sc.stations] == [s.member_share_fraction for s in template.stations]
    assert sc.bookings.members == 450
    assert sc.technologies.pv.max_kw == pytest.approx(200.0)
    # the default weather: the town's own Japanese climate (bundled figures when no data folder is given)
    assert sc.weather.source == "japan" and sc.weather.path is None
    # Ibaraki is in TEPCO's area: the latest TEPCO basic factor of the registry (FY2015, 0.500 kg/kWh) and, with
    # 30 chargers × 6 kW = 180 kW ≥ 50 kW, TEPCO's high-voltage tariff (the defaults: latest + tariff)
    assert sc.grid.emission_factor == "JP-tepco:2015:basic" and sc.grid.emission_factor_kg_per_kwh == 0.500
    assert sc.grid.tariff.name == "tepco_high_voltage_business_2025" and sc.grid.import_tou == []
    # screened behind one meter (the template does not set grid.topology); a template that does keeps it
    assert sc.grid.topology == "single_meter" and template.grid.topology == "per_site"
    metered = scenario_from_dict(
        {
            **template.model_dump(mode="python", exclude={"base_dir"}),
            "grid": {**template.grid.model_dump(), "topology": "per_site"},
        },
        source="t.toml",
    )
    assert derive_scenario(metered, "082015", _row()).grid.topology == "per_site"


def test_population_scales_members_stations_fleet_and_limits(template):
    sc = derive_scenario(template, "100000", _row(population=100_000))
    # members = round(450 × 100,000 / 30,000) = 1,500; f = 1,500 / 450 = 3.333
    # stations n = round(5 × 3.333) = 17; g = 3.333 × 5 / 17 = 0.980; vehicles = round(6 × 0.980) = 6 each
    assert sc.bookings.members == 1500
    assert len(sc.stations) == 17
    assert all(s.vehicles == 6 and s.chargers == 6 for s in sc.stations)
    assert sc.stations[5].name == "Town Hall 2" and sc.stations[16].name == "Station Square 4"
    # shares: the template's (0.30, 0.25, 0.15, 0.15, 0.15) repeated 3 × 5 + 2 and renormalised by 3 + 0.55
    assert sc.stations[0].member_share_fraction == pytest.approx(0.30 / 3.55)
    assert sum(s.member_share_fraction for s in sc.stations) == pytest.approx(1.0)
    # site limits scale with f: PV 200 kW × 3.333 = 666.7 kW, wind 100 × 3.333, storage 500 kWh × 3.333
    assert sc.technologies.pv.max_kw == pytest.approx(200.0 * 1500 / 450)
    assert sc.technologies.wind.max_kw == pytest.approx(100.0 * 1500 / 450)
    assert sc.technologies.storage.max_kwh == pytest.approx(500.0 * 1500 / 450)


def test_small_village_keeps_one_station_with_one_car(template):
    sc = derive_scenario(template, "132098", _row(population=170))
    # members = round(450 × 170 / 30,000 = 2.55) = 3; n = max(1, round(5 × 3/450)) = 1;
    # g = (3/450) × 5 / 1 = 0.0333; vehicles = max(1, round(6 × 0.0333 = 0.2)) = 1
    assert sc.bookings.members == 3
    assert len(sc.stations) == 1 and sc.stations[0].vehicles == 1 and sc.stations[0].chargers == 1
    assert sc.stations[0].member_share_fraction == pytest.approx(1.0)


def test_no_members_is_refused(template):
    with pytest.raises(ScenarioError, match="rounds to 0"):
        derive_scenario(template, "1", _row(population=30))  # 450 × 30 / 30,000 = 0.45 members


@pytest.mark.parametrize(
    ("prefecture", "area"),
    [("Hokkaido", "hokkaido"), ("沖縄県", "okinawa"), ("13", "tepco"), (40, "kyushu"), ("Niigata", "tohoku")],
)
def test_prefecture_to_area(prefecture, area):
    assert grid_area(prefecture) == area


def test_area_sets_factor_and_price(template):
    old = DeriveOptions(grid_factors="fy2013", prices="area")  # the index rules (the default is latest + tariff)
    sc = derive_scenario(template, "473022", _row(prefecture="Okinawa", pref_code="47", latitude_deg=26.7), old)
    # Okinawa: FY2013 factor 0.858 kg/kWh; price index 28.49 / 26.48 (TEPCO, the template's area) = 1.07591
    assert sc.grid.emission_factor_kg_per_kwh == 0.858
    assert sc.grid.import_price_per_kwh == pytest.approx(28.0 * 28.49 / 26.48)
    assert [b.price_per_kwh for b in sc.grid.import_tou] == pytest.approx([21.0 * 28.49 / 26.48] * 2)
    assert sc.grid.export_price_per_kwh == template.grid.export_price_per_kwh
    facts = derivation_facts(template, sc, old)
    assert facts["area"] == "okinawa" and facts["import_price_index"] == pytest.approx(28.49 / 26.48)
    kept = derive_scenario(
        template, "473022", _row(prefecture="Okinawa"), DeriveOptions(grid_factors="template", prices="template")
    )
    assert kept.grid.emission_factor_kg_per_kwh == template.grid.emission_factor_kg_per_kwh
    assert kept.grid.import_price_per_kwh == 28.0
    override = derive_scenario(
        template,
        "222054",
        _row(prefecture="Shizuoka"),
        DeriveOptions(grid_factors="fy2013", area_by_code={"222054": "tepco"}),
    )
    assert override.grid.emission_factor_kg_per_kwh == 0.530  # eastern Shizuoka, served by TEPCO


def test_tables_cover_every_prefecture_and_area():
    assert len(PREFECTURE_AREAS) == 47
    areas = {a for _, _, a in PREFECTURE_AREAS.values()}
    assert areas == set(GRID_EMISSION_FACTORS["fy2013"]) == set(AREA_PRICE_INDEX)
    assert prefecture_code("Tokyo") == prefecture_code("東京都") == prefecture_code("東京") == "13"
    with pytest.raises(ScenarioError, match="not a Japanese prefecture; allowed: JIS codes 1–47 or Hokkaido"):
        prefecture_code("Atlantis")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"latitude_deg": float("nan")}, "latitude_deg = None"),
        ({"longitude_deg": 200.0}, "longitude_deg = 200.0; allowed"),
        ({"population": -5}, "population = -5"),
        ({"prefecture": "Atlantis", "pref_code": None}, "Atlantis"),
    ],
)
def test_bad_rows_are_refused_with_the_field(template, changes, message):
    with pytest.raises(ScenarioError, match=message):
        derive_scenario(template, "999999", _row(**changes))


def test_options_that_do_not_fit_the_template(template):
    data = template.model_dump(mode="python", exclude={"base_dir"})
    data["bookings"]["source"] = "csv"
    data["bookings"]["path"] = "b.csv"
    csv_template = scenario_from_dict(data)
    with pytest.raises(ScenarioError, match=r"bookings\.source = .generated."):
        DeriveOptions().check(csv_template)
    data = template.model_dump(mode="python", exclude={"base_dir"})
    data["weather"] = {"source": "epw", "path": "x.epw"}
    with pytest.raises(ScenarioError, match="weather = 'template'"):
        DeriveOptions(weather="municipality").check(scenario_from_dict(data))
    with pytest.raises(ScenarioError, match="unknown grid emission factor set 'fy1990'"):
        DeriveOptions(grid_factors="fy1990").check(template)


def test_derived_weather_is_made_at_the_municipality(template):
    import numpy as np

    from chisan.plan.prepare import load_weather
    from chisan.resources.climate import climate_at_site, monthly_climate

    north = derive_scenario(
        template,
        "1",
        _row(latitude_deg=43.06, longitude_deg=141.35, prefecture="Hokkaido"),
        DeriveOptions(weather="municipality"),
    )
    weather, source = load_weather(north)
    assert "moved to the municipality" in source
    # the year is made from Tokyo's climate moved to 43.06° N (its transfer is tested in test_climate_site.py):
    # annual GHI = Σ_months days × moved monthly mean, below Tokyo's 1,306.8 kWh/m² (DESIGN.md §7)
    moved = climate_at_site(monthly_climate("tokyo"), 43.06, 141.35, 0.0)
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    expected = float(np.dot(days, moved.ghi_kwh_per_m2_day))
    assert weather["ghi"].sum() / 1000.0 == pytest.approx(expected, rel=1e-9)
    assert expected < 1306.8 * 0.95
    assert isinstance(weather.index, pd.DatetimeIndex)
