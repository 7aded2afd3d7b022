"""Dependencies of the API routes: the database session, the clock, the caller's municipality, the admin check.

As in full-stack-fastapi-template's ``backend/app/api/deps.py``: one function per dependency and a typed alias
(``SessionDep``, ``MunicipalityDep``, …) that routes declare as parameters.
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

from chisan.service import crud, models
from chisan.service.core.config import Settings
from chisan.service.core.db import Database
from chisan.service.runner import Operations

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="A key of your municipality (created with it, or at POST /api/v1/api-keys).",
)
admin_token_header = APIKeyHeader(
    name="X-Admin-Token", auto_error=False, description="The service's admin token (CHISAN_ADMIN_TOKEN)."
)


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


def _lookup(database: Database, key: str) -> models.Municipality | None:
    """The municipality of ``key``, read in a session of its own and detached from it (None when not valid)."""
    with database.sessionmaker() as session:
        municipality = crud.municipality_for_key(session, key=key)
        # end the read at once (on SQLite every transaction also holds the write lock, see core.db)
        session.commit()
        if municipality is not None:
            session.expunge(municipality)
        return municipality


async def get_town(request: Request, key: Annotated[str | None, Security(api_key_header)]) -> models.Municipality:
    """The municipality of the caller's API key, detached and shared: read it, never change it (401 when the key
    is missing, unknown or revoked).

    Valid keys are remembered for a few seconds (:class:`chisan.service.crud.KeyCache`), so most requests need no
    lookup at all. Routes that change the municipality or load its relations use :func:`get_municipality`.
    """
    if not key:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=[{"loc": ["header", "X-API-Key"], "msg": "X-API-Key header missing", "type": "missing"}],
        )
    cache: crud.KeyCache = request.app.state.key_cache
    key_hash = crud.hash_api_key(key)
    municipality = cache.get(key_hash)
    if municipality is None:
        municipality = await run_in_threadpool(_lookup, request.app.state.database, key)
        if municipality is None:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail=[{"loc": ["header", "X-API-Key"], "msg": "unknown or revoked API key", "type": "invalid"}],
            )
        cache.put(key_hash, municipality)
    return municipality


TownDep = Annotated[models.Municipality, Depends(get_town)]


async def get_municipality(session: SessionDep, town: TownDep) -> models.Municipality:
    """The caller's municipality as an object of the request's session (a copy of :func:`get_town`'s)."""
    return session.merge(town, load=False)


async def get_key_cache(request: Request) -> crud.KeyCache:
    return request.app.state.key_cache


KeyCacheDep = Annotated[crud.KeyCache, Depends(get_key_cache)]
MunicipalityDep = Annotated[models.Municipality, Depends(get_municipality)]


def require_admin(settings: SettingsDep, token: Annotated[str | None, Security(admin_token_header)]) -> None:
    """Admin routes need the service's admin token (403 otherwise; 403 too when none is configured)."""
    expected = settings.admin_token
    if not expected or not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=[{"loc": ["header", "X-Admin-Token"], "msg": "admin token missing or wrong", "type": "forbidden"}],
        )


AdminDep = Annotated[None, Depends(require_admin)]


async def get_operations(request: Request) -> Operations:
    """The app's :class:`~chisan.service.runner.Operations` (scheduling and charge points)."""
    return request.app.state.operations


OperationsDep = Annotated[Operations, Depends(get_operations)]
