"""Business as usual: the same town without new local generation or storage, solved by the same pipeline.

As REopt's ``BAUScenario`` (Cutler et al. 2017, NREL/TP-7A40-70022, §2.1): same inputs, new capacities at 0,
same solve; the economics compare the two plans' costs after solving (:mod:`chisan.economics.cashflows`).
The fleet, the bookings, the chargers and the tariff are those of the plan; the policy targets are dropped
(a grid-only town cannot meet a renewable target — it is what the plan is compared with); prices, including
a carbon price, stay.
"""

from __future__ import annotations

import dataclasses

from chisan.plan.inputs import PlanInputs
from chisan.plan.second_life import with_offer


def bau_inputs(inputs: PlanInputs) -> PlanInputs:
    """``inputs`` with every sizable capacity (PV, wind, storage) fixed at its lower bound and no policy target.

    The lower bound is existing capacity (``min_kw``; 0 by default), so nothing new is built: the town charges
    its cars from the grid (and from what it already has).

    Parameters
    ----------
    inputs : PlanInputs
        The plan's inputs.

    Returns
    -------
    PlanInputs
        A copy for the business-as-usual solve.
    """
    caps = {name: cap.fixed_at(cap.min_units) if cap.enabled else cap for name, cap in inputs.capacities.items()}
    inputs = with_offer(inputs, None)  # no second-life storage bought either
    return dataclasses.replace(
        inputs,
        capacities=caps,
        renewable_share_min=None,
        max_grid_import_kwh=None,
        max_emissions_kg=None,
    )
