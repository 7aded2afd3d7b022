"""Bounds of a booking (how far ahead, how long) and of the work its admission may take."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from chisan.service.errors import FieldError, UnavailableError

ADMISSION_STEP_HOURS = 0.25
"""Step of the admission check [h] (the schedule's step)."""

PAST_TOLERANCE = dt.timedelta(minutes=1)
"""A booking may start this much before now (the request's own travel time)."""


@dataclass(frozen=True)
class BookingLimits:
    """Bounds of a booking and of the work its admission may take.

    Attributes
    ----------
    horizon : timedelta
        A booking starts at most this far after now.
    max_span : timedelta
        A booking (or its late return) lasts at most this long.
    clock_skew : timedelta
        A reported time (telemetry, a return) may be this far after now.
    deadline : float or None
        ``time.monotonic()`` after which the admission stops and nothing is stored (503).
    """

    horizon: dt.timedelta = dt.timedelta(days=90)
    max_span: dt.timedelta = dt.timedelta(days=7)
    clock_skew: dt.timedelta = dt.timedelta(minutes=5)
    deadline: float | None = None

    @classmethod
    def of(cls, settings, *, budget: bool = False) -> BookingLimits:
        """The limits of a :class:`~chisan.service.core.config.Settings`; with ``budget``, a deadline from now."""
        return cls(
            horizon=dt.timedelta(days=settings.booking_horizon_days),
            max_span=dt.timedelta(hours=settings.booking_max_hours),
            clock_skew=dt.timedelta(seconds=settings.clock_skew_s),
            deadline=time.monotonic() + settings.request_budget_s if budget else None,
        )

    def check_time_left(self) -> None:
        """Raise :class:`UnavailableError` (503) when the deadline has passed."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise UnavailableError("the admission took longer than its time budget; nothing was stored, try again")

    def check_window(self, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
        """A booking from ``start`` to ``end`` starts within the horizon and lasts at most ``max_span``."""
        latest = now + self.horizon
        if start > latest:
            raise FieldError(
                f"start_at: {start.isoformat()} is more than {days_text(self.horizon)} days ahead; the latest start "
                f"allowed now is {latest.isoformat()}",
                field="start_at",
            )
        if end - start > self.max_span:
            raise FieldError(
                f"end_at: the booking would last {hours_text(end - start)} h (from {start.isoformat()} to "
                f"{end.isoformat()}); at most {hours_text(self.max_span)} h allowed",
                field="end_at",
            )

    def check_reported(self, at: dt.datetime, now: dt.datetime, *, field: str) -> None:
        """A time reported by a car or a member is not in the future (beyond the clock skew allowed)."""
        if at > now + self.clock_skew:
            raise FieldError(
                f"{field}: {at.isoformat()} is in the future (now {now.isoformat()}, clocks may run ahead by "
                f"{self.clock_skew.total_seconds():g} s)",
                field=field,
            )


DEFAULT_LIMITS = BookingLimits()


def days_text(span: dt.timedelta) -> str:
    """A span in days, as few digits as it needs (for messages)."""
    return f"{span.total_seconds() / 86400:g}"


def hours_text(span: dt.timedelta) -> str:
    """A span in hours, as few digits as it needs (for messages)."""
    return f"{span.total_seconds() / 3600:g}"
