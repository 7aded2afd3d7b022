"""One site's aggregate year, the job :func:`chisan.plan.site_year.solve_year_by_site` hands to spawned processes.

A module of its own so that a process imports only what the job needs (the fleet aggregation, the model and
HiGHS), not the rest of :mod:`chisan.plan.site_year` and :mod:`chisan.plan.site_dispatch`: a spawned process
imports the module of the function it runs before it can start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chisan.plan.highs import solve_model
from chisan.plan.model import build_model
from chisan.plan.reduce import aggregate_fleet

if TYPE_CHECKING:
    import xarray as xr


def solve_site(args: tuple) -> tuple[str, float, dict[str, xr.DataArray]]:
    """Aggregate year of one part of the town.

    Parameters
    ----------
    args : tuple
        (part's PlanInputs, ``town`` of :func:`chisan.plan.reduce.aggregate_fleet`, HiGHS options).

    Returns
    -------
    tuple
        (condition, objective [currency/year], each variable's solution).
    """
    part, town, options = args
    m = build_model(aggregate_fleet(part, town=town))
    condition = solve_model(m, options)
    if condition != "optimal":
        return condition, float("nan"), {}
    return condition, float(m.objective.value), {name: m.variables[name].solution for name in m.variables}
