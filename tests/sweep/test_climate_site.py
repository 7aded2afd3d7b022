"""The synthetic climate moved to a municipality (chisan.resources.climate.climate_at_site), added for the sweep."""

from __future__ import annotations

import numpy as np
import pytest

from chisan.exceptions import ScenarioError
from chisan.resources.climate import (
    climate_at_site,
    monthly_climate,
    monthly_extraterrestrial_kwh_per_m2_day,
    synthetic_weather_year,
)

DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def closed_form_h0_kwh(latitude: float) -> np.ndarray:
    """Monthly mean of the daily H0 by the closed form, an independent implementation.

    Duffie & Beckman (2013), Eq. 1.10.3: H0 = 24·3600·Gsc/π · E0 · (cos φ cos δ sin ωs + ωs sin φ sin δ), with
    cos ωs = −tan φ tan δ (Eq. 1.6.10), Gsc = 1366.1 W/m² (the default of pvlib's get_extra_radiation), and
    Spencer's (1971) declination (Eq. 1.6.1b) and eccentricity factor E0 (Eq. 1.4.1b) of the day.
    """
    doy = np.arange(1, 366)
    b = 2 * np.pi * (doy - 1) / 365
    decl = (
        0.006918
        - 0.399912 * np.cos(b)
        + 0.070257 * np.sin(b)
        - 0.006758 * np.cos(2 * b)
        + 0.000907 * np.sin(2 * b)
        - 0.002697 * np.cos(3 * b)
        + 0.00148 * np.sin(3 * b)
    )
    e0 = 1.000110 + 0.034221 * np.cos(b) + 0.001280 * np.sin(b) + 0.000719 * np.cos(2 * b) + 0.000077 * np.sin(2 * b)
    phi = np.radians(latitude)
    ws = np.arccos(np.clip(-np.tan(phi) * np.tan(decl), -1, 1))
    shape = np.cos(phi) * np.cos(decl) * np.sin(ws) + ws * np.sin(phi) * np.sin(decl)
    daily_j = 24 * 3600 * 1366.1 / np.pi * e0 * shape
    month = np.repeat(np.arange(12), DAYS)
    return np.bincount(month, daily_j) / DAYS / 3.6e6  # [J/m2/day] -> [kWh/m2/day]


@pytest.mark.parametrize("latitude", [0.0, 26.2, 36.18, 45.5])
def test_extraterrestrial_matches_closed_form(latitude):
    # midpoint rule every 10 min of solar time vs the exact integral of the same day: the rule's error comes from
    # the kink of max(cos θz, 0) at sunrise and sunset, < 0.1 % of the day's sum
    np.testing.assert_allclose(
        monthly_extraterrestrial_kwh_per_m2_day(latitude), closed_form_h0_kwh(latitude), rtol=1e-3
    )


def test_climate_at_its_own_site_is_unchanged():
    tokyo = monthly_climate("tokyo")
    same = climate_at_site(tokyo, tokyo.latitude, tokyo.longitude, tokyo.altitude)
    np.testing.assert_allclose(same.ghi_kwh_per_m2_day, tokyo.ghi_kwh_per_m2_day, rtol=1e-12)


def test_moved_climate_keeps_clearness_index_temperature_and_wind():
    tokyo = monthly_climate("tokyo")
    sapporo = climate_at_site(tokyo, 43.06, 141.35, 20.0)
    kt_tokyo = np.asarray(tokyo.ghi_kwh_per_m2_day) / closed_form_h0_kwh(tokyo.latitude)
    kt_sapporo = np.asarray(sapporo.ghi_kwh_per_m2_day) / closed_form_h0_kwh(43.06)
    # same clearness index, up to the 0.1 % between numerical and closed-form H0 at each latitude
    np.testing.assert_allclose(kt_sapporo, kt_tokyo, rtol=2e-3)
    # January at 43° N: H0 4.0 vs 4.9 kWh/m²/day at 36.2° N, so the winter GHI drops by about a fifth
    assert sapporo.ghi_kwh_per_m2_day[0] < 0.85 * tokyo.ghi_kwh_per_m2_day[0]
    assert sapporo.temp_air_c == tokyo.temp_air_c
    assert sapporo.wind_speed_ms == tokyo.wind_speed_ms
    assert (sapporo.latitude, sapporo.longitude, sapporo.altitude) == (43.06, 141.35, 20.0)


def test_synthetic_year_at_site_reproduces_moved_monthly_ghi():
    naha = climate_at_site(monthly_climate("tokyo"), 26.21, 127.68)
    weather, meta = synthetic_weather_year(naha, 2025, seed=3)
    # the generator reproduces the table's monthly GHI exactly: Σ ghi [Wh/m²] / 1000 = Σ days × kWh/m²/day
    assert weather["ghi"].sum() / 1000.0 == pytest.approx(float(np.dot(DAYS, naha.ghi_kwh_per_m2_day)), rel=1e-9)
    # and the sun is Naha's: the sunniest hour of the mean day is the one holding solar noon (≈ 12:31 JST at
    # 127.68° E: 12:00 + (135 − 127.68)·4 min, ± the equation of time), not Hyakuri's (≈ 11:38 JST)
    hourly = weather["ghi"].groupby(weather.index.hour).mean()
    assert hourly.idxmax() == 12
    assert meta["latitude"] == 26.21


def test_site_outside_clearness_transfer_range_is_refused():
    with pytest.raises(ScenarioError, match="latitude 70"):
        climate_at_site(monthly_climate("tokyo"), 70.0, 20.0)
