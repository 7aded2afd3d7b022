"""The plan year: 8,760 tz-aware hours; typical years laid on it by month-day-hour, real years picked."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chisan.exceptions import DataError
from chisan.resources.weather import (
    check_regular,
    plan_year_index,
    read_epw,
    read_weather_csv,
    to_plan_year,
)


@pytest.fixture(scope="module")
def epw(shared_data: Path) -> tuple[pd.DataFrame, dict]:
    return read_epw(shared_data / "weather" / "JPN_Tokyo.Hyakuri.477150_IWEC.epw")


@pytest.fixture(scope="module")
def epw_raw_ghi(shared_data: Path) -> dict[tuple[int, int, int], float]:
    """(month, day, EPW hour 1-24) -> GHI, read with the csv module."""
    with (shared_data / "weather" / "JPN_Tokyo.Hyakuri.477150_IWEC.epw").open(newline="") as handle:
        rows = list(csv.reader(handle))[8:]
    return {(int(r[1]), int(r[2]), int(r[3])): float(r[13]) for r in rows}


@pytest.fixture(scope="module")
def open_meteo(shared_data: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        weather, _ = read_weather_csv(
            shared_data / "weather" / "tokyo_openmeteo_hourly_2020_2024.csv",
            columns={
                "temperature_2m_C": "temp_air",
                "cloudcover_pct": "cloud_cover",
                "windspeed_10m_kmh": "wind_speed",
            },
            units={"temp_air": "degC", "cloud_cover": "%", "wind_speed": "km/h"},
            timezone="Asia/Tokyo",
            time_column="time_local_JST",
            latitude=35.68,
            longitude=139.77,
        )
    return weather


def test_plan_year_index_has_8760_hours_and_drops_feb_29():
    for year in (2023, 2024):
        index = plan_year_index(year, "Asia/Tokyo")
        assert len(index) == 8760  # 365 x 24
        assert str(index.tz) == "Asia/Tokyo"
        assert index[0] == pd.Timestamp(f"{year}-01-01 00:00", tz="Asia/Tokyo")
        assert index[-1] == pd.Timestamp(f"{year}-12-31 23:00", tz="Asia/Tokyo")
        assert not ((index.month == 2) & (index.day == 29)).any()
    check_regular(plan_year_index(2023, "Asia/Tokyo"))
    check_regular(plan_year_index(2024, "Asia/Tokyo"), allow_leap_day_gap=True)
    # In a zone with daylight saving time the hours stay regular in absolute time: still 8,760 of them.
    berlin = plan_year_index(2023, "Europe/Berlin")
    assert len(berlin) == 8760
    check_regular(berlin)
    with pytest.raises(DataError, match="Mars/Olympus"):
        plan_year_index(2023, "Mars/Olympus")


def test_typical_year_is_laid_on_the_plan_year_by_month_day_hour(epw, epw_raw_ghi):
    weather, _ = epw
    plan = to_plan_year(weather, 2023, "Asia/Tokyo")
    assert len(plan) == 8760 and str(plan.index.tz) == "Asia/Tokyo"
    # 15 March 10:00-11:00 JST is EPW hour 11 (hour-ending) of 15 March.
    assert plan.loc[pd.Timestamp("2023-03-15 10:00", tz="Asia/Tokyo"), "ghi"] == epw_raw_ghi[(3, 15, 11)]
    assert plan["ghi"].sum() == pytest.approx(sum(epw_raw_ghi.values()), rel=1e-12)  # every hour used once


def test_typical_year_keeps_the_sun_of_its_own_clock_in_another_zone(epw, epw_raw_ghi):
    weather, _ = epw
    plan = to_plan_year(weather, 2023, "UTC")
    # 2023-01-01 00:00 UTC = 09:00 JST -> EPW 1 January hour 10 (09:00-10:00 JST).
    assert plan["ghi"].iloc[0] == epw_raw_ghi[(1, 1, 10)]
    # The last plan hour, 2023-12-31 23:00 UTC = 1 January 08:00 JST, wraps to EPW 1 January hour 9.
    assert plan["ghi"].iloc[-1] == epw_raw_ghi[(1, 1, 9)]


def test_leap_plan_year_from_typical_year(epw, epw_raw_ghi):
    weather, _ = epw
    plan = to_plan_year(weather, 2024, "Asia/Tokyo")
    assert len(plan) == 8760
    assert plan.loc[pd.Timestamp("2024-03-01 00:00", tz="Asia/Tokyo"), "ghi"] == epw_raw_ghi[(3, 1, 1)]
    assert plan["ghi"].sum() == pytest.approx(sum(epw_raw_ghi.values()), rel=1e-12)


def test_multi_year_series_gives_the_hours_of_the_asked_year():
    # hourly values = hours since 2022-06-01 00:00 UTC; the Tokyo plan year 2023 starts at
    # 2022-12-31 15:00 UTC, i.e. 213 days x 24 h + 15 h = 5,127 h after that start.
    index = pd.date_range("2022-06-01", "2024-06-01", freq="h", tz="UTC", inclusive="left")
    series = pd.DataFrame({"temp_air": np.arange(len(index), dtype=float)}, index=index)
    plan = to_plan_year(series, 2023, "Asia/Tokyo")
    assert plan["temp_air"].iloc[0] == 5127.0
    np.testing.assert_array_equal(np.diff(plan["temp_air"].to_numpy()), 1.0)  # consecutive real hours


def test_multi_year_real_file(open_meteo, shared_data: Path):
    with (shared_data / "weather" / "tokyo_openmeteo_hourly_2020_2024.csv").open(newline="") as handle:
        raw = {row["time_local_JST"]: float(row["temperature_2m_C"]) for row in csv.DictReader(handle)}
    plan = to_plan_year(open_meteo, 2023, "Asia/Tokyo")
    assert len(plan) == 8760
    assert plan.loc[pd.Timestamp("2023-06-01 12:00", tz="Asia/Tokyo"), "temp_air"] == raw["2023-06-01T12:00"]
    leap = to_plan_year(open_meteo, 2024, "Asia/Tokyo")
    assert len(leap) == 8760
    assert leap.loc[pd.Timestamp("2024-03-01 00:00", tz="Asia/Tokyo"), "temp_air"] == raw["2024-03-01T00:00"]
    assert "2024-02-29T12:00" in raw and not ((leap.index.month == 2) & (leap.index.day == 29)).any()
    with pytest.raises(DataError, match=r"years \[2020, 2021, 2022, 2023, 2024\]"):
        to_plan_year(open_meteo, 2019, "Asia/Tokyo")


def test_to_plan_year_needs_hourly_tz_aware_data():
    quarter = pd.date_range("2023-01-01", "2024-01-01", freq="15min", tz="Asia/Tokyo", inclusive="left")
    with pytest.raises(DataError, match="hourly"):
        to_plan_year(pd.DataFrame({"ghi": 0.0}, index=quarter), 2023, "Asia/Tokyo")
    naive = pd.date_range("2023-01-01", periods=8760, freq="h")
    with pytest.raises(DataError, match="tz-aware"):
        to_plan_year(pd.DataFrame({"ghi": 0.0}, index=naive), 2023, "Asia/Tokyo")
