"""Fixtures of the service tests: a throwaway PostgreSQL cluster and fresh databases (SQLite or PostgreSQL).

PostgreSQL is Debian's package, started from initdb/pg_ctl in a temporary folder (chisan.service.testing); when
it is not installed the tests that need it fail with a message saying how to install it (they never skip).
Helpers (a town made through the API, the tests' clock) are in ``service_helpers.py``.
"""

from __future__ import annotations

import itertools

import pytest

from chisan.service.testing import postgres_cluster


@pytest.fixture(scope="session")
def pg():
    """A running throwaway PostgreSQL cluster (session-wide)."""
    try:
        with postgres_cluster() as cluster:
            yield cluster
    except RuntimeError as err:
        pytest.fail(f"PostgreSQL is needed by the service tests and could not be started: {err}")


_counter = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database: a SQLite file, or a new database in the PostgreSQL cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'chisan.db'}"
    cluster = request.getfixturevalue("pg")
    return cluster.create_database(f"t{next(_counter)}")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'chisan.db'}"
