"""Metrics per station and day: bookings ready on time, energy delivered vs needed, PV share, grid, peak.

A day is the town's calendar day. The plan of a step is the part of the latest schedule computed before the
step began that covers it (schedules roll: a newer one replaces the rest of an older one); what was delivered
comes from the chargers' energy registers (meter values, start and stop readings of each session).
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections import defaultdict

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from chisan.service import models, schemas


def day_window(day: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a calendar day on the town's clock, as tz-aware UTC instants."""
    tz = zoneinfo.ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _plans(session: Session, municipality_id: int, start: dt.datetime, end: dt.datetime) -> list[models.Schedule]:
    """Schedules whose horizon meets [start, end), oldest first."""
    rows = session.scalars(
        sa.select(models.Schedule)
        .where(models.Schedule.municipality_id == municipality_id, models.Schedule.start_at < end)
        .order_by(models.Schedule.created_at, models.Schedule.id)
    ).all()
    return [s for s in rows if s.start_at + dt.timedelta(minutes=s.step_minutes * s.n_steps) > start]


def _stitch(plans: list[models.Schedule], steps: pd.DatetimeIndex) -> list[tuple[models.Schedule, int] | None]:
    """For each step, the schedule in force and the step's position in it (None when no schedule covers it)."""
    out: list[tuple[models.Schedule, int] | None] = []
    for t in steps:
        chosen = None
        for s in plans:  # oldest first: the last one that covers t and was made before t (or the first one)
            step = dt.timedelta(minutes=s.step_minutes)
            k = int((t - s.start_at) // step)
            if 0 <= k < s.n_steps and (chosen is None or s.created_at <= t):
                chosen = (s, k)
        out.append(chosen)
    return out


def _delivered_wh(
    session: Session, municipality_id: int, start: dt.datetime, end: dt.datetime
) -> tuple[dict[int, float], dict[int, dict[int, float]]]:
    """Energy metered per charger in [start, end) [Wh], and per charger and 15-minute bucket [Wh]."""
    sessions = session.scalars(
        sa.select(models.ChargingSession).where(
            models.ChargingSession.municipality_id == municipality_id,
            models.ChargingSession.started_at < end,
            sa.or_(models.ChargingSession.stopped_at.is_(None), models.ChargingSession.stopped_at >= start),
        )
    ).all()
    total: dict[int, float] = defaultdict(float)
    buckets: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for row in sessions:
        samples = session.execute(
            sa.select(models.MeterSample.sampled_at, models.MeterSample.energy_wh)
            .where(models.MeterSample.session_id == row.id, models.MeterSample.energy_wh.is_not(None))
            .order_by(models.MeterSample.sampled_at)
        ).all()
        points = [(row.started_at, row.meter_start_wh), *samples]
        if row.stopped_at is not None and row.meter_stop_wh is not None:
            points.append((row.stopped_at, row.meter_stop_wh))
        for (_t0, e0), (t1, e1) in itertools.pairwise(points):
            if start <= t1 < end and e1 > e0:
                total[row.charger_id] += e1 - e0
                buckets[row.charger_id][int((t1 - start).total_seconds() // 900)] += e1 - e0
    return total, buckets


def station_day_metrics(
    session: Session, *, municipality: models.Municipality, day: dt.date
) -> list[schemas.StationDayMetrics]:
    """Metrics of each station of the town on ``day`` (see the module docstring)."""
    start, end = day_window(day, municipality.timezone)
    plans = _plans(session, municipality.id, start, end)
    step_minutes = plans[-1].step_minutes if plans else 15
    steps = pd.date_range(start, end, freq=f"{step_minutes}min", inclusive="left")
    dt_hours = step_minutes / 60.0
    in_force = _stitch(plans, list(steps.to_pydatetime()))
    station_plans: dict[int, dict[int, models.ScheduleStation]] = {}
    for s in plans:
        station_plans[s.id] = {row.station_id: row for row in s.stations}
    stations = session.scalars(
        sa.select(models.Station).where(models.Station.municipality_id == municipality.id).order_by(models.Station.id)
    ).all()
    chargers = session.execute(
        sa.select(models.Charger.id, models.Charger.station_id).where(models.Charger.municipality_id == municipality.id)
    ).all()
    delivered, buckets = _delivered_wh(session, municipality.id, start, end)
    bookings = session.execute(
        sa.select(models.Booking.id, models.Booking.start_at, models.Booking.trip_energy_kwh, models.Vehicle.station_id)
        .join(models.Vehicle, models.Vehicle.id == models.Booking.vehicle_id)
        .where(
            models.Booking.municipality_id == municipality.id,
            models.Booking.status != "cancelled",
            models.Booking.start_at >= start,
            models.Booking.start_at < end,
        )
    ).all()
    out = []
    for st in stations:
        charge = np.zeros(len(steps))
        pv = np.zeros(len(steps))
        grid = np.zeros(len(steps))
        price = np.zeros(len(steps))
        limit = None
        for i, chosen in enumerate(in_force):
            if chosen is None:
                continue
            s, k = chosen
            row = station_plans[s.id].get(st.id)
            if row is None:
                continue
            charge[i], pv[i], grid[i] = row.charge_kw[k], row.pv_kw[k], row.grid_kw[k]
            price[i] = s.import_price_per_kwh[k]
            limit = row.limit_kw
        own = [b for b in bookings if b[3] == st.id]
        ready = 0
        for bid, bstart, _e, _s in own:
            covering = [
                s
                for s in plans
                if s.created_at <= bstart
                and s.start_at <= bstart < s.start_at + dt.timedelta(minutes=s.step_minutes * s.n_steps)
            ]
            if covering and bid not in covering[-1].at_risk_booking_ids:
                ready += 1
        ids = [c[0] for c in chargers if c[1] == st.id]
        measured = np.zeros(96)
        for cid in ids:
            for b, wh in buckets.get(cid, {}).items():
                if b < 96:
                    measured[b] += wh / 1000.0 / 0.25
        planned_kwh = float(charge.sum() * dt_hours)
        out.append(
            schemas.StationDayMetrics(
                station_id=st.id,
                day=day,
                bookings=len(own),
                bookings_ready_on_time=ready,
                energy_needed_kwh=round(float(sum(b[2] for b in own)), 3),
                energy_planned_kwh=round(planned_kwh, 3),
                energy_delivered_kwh=round(sum(delivered.get(cid, 0.0) for cid in ids) / 1000.0, 3),
                pv_share_fraction=round(float(pv.sum() * dt_hours) / planned_kwh, 4) if planned_kwh > 1e-9 else None,
                grid_kwh=round(float(grid.sum() * dt_hours), 3),
                grid_cost=round(float((grid * price).sum() * dt_hours), 2),
                peak_kw=round(float(max(charge.max(initial=0.0), measured.max(initial=0.0))), 3),
                limit_kw=limit,
            )
        )
    return out
