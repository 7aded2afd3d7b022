"""Synthetic weather year: exact monthly means, reproducible, bounded by clear sky, Weibull wind."""

from __future__ import annotations

import calendar
import time

import numpy as np
import pandas as pd
import pvlib
import pytest
from scipy import stats

from chisan.exceptions import ScenarioError
from chisan.resources.climate import (
    GHI_CLEAR_SKY_CAP,
    MONTHLY_CLIMATES,
    MonthlyClimate,
    monthly_climate,
    synthetic_weather_year,
)
from chisan.resources.weather import solar_position

TOKYO = MONTHLY_CLIMATES["tokyo"]


@pytest.fixture(scope="module")
def year_2023() -> pd.DataFrame:
    weather, _ = synthetic_weather_year(TOKYO, 2023, seed=42)
    return weather


def monthly_daily_ghi_kwh(weather: pd.DataFrame) -> np.ndarray:
    month = weather.index.month
    days = weather.groupby(month).size() / 24.0
    return (weather["ghi"].groupby(month).sum() / 1000.0 / days).to_numpy()


def test_monthly_means_equal_the_table(year_2023):
    month = year_2023.index.month
    np.testing.assert_allclose(monthly_daily_ghi_kwh(year_2023), TOKYO.ghi_kwh_per_m2_day, rtol=1e-9)
    np.testing.assert_allclose(year_2023["temp_air"].groupby(month).mean(), TOKYO.temp_air_c, rtol=1e-9)
    np.testing.assert_allclose(year_2023["wind_speed"].groupby(month).mean(), TOKYO.wind_speed_ms, rtol=1e-9)


def test_annual_ghi_is_days_times_table(year_2023):
    # Σ days x table = 31·2.52 + 28·3.15 + 31·3.54 + 30·4.61 + 31·4.79 + 30·4.14 + 31·4.39 + 31·4.81
    #                + 30·3.47 + 31·2.93 + 30·2.49 + 31·2.09 = 1,306.67 kWh/m2
    # (the EPW itself has 1,306.8; the table's monthly values are rounded)
    days = [calendar.monthrange(2023, m)[1] for m in range(1, 13)]
    expected = sum(d * g for d, g in zip(days, TOKYO.ghi_kwh_per_m2_day, strict=True))
    assert expected == pytest.approx(1306.67, abs=1e-9)
    assert year_2023["ghi"].sum() / 1000.0 == pytest.approx(expected, rel=1e-9)


def test_leap_year_and_other_time_zone_keep_exact_means():
    leap, metadata = synthetic_weather_year(TOKYO, 2024, seed=1)
    assert len(leap) == 8760  # 29 February dropped: February keeps 28 days and the annual sum stays
    assert leap["ghi"].sum() / 1000.0 == pytest.approx(1306.67, rel=1e-9)
    assert metadata["tz"] == "Asia/Tokyo" and metadata["wind_height_m"] == 10.0
    utc, _ = synthetic_weather_year(TOKYO, 2023, seed=1, timezone="UTC")
    assert str(utc.index.tz) == "UTC"
    np.testing.assert_allclose(monthly_daily_ghi_kwh(utc), TOKYO.ghi_kwh_per_m2_day, rtol=1e-9)


def test_same_seed_same_frame_other_seed_other_frame(year_2023):
    again, _ = synthetic_weather_year(TOKYO, 2023, seed=42)
    pd.testing.assert_frame_equal(again, year_2023)
    other, _ = synthetic_weather_year(TOKYO, 2023, seed=43)
    day = year_2023["ghi"] > 0
    assert (other["ghi"][day] != year_2023["ghi"][day]).mean() > 0.99
    assert (other["wind_speed"] != year_2023["wind_speed"]).mean() > 0.99
    assert (other["temp_air"] != year_2023["temp_air"]).mean() > 0.99


def test_ghi_never_exceeds_clear_sky_by_more_than_the_cap(year_2023):
    # Clear sky recomputed on an independent path: pvlib Location.get_clearsky (its own solar position,
    # Linke turbidity lookup and airmass) at the middle of each hour.
    location = pvlib.location.Location(TOKYO.latitude, TOKYO.longitude, tz=TOKYO.tz, altitude=TOKYO.altitude)
    clear = location.get_clearsky(year_2023.index + pd.Timedelta(minutes=30), model="ineichen")["ghi"]
    clear = clear.to_numpy()
    ghi = year_2023["ghi"].to_numpy()
    assert (ghi <= GHI_CLEAR_SKY_CAP * clear + 1e-6).all()  # cap 1.1 (largest in the Hyakuri EPW: 1.045)
    assert (ghi[clear == 0] == 0).all()  # night
    assert (ghi >= 0).all()
    # and the sky is not trivially clear: the mean clear-sky index is the table's ~0.6, not ~1
    assert 0.45 < ghi.sum() / clear.sum() < 0.8


def test_dni_dhi_close_the_balance(year_2023):
    zenith = solar_position(year_2023.index, TOKYO.latitude, TOKYO.longitude, TOKYO.altitude)["zenith"]
    up = zenith < 87  # Erbs returns DNI = 0 for lower sun (pvlib's max_zenith)
    closure = year_2023["dhi"] + year_2023["dni"] * np.cos(np.radians(zenith))
    np.testing.assert_allclose(closure[up], year_2023["ghi"][up], rtol=1e-9, atol=1e-6)


def test_wind_is_weibull_k2_and_autocorrelated():
    shapes, lags = [], []
    for seed in (1, 2, 3):
        weather, _ = synthetic_weather_year(TOKYO, 2023, seed=seed)
        month = weather.index.month
        normalised = weather["wind_speed"] / weather["wind_speed"].groupby(month).transform("mean")
        shape, _, _ = stats.weibull_min.fit(normalised, floc=0)
        shapes.append(shape)
        lags.append(weather["wind_speed"].autocorr(1))
    # MLE of k has standard error ≈ 0.78 k / √n_eff; with lag-1 correlation 0.86 the effective sample of
    # 8,760 hours is ≈ 8,760 x (1 − 0.86)/(1 + 0.86) ≈ 660, so SE ≈ 0.06: ±0.2 is over 3 SE.
    assert all(1.8 < k < 2.2 for k in shapes)
    # The Gaussian AR(1) has lag-1 correlation 0.86 (the EPW's); the monotone Weibull transform keeps it
    # within a few hundredths.
    assert all(0.8 < lag < 0.92 for lag in lags)


def test_temperature_diurnal_cycle(year_2023):
    profile = year_2023["temp_air"].groupby(year_2023.index.hour).mean()
    # Amplitude 4 °C (the Hyakuri EPW's mean diurnal half-range is 3.97 °C); AR noise averages out over 365
    # days to a few tenths at most.
    assert (profile.max() - profile.min()) / 2 == pytest.approx(4.0, abs=0.3)
    # Maximum 1.86 h after solar noon (Parton & Logan 1981): 11:38 + 1:52 = 13:30 JST, the middle of the
    # hour stamped 13:00.
    assert profile.idxmax() == 13


def test_synthetic_year_is_fast():
    start = time.perf_counter()
    synthetic_weather_year(TOKYO, 2023, seed=7)
    assert time.perf_counter() - start < 2.0


def test_climate_lookup_and_validation():
    assert monthly_climate("Tokyo") is TOKYO
    with pytest.raises(ScenarioError, match=r"'osaka'.*\['shanghai', 'tokyo'\]"):
        monthly_climate("osaka")
    with pytest.raises(ScenarioError, match="12"):
        MonthlyClimate(
            ghi_kwh_per_m2_day=TOKYO.ghi_kwh_per_m2_day[:11],
            temp_air_c=TOKYO.temp_air_c,
            wind_speed_ms=TOKYO.wind_speed_ms,
            latitude=36.18,
            longitude=140.42,
            altitude=35.0,
            tz="Asia/Tokyo",
            source="test",
        )
    with pytest.raises(ScenarioError, match="wind_speed_ms"):
        MonthlyClimate(
            ghi_kwh_per_m2_day=TOKYO.ghi_kwh_per_m2_day,
            temp_air_c=TOKYO.temp_air_c,
            wind_speed_ms=(0.0,) * 12,
            latitude=36.18,
            longitude=140.42,
            altitude=35.0,
            tz="Asia/Tokyo",
            source="test",
        )
