"""Depot duties on the calendar: shifts of undated vehicle-days laid on the working days of the planned period.

NREL's fleet schedules (and chisan's generic shift CSV) give vehicle-days without dates. Rule of
:func:`lay_vehicle_days`: every working day (Monday to Friday, or every day) of the period runs ``per_day`` of the
file's vehicle-days, drawn without replacement, independently per day, from a seeded generator
(``numpy.random.default_rng(seed)``); each drawn vehicle-day brings all its shifts, at their clock times on that
date. The same seed gives the same calendar. ``per_day`` = all vehicle-days repeats the whole file every day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError

SHIFT_COLUMNS: tuple[str, ...] = ("vehicle_day_id", "start_h", "end_h", "distance_km")
"""Columns of a generic shift CSV: vehicle-day key, start and end [h after local midnight, 0-48], distance [km]."""


def read_shift_csv(path: str | Path) -> pd.DataFrame:
    """Read a generic CSV of shifts (:data:`SHIFT_COLUMNS`, one row per shift).

    Raises
    ------
    ScenarioError
        When the file is missing, a column is missing, or a value is out of range; names the file, column and line.
    """
    file = Path(path)
    if not file.is_file():
        from chisan.scenario.load import example_file_hint

        raise ScenarioError(
            f"{file}: file not found; expected a CSV of shifts with columns {', '.join(SHIFT_COLUMNS)}"
            + example_file_hint(file)
        )
    try:
        raw = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{file}: not a readable CSV ({exc}); expected columns {', '.join(SHIFT_COLUMNS)}") from exc
    missing = [c for c in SHIFT_COLUMNS if c not in raw.columns]
    if missing:
        raise ScenarioError(f"{file}: column {missing[0]!r} is missing; expected {', '.join(SHIFT_COLUMNS)}")
    values = raw[list(SHIFT_COLUMNS[1:])].apply(pd.to_numeric, errors="coerce")
    rules = {
        "start_h": (values["start_h"] >= 0) & (values["start_h"] < 24),
        "end_h": (values["end_h"] > values["start_h"]) & (values["end_h"] <= 48),
        "distance_km": values["distance_km"] >= 0,
    }  # NaN (not a number) fails every rule
    for column, ok in rules.items():
        bad = ~ok.to_numpy()
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ScenarioError(
                f"{file}: column {column!r}, line {first + 2}: value {raw[column].iloc[first]!r} is not allowed; "
                "allowed: start_h in [0, 24), end_h after start_h and ≤ 48, distance_km ≥ 0"
            )
    shifts = values.assign(vehicle_day_id=raw["vehicle_day_id"].astype(str))
    return shifts.sort_values(["vehicle_day_id", "start_h"], kind="stable").reset_index(drop=True)


def working_days(snapshots: pd.DatetimeIndex, which: str) -> pd.DatetimeIndex:
    """Local midnights of the planned days the depot works (``"weekdays"``: Monday-Friday; ``"all"``)."""
    days = snapshots.normalize().unique()
    return days[days.dayofweek < 5] if which == "weekdays" else days


def lay_vehicle_days(
    shifts: pd.DataFrame, days: pd.DatetimeIndex, *, per_day: int | None, seed: int, station: str
) -> pd.DataFrame:
    """Bookings of a depot: the shifts of ``per_day`` vehicle-days on every day of ``days``.

    Parameters
    ----------
    shifts : pandas.DataFrame
        ``vehicle_day_id``, ``start_h``, ``end_h`` [h after midnight], ``distance_km`` [km].
    days : pandas.DatetimeIndex
        tz-aware local midnights.
    per_day : int or None
        Vehicle-days drawn per day (None: all of them).
    seed : int
        Seed of the draw.
    station : str
        The depot's name (the bookings' ``station``).

    Returns
    -------
    pandas.DataFrame
        ``booking_id`` (``<station>:<date>:<vehicle-day>:<shift>``), ``station``, ``start``, ``end``,
        ``distance_km``, ``vehicle_day_id``, ordered by start.
    """
    ids = pd.Index(pd.unique(shifts["vehicle_day_id"].astype(str)))
    k = len(ids) if per_day is None else int(per_day)
    if k > len(ids):
        raise ScenarioError(
            f"depots[{station!r}].vehicle_days_per_day = {k} is not allowed; the duty file has {len(ids)} "
            f"vehicle-days: give at most {len(ids)}"
        )
    rng = np.random.default_rng(seed)
    # a random permutation per day (argsort of uniform keys), its first k entries: k draws without replacement
    order = np.argsort(rng.random((len(days), len(ids))), axis=1)[:, :k]
    drawn = pd.DataFrame({"day": np.repeat(np.arange(len(days)), k), "vehicle_day_id": ids.to_numpy()[order.ravel()]})
    table = shifts.assign(vehicle_day_id=shifts["vehicle_day_id"].astype(str))
    table = table.assign(shift=table.groupby("vehicle_day_id").cumcount() + 1)
    rows = drawn.merge(table, on="vehicle_day_id", how="left")
    midnight = days[rows["day"].to_numpy()]
    start = midnight + pd.to_timedelta(rows["start_h"].to_numpy(float), unit="h")
    end = midnight + pd.to_timedelta(rows["end_h"].to_numpy(float), unit="h")
    booking_id = (
        station
        + ":"
        + pd.Series(midnight.strftime("%Y-%m-%d"))
        + ":"
        + rows["vehicle_day_id"].astype(str).to_numpy()
        + ":"
        + rows["shift"].astype(str).to_numpy()
    )
    bookings = pd.DataFrame(
        {
            "booking_id": booking_id.to_numpy(),
            "station": station,
            "start": start,
            "end": end,
            "distance_km": rows["distance_km"].to_numpy(float),
            "vehicle_day_id": rows["vehicle_day_id"].to_numpy(),
        }
    )
    return bookings.sort_values(["start", "booking_id"], kind="stable").reset_index(drop=True)
