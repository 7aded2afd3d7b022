"""Figures of merit of a cash-flow series: NPV, IRR (numpy-financial), simple and discounted payback, levelised
cost of energy.

Definitions (Short, Packey & Holt 1995, *A Manual for the Economic Evaluation of Energy Efficiency and Renewable
Energy Technologies*, NREL/TP-462-5173, §4–5):

- NPV = Σ_{y=0}^{N} F_y / (1 + r)^y, with F_0 the (negative) investment;
- IRR: the rate at which NPV = 0 (``numpy_financial.irr``; NaN when the flows never change sign);
- payback: the first time the cumulative (discounted) cash flow reaches 0, interpolated linearly within the
  year it turns; ``inf`` when it does not within the project life;
- levelised cost = Σ_y C_y / (1 + r)^y ÷ Σ_y E_y / (1 + r)^y [currency/kWh] (costs and energy discounted alike).
"""

from __future__ import annotations

import numpy as np
import numpy_financial as npf


def npv(rate: float, flows: np.ndarray) -> float:
    """Net present value of ``flows`` for years 0 … N at ``rate`` [currency]."""
    return float(npf.npv(rate, np.asarray(flows, dtype=float)))


def irr(flows: np.ndarray) -> float:
    """Internal rate of return [fraction/year]; NaN when none exists (e.g. the flows never turn positive)."""
    flows = np.asarray(flows, dtype=float)
    if not (flows < 0).any() or not (flows > 0).any():
        return float("nan")
    return float(npf.irr(flows))


def payback_years(flows: np.ndarray, rate: float = 0.0) -> float:
    """Years until the cumulative cash flow (discounted at ``rate``; 0 = simple payback) first reaches 0.

    Interpolated within the year it turns: y − 1 + (−cum_{y−1}) / F_y. 0 when nothing is invested, ``inf`` when
    the cumulative flow stays below 0 to the end.
    """
    flows = np.asarray(flows, dtype=float)
    disc = flows * (1.0 + rate) ** -np.arange(len(flows), dtype=float)
    cum = np.cumsum(disc)
    if cum[0] >= 0:
        return 0.0
    turned = np.nonzero(cum >= 0)[0]
    if len(turned) == 0:
        return float("inf")
    y = int(turned[0])
    return float(y - 1 + (-cum[y - 1]) / disc[y])


def levelised_cost(rate: float, costs: np.ndarray, energy_kwh: np.ndarray) -> float:
    """Σ discounted costs / Σ discounted energy [currency/kWh] over years 0 … N (NaN without energy)."""
    factor = (1.0 + rate) ** -np.arange(len(costs), dtype=float)
    energy = float((np.asarray(energy_kwh, dtype=float) * factor).sum())
    if energy <= 0:
        return float("nan")
    return float((np.asarray(costs, dtype=float) * factor).sum() / energy)
