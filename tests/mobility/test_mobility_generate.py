"""Generated bookings: reproducible, Poisson counts derived from the rates, profiles followed, in period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from chisan.exceptions import ScenarioError
from chisan.mobility.bookings import (
    BOOKING_COLUMNS,
    DAYS_PER_MONTH,
    DEFAULT_HOUR_PROFILE_WEEKDAY,
    DEFAULT_HOUR_PROFILE_WEEKEND,
    generate_bookings,
)

TZ = "Asia/Tokyo"


def _year(**kwargs):
    params = {
        "stations": ["north", "south"],
        "members": 200,
        "bookings_per_member_per_month": 2.0,
        # 2024-01-01 is a Monday; 2024-12-30 is the Monday 52 weeks later: 364 days = 260 weekdays + 104
        # weekend days
        "start": pd.Timestamp("2024-01-01", tz=TZ),
        "end": pd.Timestamp("2024-12-30", tz=TZ),
        "seed": 7,
    }
    params.update(kwargs)
    return generate_bookings(**params)


def test_same_seed_identical_other_seed_different():
    first, again, other = _year(), _year(), _year(seed=8)
    pd.testing.assert_frame_equal(first, again)
    assert list(first.columns) == [*BOOKING_COLUMNS, "member_id"]
    assert len(first) != len(other) or not first["start"].equals(other["start"])


def test_counts_within_poisson_bands():
    bookings = _year()
    # mean rate r = members × rate / days per month = 200 × 2 / 30.4375 = 13.142 bookings/day; with weekend
    # factor f = 1.5 a weekday gets r × 7 / (5 + 2f) = 11.499 and a weekend day 1.5 × that = 17.249.
    r = 200 * 2.0 / DAYS_PER_MONTH
    weekday_rate = r * 7 / (5 + 2 * 1.5)
    expected_weekday = 260 * weekday_rate  # 2989.8
    expected_weekend = 104 * 1.5 * weekday_rate  # 1793.9
    # total = members × rate × months = 200 × 2 × (364 / 30.4375) = 4783.6
    assert expected_weekday + expected_weekend == pytest.approx(200 * 2.0 * 364 / DAYS_PER_MONTH, rel=1e-12)
    weekend = bookings["start"].dt.dayofweek >= 5
    # bands: ± 4 standard deviations of a Poisson count (√λ); the few bookings of the last day that would
    # return after the period end are not generated (≲ 10 of them), far inside the band.
    for observed, expected in (
        (int((~weekend).sum()), expected_weekday),
        (int(weekend.sum()), expected_weekend),
    ):
        assert abs(observed - expected) < 4 * np.sqrt(expected), (observed, expected)


def test_start_hours_follow_the_profiles_chi_square():
    bookings = _year(members=1000, bookings_per_member_per_month=3.0, end=pd.Timestamp("2024-04-01", tz=TZ))
    start = bookings["start"]
    assert set(start.dt.minute.unique()) <= {0, 15, 30, 45}
    weekend = start.dt.dayofweek >= 5
    for mask, profile in ((~weekend, DEFAULT_HOUR_PROFILE_WEEKDAY), (weekend, DEFAULT_HOUR_PROFILE_WEEKEND)):
        observed = np.bincount(start[mask].dt.hour, minlength=24)
        expected = np.asarray(profile) / np.sum(profile) * observed.sum()
        assert expected.min() >= 5  # the chi-square approximation holds
        # p > 0.001: the sample is fixed by the seed, so this cannot flake; a wrong profile gives p ≈ 0
        assert stats.chisquare(observed, expected).pvalue > 1e-3
    # a flat profile is clearly rejected by the same test (the test has power)
    observed = np.bincount(start[~weekend].dt.hour, minlength=24)
    assert stats.chisquare(observed, np.full(24, observed.sum() / 24)).pvalue < 1e-6


def test_bookings_lie_within_period_durations_and_distances():
    start, end = pd.Timestamp("2024-03-01 09:00", tz=TZ), pd.Timestamp("2024-03-08 18:00", tz=TZ)
    bookings = _year(members=500, start=start, end=end, mean_speed_kmh=12.0)
    assert len(bookings) > 100
    assert (bookings["start"] >= start).all() and (bookings["end"] <= end).all()
    duration_h = (bookings["end"] - bookings["start"]).dt.total_seconds() / 3600
    assert duration_h.min() >= 0.5 and duration_h.max() <= 48.0
    assert np.allclose(duration_h * 4, np.round(duration_h * 4))  # quarter hours
    assert (bookings["distance_km"] >= 0).all()
    # E[distance / duration] = speed × E[noise] = 12 km/h (noise has mean 1). Tolerance: 4 standard errors of
    # the mean of a lognormal with σ = 0.4 (sd ≈ 0.42 × 12 km/h) plus 0.05 km/h for rounding to 0.1 km.
    ratio = bookings["distance_km"] / duration_h
    se = 0.42 * 12.0 / np.sqrt(len(ratio))
    assert ratio.mean() == pytest.approx(12.0, abs=4 * se + 0.05)
    assert bookings["booking_id"].is_unique
    assert bookings["start"].is_monotonic_increasing


def test_station_shares_follow_weights():
    bookings = _year(
        stations=["a", "b", "c"],
        station_weights=[2, 1, 1],
        members=4000,
        end=pd.Timestamp("2024-02-01", tz=TZ),
    )
    share = bookings["station"].value_counts(normalize=True)
    # members are placed by the weights (0.5, 0.25, 0.25); the spread of the share is dominated by that
    # multinomial draw: sd = √(p(1−p)/members) ≤ 0.0079; band 4 sd, widened to 0.04 for the booking-count
    # noise
    assert share["a"] == pytest.approx(0.5, abs=0.04)
    assert share["b"] == pytest.approx(0.25, abs=0.04)
    assert share["c"] == pytest.approx(0.25, abs=0.04)


def test_holidays_booked_like_weekend_days():
    # 2024-04-29 (Showa Day, a Monday): with holidays given, its expected count is that of a weekend day.
    day = pd.Timestamp("2024-04-29", tz=TZ)
    common = {"members": 3000, "start": day, "end": day + pd.Timedelta(days=1)}
    plain, holiday = _year(**common), _year(**common, holidays=["2024-04-29"])
    r = 3000 * 2.0 / DAYS_PER_MONTH
    weekday_rate = r * 7 / 8  # 172.5 bookings
    assert abs(len(plain) - weekday_rate) < 4 * np.sqrt(weekday_rate) + 10  # +10: late bookings cut at midnight
    assert abs(len(holiday) - 1.5 * weekday_rate) < 4 * np.sqrt(1.5 * weekday_rate) + 10


def test_no_members_gives_empty_frame():
    bookings = _year(members=0)
    assert bookings.empty
    assert list(bookings.columns) == [*BOOKING_COLUMNS, "member_id"]
    assert bookings["booking_id"].dtype == bookings["station"].dtype == bookings["member_id"].dtype == "str"
    assert str(bookings["start"].dtype) == f"datetime64[ns, {TZ}]"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"start": pd.Timestamp("2024-01-01")}, "start = .* tz-aware"),
        ({"station_weights": [1.0]}, "station_weights = \\[1.0\\] must be 2"),
        ({"stations": ["a", "a"]}, "unique; repeated: \\['a'\\]"),
        ({"members": -5}, "members = -5"),
        ({"hour_profile_weekday": [1.0] * 23}, "hour_profile_weekday must be 24"),
        ({"end": pd.Timestamp("2023-01-01", tz=TZ)}, "start < end"),
        ({"mean_duration_h": 0.0}, "mean_duration_h = 0.0 must be a number > 0"),
    ],
)
def test_bad_parameters_raise_scenario_error(change, match):
    with pytest.raises(ScenarioError, match=match):
        _year(**change)
