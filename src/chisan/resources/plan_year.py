"""The plan year: its 8,760 hourly stamps in the municipality's time zone, and weather laid on them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.exceptions import DataError
from chisan.resources.time_index import dt_hours


def plan_year_index(year: int, timezone: str) -> pd.DatetimeIndex:
    """The 8,760 hourly stamps of one calendar year in a time zone (29 February dropped in leap years).

    A plan year always has 365 days so that annual sums compare between years. In a leap year the stamps of
    29 February are left out: the index then jumps from 28 February 23:00 to 1 March 00:00
    (:func:`check_regular` accepts this with ``allow_leap_day_gap=True``). In a zone with daylight saving time
    the stamps are regular in absolute time (the local clock skips and repeats an hour).

    Parameters
    ----------
    year : int
        Calendar year.
    timezone : str
        IANA time zone of the municipality, e.g. ``"Asia/Tokyo"``.

    Returns
    -------
    pandas.DatetimeIndex
        8,760 stamps, each the start of its hour, named ``time``.
    """
    try:
        start = pd.Timestamp(year=year, month=1, day=1, tz=timezone)
        end = pd.Timestamp(year=year + 1, month=1, day=1, tz=timezone)
    except Exception as exc:  # pytz/zoneinfo raise different types for unknown zones
        raise DataError(
            f"time zone {timezone!r} is not known; allowed: IANA names such as 'Asia/Tokyo' or 'UTC'."
        ) from exc
    index = pd.date_range(start, end, freq="h", inclusive="left", name="time")
    return index[~((index.month == 2) & (index.day == 29))]


def _typical_year_keys(index: pd.DatetimeIndex) -> pd.MultiIndex:
    """(month, day, hour) of each stamp, with 29 February read as 28 February."""
    day = np.where((index.month == 2) & (index.day == 29), 28, index.day)
    return pd.MultiIndex.from_arrays([index.month, day, index.hour], names=["month", "day", "hour"])


def to_plan_year(weather: pd.DataFrame, year: int, timezone: str) -> pd.DataFrame:
    """Lay hourly weather on the 8,760 hours of one calendar year in the municipality's time zone.

    - If ``weather`` covers every hour of that year (a multi-year series), those hours are taken.
    - Otherwise, if it is a typical year (one value per month-day-hour, as in EPW or TMY3 files whose months
      come from different years), each hour of the plan year takes the value stored for the same month, day
      and hour of the weather's own (standard) clock. The sun therefore stands where it stood when the data
      were recorded: solar noon stays at noon even if the plan's zone keeps daylight saving time.

    The plan year has 365 days: in a leap year 29 February is dropped (see :func:`plan_year_index`).

    Parameters
    ----------
    weather : pandas.DataFrame
        Hourly weather on a tz-aware index of interval starts (as the readers return it).
    year : int
        Calendar year of the plan.
    timezone : str
        IANA time zone of the municipality, e.g. ``"Asia/Tokyo"``.

    Returns
    -------
    pandas.DataFrame
        Same columns, on :func:`plan_year_index` ``(year, timezone)``.

    Raises
    ------
    DataError
        If the weather is not hourly, lacks a time zone, or neither covers the year nor is a typical year.
    """
    target = plan_year_index(year, timezone)
    index = weather.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise DataError("to_plan_year needs weather on a tz-aware DatetimeIndex (as the readers return it).")
    step = dt_hours(index)
    if step != 1.0:
        raise DataError(f"to_plan_year needs hourly weather, got a step of {step} h; resample it to 1 h first.")
    if index.is_unique:
        found = weather.reindex(target)
        if found.notna().all().all():
            return found
    keys = _typical_year_keys(index)
    if keys.is_unique and len(keys) >= 8760:
        lookup = weather.set_axis(keys)
        wanted = _typical_year_keys(target.tz_convert(index.tz).floor("h"))
        mapped = lookup.reindex(wanted)
        if mapped.notna().all().all():
            return mapped.set_axis(target)
    years = sorted({int(y) for y in index.year})
    raise DataError(
        f"weather with stamps {index.min()} .. {index.max()} (years {years}) neither covers every hour of "
        f"{year} in {timezone} nor is a typical year with one value per month, day and hour; allowed: a "
        "series that includes the whole plan year, or a typical year (EPW/TMY3)."
    )
