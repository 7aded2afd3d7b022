"""Fixtures of the sweep tests: the bundled template and the real municipalities table (../shared/data)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from chisan.scenario.load import example_path, load_scenario
from chisan.scenario.schema import Scenario
from chisan.sweep.derive import read_municipalities


@pytest.fixture(scope="session")
def municipalities_csv(shared_data: Path) -> Path:
    return shared_data / "japan_municipalities" / "japan_municipalities_merged.csv"


@pytest.fixture(scope="session")
def municipalities(municipalities_csv: Path) -> pd.DataFrame:
    """The 1,741 municipalities (designated cities whole)."""
    return read_municipalities(municipalities_csv)


@pytest.fixture(scope="session")
def template() -> Scenario:
    """The bundled example town: 30,000 residents, 450 members, 5 stations × 6 Nissan Sakura."""
    return load_scenario(example_path())
