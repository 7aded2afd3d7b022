"""Shared fixtures: where the real reference data lives, and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data_dir() -> Path | None:
    """Locate ``../shared/data`` (real public data for tests; see its SOURCES.md).

    Looked up, in order: ``$CHISAN_SHARED_DATA``, ``<repo>/../shared/data``, ``/work/shared/data``.
    """
    candidates = []
    if os.environ.get("CHISAN_SHARED_DATA"):
        candidates.append(Path(os.environ["CHISAN_SHARED_DATA"]))
    candidates += [REPO_ROOT.parent / "shared" / "data", Path("/work/shared/data")]
    for c in candidates:
        if (c / "SOURCES.md").is_file():
            return c
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the real reference data folder; fails loudly (never skips) when it cannot be found."""
    path = _shared_data_dir()
    if path is None:
        pytest.fail(
            "The real reference data (../shared/data) was not found. Set CHISAN_SHARED_DATA to the folder "
            "that holds SOURCES.md."
        )
    return path
