"""Wind output per kW rated: power curve limits, log-law hub height by hand, capacity factor on Tokyo EPW."""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import windpowerlib

from chisan.exceptions import ScenarioError
from chisan.resources.weather import read_epw, to_plan_year
from chisan.resources.wind import (
    available_turbines,
    turbine_hub_heights_m,
    wind_output_per_kw,
    wind_speed_at_hub,
)

NOMINAL_E53_KW = 800.0  # Enercon E-53/800 nameplate


def bundled_curve(turbine_type: str) -> tuple[np.ndarray, np.ndarray]:
    """The turbine's power curve [m/s], [kW] read with the csv module from windpowerlib's bundled file."""
    path = Path(windpowerlib.__file__).parent / "oedb" / "power_curves.csv"
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    speeds = rows[0][1:]
    row = next(r for r in rows[1:] if r[0] == turbine_type)
    pairs = [(float(v), float(p) / 1000.0) for v, p in zip(speeds, row[1:], strict=True) if p != ""]
    return np.array([v for v, _ in pairs]), np.array([p for _, p in pairs])


def at_hub(speeds_ms, hub_height_m: float = 50.0) -> pd.DataFrame:
    """Weather whose wind is measured at hub height, so the power curve is read without extrapolation."""
    index = pd.date_range("2023-01-01", periods=len(speeds_ms), freq="h", tz="Asia/Tokyo")
    return pd.DataFrame({"wind_speed": np.asarray(speeds_ms, dtype=float)}, index=index)


@pytest.fixture(scope="module")
def epw_weather(shared_data: Path) -> pd.DataFrame:
    weather, _ = read_epw(shared_data / "weather" / "JPN_Tokyo.Hyakuri.477150_IWEC.epw")
    return to_plan_year(weather, 2023, "Asia/Tokyo")


def test_library_and_names():
    names = available_turbines()
    assert {"E-53/800", "E48/800", "E-82/2300"} <= set(names)
    assert len(names) > 50
    with pytest.raises(ScenarioError, match=r"'E53/800'.*E-53/800"):
        wind_output_per_kw(at_hub([5.0]), turbine_type="E53/800")
    # the library lists "50; 60; 73" m for the E-53/800; the default hub is the lowest
    assert turbine_hub_heights_m("E-53/800") == [50.0, 60.0, 73.0]


def test_below_cut_in_is_zero_and_above_rated_is_the_curve_top():
    _, power_kw = bundled_curve("E-53/800")  # 0 kW at 1 m/s, 2 kW at 2 m/s, ..., 810 kW 13-25 m/s
    assert power_kw.max() == 810.0
    output = wind_output_per_kw(
        at_hub([0.0, 0.5, 1.0, 2.0, 7.5, 13.0, 20.0, 25.0, 26.0]), hub_height_m=50.0, wind_height_m=50.0
    )
    expected_kw = [0, 0, 0, 2, (228 + 336) / 2, 810, 810, 810, 0]  # 7.5 m/s: linear between 7 and 8 m/s;
    # above the last point of the curve (cut-out at 25 m/s) windpowerlib gives 0
    np.testing.assert_allclose(output, np.array(expected_kw) / NOMINAL_E53_KW, rtol=1e-12)
    # above rated the output is 1 per kW rated within the manufacturer curve (810 / 800 = 1.0125)
    assert output.iloc[5] == pytest.approx(1.0, abs=0.02)


def test_hub_height_extrapolation_is_the_log_law():
    v10 = pd.Series([2.0, 5.0, 8.0])
    # v_hub = v_10 · ln(h / z0) / ln(10 / z0): with z0 = 0.1 m, h = 50 m, ln(500) / ln(100) = 1.349485
    hub = wind_speed_at_hub(v10, hub_height_m=50.0, wind_height_m=10.0, roughness_length_m=0.1)
    np.testing.assert_allclose(hub, v10 * math.log(50 / 0.1) / math.log(10 / 0.1), rtol=1e-12)
    assert math.log(500) / math.log(100) == pytest.approx(1.349485, abs=1e-6)
    # with obstacles of height d the profile starts at 0.7 d (windpowerlib, Hau 2013)
    hub = wind_speed_at_hub(v10, hub_height_m=50.0, roughness_length_m=0.1, obstacle_height_m=5.0)
    np.testing.assert_allclose(hub, v10 * math.log(46.5 / 0.1) / math.log(6.5 / 0.1), rtol=1e-12)
    # Hellman power law with exponent 1 / ln(h / z0)
    hub = wind_speed_at_hub(v10, hub_height_m=50.0, roughness_length_m=0.1, wind_speed_model="hellman")
    np.testing.assert_allclose(hub, v10 * 5.0 ** (1 / math.log(500)), rtol=1e-12)
    with pytest.raises(ScenarioError, match=r"'power'.*logarithmic"):
        wind_speed_at_hub(v10, hub_height_m=50.0, wind_speed_model="power")


def test_epw_output_equals_hand_computation(epw_weather):
    # Independent chain: log law by hand, then linear interpolation of the csv-read power curve, 0 outside.
    speeds, power_kw = bundled_curve("E-53/800")
    v_hub = epw_weather["wind_speed"].to_numpy() * math.log(50 / 0.1) / math.log(10 / 0.1)
    by_hand = np.interp(v_hub, speeds, power_kw, left=0.0, right=0.0) / NOMINAL_E53_KW
    ours = wind_output_per_kw(epw_weather[["wind_speed"]])  # no temperature/pressure: no density correction
    np.testing.assert_allclose(ours, by_hand, rtol=1e-12, atol=1e-15)


def test_epw_capacity_factor_in_a_justified_band(epw_weather):
    standard = wind_output_per_kw(epw_weather[["wind_speed"]]).mean()
    corrected = wind_output_per_kw(epw_weather).mean()  # with temp_air and pressure: density corrected
    # Air at Hyakuri: p = 100,905 Pa, mean 14 °C -> ρ = p / (R T) = 100905 / (287.05 x 287.2) ≈ 1.224 kg/m3 at
    # the ground and ≈ 0.5 % less at a 50 m hub, against the curve's 1.225: the correction lowers the annual
    # energy by 0-3 % (summer air is thinner, winter air denser).
    assert 0.97 < corrected / standard <= 1.0
    # Band for the annual capacity factor: the hub-height mean is 2.94 x 1.3495 = 3.97 m/s. Twelve monthly
    # Weibull distributions with the EPW's monthly means give 0.103 (k = 2) and 0.127 (k = 1.5) with this
    # power curve; the EPW's in-month spread is wider still (8 % calm hours, monthly fits k ≈ 1.4-1.8), which
    # raises the capacity factor. Band: 0.10-0.16.
    assert 0.10 < corrected < 0.16


def test_town_turbine_and_custom_power_curve(epw_weather):
    town = wind_output_per_kw(epw_weather, turbine_type="E48/800")
    assert turbine_hub_heights_m("E48/800")[0] == 50.0
    assert 0.05 < town.mean() < 0.16  # same wind, a smaller rotor for the same 800 kW: lower but same order
    # A small turbine of 10 kW rated, linear from 3 m/s (0 kW) to 11 m/s (10 kW), flat to cut-out at 20 m/s.
    curve = pd.DataFrame({"wind_speed": [3.0, 11.0, 20.0], "power_kw": [0.0, 10.0, 10.0]})
    output = wind_output_per_kw(
        at_hub([2.0, 7.0, 15.0, 21.0]), power_curve=curve, hub_height_m=20.0, wind_height_m=20.0
    )
    np.testing.assert_allclose(output, [0.0, 0.5, 1.0, 0.0], rtol=1e-12)  # 7 m/s: half-way up -> 5 kW
    with pytest.raises(ScenarioError, match="hub_height_m"):
        wind_output_per_kw(at_hub([5.0]), power_curve=curve)


def test_wind_is_fast(epw_weather):
    start = time.perf_counter()
    wind_output_per_kw(epw_weather)  # density-corrected path, the slower one
    assert time.perf_counter() - start < 2.0


def test_density_correction_without_the_loop_is_windpowerlib_s():
    """The vectorised density-corrected curve gives windpowerlib's own per-step interpolation, points and gaps."""
    from windpowerlib import power_output

    from chisan.resources.wind import _library_turbine, density_corrected_power_w

    turbine = _library_turbine("E-53/800", None)
    speeds = turbine.power_curve["wind_speed"].to_numpy(float)
    watts = turbine.power_curve["value"].to_numpy(float)
    rng = np.random.default_rng(3)
    v = np.r_[rng.uniform(0.0, 30.0, 5000), speeds, 0.0, 40.0]  # between points, on them, outside the curve
    rho = rng.uniform(1.0, 1.35, len(v))
    expected = np.asarray(power_output.power_curve_density_correction(v, speeds, watts, rho), dtype=float)
    np.testing.assert_allclose(density_corrected_power_w(v, speeds, watts, rho), expected, rtol=0, atol=1e-6)
    assert expected.max() > 0.9 * watts.max() and (expected == 0).sum() > 0  # the sample reaches both ends
