"""Door-to-door ride requests: from the town's car-sharing bookings, or from a CSV file.

A request is a rider asking at ``time`` to be driven from an origin to a destination. Internally requests are
NumPy arrays (:class:`Requests`), times in minutes after an origin timestamp and positions in km on the
:class:`~chisan.autonomous.zones.ZoneGrid`.

**From bookings** (:func:`requests_from_bookings`). A round-trip booking of station-based car-sharing (see
:mod:`chisan.mobility.bookings`) is one outing: the member leaves near the station at ``start``, drives
``distance_km`` in all and comes back at ``end``. It becomes two requests: out at ``start`` from a point near the
station (uniform in a disc of ``catchment_km``, the walk to the base) to a destination, and back at ``end``. The
destination lies in a uniformly random direction at the straight-line distance ``distance_km / (2 × circuity)``
(half the booked distance on the road), moved onto the grid when it would fall outside the town (a door-to-door
service serves its area only); so the autonomous trips' distance is at most the booked one.

**From a CSV** (:func:`read_requests_csv`). Columns ``time`` and either ``origin_lat, origin_lon,
destination_lat, destination_lon`` [degrees] or ``origin_zone, destination_zone`` (zone numbers of the grid),
optional ``request_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from chisan.autonomous.travel import TravelModel
from chisan.autonomous.zones import ZoneGrid
from chisan.exceptions import DataError
from chisan.mobility.bookings import check_bookings, parse_times

DEFAULT_CATCHMENT_KM: float = 0.5
"""Radius around a station that its members start from [km] (assumption: a walk of about 6 minutes)."""

LATLON_COLUMNS: tuple[str, ...] = ("origin_lat", "origin_lon", "destination_lat", "destination_lon")
"""Position columns of a requests CSV [degrees]."""

ZONE_COLUMNS: tuple[str, ...] = ("origin_zone", "destination_zone")
"""Alternative position columns: zone numbers of the grid (the request starts and ends at the zone centre)."""

_MAX_LISTED = 20


@dataclass
class Requests:
    """Requests sorted by time.

    Attributes
    ----------
    request_id : np.ndarray of str
    time_min : np.ndarray of float
        Minutes after ``origin`` the rider asks [min].
    origin_x_km, origin_y_km, destination_x_km, destination_y_km : np.ndarray of float
        Positions on the grid [km].
    origin : pd.Timestamp
        Time zero (tz-aware; a local midnight).
    booking_id : np.ndarray of str or None
        The car-sharing booking each request came from (from bookings only).
    """

    request_id: np.ndarray
    time_min: np.ndarray
    origin_x_km: np.ndarray
    origin_y_km: np.ndarray
    destination_x_km: np.ndarray
    destination_y_km: np.ndarray
    origin: pd.Timestamp
    booking_id: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.time_min)

    def trip_km(self, travel: TravelModel) -> np.ndarray:
        """Road distance of each ride [km]."""
        return travel.distance_km(self.origin_x_km, self.origin_y_km, self.destination_x_km, self.destination_y_km)

    def subset(self, keep: np.ndarray) -> Requests:
        """The requests where ``keep`` is True."""
        return Requests(
            self.request_id[keep], self.time_min[keep], self.origin_x_km[keep], self.origin_y_km[keep],
            self.destination_x_km[keep], self.destination_y_km[keep], self.origin,
            None if self.booking_id is None else self.booking_id[keep],
        )  # fmt: skip


def _sorted(req: Requests) -> Requests:
    order = np.argsort(req.time_min, kind="stable")
    return req.subset(order)


def requests_from_bookings(
    bookings: pd.DataFrame,
    grid: ZoneGrid,
    station_km: Mapping[str, tuple[float, float]],
    *,
    origin: pd.Timestamp,
    seed: int,
    travel: TravelModel | None = None,
    catchment_km: float = DEFAULT_CATCHMENT_KM,
) -> Requests:
    """Turn round-trip bookings into out-and-back door-to-door requests (see the module docstring).

    Parameters
    ----------
    bookings : pd.DataFrame
        Columns of :data:`chisan.mobility.bookings.BOOKING_COLUMNS`.
    grid : ZoneGrid
        The service area.
    station_km : mapping of str to (float, float)
        Position of each station on the grid [km].
    origin : pd.Timestamp
        Time zero of the simulation (tz-aware).
    seed : int
        Seed of the numpy Generator (same seed, same requests).
    travel : TravelModel, optional
        For the circuity; default :class:`TravelModel`.
    catchment_km : float
        Radius of the start points around a station [km].

    Returns
    -------
    Requests
        ``2 × len(bookings)`` requests, sorted by time; ``request_id`` = booking id + ``"-out"`` / ``"-back"``.

    Raises
    ------
    DataError
        A booking's station has no position.
    """
    check_bookings(bookings)
    travel = travel or TravelModel()
    rng = np.random.default_rng(seed)
    stations = bookings["station"].astype(str).to_numpy()
    missing = sorted(set(stations) - set(station_km))
    if missing:
        raise DataError(
            f"requests from bookings: station(s) {missing} have no position; give latitude_deg and "
            "longitude_deg for every station"
        )
    n = len(bookings)
    sx = np.array([station_km[s][0] for s in stations], dtype=float)
    sy = np.array([station_km[s][1] for s in stations], dtype=float)
    # uniform in a disc: radius ∝ √u
    r = catchment_km * np.sqrt(rng.random(n))
    a = rng.random(n) * 2 * np.pi
    ox = np.clip(sx + r * np.cos(a), 0, grid.width_km)
    oy = np.clip(sy + r * np.sin(a), 0, grid.height_km)
    reach = bookings["distance_km"].to_numpy(float) / (2 * travel.circuity)
    b = rng.random(n) * 2 * np.pi
    dx = np.clip(ox + reach * np.cos(b), 0, grid.width_km)
    dy = np.clip(oy + reach * np.sin(b), 0, grid.height_km)
    start = np.asarray((bookings["start"] - origin) / pd.Timedelta(minutes=1), dtype=float)
    end = np.asarray((bookings["end"] - origin) / pd.Timedelta(minutes=1), dtype=float)
    ids = bookings["booking_id"].astype(str).to_numpy()
    req = Requests(
        request_id=np.concatenate([np.char.add(ids.astype(str), "-out"), np.char.add(ids.astype(str), "-back")]),
        time_min=np.concatenate([start, end]),
        origin_x_km=np.concatenate([ox, dx]),
        origin_y_km=np.concatenate([oy, dy]),
        destination_x_km=np.concatenate([dx, ox]),
        destination_y_km=np.concatenate([dy, oy]),
        origin=origin,
        booking_id=np.concatenate([ids, ids]),
    )
    return _sorted(req)


def _raise(path: Path, problems: list[str]) -> None:
    if problems:
        shown = problems[:_MAX_LISTED]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise DataError(f"{path}: {len(problems)} problem(s) in the requests:\n  " + "\n  ".join(shown) + more)


def read_requests_csv(path: str | Path, grid: ZoneGrid, *, timezone: str, origin: pd.Timestamp) -> Requests:
    """Read and check a requests CSV (see the module docstring for the columns).

    Parameters
    ----------
    path : str or Path
        UTF-8 CSV.
    grid : ZoneGrid
        Every position must lie on it; zone numbers must be ``0 … n_zones − 1``.
    timezone : str
        IANA zone for times without a UTC offset.
    origin : pd.Timestamp
        Time zero (tz-aware); requests before it are an error.

    Returns
    -------
    Requests
        Sorted by time.

    Raises
    ------
    DataError
        The file is missing or unreadable, a column is missing, or rows are bad; the message names the file,
        each bad row (1-based data row and its line), the column, the value and what is allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: requests file not found")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path}: not a readable CSV file: {err}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    has_latlon = all(c in raw.columns for c in LATLON_COLUMNS)
    has_zones = all(c in raw.columns for c in ZONE_COLUMNS)
    if "time" not in raw.columns or not (has_latlon or has_zones):
        need = ["time"] + [c for c in LATLON_COLUMNS if c not in raw.columns]
        if "time" in raw.columns and any(c in raw.columns for c in ZONE_COLUMNS):
            need = [c for c in ZONE_COLUMNS if c not in raw.columns]
        missing = [c for c in need if c not in raw.columns]
        raise DataError(
            f"{path}: missing column(s) {missing}; found {list(raw.columns)}; a requests file needs 'time' and "
            f"either {list(LATLON_COLUMNS)} [degrees] or {list(ZONE_COLUMNS)} (zone numbers 0-{grid.n_zones - 1})"
        )
    raw.index = pd.RangeIndex(1, len(raw) + 1)
    problems: list[tuple[int, str]] = []

    def add(mask: np.ndarray, column: str, what: str) -> None:
        for row in raw.index[np.asarray(mask, dtype=bool)]:
            problems.append((row, f"row {row} (line {row + 1}), column {column!r}: {raw.at[row, column]!r} {what}"))

    times, why = parse_times(raw["time"], timezone)
    for row in raw.index[(why != "").to_numpy()]:
        problems.append((row, f"row {row} (line {row + 1}), column 'time': {raw.at[row, 'time']!r} {why[row]}"))
    add((times.notna() & (times < origin)).to_numpy(), "time", f"lies before the simulation's start {origin}")
    cx, cy = grid.centres_km()
    if has_latlon:
        values = {}
        for c in LATLON_COLUMNS:
            v = pd.to_numeric(raw[c].str.strip(), errors="coerce").to_numpy(float)
            add(~np.isfinite(v), c, "is not a number; give degrees (WGS 84)")
            values[c] = v
        coords = []
        for end in ("origin", "destination"):
            lat, lon = values[f"{end}_lat"], values[f"{end}_lon"]
            x, y = grid.to_km(lat, lon)
            ok = np.isfinite(x) & np.isfinite(y)
            add(
                ok & ~grid.inside(np.nan_to_num(x), np.nan_to_num(y)),
                f"{end}_lat",
                f"(with {end}_lon) lies outside the service area's grid (SW corner {grid.lat0_deg:.5f}, "
                f"{grid.lon0_deg:.5f}; {grid.width_km:g} km × {grid.height_km:g} km)",
            )
            coords += [x, y]
    else:
        coords = []
        for c in ZONE_COLUMNS:
            v = pd.to_numeric(raw[c].str.strip(), errors="coerce").to_numpy(float)
            bad = ~np.isfinite(v) | (v != np.round(v)) | (v < 0) | (v >= grid.n_zones)
            add(bad, c, f"is not a zone number; allowed are the integers 0-{grid.n_zones - 1}")
            z = np.where(bad, 0, v).astype(np.int64)
            coords += [cx[z], cy[z]]
    ids = raw["request_id"].str.strip().to_numpy(str) if "request_id" in raw.columns else None
    if ids is not None:
        dup = pd.Series(ids).duplicated().to_numpy()
        add(dup | (ids == ""), "request_id", "is missing or repeats an earlier id; ids must be unique")
    else:
        ids = np.array([f"R{i:07d}" for i in range(1, len(raw) + 1)], dtype=str)
    problems.sort(key=lambda p: p[0])
    _raise(path, [p for _, p in problems])
    t = np.asarray((times - origin) / pd.Timedelta(minutes=1), dtype=float)
    return _sorted(Requests(ids, t, coords[0], coords[1], coords[2], coords[3], origin))
