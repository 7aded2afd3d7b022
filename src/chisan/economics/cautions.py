"""Cautions on an appraisal: what its 25-year figures rest on that a council should know before deciding.

- **A horizon under a year.** The plan's annual costs of a shorter horizon are its months scaled to a year
  (``PlanInputs.opex_scale``), so the savings, NPV, IRR and payback of every one of the project's years are those
  months' weather, bookings and prices repeated: a June plan has no winter in it.
- **A high-voltage tariff on a contract under 50 kW.** In Japan a customer is supplied at high voltage (6 kV) from
  a contract of 50 kW (Chubu Electric, 料金のしくみ (高圧): "高圧で電気をお使いいただいている、契約電力が50kW以上
  500kW未満のお客さま", http://www.chuden.co.jp/business/business_matome/ryoukinshikumi/index.html; TEPCO's 実量制
  contract of the same 50–500 kW band, Tokyo CCI, http://eco-hint.tokyo-cci.or.jp/2626); a meter whose highest
  30-minute demand stays far below would be a low-voltage customer, billed on another tariff. The plan's contract
  kW is the highest demand of the planned steps only, so a short horizon understates it as well.
"""

from __future__ import annotations

import pandas as pd

from chisan.scenario.schema import Scenario
from chisan.tariffs.library import load_tariff
from chisan.tariffs.schema import Tariff

HIGH_VOLTAGE_MIN_KW = 50.0
"""Smallest contract of a Japanese high-voltage supply [kW] (module docstring: Chubu Electric, TEPCO)."""

HIGH_VOLTAGES = ("high", "extra_high")
"""``Tariff.voltage`` values that are high-voltage supply."""


class AppraisalCautionWarning(UserWarning):
    """The appraisal's figures rest on something a reader should know (a partial horizon, an odd contract)."""


def tariff_voltages(scenario: Scenario) -> dict[str, str]:
    """The voltage of every tariff the scenario names (town and meters' own), by tariff name."""
    owners = [*scenario.sites, *scenario.stations, *(getattr(scenario, "depots", None) or [])]
    out = {}
    for tariff in [scenario.grid.tariff, *(x.tariff for x in owners)]:
        if isinstance(tariff, Tariff):
            out[tariff.name] = tariff.voltage
        elif isinstance(tariff, str):
            out[tariff] = load_tariff(tariff).voltage
    return out


def horizon_caution(scenario: Scenario) -> str | None:
    """The caution of a horizon under 12 months, or None."""
    h = scenario.horizon
    if h.months >= 12:
        return None
    first, last = pd.Timestamp(h.year, h.start_month, 1), pd.Timestamp(h.year, h.start_month + h.months - 1, 1)
    period = first.strftime("%B") if h.months == 1 else f"{first:%B}–{last:%B}"
    return (
        f"horizon.months = {h.months}: the plan covers {period} {h.year} only, scaled to a year; the savings, NPV, "
        f"IRR and payback over finance.project_life_years = {scenario.finance.project_life_years} repeat that "
        f"period every year (no other season), and the contract kW is the highest demand of that period; plan "
        f"months = 12 before deciding on them"
    )


def contract_cautions(scenario: Scenario, contracts_kw: dict[str, tuple[str, float]]) -> list[str]:
    """Cautions for the meters on a high-voltage tariff whose contract is under :data:`HIGH_VOLTAGE_MIN_KW`.

    Parameters
    ----------
    scenario : Scenario
    contracts_kw : dict[str, tuple[str, float]]
        Meter name → (tariff name, contract kW [kW]).
    """
    voltages = tariff_voltages(scenario)
    out = []
    for meter, (tariff, kw) in contracts_kw.items():
        if voltages.get(tariff) in HIGH_VOLTAGES and kw < HIGH_VOLTAGE_MIN_KW:
            out.append(
                f"{meter}: contract {kw:,.2f} kW on the high-voltage tariff {tariff!r}; high-voltage supply in Japan "
                f"is for contracts of {HIGH_VOLTAGE_MIN_KW:g} kW and more, so this meter would be a low-voltage "
                f"customer on another tariff and its basic charge and energy price are not what it would pay"
            )
    return out


def plan_contracts_kw(scenario: Scenario, kpis: pd.DataFrame, sites: pd.DataFrame | None) -> dict[str, tuple]:
    """Each meter's tariff and contract kW from a plan's tables: the sites' ``tariff`` and ``contract_kw`` with
    metered sites, else the town's ``contract_kw`` KPI on ``grid.tariff`` (empty without a basic charge)."""
    if sites is not None and "contract_kw" in sites:
        return {f"site {name!s}": (str(r["tariff"]), float(r["contract_kw"])) for name, r in sites.iterrows()}
    tariff = scenario.grid.tariff
    if "contract_kw" not in kpis.index or tariff is None:
        return {}
    name = tariff if isinstance(tariff, str) else tariff.name
    return {"the town's meter": (name, float(kpis.loc["contract_kw", "value"]))}


def appraisal_cautions(scenario: Scenario, kpis: pd.DataFrame, sites: pd.DataFrame | None) -> list[str]:
    """Every caution of an appraisal (module docstring), in the order above."""
    horizon = horizon_caution(scenario)
    return [*([horizon] if horizon else []), *contract_cautions(scenario, plan_contracts_kw(scenario, kpis, sites))]
