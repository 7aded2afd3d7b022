"""The OCPP central system: a websockets server on its own port, one handler object per connected charge point.

Charge points connect to ``ws://host:port/<identity>`` (``wss://`` under security profile 2) with the ``ocpp1.6``
or ``ocpp2.0.1`` subprotocol. Under security profiles 1 and 2 each authenticates the handshake with HTTP Basic
(its identity and authorization key, see :mod:`chisan.service.ocpp.auth`); an unknown identity and a wrong key
get the same 401, repeated failures a 429. Under profile 0 (development only) an identity that no town
registered is refused (404) and a second connection for a connected identity too (409): only an authenticated
connection may replace a charger's current one.

The central system runs on an event loop of its own, in a thread of its own (:meth:`CentralSystem.start_in_thread`):
parsing REST requests, however large or slow, cannot delay a charger's answer. Other loops hand it work with
:meth:`CentralSystem.send_profiles` (``asyncio.run_coroutine_threadsafe``).

Sessions live in the database, so a restarted service takes up the transactions the chargers still run: their
meter values and the end of the transaction find their session by transaction id, and the latest schedule's
profiles are sent again when a charger with active sessions connects. Meter values no meter can have taken are
refused with a CALLERROR (see :func:`chisan.service.ocpp.store.check_samples`); the connection goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import ssl
import threading
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

from ocpp.exceptions import OCPPError, PropertyConstraintViolationError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from chisan.service.charger_keys import verify_key
from chisan.service.core.db import Database
from chisan.service.ocpp import store
from chisan.service.ocpp.auth import WINDOW_S, FailureLimiter, basic_credentials
from chisan.service.ocpp.v16 import PROTOCOL as PROTOCOL_16
from chisan.service.ocpp.v16 import ChargePoint16
from chisan.service.ocpp.v201 import PROTOCOL as PROTOCOL_201
from chisan.service.ocpp.v201 import ChargePoint201

LOGGER = logging.getLogger("chisan.service.ocpp")

HANDLERS = {PROTOCOL_201: ChargePoint201, PROTOCOL_16: ChargePoint16}
"""The charge point class of each OCPP version spoken (websocket subprotocol); the first a client offers wins."""

SUBPROTOCOLS = tuple(HANDLERS)

REALM = "chisan OCPP"
"""The HTTP Basic realm of the central system."""


def identity_of(path: str) -> str:
    """Charge point identity: the last segment of the websocket URL path."""
    return path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def tls_context(cert_path: Path | str, key_path: Path | str) -> ssl.SSLContext:
    """The TLS server context of security profile 2: TLS 1.2 or newer (OCPP 1.6 security whitepaper section 2.4,
    OCPP 2.0.1 part 2 A00.FR.314), the given PEM certificate chain and private key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_path), str(key_path))
    return context


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
    security_profile : int
        0 (no authentication, development only), 1 (HTTP Basic), 2 (HTTP Basic over TLS).
    ssl_context : ssl.SSLContext, optional
        TLS of the server (profile 2; see :func:`tls_context`).
    auth_failures_per_minute : int
        Failed authentications allowed per identity and per client address in 60 s, then 429.
    clock_skew_s, power_limit_factor : float
        See :class:`chisan.service.ocpp.store.MeterBounds`.
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
        security_profile: int = 1,
        ssl_context: ssl.SSLContext | None = None,
        auth_failures_per_minute: int = 5,
        clock_skew_s: float = 300.0,
        power_limit_factor: float = 1.5,
    ) -> None:
        if security_profile == 2 and ssl_context is None:
            raise ValueError("security_profile = 2 needs an ssl_context (TLS certificate and key)")
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
        self.security_profile = security_profile
        self.ssl_context = ssl_context if security_profile == 2 else None
        self.failures = FailureLimiter(auth_failures_per_minute)
        self.clock_skew_s = clock_skew_s
        self.power_limit_factor = power_limit_factor
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --- database access from the event loop

    def _call(self, fn, kwargs):
        with self.database.sessionmaker() as session:
            return fn(session, **kwargs)

    async def db(self, fn, **kwargs):
        """Run ``fn(session, **kwargs)`` in a worker thread with its own session."""
        return await asyncio.to_thread(self._call, fn, kwargs)

    def bounds(self, now: dt.datetime) -> store.MeterBounds:
        """What meter values are accepted at ``now``."""
        return store.MeterBounds(now=now, clock_skew_s=self.clock_skew_s, power_limit_factor=self.power_limit_factor)

    def refuse(self, identity: str, action: str, err: store.FrameError, *, formation_error=None) -> OCPPError:
        """Log a refused frame and the CALLERROR it gets: ``formation_error`` (the version's class) for a frame
        whose structure is wrong, PropertyConstraintViolation for an impossible value."""
        LOGGER.warning("charge point %r: %s refused: %s", identity, action, err)
        if err.formation and formation_error is not None:
            return formation_error(description=str(err))
        return PropertyConstraintViolationError(description=str(err))

    # --- server

    def _authenticate(self, identity: str, header: str | None) -> tuple[bool, str]:
        """Whether the ``Authorization`` header proves ``identity`` (runs scrypt: in a worker thread)."""
        credentials = basic_credentials(header)
        with self.database.sessionmaker() as session:
            known, stored = store.auth_key_hash(session, ocpp_id=identity)
        if credentials is None:
            verify_key("", None)  # as long as a wrong key takes
            return False, "no HTTP Basic credentials"
        user, password = credentials
        ok = verify_key(password, stored if user == identity else None)
        if ok:
            return True, "authenticated"
        if not known:
            return False, "unknown identity"
        if user != identity:
            return False, "user name is not the identity in the URL"
        return False, "wrong authorization key" if stored else "no authorization key set"

    async def _check_request(self, connection: ServerConnection, request):
        identity = identity_of(request.path)
        address = str(connection.remote_address[0]) if connection.remote_address else "?"
        if self.security_profile == 0:
            charger = await self.db(lambda s: store.crud.get_charger_by_ocpp_id(s, ocpp_id=identity))
            if charger is None:
                return connection.respond(HTTPStatus.NOT_FOUND, f"unknown charge point {identity!r}\n")
            if identity in self.connections:
                LOGGER.warning("charge point %r from %s refused: already connected (profile 0)", identity, address)
                return connection.respond(HTTPStatus.CONFLICT, "charge point already connected\n")
            return None
        keys = ("id:" + identity, "ip:" + address)
        if self.failures.blocked(*keys):
            LOGGER.warning("charge point %r from %s refused: too many failed authentications", identity, address)
            response = connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "too many failed authentications\n")
            response.headers["Retry-After"] = str(int(WINDOW_S))
            return response
        ok, why = await asyncio.to_thread(self._authenticate, identity, request.headers.get("Authorization"))
        if not ok:
            self.failures.fail(*keys)
            LOGGER.warning("charge point %r from %s failed to authenticate: %s", identity, address, why)
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "authentication failed\n")
            response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
            return response
        return None

    async def _handler(self, connection: ServerConnection) -> None:
        identity = identity_of(connection.request.path)
        if connection.subprotocol not in SUBPROTOCOLS:
            LOGGER.warning("charge point %s offered no supported subprotocol (%s); closing", identity, SUBPROTOCOLS)
            await connection.close(code=1002, reason="supported subprotocols: " + ", ".join(SUBPROTOCOLS))
            return
        cp = HANDLERS[connection.subprotocol](identity, connection, self)
        previous = self.connections.get(identity)
        self.connections[identity] = cp  # authenticated (or profile 0, where a second connection is refused)
        if previous is not None:
            LOGGER.info("charge point %s reconnected: its previous connection is closed", identity)
            with contextlib.suppress(Exception):
                await previous._connection.close(code=1000, reason="replaced by a new authenticated connection")
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
            process_request=self._check_request,
            ping_interval=60,
            max_queue=64,
            max_size=2**20,  # an OCPP frame is a few kB; 1 MiB bounds what one charger can make the server hold
            ssl=self.ssl_context,
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

    # --- a loop and a thread of its own

    def start_in_thread(self, host: str, port: int, timeout_s: float = 30.0) -> None:
        """Listen on ``host:port`` from an event loop in a new thread (returns once listening)."""
        ready = threading.Event()
        failed: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self.loop = loop
            try:
                loop.run_until_complete(self.start(host, port))
            except BaseException as err:
                failed.append(err)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()

        self._thread = threading.Thread(target=main, name="chisan-ocpp", daemon=True)
        self._thread.start()
        if not ready.wait(timeout_s):
            raise TimeoutError(f"the OCPP central system did not start on {host}:{port} within {timeout_s} s")
        if failed:
            self._thread.join()
            raise failed[0]

    def stop_thread(self, timeout_s: float = 30.0) -> None:
        """Stop the server and its thread (see :meth:`start_in_thread`)."""
        if self.loop is None or self._thread is None or not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.stop(), self.loop).result(timeout_s)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout_s)

    async def send_profiles(self, **kwargs) -> dict[int, str]:
        """:meth:`push_profiles` from any event loop: run on the central system's own, awaited from the caller's."""
        if self.loop is None or self.loop is asyncio.get_running_loop():
            return await self.push_profiles(**kwargs)
        future = asyncio.run_coroutine_threadsafe(self.push_profiles(**kwargs), self.loop)
        return await asyncio.wrap_future(future)

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
