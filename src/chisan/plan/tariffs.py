"""Grid prices on the plan's snapshots: a flat price, overridden by time-of-use bands."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def import_price_series(snapshots: pd.DatetimeIndex, flat_price_per_kwh: float, bands: Sequence = ()) -> pd.Series:
    """Import price at every snapshot [currency/kWh].

    Parameters
    ----------
    snapshots : pd.DatetimeIndex
        tz-aware; bands apply on the local clock of the index.
    flat_price_per_kwh : float
        Price outside every band [currency/kWh].
    bands : sequence of TimeOfUse
        Each with ``start_hour`` (inclusive), ``end_hour`` (exclusive), ``price_per_kwh`` and
        ``weekdays_only`` (Monday–Friday). Later bands override earlier ones where they overlap.
    """
    price = np.full(len(snapshots), float(flat_price_per_kwh))
    hour = snapshots.hour.to_numpy()
    weekday = snapshots.dayofweek.to_numpy() < 5
    for band in bands:
        inside = (hour >= band.start_hour) & (hour < band.end_hour)
        if band.weekdays_only:
            inside &= weekday
        price[inside] = float(band.price_per_kwh)
    return pd.Series(price, index=snapshots, name="import_price_per_kwh")
