"""Unit conversions and physical constants used across chisan.

Every quantity in chisan carries its unit in its name (``capacity_kwh``, ``wind_speed`` [m/s]) or docstring;
this module holds the few conversions between units that data sources use.
"""

from __future__ import annotations

HOURS_PER_YEAR: float = 8760.0
"""Hours in a non-leap year [h]; annual figures are scaled to this length."""

KMH_PER_MS: float = 3.6
"""1 m/s = 3.6 km/h."""

KELVIN_OFFSET: float = 273.15
"""0 °C = 273.15 K."""

KG_PER_T: float = 1000.0
"""Kilograms per metric tonne."""

G_PER_KG: float = 1000.0
"""Grams per kilogram."""

W_PER_KW: float = 1000.0
"""Watts per kilowatt."""


def kmh_to_ms(speed_kmh):
    """Convert a speed from [km/h] to [m/s]."""
    return speed_kmh / KMH_PER_MS


def fahrenheit_to_celsius(temp_f):
    """Convert a temperature from [°F] to [°C]."""
    return (temp_f - 32.0) * 5.0 / 9.0


def kelvin_to_celsius(temp_k):
    """Convert a temperature from [K] to [°C]."""
    return temp_k - KELVIN_OFFSET


def capital_recovery_factor(discount_rate: float, lifetime_years: float) -> float:
    """Capital recovery factor [1/year]: the annuity that repays 1 unit of capital over a lifetime.

    ``crf = r (1 + r)^n / ((1 + r)^n - 1)``, and ``1 / n`` when ``r = 0`` (e.g. Short, Packey & Holt 1995,
    NREL/TP-462-5173, Eq. 4-3).

    Parameters
    ----------
    discount_rate : float
        Real discount rate [fraction per year].
    lifetime_years : float
        Economic lifetime [years], > 0.
    """
    if lifetime_years <= 0:
        raise ValueError(f"lifetime_years must be > 0, got {lifetime_years}")
    if abs(discount_rate) < 1e-12:
        return 1.0 / lifetime_years
    growth = (1.0 + discount_rate) ** lifetime_years
    return discount_rate * growth / (growth - 1.0)
