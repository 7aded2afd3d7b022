"""The hydrogen station's investments for the appraisal: electrolyser (with its stack replacements), store and
dispenser bought beyond business as usual, at the scenario's prices (``[technologies.electrolyser]``,
``[technologies.hydrogen_storage]``, ``[technologies.hydrogen_dispenser]``).

Capacities come from the plans' hydrogen figures (:mod:`chisan.plan.hydrogen_results`): electrolyser [kW electric
in], store [kg], dispenser [kg/h]. Each is one :class:`chisan.economics.cashflows.Component`:

- electrolyser: capex = capex_per_kw × ΔkW, of which the stack (``stack_cost_fraction``) is bought again every
  ``stack_lifetime_years`` within the system's life — the cash-flow form of the LP's annuity
  capex × (1 + stack share × :func:`chisan.plan.hydrogen.stack_replacement_factor`) × CRF;
- store: capex_per_kg × Δkg; dispenser: capex_per_kg_per_h × Δ(kg/h); fixed O&M per unit and year alike.

The compressor has no capital cost in the scenario (``[technologies.compressor]`` gives its electricity only), so
it is not a line here: its cost is taken to be inside the electrolyser's ``capex_per_kw``.
"""

from __future__ import annotations

from chisan.economics.cashflows import Component
from chisan.scenario.schema import Scenario

HYDROGEN_CAPACITY_FIGURES = ("electrolyser_kw", "hydrogen_storage_kg", "dispenser_kg_per_h")
"""Names of the hydrogen capacities in :attr:`chisan.plan.hydrogen_results.HydrogenResults.figures`."""


def hydrogen_capacities_of(results) -> dict[str, float]:
    """Electrolyser [kW], store [kg] and dispenser [kg/h] of a plan's results (all 0 without hydrogen)."""
    h2 = getattr(results, "hydrogen", None)
    if h2 is None:
        return dict.fromkeys(HYDROGEN_CAPACITY_FIGURES, 0.0)
    return {k: float(h2.figures.loc[k, "value"]) for k in HYDROGEN_CAPACITY_FIGURES}


def hydrogen_components(scenario: Scenario, caps: dict[str, float], base: dict[str, float]) -> list[Component]:
    """Hydrogen investments of capacities ``caps`` above ``base`` (keys of :data:`HYDROGEN_CAPACITY_FIGURES`);
    components with nothing to buy are left out.

    Parameters
    ----------
    scenario : Scenario
        For the prices and lifetimes [currency].
    caps, base : dict[str, float]
        The plan's and business as usual's ``electrolyser_kw`` [kW], ``hydrogen_storage_kg`` [kg],
        ``dispenser_kg_per_h`` [kg/h].

    Returns
    -------
    list[Component]
        ``Electrolyser`` (with ``part_capex`` the stack), ``Hydrogen store``, ``Hydrogen dispenser``.
    """
    tech = scenario.technologies
    el, st, dp = tech.electrolyser, tech.hydrogen_storage, tech.hydrogen_dispenser
    d = {k: max(0.0, caps.get(k, 0.0) - base.get(k, 0.0)) for k in HYDROGEN_CAPACITY_FIGURES}
    kw, kg, kgh = d["electrolyser_kw"], d["hydrogen_storage_kg"], d["dispenser_kg_per_h"]
    capex = el.capex_per_kw * kw  # [currency] = [currency/kW] × [kW]
    out = [
        Component(
            "Electrolyser",
            capex,
            el.lifetime_years,
            el.fixed_om_per_kw_year * kw,
            f"{kw:,.1f} kW, stack every {el.stack_lifetime_years:g} years",
            part_capex=el.stack_cost_fraction * capex,
            part_lifetime_years=el.stack_lifetime_years,
        ),
        Component(
            "Hydrogen store", st.capex_per_kg * kg, st.lifetime_years, st.fixed_om_per_kg_year * kg, f"{kg:,.1f} kg"
        ),
        Component(
            "Hydrogen dispenser",
            dp.capex_per_kg_per_h * kgh,
            dp.lifetime_years,
            dp.fixed_om_per_kg_per_h_year * kgh,
            f"{kgh:,.1f} kg/h",
        ),
    ]
    return [c for c in out if c.capex > 0 or c.fixed_om_per_year > 0]
