"""The business-as-usual solve that :func:`chisan.plan.pipeline.plan_scenario` runs in a spawned process beside the
plan.

A module of its own so that the process imports only the solver's modules (:mod:`chisan.plan.solve`), not the
pipeline's appraisal, resilience, checks and scenario handling: a spawned process imports the module of the
function it runs before it can start, on the core the plan is not using.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from chisan.plan import site_year
from chisan.plan.solve import solve_plan

if TYPE_CHECKING:
    from chisan.plan.inputs import PlanInputs
    from chisan.plan.solve import Solution


def solve_bau(bau: PlanInputs, settings: dict) -> tuple[Solution, list[tuple[str, type[Warning]]]]:
    """The business-as-usual solve, with the warnings it raised for the parent to raise again.

    Parameters
    ----------
    bau : PlanInputs
        The business-as-usual town (:func:`chisan.economics.bau.bau_inputs`).
    settings : dict
        Keyword arguments of :func:`chisan.plan.solve.solve_plan`.

    Returns
    -------
    tuple
        The solution, and each warning as (text, category).
    """
    site_year.BUSY_CORES_BESIDE = 1  # this process runs beside the plan's (its own: one task per pool)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        solution = solve_plan(bau, **settings)
    return solution, [(str(w.message), w.category) for w in caught]
