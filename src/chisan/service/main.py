"""The FastAPI application of the operations service, and the process that runs it with the OCPP server.

:func:`create_app` builds the app; its lifespan applies the Alembic migrations, loads the scenario's town (once),
starts the OCPP central system on its own port (in its own thread, with its own event loop) and the periodic
scheduler. :func:`run` serves it with uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import json
import logging
import math
import os
import signal
import socket
import uuid
from collections.abc import Callable
from importlib import resources

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from chisan.service import schemas
from chisan.service.api.routes import API_PREFIX, API_ROUTERS, pages
from chisan.service.api.routes import gbfs as gbfs_routes
from chisan.service.api_keys import KeyCache
from chisan.service.core.config import Settings
from chisan.service.core.db import Database, ReadOnlyRequests, migrate, utcnow
from chisan.service.errors import BookingRefusedError, ServiceError, UnavailableError
from chisan.service.ocpp.central_system import CentralSystem, tls_context
from chisan.service.rate_limits import install_rate_limits
from chisan.service.runner import Operations

LOGGER = logging.getLogger("chisan.service")

DESCRIPTION = """
Operations of a town's electric car-sharing: stations, chargers (OCPP 1.6J), cars, members and bookings;
a rolling charging schedule on local solar (linopy + HiGHS, verified, with a least-laxity-first fallback);
metrics per station and day; GBFS v3.0 open data. Every `/api/v1` route but `/admin` needs the `X-API-Key` of
a municipality and only ever sees that municipality's data. Units are in the field names (`_kwh`, `_kw`, `_km`,
`_fraction`); times are RFC 3339 with an offset.
"""


def _message(errors: list[dict]) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e.get('msg', '')}" if e.get("loc") else str(e.get("msg", ""))
        for e in errors
    )


MAX_ECHO_CHARS = 200
"""An error body repeats at most this many characters of the input at fault."""

RETRY_AFTER_S = 5
"""Seconds a client is asked to wait when the database is unavailable (``Retry-After``)."""

REQUEST_ID_HEADER = "X-Request-ID"


def _echo(value):
    """The input at fault as an error body may repeat it: JSON-safe (NaN and Infinity as text) and short."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        if isinstance(value, str) and len(value) > MAX_ECHO_CHARS:
            return value[:MAX_ECHO_CHARS] + f"… ({len(value)} characters)"
        return value
    text = json.dumps(value, default=str, allow_nan=True)
    if len(text) > MAX_ECHO_CHARS:
        return text[:MAX_ECHO_CHARS] + f"… ({len(text)} characters)"
    return json.loads(text, parse_constant=str)


def request_id(request: Request) -> str:
    """The id of the request (from :class:`EdgeMiddleware`, else a new one)."""
    return request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex


class EdgeMiddleware:
    """The first look at every HTTP request, before anything parses it (a pure ASGI middleware).

    Gives each request an id (the client's ``X-Request-ID`` when it is short and plain, else a new one) and
    answers with it in the same header; refuses a request line and headers over ``max_header_bytes`` (431) and a
    NUL character in the path or query (422). Bodies are limited by FastAPI's ``max_body_size`` (413, counted
    while streaming, before parsing).
    """

    def __init__(self, app, *, max_header_bytes: int) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))  # the request line too
        for name, value in scope["headers"]:
            size += len(name) + len(value) + 4  # "name: value\r\n"
            if name == b"x-request-id" and len(value) <= 64 and value.isascii() and value.replace(b"-", b"").isalnum():
                given = value.decode()
        rid = given or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        problem = None
        if size > self.max_header_bytes:
            problem = (431, ["header"], f"request headers take {size} bytes; at most {self.max_header_bytes} allowed")
        elif "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"").lower():
            problem = (422, ["path"], "the URL must not contain the NUL character (%00)")
        if problem is None:
            await self.app(scope, receive, send_with_id)
            return
        status_code, loc, msg = problem
        detail = [{"loc": loc, "msg": msg, "type": "too_large" if status_code == 431 else "nul_character"}]
        response = JSONResponse(status_code=status_code, content={"detail": detail, "message": msg})
        await response(scope, receive, send_with_id)


def add_error_handlers(app: FastAPI) -> None:
    """Every 4xx names the field at fault: ``detail`` (FastAPI's list of ``loc``/``msg``) and ``message``.

    Errors never repeat more than :data:`MAX_ECHO_CHARS` of the input. The database being unreachable is a 503
    with ``Retry-After``; anything unexpected is a 500 with the request's id (in the body and the
    ``X-Request-ID`` header) and its traceback in the log under that id.
    """

    @app.exception_handler(BookingRefusedError)
    async def _refused(request: Request, err: BookingRefusedError) -> JSONResponse:
        body = err.refusal.model_dump(mode="json")
        return JSONResponse(status_code=err.status, content={"detail": body, "message": err.message})

    @app.exception_handler(ServiceError)
    async def _service(request: Request, err: ServiceError) -> JSONResponse:
        headers = {"Retry-After": str(err.retry_after_s)} if isinstance(err, UnavailableError) else None
        return JSONResponse(
            status_code=err.status, content={"detail": err.detail(), "message": err.message}, headers=headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        detail, code = err.detail, err.status_code
        if code == 400 and detail == "There was an error parsing the body":  # e.g. not UTF-8: a field error
            code, detail = 422, [{"loc": ["body"], "msg": "the body is not valid JSON text (UTF-8)", "type": "json"}]
        if not isinstance(detail, list):  # e.g. Starlette's 404 of an unknown path, 405, 413
            detail = [{"loc": [], "msg": str(detail), "type": "http_error"}]
        return JSONResponse(
            status_code=code, content={"detail": detail, "message": _message(detail)}, headers=err.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = []
        for e in err.errors():
            item = {"loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())], "msg": e["msg"]}
            item["type"] = e.get("type", "value_error")
            if "input" in e:
                item["input"] = _echo(e["input"])
            errors.append(item)
        return JSONResponse(status_code=422, content={"detail": errors, "message": _message(errors)})

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.InterfaceError)
    async def _unavailable(request: Request, err: Exception) -> JSONResponse:
        rid = request_id(request)
        LOGGER.warning("request %s: database unavailable: %s", rid, str(err).splitlines()[0][:300])
        msg = "the database is unavailable; try again later"
        return JSONResponse(
            status_code=503,
            content={"detail": [{"loc": [], "msg": msg, "type": "unavailable"}], "message": msg, "request_id": rid},
            headers={"Retry-After": str(RETRY_AFTER_S), REQUEST_ID_HEADER: rid},
        )

    @app.exception_handler(sa_exc.DataError)
    async def _out_of_range(request: Request, err: Exception) -> JSONResponse:
        rid = request_id(request)
        LOGGER.warning("request %s: value refused by the database: %s", rid, str(err).splitlines()[0][:300])
        msg = "a value of the request is out of the range the database stores"
        return JSONResponse(
            status_code=422,
            content={"detail": [{"loc": [], "msg": msg, "type": "out_of_range"}], "message": msg, "request_id": rid},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        rid = request_id(request)
        LOGGER.error("request %s failed: %s", rid, type(err).__name__, exc_info=err)
        msg = f"internal error; quote request id {rid} when reporting it"
        return JSONResponse(
            status_code=500,
            content={"detail": [{"loc": [], "msg": msg, "type": "internal"}], "message": msg, "request_id": rid},
            headers={REQUEST_ID_HEADER: rid},
        )


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    start_ocpp: bool = True,
    start_scheduler: bool = True,
    seed: bool = True,
) -> FastAPI:
    """The service's FastAPI app.

    Parameters
    ----------
    settings : Settings, optional
        Default: :meth:`Settings.from_env`.
    clock : callable, optional
        Current time (tz-aware UTC); default the system clock. Tests give a fixed one.
    start_ocpp : bool
        Start the OCPP central system on ``settings.ocpp_host:ocpp_port`` with the app.
    start_scheduler : bool
        Run schedules every ``settings.schedule_interval_s`` (when > 0), and send the profiles of schedules
        computed by other processes.
    seed : bool
        Load ``settings.scenario_path`` into the database on start.
    """
    settings = settings or Settings.from_env()
    clock = clock or utcnow

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        database = Database(settings.database_url)
        await asyncio.to_thread(migrate, database)
        central = central_system(database, settings, clock, tls=start_ocpp)
        app.state.database = database
        app.state.central = central
        app.state.operations = Operations(database, settings, clock, central if start_ocpp else None)
        app.state.scenario_key = None
        if seed and (settings.scenario_path is not None or settings.plan_path is not None):
            app.state.scenario_key = await asyncio.to_thread(_seed, database, settings, clock)
        tasks = []
        if start_ocpp:
            # its own thread and event loop: REST requests (parsed on this loop) never delay a charger's answer
            await asyncio.to_thread(central.start_in_thread, settings.ocpp_host, settings.ocpp_port)
            LOGGER.info(
                "OCPP central system on %s://%s:%s/<charge point id> (security profile %s)",
                "wss" if settings.ocpp_security_profile == 2 else "ws",
                settings.ocpp_host,
                central.port,
                settings.ocpp_security_profile,
            )
        if start_scheduler and settings.schedule_interval_s > 0:
            tasks.append(asyncio.create_task(app.state.operations.periodic()))
        if start_scheduler and start_ocpp:
            tasks.append(asyncio.create_task(app.state.operations.watch()))
        # what is loaded by now (pandas, linopy, SQLAlchemy, the app) lives as long as the process: keep it out of
        # the garbage collector's full passes, whose length would otherwise show in the slowest requests
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if start_ocpp:
                await asyncio.to_thread(central.stop_thread)
            database.dispose()

    app = FastAPI(
        title="chisan operations service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the service's own assets by pages.py (work offline)
        redoc_url=None,
        max_body_size=settings.max_body_bytes,
        openapi_tags=[
            {"name": "bookings", "description": "Charge-aware bookings; refusals offer alternatives."},
            {"name": "schedules", "description": "Rolling smart-charging schedules and the PV forecast."},
            {"name": "gbfs", "description": "GBFS v3.0 open data (public)."},
        ],
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.key_cache = KeyCache()
    add_error_handlers(app)
    install_rate_limits(app, settings)
    app.add_middleware(ReadOnlyRequests)  # GET/HEAD/OPTIONS never take SQLite's write lock
    app.add_middleware(EdgeMiddleware, max_header_bytes=settings.max_header_bytes)
    errors = schemas.error_responses(401, 403, 404, 409, 413, 422, 431, 503)
    for router in API_ROUTERS:  # one level of nesting: each request is matched against fewer routers
        app.include_router(router, prefix=API_PREFIX, responses=errors)
    app.include_router(gbfs_routes.router, responses=schemas.error_responses(404, 413, 422, 431, 503))
    app.include_router(pages.router)
    static = resources.files("chisan.service").joinpath("static")
    app.mount(pages.DOCS_ASSETS_URL, StaticFiles(directory=str(pages.DOCS_ASSETS)), name="docs-assets")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


def central_system(database: Database, settings: Settings, clock, *, tls: bool = True) -> CentralSystem:
    """The OCPP central system as ``settings`` say (``tls`` False: without loading the TLS files)."""
    return CentralSystem(
        database,
        clock=clock,
        heartbeat_interval_s=settings.heartbeat_interval_s,
        overdraw_tolerance_fraction=settings.overdraw_tolerance_fraction,
        overdraw_tolerance_w=settings.overdraw_tolerance_w,
        security_profile=settings.ocpp_security_profile if tls or settings.ocpp_security_profile < 2 else 1,
        ssl_context=(
            tls_context(settings.ocpp_tls_cert_path, settings.ocpp_tls_key_path)
            if tls and settings.ocpp_security_profile == 2
            else None
        ),
        auth_failures_per_minute=settings.ocpp_auth_failures_per_minute,
        clock_skew_s=settings.ocpp_clock_skew_s,
        power_limit_factor=settings.ocpp_power_limit_factor,
    )


def _seed(database: Database, settings: Settings, clock) -> str | None:
    from chisan.service.forecast import scenario_weather
    from chisan.service.seed import municipality_from_scenario

    with database.sessionmaker() as session:
        if settings.plan_path is not None:
            from chisan.service.from_plan import municipality_from_plan

            municipality, secret = municipality_from_plan(session, folder=settings.plan_path, now=clock())
        else:
            municipality, secret = municipality_from_scenario(session, path=settings.scenario_path, now=clock())
        scenario_weather(municipality.scenario_path)  # read the weather once, before the first request
        return secret


def _http_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """The REST API's listening socket; with ``reuse_port`` several processes bind the same port (Linux
    SO_REUSEPORT) and the kernel spreads the connections over them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _die_with_parent(parent_pid: int) -> None:
    """Linux: this process gets SIGTERM when its parent dies (even by kill -9), so workers never outlive it.

    The signal is armed only once the worker runs; if the parent died while the worker was still starting (a
    spawned interpreter takes about a second to import), it is already gone and the worker exits at once.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        os._exit(0)


def _http_worker(settings_json: str, parent_pid: int) -> None:
    """An extra process serving the REST API only (the primary runs the scheduler; OCPP has its own process)."""
    import uvicorn

    _die_with_parent(parent_pid)
    settings = Settings.model_validate_json(settings_json)
    app = create_app(settings, start_ocpp=False, start_scheduler=False, seed=False)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=settings.access_log)
    server = uvicorn.Server(config)
    sock = _http_socket(settings.host, settings.port, reuse_port=True)
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(server.serve(sockets=[sock]))


async def _serve_ocpp(settings: Settings) -> None:
    database = Database(settings.database_url)
    central = central_system(database, settings, utcnow)
    await central.start(settings.ocpp_host, settings.ocpp_port)
    LOGGER.info(
        "OCPP central system on %s://%s:%s/<charge point id> (security profile %s, process %s)",
        "wss" if settings.ocpp_security_profile == 2 else "ws",
        settings.ocpp_host,
        central.port,
        settings.ocpp_security_profile,
        os.getpid(),
    )
    try:
        # the schedules are computed by the REST processes: their profiles go out from here within 2 s
        await Operations(database, settings, utcnow, central).watch()
    finally:
        await central.stop()
        database.dispose()


def _ocpp_worker(settings_json: str, parent_pid: int) -> None:
    """The process of the OCPP central system under :func:`run`: its own interpreter, so that no REST request
    (parsing a large body holds Python's interpreter lock) can delay a charger's answer."""
    _die_with_parent(parent_pid)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("ocpp").setLevel(logging.WARNING)  # every frame at INFO; chisan logs connections itself
    settings = Settings.model_validate_json(settings_json)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_ocpp(settings))


def run(settings: Settings, *, on_started: Callable[[FastAPI], None] | None = None) -> None:
    """Serve the app (REST on ``host:port``, OCPP on ``ocpp_host:ocpp_port``) until interrupted.

    The OCPP central system runs in a process of its own (started once the database is migrated), which also
    sends the profiles of the schedules the REST processes compute (within 2 s of their storing). With
    ``settings.workers`` > 1, that many processes serve the REST API on the same port; this one (the primary)
    also runs the periodic scheduler.
    """
    import multiprocessing

    import uvicorn

    app = create_app(settings, start_ocpp=False)
    config = uvicorn.Config(app, log_level="info", lifespan="on", access_log=settings.access_log)
    server = uvicorn.Server(config)
    sock = _http_socket(settings.host, settings.port, reuse_port=settings.workers > 1)
    workers: list = []

    async def main() -> None:
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if server.started:
            context = multiprocessing.get_context("spawn")
            ocpp = context.Process(
                target=_ocpp_worker, args=(settings.model_dump_json(), os.getpid()), daemon=True, name="chisan-ocpp"
            )
            ocpp.start()
            workers.append(ocpp)
            for _ in range(settings.workers - 1):
                worker = context.Process(
                    target=_http_worker, args=(settings.model_dump_json(), os.getpid()), daemon=True
                )
                worker.start()
                workers.append(worker)
            if on_started is not None:
                on_started(app)
            while not serving.done():  # the service is OCPP too: when its process ends, the whole service stops
                await asyncio.wait([serving], timeout=1.0)
                if not ocpp.is_alive() and not server.should_exit:
                    LOGGER.error("the OCPP central system's process ended (exit code %s); stopping", ocpp.exitcode)
                    server.should_exit = True
        await serving

    try:
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(main())
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(timeout=10)
