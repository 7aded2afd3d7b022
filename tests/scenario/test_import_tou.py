"""Inline time-of-use bands are checked as tariff files are: one price per hour, each band within one day."""

from __future__ import annotations

import pandas as pd
import pytest

from chisan.exceptions import ScenarioError
from chisan.plan.tariffs import import_price_series
from chisan.scenario.load import scenario_from_dict
from tests.factories import small_scenario_dict


def _with_bands(*bands):
    data = small_scenario_dict()
    data["grid"]["import_tou"] = [{"start_hour": a, "end_hour": b, "price_per_kwh": price} for a, b, price in bands]
    return data


def test_overlapping_bands_are_refused_naming_both_and_the_hours():
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_with_bands((0, 8, 21.0), (6, 10, 25.0)))
    text = str(err.value)
    assert "grid.import_tou[0] (0–8 h) and grid.import_tou[1] (6–10 h) overlap at 06:00–08:00" in text
    assert "each hour must have one price" in text and "{" not in text


def test_a_band_over_midnight_says_how_to_split_it_without_a_python_repr():
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_with_bands((22, 8, 21.0)))
    text = str(err.value)
    assert "grid.import_tou[0] (start_hour=22, end_hour=8, price_per_kwh=21.0)" in text
    assert "split it into two bands, 22–24" in text and "0–8 (start_hour = 0, end_hour = 8)" in text
    assert "{" not in text and "'start_hour'" not in text


def test_touching_bands_are_fine_and_each_hour_gets_its_price():
    sc = scenario_from_dict(_with_bands((0, 8, 21.0), (22, 24, 19.0), (8, 22, 28.0)))
    snaps = pd.date_range("2025-06-02", periods=24, freq="h", tz="Asia/Tokyo")
    price = import_price_series(snaps, 30.0, sc.grid.import_tou).to_numpy()
    assert list(price) == [21.0] * 8 + [28.0] * 14 + [19.0] * 2
