"""Fixtures of the service tests: a throwaway PostgreSQL cluster and fresh databases (SQLite or PostgreSQL).

PostgreSQL is Debian's package, started from initdb/pg_ctl in a temporary folder (chisan.service.testing); it is
installed when missing (as root, with apt-get), and the tests that need it fail with a clear message when it
cannot be (they never skip). Chromium comes from the project-wide ``chromium`` fixture (tests/conftest.py).
Helpers (a town made through the API, the tests' clock) are in ``service_helpers.py``.
"""

from __future__ import annotations

import itertools

import pytest

from chisan.service.testing import install_debian_packages, postgres_bindir, postgres_cluster


@pytest.fixture(scope="session")
def pg():
    """A running throwaway PostgreSQL cluster (session-wide); Debian's package is installed when missing."""
    if postgres_bindir() is None:
        problem = install_debian_packages(["postgresql", "postgresql-contrib"])
        if problem or postgres_bindir() is None:
            pytest.fail(f"PostgreSQL is needed by the service tests: {problem or 'initdb not found after install'}")
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
