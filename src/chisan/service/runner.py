"""Operations that span the database, the optimiser and the charge points: scheduling and sending profiles."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

import sqlalchemy as sa

from chisan.service import models, scheduler
from chisan.service.core.config import Settings
from chisan.service.core.db import Database, read_only
from chisan.service.ocpp.central_system import CentralSystem

LOGGER = logging.getLogger("chisan.service.runner")


class Operations:
    """Runs schedules (on request and every ``settings.schedule_interval_s``) and sends their profiles.

    Parameters
    ----------
    database : Database
    settings : Settings
    clock : callable
        Current time, tz-aware UTC.
    central : CentralSystem or None
        Where profiles go (None: schedules are computed and stored only).
    """

    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Callable[[], dt.datetime],
        central: CentralSystem | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.central = central
        self._locks: dict[int, asyncio.Lock] = {}
        self._pushed: dict[int, int] = {}

    def _compute(self, municipality_id: int) -> int:
        """Read the town's state, solve without holding a transaction, then store the result in a short one.

        The solve takes seconds; inside a transaction it would hold SQLite's write lock (and a PostgreSQL
        snapshot) all that time. The state is read in a read-only transaction that ends before the solve.
        """
        now = self.clock()
        with self.database.sessionmaker() as session:
            with read_only():
                municipality = session.get(models.Municipality, municipality_id)
                state = scheduler.load_state(
                    session,
                    municipality=municipality,
                    now=now,
                    step_minutes=self.settings.step_minutes,
                    horizon_hours=self.settings.horizon_hours,
                    pv_credit_per_kwh=self.settings.pv_credit_per_kwh,
                )
                slug = municipality.slug
                session.rollback()  # nothing was written: end the read before solving
            result = scheduler.compute_schedule(state, time_limit_s=self.settings.solver_time_limit_s)
            LOGGER.info(
                "schedule of %s: %s (%s), %d cars, %.2f s, verified=%s %s",
                slug,
                result.method,
                result.solver_status,
                len(state.vehicles),
                result.solve_seconds,
                result.verified,
                result.message,
            )
            schedule = scheduler.store_schedule(
                session, municipality_id=municipality_id, state=state, result=result, now=now
            )
            return schedule.id

    async def run_schedule(self, municipality_id: int) -> tuple[int, dict[int, str]]:
        """Compute and store a schedule of the town, then send its profiles to the connected chargers.

        Returns the schedule id and each session's answer to its profile. Runs of one town never overlap.
        """
        lock = self._locks.setdefault(municipality_id, asyncio.Lock())
        async with lock:
            schedule_id = await asyncio.to_thread(self._compute, municipality_id)
            answers = {}
            if self.central is not None:
                answers = await self.central.send_profiles(municipality_id=municipality_id)
                self._pushed[municipality_id] = max(self._pushed.get(municipality_id, 0), schedule_id)
            return schedule_id, answers

    async def periodic(self) -> None:
        """Schedule every town every ``schedule_interval_s`` seconds, forever (errors are logged, not raised)."""
        interval = self.settings.schedule_interval_s
        while True:
            await asyncio.sleep(interval)
            ids = await asyncio.to_thread(self._municipality_ids)
            for mid in ids:
                try:
                    await self.run_schedule(mid)
                except Exception:
                    LOGGER.exception("scheduled run of municipality %s failed", mid)

    def _latest_schedules(self) -> dict[int, int]:
        with read_only(), self.database.sessionmaker() as session:  # every 2 s: never take SQLite's write lock
            rows = session.execute(
                sa.select(models.Schedule.municipality_id, sa.func.max(models.Schedule.id)).group_by(
                    models.Schedule.municipality_id
                )
            ).all()
            return {int(m): int(s) for m, s in rows}

    async def watch(self, interval_s: float = 2.0) -> None:
        """Send the profiles of schedules stored by other processes of the service (checked every ``interval_s``).

        Only the process that holds the charge points' connections can send them; schedules computed elsewhere
        (another worker, ``POST /api/v1/schedules`` served by it) reach the chargers within ``interval_s``.
        """
        if self.central is None:
            return
        self._pushed.update(await asyncio.to_thread(self._latest_schedules))
        while True:
            await asyncio.sleep(interval_s)
            try:
                latest = await asyncio.to_thread(self._latest_schedules)
                for mid, sid in latest.items():
                    if sid > self._pushed.get(mid, 0):
                        self._pushed[mid] = sid
                        await self.central.send_profiles(municipality_id=mid)
            except Exception:
                LOGGER.exception("sending the profiles of new schedules failed")

    def _municipality_ids(self) -> list[int]:
        with read_only(), self.database.sessionmaker() as session:
            return list(session.scalars(sa.select(models.Municipality.id)).all())
