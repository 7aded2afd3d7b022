"""The low- and high-voltage business tariffs of the ten Japanese areas (chisan.tariffs.areas).

Sanity ranges: Japanese business tariffs of 2013–2025 lie at 900–3,100 JPY/kW/month basic charge (Hokuriku 業務用電力
1,555.20, TEPCO EP ベーシックプラン FY2025 3,030.00) and 10–32 JPY/kWh energy (Hokuriku 10.56 to TEPCO 低圧電力
27.14, see the files); the ranges below are wider by about a third on each side.
"""

from __future__ import annotations

import pandas as pd
import pytest

from chisan.exceptions import ScenarioError
from chisan.plan.tariffs import grid_prices
from chisan.scenario.schema import Grid
from chisan.sweep.derive import AREAS
from chisan.tariffs import compile_tariff, load_tariff
from chisan.tariffs.areas import AREA_TARIFFS, LOW_VOLTAGE_LIMIT_KW, area_tariff

NAMES = sorted({name for pair in AREA_TARIFFS.values() for name in pair})


def test_every_area_has_a_low_and_a_high_voltage_tariff():
    assert set(AREA_TARIFFS) == set(AREAS)
    for area, (low, high) in AREA_TARIFFS.items():
        assert load_tariff(low).voltage == "low", area
        assert load_tariff(high).voltage == "high", area
        assert load_tariff(low).contract.kind == "fixed"
        assert load_tariff(high).contract.kind == "peak_demand"


@pytest.mark.parametrize("name", NAMES)
def test_each_tariff_loads_with_positive_prices_in_a_sane_range(name):
    t = load_tariff(name)
    assert t.currency == "JPY" and t.source and t.accessed is not None
    assert 600.0 <= t.basic_charge_jpy_per_kw_month <= 4000.0
    prices = [b.price_jpy_per_kwh for s in t.seasons for b in s.bands]
    assert prices and all(7.0 <= p <= 40.0 for p in prices)
    assert sorted(m for s in t.seasons for m in s.months) == list(range(1, 13))
    assert t.renewable_levy_jpy_per_kwh == pytest.approx(3.98)


@pytest.mark.parametrize("name", NAMES)
def test_an_unsourced_tariff_says_so_in_its_name_title_and_notes(name):
    t = load_tariff(name)
    assert t.provenance in ("sourced", "dated", "illustrative")
    assert name.endswith("_illustrative") == (t.provenance == "illustrative")
    if t.provenance == "illustrative":
        assert "ILLUSTRATIVE" in t.title and "ILLUSTRATIVE" in t.notes and t.source.startswith("illustrative")
    elif t.provenance == "dated":
        assert "DATED" in t.notes and t.source.startswith("http")
    else:
        assert t.source.startswith("http")


def test_the_provenance_count_is_the_one_reported():
    counts = pd.Series([load_tariff(n).provenance for n in NAMES]).value_counts().to_dict()
    assert counts == {"illustrative": 10, "dated": 6, "sourced": 4}


def test_below_50_kw_a_town_gets_the_low_voltage_tariff_with_its_contract_rounded_up():
    lv_name, hv_name = AREA_TARIFFS["kyushu"]
    low = area_tariff("kyushu", 17.2)
    assert low.name == lv_name and low.voltage == "low"
    assert low.contract.kind == "fixed" and low.contract.contract_kw == 18.0
    assert load_tariff(lv_name).contract.contract_kw == 20.0  # the cached file is not changed
    assert area_tariff("kyushu", LOW_VOLTAGE_LIMIT_KW).name == hv_name
    assert area_tariff("tepco", 49.99).name == "tepco_low_voltage_power"
    with pytest.raises(ScenarioError, match="allowed: hokkaido"):
        area_tariff("tokyo", 10.0)
    with pytest.raises(ScenarioError, match="contract_kw"):
        area_tariff("kyushu", 0.0)


def test_a_flat_load_bills_the_hand_computed_month_on_okinawa_high_voltage():
    # Okinawa 業務用電力 (okiden.co.jp): 1,711.80 JPY/kW/month, July is summer: 16.83 JPY/kWh, levy 3.98.
    # A flat 100 kW through July 2025: 744 h × 100 kW = 74,400 kWh.
    # By hand: 74,400 × (16.83 + 3.98) + 100 × 1,711.80 = 1,548,264 + 171,180 = 1,719,444 JPY.
    snapshots = pd.date_range("2025-07-01", periods=744, freq="h", tz="Asia/Tokyo")
    prices = grid_prices(Grid(tariff="okinawa_high_voltage_business"), snapshots)
    load_kw = 100.0
    energy_jpy = float((prices.import_price_per_kwh * load_kw * 1.0).sum())
    bill_jpy = energy_jpy + prices.basic_charge_per_kw_month * load_kw
    assert bill_jpy == pytest.approx(1_719_444.0, abs=0.01)
    # October is その他季: 15.38 + 3.98 JPY/kWh every hour
    october = pd.date_range("2025-10-01", periods=744, freq="h", tz="Asia/Tokyo")
    compiled = compile_tariff(load_tariff("okinawa_high_voltage_business"), october)
    assert compiled.import_price_jpy_per_kwh.to_numpy() == pytest.approx(15.38 + 3.98)


@pytest.mark.parametrize("name", [n for n in NAMES if n.endswith("_illustrative")])
def test_an_illustrative_tariff_is_tepcos_times_the_area_price_index_as_its_file_says(name):
    # The derivation its comments state: TEPCO EP's unit prices × AREA_PRICE_INDEX[area] / AREA_PRICE_INDEX["tepco"]
    # (low voltage: tepco_low_voltage_power; high voltage: tepco_high_voltage_business, FY2024), rounded to 0.01.
    from chisan.sweep.derive import AREA_PRICE_INDEX

    t = load_tariff(name)
    area = name.split("_")[0]
    base = load_tariff("tepco_low_voltage_power" if t.voltage == "low" else "tepco_high_voltage_business")
    r = AREA_PRICE_INDEX[area] / AREA_PRICE_INDEX["tepco"]
    assert t.basic_charge_jpy_per_kw_month == pytest.approx(round(base.basic_charge_jpy_per_kw_month * r, 2))
    by_month = {m: s.bands[0].price_jpy_per_kwh for s in t.seasons for m in s.months}
    base_by_month = {m: s.bands[0].price_jpy_per_kwh for s in base.seasons for m in s.months}
    for month in range(1, 13):
        assert by_month[month] == pytest.approx(round(base_by_month[month] * r, 2)), month
