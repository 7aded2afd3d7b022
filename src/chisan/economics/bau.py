"""Business as usual: the same town without new local generation or storage, solved by the same pipeline.

As REopt's ``BAUScenario`` (Cutler et al. 2017, NREL/TP-7A40-70022, §2.1): same inputs, new capacities at 0,
same solve; the economics compare the two plans' costs after solving (:mod:`chisan.economics.cashflows`).
The fleet, the bookings, the chargers and the tariff are those of the plan; the policy targets are dropped
(a grid-only town cannot meet a renewable target — it is what the plan is compared with); prices, including
a carbon price, stay. With hydrogen (:mod:`chisan.plan.hydrogen`) no electrolyser or hydrogen store is built
either: the fuel-cell fleet buys all its hydrogen delivered at ``hydrogen.bought_price_per_kg``
(:func:`bau_hydrogen`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from chisan.exceptions import ScenarioError
from chisan.plan.inputs import PlanInputs
from chisan.plan.second_life import with_offer

if TYPE_CHECKING:
    from chisan.plan.hydrogen import HydrogenInputs


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
        hydrogen=bau_hydrogen(inputs.hydrogen),
        renewable_share_min=None,
        max_grid_import_kwh=None,
        max_emissions_kg=None,
    )


def bau_hydrogen(h: HydrogenInputs | None) -> HydrogenInputs | None:
    """The hydrogen station of business as usual: no new electrolyser or store; all hydrogen bought delivered.

    The electrolyser and the store are fixed at their lower bound (existing capacity, ``min_kw``; 0 by default).
    The dispenser stays sized by the solve: the fleet is refuelled at its depot either way, as the plan's chargers
    are kept. ``None`` (no hydrogen) is returned unchanged.

    Parameters
    ----------
    h : chisan.plan.hydrogen.HydrogenInputs or None
        The plan's hydrogen station.

    Returns
    -------
    chisan.plan.hydrogen.HydrogenInputs or None

    Raises
    ------
    ScenarioError
        The fleet needs hydrogen, the scenario gives no price for delivered hydrogen and nothing existing could
        make it: business as usual is then undefined.
    """
    if h is None:
        return None
    fixed = {k: h.capacities[k].min_units for k in ("electrolyser_kw", "h2_storage_kwh")}
    bau = h.with_capacities_fixed(fixed)
    existing = bau.capacities["electrolyser_kw"].upper
    if h.bought_price_per_kwh is None and h.draw_kwh.to_numpy().any() and existing <= 0:
        raise ScenarioError(
            "business as usual needs hydrogen.bought_price_per_kg: without new electrolysers the fuel-cell fleets "
            "buy their hydrogen delivered, and the scenario gives no price for it; allowed: a price ≥ 0 "
            "[currency/kg], or plan without business as usual (chisan plan --no-bau)"
        )
    return bau
