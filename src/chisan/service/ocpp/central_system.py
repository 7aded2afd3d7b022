"""The OCPP central system: a websockets server on its own port, one handler object per connected charge point.

Charge points connect to ``ws://host:port/<identity>`` with the ``ocpp1.6`` or ``ocpp2.0.1`` subprotocol; an
identity that no town registered is refused at the handshake (HTTP 404). Sessions live in the database, so a
restarted service takes up the transactions the chargers still run: their meter values and the end of the
transaction find their session by transaction id, and the latest schedule's profiles are sent again when a
charger with active sessions connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from chisan.service.core.db import Database
from chisan.service.ocpp import store
from chisan.service.ocpp.v16 import PROTOCOL as PROTOCOL_16
from chisan.service.ocpp.v16 import ChargePoint16
from chisan.service.ocpp.v201 import PROTOCOL as PROTOCOL_201
from chisan.service.ocpp.v201 import ChargePoint201

LOGGER = logging.getLogger("chisan.service.ocpp")

HANDLERS = {PROTOCOL_201: ChargePoint201, PROTOCOL_16: ChargePoint16}
"""The charge point class of each OCPP version spoken (websocket subprotocol); the first a client offers wins."""

SUBPROTOCOLS = tuple(HANDLERS)


def identity_of(path: str) -> str:
    """Charge point identity: the last segment of the websocket URL path."""
    return path.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


class CentralSystem:
    """The central system of the service.

    Parameters
    ----------
    database : Database
    clock : callable
        Returns the current time (tz-aware UTC); tests give a fixed one.
    heartbeat_interval_s : int
        Interval given in BootNotification [s].
    overdraw_tolerance_fraction, overdraw_tolerance_w : float
        See :func:`chisan.service.ocpp.store.meter_values`.
    response_timeout_s : float
        How long a call to a charge point waits for its answer [s].
    """

    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], dt.datetime],
        heartbeat_interval_s: int = 300,
        overdraw_tolerance_fraction: float = 0.05,
        overdraw_tolerance_w: float = 200.0,
        response_timeout_s: float = 30.0,
    ) -> None:
        self.database = database
        self.now = clock
        self.heartbeat_interval_s = heartbeat_interval_s
        self.overdraw_tolerance_fraction = overdraw_tolerance_fraction
        self.overdraw_tolerance_w = overdraw_tolerance_w
        self.response_timeout_s = response_timeout_s
        self.connections: dict[str, ChargePoint16 | ChargePoint201] = {}
        self._sent: set[tuple[int, int, int]] = set()  # (connection, session, schedule) already sent
        self._push_locks: dict[str, asyncio.Lock] = {}
        self._server: Server | None = None
        self._tasks: set[asyncio.Task] = set()

    # --- database access from the event loop

    def _call(self, fn, kwargs):
        with self.database.sessionmaker() as session:
            return fn(session, **kwargs)

    async def db(self, fn, **kwargs):
        """Run ``fn(session, **kwargs)`` in a worker thread with its own session."""
        return await asyncio.to_thread(self._call, fn, kwargs)

    # --- server

    async def _check_identity(self, connection: ServerConnection, request):
        identity = identity_of(request.path)
        charger = await self.db(lambda s: store.crud.get_charger_by_ocpp_id(s, ocpp_id=identity))
        if charger is None:
            return connection.respond(HTTPStatus.NOT_FOUND, f"unknown charge point {identity!r}\n")
        return None

    async def _handler(self, connection: ServerConnection) -> None:
        identity = identity_of(connection.request.path)
        if connection.subprotocol not in SUBPROTOCOLS:
            LOGGER.warning("charge point %s offered no supported subprotocol (%s); closing", identity, SUBPROTOCOLS)
            await connection.close(code=1002, reason="supported subprotocols: " + ", ".join(SUBPROTOCOLS))
            return
        cp = HANDLERS[connection.subprotocol](identity, connection, self)
        previous = self.connections.get(identity)
        self.connections[identity] = cp
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous._connection.close()
        LOGGER.info("charge point %s connected (%s)", identity, connection.subprotocol)
        self._spawn(self.push_profiles(ocpp_id=identity))
        try:
            await cp.start()
        except ConnectionClosed:
            pass
        finally:
            if self.connections.get(identity) is cp:
                del self.connections[identity]
            LOGGER.info("charge point %s disconnected", identity)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self, host: str, port: int) -> Server:
        """Listen on ``host:port`` (port 0 picks a free one; see :attr:`port`)."""
        self._server = await serve(
            self._handler,
            host,
            port,
            subprotocols=list(SUBPROTOCOLS),
            process_request=self._check_identity,
            ping_interval=60,
            max_queue=64,
        )
        return self._server

    @property
    def port(self) -> int:
        """The port listened on."""
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()

    # --- charging profiles

    async def push_profiles(self, *, municipality_id: int | None = None, ocpp_id: str | None = None) -> dict[int, str]:
        """Send the latest schedule's profile to each active session (of a town or a charger) that is connected.

        Each connection gets a given schedule's profile for a given session once, however many triggers ask for
        it at the same time (a charger connecting, a transaction starting, a new schedule); a charger that
        reconnects gets it again.

        Returns
        -------
        dict
            Session id → the charge point's answer (``Accepted``, ``Rejected``, ``CallError``, ``Timeout``).
        """
        now = self.now()
        plans = await self.db(store.profiles_to_send, municipality_id=municipality_id, ocpp_id=ocpp_id, now=now)
        answers: dict[int, str] = {}
        for plan in plans:
            cp = self.connections.get(plan.ocpp_id)
            if cp is None:
                continue
            lock = self._push_locks.setdefault(plan.ocpp_id, asyncio.Lock())
            async with lock:
                key = (id(cp), plan.session_id, plan.schedule_id)
                if key in self._sent:
                    continue
                self._sent.add(key)
                try:
                    status = await cp.set_charging_profile(plan)
                except TimeoutError:
                    status = "Timeout"
                except ConnectionClosed:
                    continue
            answers[plan.session_id] = status
            await self.db(
                store.record_profile,
                session_id=plan.session_id,
                schedule_id=plan.schedule_id,
                start_at=plan.start_at,
                step_seconds=plan.step_seconds,
                limits_w=plan.limits_w,
                status=status,
                now=now,
            )
        return answers
