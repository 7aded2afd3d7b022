"""Requests from CSV (and their errors), from bookings, and the export in the plan's availability shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chisan.autonomous import (
    FleetConfig,
    away_periods,
    charging_windows,
    read_requests_csv,
    requests_from_bookings,
    simulate,
    vehicle_series,
    zone_grid,
)  # fmt: skip
from chisan.autonomous.export import plan_vehicles
from chisan.exceptions import DataError
from chisan.mobility.bookings import generate_bookings

TZ = "Asia/Tokyo"
ORIGIN = pd.Timestamp("2025-06-02", tz=TZ)
GRID = zone_grid(36.18, 140.42, radius_km=2.0)


def test_requests_csv_with_zones_and_with_coordinates(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("time,origin_zone,destination_zone\n2025-06-02 08:00,0,9\n2025-06-02 07:30,5,5\n")
    req = read_requests_csv(path, GRID, timezone=TZ, origin=ORIGIN)
    np.testing.assert_allclose(req.time_min, [450.0, 480.0])  # sorted by time
    cx, _cy = GRID.centres_km()
    assert req.origin_x_km[1] == pytest.approx(cx[0]) and req.destination_x_km[1] == pytest.approx(cx[9])
    path.write_text(
        "time,origin_lat,origin_lon,destination_lat,destination_lon\n2025-06-02 08:00,36.18,140.42,36.19,140.43\n"
    )
    req = read_requests_csv(path, GRID, timezone=TZ, origin=ORIGIN)
    # 0.01° of latitude is 1.112 km (6371 km × π / 180 / 100)
    assert req.destination_y_km[0] - req.origin_y_km[0] == pytest.approx(1.112, abs=1e-3)


def test_bad_requests_csv_names_the_column_and_the_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time,origin_lat,origin_lon,destination_lat\n2025-06-02 08:00,36.18,140.42,36.19\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['destination_lon'\]"):
        read_requests_csv(path, GRID, timezone=TZ, origin=ORIGIN)
    path.write_text(
        "time,origin_lat,origin_lon,destination_lat,destination_lon\n"
        "2025-06-02 08:00,36.18,140.42,36.19,140.43\n2025-06-02 09:00,36.18,140.42,abc,140.43\n"
    )
    with pytest.raises(DataError) as err:
        read_requests_csv(path, GRID, timezone=TZ, origin=ORIGIN)
    text = str(err.value)
    assert "1 problem(s)" in text and "row 2 (line 3), column 'destination_lat': 'abc' is not a number" in text


def test_bookings_become_out_and_back_requests_within_the_booked_distance():
    b = generate_bookings(
        stations=["A"], members=200, bookings_per_member_per_month=5.0, start=ORIGIN,
        end=ORIGIN + pd.Timedelta(days=2), seed=1,
    )  # fmt: skip
    req = requests_from_bookings(b, GRID, {"A": (2.0, 2.0)}, origin=ORIGIN, seed=1)
    assert len(req) == 2 * len(b)
    km = req.trip_km(FleetConfig(cars=1).travel)
    booked = b.set_index("booking_id")["distance_km"]
    per_booking = pd.Series(km).groupby(req.booking_id).sum()
    assert np.all(per_booking.to_numpy() <= booked.loc[per_booking.index].to_numpy() + 1e-9)
    assert np.all(GRID.inside(req.destination_x_km, req.destination_y_km))


def test_export_matches_the_simulation_and_the_plan_shape():
    b = generate_bookings(
        stations=["A", "B"], members=800, bookings_per_member_per_month=3.0, start=ORIGIN,
        end=ORIGIN + pd.Timedelta(days=1), seed=2,
    )  # fmt: skip
    req = requests_from_bookings(b, GRID, {"A": (1.5, 2.0), "B": (2.5, 2.0)}, origin=ORIGIN, seed=2)
    sites = pd.DataFrame({"x_km": [1.5, 2.5], "y_km": [2.0, 2.0]}, index=["A", "B"])
    res = simulate(req, GRID, sites, FleetConfig(cars=6), horizon_min=1440, seed=0, pv_kw=10.0)
    away = away_periods(res)
    windows = charging_windows(res)
    # every kWh driven is in exactly one away period, and once more in the window before it
    assert away["trip_energy_kwh"].sum() == pytest.approx(res.legs["energy_kwh"].sum())
    assert away["distance_km"].sum() == pytest.approx(res.legs["distance_km"].sum())
    assert windows["energy_until_next_kwh"].sum() <= res.legs["energy_kwh"].sum() + 1e-9
    # windows and away periods of a car tile the day without overlap
    for vid, w in windows.groupby("vehicle_id"):
        a = away[away["vehicle_id"] == vid]
        total = (w["end"] - w["start"]).sum() + (a["end"] - a["start"]).sum()
        assert total == pd.Timedelta(days=1)
    snapshots = pd.date_range(ORIGIN, periods=96, freq="15min")
    series = vehicle_series(res, snapshots, 0.25)
    assert list(series.plugged.columns) == list(plan_vehicles(res).index)
    assert series.trip_energy_kwh.to_numpy().sum() == pytest.approx(away["trip_energy_kwh"].sum())
    # a step inside an away period of an hour or more is unplugged
    long = away[(away["end"] - away["start"]) >= pd.Timedelta(hours=1)].iloc[0]
    inside = snapshots[(snapshots >= long["start"].ceil("15min")) & (snapshots < long["end"].floor("15min"))]
    assert not series.plugged.loc[inside, long["vehicle_id"]].any()
