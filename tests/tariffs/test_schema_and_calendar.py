"""Tariff schema rules, the day-type calendar and price series, checked by hand and against jpholiday."""

from __future__ import annotations

import datetime as dt

import jpholiday
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from chisan.exceptions import ScenarioError
from chisan.plan.tariffs import grid_prices
from chisan.scenario.schema import Grid
from chisan.tariffs import Tariff, compile_tariff, day_types, load_tariff, tariff_names


def _tou(**changes) -> dict:
    """A two-season day/night tariff, every hour of every day type covered once."""
    data = {
        "name": "test_tou",
        "renewable_levy_jpy_per_kwh": 3.98,
        "fuel_cost_adjustment_jpy_per_kwh": -1.5,
        "seasons": [
            {
                "name": "summer",
                "months": [7, 8, 9],
                "bands": [
                    {"name": "night", "start_hour": 0, "end_hour": 8, "price_jpy_per_kwh": 20.0},
                    {
                        "name": "day",
                        "start_hour": 8,
                        "end_hour": 22,
                        "price_jpy_per_kwh": 35.0,
                        "day_types": ["weekday"],
                    },
                    {
                        "name": "day off",
                        "start_hour": 8,
                        "end_hour": 22,
                        "price_jpy_per_kwh": 28.0,
                        "day_types": ["saturday", "holiday"],
                    },
                    {"name": "late", "start_hour": 22, "end_hour": 24, "price_jpy_per_kwh": 20.0},
                ],
            },
            {
                "name": "other",
                "months": [1, 2, 3, 4, 5, 6, 10, 11, 12],
                "bands": [
                    {"name": "night", "start_hour": 0, "end_hour": 8, "price_jpy_per_kwh": 18.0},
                    {
                        "name": "day",
                        "start_hour": 8,
                        "end_hour": 24,
                        "price_jpy_per_kwh": 30.0,
                        "day_types": ["weekday"],
                    },
                    {
                        "name": "day off",
                        "start_hour": 8,
                        "end_hour": 24,
                        "price_jpy_per_kwh": 25.0,
                        "day_types": ["saturday", "holiday"],
                    },
                ],
            },
        ],
        "export": {"scheme": "surplus", "price_jpy_per_kwh": 8.5},
    }
    data.update(changes)
    return data


def test_overlapping_bands_are_refused_naming_the_bands_and_hours():
    data = _tou()
    data["seasons"][0]["bands"].append(
        {"name": "peak", "start_hour": 13, "end_hour": 16, "price_jpy_per_kwh": 50.0, "day_types": ["weekday"]}
    )
    with pytest.raises(ValidationError) as err:
        Tariff.model_validate(data)
    msg = str(err.value)
    # 'day' covers 8–22 on weekdays and 'peak' 13–16: they share 13:00, 14:00 and 15:00.
    assert "tariff 'test_tou', season 'summer', weekday" in msg
    assert "bands 'day' (8–22 h) and 'peak' (13–16 h) overlap at 13:00–16:00" in msg


def test_uncovered_hours_are_refused_when_full_coverage_is_declared():
    data = _tou()
    data["seasons"][1]["bands"] = data["seasons"][1]["bands"][:2]  # no band for Saturdays and holidays 8–24
    with pytest.raises(ValidationError) as err:
        Tariff.model_validate(data)
    assert "season 'other', saturday: no band covers 08:00–24:00" in str(err.value)
    # Without the coverage promise, a base price fills the gap.
    ok = Tariff.model_validate({**data, "full_day_coverage": False, "base_price_jpy_per_kwh": 27.0})
    assert ok.seasons[1].name == "other"


def test_a_month_in_two_seasons_is_refused():
    data = _tou()
    data["seasons"][1]["months"] = [1, 2, 3, 4, 5, 6, 7, 10, 11, 12]
    with pytest.raises(ValidationError, match="month 7 is in seasons 'summer' and 'other'"):
        Tariff.model_validate(data)


def test_holidays_are_priced_as_holidays_checked_against_jpholiday_and_by_hand():
    days = pd.date_range("2026-01-01", "2026-12-31", freq="D", tz="Asia/Tokyo")
    kind = day_types(days)
    # By hand (Cabinet Office list of national holidays for 2026, 内閣府「国民の祝日」):
    # 2026-01-12 is Coming of Age Day (2nd Monday of January); Golden Week 2026: 5/3 Constitution Day is a Sunday,
    # 5/4 Greenery Day (Mon), 5/5 Children's Day (Tue), 5/6 substitute holiday for 5/3 (Wed); 5/2 is a Saturday,
    # 5/7 a Thursday.
    expected = {
        "2026-01-12": "holiday",
        "2026-01-13": "weekday",
        "2026-05-02": "saturday",
        "2026-05-03": "holiday",
        "2026-05-04": "holiday",
        "2026-05-05": "holiday",
        "2026-05-06": "holiday",
        "2026-05-07": "weekday",
    }
    for day, want in expected.items():
        assert kind.loc[pd.Timestamp(day, tz="Asia/Tokyo")] == want, day
    # Second implementation, day by day: jpholiday.is_holiday or Sunday → holiday; Saturday → saturday.
    for ts, got in kind.items():
        d = ts.date()
        want = (
            "holiday"
            if jpholiday.is_holiday(d) or d.weekday() == 6
            else ("saturday" if d.weekday() == 5 else "weekday")
        )
        assert got == want, d
    assert (kind == "holiday").sum() == 52 + sum(1 for h, _ in jpholiday.year_holidays(2026) if h.weekday() != 6)


def test_extra_holidays_of_a_tariff():
    days = pd.date_range("2026-12-29", "2027-01-04", freq="D", tz="Asia/Tokyo")
    kind = day_types(days, ["12-30", "12-31", "01-02", "01-03"])
    # 12-29 Tue weekday; 12-30, 12-31 extra; 1-1 New Year's Day; 1-2 Sat but listed extra → holiday; 1-3 Sun;
    # 1-4 Monday weekday.
    assert list(kind) == ["weekday", "holiday", "holiday", "holiday", "holiday", "holiday", "weekday"]


def test_price_series_by_hand_for_a_few_hours():
    tariff = Tariff.model_validate(_tou())
    snaps = pd.DatetimeIndex(
        [
            "2026-08-03 07:00",  # Mon, summer, night band: 20 + 3.98 − 1.5 = 22.48
            "2026-08-03 08:00",  # Mon, summer, day (weekday): 35 + 2.48 = 37.48
            "2026-08-08 12:00",  # Sat, summer, day off: 28 + 2.48 = 30.48
            "2026-08-11 12:00",  # Tue, Mountain Day (山の日, 8/11): holiday → 30.48
            "2026-08-03 23:00",  # Mon, summer, late: 20 + 2.48 = 22.48
            "2026-01-12 10:00",  # Coming of Age Day, other season, day off: 25 + 2.48 = 27.48
            "2026-01-13 10:00",  # Tue, other season, weekday day: 30 + 2.48 = 32.48
            "2026-01-13 03:00",  # night: 18 + 2.48 = 20.48
        ],
        tz="Asia/Tokyo",
    )
    c = compile_tariff(tariff, snaps)
    assert c.import_price_jpy_per_kwh.to_numpy() == pytest.approx(
        [22.48, 37.48, 30.48, 30.48, 22.48, 27.48, 32.48, 20.48], abs=1e-12
    )
    assert c.energy_price_jpy_per_kwh.iloc[1] == 35.0
    assert (c.export_price_jpy_per_kwh == 8.5).all()
    assert c.basic_charge_jpy_per_kw_month == 0.0 and c.contract_kw_fixed is None


def test_bands_are_read_on_the_local_clock_of_a_utc_index():
    tariff = Tariff.model_validate(_tou())
    # 2026-01-13 00:30 UTC is 09:30 in Tokyo (weekday day band, 30 + 2.48) though it is 00:30 on the UTC clock.
    snaps = pd.DatetimeIndex(["2026-01-13 00:00"], tz="UTC").tz_convert("Asia/Tokyo")
    assert compile_tariff(tariff, snaps).import_price_jpy_per_kwh.iloc[0] == pytest.approx(32.48)


def test_bundled_library_is_dated_and_cited():
    names = tariff_names()
    for required in ("tepco_low_voltage_lighting_b", "tepco_low_voltage_power", "tepco_high_voltage_business"):
        assert required in names
    for name in names:
        t = load_tariff(name)
        assert t.accessed is not None
        assert t.effective_from is not None or "undated in the source" in t.notes  # a page without a date says so
        if name.endswith("_illustrative"):  # no published source found: it must say so where it is shown
            assert t.source.startswith("illustrative") and "ILLUSTRATIVE" in t.title and "ILLUSTRATIVE" in t.notes
            continue
        assert t.source.startswith(("https://", "http://"))
        if t.currency == "JPY":
            assert t.renewable_levy_jpy_per_kwh == 3.98  # FY2025 levy, METI news release 2025-03-21
    hv = load_tariff("tepco_high_voltage_business")
    assert hv.basic_charge_jpy_per_kw_month == 1890.0 and hv.contract.kind == "peak_demand"
    lp = load_tariff("tepco_low_voltage_power")  # TEPCO EP page: 1,155.84 /kW; 27.14 summer, 25.57 other
    snaps = pd.DatetimeIndex(["2025-08-01 12:00", "2025-10-01 12:00"], tz="Asia/Tokyo")
    c = compile_tariff(lp, snaps)
    assert c.import_price_jpy_per_kwh.to_numpy() == pytest.approx([27.14 + 3.98, 25.57 + 3.98])
    assert c.contract_kw_fixed == 20.0 and c.basic_charge_jpy_per_kw_month == 1155.84
    lighting = compile_tariff(load_tariff("tepco_low_voltage_lighting_b"), snaps)
    assert lighting.energy_price_jpy_per_kwh.to_numpy() == pytest.approx([40.49, 40.49])  # the last tier


def test_unknown_tariff_name_suggests_the_closest_and_says_where_all_are():
    with pytest.raises(ScenarioError) as err:
        load_tariff("tepco_low_voltage")
    text = str(err.value)
    assert text.startswith("tariff 'tepco_low_voltage': not a bundled tariff; did you mean 'tepco_low_voltage_power', ")
    assert text.count("', '") == 2  # three names, not the 23
    assert "All 23 names: chisan.tariffs.tariff_names(), or the TOML files in " in text and len(text) < 400
    with pytest.raises(ValidationError, match=r"not a bundled tariff; did you mean 'tepco_high_voltage_business'"):
        Grid(tariff="tepco_high_voltage_busines")


def test_an_unknown_grid_tariff_names_the_field_once(tmp_path):
    from chisan.scenario.load import scenario_from_dict
    from tests.factories import small_scenario_dict

    data = small_scenario_dict()
    data["grid"] = {"tariff": "tepco_low_voltage"}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, source="t.toml")
    text = str(err.value)
    assert "grid.tariff = 'tepco_low_voltage': not a bundled tariff; did you mean 'tepco_low_voltage_power'" in text
    assert text.count("tepco_low_voltage'") == 1  # the value named once


def test_scenario_grid_takes_a_name_or_an_inline_table_but_not_both_with_import_tou():
    assert Grid(tariff="tepco_high_voltage_business").tariff == "tepco_high_voltage_business"
    inline = Grid.model_validate({"tariff": _tou()})
    assert isinstance(inline.tariff, Tariff) and inline.tariff.name == "test_tou"
    with pytest.raises(ValidationError, match=r"grid\.tariff and grid\.import_tou both set"):
        Grid.model_validate(
            {
                "tariff": "tepco_high_voltage_business",
                "import_tou": [{"start_hour": 0, "end_hour": 6, "price_per_kwh": 20.0}],
            }
        )
    # The old flat price and bands keep working.
    snaps = pd.date_range("2025-06-02", periods=24, freq="h", tz="Asia/Tokyo")
    old = grid_prices(
        Grid(import_price_per_kwh=30.0, import_tou=[{"start_hour": 0, "end_hour": 6, "price_per_kwh": 20.0}]), snaps
    )
    assert old.import_price_per_kwh.to_numpy() == pytest.approx(np.r_[np.full(6, 20.0), np.full(18, 30.0)])
    assert old.basic_charge_per_kw_month == 0.0
    new = grid_prices(Grid(tariff="tepco_high_voltage_business"), snaps)
    assert new.import_price_per_kwh.to_numpy() == pytest.approx(np.full(24, 19.51 + 3.98))
    assert new.basic_charge_per_kw_month == 1890.0 and new.tariff == "tepco_high_voltage_business"
    with pytest.raises(ScenarioError, match=r"priced in JPY but finance\.currency = 'EUR'"):
        grid_prices(Grid(tariff="tepco_high_voltage_business"), snaps, "EUR")
    assert dt.date(2024, 4, 1) == load_tariff("tepco_high_voltage_business").effective_from
