"""Reading NREL's depot fleet schedules (Borlaug et al. 2021): counts, clock times, miles to km, bad files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chisan.depots import KM_PER_MILE, read_nrel_vehicle_days, shift_energy_kwh
from chisan.exceptions import ScenarioError

FLEETS = ("fleet1-beverage-delivery", "fleet2-warehouse-delivery", "fleet3-food-delivery")


def _fleet_dir(shared_data: Path, fleet: str) -> Path:
    return shared_data / "logistics" / "nrel_hdev_depot_fleets" / fleet


@pytest.mark.parametrize("fleet", FLEETS)
def test_counts_match_an_independent_csv_count(shared_data: Path, fleet: str) -> None:
    folder = _fleet_dir(shared_data, fleet)
    duties = read_nrel_vehicle_days(folder)
    # Second implementation: the standard csv module on both NREL files.
    with open(folder / "veh_schedules.csv", newline="") as f:
        on_rows = [r for r in csv.DictReader(f) if r["on_shift"] == "1"]
    with open(folder / "veh_op_days.csv", newline="") as f:
        op_days = list(csv.DictReader(f))
    assert len(duties) == len(on_rows)
    assert duties["vehicle_day_id"].nunique() == len({r["veh_op_day_id"] for r in op_days})
    assert (duties["fleet"] == fleet).all()


def test_published_vehicle_day_and_shift_counts(shared_data: Path) -> None:
    # Vehicle-days 76 / 100 / 236 (SOURCES.md, counted from veh_op_days.csv); on-shift periods counted once with
    # pandas (veh_schedules.csv, on_shift == 1): 79 / 101 / 283; at most 2 / 2 / 3 shifts in a day.
    expected = {FLEETS[0]: (76, 79, 2), FLEETS[1]: (100, 101, 2), FLEETS[2]: (236, 283, 3)}
    for fleet, (days, shifts, most) in expected.items():
        duties = read_nrel_vehicle_days(_fleet_dir(shared_data, fleet))
        assert duties["vehicle_day_id"].nunique() == days
        assert len(duties) == shifts
        assert duties["shift_number"].max() == most


@pytest.mark.parametrize("fleet", FLEETS)
def test_shifts_agree_with_the_daily_totals_file(shared_data: Path, fleet: str) -> None:
    # veh_op_days.csv is a separate NREL file with per-day miles and on-shift seconds: the shifts must add up.
    folder = _fleet_dir(shared_data, fleet)
    duties = read_nrel_vehicle_days(folder)
    days = pd.read_csv(folder / "veh_op_days.csv").set_index("veh_op_day_id").sort_index()
    per_day = duties.groupby("vehicle_day_id")[["distance_km", "duration_s"]].sum().sort_index()
    np.testing.assert_allclose(per_day["distance_km"].to_numpy(), days["vmt"].to_numpy() * 1.609344, rtol=1e-9)
    np.testing.assert_array_equal(per_day["duration_s"].to_numpy(), days["time_on_shift_s"].to_numpy())
    assert (duties["end_h"] > duties["start_h"]).all()
    assert duties["start_h"].between(0, 24).all() and duties["end_h"].between(0, 24).all()
    # Shifts of one day do not overlap: each starts at or after the previous one's end.
    previous_end = duties.groupby("vehicle_day_id")["end_h"].shift()
    assert (duties["start_h"][previous_end.notna()] >= previous_end.dropna()).all()


def test_first_shift_of_fleet1_by_hand(shared_data: Path) -> None:
    first = read_nrel_vehicle_days(_fleet_dir(shared_data, FLEETS[0])).iloc[0]
    # veh_schedules.csv line 3: "1,07:57:32,19:24:55,41243,1,42.12643487415799"
    assert first["vehicle_day_id"] == 1 and first["shift_number"] == 1
    assert first["start_h"] == pytest.approx(7 + 57 / 60 + 32 / 3600)  # 7.958889 h
    assert first["end_h"] == pytest.approx(19 + 24 / 60 + 55 / 3600)  # 19.415278 h
    assert first["duration_s"] == 41243  # (19:24:55 - 07:57:32) = 11 h 27 min 23 s = 39600 + 1620 + 23 s
    # 42.12643487415799 mi x 1.609344 km/mi = 67.7959... km (42 x 1.609344 = 67.592448; 0.126435 x 1.609344 = 0.203477)
    assert first["distance_km"] == pytest.approx(67.795925, abs=1e-6)
    assert KM_PER_MILE == 1.609344


def test_shift_energy_by_hand() -> None:
    duties = pd.DataFrame({"distance_km": [100.0, 0.0, 25.5]})
    # 1.8 kWh/mi (Borlaug et al. 2021) / 1.609344 km/mi = 1.1184681 kWh/km;
    # 100 km -> 111.84681 kWh, 25.5 km -> 28.52094 kWh
    energy = shift_energy_kwh(duties, 1.8 / 1.609344)
    np.testing.assert_allclose(energy.to_numpy(), [111.84681, 0.0, 28.52094], atol=1e-5)
    assert energy.name == "energy_kwh"
    with pytest.raises(ScenarioError, match="kwh_per_km"):
        shift_energy_kwh(duties, 0.0)


@pytest.mark.parametrize(
    ("line", "column", "value"),
    [
        ("1,07:57:32,25:61:00,41243,1,42.1", "end_time", "25:61:00"),
        ("1,07:57:32,19:24:55,41243,yes,42.1", "on_shift", "yes"),
        ("1,07:57:32,19:24:55,41243,1,-3", "vmt", "-3"),
        ("x1,07:57:32,19:24:55,41243,1,42.1", "veh_op_day_id", "x1"),
        ("1,19:24:55,07:57:32,41243,1,42.1", "end_time", "07:57:32"),
    ],
)
def test_malformed_csv_gives_one_clear_error(tmp_path: Path, line: str, column: str, value: str) -> None:
    file = tmp_path / "veh_schedules.csv"
    file.write_text(
        "veh_op_day_id,start_time,end_time,total_time_s,on_shift,vmt\n1,00:00:00,07:57:32,28652,0,0.0\n" + line + "\n"
    )
    with pytest.raises(ScenarioError) as info:
        read_nrel_vehicle_days(tmp_path)
    message = str(info.value)
    assert str(file) in message and repr(column) in message and repr(value) in message and "line 3" in message


def test_missing_column_is_named(tmp_path: Path) -> None:
    file = tmp_path / "veh_schedules.csv"
    file.write_text("veh_op_day_id,start_time,end_time,on_shift\n1,07:57:32,19:24:55,1\n")
    with pytest.raises(ScenarioError, match=r"column 'total_time_s' is missing"):
        read_nrel_vehicle_days(file)
