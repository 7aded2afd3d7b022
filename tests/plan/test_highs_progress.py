"""HiGHS's own progress during a solve (plan/highs.py): the callback set on the real highspy object that linopy
builds moves the progress line, never backwards, and changes nothing in the solution."""

from __future__ import annotations

import itertools
import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from chisan.plan.highs import FRACTION_CAP, REPORT_STEP, STARTED, SolveWatcher, solve_model
from chisan.plan.model import build_model
from chisan.plan.prepare import prepare_inputs
from chisan.plan.solve import solve_plan
from tests.factories import small_scenario


@pytest.fixture(scope="module")
def inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_inputs(small_scenario()).inputs


def test_full_plan_reports_the_solvers_progress(inputs, capfd):
    seen: list[tuple[str, float]] = []
    watched = solve_plan(inputs, method="full", progress=lambda msg, frac: seen.append((msg, frac)))
    plain = solve_plan(inputs, method="full")
    # nothing reached the console although HiGHS logs to the callback
    assert capfd.readouterr().out == ""
    # building (0), solving (0.1), solved (1.0), and HiGHS's own reports between them
    assert len(seen) > 3
    assert seen[0][1] == 0.0 and seen[1][1] == 0.1 and seen[-1] == ("solved", 1.0)
    during = seen[2:-1]
    assert during, "no report from HiGHS during the solve"
    fractions = [f for _, f in seen]
    assert all(b >= a for a, b in itertools.pairwise(fractions)), fractions
    assert all(0.1 < f < 1.0 for _, f in during)
    assert max(f for _, f in during) <= 0.1 + 0.9 * FRACTION_CAP
    # each says what moves: the dual simplex's iteration count, read from HiGHS (not made up here)
    assert all(msg.startswith(seen[1][0] + " (dual simplex, iteration ") for msg, _ in during)
    last = int(during[-1][0].split("iteration ")[1].split(";")[0].split(")")[0].replace(",", ""))
    assert 0 < last <= watched.details["variables"] * 10
    # the same LP, the same optimum: the callback only reads
    assert watched.details["objective"] == plain.details["objective"]
    assert watched.capacities == plain.capacities
    for name, values in plain.values.items():
        np.testing.assert_array_equal(watched.values[name], values)


def test_interior_point_reports_its_infeasibility(inputs):
    seen: list[tuple[str, float]] = []
    options = {"output_flag": False, "solver": "ipm"}
    m = build_model(inputs)
    assert solve_model(m, options, progress=lambda msg, frac: seen.append((msg, frac))) == "optimal"
    again = build_model(inputs)
    assert solve_model(again, options) == "optimal"
    assert float(m.objective.value) == float(again.objective.value)
    ipm = [(msg, f) for msg, f in seen if msg.startswith("interior point, iteration ")]
    assert len(ipm) >= 3
    assert "primal infeasibility " in ipm[-1][0] and " gap " in ipm[-1][0]
    fractions = [f for _, f in seen]
    assert all(b >= a for a, b in itertools.pairwise(fractions))
    assert all(0.0 < f < 1.0 for f in fractions)


def _event(message: str = "", iterations: int = -1) -> SimpleNamespace:
    """What highspy hands a callback: the log line and the callback's data (``data_out``)."""
    return SimpleNamespace(message=message, data_out=SimpleNamespace(simplex_iteration_count=iterations))


def test_estimates_by_hand_and_throttling():
    now = [0.0]
    got: list[tuple[str, float]] = []
    w = SolveWatcher(lambda msg, frac: got.append((msg, frac)), clock=lambda: now[0])
    # lines as HiGHS 1.15 logs them (the small test town's solve)
    w.on_log(_event("LP has 15629 rows; 20075 cols; 50315 nonzeros\n"))
    w.on_log(_event("Presolve reductions: rows 5479(-10150); columns 9475(-10600); nonzeros 26320(-23995) \n"))
    assert w.rows == 5479
    w.on_simplex(_event(iterations=0))
    assert got == [("dual simplex, iteration 0", STARTED)]
    # a thousand iterations within one report interval: reported only when the estimate rose by REPORT_STEP
    for it in range(1, 1001):
        w.on_simplex(_event(iterations=it))
    expected = 1 - math.exp(-1000 / 5479)  # 1 − exp(−iterations / rows) = 0.1668
    assert w.fraction == pytest.approx(expected)
    assert len(got) == 1 + math.floor((expected - STARTED) / REPORT_STEP)  # 0.02 → 0.1668 in steps of 0.05: 2
    now[0] = 1.0  # past the interval: the next event is reported whatever the step
    w.on_log(_event("       6211     2.4749575928e+05 Pr: 2562(295.851) 6.7s\n"))
    assert got[-1][0] == "dual simplex, iteration 6,211; at 6,211: 2,562 primal infeasibilities, sum 296"
    assert got[-1][1] == pytest.approx(1 - math.exp(-6211 / 5479))  # the first primal sum: no fall yet
    now[0] = 2.0
    w.on_log(_event("       6594     2.5109416058e+05 Pr: 0(0); Du: 0(4.15277e-11) 7.2s\n"))
    assert got[-1][1] == FRACTION_CAP  # no infeasibility left: the fall is complete, capped before HiGHS returns

    ipm = SolveWatcher(lambda msg, frac: got.append((msg, frac)), clock=lambda: now[0])
    header = " Iter       primal obj         dual obj       pinf       dinf       gap      time\n"
    ipm.on_log(_event(header))
    ipm.on_log(_event("   0   -4.57708571e+02  -3.46832560e+04   7.17e-01   1.14e+00  2.00e+00       0.4\n"))
    assert ipm.fraction == STARTED  # the first measure is the reference: nothing has fallen yet
    ipm.on_log(_event("  10   -5.48995845e+02  -7.31210629e+02   8.61e-05   2.60e-05  2.00e-04       0.5\n"))
    # the largest of pinf, dinf, gap fell from 2 to 2e-4 of the way to 1e-8 on a log scale: ln 1e4 / ln 2e8
    assert ipm.fraction == pytest.approx(math.log(1e4) / math.log(2e8))  # 0.4819 > 1 − exp(−10/30) = 0.2835
    assert got[-1][0] == "interior point, iteration 10, primal infeasibility 8.6e-05, dual 2.6e-05, gap 2.0e-04"
    ipm.on_log(_event("  11   -5.48995845e+02  -7.31210629e+02   9.00e-02   2.60e-05  2.00e-04       0.5\n"))
    assert ipm.fraction == pytest.approx(math.log(1e4) / math.log(2e8))  # a worse iterate: the bar does not go back
