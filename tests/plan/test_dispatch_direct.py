"""The rolling dispatch's direct HiGHS update (plan/dispatch.py, :class:`DirectHighs`) against linopy's diff and
against a model rebuilt for every window.

All three move the same window model along the same month: the direct update writes the changed bounds, right-hand
sides and costs straight into HiGHS, linopy's persistent solver finds and writes the same changes by diffing the
model, and the rebuild solves each window from scratch. The LPs are the same, so the dispatch must be too: the
same warm-started HiGHS runs give the same values (to the last bit in practice; 1e-9 kWh asserted), and a model
built afresh each window reaches the same optimum of each window, so the month costs the same (1e-9 relative).
"""

from __future__ import annotations

import numpy as np
import pytest

from chisan.plan.dispatch import RollingSettings, rolling_dispatch
from chisan.plan.prepare import prepare_inputs
from chisan.plan.solve import Solution, evaluate_objective, solve_plan
from tests.factories import small_scenario

ROLLING = RollingSettings(commit_hours=96, lookahead_hours=24)  # March in 8 windows: 7 moves of the model


@pytest.fixture(scope="module")
def fixed():
    month = prepare_inputs(small_scenario(horizon={"months": 1, "start_month": 3})).inputs
    two = solve_plan(month, method="two-stage", n_typical_days=8)
    return month.with_capacities_fixed(two.capacities, two.site_pv_kw, two.site_storage), two


def _cost(fixed_inputs, two, dispatch) -> float:
    sol = Solution(
        capacities=two.capacities,
        values=dispatch.values,
        method="rolling",
        status="optimal",
        initial_energy_kwh=dispatch.initial_energy_kwh,
        initial_storage_kwh=dispatch.initial_storage_kwh,
        site_storage=two.site_storage,
    )
    return evaluate_objective(fixed_inputs, sol)


def test_direct_update_gives_the_dispatch_of_linopy_diff_and_of_a_rebuilt_model(fixed):
    inputs, two = fixed
    runs = {how: rolling_dispatch(inputs, ROLLING, model_update=how) for how in ("highs", "linopy", "rebuild")}
    assert runs["highs"].windows == 8  # ⌈744 h / 96 h⌉
    direct, diffed = runs["highs"].values, runs["linopy"].values
    assert sorted(direct) == sorted(diffed)
    for name in direct:
        np.testing.assert_allclose(direct[name], diffed[name], rtol=0, atol=1e-9, err_msg=name)
    charged_kwh = float(direct["Vehicle-charge_kw"].sum())
    assert charged_kwh > 0  # the cars do charge: the comparison is not of empty schedules
    costs = {how: _cost(inputs, two, run) for how, run in runs.items()}
    assert costs["highs"] == pytest.approx(costs["linopy"], rel=1e-9)
    assert costs["highs"] == pytest.approx(costs["rebuild"], rel=1e-9)


def test_an_unknown_model_update_is_refused_by_name(fixed):
    inputs, _ = fixed
    with pytest.raises(ValueError, match="model_update must be 'highs', 'linopy' or 'rebuild', not 'diff'"):
        rolling_dispatch(inputs, ROLLING, model_update="diff")
