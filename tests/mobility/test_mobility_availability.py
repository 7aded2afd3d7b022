"""Per-vehicle series: hand-written plug-in mask and trip energies, clipping at the horizon, speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from chisan.exceptions import DataError
from chisan.mobility import FleetAssignment, assign_bookings, bookings_per_step, vehicle_timeseries

TZ = "Asia/Tokyo"
BATTERY = {"usable_kwh": 20.0, "reserve_kwh": 2.0, "charge_power_kw": 3.0, "charge_efficiency": 0.9}


def test_three_bookings_give_the_written_out_mask_and_energies(make_bookings):
    bookings = make_bookings(
        [
            ("b1", "s", "2024-01-01 02:00", "2024-01-01 04:00", 10),  # steps 2, 3 (end on a boundary)
            ("b2", "s", "2024-01-01 05:30", "2024-01-01 06:15", 5),  # ⌊05:30⌋ = 5 to ⌈06:15⌉ = 7 → steps 5, 6
            ("b3", "s", "2024-01-01 10:00", "2024-01-01 10:30", 20),  # step 10
        ]
    )
    energy = pd.Series([2.0, 1.5, 3.0], index=bookings.index)
    assignment = assign_bookings(bookings, energy, vehicles_per_station={"s": 1, "t": 1}, **BATTERY)
    snapshots = pd.date_range("2024-01-01", periods=12, freq="h", tz=TZ)
    series = vehicle_timeseries(assignment, snapshots, 1.0)

    #                         0  1  2  3  4  5  6  7  8  9 10 11
    plugged = np.array([1, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1], dtype=bool)
    trip = np.array([0, 0, 2.0, 0, 0, 1.5, 0, 0, 0, 0, 3.0, 0])
    departures = trip > 0
    assert list(series.plugged.columns) == ["s-01", "t-01"]
    np.testing.assert_array_equal(series.plugged["s-01"].to_numpy(), plugged)
    np.testing.assert_array_equal(series.trip_energy_kwh["s-01"].to_numpy(), trip)
    np.testing.assert_array_equal(series.departures["s-01"].to_numpy(), departures)
    # the idle vehicle of station t is plugged in all the time and never drives
    assert series.plugged["t-01"].all() and series.trip_energy_kwh["t-01"].eq(0).all()
    assert series.plugged.index.equals(snapshots)


def test_quarter_hour_steps_and_two_starts_in_one_step(make_bookings):
    bookings = make_bookings(
        [
            ("b1", "s", "2024-01-01 00:05", "2024-01-01 00:20", 1),  # steps 0 (00:00) and 1 (00:15)
            ("b2", "s", "2024-01-01 00:25", "2024-01-01 00:40", 1),  # ⌊00:25⌋ = step 1 → ⌈00:40⌉ = step 3
        ]
    )
    energy = pd.Series([0.5, 0.25], index=bookings.index)
    assignment = assign_bookings(bookings, energy, vehicles_per_station={"s": 1}, **BATTERY)
    snapshots = pd.date_range("2024-01-01", periods=5, freq="15min", tz=TZ)
    series = vehicle_timeseries(assignment, snapshots, 0.25)
    np.testing.assert_array_equal(series.plugged["s-01"].to_numpy(), [False, False, False, True, True])
    np.testing.assert_array_equal(series.trip_energy_kwh["s-01"].to_numpy(), [0.5, 0.25, 0, 0, 0])


def test_bookings_crossing_the_horizon_are_clipped(make_bookings):
    bookings = make_bookings(
        [
            ("early", "s", "2023-12-31 22:00", "2024-01-01 02:00", 10),  # left before the horizon
            ("late", "s", "2024-01-01 10:00", "2024-01-01 15:00", 10),  # runs past the last step
        ]
    )
    assignment = assign_bookings(bookings, pd.Series([1.0, 2.0]), vehicles_per_station={"s": 1}, **BATTERY)
    snapshots = pd.date_range("2024-01-01", periods=12, freq="h", tz=TZ)
    with pytest.warns(UserWarning, match="1 served bookings start before the first snapshot"):
        series = vehicle_timeseries(assignment, snapshots, 1.0)
    expected = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], dtype=bool)
    np.testing.assert_array_equal(series.plugged["s-01"].to_numpy(), expected)
    assert series.trip_energy_kwh["s-01"].sum() == 2.0  # only "late" starts inside


def test_bookings_per_step_counts_starts(make_bookings):
    bookings = make_bookings(
        [
            ("a", "north", "2024-01-01 01:10", "2024-01-01 02:00", 1),
            ("b", "north", "2024-01-01 01:50", "2024-01-01 03:00", 1),
            ("c", "south", "2024-01-01 03:00", "2024-01-01 04:00", 1),
        ]
    )
    snapshots = pd.date_range("2024-01-01", periods=4, freq="h", tz=TZ)
    counts = bookings_per_step(bookings, snapshots, 1.0)
    assert counts.to_dict("list") == {"north": [0, 2, 0, 0], "south": [0, 0, 0, 1]}


def test_irregular_snapshots_rejected(make_bookings):
    bookings = make_bookings([("a", "s", "2024-01-01 01:00", "2024-01-01 02:00", 1)])
    assignment = assign_bookings(bookings, pd.Series([1.0]), vehicles_per_station={"s": 1}, **BATTERY)
    snapshots = pd.date_range("2024-01-01", periods=6, freq="h", tz=TZ).delete(3)
    with pytest.raises(DataError, match=r"regular with steps of dt_hours = 1\.0 h"):
        vehicle_timeseries(assignment, snapshots, 1.0)
    with pytest.raises(DataError, match="tz-aware"):
        vehicle_timeseries(assignment, pd.date_range("2024-01-01", periods=6, freq="h"), 1.0)


def test_speed_30_vehicles_8760_hours_15000_bookings():
    """30 vehicles × 8,760 h × 15,000 bookings must take < 0.5 s (brief); best of 3 runs (noisy machine)."""
    rng = np.random.default_rng(0)
    n, vehicles = 15_000, [f"s-{k:02d}" for k in range(1, 31)]
    start = pd.Timestamp("2024-01-01", tz=TZ) + pd.to_timedelta(rng.uniform(0, 8_700, n), unit="h")
    bookings = pd.DataFrame(
        {
            "booking_id": [f"B{i}" for i in range(n)],
            "station": "s",
            "start": start,
            "end": start + pd.to_timedelta(rng.uniform(0.5, 6, n), unit="h"),
            "distance_km": 10.0,
            "trip_energy_kwh": rng.uniform(0.5, 5, n),
            "vehicle_id": pd.array(rng.choice(vehicles, n), dtype="string"),
        }
    )
    assignment = FleetAssignment(
        bookings=bookings,
        vehicles=pd.DataFrame({"vehicle_id": vehicles, "station": "s"}),
        usable_kwh=20.0, reserve_kwh=2.0, charge_power_kw=3.0, charge_efficiency=0.9, turnaround_min=0.0,
    )  # fmt: skip
    snapshots = pd.date_range("2024-01-01", periods=8_760, freq="h", tz=TZ)
    timings = []
    for _ in range(3):
        tic = time.perf_counter()
        series = vehicle_timeseries(assignment, snapshots, 1.0)
        timings.append(time.perf_counter() - tic)
    assert min(timings) < 0.5, timings
    assert series.plugged.shape == (8_760, 30)
    # all trip energy starting inside the year is booked: Σ over the frame = Σ over bookings
    assert series.trip_energy_kwh.to_numpy().sum() == pytest.approx(bookings["trip_energy_kwh"].sum())
