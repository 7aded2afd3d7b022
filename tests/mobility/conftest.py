"""Helpers for the mobility tests: small hand-written booking frames."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

TZ = "Asia/Tokyo"


def _make_bookings(rows: list[tuple], tz: str = TZ) -> pd.DataFrame:
    """Bookings from (booking_id, station, start, end, distance_km) tuples; times: local strings in ``tz``."""
    frame = pd.DataFrame(rows, columns=["booking_id", "station", "start", "end", "distance_km"])
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize(tz)
    frame["distance_km"] = frame["distance_km"].astype(float)
    return frame


@pytest.fixture
def make_bookings() -> Callable[..., pd.DataFrame]:
    """Build a bookings frame from (booking_id, station, start, end, distance_km) tuples (Asia/Tokyo)."""
    return _make_bookings
