"""Weather readers: real files against published figures and csv-module sums; bad CSVs fail loudly."""

from __future__ import annotations

import csv
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from chisan.exceptions import DataError
from chisan.resources.climate import MONTHLY_CLIMATES, monthly_climate_from_weather
from chisan.resources.weather import (
    check_regular,
    clear_sky_irradiance,
    dt_hours,
    read_epw,
    read_tmy3,
    read_weather_csv,
    solar_position,
)

EPW_NAME = "JPN_Tokyo.Hyakuri.477150_IWEC.epw"
OPEN_METEO_NAME = "tokyo_openmeteo_hourly_2020_2024.csv"
OPEN_METEO_COLUMNS = {
    "temperature_2m_C": "temp_air",
    "relative_humidity_2m_pct": "relative_humidity",
    "cloudcover_pct": "cloud_cover",
    "windspeed_10m_kmh": "wind_speed",
}
OPEN_METEO_UNITS = {"temp_air": "degC", "relative_humidity": "%", "cloud_cover": "%", "wind_speed": "km/h"}
TOKYO_CENTRE = {"latitude": 35.68, "longitude": 139.77}  # Tokyo Station, approx.


@pytest.fixture(scope="module")
def epw_path(shared_data: Path) -> Path:
    return shared_data / "weather" / EPW_NAME


@pytest.fixture(scope="module")
def epw(epw_path: Path) -> tuple[pd.DataFrame, dict]:
    return read_epw(epw_path)


@pytest.fixture(scope="module")
def epw_raw_rows(epw_path: Path) -> list[list[str]]:
    """The EPW's 8,760 data rows, read with the csv module (independent of pvlib); 8 header lines precede."""
    with epw_path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[8:]


def read_open_meteo(path: Path) -> tuple[pd.DataFrame, dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the derived-irradiance warning is tested on its own
        return read_weather_csv(
            path,
            columns=OPEN_METEO_COLUMNS,
            units=OPEN_METEO_UNITS,
            timezone="Asia/Tokyo",
            time_column="time_local_JST",
            **TOKYO_CENTRE,
        )


@pytest.fixture(scope="module")
def open_meteo(shared_data: Path) -> tuple[pd.DataFrame, dict]:
    return read_open_meteo(shared_data / "weather" / OPEN_METEO_NAME)


# --- EPW ----------------------------------------------------------------------------------------------------


def test_epw_annual_ghi_matches_published_figure_and_raw_column(epw, epw_raw_rows):
    weather, _ = epw
    # EPW GHI is Wh/m2 over each hour = mean W/m2; Σ / 1000 = kWh/m2. Published: 1,306.8 kWh/m2 (DESIGN.md §7,
    # SOURCES.md); the figure is printed to 0.1, so allow 0.05.
    annual_kwh = weather["ghi"].sum() / 1000.0
    assert annual_kwh == pytest.approx(1306.8, abs=0.05)
    raw_kwh = sum(float(row[13]) for row in epw_raw_rows) / 1000.0  # field 14 of the EPW data line is GHI
    assert len(epw_raw_rows) == 8760
    assert annual_kwh == pytest.approx(raw_kwh, abs=1e-9)


def test_epw_mean_wind_matches_published_figure_and_raw_column(epw, epw_raw_rows):
    weather, metadata = epw
    assert weather["wind_speed"].mean() == pytest.approx(2.94, abs=0.005)  # published 2.94 m/s, to 0.01
    raw_mean = sum(float(row[21]) for row in epw_raw_rows) / len(epw_raw_rows)  # field 22 = wind speed
    assert weather["wind_speed"].mean() == pytest.approx(raw_mean, rel=1e-12)
    assert metadata["wind_height_m"] == 10.0


def test_epw_reproduces_monthly_table_of_design_doc(epw):
    weather, metadata = epw
    derived = monthly_climate_from_weather(weather, metadata)
    table = MONTHLY_CLIMATES["tokyo"]
    # The table is printed to 0.01 (GHI, wind) and 0.1 (temperature): a reproduction is within half of that.
    np.testing.assert_allclose(derived.ghi_kwh_per_m2_day, table.ghi_kwh_per_m2_day, atol=0.005 + 1e-9)
    np.testing.assert_allclose(derived.wind_speed_ms, table.wind_speed_ms, atol=0.005 + 1e-9)
    np.testing.assert_allclose(derived.temp_air_c, table.temp_air_c, atol=0.05 + 1e-9)


def test_epw_metadata_and_time_zone(epw):
    weather, metadata = epw
    assert (metadata["latitude"], metadata["longitude"], metadata["altitude"]) == (36.18, 140.42, 35.0)
    assert weather.index.tz is not None
    assert weather.index[0].utcoffset() == pd.Timedelta(hours=9)  # EPW header: TZ = +9.0
    assert pd.Timestamp("2020-01-01", tz=metadata["tz"]).utcoffset() == pd.Timedelta(hours=9)
    assert set(weather.columns) >= {"ghi", "dni", "dhi", "temp_air", "wind_speed", "pressure"}


def test_epw_hour_ending_rows_become_hour_starting_stamps(epw, epw_raw_rows):
    weather, _ = epw
    # EPW hour 1 covers 00:00-01:00; its stamp must be 00:00 and its GHI that of the raw row.
    assert (weather.index[0].hour, weather.index[12].hour) == (0, 12)
    assert weather["ghi"].iloc[12] == float(epw_raw_rows[12][13])
    # Solar noon at 140.42 E in JST (meridian 135 E) is 12:00 - 4 min/° x 5.42° = 11:38 (equation of time
    # averages ~0 over a year). The GHI-weighted mean time of day, with each hour at its middle, must sit
    # there: an hour-ending/-starting mix-up would move it by 60 min. Tolerance 15 min for weather asymmetry.
    middle_h = weather.index.hour + 0.5
    centroid_h = float((middle_h * weather["ghi"]).sum() / weather["ghi"].sum())
    assert centroid_h == pytest.approx(11 + 38.3 / 60, abs=0.25)


def test_epw_missing_data_code_is_a_data_error(epw_path: Path, tmp_path: Path):
    lines = epw_path.read_text().splitlines(keepends=True)
    fields = lines[8 + 100].split(",")
    fields[13] = "9999"  # GHI missing code (EnergyPlus Auxiliary Programs, EPW field table)
    lines[8 + 100] = ",".join(fields)
    bad = tmp_path / "missing.epw"
    bad.write_text("".join(lines))
    with pytest.raises(DataError, match=r"'ghi'.*9999"):
        read_epw(bad)


def test_readers_are_fast(epw_path: Path, shared_data: Path):
    start = time.perf_counter()
    read_epw(epw_path)
    assert time.perf_counter() - start < 2.0
    start = time.perf_counter()
    read_open_meteo(shared_data / "weather" / OPEN_METEO_NAME)  # 43,848 rows incl. irradiance derivation
    assert time.perf_counter() - start < 2.0


# --- TMY3 ---------------------------------------------------------------------------------------------------


def test_tmy3_reader_shifts_to_hour_start_and_converts_pressure():
    path = Path(pvlib.__file__).parent / "data" / "703165TY.csv"  # TMY3 sample shipped with pvlib
    weather, metadata = read_tmy3(path)
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, data = rows[1], rows[2:]
    ghi_raw = [float(r[header.index("GHI (W/m^2)")]) for r in data]
    pressure_mbar = [float(r[header.index("Pressure (mbar)")]) for r in data]
    assert weather["ghi"].sum() == pytest.approx(sum(ghi_raw), rel=1e-12)
    assert weather["pressure"].iloc[0] == pytest.approx(pressure_mbar[0] * 100.0)  # 1 mbar = 100 Pa
    # TMY3 stamps end their hour: the first row "01:00" covers 00:00-01:00 and must be stamped 00:00.
    assert data[0][header.index("Time (HH:MM)")] == "01:00"
    assert weather.index[0].hour == 0
    assert weather.index[0].utcoffset() == pd.Timestamp("2000-01-01", tz=metadata["tz"]).utcoffset()
    assert len(weather) == 8760


# --- CSV: the real Open-Meteo file --------------------------------------------------------------------------


def test_open_meteo_wind_is_converted_from_kmh(open_meteo, shared_data: Path):
    weather, metadata = open_meteo
    with (shared_data / "weather" / OPEN_METEO_NAME).open(newline="") as handle:
        raw = [float(row["windspeed_10m_kmh"]) for row in csv.DictReader(handle)]
    assert len(weather) == len(raw) == 43848
    assert weather["wind_speed"].mean() == pytest.approx(sum(raw) / len(raw) / 3.6, rel=1e-12)  # 1 m/s = 3.6 km/h
    assert str(weather.index.tz) == "Asia/Tokyo" and metadata["tz"] == "Asia/Tokyo"
    assert dt_hours(weather.index) == 1.0


def test_open_meteo_irradiance_is_derived_with_a_warning(shared_data: Path, open_meteo):
    with pytest.warns(UserWarning, match="derived from cloud cover"):
        read_weather_csv(
            shared_data / "weather" / OPEN_METEO_NAME,
            columns=OPEN_METEO_COLUMNS,
            units=OPEN_METEO_UNITS,
            timezone="Asia/Tokyo",
            time_column="time_local_JST",
            **TOKYO_CENTRE,
        )
    weather, metadata = open_meteo
    assert "derived from cloud cover" in metadata["source"]
    # the sun as the reader places it: middle of each hour, refraction at the file's air temperature
    position = solar_position(
        weather.index, altitude=metadata["altitude"], temp_air=weather["temp_air"], **TOKYO_CENTRE
    )
    clear = clear_sky_irradiance(weather.index, altitude=metadata["altitude"], position=position, **TOKYO_CENTRE)
    clear = clear["ghi"]
    # Larson et al. 2016: GHI = (0.35 + 0.65 (1 - cover)) x clear sky, hence 0.35 x clear <= GHI <= clear.
    assert (weather["ghi"] <= clear + 1e-9).all()
    assert (weather["ghi"] >= 0.35 * clear - 1e-9).all()
    cover = weather["cloud_cover"] / 100.0
    np.testing.assert_allclose(weather["ghi"], (0.35 + 0.65 * (1.0 - cover)) * clear, rtol=1e-9, atol=1e-9)
    # Erbs closes the balance GHI = DHI + DNI cos(zenith) wherever the sun is up (zenith < 87°).
    zenith = position["zenith"]
    up = zenith < 87
    closure = weather["dhi"] + weather["dni"] * np.cos(np.radians(zenith))
    np.testing.assert_allclose(closure[up], weather["ghi"][up], rtol=1e-9, atol=1e-6)
    # Plausibility of the derived annual sum against the measured-based typical year of nearby Hyakuri
    # (1,306.8 kWh/m2): a crude cloud model, so +-15 %.
    for year in range(2020, 2025):
        annual_kwh = weather.loc[str(year), "ghi"].sum() / 1000.0
        assert 0.85 * 1306.8 < annual_kwh < 1.15 * 1306.8


# --- CSV: errors for humans ---------------------------------------------------------------------------------

GOOD_ROWS = [
    ("2021-06-01T00:00", "0", "0", "0", "20.0", "10.8"),
    ("2021-06-01T01:00", "0", "0", "0", "19.5", "7.2"),
    ("2021-06-01T02:00", "0", "0", "0", "19.0", "3.6"),
    ("2021-06-01T03:00", "0", "0", "0", "18.8", "0.0"),
]
HEADER = ("time", "ghi", "dni", "dhi", "temp_air", "wind_kmh")
UNITS = {"ghi": "W/m2", "dni": "W/m2", "dhi": "W/m2", "temp_air": "degC", "wind_speed": "km/h"}


def write_csv(tmp_path: Path, rows, header=HEADER, name: str = "weather.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_small(path: Path, **kwargs):
    arguments = {"columns": {"wind_kmh": "wind_speed"}, "units": UNITS, "timezone": "Asia/Tokyo"}
    arguments.update(kwargs)
    return read_weather_csv(path, **arguments)


def test_small_csv_reads_and_converts(tmp_path: Path):
    weather, metadata = read_small(write_csv(tmp_path, GOOD_ROWS))
    np.testing.assert_allclose(weather["wind_speed"], [3.0, 2.0, 1.0, 0.0])  # 10.8 km/h / 3.6 = 3 m/s
    assert weather.index[0] == pd.Timestamp("2021-06-01 00:00", tz="Asia/Tokyo")
    assert metadata["source"].startswith("CSV weather.csv")


@pytest.mark.parametrize(
    ("unit", "raw", "celsius"),
    [("K", "293.15", 20.0), ("degF", "68.0", 20.0), ("degC", "20.0", 20.0)],  # 68 °F = (68 - 32) x 5/9 °C
)
def test_temperature_units_are_converted(tmp_path: Path, unit: str, raw: str, celsius: float):
    rows = [(*r[:4], raw, r[5]) for r in GOOD_ROWS]
    weather, _ = read_small(write_csv(tmp_path, rows), units={**UNITS, "temp_air": unit})
    np.testing.assert_allclose(weather["temp_air"], celsius, rtol=1e-12)


def test_missing_unit_names_the_column(tmp_path: Path):
    units = {k: v for k, v in UNITS.items() if k != "wind_speed"}
    with pytest.raises(DataError, match=r"weather\.csv.*'wind_kmh' \(wind_speed\) has no unit.*km/h"):
        read_small(write_csv(tmp_path, GOOD_ROWS), units=units)


def test_unknown_unit_names_column_and_value(tmp_path: Path):
    with pytest.raises(DataError, match=r"'wind_kmh' \(wind_speed\) has unknown unit 'mph'.*allowed.*m/s"):
        read_small(write_csv(tmp_path, GOOD_ROWS), units={**UNITS, "wind_speed": "mph"})


def test_text_value_names_column_line_and_value(tmp_path: Path):
    rows = [*GOOD_ROWS]
    rows[2] = (*rows[2][:5], "calm")
    with pytest.raises(DataError, match=r"weather\.csv: column 'wind_kmh' \(wind_speed\), line 4: value 'calm'"):
        read_small(write_csv(tmp_path, rows))


def test_missing_hour_is_a_gap(tmp_path: Path):
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[3]]  # 02:00 missing
    with pytest.raises(DataError, match=r"rows 3 and 4 \(2021-06-01 01:00:00\+09:00 -> 2021-06-01 03:00:00"):
        read_small(write_csv(tmp_path, rows))


def test_empty_cell_is_a_gap(tmp_path: Path):
    rows = [*GOOD_ROWS]
    rows[1] = (*rows[1][:4], "", rows[1][5])
    with pytest.raises(DataError, match=r"column 'temp_air' \(temp_air\), line 3: value is empty"):
        read_small(write_csv(tmp_path, rows))


def test_naive_times_need_a_time_zone(tmp_path: Path):
    with pytest.raises(DataError, match="timezone"):
        read_small(write_csv(tmp_path, GOOD_ROWS), timezone=None)


def test_bad_time_and_unknown_column_are_named(tmp_path: Path):
    rows = [*GOOD_ROWS]
    rows[3] = ("June 1st", *rows[3][1:])
    with pytest.raises(DataError, match=r"column 'time', line 5: value 'June 1st' is not a time"):
        read_small(write_csv(tmp_path, rows))
    with pytest.raises(DataError, match=r"'windspeed'.*not found.*wind_kmh"):
        read_small(write_csv(tmp_path, GOOD_ROWS), columns={"windspeed": "wind_speed"})


def test_cloud_cover_out_of_range_is_named(tmp_path: Path):
    header = ("time", "cloud_cover", "temp_air", "wind_kmh")
    rows = [(r[0], "50", r[4], r[5]) for r in GOOD_ROWS]
    rows[1] = (rows[1][0], "130", rows[1][2], rows[1][3])
    with pytest.raises(DataError, match=r"'cloud_cover'.*line 3: value 130.0 is out of range"):
        read_small(
            write_csv(tmp_path, rows, header=header),
            units={"cloud_cover": "%", "temp_air": "degC", "wind_speed": "km/h"},
            latitude=35.68,
            longitude=139.77,
        )


# --- sampling -----------------------------------------------------------------------------------------------


def test_check_regular_and_dt_hours():
    quarter = pd.date_range("2021-01-01", periods=8, freq="15min", tz="UTC")
    assert check_regular(quarter) == pd.Timedelta(minutes=15)
    assert dt_hours(quarter) == 0.25
    with pytest.raises(DataError, match="no time zone"):
        check_regular(quarter.tz_localize(None))
    with pytest.raises(DataError, match="not regularly sampled"):
        check_regular(quarter.delete(3))
    leap = pd.date_range("2024-02-28", "2024-03-02", freq="h", inclusive="left", tz="Asia/Tokyo")
    no_feb29 = leap[leap.day != 29]
    with pytest.raises(DataError, match="not regularly sampled"):
        check_regular(no_feb29)
    assert check_regular(no_feb29, allow_leap_day_gap=True) == pd.Timedelta(hours=1)
    assert dt_hours(no_feb29) == 1.0


def test_solar_position_is_taken_at_the_middle_of_each_hour():
    index = pd.date_range("2023-06-21 00:00", periods=24, freq="h", tz="Asia/Tokyo")
    ours = solar_position(index, 36.18, 140.42, 35.0)
    pvlib_mid = pvlib.solarposition.get_solarposition(index + pd.Timedelta(minutes=30), 36.18, 140.42, 35.0)
    np.testing.assert_allclose(ours["zenith"], pvlib_mid["zenith"], atol=1e-9)
