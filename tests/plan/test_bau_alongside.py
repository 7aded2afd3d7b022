"""Business as usual solved in a second process beside the plan (``plan_scenario(bau_alongside=True)``, used by
``chisan plan``): the same figures as the serial solve, and the plan's process solves only the plan."""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor

import pandas as pd

from chisan.exceptions import SolverError
from chisan.plan import pipeline
from chisan.plan.pipeline import plan_scenario
from tests.factories import small_scenario


def _counted(monkeypatch) -> list[str]:
    """Record which solves run in this process: "bau" for the inputs without sizable capacities, else "plan"."""
    calls: list[str] = []
    real = pipeline.solve_plan

    def solve_plan(inputs, **kw):
        calls.append("plan" if inputs.renewable_share_min or inputs.capacities["pv_kw"].upper > 0 else "bau")
        return real(inputs, **kw)

    monkeypatch.setattr(pipeline, "solve_plan", solve_plan)
    return calls


def test_bau_alongside_gives_the_serial_figures(monkeypatch, small_full_plan_with_bau):
    sc = small_scenario()
    serial = small_full_plan_with_bau  # plan_scenario(sc, method="full", business_as_usual=True), tests/conftest.py
    calls = _counted(monkeypatch)
    beside = plan_scenario(sc, method="full", business_as_usual=True, bau_alongside=True)
    assert calls == ["plan"]  # business as usual was solved by the worker, not here
    pd.testing.assert_frame_equal(serial.bau.kpis, beside.bau.kpis)
    pd.testing.assert_frame_equal(serial.bau.dispatch, beside.bau.dispatch)
    pd.testing.assert_frame_equal(serial.economics.figures, beside.economics.figures)


def test_a_failed_worker_leaves_business_as_usual_to_this_process():
    # the worker's error is not raised from the pool: _bau_result answers None and the serial solve follows,
    # so its error reads as without the worker
    future: Future = Future()
    future.set_exception(SolverError("a window ended 'infeasible'"))
    said: list[str] = []
    assert pipeline._bau_result((ProcessPoolExecutor(max_workers=1), future), lambda m, f: said.append(m)) is None
    assert said == ["business as usual: solved alongside the plan"]
