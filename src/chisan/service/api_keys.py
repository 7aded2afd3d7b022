"""API keys of the towns: scopes, expiry, last use, and the rules for changing them.

A key has one or more scopes (stored space-separated, as OAuth 2.0 writes them, RFC 6749 §3.3):

- ``read``: every ``GET`` of the town's data;
- ``operate``: also bookings, returns, members, vehicle telemetry, schedules and the PV forecast;
- ``town_admin``: also API keys, stations, chargers, vehicles and the town's settings.

Each scope includes the ones above it (a ``town_admin`` key may operate and read); a key is stored with the
scopes it includes, so that what it may do is what its ``scopes`` say. A key past its ``expires_at`` or revoked
is refused (401); a key without the scope a route needs is refused naming the scope (403). A town always keeps
one usable ``town_admin`` key: its last one can be neither revoked nor downgraded (409).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from chisan.service import models
from chisan.service.core.db import SQLITE_BUSY_TIMEOUT_MS
from chisan.service.crud import api_key_row, hash_api_key
from chisan.service.errors import ConflictError, FieldError, NotFoundError

LOGGER = logging.getLogger("chisan.service.api_keys")

NOTE_BUSY_TIMEOUT_MS = 50
"""How long the note of a key's last use waits for SQLite's write lock before it is given up [ms]."""

LAST_USED_RESOLUTION_S = 60.0
"""``last_used_at`` is written at most once per this many seconds per key and process [s] (a write per request
would cost every request a database write)."""


class Scope(enum.StrEnum):
    """What a key may do; each scope includes the ones before it."""

    READ = "read"
    OPERATE = "operate"
    TOWN_ADMIN = "town_admin"


SCOPE_ORDER: tuple[Scope, ...] = (Scope.READ, Scope.OPERATE, Scope.TOWN_ADMIN)
SCOPE_MEANING = {
    Scope.READ: "read the town's data (GET only)",
    Scope.OPERATE: "bookings, returns, members, vehicle telemetry, schedules and the PV forecast",
    Scope.TOWN_ADMIN: "API keys, stations, chargers, vehicles and the town's settings",
}


def with_included(scopes: Iterable[Scope | str]) -> tuple[Scope, ...]:
    """``scopes`` and every scope they include, in :data:`SCOPE_ORDER` (``[operate]`` → ``(read, operate)``)."""
    highest = max(SCOPE_ORDER.index(Scope(s)) for s in scopes)
    return SCOPE_ORDER[: highest + 1]


def parse_scopes(stored: str) -> frozenset[Scope]:
    """The scopes of a stored ``api_keys.scopes`` (space-separated; unknown words are ignored)."""
    known = {s.value for s in Scope}
    return frozenset(Scope(word) for word in stored.split() if word in known)


def _stored(scopes: Iterable[Scope | str]) -> str:
    return " ".join(s.value for s in with_included(scopes))


# --- bodies of the API


SCOPES_DESCRIPTION = (
    "What the key may do: `read` (GET only), `operate` (also bookings, returns, members, telemetry, schedules, PV "
    "forecast), `town_admin` (also API keys, stations, chargers, vehicles, town settings). Each includes the ones "
    "before it; the key is stored with all it includes."
)


class ApiKeyCreate(BaseModel):
    """A new key of the caller's town."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    scopes: list[Scope] = Field(default=[Scope.READ], min_length=1, max_length=3, description=SCOPES_DESCRIPTION)
    expires_at: AwareDatetime | None = Field(default=None, description="When the key stops working (none: never).")

    @field_validator("expires_at")
    @classmethod
    def _sane(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and not (2000 <= value.year <= 2999):
            raise ValueError(f"{value.isoformat()} is not a date between the years 2000 and 2999")
        return value


class ApiKeyUpdate(BaseModel):
    """A change of a key's name or scopes (its secret and expiry never change: make a new key instead)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    scopes: list[Scope] | None = Field(default=None, min_length=1, max_length=3, description=SCOPES_DESCRIPTION)


class ApiKeyOut(BaseModel):
    """A key as its town (or the service admin) sees it: never its secret, only the first characters."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    municipality_id: int
    name: str
    prefix: str = Field(description="First characters of the key, to recognise it (the key itself is not stored).")
    scopes: list[Scope]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None = Field(description="Last request made with the key (to within a minute).")

    @field_validator("scopes", mode="before")
    @classmethod
    def _split(cls, value):
        return sorted(parse_scopes(value), key=SCOPE_ORDER.index) if isinstance(value, str) else value


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret key; shown once, only its hash is stored.")


class TownKeys(BaseModel):
    """A town and its keys, as the service admin sees them."""

    id: int
    slug: str
    name: str
    created_at: dt.datetime
    active_keys: int = Field(description="Keys neither revoked nor expired.")
    keys: list[ApiKeyOut]


# --- who is calling


@dataclass(frozen=True)
class Grant:
    """What a valid key gives: its town (a detached copy, shared: never change it), its scopes and expiry."""

    key_id: int
    prefix: str
    municipality: models.Municipality
    scopes: frozenset[Scope]
    expires_at: dt.datetime | None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes


class KeyRefusedError(Exception):
    """The key cannot be used: ``message`` says why (unknown, revoked or expired)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def expired_message(prefix: str, expires_at: dt.datetime) -> str:
    return f"API key {prefix}… expired at {expires_at.isoformat()}; ask the town's admin for a new key"


def grant_for(session: Session, *, key: str, now: dt.datetime) -> Grant:
    """The grant of ``key``, and a note of its use (raises :class:`KeyRefusedError` when it is not valid)."""
    row = session.execute(
        sa.select(models.ApiKey, models.Municipality)
        .join(models.Municipality, models.ApiKey.municipality_id == models.Municipality.id)
        .where(models.ApiKey.key_hash == hash_api_key(key))
    ).first()
    if row is None:
        raise KeyRefusedError("unknown API key")
    api_key, municipality = row
    if api_key.revoked_at is not None:
        raise KeyRefusedError(f"API key {api_key.prefix}… was revoked at {api_key.revoked_at.isoformat()}")
    if api_key.expires_at is not None and api_key.expires_at <= now:
        raise KeyRefusedError(expired_message(api_key.prefix, api_key.expires_at))
    grant = Grant(
        key_id=api_key.id,
        prefix=api_key.prefix,
        municipality=municipality,
        scopes=parse_scopes(api_key.scopes),
        expires_at=api_key.expires_at,
    )
    stale = now - dt.timedelta(seconds=LAST_USED_RESOLUTION_S)
    session.commit()  # end the read at once (on SQLite a transaction may hold the write lock, see core.db)
    session.expunge(municipality)
    if api_key.last_used_at is None or api_key.last_used_at < stale:
        _note_use(session, key_id=api_key.id, now=now, stale=stale)
    return grant


def _note_use(session: Session, *, key_id: int, now: dt.datetime, stale: dt.datetime) -> None:
    """``last_used_at = now`` unless another request wrote it less than a minute ago (best effort: a busy
    database costs the note, never the request)."""
    last = models.ApiKey.last_used_at
    sqlite = session.get_bind().dialect.name == "sqlite"
    try:
        if sqlite:
            # a note is not worth queueing for the write lock (up to busy_timeout, 30 s) behind another writer:
            # try once and give it up when the lock is taken
            session.connection().exec_driver_sql(f"PRAGMA busy_timeout = {NOTE_BUSY_TIMEOUT_MS}")
        session.execute(
            sa.update(models.ApiKey)
            .where(models.ApiKey.id == key_id, sa.or_(last.is_(None), last < stale))
            .values(last_used_at=now)
        )
        session.commit()
    except SQLAlchemyError as err:
        session.rollback()
        LOGGER.warning("last use of API key %s not recorded: %s", key_id, err.__class__.__name__)
    finally:
        if sqlite:
            session.connection().exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            session.commit()


class KeyCache:
    """Keys seen valid recently: key hash → :class:`Grant`, for ``ttl_s`` seconds.

    Saves the key lookup on every request. A key revoked or changed (or a municipality changed) through this
    process is dropped at once (:meth:`clear`); other processes of the service see the change within ``ttl_s``.
    Expiry is checked on every request, cached or not.
    """

    def __init__(self, ttl_s: float = 5.0, max_entries: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Grant]] = {}

    def get(self, key_hash: str) -> Grant | None:
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key_hash: str, grant: Grant) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key_hash] = (time.monotonic() + self.ttl_s, grant)

    def clear(self) -> None:
        self._entries.clear()


# --- a town's keys


def create_key(
    session: Session,
    *,
    municipality_id: int,
    name: str,
    scopes: Iterable[Scope | str],
    expires_at: dt.datetime | None,
    now: dt.datetime,
) -> tuple[models.ApiKey, str]:
    """A new key of the town; returns the stored key and its secret (shown once, only the hash is stored)."""
    if expires_at is not None and expires_at <= now:
        raise FieldError(
            f"expires_at: {expires_at.isoformat()} is not in the future (now is {now.isoformat()})", field="expires_at"
        )
    key, secret = api_key_row(municipality_id=municipality_id, name=name, scopes=_stored(scopes), expires_at=expires_at)
    session.add(key)
    session.commit()
    return key, secret


def list_keys(session: Session, *, municipality_id: int) -> Sequence[models.ApiKey]:
    return session.scalars(
        sa.select(models.ApiKey).where(models.ApiKey.municipality_id == municipality_id).order_by(models.ApiKey.id)
    ).all()


def _active(now: dt.datetime):
    return sa.and_(
        models.ApiKey.revoked_at.is_(None),
        sa.or_(models.ApiKey.expires_at.is_(None), models.ApiKey.expires_at > now),
    )


def _lock_town_keys(session: Session, *, municipality_id: int, key_id: int) -> models.ApiKey:
    """The key to change, once no other change of the town's keys can run until this transaction ends.

    A write to the town's row takes that row's lock on PostgreSQL and the database's write lock on SQLite, so
    two requests revoking a town's last two admin keys at once are serialised and the second sees the first.
    """
    session.execute(
        sa.update(models.Municipality)
        .where(models.Municipality.id == municipality_id)
        .values(name=models.Municipality.name)
        .execution_options(synchronize_session=False)
    )
    key = session.scalars(
        sa.select(models.ApiKey).where(models.ApiKey.id == key_id, models.ApiKey.municipality_id == municipality_id)
    ).first()
    if key is None:
        session.rollback()
        raise NotFoundError(f"no API key {key_id} in this municipality", field="key_id")
    return key


def _refuse_if_last_admin(session: Session, *, key: models.ApiKey, now: dt.datetime, action: str) -> None:
    is_active = key.revoked_at is None and (key.expires_at is None or key.expires_at > now)
    if not is_active or Scope.TOWN_ADMIN not in parse_scopes(key.scopes):
        return
    others = session.scalar(
        sa.select(sa.func.count())
        .select_from(models.ApiKey)
        .where(
            models.ApiKey.municipality_id == key.municipality_id,
            models.ApiKey.id != key.id,
            models.ApiKey.scopes.contains(Scope.TOWN_ADMIN.value),
            _active(now),
        )
    )
    if not others:
        session.rollback()
        raise ConflictError(
            f"key_id: API key {key.id} ({key.prefix}…) is the town's last active town_admin key and cannot be "
            f"{action}; create another key with the town_admin scope first",
            field="key_id",
        )


def revoke_key(session: Session, *, municipality_id: int, key_id: int, now: dt.datetime) -> models.ApiKey:
    """Revoke a key of the town (again: no change); the town's last active ``town_admin`` key is refused (409)."""
    key = _lock_town_keys(session, municipality_id=municipality_id, key_id=key_id)
    if key.revoked_at is None:
        _refuse_if_last_admin(session, key=key, now=now, action="revoked")
        key.revoked_at = now
    session.commit()
    return key


def update_key(
    session: Session, *, municipality_id: int, key_id: int, data: ApiKeyUpdate, now: dt.datetime
) -> models.ApiKey:
    """Rename a key or change its scopes; taking ``town_admin`` from the last active admin key is refused (409)."""
    key = _lock_town_keys(session, municipality_id=municipality_id, key_id=key_id)
    if data.scopes is not None:
        if key.revoked_at is not None:
            session.rollback()
            raise ConflictError(f"key_id: API key {key.id} is revoked; its scopes cannot change", field="key_id")
        new = _stored(data.scopes)
        if Scope.TOWN_ADMIN.value not in new.split():
            _refuse_if_last_admin(session, key=key, now=now, action="downgraded")
        key.scopes = new
    if data.name is not None:
        key.name = data.name
    session.commit()
    return key


# --- the service admin's view


def towns_with_keys(session: Session, *, now: dt.datetime, municipality_id: int | None = None) -> list[TownKeys]:
    """Every town (or one) with its keys, oldest first."""
    stmt = sa.select(models.Municipality).order_by(models.Municipality.id)
    if municipality_id is not None:
        stmt = stmt.where(models.Municipality.id == municipality_id)
    towns = session.scalars(stmt).all()
    if municipality_id is not None and not towns:
        raise NotFoundError(f"no municipality {municipality_id}", field="municipality_id")
    keys: dict[int, list[models.ApiKey]] = {t.id: [] for t in towns}
    key_stmt = sa.select(models.ApiKey).order_by(models.ApiKey.id)
    if municipality_id is not None:
        key_stmt = key_stmt.where(models.ApiKey.municipality_id == municipality_id)
    for key in session.scalars(key_stmt):
        keys[key.municipality_id].append(key)
    return [
        TownKeys(
            id=t.id,
            slug=t.slug,
            name=t.name,
            created_at=t.created_at,
            active_keys=sum(
                1 for k in keys[t.id] if k.revoked_at is None and (k.expires_at is None or k.expires_at > now)
            ),
            keys=[ApiKeyOut.model_validate(k) for k in keys[t.id]],
        )
        for t in towns
    ]
