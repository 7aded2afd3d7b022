"""Time index of weather series: strictly regular sampling (with a dropped 29 February allowed) and
the sampling step [h].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.exceptions import DataError


def _steps(index: pd.DatetimeIndex) -> pd.TimedeltaIndex:
    return pd.TimedeltaIndex(index[1:] - index[:-1])


def _is_leap_day_gap(index: pd.DatetimeIndex, position: int, step: pd.Timedelta) -> bool:
    """Whether the step after ``index[position]`` skips just a dropped 29 February (see plan_year_index)."""
    before, after = index[position], index[position + 1]
    return (
        after - before == step + pd.Timedelta(days=1)
        and before.month == 2
        and before.day == 28
        and after.month == 3
        and after.day == 1
        and before.is_leap_year
    )


def check_regular(
    index: pd.DatetimeIndex,
    *,
    source: str | None = None,
    first_row: int = 0,
    allow_leap_day_gap: bool = False,
) -> pd.Timedelta:
    """Check that a time index is tz-aware, strictly increasing and regularly sampled.

    Modelled on pvlib's ``tools._get_sample_intervals``, but raising an error that names where the sampling
    breaks.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Time stamps, at least two.
    source : str, optional
        What the index belongs to (e.g. a file name), put at the start of the error message.
    first_row : int, default 0
        Number added to positions in the message, so that they read as row (line) numbers of a file.
    allow_leap_day_gap : bool, default False
        Accept a jump over 29 February, the one irregularity of a plan year of a leap year
        (see :func:`plan_year_index`).

    Returns
    -------
    pandas.Timedelta
        The sampling step.

    Raises
    ------
    DataError
        If the index is not tz-aware, has fewer than two stamps, repeats or goes back in time, or if any step
        differs from the first one (a gap or irregular sampling).
    """
    where = f"{source}: " if source else ""
    if not isinstance(index, pd.DatetimeIndex):
        raise DataError(f"{where}the time index must be a pandas.DatetimeIndex, got {type(index).__name__}.")
    if index.tz is None:
        raise DataError(
            f"{where}the time index has no time zone; allowed: tz-aware stamps (localize with the site's "
            "time zone, e.g. 'Asia/Tokyo')."
        )
    if len(index) < 2:
        raise DataError(f"{where}the time index has {len(index)} stamp(s); at least 2 are needed.")
    steps = _steps(index)
    step = steps[0]
    if step <= pd.Timedelta(0):
        raise DataError(
            f"{where}time stamps repeat or go back in time at rows {first_row} and {1 + first_row} "
            f"({index[0]} -> {index[1]}); allowed: strictly increasing stamps."
        )
    for position in np.flatnonzero(steps != step):
        if allow_leap_day_gap and _is_leap_day_gap(index, position, step):
            continue
        before, after = index[position], index[position + 1]
        raise DataError(
            f"{where}time stamps are not regularly sampled: rows {position + first_row} and "
            f"{position + 1 + first_row} ({before} -> {after}) are {after - before} apart, while the first "
            f"step is {step}; allowed: one constant step without gaps, repeats or reversals (resample or "
            "fill the gap first)."
        )
    return step


def dt_hours(index: pd.DatetimeIndex) -> float:
    """Sampling step of a time index [h]: the most frequent interval between consecutive stamps.

    A typical meteorological year (EPW, TMY3) glues months of different years, and a plan year of a leap year
    skips 29 February; both are sampled at one step although their stamps jump. Use :func:`check_regular`
    to require strictly regular sampling.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        At least two stamps.

    Returns
    -------
    float
        Step [h].
    """
    if len(index) < 2:
        raise DataError(f"a time index needs at least 2 stamps to have a step, got {len(index)}.")
    steps = _steps(index)
    step = pd.Series(steps[steps > pd.Timedelta(0)]).mode()
    if step.empty:
        raise DataError("the time index never increases; allowed: increasing stamps.")
    return float(step.iloc[0] / pd.Timedelta(hours=1))
