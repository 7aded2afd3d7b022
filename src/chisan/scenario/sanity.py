"""Warnings for inputs that are allowed but implausible (a unit slip, a missing factor of 1,000).

The schema refuses what is impossible; these checks only warn (``ImplausibleInputWarning``), because a scenario
may deliberately test an extreme. Money ranges are for Japanese yen (the default ``finance.currency``) and are
skipped for other currencies. Ranges, with their sources:

- PV ¥50,000 – ¥1,000,000 per kW installed: METI's procurement price committee (調達価格等算定委員会, 2024)
  puts rooftop systems of 10–50 kW at about ¥250,000/kW, large ground systems about ¥120,000/kW.
- Wind ¥100,000 – ¥2,000,000 per kW: same committee, onshore median ¥354,000/kW (2025), small turbines more.
- Stationary storage ¥10,000 – ¥500,000 per kWh: METI's storage cost targets (2021), commercial ≈ ¥150,000.
- Grid import ¥1 – ¥200 per kWh: Japanese retail tariffs are ¥20 – ¥45/kWh (TEPCO 2025).
- Charger power ≤ 350 kW is enforced by the schema; above 22 kW (the largest AC wall box, three-phase 32 A,
  IEC 61851) a per-vehicle AC charger is unusual and warned about.
"""

from __future__ import annotations

import warnings

from chisan.scenario.schema import Scenario


class ImplausibleInputWarning(UserWarning):
    """An input lies far outside its usual range (probably a unit slip)."""


RANGES_JPY = {
    "technologies.pv.capex_per_kw": (50_000.0, 1_000_000.0, "JPY/kW"),
    "technologies.wind.capex_per_kw": (100_000.0, 2_000_000.0, "JPY/kW"),
    "technologies.storage.capex_per_kwh": (10_000.0, 500_000.0, "JPY/kWh"),
    "grid.import_price_per_kwh": (1.0, 200.0, "JPY/kWh"),
}
"""Field → (lowest, highest plausible value, unit) when ``finance.currency = "JPY"``."""

AC_CHARGER_MAX_KW = 22.0
"""Largest AC charger [kW]: three-phase 400 V × 32 A (IEC 61851)."""


def implausible_inputs(scenario: Scenario) -> list[str]:
    """Messages naming each implausible field, its value, the usual range and the likely slip."""
    messages = []
    tech = scenario.technologies
    if scenario.finance.currency == "JPY":
        values = {
            "technologies.pv.capex_per_kw": tech.pv.capex_per_kw if tech.pv.enabled else 0.0,
            "technologies.wind.capex_per_kw": tech.wind.capex_per_kw if tech.wind.enabled else 0.0,
            "technologies.storage.capex_per_kwh": tech.storage.capex_per_kwh if tech.storage.enabled else 0.0,
            "grid.import_price_per_kwh": scenario.grid.import_price_per_kwh,
        }
        for field, value in values.items():
            low, high, unit = RANGES_JPY[field]
            if value <= 0:
                continue  # 0 = free or not considered: a deliberate choice, not a slip
            if value < low:
                messages.append(
                    f"{field} = {value:,g} {unit} is implausibly low (usually {low:,.0f} – {high:,.0f} {unit}); "
                    f"given in thousands of yen?"
                )
            elif value > high:
                messages.append(
                    f"{field} = {value:,g} {unit} is implausibly high (usually {low:,.0f} – {high:,.0f} {unit})"
                )
    for i, station in enumerate(scenario.stations):
        if station.charger_kw > AC_CHARGER_MAX_KW:
            messages.append(
                f"stations[{i}].charger_kw = {station.charger_kw:,g} kW ({station.name}) is above the largest AC "
                f"charger ({AC_CHARGER_MAX_KW:g} kW); a DC fast charger, or a value in W?"
            )
    return messages


def warn_implausible(scenario: Scenario) -> None:
    """Issue one :class:`ImplausibleInputWarning` per implausible input."""
    for message in implausible_inputs(scenario):
        warnings.warn(message, ImplausibleInputWarning, stacklevel=2)


def unit_slip_hint(field: str, value: object) -> str:
    """A hint for a refused value that looks like a unit slip: a power or energy given in W or Wh instead of kW or
    kWh (e.g. ``charger_kw = 6000`` → "in W? 6 kW"). Empty when none applies."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 1000:
        return ""
    if field.endswith("_kw"):
        return f" — given in W? {value / 1000:g} kW was probably meant"
    if field.endswith("_kwh"):
        return f" — given in Wh? {value / 1000:g} kWh was probably meant"
    return ""
