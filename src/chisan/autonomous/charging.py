"""When an autonomous car goes to charge, and when it stops: a simple rule that knows PV, price and needs.

Every car charges at its home site (the charger site nearest its start; each site is a car-sharing station of
the scenario), at ``charge_power_kw`` at the plug with ``charge_efficiency`` into the battery.

1. **Need** — an idle car whose energy is below its *need* goes to charge at once, up to ``soc_target_fraction``.
   The need is the reserve plus the energy of the longest drive the car may be sent on before it can charge
   again: ``need = reserve + consumption × need_km`` (``need_km`` defaults to a pick-up, a ride and the way
   back across the whole service area; see :func:`need_kwh`). Dispatch never sends a car on a trip that would
   take it below the reserve plus the way back to its charger, so the battery never runs empty.
2. **Sun** — while the site's PV makes more than the cars already draw, idle cars within ``opportunistic_km``
   of their site and below ``opportunistic_below_fraction`` go and charge, as many as the surplus can feed at
   ``charge_power_kw`` (lowest state of charge first), and charge up to ``soc_full_fraction``.
3. **Price** — while the grid price is at or below the period's ``cheap_price_quantile`` (e.g. a night tariff),
   the same cars may charge from the grid up to ``soc_full_fraction``.

A charging car stays available to dispatch when it holds enough energy for the trip: charging never makes a
rider wait. The thresholds are assumptions to tune; the rule is transparent on purpose (the plan, not the
simulation, optimises the charging schedule within the windows, see :mod:`chisan.autonomous.export`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from chisan.exceptions import ScenarioError


@dataclass(frozen=True)
class ChargingPolicy:
    """Thresholds of the charging rule (fractions of usable energy unless said otherwise).

    Attributes
    ----------
    soc_target_fraction : float
        Charge to this after a need-triggered stop [-].
    soc_full_fraction : float
        Charge to this while PV has a surplus or the price is cheap [-].
    opportunistic_below_fraction : float
        Only cars below this go to charge opportunistically [-].
    opportunistic_km : float
        Only cars this close (road distance) to their site go to charge opportunistically [km].
    cheap_price_quantile : float
        A price at or below this quantile of the period's prices counts as cheap [-]; 0 = never cheap.
    need_km : float or None
        Drive the need covers [km]; None = :func:`need_kwh`'s default.
    """

    soc_target_fraction: float = 0.8
    soc_full_fraction: float = 1.0
    opportunistic_below_fraction: float = 0.9
    opportunistic_km: float = 1.0
    cheap_price_quantile: float = 0.25
    need_km: float | None = None

    def __post_init__(self) -> None:
        for name in ("soc_target_fraction", "soc_full_fraction", "opportunistic_below_fraction"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 < value <= 1):
                raise ScenarioError(f"charging: {name} = {value} must be in (0, 1]")
        if not 0 <= self.cheap_price_quantile <= 1:
            raise ScenarioError(f"charging: cheap_price_quantile = {self.cheap_price_quantile} must be in [0, 1]")
        if not self.opportunistic_km >= 0:
            raise ScenarioError(f"charging: opportunistic_km = {self.opportunistic_km} must be ≥ 0 [km]")
        if self.need_km is not None and not self.need_km >= 0:
            raise ScenarioError(f"charging: need_km = {self.need_km} must be ≥ 0 [km]")


def need_kwh(
    *, reserve_kwh: float, consumption_kwh_per_km: float, diagonal_km: float, circuity: float, need_km: float | None
) -> float:
    """Energy below which an idle car goes to charge [kWh].

    ``reserve + consumption × need_km``, with ``need_km`` by default three crossings of the service area's
    diagonal on the road (``3 × circuity × diagonal``): a pick-up, a ride and the way back to the charger.
    """
    km = 3.0 * circuity * diagonal_km if need_km is None else need_km
    return reserve_kwh + consumption_kwh_per_km * km


def cheap_price(price_per_kwh: np.ndarray, quantile: float) -> float:
    """The price at or below which charging from the grid counts as cheap [currency/kWh] (−inf if never)."""
    if quantile <= 0 or len(price_per_kwh) == 0:
        return -math.inf
    return float(np.quantile(price_per_kwh, quantile))


def opportunistic_slots(surplus_kw: float, charge_power_kw: float, cheap: bool) -> int | None:
    """How many more cars may start charging now: ⌊PV surplus / power per car⌋, or no limit (None) when cheap."""
    if cheap:
        return None
    return max(0, math.floor(surplus_kw / charge_power_kw + 1e-9))
