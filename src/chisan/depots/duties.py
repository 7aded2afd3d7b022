"""On-shift periods of depot-based delivery fleets, read from NREL's fleet schedules.

Data: NREL/hdev-depot-charging-2021, ``data/fleet-schedules/<fleet>/veh_schedules.csv`` (BSD-3-Clause;
Borlaug et al., "Heavy-duty truck electrification and the impacts of depot charging on electricity distribution
systems", Nature Energy 6, 673-682, 2021,
https://doi.org/10.1038/s41560-021-00855-0). Each row of ``veh_schedules.csv`` is one period of one vehicle-day:
``veh_op_day_id, start_time, end_time, total_time_s, on_shift, vmt`` (clock times ``HH:MM:SS``, miles).
The files carry no vehicle id and no calendar date: a vehicle-day (``veh_op_day_id``) is the only key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError

# International mile: 1 mi = 1760 yd x 0.9144 m/yd (exact, 1959 international yard) = 1609.344 m; NIST SP 811
# (2008 ed.), Appendix B.8, "mile (mi) ... meter (m) 1.609 344 E+03" (https://www.nist.gov/pml/special-publication-811).
KM_PER_MILE = 1.609344

SCHEDULE_FILE = "veh_schedules.csv"
SCHEDULE_COLUMNS = ("veh_op_day_id", "start_time", "end_time", "total_time_s", "on_shift", "vmt")


def _bad(file: Path, column: str, frame: pd.DataFrame, mask: np.ndarray, allowed: str) -> ScenarioError:
    """A ScenarioError naming the file, the column, the first bad value, its CSV line and what is allowed."""
    first = int(np.flatnonzero(mask)[0])
    value = frame[column].iloc[first]
    line = first + 2  # header is line 1
    return ScenarioError(f"{file}: column {column!r}, line {line}: value {value!r} is not allowed; {allowed}")


def read_nrel_vehicle_days(path: str | Path) -> pd.DataFrame:
    """Read the on-shift periods of one NREL depot fleet.

    Parameters
    ----------
    path : str or Path
        A fleet folder holding ``veh_schedules.csv`` (e.g. ``.../fleet1-beverage-delivery``) or that file itself.

    Returns
    -------
    pandas.DataFrame
        One row per on-shift period, ordered by vehicle-day and start, with columns

        - ``fleet`` (str): the fleet folder name,
        - ``vehicle_day_id`` (int): NREL's ``veh_op_day_id`` (the data has no separate vehicle id or date),
        - ``shift_number`` (int): 1, 2, ... within the vehicle-day,
        - ``start_h``, ``end_h`` (float): shift start and end [h after local midnight], ``end_h > start_h``,
        - ``duration_s`` (int): on-shift time [s], ``(end_h - start_h) * 3600``,
        - ``distance_km`` (float): distance driven in the shift [km] = ``vmt`` [mi] x 1.609344 [km/mi].

    Raises
    ------
    ScenarioError
        When the file is missing, a column is missing, or a value is malformed; the message names the file,
        the column, the value and what is allowed.
    """
    path = Path(path)
    file = path / SCHEDULE_FILE if path.is_dir() else path
    if not file.is_file():
        raise ScenarioError(f"{file}: file not found; expected an NREL fleet folder holding {SCHEDULE_FILE}")
    try:
        raw = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            f"{file}: not a readable CSV ({exc}); expected columns {', '.join(SCHEDULE_COLUMNS)}"
        ) from exc
    missing = [c for c in SCHEDULE_COLUMNS if c not in raw.columns]
    if missing:
        raise ScenarioError(
            f"{file}: column {missing[0]!r} is missing; found {list(raw.columns)}, "
            f"expected {', '.join(SCHEDULE_COLUMNS)}"
        )
    if raw.empty:
        raise ScenarioError(f"{file}: column 'veh_op_day_id' has no rows; expected at least one period")

    day_id = pd.to_numeric(raw["veh_op_day_id"], errors="coerce")
    bad = day_id.isna().to_numpy() | (day_id % 1 != 0).to_numpy() | (day_id < 0).to_numpy()
    if bad.any():
        raise _bad(file, "veh_op_day_id", raw, bad, "allowed: a whole number >= 0")

    clock = {}
    for column in ("start_time", "end_time"):
        text = raw[column].str.strip()
        ok = text.str.fullmatch(r"\d{1,2}:\d{2}:\d{2}").to_numpy()
        seconds = pd.to_timedelta(text.where(ok), errors="coerce").dt.total_seconds()
        bad = ~ok | seconds.isna().to_numpy() | (seconds >= 86400).to_numpy()
        if bad.any():
            raise _bad(file, column, raw, bad, "allowed: a clock time HH:MM:SS from 00:00:00 to 23:59:59")
        clock[column] = seconds.to_numpy()

    on_shift = raw["on_shift"].str.strip()
    bad = ~on_shift.isin(["0", "1"]).to_numpy()
    if bad.any():
        raise _bad(file, "on_shift", raw, bad, "allowed: 0 (off shift) or 1 (on shift)")

    miles = pd.to_numeric(raw["vmt"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(miles) | (miles < 0)
    if bad.any():
        raise _bad(file, "vmt", raw, bad, "allowed: a finite distance >= 0 [mi]")

    on = (on_shift == "1").to_numpy()
    bad = on & (clock["end_time"] <= clock["start_time"])
    if bad.any():
        raise _bad(file, "end_time", raw, bad, "allowed: an on-shift end_time later than its start_time")

    shifts = pd.DataFrame(
        {
            "fleet": file.parent.name,
            "vehicle_day_id": day_id.to_numpy()[on].astype(int),
            "start_h": clock["start_time"][on] / 3600.0,
            "end_h": clock["end_time"][on] / 3600.0,
            "duration_s": (clock["end_time"][on] - clock["start_time"][on]).astype(int),
            "distance_km": miles[on] * KM_PER_MILE,  # [km] = [mi] x 1.609344 km/mi (KM_PER_MILE, cited above)
        }
    )
    shifts = shifts.sort_values(["vehicle_day_id", "start_h"], kind="stable").reset_index(drop=True)
    shifts.insert(2, "shift_number", shifts.groupby("vehicle_day_id").cumcount() + 1)
    return shifts


def shift_energy_kwh(duties: pd.DataFrame, kwh_per_km: float) -> pd.Series:
    """Energy each shift needs from the battery [kWh].

    Parameters
    ----------
    duties : pandas.DataFrame
        Shifts with a ``distance_km`` column [km], as from :func:`read_nrel_vehicle_days`.
    kwh_per_km : float
        Vehicle consumption [kWh/km], > 0. (Borlaug et al. 2021 assumed 1.8 kWh/mi = 1.8 / 1.609344 kWh/km.)

    Returns
    -------
    pandas.Series
        ``energy_kwh`` per shift [kWh] = ``distance_km`` [km] x ``kwh_per_km`` [kWh/km], same index as ``duties``.

    Raises
    ------
    ScenarioError
        When ``kwh_per_km`` is not a finite number > 0 or ``duties`` has no ``distance_km`` column.
    """
    if "distance_km" not in duties.columns:
        raise ScenarioError(f"duties: column 'distance_km' is missing; found {list(duties.columns)}")
    rate = float(kwh_per_km)
    if not np.isfinite(rate) or rate <= 0:
        raise ScenarioError(f"kwh_per_km: value {kwh_per_km!r} is not allowed; allowed: a finite number > 0")
    return (duties["distance_km"].astype(float) * rate).rename("energy_kwh")
