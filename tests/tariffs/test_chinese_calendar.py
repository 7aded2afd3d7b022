"""China's working calendar as a tariff day type (``calendar = "CN"``), checked day by day against
``chinese_calendar`` and against the State Council's 2025 holiday notice (国务院办公厅关于2025年部分节假日安排的通知:
National Day and Mid-Autumn 1–8 October off; Sunday 28 September and Saturday 11 October working days).
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import numpy as np
import pandas as pd
import pytest

from chisan.exceptions import ScenarioError
from chisan.plan.tariffs import grid_prices
from chisan.scenario.schema import Grid
from chisan.tariffs import Tariff, compile_tariff, day_types, load_tariff

SH = "shanghai_commercial_tou_illustrative"


def _hours(start: str, end: str) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq="h", tz="Asia/Shanghai", inclusive="left")


def test_day_types_follow_chinese_calendar_for_a_whole_year():
    idx = _hours("2025-01-01", "2026-01-01")
    kind = day_types(idx, calendar="CN")
    days = kind[idx.hour == 0]
    expected = np.array(["holiday" if chinese_calendar.is_holiday(d.date()) else "weekday" for d in days.index])
    assert (days.to_numpy() == expected).all()
    assert set(kind.unique()) == {"weekday", "holiday"}  # no 'saturday' in China's calendar


def test_national_day_week_is_a_holiday_and_adjusted_weekend_days_are_working_days():
    kind = day_types(_hours("2025-09-27", "2025-10-13"), calendar="CN")
    by_day = kind[kind.index.hour == 12]
    by_day.index = by_day.index.date
    for day in pd.date_range("2025-10-01", "2025-10-08").date:
        assert by_day[day] == "holiday"
    assert by_day[dt.date(2025, 9, 28)] == "weekday"  # a Sunday made a working day
    assert by_day[dt.date(2025, 10, 11)] == "weekday"  # a Saturday made a working day
    assert by_day[dt.date(2025, 9, 27)] == "holiday"  # an ordinary Saturday
    assert by_day[dt.date(2025, 10, 9)] == "weekday"
    # the Japanese calendar of the same days: 28 September is a Sunday holiday, 1 October a weekday
    jp = day_types(_hours("2025-09-28", "2025-10-02"))
    assert jp.iloc[0] == "holiday" and jp.iloc[-1] == "weekday"


def test_holiday_prices_of_the_shanghai_tariff():
    tariff = load_tariff(SH)
    assert (tariff.currency, tariff.calendar) == ("CNY", "CN")
    idx = _hours("2025-09-26", "2025-10-13")
    c = compile_tariff(tariff, idx)
    at9 = c.energy_price_jpy_per_kwh[idx.hour == 9]
    at9.index = at9.index.date
    # the file: peak 08–11 h at 1.25 (Jul–Sep) / 1.10 CNY/kWh (other months) on working days, at the flat
    # price 0.75 / 0.70 on rest days; valley 0.30 from 22 h to 06 h every day
    assert at9[dt.date(2025, 9, 28)] == 1.25  # adjusted working Sunday: peak
    assert at9[dt.date(2025, 9, 27)] == 0.75  # Saturday: rest day
    assert at9[dt.date(2025, 10, 1)] == 0.70  # National Day
    assert at9[dt.date(2025, 10, 8)] == 0.70
    assert at9[dt.date(2025, 10, 9)] == 1.10
    assert at9[dt.date(2025, 10, 11)] == 1.10  # adjusted working Saturday
    assert (c.energy_price_jpy_per_kwh[(idx.hour >= 22) | (idx.hour < 6)] == 0.30).all()


def test_a_cny_tariff_is_written_in_cny_and_billed_only_in_cny():
    data = {
        "name": "cn_flat",
        "currency": "CNY",
        "calendar": "CN",
        "basic_charge_cny_per_kw_month": 40.0,
        "seasons": [{"bands": [{"price_cny_per_kwh": 0.8}]}],
        "export": {"scheme": "surplus", "price_cny_per_kwh": 0.2},
    }
    t = Tariff.model_validate(data)
    assert (t.basic_charge_jpy_per_kw_month, t.export.price) == (40.0, 0.2)
    with pytest.raises(ValueError, match="price_jpy_per_kwh in a tariff priced in CNY: write price_cny_per_kwh"):
        Tariff.model_validate({**data, "seasons": [{"bands": [{"price_jpy_per_kwh": 0.8}]}]})
    idx = _hours("2025-10-01", "2025-10-02")
    prices = grid_prices(Grid(tariff=t), idx, "CNY")
    assert (prices.import_price_per_kwh == 0.8).all() and prices.basic_charge_per_kw_month == 40.0
    with pytest.raises(ScenarioError, match=r"priced in CNY but finance\.currency = 'JPY'"):
        grid_prices(Grid(tariff=t), idx, "JPY")


def test_a_cn_tariff_need_not_price_saturdays_and_a_year_outside_the_calendar_is_refused():
    t = Tariff.model_validate(
        {
            "name": "cn_two_day_types",
            "calendar": "CN",
            "seasons": [
                {
                    "bands": [
                        {"price_jpy_per_kwh": 1.0, "day_types": ["weekday"]},
                        {"price_jpy_per_kwh": 0.5, "day_types": ["holiday"]},
                    ]
                }
            ],
        }
    )
    with pytest.raises(ValueError, match="saturday: no band covers"):
        Tariff.model_validate({**t.model_dump(mode="json"), "calendar": "JP"})
    years = sorted({d.year for d in chinese_calendar.constants.holidays})
    beyond = years[-1] + 1
    with pytest.raises(ScenarioError, match=f"covers {years[0]}–{years[-1]}, not {beyond}"):
        compile_tariff(t, _hours(f"{beyond}-01-01", f"{beyond}-01-02"))
