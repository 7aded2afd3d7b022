"""Database engine, sessions and migrations (SQLite by default, PostgreSQL through psycopg 3).

The schema changes only through the Alembic migrations shipped in ``chisan/service/alembic`` (applied by
:func:`migrate`, which the service calls on start); nothing here creates tables from the models.

SQLite is made safe for concurrent writers the documented SQLAlchemy way: the driver's own transaction handling
is switched off and every transaction that may write starts with ``BEGIN IMMEDIATE``, so writers queue on the
database lock (``busy_timeout``) instead of failing when they upgrade a read lock; the write-ahead log with
``synchronous = FULL`` makes every commit durable before it is acknowledged (a ``kill -9`` loses nothing committed).

Reads never take the write lock: inside :func:`read_only` (and so in every ``GET``/``HEAD``/``OPTIONS`` request,
through :class:`ReadOnlyRequests`) a transaction starts with a plain ``BEGIN``, which in WAL mode reads a snapshot
and waits for no writer (https://www.sqlite.org/wal.html, "readers do not block writers and a writer does not block
readers"). PostgreSQL needs none of this (MVCC readers never wait for writers).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for the database lock before failing [ms]."""


def normalise_url(url: str) -> str:
    """The SQLAlchemy URL to use: ``postgresql://`` and ``postgres://`` are given the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    # switching a new file to WAL needs it alone for a moment; connections opened at the same instant retry
    for attempt in range(100):
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            break
        except sqlite3.OperationalError:
            if attempt == 99:
                raise
            time.sleep(0.05)
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


_READ_ONLY: ContextVar[bool] = ContextVar("chisan_db_read_only", default=False)
"""True where the code only reads: SQLite transactions then begin DEFERRED (no write lock)."""

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""HTTP methods whose requests only read the database (RFC 9110 §9.2.1 "safe" methods)."""


@contextmanager
def read_only() -> Iterator[None]:
    """Transactions begun inside (in this thread or task, and in threads started from it) only read.

    On SQLite they begin with a plain ``BEGIN`` and never take the write lock, so a writer holding it does not
    delay them. A write inside still works (SQLite upgrades the lock) but may fail with "database is locked"
    when another writer committed meanwhile: keep writes out of it.
    """
    token = _READ_ONLY.set(True)
    try:
        yield
    finally:
        _READ_ONLY.reset(token)


def is_read_only() -> bool:
    """Whether transactions begun here only read (see :func:`read_only`)."""
    return _READ_ONLY.get()


class ReadOnlyRequests:
    """ASGI middleware: the database work of every ``GET``/``HEAD``/``OPTIONS`` request runs in :func:`read_only`.

    The flag is a context variable, so it reaches the request's dependencies and the worker threads that run
    its synchronous route functions (Starlette copies the context into them).
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("method") in READ_ONLY_METHODS:
            token = _READ_ONLY.set(True)
            try:
                await self.app(scope, receive, send)
            finally:
                _READ_ONLY.reset(token)
        else:
            await self.app(scope, receive, send)


def _sqlite_begin(connection) -> None:
    # a reader takes a snapshot and no lock; a writer takes the write lock at once (queued by busy_timeout)
    connection.exec_driver_sql("BEGIN" if _READ_ONLY.get() else "BEGIN IMMEDIATE")


def make_engine(url: str, *, pool_size: int = 20, max_overflow: int = 40) -> Engine:
    """An engine for ``url`` with the settings the service relies on.

    Parameters
    ----------
    url : str
        ``sqlite:///file.db`` (the file and its folder are created) or ``postgresql://...``.
    pool_size, max_overflow : int
        Connection pool of PostgreSQL.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=pool_size,
            max_overflow=max_overflow,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # connections are recycled after 30 min instead of pinged before every use (a round trip per request)
    return sa.create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800)


class Database:
    """An engine and its session factory.

    Parameters
    ----------
    url : str
        Database URL (see :func:`make_engine`).
    """

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self.sessionmaker() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def alembic_ini_path() -> Path:
    """Path of ``alembic.ini`` (shipped inside the package, next to the ``alembic`` folder)."""
    return Path(str(resources.files("chisan.service").joinpath("alembic.ini")))


def alembic_config(url: str, connection: sa.Connection | None = None):
    """An Alembic ``Config`` for the service's migrations on ``url`` (or on an open ``connection``)."""
    from alembic.config import Config

    ini = alembic_ini_path()
    cfg = Config(str(ini))
    cfg.set_main_option("script_location", str(ini.parent / "alembic"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


MIGRATION_LOCK_ID = 2_471_113
"""PostgreSQL advisory lock held while migrating, so that processes starting together migrate one at a time
(SQLite's ``BEGIN IMMEDIATE`` does the same there)."""


@contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    """An exclusive lock on ``path`` (POSIX ``flock``) for processes on one machine; nothing when ``path`` is None."""
    if path is None:
        yield
        return
    import fcntl

    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(database: Database, revision: str = "head") -> None:
    """Apply the Alembic migrations up to ``revision`` (the service calls this on every start).

    Processes starting together migrate one at a time: a PostgreSQL advisory lock, or a lock file next to a
    SQLite database (which also keeps them from racing to create and set up a new file).
    """
    from alembic import command

    parsed = make_url(database.url)
    lock_file = None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        lock_file = Path(parsed.database).expanduser().resolve().with_suffix(".migrate.lock")
    with _file_lock(lock_file), database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        command.upgrade(alembic_config(database.url, connection), revision)


def current_revision(database: Database) -> str | None:
    """The revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def utcnow() -> dt.datetime:
    """The current time, tz-aware UTC."""
    return dt.datetime.now(dt.UTC)
