"""The FastAPI application of the operations service, and the process that runs it with the OCPP server.

:func:`create_app` builds the app; its lifespan applies the Alembic migrations, loads the scenario's town (once),
starts the OCPP central system on its own port and the periodic scheduler. :func:`run` serves it with uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from chisan.service.api.routes import api_router, pages
from chisan.service.api.routes import gbfs as gbfs_routes
from chisan.service.core.config import Settings
from chisan.service.core.db import Database, migrate, utcnow
from chisan.service.errors import BookingRefusedError, ServiceError
from chisan.service.ocpp.central_system import CentralSystem
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
        Run schedules every ``settings.schedule_interval_s`` (when > 0).
    """
    settings = settings or Settings.from_env()
    clock = clock or utcnow

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        database = Database(settings.database_url)
        await asyncio.to_thread(migrate, database)
        central = CentralSystem(
            database,
            clock=clock,
            heartbeat_interval_s=settings.heartbeat_interval_s,
            overdraw_tolerance_fraction=settings.overdraw_tolerance_fraction,
            overdraw_tolerance_w=settings.overdraw_tolerance_w,
        )
        app.state.database = database
        app.state.central = central
        app.state.operations = Operations(database, settings, clock, central)
        app.state.scenario_key = None
        if settings.scenario_path is not None:
            app.state.scenario_key = await asyncio.to_thread(_seed, database, settings, clock)
        tasks = []
        if start_ocpp:
            await central.start(settings.ocpp_host, settings.ocpp_port)
            LOGGER.info("OCPP central system on ws://%s:%s/<charge point id>", settings.ocpp_host, central.port)
        if start_scheduler and settings.schedule_interval_s > 0:
            tasks.append(asyncio.create_task(app.state.operations.periodic()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if start_ocpp:
                await central.stop()
            database.dispose()

    app = FastAPI(
        title="chisan operations service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "bookings", "description": "Charge-aware bookings; refusals offer alternatives."},
            {"name": "schedules", "description": "Rolling smart-charging schedules and the PV forecast."},
            {"name": "gbfs", "description": "GBFS v3.0 open data (public)."},
        ],
    )
    app.state.settings = settings
    app.state.clock = clock
    add_error_handlers(app)
    app.include_router(api_router)
    app.include_router(gbfs_routes.router)
    app.include_router(pages.router)
    static = resources.files("chisan.service").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


def _seed(database: Database, settings: Settings, clock) -> str | None:
    from chisan.service.forecast import scenario_weather
    from chisan.service.seed import municipality_from_scenario

    with database.sessionmaker() as session:
        municipality, secret = municipality_from_scenario(session, path=settings.scenario_path, now=clock())
        scenario_weather(municipality.scenario_path)  # read the weather once, before the first request
        return secret


def run(settings: Settings, *, on_started: Callable[[FastAPI], None] | None = None) -> None:
    """Serve the app (REST on ``host:port``, OCPP on ``ocpp_host:ocpp_port``) until interrupted."""
    import uvicorn

    app = create_app(settings)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info", lifespan="on")
    server = uvicorn.Server(config)

    async def main() -> None:
        serving = asyncio.create_task(server.serve())
        if on_started is not None:
            while not server.started and not serving.done():
                await asyncio.sleep(0.05)
            if server.started:
                on_started(app)
        await serving

    asyncio.run(main())
