"""The cache of :func:`chisan.plan.dispatch.minimum_energy_kwh`: keyed on the data, not on the ``PlanInputs`` object.

One car, 6 hours, 3 kW at η = 0.9 (2.7 kWh a plugged hour), reserve 2 kWh; by hand, need after step t =
max(reserve, need after t + 1 + trip[t + 1] − gain[t + 1]).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

import numpy as np
import pytest

from chisan.plan import dispatch
from tests.factories import hand_inputs

PLUGGED = np.array([True, True, False, True, True, False])


@pytest.fixture
def computed(monkeypatch) -> list[bool]:
    """An empty cache, and one entry per computation that was not served from it (its ``cyclic``)."""
    monkeypatch.setattr(dispatch, "_NEEDS", OrderedDict())
    calls: list[bool] = []
    real = dispatch._minimum_energy_kwh

    def counted(inputs, cyclic):
        calls.append(cyclic)
        return real(inputs, cyclic)

    monkeypatch.setattr(dispatch, "_minimum_energy_kwh", counted)
    return calls


def _need(inputs, cyclic=True) -> np.ndarray:
    return dispatch.minimum_energy_kwh(inputs, cyclic=cyclic).iloc[:, 0].to_numpy()


def test_a_copy_with_the_same_data_is_served_from_the_cache(computed):
    inputs = hand_inputs(hours=6, plugged=PLUGGED, trip_energy_kwh=np.array([0, 0, 5, 0, 0, 4.0]))
    # after 5: 2; after 4: 2 + 4 = 6; after 3: 6 − 2.7 = 3.3; after 2: max(2, 0.6); after 1: 2 + 5; after 0: 7 − 2.7
    assert _need(inputs) == pytest.approx([4.3, 7.0, 2.0, 3.3, 6.0, 2.0], abs=1e-12)
    copy = dataclasses.replace(inputs, import_price_per_kwh=inputs.import_price_per_kwh * 2)  # need unchanged
    assert _need(copy) == pytest.approx([4.3, 7.0, 2.0, 3.3, 6.0, 2.0], abs=1e-12)
    assert computed == [True]  # once


def test_data_changed_in_place_are_computed_again(computed):
    inputs = hand_inputs(hours=6, plugged=PLUGGED, trip_energy_kwh=np.array([0, 0, 5, 0, 0, 4.0]))
    _need(inputs)
    inputs.trip_energy_kwh.iloc[5, 0] = 1.0  # after 4: 2 + 1 = 3; after 3: max(2, 0.3)
    assert _need(inputs) == pytest.approx([4.3, 7.0, 2.0, 2.0, 3.0, 2.0], abs=1e-12)
    inputs.plugged.iloc[2, 0] = True  # step 2 now gains 2.7: after 1: 2 + 5 − 2.7 = 4.3; after 0: max(2, 1.6)
    assert _need(inputs) == pytest.approx([2.0, 4.3, 2.0, 2.0, 3.0, 2.0], abs=1e-12)
    assert computed == [True, True, True]


def test_cyclic_and_not_are_kept_apart_and_a_changed_result_does_not_reach_the_cache(computed):
    # a 5 kWh trip in the first, unplugged hour: cyclic, the year must end with 2 + 5 = 7 kWh for it
    inputs = hand_inputs(
        hours=6, plugged=~np.eye(1, 6, 0, dtype=bool)[0], trip_energy_kwh=np.array([5.0, 0, 0, 0, 0, 0])
    )
    assert _need(inputs, cyclic=True) == pytest.approx([2.0, 2.0, 2.0, 2.0, 4.3, 7.0], abs=1e-12)
    assert _need(inputs, cyclic=False) == pytest.approx([2.0] * 6, abs=1e-12)
    mine = dispatch.minimum_energy_kwh(inputs, cyclic=True)
    mine.iloc[:, 0] = -1.0  # the caller's copy, not the cache's
    assert _need(inputs, cyclic=True) == pytest.approx([2.0, 2.0, 2.0, 2.0, 4.3, 7.0], abs=1e-12)
    assert computed == [True, False]
