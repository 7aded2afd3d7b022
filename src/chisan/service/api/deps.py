"""Dependencies of the API routes: the database session, the clock, the caller's municipality, the admin check.

As in full-stack-fastapi-template's ``backend/app/api/deps.py``: one function per dependency and a typed alias
(``SessionDep``, ``ReadTown``, …) that routes declare as parameters. The alias of the caller's town names the
scope its API key needs (:mod:`chisan.service.api_keys`): ``ReadTown``, ``OperateTown``, ``AdminTown``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from chisan.service import api_keys, crud, models
from chisan.service.core.config import Settings
from chisan.service.core.db import Database
from chisan.service.runner import Operations

API_KEY_HEADER = "X-API-Key"
ADMIN_TOKEN_HEADER = "X-Admin-Token"

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="ApiKey",
    auto_error=False,
    description="A key of your municipality (the first comes with it; more at POST /api/v1/api-keys). Its scopes "
    "decide what it may do: `read` (GET only), `operate` (also bookings, returns, members, telemetry, schedules, "
    "PV forecast), `town_admin` (also API keys, stations, chargers, vehicles, town settings).",
)
admin_token_header = APIKeyHeader(
    name=ADMIN_TOKEN_HEADER,
    scheme_name="AdminToken",
    auto_error=False,
    description="The service's admin token (CHISAN_ADMIN_TOKEN): creating towns, listing towns and their keys.",
)
"""The two credentials (distinct ``scheme_name``: with the default both would be ``APIKeyHeader`` and the
OpenAPI would document only one of them, the admin token, for every route)."""


_CLOSER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chisan-db-close")
"""Sessions that still hold a connection are closed here, not in the request threadpool: a close must never wait
for a thread while requests in the threadpool wait for the connection it would give back."""


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A database session for one request (made on the event loop: it opens no connection until first used)."""
    session = request.app.state.database.sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            await asyncio.get_running_loop().run_in_executor(_CLOSER, session.close)
        else:
            session.close()  # holds no connection: nothing to wait for


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_now(request: Request) -> dt.datetime:
    """The current time (tz-aware UTC) from the app's clock."""
    return request.app.state.clock()


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[dt.datetime, Depends(get_now)]


def _lookup(database: Database, key: str, now: dt.datetime) -> api_keys.Grant:
    """The grant of ``key``, read in a session of its own (raises :class:`~chisan.service.api_keys.KeyRefusedError`)."""
    with database.sessionmaker() as session:
        return api_keys.grant_for(session, key=key, now=now)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=[{"loc": ["header", API_KEY_HEADER], "msg": message, "type": "invalid"}],
    )


async def get_grant(request: Request, key: Annotated[str | None, Security(api_key_header)]) -> api_keys.Grant:
    """What the caller's API key gives (401 when the key is missing, unknown, revoked or expired).

    Valid keys are remembered for a few seconds (:class:`chisan.service.api_keys.KeyCache`), so most requests
    need no lookup at all; expiry is checked on every request.
    """
    if not key:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=[{"loc": ["header", API_KEY_HEADER], "msg": f"{API_KEY_HEADER} header missing", "type": "missing"}],
        )
    cache: api_keys.KeyCache = request.app.state.key_cache
    key_hash = crud.hash_api_key(key)
    now = request.app.state.clock()
    grant = cache.get(key_hash)
    if grant is None:
        try:
            grant = await run_in_threadpool(_lookup, request.app.state.database, key, now)
        except api_keys.KeyRefusedError as refused:
            raise _unauthorized(refused.message) from None
        cache.put(key_hash, grant)
    if grant.expires_at is not None and grant.expires_at <= now:
        raise _unauthorized(api_keys.expired_message(grant.prefix, grant.expires_at))
    return grant


GrantDep = Annotated[api_keys.Grant, Depends(get_grant)]


# each route's scope is declared with Security(…, scopes=[…]): the OpenAPI (3.1) lists it in the route's security
# requirement, {"ApiKey": ["operate"]}, so /docs shows what a key needs for each route


def _needs(grant: api_keys.Grant, scope: api_keys.Scope, request: Request) -> models.Municipality:
    """The grant's town if the key has ``scope`` (403 naming the scope otherwise)."""
    if not grant.allows(scope):
        has = " ".join(s.value for s in api_keys.SCOPE_ORDER if s in grant.scopes) or "none"
        what = f"{request.method} {request.url.path}"
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=[
                {
                    "loc": ["header", API_KEY_HEADER],
                    "msg": f"{what} needs an API key with the '{scope.value}' scope "
                    f"({api_keys.SCOPE_MEANING[scope]}); this key has: {has}",
                    "type": "insufficient_scope",
                }
            ],
        )
    return grant.municipality


async def get_read_town(
    request: Request, grant: Annotated[api_keys.Grant, Security(get_grant, scopes=["read"])]
) -> models.Municipality:
    return _needs(grant, api_keys.Scope.READ, request)


async def get_operate_town(
    request: Request, grant: Annotated[api_keys.Grant, Security(get_grant, scopes=["operate"])]
) -> models.Municipality:
    return _needs(grant, api_keys.Scope.OPERATE, request)


async def get_admin_town(
    request: Request, grant: Annotated[api_keys.Grant, Security(get_grant, scopes=["town_admin"])]
) -> models.Municipality:
    return _needs(grant, api_keys.Scope.TOWN_ADMIN, request)


async def get_town(request: Request, grant: GrantDep) -> models.Municipality:
    """The caller's town for a route that names no scope: ``read`` for GET and HEAD, ``town_admin`` otherwise
    (a route that forgets its scope is closed to keys that may only read or operate)."""
    read = request.method in ("GET", "HEAD")
    return _needs(grant, api_keys.Scope.READ if read else api_keys.Scope.TOWN_ADMIN, request)


def _in_session(session: Session, town: models.Municipality) -> models.Municipality:
    """The caller's municipality as an object of the request's session (a copy of the cached, detached one)."""
    return session.merge(town, load=False)


async def get_read_municipality(
    session: SessionDep, town: Annotated[models.Municipality, Depends(get_read_town)]
) -> models.Municipality:
    return _in_session(session, town)


async def get_operate_municipality(
    session: SessionDep, town: Annotated[models.Municipality, Depends(get_operate_town)]
) -> models.Municipality:
    return _in_session(session, town)


async def get_admin_municipality(
    session: SessionDep, town: Annotated[models.Municipality, Depends(get_admin_town)]
) -> models.Municipality:
    return _in_session(session, town)


async def get_municipality(
    session: SessionDep, town: Annotated[models.Municipality, Depends(get_town)]
) -> models.Municipality:
    return _in_session(session, town)


ReadTown = Annotated[models.Municipality, Depends(get_read_municipality)]
"""The caller's municipality (in the request's session) for a key with the ``read`` scope."""
OperateTown = Annotated[models.Municipality, Depends(get_operate_municipality)]
"""The caller's municipality (in the request's session) for a key with the ``operate`` scope."""
AdminTown = Annotated[models.Municipality, Depends(get_admin_municipality)]
"""The caller's municipality (in the request's session) for a key with the ``town_admin`` scope."""
OperateTownDetached = Annotated[models.Municipality, Depends(get_operate_town)]
"""As :data:`OperateTown`, but the detached, shared copy (no session: read it, never change it)."""
TownDep = Annotated[models.Municipality, Depends(get_town)]
"""Detached town of a route that names no scope (``read`` for GET, ``town_admin`` otherwise)."""
MunicipalityDep = Annotated[models.Municipality, Depends(get_municipality)]
"""Town in the request's session of a route that names no scope (``read`` for GET, ``town_admin`` otherwise)."""


async def get_key_cache(request: Request) -> api_keys.KeyCache:
    return request.app.state.key_cache


KeyCacheDep = Annotated[api_keys.KeyCache, Depends(get_key_cache)]


def require_admin(settings: SettingsDep, token: Annotated[str | None, Security(admin_token_header)]) -> None:
    """Admin routes need the service's admin token (403 otherwise; 403 too when none is configured)."""
    expected = settings.admin_token
    if not expected or not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=[
                {"loc": ["header", ADMIN_TOKEN_HEADER], "msg": "admin token missing or wrong", "type": "forbidden"}
            ],
        )


AdminDep = Annotated[None, Depends(require_admin)]


async def get_operations(request: Request) -> Operations:
    """The app's :class:`~chisan.service.runner.Operations` (scheduling and charge points)."""
    return request.app.state.operations


OperationsDep = Annotated[Operations, Depends(get_operations)]
