"""Materials in battery packs, their recovery by recycling process, and the EU recovery targets.

Material content per kWh of pack comes from Argonne's BatPaC 5.1 [1]_ (DESIGN.md §7); recovery fractions by
process from Argonne's EverBatt and the literature [2]_ (DESIGN.md §7, mid-points of the ranges given there);
the targets from Regulation (EU) 2023/1542, Annex XII Part C [3]_. Every kilogram sent to recycling is either
recovered or lost: ``lost_kg = mass_in_kg - recovered_kg``.

Where DESIGN.md §7 gives no value, nothing is invented: a material without a content figure is not counted
(NMC622 and NMC811 list only Li, Ni, Co, Mn; LFP lists no Fe), and a material without a recovery figure for a
process is counted as lost (e.g. Cu in hydrometallurgy and direct recycling, Mn in pyrometallurgy). Pass your
own ``recovery_rates`` to change that.

References
----------
.. [1] K. G. Knehr, J. J. Kubal, P. A. Nelson, S. Ahmed (2022), Battery Performance and Cost Modeling for
   Electric-Drive Vehicles: A Manual for BatPaC v5.0, Argonne National Laboratory ANL/CSE-22/1
   (BatPaC 5.1 spreadsheet, material inventory).
.. [2] Q. Dai, J. Spangenberger, S. Ahmed, L. Gaines, J. C. Kelly, M. Wang (2019), EverBatt: A Closed-loop
   Battery Recycling Cost and Environmental Impacts Model, Argonne National Laboratory ANL-19/16.
.. [3] Regulation (EU) 2023/1542 of the European Parliament and of the Council of 12 July 2023 concerning
   batteries and waste batteries, OJ L 191, 28.7.2023, Annex XII Part C (targets for recovery of materials)
   and Article 8 (recycled content). http://data.europa.eu/eli/reg/2023/1542/oj
.. [4] E. Emilsson, L. Dahllöf (2019), Lithium-Ion Vehicle Battery Production: Status 2019 on Energy Use, CO2
   Emissions, Use of Metals, Products Environmental Footprint, and Recycling, IVL Swedish Environmental
   Research Institute, report C 444.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError

MATERIAL_CONTENT_KG_PER_KWH: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "NMC111": MappingProxyType(
            {"Li": 0.124, "Ni": 0.340, "Co": 0.341, "Mn": 0.318, "Cu": 0.413, "Al": 0.595, "graphite": 0.91}
        ),
        "NMC622": MappingProxyType({"Li": 0.110, "Ni": 0.546, "Co": 0.183, "Mn": 0.170}),
        "NMC811": MappingProxyType({"Li": 0.100, "Ni": 0.658, "Co": 0.083, "Mn": 0.077}),
        "LFP": MappingProxyType({"Li": 0.091, "Cu": 0.551, "Al": 0.725, "graphite": 0.98, "P": 0.39}),
    }
)
"""Material content of a pack [kg/kWh] by chemistry, Argonne BatPaC 5.1 [1]_ (DESIGN.md §7)."""

CHEMISTRIES: tuple[str, ...] = tuple(MATERIAL_CONTENT_KG_PER_KWH)
"""Valid chemistry names."""

PROCESSES: tuple[str, ...] = ("pyrometallurgy", "hydrometallurgy", "direct")
"""Recycling processes."""

RECOVERY_RATES: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        # Pyrometallurgy: 95-98 % of Co, Ni, Cu into the alloy; Li lost to the slag [2].
        "pyrometallurgy": MappingProxyType({"Co": 0.965, "Ni": 0.965, "Cu": 0.965, "Li": 0.0}),
        # Hydrometallurgy: 95-98 % of Co, Ni, Mn; 80-95 % of Li [2].
        "hydrometallurgy": MappingProxyType({"Co": 0.965, "Ni": 0.965, "Mn": 0.965, "Li": 0.875}),
        # Direct (cathode-to-cathode) recycling: about 90 % of the cathode material [2].
        "direct": MappingProxyType({"Li": 0.90, "Ni": 0.90, "Co": 0.90, "Mn": 0.90, "P": 0.90}),
    }
)
"""Fraction of each material recovered, by process [fraction] (mid-points of DESIGN.md §7 ranges, [2]_).

Materials not listed for a process are counted as lost."""

EU_RECOVERY_TARGETS: Mapping[int, Mapping[str, float]] = MappingProxyType(
    {
        2027: MappingProxyType({"Co": 0.90, "Cu": 0.90, "Ni": 0.90, "Li": 0.50}),
        2031: MappingProxyType({"Co": 0.95, "Cu": 0.95, "Ni": 0.95, "Li": 0.80}),
    }
)
"""Material recovery targets of Regulation (EU) 2023/1542, Annex XII Part C [3]_, to be met by 31 December of
the key year [fraction]; they apply to recycling in the years after it."""

EU_RECYCLED_CONTENT_TARGETS: Mapping[int, Mapping[str, float]] = MappingProxyType(
    {
        2031: MappingProxyType({"Co": 0.16, "Li": 0.06, "Ni": 0.06}),
        2036: MappingProxyType({"Co": 0.26, "Li": 0.12, "Ni": 0.15}),
    }
)
"""Minimum recycled content of new EV batteries, Regulation (EU) 2023/1542 Article 8 [3]_ [fraction]."""

CELL_PRODUCTION_KG_CO2E_PER_KWH: tuple[float, float] = (61.0, 106.0)
"""Greenhouse-gas emissions of NMC cell production, low-high [kg CO2e/kWh], IVL 2019 [4]_."""


def check_chemistry(chemistry: str, *, where: str = "chemistry") -> str:
    """Canonical chemistry name (case-insensitive match); ScenarioError listing valid names otherwise."""
    canonical = {name.lower(): name for name in CHEMISTRIES}
    key = str(chemistry).strip().lower()
    if key not in canonical:
        raise ScenarioError(f"{where}: unknown chemistry {chemistry!r}; valid chemistries: {', '.join(CHEMISTRIES)}.")
    return canonical[key]


def check_process(process: str) -> str:
    """Canonical process name; ScenarioError listing valid names otherwise."""
    key = str(process).strip().lower()
    if key not in PROCESSES:
        raise ScenarioError(f"Unknown recycling process {process!r}; valid processes: {', '.join(PROCESSES)}.")
    return key


def pack_materials(chemistry: pd.Series, capacity_kwh: pd.Series) -> pd.DataFrame:
    """Mass of each material in packs [kg]: capacity × BatPaC content per kWh.

    Parameters
    ----------
    chemistry : pandas.Series
        Chemistry of each pack (see :data:`CHEMISTRIES`).
    capacity_kwh : pandas.Series
        Nominal capacity of each pack [kWh], same index.

    Returns
    -------
    pandas.DataFrame
        Same index, one column per material [kg] (0 where the chemistry has no figure for it).
    """
    content = pd.DataFrame({c: dict(m) for c, m in MATERIAL_CONTENT_KG_PER_KWH.items()}).T.fillna(0.0)
    canonical = chemistry.map(lambda c: check_chemistry(c))
    per_kwh = content.loc[canonical.to_numpy()].set_axis(chemistry.index)
    return per_kwh.mul(capacity_kwh.astype(float), axis=0)


def eu_recovery_target(material: str, year: int) -> float:
    """EU 2023/1542 material-recovery target for recycling done in ``year`` [fraction]; NaN when none applies.

    Targets "by 31 December 2027" apply from 2028, those "by 31 December 2031" from 2032 [3]_.
    """
    target = np.nan
    for key_year in sorted(EU_RECOVERY_TARGETS):
        if year > key_year and material in EU_RECOVERY_TARGETS[key_year]:
            target = EU_RECOVERY_TARGETS[key_year][material]
    return target


def recover_materials(
    mass_in: pd.DataFrame, recovery_rates: Mapping[str, Mapping[str, float]] | None = None
) -> pd.DataFrame:
    """Split material sent to recycling into recovered and lost mass.

    Parameters
    ----------
    mass_in : pandas.DataFrame
        Columns ``process``, ``material``, ``mass_in_kg`` [kg] (any other columns are kept).
    recovery_rates : mapping, optional
        ``{process: {material: fraction}}``; default :data:`RECOVERY_RATES`. Missing materials are lost.

    Returns
    -------
    pandas.DataFrame
        ``mass_in`` with ``recovery_fraction``, ``recovered_kg`` and ``lost_kg``
        (= ``mass_in_kg - recovered_kg``).
    """
    rates = RECOVERY_RATES if recovery_rates is None else recovery_rates
    for process, table in rates.items():
        for material, fraction in table.items():
            if not (0.0 <= float(fraction) <= 1.0):
                raise ScenarioError(
                    f"recovery_rates[{process!r}][{material!r}] = {fraction!r}; allowed: a fraction in [0, 1]."
                )
    out = mass_in.copy()
    out["recovery_fraction"] = [
        float(rates.get(p, {}).get(m, 0.0)) for p, m in zip(out["process"], out["material"], strict=True)
    ]
    out["recovered_kg"] = out["mass_in_kg"] * out["recovery_fraction"]
    out["lost_kg"] = out["mass_in_kg"] - out["recovered_kg"]
    return out


def check_eu_recovery(
    materials: pd.DataFrame, recovery_rates: Mapping[str, Mapping[str, float]] | None = None
) -> pd.DataFrame:
    """Compare achieved material recovery with the EU 2023/1542 targets of each year.

    Parameters
    ----------
    materials : pandas.DataFrame
        Columns ``year``, ``process``, ``material``, ``mass_in_kg``, ``recovered_kg`` (as
        :func:`chisan.batteries.lifecycle.stock_flow` returns).
    recovery_rates : mapping, optional
        The rates used (default :data:`RECOVERY_RATES`); only used to say in the message when a material had
        no recovery figure for a process.

    Returns
    -------
    pandas.DataFrame
        One row per year, process and regulated material (Co, Cu, Ni, Li) sent to recycling:
        ``recovery_fraction`` achieved, ``target_fraction`` (NaN before 2028), ``meets_target`` (bool),
        ``shortfall_fraction`` (target - achieved, 0 when met) and a human ``message`` for shortfalls.
        Shortfalls are flagged here, never raised.
    """
    regulated = sorted({m for t in EU_RECOVERY_TARGETS.values() for m in t})
    cols = ["year", "process", "material", "recovery_fraction", "target_fraction", "meets_target"]
    cols += ["shortfall_fraction", "message"]
    rows = materials[materials["material"].isin(regulated) & (materials["mass_in_kg"] > 0)]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    grouped = rows.groupby(["year", "process", "material"], as_index=False)[["mass_in_kg", "recovered_kg"]].sum()
    grouped["recovery_fraction"] = grouped["recovered_kg"] / grouped["mass_in_kg"]
    grouped["target_fraction"] = [
        eu_recovery_target(m, int(y)) for m, y in zip(grouped["material"], grouped["year"], strict=True)
    ]
    # A tolerance of 1e-12 keeps a rate exactly at the target from failing on rounding.
    short = (grouped["target_fraction"] - grouped["recovery_fraction"]).where(grouped["target_fraction"].notna())
    grouped["shortfall_fraction"] = short.clip(lower=0.0).fillna(0.0)
    grouped["meets_target"] = ~(short > 1e-12)
    rates = RECOVERY_RATES if recovery_rates is None else recovery_rates
    grouped["message"] = [
        f"{int(y)}: {p} recovers {r:.1%} of {m}, below the EU 2023/1542 target of {t:.0%}"
        + ("" if m in rates.get(p, {}) else " (no recovery figure for this material and process: counted lost)")
        if not ok
        else ""
        for y, p, m, r, t, ok in zip(
            grouped["year"],
            grouped["process"],
            grouped["material"],
            grouped["recovery_fraction"],
            grouped["target_fraction"],
            grouped["meets_target"],
            strict=True,
        )
    ]
    return grouped[cols].reset_index(drop=True)
