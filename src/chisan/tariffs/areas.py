"""Which bundled tariff a town of each Japanese area buys from, by contract size.

Every area of the ten former general utilities (:data:`chisan.sweep.derive.AREAS`) has one low-voltage and one
high-voltage business tariff in the library: ``<area>_low_voltage_power`` and ``<area>_high_voltage_business``,
with the suffix ``_illustrative`` where no unit prices could be read; TEPCO: ``tepco_low_voltage_power`` and
``tepco_high_voltage_business_2025``. Each file says whether its unit prices are ``sourced``, ``dated`` or
``illustrative`` (:attr:`chisan.tariffs.schema.Tariff.provenance`).

The voltage rule is the Japanese supply rule: a contract below 50 kW is supplied at low voltage (低圧, 200 V,
e.g. 低圧電力 "契約電力が原則として50kW未満", https://biz.kepco.jp/elec/menu/low/teiatsu), 50 kW and above at high
voltage (高圧, 6 kV, 50–500 kW; e.g. Chubu's 高圧業務用電力 "契約電力が50kW以上500kW未満",
http://www.chuden.co.jp/business/business_matome/ryoukinshikumi/index.html). Above 500 kW (高圧大口) and
2,000 kW (特別高圧) the contract is negotiated; the 50–500 kW tariff is used there too (an approximation).
"""

from __future__ import annotations

import math

from chisan.exceptions import ScenarioError
from chisan.tariffs.library import load_tariff, tariff_names
from chisan.tariffs.schema import Tariff

LOW_VOLTAGE_LIMIT_KW = 50.0
"""Contracts below this are low voltage, at and above it high voltage [kW]."""

AREAS: tuple[str, ...] = (
    "hokkaido",
    "tohoku",
    "tepco",
    "hokuriku",
    "chubu",
    "kansai",
    "chugoku",
    "shikoku",
    "kyushu",
    "okinawa",
)
"""The ten areas, as :data:`chisan.sweep.derive.AREAS` (repeated here so that the tariffs do not import the sweep)."""


def _library_name(area: str, kind: str) -> str:
    """The bundled file of an area's tariff: the sourced or dated one, else the ``_illustrative`` one."""
    if (area, kind) == ("tepco", "high_voltage_business"):
        return "tepco_high_voltage_business_2025"  # the current TEPCO EP plan (the FY2024 one is kept, dated)
    names = set(tariff_names())
    for name in (f"{area}_{kind}", f"{area}_{kind}_illustrative"):
        if name in names:
            return name
    raise ScenarioError(f"no bundled {kind} tariff for the {area} area (a broken package)")


AREA_TARIFFS: dict[str, tuple[str, str]] = {
    a: (_library_name(a, "low_voltage_power"), _library_name(a, "high_voltage_business")) for a in AREAS
}
"""Area → (low-voltage tariff, high-voltage tariff), names of the bundled library."""


def area_tariff(area: str, contract_kw: float) -> Tariff:
    """The tariff of a site in ``area`` whose contract would be ``contract_kw``.

    Parameters
    ----------
    area : str
        A key of :data:`AREA_TARIFFS`.
    contract_kw : float
        The expected contract [kW] (a sweep uses the town's installed charging power, its highest possible draw).

    Returns
    -------
    Tariff
        Below :data:`LOW_VOLTAGE_LIMIT_KW`: the low-voltage tariff with a fixed contract of ``contract_kw`` rounded
        up to a whole kW (the breaker caps the import there); otherwise the high-voltage tariff (contract = the
        year's peak 30-minute demand, an LP variable).

    Raises
    ------
    ScenarioError
        An unknown area or a contract that is not a number > 0.
    """
    if area not in AREA_TARIFFS:
        raise ScenarioError(f"area {area!r} has no tariffs; allowed: {', '.join(AREA_TARIFFS)}")
    if not contract_kw > 0 or not math.isfinite(contract_kw):
        raise ScenarioError(f"contract_kw = {contract_kw!r}; allowed: a number > 0 [kW]")
    low, high = AREA_TARIFFS[area]
    if contract_kw >= LOW_VOLTAGE_LIMIT_KW:
        return load_tariff(high)
    tariff = load_tariff(low)
    contract = tariff.contract.model_copy(update={"contract_kw": float(math.ceil(contract_kw - 1e-9))})
    return tariff.model_copy(update={"contract": contract})
