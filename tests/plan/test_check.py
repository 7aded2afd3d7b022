"""The after-solve checks catch a plan that is wrong, with a message that says where."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from chisan.exceptions import CheckError
from chisan.plan.check import check_solution
from chisan.plan.inputs import Capacity
from chisan.plan.solve import solve_plan
from tests.factories import hand_inputs

HOURS = np.arange(24)


@pytest.fixture(scope="module")
def solved():
    plugged = np.ones(24, bool)
    plugged[18:21] = False
    trip = np.zeros(24)
    trip[18] = 10.0
    inputs = hand_inputs(
        pv_kw_per_kw=np.where((HOURS >= 10) & (HOURS < 14), 0.5, 0.0),
        plugged=plugged,
        trip_energy_kwh=trip,
        capacities={"pv_kw": Capacity(fixed_units=4.0)},
        annualise=False,
    )
    return inputs, solve_plan(inputs, method="full")


def _failed(report) -> list[str]:
    return [r["check"] for r in report.rows if not r["passed"]]


def test_a_correct_plan_passes(solved):
    inputs, sol = solved
    assert check_solution(inputs, sol).passed


def test_missing_charging_is_caught_with_vehicle_and_time(solved):
    inputs, sol = solved
    bad = copy.deepcopy(sol)
    charged = np.flatnonzero(bad.values["Vehicle-charge_kw"][:, 0] > 1.0)
    bad.values["Vehicle-charge_kw"][charged, 0] = 0.0  # the car never charges: the trip starts short
    report = check_solution(inputs, bad)
    failed = _failed(report)
    assert any("no booking starts short" in f for f in failed)
    assert any("rebuilt from the dispatch" in f for f in failed)
    assert any("bus balance" in f for f in failed)
    with pytest.raises(CheckError, match=r"vehicle car at 2025-06-01 18:00"):
        report.raise_if_failed()


def test_charging_while_unplugged_is_caught(solved):
    inputs, sol = solved
    bad = copy.deepcopy(sol)
    bad.values["Vehicle-charge_kw"][19, 0] = 1.0
    bad.values["Grid-import_kw"][19] += 1.0  # keep the bus balanced: only the plug rule is broken
    bad.values["Vehicle-energy_kwh"][19:, 0] += 0.9
    failed = _failed(check_solution(inputs, bad))
    assert "no charging while unplugged" in failed


def test_pv_above_availability_is_caught(solved):
    inputs, sol = solved
    bad = copy.deepcopy(sol)
    bad.values["PV-output_kw"][2] = 1.0  # at 02:00 the PV is dark
    bad.values["Grid-export_kw"][2] += 1.0
    assert "PV output ≤ capacity × availability" in _failed(check_solution(inputs, bad))
