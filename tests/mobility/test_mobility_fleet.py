"""Fleet assignment: hand-derived cases for each unserved reason, sizing = maximum overlap, and the guarantee
that every served booking is feasible when vehicles charge as soon as possible."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from chisan.exceptions import DataError, ScenarioError
from chisan.mobility import UnservedBookingsWarning, assign_bookings, generate_bookings, vehicle_timeseries

TZ = "Asia/Tokyo"
# usable 20 kWh, reserve 2 kWh, 3 kW at the plug × 0.9 = 2.7 kWh per hour into the battery
BATTERY = {"usable_kwh": 20.0, "reserve_kwh": 2.0, "charge_power_kw": 3.0, "charge_efficiency": 0.9}


def _assign(bookings, energy, **kwargs):
    params = {**BATTERY, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnservedBookingsWarning)
        return assign_bookings(bookings, pd.Series(energy, index=bookings.index, dtype=float), **params)


def test_three_bookings_served_by_one_vehicle(make_bookings):
    bookings = make_bookings(
        [
            ("b1", "s", "2024-01-01 02:00", "2024-01-01 04:00", 10),
            ("b2", "s", "2024-01-01 05:30", "2024-01-01 06:15", 5),
            ("b3", "s", "2024-01-01 10:00", "2024-01-01 10:30", 20),
        ]
    )
    result = _assign(bookings, [2.0, 1.5, 3.0], vehicles_per_station={"s": 1})
    assert result.bookings["vehicle_id"].tolist() == ["s-01"] * 3
    assert result.unserved_count == 0
    # energy at start, charging as soon as possible (continuous time):
    # b1: full 20; returns 18 at 04:00; b2 at 05:30: min(20, 18 + 2.7 × 1.5) = 20; returns 18.5 at 06:15;
    # b3 at 10:00: min(20, 18.5 + 2.7 × 3.75) = 20
    assert result.bookings["energy_at_start_kwh"].tolist() == pytest.approx([20.0, 20.0, 20.0])
    assert result.vehicles.to_dict("records") == [
        {"vehicle_id": "s-01", "station": "s", "bookings_served": 3, "distance_km": 35.0}
    ]


def test_trip_exceeding_battery_is_unserved_with_reason(make_bookings):
    bookings = make_bookings(
        [
            ("big", "s", "2024-01-01 08:00", "2024-01-01 12:00", 200),
            ("edge", "s", "2024-01-02 08:00", "2024-01-02 12:00", 190),
        ]
    )
    # big needs 18.5 + 2 = 20.5 > 20 usable; edge needs 18 + 2 = 20 = usable exactly → served
    result = _assign(bookings, [18.5, 18.0], vehicles_per_station={"s": 3})
    assert result.bookings["unserved_reason"].tolist()[0] == "trip_exceeds_battery"
    assert pd.isna(result.bookings.loc[0, "vehicle_id"])
    assert result.bookings.loc[1, "vehicle_id"] == "s-01"
    assert result.unserved_by_reason.to_dict() == {
        "no_vehicle_free": 0,
        "trip_exceeds_battery": 1,
        "not_enough_time_to_charge": 0,
    }


def test_two_overlapping_bookings_at_one_vehicle_station(make_bookings):
    bookings = make_bookings(
        [
            ("later", "s", "2024-01-01 10:00", "2024-01-01 12:00", 5),
            ("first", "s", "2024-01-01 09:00", "2024-01-01 11:00", 5),
        ]
    )
    with pytest.warns(UnservedBookingsWarning, match="1 of 2 bookings could not be served"):
        result = assign_bookings(bookings, pd.Series([1.0, 1.0]), vehicles_per_station={"s": 1}, **BATTERY)
    # bookings are taken in start order: "first" (09:00) gets the vehicle, "later" (10:00) finds none free
    assert result.bookings["vehicle_id"].isna().tolist() == [True, False]
    assert result.bookings.loc[0, "unserved_reason"] == "no_vehicle_free"
    assert result.served_count == 1 and result.unserved_count == 1


@pytest.mark.parametrize(
    ("second_start", "served", "energy_at_start"),
    [
        # b1 returns at 10:00 with 20 − 10 = 10 kWh; b2 needs 12 + 2 = 14 kWh.
        ("11:00", False, None),  # 1 h: 10 + 2.7 × 1 = 12.7 < 14
        ("13:00", True, 18.1),  # 2 h more (3 h): 10 + 2.7 × 3 = 18.1 ≥ 14
        ("11:25", False, None),  # minimum wait (14 − 10) / 2.7 = 1.481 h = 1 h 28.9 min; 1 h 25 min → 13.825
        ("11:30", True, 14.05),  # 1.5 h → 10 + 4.05 = 14.05 ≥ 14
    ],
)
def test_not_enough_time_to_charge(make_bookings, second_start, served, energy_at_start):
    bookings = make_bookings(
        [
            ("b1", "s", "2024-01-01 08:00", "2024-01-01 10:00", 80),
            ("b2", "s", f"2024-01-01 {second_start}", "2024-01-01 18:00", 100),
        ]
    )
    result = _assign(bookings, [10.0, 12.0], vehicles_per_station={"s": 1})
    row = result.bookings.loc[1]
    if served:
        assert row["vehicle_id"] == "s-01"
        assert row["energy_at_start_kwh"] == pytest.approx(energy_at_start, abs=1e-9)
    else:
        assert pd.isna(row["vehicle_id"])
        assert row["unserved_reason"] == "not_enough_time_to_charge"


def test_charging_counted_in_whole_steps_when_dt_given(make_bookings):
    # Same vehicle as above, b2 at 11:30. Continuous time: 1.5 h of charging → 14.05 ≥ 14, served.
    # Hourly steps: charging only in whole steps plugged in: from ⌈10:00⌉ = 10:00 to ⌊11:30⌋ = 11:00 → one
    # step → 12.7 < 14, unserved. At 12:00: two steps → 15.4, served.
    rows = [("b1", "s", "2024-01-01 08:00", "2024-01-01 10:00", 80)]
    at_1130 = make_bookings([*rows, ("b2", "s", "2024-01-01 11:30", "2024-01-01 18:00", 100)])
    at_1200 = make_bookings([*rows, ("b2", "s", "2024-01-01 12:00", "2024-01-01 18:00", 100)])
    assert _assign(at_1130, [10.0, 12.0], vehicles_per_station={"s": 1}).unserved_count == 0
    stepped = _assign(at_1130, [10.0, 12.0], vehicles_per_station={"s": 1}, dt_hours=1.0)
    assert stepped.bookings.loc[1, "unserved_reason"] == "not_enough_time_to_charge"
    later = _assign(at_1200, [10.0, 12.0], vehicles_per_station={"s": 1}, dt_hours=1.0)
    assert later.bookings.loc[1, "energy_at_start_kwh"] == pytest.approx(15.4, abs=1e-9)


def test_most_charged_vehicle_is_taken(make_bookings):
    bookings = make_bookings(
        [
            ("b1", "s", "2024-01-01 08:00", "2024-01-01 09:00", 50),  # both full: tie → s-01
            (
                "b2",
                "s",
                "2024-01-01 10:00",
                "2024-01-01 11:00",
                5,
            ),  # s-01 holds 10 + 2.7 = 12.7, s-02 20 → s-02
            (
                "b3",
                "s",
                "2024-01-01 12:00",
                "2024-01-01 13:00",
                5,
            ),  # s-01: 10 + 2.7 × 3 = 18.1; s-02: 20 → s-02
        ]
    )
    result = _assign(bookings, [10.0, 1.0, 1.0], vehicles_per_station={"s": 2})
    assert result.bookings["vehicle_id"].tolist() == ["s-01", "s-02", "s-02"]


def _max_overlap(starts_h: np.ndarray, ends_h: np.ndarray) -> int:
    """Independent sweep line: most intervals [start, end) open at once (an end at t frees a start at t)."""
    events = sorted([(e, -1) for e in ends_h] + [(s, +1) for s in starts_h])
    level = best = 0
    for _, step in events:
        level += step
        best = max(best, level)
    return best


def test_sizing_returns_the_maximum_overlap(make_bookings):
    rows = [
        ("a", "s", "2024-01-01 00:00", "2024-01-01 03:00", 1),
        ("b", "s", "2024-01-01 01:00", "2024-01-01 04:00", 1),
        ("c", "s", "2024-01-01 02:00", "2024-01-01 05:00", 1),
        ("d", "s", "2024-01-01 03:30", "2024-01-01 06:00", 1),
    ]
    bookings = make_bookings(rows)
    # at 02:00–03:00 a, b, c overlap → 3; at 03:30 b, c, d → 3; a frees at 03:00 and serves d
    assert _assign(bookings, [0.0] * 4).vehicles_per_station.to_dict() == {"s": 3}
    # with 60 min turnaround a is busy until 04:00 → at 03:30 all four are blocked → 4
    assert _assign(bookings, [0.0] * 4, turnaround_min=60).vehicles_per_station.to_dict() == {"s": 4}
    # a cap of 2: a → s-01, b → s-02, c (02:00) finds both busy → unserved; d (03:30) takes s-01, free since
    # 03:00
    capped = _assign(bookings, [0.0] * 4, max_vehicles_per_station=2)
    assert capped.vehicles_per_station.to_dict() == {"s": 2}
    assert capped.bookings["vehicle_id"].isna().tolist() == [False, False, True, False]
    assert capped.unserved_by_reason["no_vehicle_free"] == 1

    # random bookings: sizing without energy limits equals the sweep-line maximum overlap at every station
    generated = generate_bookings(
        stations=["x", "y"], members=300, bookings_per_member_per_month=4.0,
        start=pd.Timestamp("2024-05-01", tz=TZ), end=pd.Timestamp("2024-06-01", tz=TZ), seed=11,
    )  # fmt: skip
    sized = _assign(generated, np.zeros(len(generated)))
    origin = pd.Timestamp("2024-05-01", tz=TZ)
    for station, group in generated.groupby("station"):
        starts = ((group["start"] - origin) / pd.Timedelta(hours=1)).to_numpy()
        ends = ((group["end"] - origin) / pd.Timedelta(hours=1)).to_numpy()
        assert sized.vehicles_per_station[station] == _max_overlap(starts, ends)
    assert sized.unserved_count == 0


def test_capped_case_reasons_are_derived(make_bookings):
    # a 00–03, b 01–04, c 02–05 with two vehicles: a → v1, b → v2, c: both busy → no_vehicle_free;
    # d 03:30–06: v1 free since 03:00 → served
    bookings = make_bookings(
        [
            ("a", "s", "2024-01-01 00:00", "2024-01-01 03:00", 1),
            ("b", "s", "2024-01-01 01:00", "2024-01-01 04:00", 1),
            ("c", "s", "2024-01-01 02:00", "2024-01-01 05:00", 1),
            ("d", "s", "2024-01-01 03:30", "2024-01-01 06:00", 1),
        ]
    )
    result = _assign(bookings, [0.0] * 4, vehicles_per_station={"s": 2})
    assert result.bookings["vehicle_id"].fillna("-").tolist() == ["s-01", "s-02", "-", "s-01"]
    assert result.bookings.loc[2, "unserved_reason"] == "no_vehicle_free"


def test_fixed_fleet_never_overlaps_and_respects_turnaround():
    bookings = generate_bookings(
        stations=["x", "y", "z"], members=600, bookings_per_member_per_month=3.0,
        start=pd.Timestamp("2024-07-01", tz=TZ), end=pd.Timestamp("2024-08-01", tz=TZ), seed=5,
    )  # fmt: skip
    result = _assign(
        bookings, np.full(len(bookings), 3.0), vehicles_per_station={"x": 4, "y": 4, "z": 4, "idle": 2},
        turnaround_min=15,
    )  # fmt: skip
    assert result.served_count + result.unserved_count == len(bookings)
    assert result.unserved_by_reason.sum() == result.unserved_count
    assert result.vehicles_per_station.to_dict() == {"idle": 2, "x": 4, "y": 4, "z": 4}
    served = result.bookings.dropna(subset=["vehicle_id"])
    assert (served["vehicle_id"].str.rsplit("-", n=1).str[0] == served["station"]).all()
    for _, trips in served.sort_values("start").groupby("vehicle_id"):
        gaps = trips["start"].iloc[1:].to_numpy() - trips["end"].iloc[:-1].to_numpy()
        assert (gaps >= pd.Timedelta(minutes=15)).all()


def test_served_bookings_are_feasible_when_charging_as_soon_as_possible():
    """Independent check of the guarantee on the hourly grid the plan uses: simulate every vehicle step by
    step, charging at full power whenever plugged in, and check energy ≥ reserve after every step."""
    bookings = generate_bookings(
        stations=["x", "y"], members=400, bookings_per_member_per_month=4.0, mean_speed_kmh=25.0,
        start=pd.Timestamp("2024-01-01", tz=TZ), end=pd.Timestamp("2024-02-01", tz=TZ), seed=2,
    )  # fmt: skip
    energy = bookings["distance_km"] * 0.13
    snapshots = pd.date_range("2024-01-01", "2024-02-01", freq="h", tz=TZ, inclusive="left")
    for fleet in ({"x": 4, "y": 4}, None):
        result = _assign(bookings, energy, vehicles_per_station=fleet, dt_hours=1.0, step_origin=snapshots[0])
        assert result.served_count > 0.5 * len(bookings)
        series = vehicle_timeseries(result, snapshots, 1.0)
        plugged = series.plugged.to_numpy()
        trips = series.trip_energy_kwh.to_numpy()
        level = np.full(plugged.shape[1], BATTERY["usable_kwh"])  # vehicles start full
        lowest = np.inf
        for step in range(len(snapshots)):
            level = np.minimum(BATTERY["usable_kwh"], level + plugged[step] * 3.0 * 0.9 * 1.0) - trips[step]
            lowest = min(lowest, level.min())
        assert lowest >= BATTERY["reserve_kwh"] - 1e-9
    # the small fleet leaves bookings unserved for each time-related reason
    small = _assign(bookings, energy, vehicles_per_station={"x": 4, "y": 4}, dt_hours=1.0)
    reasons = small.unserved_by_reason
    assert reasons["no_vehicle_free"] > 0 and reasons["not_enough_time_to_charge"] > 0


def test_parameter_and_station_errors(make_bookings):
    bookings = make_bookings([("a", "north", "2024-01-01 00:00", "2024-01-01 03:00", 1)])
    with pytest.raises(ScenarioError, match=r"no entry for station\(s\) \['north'\]"):
        _assign(bookings, [1.0], vehicles_per_station={"south": 1})
    with pytest.raises(ScenarioError, match=r"reserve_kwh = 25\.0 is not allowed"):
        _assign(bookings, [1.0], reserve_kwh=25.0)
    with pytest.raises(ScenarioError, match=r"charge_efficiency = 1\.5"):
        _assign(bookings, [1.0], charge_efficiency=1.5)


def test_trip_energy_aligned_by_index_or_booking_id(make_bookings):
    bookings = make_bookings(
        [
            ("b1", "s", "2024-01-01 08:00", "2024-01-01 09:00", 10),
            ("b2", "s", "2024-01-01 10:00", "2024-01-01 11:00", 10),
        ]
    )
    by_id = pd.Series({"b2": 5.0, "b1": 1.0})  # other order, keyed by booking id
    result = assign_bookings(bookings, by_id, vehicles_per_station={"s": 1}, **BATTERY)
    assert result.bookings["trip_energy_kwh"].tolist() == [1.0, 5.0]
    with pytest.raises(DataError, match="indexed like the bookings"):
        assign_bookings(bookings, pd.Series({"b1": 1.0, "zz": 2.0}), vehicles_per_station={"s": 1}, **BATTERY)
    with pytest.raises(DataError, match="trip_energy_kwh of booking 'b2' is nan"):
        assign_bookings(bookings, pd.Series([1.0, np.nan]), vehicles_per_station={"s": 1}, **BATTERY)


def test_unserved_warning_points_to_the_bookings_file(make_bookings):
    """The warning names the file and column a user of chisan plan can open, not a Python attribute."""
    bookings = make_bookings(
        [
            ("later", "s", "2024-01-01 10:00", "2024-01-01 12:00", 5),
            ("first", "s", "2024-01-01 09:00", "2024-01-01 11:00", 5),
        ]
    )
    with pytest.warns(UnservedBookingsWarning) as caught:
        assign_bookings(bookings, pd.Series([1.0, 1.0]), vehicles_per_station={"s": 1}, **BATTERY)
    message = str(caught[0].message)
    assert "see bookings.csv, column unserved_reason" in message
    assert "FleetAssignment" not in message and "['" not in message
