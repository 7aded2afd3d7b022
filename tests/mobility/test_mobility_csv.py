"""Reading bookings from CSV: time zones, round trip, and one clear message per kind of bad row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from chisan.exceptions import DataError
from chisan.mobility.bookings import generate_bookings, read_bookings_csv

TZ = "Asia/Tokyo"
HEADER = "booking_id,station,start,end,distance_km\n"
PERIOD = (pd.Timestamp("2024-01-01", tz=TZ), pd.Timestamp("2025-01-01", tz=TZ))
STATIONS = ["ekimae", "shiyakusho"]


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "bookings.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def _read(path: Path, **kwargs) -> pd.DataFrame:
    params = {"timezone": TZ, "period": PERIOD, "stations": STATIONS}
    params.update(kwargs)
    return read_bookings_csv(path, **params)


def test_round_trip_of_generated_bookings(tmp_path):
    bookings = generate_bookings(
        stations=STATIONS, members=50, bookings_per_member_per_month=2.0, start=PERIOD[0],
        end=pd.Timestamp("2024-02-01", tz=TZ), seed=3,
    )  # fmt: skip
    path = tmp_path / "generated.csv"
    bookings.to_csv(path, index=False)  # pandas writes "2024-01-01 09:15:00+09:00"
    back = _read(path)
    assert list(back["booking_id"]) == list(bookings["booking_id"])
    assert (back["start"] == bookings["start"]).all() and (back["end"] == bookings["end"]).all()
    pd.testing.assert_series_equal(back["distance_km"], bookings["distance_km"])
    assert list(back["member_id"]) == list(bookings["member_id"])
    assert str(back["start"].dtype) == f"datetime64[ns, {TZ}]"


def test_naive_times_are_local_offsets_are_kept(tmp_path):
    path = _write(
        tmp_path,
        "a,ekimae,2024-04-01 09:00,2024-04-01 11:30,12.5\n"
        "b,ekimae,2024-04-01T00:00:00Z,2024-04-01T02:30+00:00,3\n"
        "c,shiyakusho,2024/04/01 09:00,2024/04/01 10:00,0\n",
    )
    bookings = _read(path)
    # naive 09:00 in Tokyo (UTC+9) is 00:00 UTC; the "Z" string is the same instant
    nine_jst = pd.Timestamp("2024-04-01 00:00", tz="UTC")
    assert bookings.loc[0, "start"] == nine_jst
    assert bookings.loc[1, "start"] == nine_jst
    assert bookings.loc[2, "start"] == nine_jst
    assert bookings.loc[1, "end"].hour == 11  # shown in Tokyo time
    assert bookings["distance_km"].tolist() == [12.5, 3.0, 0.0]


def _error(tmp_path: Path, body: str, header: str = HEADER, **kwargs) -> str:
    path = _write(tmp_path, body, header)
    with pytest.raises(DataError) as err:
        _read(path, **kwargs)
    message = str(err.value)
    assert str(path) in message
    return message


def test_missing_column_named(tmp_path):
    message = _error(tmp_path, "a,ekimae,2024-04-01 09:00,12.5\n", header="booking_id,station,start,distance_km\n")
    assert "missing column(s) ['end']" in message
    assert "['booking_id', 'station', 'start', 'distance_km']" in message  # what was found


def test_unparsable_time_names_row_column_value(tmp_path):
    message = _error(
        tmp_path, "a,ekimae,2024-04-01 09:00,2024-04-01 10:00,1\nb,ekimae,tomorrow 9am,2024-04-02 10:00,1\n"
    )
    assert "row 2 (line 3), column 'start': 'tomorrow 9am' is not a readable time" in message
    assert "ISO 8601" in message


def test_end_not_after_start(tmp_path):
    message = _error(tmp_path, "a,ekimae,2024-04-01 09:00,2024-04-01 09:00,1\n")
    assert "row 1 (line 2), column 'end': '2024-04-01 09:00' is not after the start" in message


def test_negative_and_non_numeric_distance(tmp_path):
    message = _error(
        tmp_path,
        "a,ekimae,2024-04-01 09:00,2024-04-01 10:00,-3\nb,ekimae,2024-04-01 09:00,2024-04-01 10:00,ten\n",
    )
    assert "row 1 (line 2), column 'distance_km': '-3' is negative; a distance must be ≥ 0 km" in message
    assert "row 2 (line 3), column 'distance_km': 'ten' is not a number" in message
    assert "2 problem(s)" in message  # all problems reported together


def test_unknown_station_lists_valid_names(tmp_path):
    message = _error(tmp_path, "a,ekimea,2024-04-01 09:00,2024-04-01 10:00,1\n")
    assert "row 1 (line 2), column 'station': 'ekimea' is not a station of the scenario" in message
    assert "did you mean 'ekimae'?" in message
    assert "valid stations: ekimae, shiyakusho" in message


def test_booking_outside_period_says_the_period(tmp_path):
    message = _error(tmp_path, "a,ekimae,2024-12-31 22:00,2025-01-01 01:00,1\n")
    assert "row 1 (line 2), column 'end': '2025-01-01 01:00' lies after the planning period" in message
    assert "[2024-01-01 00:00:00+09:00, 2025-01-01 00:00:00+09:00)" in message


def test_duplicate_id_names_first_row(tmp_path):
    message = _error(
        tmp_path,
        "x1,ekimae,2024-04-01 09:00,2024-04-01 10:00,1\n"
        "x2,ekimae,2024-04-01 09:00,2024-04-01 10:00,1\n"
        "x1,ekimae,2024-04-02 09:00,2024-04-02 10:00,1\n",
    )
    assert "row 3 (line 4), column 'booking_id': 'x1' duplicates the booking id of row 1" in message


def test_nonexistent_local_time_in_dst_gap(tmp_path):
    # 2024-03-10 02:30 does not exist in Los Angeles (clocks jump from 02:00 to 03:00)
    message = _error(
        tmp_path,
        "a,ekimae,2024-03-10 02:30,2024-03-10 05:00,1\n",
        timezone="America/Los_Angeles",
        period=None,
    )
    assert "column 'start': '2024-03-10 02:30' does not exist or is ambiguous in America/Los_Angeles" in message


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="bookings file not found"):
        _read(tmp_path / "nope.csv")
