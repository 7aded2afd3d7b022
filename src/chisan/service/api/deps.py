"""Dependencies of the API routes: the database session, the clock, the caller's municipality, the admin check.

As in full-stack-fastapi-template's ``backend/app/api/deps.py``: one function per dependency and a typed alias
(``SessionDep``, ``MunicipalityDep``, …) that routes declare as parameters.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from chisan.service import crud, models
from chisan.service.core.config import Settings
from chisan.service.runner import Operations

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="A key of your municipality (created with it, or at POST /api/v1/api-keys).",
)
admin_token_header = APIKeyHeader(
    name="X-Admin-Token", auto_error=False, description="The service's admin token (CHISAN_ADMIN_TOKEN)."
)


def get_db(request: Request) -> Iterator[Session]:
    """A database session for one request."""
    with request.app.state.database.sessionmaker() as session:
        yield session


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_now(request: Request) -> dt.datetime:
    """The current time (tz-aware UTC) from the app's clock."""
    return request.app.state.clock()


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[dt.datetime, Depends(get_now)]


def get_municipality(session: SessionDep, key: Annotated[str | None, Security(api_key_header)]) -> models.Municipality:
    """The municipality of the caller's API key (401 when missing, unknown or revoked)."""
    if not key:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=[{"loc": ["header", "X-API-Key"], "msg": "X-API-Key header missing", "type": "missing"}],
        )
    municipality = crud.municipality_for_key(session, key=key)
    if municipality is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=[{"loc": ["header", "X-API-Key"], "msg": "unknown or revoked API key", "type": "invalid"}],
        )
    session.commit()  # end the read: on SQLite every transaction holds the write lock (see core.db)
    return municipality


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


def get_operations(request: Request) -> Operations:
    """The app's :class:`~chisan.service.runner.Operations` (scheduling and charge points)."""
    return request.app.state.operations


OperationsDep = Annotated[Operations, Depends(get_operations)]
