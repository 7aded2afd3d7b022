"""Annualised costs and bounds of the supply the plan sizes (PV, wind, storage) and of a second-life offer."""

from __future__ import annotations

import numpy as np

from chisan.plan.inputs import Capacity
from chisan.plan.second_life import SecondLifeOffer
from chisan.scenario.schema import Scenario
from chisan.units import capital_recovery_factor


def capacities(scenario: Scenario) -> dict[str, Capacity]:
    """Annualised cost and bounds of PV, wind and storage (capital recovery factor from the discount rate)."""
    r = scenario.finance.discount_rate_fraction
    tech = scenario.technologies

    def cap(t, capex, om, lifetime, lo, hi, fixed, enabled) -> Capacity:
        return Capacity(
            annual_cost_per_unit=capex * capital_recovery_factor(r, lifetime) + om,
            min_units=lo,
            max_units=np.inf if hi is None else hi,
            fixed_units=fixed,
            enabled=enabled,
        )

    st = tech.storage
    return {
        "pv_kw": cap(
            tech.pv,
            tech.pv.capex_per_kw,
            tech.pv.fixed_om_per_kw_year,
            tech.pv.lifetime_years,
            tech.pv.min_kw,
            tech.pv.max_kw,
            tech.pv.fixed_kw,
            tech.pv.enabled,
        ),
        "wind_kw": cap(
            tech.wind,
            tech.wind.capex_per_kw,
            tech.wind.fixed_om_per_kw_year,
            tech.wind.lifetime_years,
            tech.wind.min_kw,
            tech.wind.max_kw,
            tech.wind.fixed_kw,
            tech.wind.enabled,
        ),
        "storage_kwh": cap(
            st,
            st.capex_per_kwh,
            st.fixed_om_per_kwh_year,
            st.lifetime_years,
            0.0,
            st.max_kwh,
            st.fixed_kwh,
            st.enabled,
        ),
        "storage_kw": cap(st, st.capex_per_kw, 0.0, st.lifetime_years, 0.0, st.max_kw, st.fixed_kw, st.enabled),
    }


def second_life_offer(scenario: Scenario) -> SecondLifeOffer | None:
    """The ``[second_life]`` table as the plan's offer (price annualised at the scenario's discount rate)."""
    sl = scenario.second_life
    if sl is None:
        return None
    return SecondLifeOffer(
        offered_kwh=sl.offered_kwh,
        price_per_kwh=sl.price_per_kwh,
        lifetime_years=sl.lifetime_years,
        crf_per_year=capital_recovery_factor(scenario.finance.discount_rate_fraction, sl.lifetime_years),
        fixed_om_per_kwh_year=sl.fixed_om_per_kwh_year,
        site=sl.site,
        round_trip_efficiency=sl.round_trip_efficiency_fraction,
        max_c_rate_per_h=sl.max_c_rate_per_h,
    )
