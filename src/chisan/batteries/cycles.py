"""Cycle counting and ageing stress factors from state-of-charge time series.

A battery ages by calendar (time, state of charge, temperature) and by cycling (charge throughput, depth of
discharge, rate). This module turns any state-of-charge (SOC) series into the stress factors that the ageing
laws of :mod:`chisan.batteries.ageing` take, one row per update step (a day by default):

============  ======================================================================================
``dt_days``   length of the step [day]
``efc``       equivalent full cycles completed in the step [-]: the rainflow cycles whose last reversal
              falls in the step, each counted as ``count × range`` (Eq. 1 below)
``dod``       depth of discharge of those cycles [fraction], their EFC-weighted mean range
``c_rate``    C-rate stressor [1/h], by ``c_rate_definition`` (:data:`C_RATE_DEFINITIONS`): the mean
              absolute C-rate while the pack is charging or discharging (``"while_cycling"``, default), or
              the time average of |dSOC/dt| over the whole step, rests included (``"time_average"``, as
              BLAST-Lite 1.1 computes it [3]_)
``mean_soc``  time-mean state of charge [fraction]
``temp_c``    time-mean temperature [°C]
============  ======================================================================================

and ``c_rate_charge``, the mean C-rate while charging [1/h] whatever ``c_rate_definition`` (the ``Cchg`` stressor
of BLAST-Lite's DENSO NMC622 model [3]_).

Cycles are counted with the rainflow method of ASTM E1049-85 (2011), section 5.4.4 [1]_: one series at a time
with the ``rainflow`` package (:func:`count_cycles`), or many series at once with :func:`extract_cycles`, a
vectorised four-point implementation [2]_ that returns the same cycles (checked against ``rainflow`` in
``tests/batteries/test_cycles.py``) and is what makes a year of hourly SOC for a thousand packs fast.

Rainflow half-cycles split the total variation of the series exactly, so over a whole series

.. math:: \\mathrm{EFC} = \\sum_i n_i \\mathrm{DoD}_i = \\tfrac12 \\sum_t |\\Delta \\mathrm{SOC}_t|   (1)

with ``n_i`` = 1 for a full cycle and 0.5 for a half cycle.

References
----------
.. [1] ASTM E1049-85 (Reapproved 2011), Standard Practices for Cycle Counting in Fatigue Analysis, §5.4.4.
.. [2] C. Amzallag, J. P. Gerey, J. L. Robert, J. Bahuaud (1994), Standardization of the rainflow counting
   method for fatigue analysis, International Journal of Fatigue 16(4), 287-293.
.. [3] P. Gasper, N. Prakash, K. Smith (2023), BLAST-Lite 1.1, NREL software SWR-22-69,
   https://github.com/NREL/BLAST-Lite (threshold of |dSOC/dt| below which a pack counts as resting).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import rainflow

from chisan.exceptions import DataError, ScenarioError

ACTIVE_SOC_RATE_PER_H: float = 0.01
"""|dSOC/dt| [1/h] below which a pack counts as resting when the C-rate is averaged (BLAST-Lite [3])."""

C_RATE_DEFINITIONS: tuple[str, ...] = ("while_cycling", "time_average")
"""How the C-rate stressor of a step is computed. ``"while_cycling"``: charge throughput over the hours spent
charging or discharging (the meaning of "C-rate" in the cycling tests the models were fitted to, which cycled
without rests). ``"time_average"``: throughput over the whole step, rests included, which is what BLAST-Lite 1.1
takes (``_extract_stressors``: ``np.trapz(|dSOC/dt|, t) / Δt`` with rates below 0.01/h set to 0 [3]_), so a car
that drives 1 h a day has a stressor about 24 times smaller. Default ``"while_cycling"`` (more pessimistic)."""

STRESS_COLUMNS: tuple[str, ...] = ("dt_days", "efc", "dod", "c_rate", "mean_soc", "temp_c", "c_rate_charge")
"""Columns of :func:`stress_factors`, in order."""

_CYCLE_COLUMNS = ["range", "mean", "count", "i_start", "i_end"]


def count_cycles(soc: pd.Series | np.ndarray) -> pd.DataFrame:
    """Rainflow cycles of one state-of-charge series, counted with the ``rainflow`` package.

    Parameters
    ----------
    soc : pandas.Series or numpy.ndarray
        State of charge [fraction], one value per time step.

    Returns
    -------
    pandas.DataFrame
        One row per cycle, in the order ``rainflow`` yields them: ``range`` (depth of the cycle [fraction]),
        ``mean`` (its mean SOC [fraction]), ``count`` (1.0 full cycle, 0.5 half cycle), ``i_start`` and
        ``i_end`` (positions of its two reversal points in ``soc``).
    """
    values = np.asarray(soc, dtype=float)
    rows = list(rainflow.extract_cycles(values))
    frame = pd.DataFrame(rows, columns=_CYCLE_COLUMNS)
    return frame.astype({"range": float, "mean": float, "count": float, "i_start": np.int64, "i_end": np.int64})


def _reversal_mask(x: np.ndarray) -> np.ndarray:
    """Reversal points of each row of ``x`` (packs × time), with the conventions of ``rainflow.reversals``.

    The first and last points are reversals; an inner point ``j`` is a reversal when the move from ``j`` to
    ``j + 1`` goes against the last non-zero move before it (so on a plateau the last point is reported).
    """
    n_packs, n_time = x.shape
    mask = np.zeros((n_packs, n_time), dtype=bool)
    if n_time < 2:
        return mask
    mask[:, 0] = True
    mask[:, -1] = True
    if n_time < 3:
        return mask
    moves = np.diff(x, axis=1)
    sign = (moves > 0).view(np.int8) - (moves < 0).view(np.int8)  # sign[:, j]: direction of the move j -> j + 1
    moving = sign != 0
    if moving.all():  # no plateau: a reversal is a change of direction
        mask[:, 1:-1] = sign[:, 1:] != sign[:, :-1]
        return mask
    # With plateaus, compare with the last non-zero move before j (forward fill of the direction).
    last_nonzero = np.where(moving, np.arange(n_time - 1, dtype=np.int32), np.int32(-1))
    np.maximum.accumulate(last_nonzero, axis=1, out=last_nonzero)
    before = last_nonzero[:, :-1]  # last non-zero move at or before j - 1, for moves j = 1 .. n - 2
    row_start = np.arange(n_packs, dtype=np.int64)[:, None] * (n_time - 1)
    previous_sign = sign.ravel()[row_start + np.maximum(before, 0)]
    previous_sign[before < 0] = 0
    mask[:, 1:-1] = sign[:, 1:] * previous_sign < 0
    return mask


def _four_point_cycles(
    values: np.ndarray, index: np.ndarray, pack: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rainflow cycles of reversal sequences laid end to end (``pack`` says which sequence a point is in).

    Four-point method [2]_: a range B-C with neighbours A-B and C-D is a full cycle when
    ``|BC| < |AB|`` and ``|BC| <= |CD|``; B and C are removed and the test repeated until no such range is
    left. The strict/non-strict inequalities are those of ASTM E1049 as coded in ``rainflow`` (a new range
    closes the last one when it is at least as large). The remaining points (the residue) are counted as
    half cycles between neighbours. Returns arrays ``range, mean, count, i_start, i_end, pack``.
    """
    out: list[tuple[np.ndarray, ...]] = []
    v, t, g = values, index, pack
    while v.size >= 4:
        ranges = np.abs(np.diff(v))
        same = g[1:] == g[:-1]
        inner = ranges[1:-1]
        closes = same[:-2] & same[1:-1] & same[2:] & (inner < ranges[:-2]) & (inner <= ranges[2:])
        start = np.flatnonzero(closes) + 1  # position of B in v
        if start.size == 0:
            break
        out.append(
            (
                ranges[start],
                0.5 * (v[start] + v[start + 1]),
                np.ones(start.size),
                t[start],
                t[start + 1],
                g[start],
            )
        )
        keep = np.ones(v.size, dtype=bool)
        keep[start] = False
        keep[start + 1] = False
        v, t, g = v[keep], t[keep], g[keep]
    if v.size >= 2:
        pair = np.flatnonzero(g[1:] == g[:-1])
        out.append(
            (
                np.abs(v[pair + 1] - v[pair]),
                0.5 * (v[pair] + v[pair + 1]),
                np.full(pair.size, 0.5),
                t[pair],
                t[pair + 1],
                g[pair],
            )
        )
    if not out:
        empty_f, empty_i = np.empty(0), np.empty(0, dtype=np.int64)
        return empty_f, empty_f, empty_f, empty_i, empty_i, empty_i
    return tuple(np.concatenate(parts) for parts in zip(*out, strict=True))  # type: ignore[return-value]


def _cycles_of_rows(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rainflow cycles of every row of ``x`` (packs × time); see :func:`extract_cycles`."""
    mask = _reversal_mask(x)
    pack, position = np.nonzero(mask)  # pack-major, time ascending within a pack
    return _four_point_cycles(x[pack, position], position.astype(np.int64), pack.astype(np.int64))


def extract_cycles(soc: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    """Rainflow cycles of many state-of-charge series at once (vectorised across series).

    Gives the same cycles as :func:`count_cycles` on each column (ASTM E1049-85 [1]_ by the four-point
    method [2]_), in a different order.

    Parameters
    ----------
    soc : pandas.DataFrame or numpy.ndarray
        State of charge [fraction], time along the rows, one column per pack.

    Returns
    -------
    pandas.DataFrame
        Columns ``pack`` (column label of ``soc``, or its position for an array), ``range`` [fraction],
        ``mean`` [fraction], ``count`` (1.0 or 0.5), ``i_start``, ``i_end`` (row positions of the reversals).
    """
    values = np.asarray(soc, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    rng, mean, count, i_start, i_end, pack = _cycles_of_rows(np.ascontiguousarray(values.T))
    labels = np.asarray(soc.columns)[pack] if isinstance(soc, pd.DataFrame) else pack
    return pd.DataFrame(
        {"pack": labels, "range": rng, "mean": mean, "count": count, "i_start": i_start, "i_end": i_end}
    )


def equivalent_full_cycles(soc: pd.Series | pd.DataFrame) -> float | pd.Series:
    """Equivalent full cycles of a state-of-charge series: half its total variation (Eq. 1).

    Parameters
    ----------
    soc : pandas.Series or pandas.DataFrame
        State of charge [fraction]; for a DataFrame one column per pack.

    Returns
    -------
    float or pandas.Series
        Equivalent full cycles [-] (per column for a DataFrame).
    """
    efc = soc.diff().abs().sum() / 2.0
    return float(efc) if isinstance(soc, pd.Series) else efc


def samples_per_step(step: str | pd.Timedelta, dt_hours: float) -> int:
    """Number of samples in one update step, checked to be a whole number.

    Parameters
    ----------
    step : str or pandas.Timedelta
        Update interval, e.g. ``"1D"`` or ``"7D"``.
    dt_hours : float
        Sampling interval of the series [h].
    """
    if not np.isfinite(dt_hours) or dt_hours <= 0:
        raise ScenarioError(f"dt_hours must be a positive number of hours, got {dt_hours!r}.")
    try:
        step_hours = pd.Timedelta(step) / pd.Timedelta(hours=1)
    except ValueError as err:
        raise ScenarioError(f"step must be a time interval such as '1D' or '7D', got {step!r}.") from err
    ratio = step_hours / dt_hours
    n = round(ratio)
    if n < 1 or abs(ratio - n) > 1e-9 * max(1.0, ratio):
        raise ScenarioError(
            f"step {step!r} ({step_hours:g} h) must be a whole number (>= 1) of samples of dt_hours = "
            f"{dt_hours:g} h; use a step that is a multiple of {dt_hours:g} h."
        )
    return int(n)


def check_soc(soc: pd.Series | pd.DataFrame, dt_hours: float) -> None:
    """Check a SOC series: finite, within [0, 1], and (for a time index) sampled every ``dt_hours``.

    Raises
    ------
    chisan.exceptions.DataError
        Naming the column and row of the first bad value, or the irregular interval.
    """
    values = np.asarray(soc, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    columns = list(soc.columns) if isinstance(soc, pd.DataFrame) else [soc.name or "soc"]
    bad = ~np.isfinite(values) | (values < 0.0) | (values > 1.0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"SOC column {columns[col]!r}, row {soc.index[row]!r}: value {values[row, col]!r} is not a "
            "state of charge; allowed: finite fractions in [0, 1]."
        )
    index = soc.index
    if isinstance(index, pd.DatetimeIndex) and len(index) > 1:
        intervals_h = np.diff(index.as_unit("ns").asi8) / 3.6e12
        off = np.flatnonzero(np.abs(intervals_h - dt_hours) > 1e-9)
        if off.size:
            raise DataError(
                f"SOC index is not sampled every dt_hours = {dt_hours:g} h: the interval before "
                f"{index[off[0] + 1]} is {intervals_h[off[0]]:g} h; resample to a regular interval first."
            )


def _broadcast_temperature(temp_c: Any, soc: pd.Series | pd.DataFrame) -> np.ndarray:
    """Temperature [°C] as an array of packs × time (or 1 × time / 1 × 1 to broadcast)."""
    if isinstance(temp_c, pd.DataFrame):
        if (
            not isinstance(soc, pd.DataFrame)
            or list(temp_c.columns) != list(soc.columns)
            or not temp_c.index.equals(soc.index)
        ):
            raise DataError("temp_c as a DataFrame must have the same index and columns as the SOC DataFrame.")
        arr = temp_c.to_numpy(dtype=float).T
    elif isinstance(temp_c, pd.Series | np.ndarray):
        if isinstance(temp_c, pd.Series) and not temp_c.index.equals(soc.index):
            raise DataError(
                "temp_c as a Series must have the same index as the SOC series (same timestamps); "
                "reindex it first, or pass a numpy array to align by position."
            )
        arr = np.asarray(temp_c, dtype=float)[None, :]
    else:
        arr = np.array([[float(temp_c)]])
    if arr.shape[-1] not in (1, len(soc)):
        raise DataError(f"temp_c has {arr.shape[-1]} time steps but the SOC series has {len(soc)}.")
    if not np.isfinite(arr).all() or (arr < -80).any() or (arr > 100).any():
        raise DataError("temp_c must be finite battery temperatures in [-80, 100] °C.")
    return arr


def _step_starts(n_time: int, per_step: int) -> np.ndarray:
    return np.arange(0, n_time, per_step)


def _step_mean(x: np.ndarray, per_step: int, n_time: int) -> np.ndarray:
    """Mean of each step along the last axis of ``x`` (packs × time); broadcasts a length-1 time axis."""
    starts = _step_starts(n_time, per_step)
    if x.shape[-1] == 1:
        return np.repeat(x, starts.size, axis=-1)
    counts = np.diff(np.append(starts, n_time))
    return np.add.reduceat(x, starts, axis=-1) / counts


def check_c_rate_definition(value: str) -> str:
    """The C-rate definition, checked against :data:`C_RATE_DEFINITIONS`; ScenarioError naming the allowed ones."""
    key = str(value).strip().lower()
    if key not in C_RATE_DEFINITIONS:
        raise ScenarioError(
            f"c_rate_definition = {value!r} is not known; allowed: {', '.join(repr(c) for c in C_RATE_DEFINITIONS)}."
        )
    return key


def _stress_arrays(
    x: np.ndarray,
    temp_c: np.ndarray,
    *,
    dt_hours: float,
    per_step: int,
    c_rate_definition: str = "while_cycling",
) -> dict[str, np.ndarray]:
    """Stress factors per pack and step (arrays of packs × steps) from SOC ``x`` (packs × time)."""
    n_packs, n_time = x.shape
    starts = _step_starts(n_time, per_step)
    n_steps = starts.size
    counts = np.diff(np.append(starts, n_time))

    rng, _mean, count, _i_start, i_end, pack = _cycles_of_rows(x)
    flat = pack * n_steps + i_end // per_step
    efc = np.bincount(flat, weights=count * rng, minlength=n_packs * n_steps).reshape(n_packs, n_steps)
    efc_dod = np.bincount(flat, weights=count * rng * rng, minlength=n_packs * n_steps).reshape(n_packs, n_steps)
    dod = np.divide(efc_dod, efc, out=np.zeros_like(efc), where=efc > 0)

    moves = np.zeros_like(x)
    moves[:, 1:] = np.abs(np.diff(x, axis=1))
    active = moves >= ACTIVE_SOC_RATE_PER_H * dt_hours
    throughput_efc = np.add.reduceat(moves, starts, axis=1) / 2.0
    if c_rate_definition == "time_average":
        # BLAST-Lite [3]: |dSOC/dt| averaged over the whole step, rates below the threshold counted as 0.
        moving_soc = np.add.reduceat(np.where(active, moves, 0.0), starts, axis=1)
        c_rate = moving_soc / (counts * dt_hours)
    else:
        active_h = np.add.reduceat(active, starts, axis=1, dtype=np.int64) * dt_hours
        # Mean |dSOC/dt| while moving [1/h]: charge throughput over the hours spent charging or discharging.
        c_rate = np.divide(2.0 * throughput_efc, active_h, out=np.zeros_like(active_h), where=active_h > 0)

    charging = active & (np.diff(x, axis=1, prepend=x[:, :1]) > 0)
    charged_soc = np.add.reduceat(np.where(charging, moves, 0.0), starts, axis=1)
    charging_h = np.add.reduceat(charging, starts, axis=1, dtype=np.int64) * dt_hours
    # Mean dSOC/dt while charging [1/h] (BLAST-Lite's Cchg [3]): SOC charged over the hours spent charging.
    c_rate_charge = np.divide(charged_soc, charging_h, out=np.zeros_like(charged_soc), where=charging_h > 0)
    return {
        "c_rate_charge": c_rate_charge,
        "dt_days": np.broadcast_to(counts * dt_hours / 24.0, (n_packs, n_steps)).copy(),
        "efc": efc,
        "dod": dod,
        "c_rate": c_rate,
        "mean_soc": np.add.reduceat(x, starts, axis=1) / counts,
        "temp_c": np.broadcast_to(_step_mean(temp_c, per_step, n_time), (n_packs, n_steps)).copy(),
    }


def _step_index(index: pd.Index, n_time: int, per_step: int, dt_hours: float) -> pd.Index:
    """Label of each step: the time at its end (a timestamp for a time index, else elapsed days)."""
    ends = np.minimum(_step_starts(n_time, per_step) + per_step, n_time)
    if isinstance(index, pd.DatetimeIndex) and n_time > 0:
        return pd.DatetimeIndex(index[0] + pd.to_timedelta(ends * dt_hours, unit="h"), name=index.name)
    return pd.Index(ends * dt_hours / 24.0, name="elapsed_days")


def stress_factors(
    soc: pd.Series | pd.DataFrame,
    temp_c: float | pd.Series | pd.DataFrame = 25.0,
    *,
    dt_hours: float,
    step: str | pd.Timedelta = "1D",
    c_rate_definition: str = "while_cycling",
) -> pd.DataFrame:
    """Ageing stress factors per update step from a state-of-charge series.

    Parameters
    ----------
    soc : pandas.Series or pandas.DataFrame
        State of charge [fraction of nominal capacity], regularly sampled every ``dt_hours``; a DataFrame
        holds one pack per column. The energy throughput the series describes is kept as the pack ages
        (BLAST-Lite's "conserve energy throughput" [3]_), so equivalent full cycles are counted in nominal
        capacity.
    temp_c : float, pandas.Series or pandas.DataFrame, default 25
        Cell temperature [°C]: one value, one series for all packs, or one column per pack.
    dt_hours : float
        Sampling interval [h].
    step : str or pandas.Timedelta, default ``"1D"``
        Update interval, a whole number of samples (``"1D"``, ``"7D"``, ...). The last step may be shorter.
    c_rate_definition : {"while_cycling", "time_average"}, default "while_cycling"
        See :data:`C_RATE_DEFINITIONS`.

    Returns
    -------
    pandas.DataFrame
        Indexed by the end of each step (timestamp for a time index, else elapsed days). For a Series the
        columns are :data:`STRESS_COLUMNS` (see the module docstring for definitions and units); for a
        DataFrame the columns are a MultiIndex ``(stress, pack)``, so ``result["efc"]`` is steps × packs.
        The cycles come from ``rainflow`` for a Series and from :func:`extract_cycles` for a DataFrame.
    """
    per_step = samples_per_step(step, dt_hours)
    c_rate_definition = check_c_rate_definition(c_rate_definition)
    check_soc(soc, dt_hours)
    temp = _broadcast_temperature(temp_c, soc)
    n_time = len(soc)
    index = _step_index(soc.index, n_time, per_step, dt_hours)
    kind = {"dt_hours": dt_hours, "per_step": per_step, "c_rate_definition": c_rate_definition}
    if isinstance(soc, pd.DataFrame):
        x = np.ascontiguousarray(soc.to_numpy(dtype=float).T)
        arrays = _stress_arrays(x, temp, **kind)
        frames = {name: pd.DataFrame(arrays[name].T, index=index, columns=soc.columns) for name in STRESS_COLUMNS}
        return pd.concat(frames, axis=1, names=["stress", "pack"])
    x = np.asarray(soc, dtype=float)[None, :]
    arrays = _stress_arrays(x, temp, **kind)
    # One series: count cycles with the reference implementation (rainflow), not the vectorised one.
    cycles = count_cycles(soc)
    n_steps = index.size
    step_of = cycles["i_end"].to_numpy() // per_step
    weight = cycles["count"].to_numpy() * cycles["range"].to_numpy()
    efc = np.bincount(step_of, weights=weight, minlength=n_steps)
    efc_dod = np.bincount(step_of, weights=weight * cycles["range"].to_numpy(), minlength=n_steps)
    arrays["efc"] = efc[None, :]
    arrays["dod"] = np.divide(efc_dod, efc, out=np.zeros_like(efc), where=efc > 0)[None, :]
    return pd.DataFrame({name: arrays[name][0] for name in STRESS_COLUMNS}, index=index)
