"""Bookings of round-trip, station-based car-sharing: generate them reproducibly, or read them from a CSV.

A booking is one vehicle taken from a station at ``start`` and returned to the same station at ``end``, having
driven ``distance_km``. Every bookings frame has the columns :data:`BOOKING_COLUMNS` (``member_id`` optional):

============  ==========================  ==============================================
column        type                        meaning
============  ==========================  ==============================================
booking_id    str                         unique key
station       str                         the car-sharing base the vehicle leaves and returns to
start         datetime64, tz-aware        departure
end           datetime64, tz-aware        return, after ``start``
distance_km   float                       distance driven [km], ≥ 0
member_id     str (optional)              who booked
============  ==========================  ==============================================
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from chisan.exceptions import DataError, ScenarioError

BOOKING_COLUMNS: tuple[str, ...] = ("booking_id", "station", "start", "end", "distance_km")
"""Required columns of a bookings frame or file."""

OPTIONAL_BOOKING_COLUMNS: tuple[str, ...] = ("member_id",)
"""Columns kept when present."""

DAYS_PER_MONTH: float = 365.25 / 12
"""Mean month length [days], turning a monthly booking rate into a daily one."""

SLOT_MINUTES: int = 15
"""Granularity of generated start times and durations [min] (car-sharing is booked in quarter hours)."""

# Relative booking starts per hour of day, 00:00-00:59 first. Assumption: no published hour-of-day profile of
# Japanese round-trip car-sharing was found, so these are not fitted to data. Shape: daytime use for errands
# and leisure, little at night, a late-morning peak that is stronger at weekends. Use the operator's own
# profile.
DEFAULT_HOUR_PROFILE_WEEKDAY: tuple[float, ...] = (
    0.10, 0.05, 0.05, 0.05, 0.10, 0.30, 0.60, 1.00, 1.40, 1.80, 2.00, 1.80,
    1.50, 1.60, 1.60, 1.50, 1.40, 1.40, 1.20, 0.90, 0.60, 0.40, 0.25, 0.15,
)  # fmt: skip
"""Relative number of bookings starting in each hour of a weekday [-] (assumption; see the comment above)."""

DEFAULT_HOUR_PROFILE_WEEKEND: tuple[float, ...] = (
    0.10, 0.05, 0.05, 0.05, 0.05, 0.15, 0.35, 0.80, 1.60, 2.40, 2.60, 2.20,
    1.70, 1.70, 1.50, 1.20, 1.00, 0.80, 0.60, 0.45, 0.30, 0.20, 0.10, 0.08,
)  # fmt: skip
"""Relative number of bookings starting in each hour of a weekend day or holiday [-] (assumption)."""

DEFAULT_WEEKEND_FACTOR: float = 1.5
"""Bookings on a weekend day (or holiday) per bookings on a weekday [-]. Assumption: residents' car-sharing is
used more for weekend errands and outings than for commuting."""

DEFAULT_MEAN_DURATION_H: float = 3.0
"""Mean booking length [h] of the lognormal before clipping. Assumption (hourly-priced round-trip
car-sharing)."""

DEFAULT_DURATION_SIGMA: float = 0.8
"""Standard deviation of ln(duration) [-]; 0.8 gives a median of 2.2 h for a 3 h mean. Assumption."""

MIN_DURATION_H: float = 0.5
"""Shortest booking [h] (durations are clipped to [MIN_DURATION_H, MAX_DURATION_H])."""

MAX_DURATION_H: float = 48.0
"""Longest booking [h]."""

DEFAULT_MEAN_SPEED_KMH: float = 10.0
"""Mean distance driven per hour booked [km/h] (the car stands parked for much of a booking). Assumption: a
3 h booking then drives 30 km on average."""

DEFAULT_DISTANCE_SIGMA: float = 0.4
"""Standard deviation of the lognormal noise (mean 1) on distance [-]. Assumption."""

_AWARE = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$")
_MAX_LISTED_PROBLEMS = 20


# ----------------------------------------------------------------------------------------------------
# generation


def _profile(values: Sequence[float], field: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.shape != (24,) or not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
        raise ScenarioError(
            f"{field} must be 24 non-negative numbers (one per hour of day, 00:00 first) with a "
            f"positive sum; got {list(values)!r}"
        )
    return arr / arr.sum()


def _slot_probabilities(hour_profile: np.ndarray) -> np.ndarray:
    """Spread each hour's share evenly over its quarter-hour slots."""
    slots_per_hour = 60 // SLOT_MINUTES
    return np.repeat(hour_profile / slots_per_hour, slots_per_hour)


def daily_booking_rates(
    days: pd.DatetimeIndex,
    *,
    members: int,
    bookings_per_member_per_month: float,
    weekend_factor: float = DEFAULT_WEEKEND_FACTOR,
    holidays: Collection | None = None,
) -> pd.Series:
    """Expected number of bookings on each day [bookings/day].

    The mean rate ``members × bookings_per_member_per_month / DAYS_PER_MONTH`` is split so that a week without
    holidays averages it: a weekday gets ``7 / (5 + 2 f)`` times the mean, a weekend day or holiday ``f``
    times that, with ``f = weekend_factor``.

    Parameters
    ----------
    days : pd.DatetimeIndex
        Midnights of the days (tz-aware or not).
    members : int
        Members of the car-sharing scheme.
    bookings_per_member_per_month : float
        Booking rate [bookings/member/month].
    weekend_factor : float
        Weekend-day rate per weekday rate [-].
    holidays : collection of dates, optional
        Days booked like weekend days (e.g. Japanese national holidays), as ``datetime.date`` or date strings.
    """
    mean_per_day = members * bookings_per_member_per_month / DAYS_PER_MONTH
    weekday_rate = mean_per_day * 7.0 / (5.0 + 2.0 * weekend_factor)
    free = _is_weekend_or_holiday(days, holidays)
    return pd.Series(np.where(free, weekend_factor * weekday_rate, weekday_rate), index=days, name="bookings")


def _is_weekend_or_holiday(days: pd.DatetimeIndex, holidays: Collection | None) -> np.ndarray:
    free = np.asarray(days.dayofweek >= 5)
    if holidays:
        holiday_dates = {pd.Timestamp(h).date() for h in holidays}
        free = free | np.array([d in holiday_dates for d in days.date], dtype=bool)
    return free


def generate_bookings(
    *,
    stations: Sequence[str],
    station_weights: Sequence[float] | None = None,
    members: int,
    bookings_per_member_per_month: float,
    start: pd.Timestamp,
    end: pd.Timestamp,
    seed: int,
    hour_profile_weekday: Sequence[float] = DEFAULT_HOUR_PROFILE_WEEKDAY,
    hour_profile_weekend: Sequence[float] = DEFAULT_HOUR_PROFILE_WEEKEND,
    weekend_factor: float = DEFAULT_WEEKEND_FACTOR,
    mean_duration_h: float = DEFAULT_MEAN_DURATION_H,
    duration_sigma: float = DEFAULT_DURATION_SIGMA,
    min_duration_h: float = MIN_DURATION_H,
    max_duration_h: float = MAX_DURATION_H,
    mean_speed_kmh: float = DEFAULT_MEAN_SPEED_KMH,
    distance_sigma: float = DEFAULT_DISTANCE_SIGMA,
    max_distance_km: float | None = None,
    holidays: Collection | None = None,
) -> pd.DataFrame:
    """Generate a reproducible year (or any period) of bookings.

    Each member has a home station drawn with ``station_weights``; each booking is made by a member drawn
    uniformly and leaves from that member's home station. Per day, the number of bookings is Poisson with the
    rate of :func:`daily_booking_rates`; start times are drawn from the hour-of-day profile of the day type in
    quarter-hour slots; durations are lognormal with mean ``mean_duration_h``, clipped to
    [``min_duration_h``, ``max_duration_h``] and rounded to quarter hours; distance = duration ×
    ``mean_speed_kmh`` × lognormal noise of mean 1, optionally capped at ``max_distance_km``.

    Only bookings lying wholly inside [``start``, ``end``) are kept (those that would start before ``start``
    or return after ``end`` are not generated), so the first and last day of a period that does not start and
    end at midnight have fewer bookings than the rate says.

    Parameters
    ----------
    stations : sequence of str
        Station names, unique.
    station_weights : sequence of float, optional
        Share of members based at each station [-] (normalised); None = equal shares.
    members : int
        Members of the scheme, ≥ 0.
    bookings_per_member_per_month : float
        Booking rate [bookings/member/month], ≥ 0.
    start, end : pd.Timestamp
        The period [start, end), tz-aware; days and hours of day are those of ``start``'s time zone.
    seed : int
        Seed of the numpy random Generator; the same seed gives an identical frame.
    hour_profile_weekday, hour_profile_weekend : sequence of 24 float
        Relative booking starts per hour of day (normalised); see :data:`DEFAULT_HOUR_PROFILE_WEEKDAY`.
    weekend_factor : float
        Bookings per weekend day (or holiday) per bookings per weekday [-].
    mean_duration_h : float
        Mean of the lognormal duration before clipping [h].
    duration_sigma : float
        Standard deviation of ln(duration) [-].
    min_duration_h, max_duration_h : float
        Duration limits [h].
    mean_speed_kmh : float
        Mean distance per hour booked [km/h].
    distance_sigma : float
        Standard deviation of ln(distance noise) [-].
    max_distance_km : float, optional
        Cap on distance per booking [km].
    holidays : collection of dates, optional
        Days booked like weekend days.

    Returns
    -------
    pd.DataFrame
        Columns ``booking_id``, ``station``, ``start``, ``end``, ``distance_km`` [km], ``member_id``; sorted
        by start; ids ``B000001``... in that order, members ``M00001``....

    Raises
    ------
    ScenarioError
        A parameter is out of range; the message names it, its value and what is allowed.
    """
    stations = [str(s) for s in stations]
    weights = _check_generation_inputs(
        stations, station_weights, members, bookings_per_member_per_month, start, end, weekend_factor,
        mean_duration_h, duration_sigma, min_duration_h, max_duration_h, mean_speed_kmh, distance_sigma,
        max_distance_km,
    )  # fmt: skip
    p_weekday = _slot_probabilities(_profile(hour_profile_weekday, "hour_profile_weekday"))
    p_weekend = _slot_probabilities(_profile(hour_profile_weekend, "hour_profile_weekend"))
    rng = np.random.default_rng(seed)

    tz = start.tz
    last = (end.tz_convert(tz) - pd.Timedelta(1, "ns")).normalize()
    days = pd.date_range(start.normalize(), last, freq="D")
    rates = daily_booking_rates(
        days, members=members, bookings_per_member_per_month=bookings_per_member_per_month,
        weekend_factor=weekend_factor, holidays=holidays,
    )  # fmt: skip
    free = _is_weekend_or_holiday(days, holidays)

    home = rng.choice(len(stations), size=members, p=weights) if members > 0 else np.zeros(0, dtype=int)
    counts = rng.poisson(rates.to_numpy()) if members > 0 else np.zeros(len(days), dtype=int)
    day_of_booking = np.repeat(np.arange(len(days)), counts)
    n = len(day_of_booking)
    weekend_booking = free[day_of_booking]
    slot = np.empty(n, dtype=int)
    slot[~weekend_booking] = rng.choice(len(p_weekday), size=int((~weekend_booking).sum()), p=p_weekday)
    slot[weekend_booking] = rng.choice(len(p_weekend), size=int(weekend_booking.sum()), p=p_weekend)
    # lognormal with mean m: mu = ln m − σ²/2 (the mean of exp(N(mu, σ²)) is exp(mu + σ²/2))
    mu = np.log(mean_duration_h) - duration_sigma**2 / 2.0
    duration_h = np.clip(np.exp(rng.normal(mu, duration_sigma, size=n)), min_duration_h, max_duration_h)
    quarter = SLOT_MINUTES / 60.0
    duration_h = np.clip(np.round(duration_h / quarter) * quarter, min_duration_h, max_duration_h)
    noise = np.exp(rng.normal(-(distance_sigma**2) / 2.0, distance_sigma, size=n))
    distance_km = duration_h * mean_speed_kmh * noise
    if max_distance_km is not None:
        distance_km = np.minimum(distance_km, max_distance_km)
    member = rng.integers(0, members, size=n) if members > 0 else np.zeros(0, dtype=int)

    starts = days[day_of_booking] + pd.to_timedelta(slot * SLOT_MINUTES, unit="min")
    ends = starts + pd.to_timedelta(np.round(duration_h * 60).astype(np.int64), unit="min")
    frame = pd.DataFrame(
        {
            "station": np.asarray(stations, dtype=object)[home[member]] if n else np.zeros(0, dtype=object),
            "start": starts,
            "end": ends,
            "distance_km": np.round(distance_km, 1),
            "member": member,
        }
    )
    frame = frame[(frame["start"] >= start) & (frame["end"] <= end)]
    frame = frame.sort_values(["start", "station", "member"], kind="stable").reset_index(drop=True)
    ids = [f"B{i:06d}" for i in range(1, len(frame) + 1)]
    frame.insert(0, "booking_id", pd.Series(ids, index=frame.index, dtype=str))
    members_of = [f"M{m + 1:05d}" for m in frame.pop("member")]
    frame["member_id"] = pd.Series(members_of, index=frame.index, dtype=str)
    frame["station"] = frame["station"].astype(str)
    return frame


def _check_generation_inputs(
    stations: list[str],
    station_weights: Sequence[float] | None,
    members: int,
    rate: float,
    start: pd.Timestamp,
    end: pd.Timestamp,
    weekend_factor: float,
    mean_duration_h: float,
    duration_sigma: float,
    min_duration_h: float,
    max_duration_h: float,
    mean_speed_kmh: float,
    distance_sigma: float,
    max_distance_km: float | None,
) -> np.ndarray:
    if not stations:
        raise ScenarioError("generate_bookings: stations is empty; give at least one station name")
    duplicated = sorted({s for s in stations if stations.count(s) > 1})
    if duplicated:
        raise ScenarioError(f"generate_bookings: station names must be unique; repeated: {duplicated}")
    if station_weights is None:
        weights = np.full(len(stations), 1.0 / len(stations))
    else:
        weights = np.asarray(station_weights, dtype=float)
        if weights.shape != (len(stations),) or np.any(~np.isfinite(weights)) or np.any(weights < 0):
            raise ScenarioError(
                f"generate_bookings: station_weights = {list(station_weights)!r} must be {len(stations)} "
                "non-negative numbers, one per station"
            )
        if weights.sum() <= 0:
            raise ScenarioError("generate_bookings: station_weights sum to 0; at least one must be > 0")
        weights = weights / weights.sum()
    if not isinstance(members, int | np.integer) or members < 0:
        raise ScenarioError(f"generate_bookings: members = {members!r} must be an integer ≥ 0")
    for name, value, low in (
        ("bookings_per_member_per_month", rate, 0.0),
        ("duration_sigma", duration_sigma, 0.0),
        ("distance_sigma", distance_sigma, 0.0),
    ):
        if not (np.isfinite(value) and value >= low):
            raise ScenarioError(f"generate_bookings: {name} = {value} must be a number ≥ {low}")
    for name, value in (
        ("weekend_factor", weekend_factor),
        ("mean_duration_h", mean_duration_h),
        ("min_duration_h", min_duration_h),
        ("max_duration_h", max_duration_h),
        ("mean_speed_kmh", mean_speed_kmh),
    ):
        if not (np.isfinite(value) and value > 0):
            raise ScenarioError(f"generate_bookings: {name} = {value} must be a number > 0")
    if min_duration_h > max_duration_h:
        raise ScenarioError(
            f"generate_bookings: min_duration_h = {min_duration_h} exceeds max_duration_h = {max_duration_h}"
        )
    if max_distance_km is not None and not max_distance_km > 0:
        raise ScenarioError(f"generate_bookings: max_distance_km = {max_distance_km} must be > 0 when given")
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, pd.Timestamp) or value.tz is None:
            raise ScenarioError(
                f"generate_bookings: {name} = {value!r} must be a tz-aware pandas Timestamp, e.g. "
                "pd.Timestamp('2024-01-01', tz='Asia/Tokyo')"
            )
    if not start < end:
        raise ScenarioError(f"generate_bookings: the period must have start < end; got {start} to {end}")
    return weights


# ----------------------------------------------------------------------------------------------------
# reading and checking


def _problem(path: object, row: int | None, column: str, value: object, what: str) -> str:
    where = f"{path}" if row is None else f"{path}, row {row} (line {row + 1})"
    return f"{where}, column {column!r}: {value!r} {what}"


def _raise_problems(path: object, problems: list[str]) -> None:
    if not problems:
        return
    shown = problems[:_MAX_LISTED_PROBLEMS]
    more = len(problems) - len(shown)
    tail = f"\n  ... and {more} more" if more else ""
    raise DataError(f"{path}: {len(problems)} problem(s) in the bookings:\n  " + "\n  ".join(shown) + tail)


def _check_timezone(timezone: str) -> None:
    try:
        pd.Timestamp("2000-01-01").tz_localize(timezone)
    except Exception:  # zoneinfo / pytz raise different types
        raise ScenarioError(
            f"timezone {timezone!r} is not a known IANA time zone name (e.g. 'Asia/Tokyo', 'UTC')"
        ) from None


def parse_times(values: pd.Series, timezone: str) -> tuple[pd.Series, pd.Series]:
    """Parse time strings to tz-aware timestamps; naive ones are taken as local time in ``timezone``.

    Accepted: ISO 8601 (``2024-04-01 09:30``, ``2024-04-01T09:30:00+09:00``, ``...Z``) and ``2024/04/01
    09:30``. Strings with a UTC offset keep their instant and are converted to ``timezone``.

    Parameters
    ----------
    values : pd.Series of str
        The strings.
    timezone : str
        IANA time zone for naive strings and for the result.

    Returns
    -------
    times : pd.Series
        datetime64[ns, timezone]; NaT where a string could not be read.
    problem : pd.Series of str
        Empty where the time was read, otherwise what was wrong.
    """
    text = values.fillna("").astype(str).str.strip()
    times = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[ns, {timezone}]")
    problem = pd.Series("", index=values.index, dtype=object)
    aware = text.str.contains(_AWARE, regex=True)
    if aware.any():
        parsed = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
        times[aware] = parsed.dt.tz_convert(timezone).dt.as_unit("ns")
    naive = ~aware & (text != "")
    if naive.any():
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        for fmt in ("%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d"):
            retry = parsed.isna()
            if retry.any():
                parsed[retry] = pd.to_datetime(text[naive][retry], format=fmt, errors="coerce")
        readable = parsed.notna()
        local = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.as_unit("ns")
        times[naive] = local
        gap = naive.copy()
        gap[naive] = readable & local.isna()
        problem[gap] = (
            f"does not exist or is ambiguous in {timezone} (daylight-saving change); give it with a UTC offset"
        )
    problem[text == ""] = "is missing; a time is required"
    unreadable = times.isna() & (problem == "")
    problem[unreadable] = "is not a readable time; use ISO 8601 such as 2024-04-01 09:30 or 2024-04-01T09:30+09:00"
    return times, problem


def read_bookings_csv(
    path: str | Path,
    *,
    timezone: str,
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    stations: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read and validate a bookings CSV file.

    Columns (header names, any order, extra columns ignored): ``booking_id``, ``station``, ``start``, ``end``,
    ``distance_km``, optional ``member_id``. Times are ISO 8601 (or ``YYYY/MM/DD HH:MM``); a time without a
    UTC offset is read as local time in ``timezone``, one with an offset keeps its instant. Every row is
    checked and all problems are reported together.

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8).
    timezone : str
        IANA time zone (e.g. ``"Asia/Tokyo"``) for naive times and for the returned columns.
    period : (pd.Timestamp, pd.Timestamp), optional
        Planning period [start, end); every booking must lie inside it.
    stations : collection of str, optional
        Valid station names; every booking's station must be one of them.

    Returns
    -------
    pd.DataFrame
        Columns :data:`BOOKING_COLUMNS` (+ ``member_id`` when present), in file order, ``start``/``end`` as
        datetime64[ns, timezone], ``distance_km`` [km] float.

    Raises
    ------
    DataError
        The file is missing or unreadable, or rows break the rules; the message names the file, each bad row
        (1-based data row, and its line in the file), the column, the value and what is allowed: missing
        column, unreadable time, end not after start, negative or non-numeric distance, unknown station,
        booking outside the period, duplicate booking id.
    """
    path = Path(path)
    _check_timezone(timezone)
    if not path.is_file():
        raise DataError(f"{path}: bookings file not found")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path}: not a readable CSV file: {err}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in BOOKING_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {missing}; found {list(raw.columns)}; a bookings file needs "
            f"the columns {list(BOOKING_COLUMNS)} (and optionally {list(OPTIONAL_BOOKING_COLUMNS)})"
        )
    raw.index = pd.RangeIndex(1, len(raw) + 1)  # 1-based data row numbers
    problems: list[tuple[int, str]] = []

    def add(mask: pd.Series, column: str, what: str | pd.Series) -> None:
        for row in mask.index[mask.to_numpy()]:
            text = what if isinstance(what, str) else what[row]
            problems.append((row, _problem(path, row, column, raw.at[row, column], text)))

    ids = raw["booking_id"].str.strip()
    add(ids == "", "booking_id", "is missing; every booking needs a unique id")
    first_row = {}
    dup_text = pd.Series("", index=raw.index, dtype=object)
    for row, value in ids.items():
        if value and value in first_row:
            dup_text[row] = f"duplicates the booking id of row {first_row[value]}; ids must be unique"
        else:
            first_row.setdefault(value, row)
    add(dup_text != "", "booking_id", dup_text)

    station = raw["station"].str.strip()
    add(station == "", "station", "is missing; every booking needs its station")
    if stations is not None:
        valid = sorted(str(s) for s in stations)
        unknown = (station != "") & ~station.isin(valid)
        unknown_text = pd.Series("", index=raw.index, dtype=object)
        for row in unknown.index[unknown.to_numpy()]:
            close = difflib.get_close_matches(station[row], valid, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            unknown_text[row] = f"is not a station of the scenario{hint}; valid stations: {', '.join(valid)}"
        add(unknown, "station", unknown_text)

    start, start_problem = parse_times(raw["start"], timezone)
    end, end_problem = parse_times(raw["end"], timezone)
    add(start_problem != "", "start", start_problem)
    add(end_problem != "", "end", end_problem)
    both = start.notna() & end.notna()
    not_after = both & (end <= start)
    add(not_after, "end", f"is not after the start; a booking must end after it starts (times in {timezone})")

    distance = pd.to_numeric(raw["distance_km"].str.strip(), errors="coerce")
    add(
        distance.isna() | ~np.isfinite(distance),
        "distance_km",
        "is not a number; give the distance in km, ≥ 0",
    )
    add(distance < 0, "distance_km", "is negative; a distance must be ≥ 0 km")

    if period is not None:
        p0, p1 = (pd.Timestamp(t) for t in period)
        if p0.tz is None or p1.tz is None:
            raise ScenarioError(f"period = ({p0}, {p1}) must be tz-aware timestamps")
        span = f"the planning period is [{p0.tz_convert(timezone)}, {p1.tz_convert(timezone)})"
        add(start.notna() & (start < p0), "start", f"lies before the planning period; {span}")
        add(end.notna() & (end > p1), "end", f"lies after the planning period; {span}")

    problems.sort(key=lambda item: item[0])
    _raise_problems(path, [text for _, text in problems])

    out = pd.DataFrame(
        {
            "booking_id": ids.astype(str),
            "station": station.astype(str),
            "start": start,
            "end": end,
            "distance_km": distance.astype(float),
        }
    )
    if "member_id" in raw.columns:
        out["member_id"] = raw["member_id"].str.strip().astype(str)
    return out.reset_index(drop=True)


def check_bookings(bookings: pd.DataFrame, *, name: str = "bookings") -> None:
    """Check a bookings frame: columns, tz-aware times, end after start, distance ≥ 0, unique ids.

    Parameters
    ----------
    bookings : pd.DataFrame
        Columns :data:`BOOKING_COLUMNS`.
    name : str
        What to call the frame in messages.

    Raises
    ------
    DataError
        The first rule broken, naming the booking id, the column and the value.
    """
    missing = [c for c in BOOKING_COLUMNS if c not in bookings.columns]
    if missing:
        raise DataError(f"{name}: missing column(s) {missing}; found {list(bookings.columns)}")
    for column in ("start", "end"):
        dtype = bookings[column].dtype
        if not isinstance(dtype, pd.DatetimeTZDtype):
            raise DataError(f"{name}: column {column!r} must hold tz-aware timestamps, got dtype {dtype}")
        if bookings[column].isna().any():
            row = bookings.index[bookings[column].isna().to_numpy()][0]
            raise DataError(f"{name}: column {column!r} is empty for booking {bookings.at[row, 'booking_id']!r}")
    bad = bookings["end"] <= bookings["start"]
    if bad.any():
        row = bookings.index[bad.to_numpy()][0]
        raise DataError(
            f"{name}: booking {bookings.at[row, 'booking_id']!r}: end {bookings.at[row, 'end']} is not after "
            f"start {bookings.at[row, 'start']}"
        )
    distance = pd.to_numeric(bookings["distance_km"], errors="coerce")
    bad = distance.isna() | (distance < 0)
    if bad.any():
        row = bookings.index[bad.to_numpy()][0]
        raise DataError(
            f"{name}: booking {bookings.at[row, 'booking_id']!r}: "
            f"distance_km {bookings.at[row, 'distance_km']!r} must be a number ≥ 0"
        )
    duplicated = bookings["booking_id"].duplicated()
    if duplicated.any():
        repeated = sorted(map(str, bookings.loc[duplicated, "booking_id"].unique()))
        raise DataError(f"{name}: duplicate booking ids {repeated[:10]}; booking ids must be unique")
