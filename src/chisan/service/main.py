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
import logging
import os
import signal
import socket
from collections.abc import Callable
from importlib import resources

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from chisan.service.api.routes import API_PREFIX, API_ROUTERS, pages
from chisan.service.api.routes import gbfs as gbfs_routes
from chisan.service.api_keys import KeyCache
from chisan.service.core.config import Settings
from chisan.service.core.db import Database, ReadOnlyRequests, migrate, utcnow
from chisan.service.errors import BookingRefusedError, ServiceError
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
    return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors)


def add_error_handlers(app: FastAPI) -> None:
    """Every 4xx names the field at fault: ``detail`` (FastAPI's list of ``loc``/``msg``) and ``message``."""

    @app.exception_handler(BookingRefusedError)
    async def _refused(request: Request, err: BookingRefusedError) -> JSONResponse:
        body = err.refusal.model_dump(mode="json")
        return JSONResponse(status_code=err.status, content={"detail": body, "message": err.message})

    @app.exception_handler(ServiceError)
    async def _service(request: Request, err: ServiceError) -> JSONResponse:
        return JSONResponse(status_code=err.status, content={"detail": err.detail(), "message": err.message})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        detail = err.detail
        message = _message(detail) if isinstance(detail, list) else str(detail)
        return JSONResponse(
            status_code=err.status_code, content={"detail": detail, "message": message}, headers=err.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = jsonable_encoder(err.errors(), custom_encoder={ValueError: str})
        for e in errors:
            e.pop("ctx", None)
            e.pop("url", None)
        return JSONResponse(status_code=422, content={"detail": errors, "message": _message(errors)})


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
    for router in API_ROUTERS:  # one level of nesting: each request is matched against fewer routers
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(gbfs_routes.router)
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
