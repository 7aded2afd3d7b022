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


def ensure_debian_package(found, packages: list[str]) -> None:
    """Install Debian ``packages`` with apt-get when ``found()`` is false (as root, once per session).

    The README's test command must work on a fresh machine that has only Python: tests that need a real browser
    or database server install Debian's package themselves, and fail with a clear message when they cannot.
    """
    import shutil
    import subprocess

    if found():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(f"{' '.join(packages)} missing and cannot be installed here (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True, env=env)
    done = subprocess.run(["apt-get", "install", "-y", "-q", *packages], capture_output=True, text=True, env=env)
    if done.returncode != 0 or not found():
        pytest.fail(f"could not install {' '.join(packages)}: {done.stderr[-500:]}")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's chromium, installed when missing."""
    import shutil

    ensure_debian_package(lambda: shutil.which("chromium") is not None, ["chromium"])
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def small_full_plan():
    """``plan_scenario(small_scenario(), method="full")``: solved once, read by the tests of several files.

    A plan is deterministic for a given scenario (tests/plan/test_pipeline.py::test_same_seed_same_plan checks
    it), so the files that each solved this same plan for themselves read this one instead.
    """
    from chisan.plan.pipeline import plan_scenario
    from tests.factories import small_scenario

    return plan_scenario(small_scenario(), method="full")


@pytest.fixture(scope="session")
def small_full_plan_with_bau():
    """``plan_scenario(small_scenario(), method="full", business_as_usual=True)``, solved once (as above)."""
    from chisan.plan.pipeline import plan_scenario
    from tests.factories import small_scenario

    return plan_scenario(small_scenario(), method="full", business_as_usual=True)


@pytest.fixture(scope="session")
def hydrogen_town_plan_with_bau():
    """The bundled hydrogen_town example planned with its business as usual beside it, solved once.

    Business as usual is solved after the plan, from the plan's prepared inputs, and leaves the plan alone
    (chisan.plan.pipeline.plan_scenario), so the tests of the plan itself read this run's plan too.
    """
    import warnings

    from chisan.plan.pipeline import plan_scenario
    from chisan.scenario.load import example_path, load_scenario

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few generated bookings find no free car: counted, not our subject
        return plan_scenario(load_scenario(example_path("hydrogen_town")), business_as_usual=True)


@pytest.fixture(scope="session")
def small_two_stage_plan_with_bau():
    """``plan_scenario(small_scenario(), method="two-stage", n_typical_days=8, business_as_usual=True)``, solved
    once for the report tests (deterministic, as above)."""
    from chisan.plan.pipeline import plan_scenario
    from tests.factories import small_scenario

    return plan_scenario(small_scenario(), method="two-stage", n_typical_days=8, business_as_usual=True)


@pytest.fixture(scope="session")
def shanghai_month_plan_with_bau():
    """The bundled Shanghai district for October 2025 (tests/scenario/test_shanghai_example.MONTH) with its
    business as usual, solved once for the example's tests and the report's wording tests."""
    import warnings

    from chisan.plan.pipeline import plan_scenario
    from chisan.scenario.load import scenario_from_dict
    from tests.scenario.test_shanghai_example import EXAMPLE, MONTH, example_dict

    scenario = scenario_from_dict(example_dict(**MONTH), source=str(EXAMPLE), base_dir=EXAMPLE.parent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few generated bookings find no free car: counted, not our subject
        return plan_scenario(scenario, business_as_usual=True)
