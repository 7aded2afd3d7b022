"""Levelised cost of charging: the cost of the electricity that went into the vehicles, per kWh charged.

Allocation rule (average cost shared by energy, after the hydrogen station's electricity is taken out):

- the chargers serve only the vehicles: all their cost C^ch_y is the vehicles';
- the shared energy system (PV, wind, storage, the grid bill, carbon price, battery ageing) S_y serves three
  loads: the vehicles' charging E_c, the other (non-vehicle) load E_o and the hydrogen station's electricity.
  The hydrogen station's electricity leaves at the value the levelised cost of hydrogen already carries, H per
  year (its marginal value, :mod:`chisan.plan.hydrogen_results`), so no kWh is paid for twice;
- what is left, S_y − H, is the cost of the electricity of the vehicles and the other load, shared between them
  by energy: the vehicles' share s = E_c / (E_c + E_o) (the average price of a kWh, the same for both loads).

    LCOC = Σ_y v^y [C^ch_y + s (S_y − H)] ÷ Σ_{y≥1} v^y E_c      v = 1 / (1 + r)    [currency/kWh]

(levelised cost: :func:`chisan.economics.metrics.levelised_cost`, Short, Packey & Holt 1995, §4). Without other
load s = 1 and the rule is the system's cost, less the hydrogen's electricity, per kWh charged.
"""

from __future__ import annotations

import numpy as np

from chisan.economics.metrics import levelised_cost


def vehicle_share_of_energy(charging_kwh_per_year: float, other_load_kwh_per_year: float) -> float:
    """s = E_c / (E_c + E_o): the vehicles' share of the electricity the shared system delivers [-] (0 without
    any)."""
    total = charging_kwh_per_year + other_load_kwh_per_year
    return float(charging_kwh_per_year / total) if total > 0 else 0.0


def levelised_cost_of_charging(
    rate: float,
    charger_costs: np.ndarray,
    shared_costs: np.ndarray,
    hydrogen_electricity_value_per_year: float,
    charging_kwh_per_year: float,
    other_load_kwh_per_year: float,
) -> float:
    """Levelised cost of the vehicles' electricity [currency/kWh] (module docstring for the rule).

    Parameters
    ----------
    rate : float
        Discount rate r [fraction/year].
    charger_costs : numpy.ndarray
        Cash-flow costs of the chargers in years 0 … N [currency] (investment, replacements, O&M, less salvage).
    shared_costs : numpy.ndarray
        Costs of the shared energy system in years 0 … N [currency]: its investment flows, and in years 1 … N its
        grid bill, carbon price and battery ageing.
    hydrogen_electricity_value_per_year : float
        H, the hydrogen station's electricity at the value its levelised cost of hydrogen carries
        [currency/year], taken out of the shared costs in years 1 … N.
    charging_kwh_per_year, other_load_kwh_per_year : float
        E_c and E_o [kWh/year], in years 1 … N.
    """
    charger_costs = np.asarray(charger_costs, dtype=float)
    years = np.arange(len(charger_costs))
    operating = years >= 1
    share = vehicle_share_of_energy(charging_kwh_per_year, other_load_kwh_per_year)
    vehicles = charger_costs + share * (
        np.asarray(shared_costs, dtype=float) - np.where(operating, hydrogen_electricity_value_per_year, 0.0)
    )
    return levelised_cost(rate, vehicles, np.where(operating, charging_kwh_per_year, 0.0))
