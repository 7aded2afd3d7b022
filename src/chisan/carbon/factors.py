"""Grid emission factors: constant, or hourly from a file (Electricity Maps' hourly CSV export).

Factors are location-based (the grid average the town imports) in [kg CO2e/kWh]. Japanese utilities publish
yearly basic and adjusted factors (Ministry of the Environment lists, see DESIGN.md §7); Electricity Maps
publishes hourly carbon intensity [g CO2e/kWh], direct and life-cycle (LCA).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chisan.exceptions import DataError
from chisan.units import G_PER_KG

ELECTRICITYMAPS_TIME_COLUMN = "Datetime (UTC)"
"""Time column of an Electricity Maps hourly export (UTC, hour starting)."""

ELECTRICITYMAPS_COLUMNS = {
    "carbon_intensity_gco2eq_per_kwh": "Carbon Intensity gCO₂eq/kWh (LCA)",
    "carbon_intensity_direct_gco2eq_per_kwh": "Carbon Intensity gCO₂eq/kWh (direct)",
}
"""Glossary names of the Electricity Maps carbon-intensity columns [g CO2e/kWh]."""


def read_hourly_emission_factors(
    path: str | Path, *, column: str = "carbon_intensity_direct_gco2eq_per_kwh", time_column: str | None = None
) -> pd.Series:
    """Read hourly grid carbon intensity and return it in [kg CO2e/kWh] on a UTC index.

    Parameters
    ----------
    path : str or Path
        CSV file. An Electricity Maps export is recognised by its columns; otherwise ``time_column`` (UTC
        or with an offset) and ``column`` [g CO2e/kWh] name the columns.
    column : str
        Glossary name — ``carbon_intensity_direct_gco2eq_per_kwh`` (default: combustion at the power plants, the
        basis of location-based scope 2 in the GHG Protocol) or ``carbon_intensity_gco2eq_per_kwh`` (life cycle,
        including upstream, which the GHG Protocol counts in scope 3) — or the file's own column name,
        in [g CO2e/kWh].
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: emission-factor file not found")
    frame = pd.read_csv(path)
    source_col = ELECTRICITYMAPS_COLUMNS.get(column, column)
    tcol = time_column or (ELECTRICITYMAPS_TIME_COLUMN if ELECTRICITYMAPS_TIME_COLUMN in frame else "time")
    for c in (tcol, source_col):
        if c not in frame:
            raise DataError(f"{path}: column {c!r} not found; columns are {', '.join(map(str, frame.columns))}")
    times = pd.to_datetime(frame[tcol], utc=True, errors="coerce")
    if times.isna().any():
        row = int(times.isna().to_numpy().argmax())
        raise DataError(f"{path}: row {row + 2}, column {tcol!r}: unreadable time {frame[tcol].iloc[row]!r}")
    values = pd.to_numeric(frame[source_col], errors="coerce")
    if values.isna().any() or (values < 0).any():
        row = int((values.isna() | (values < 0)).to_numpy().argmax())
        raise DataError(
            f"{path}: row {row + 2}, column {source_col!r}: value {frame[source_col].iloc[row]!r} is not a "
            "carbon intensity ≥ 0 g CO2e/kWh"
        )
    series = pd.Series(values.to_numpy(float) / G_PER_KG, index=pd.DatetimeIndex(times), name="kg_co2e_per_kwh")
    return series[~series.index.duplicated()].sort_index()


def factors_on_index(factors: pd.Series, snapshots: pd.DatetimeIndex) -> pd.Series:
    """Map hourly factors onto the plan's snapshots [kg CO2e/kWh].

    When the file covers the snapshots' year, each snapshot takes the value of its hour. Otherwise (a file of
    another year) values are matched by month, day and hour of the local clock, so that a typical profile can be
    reused: the daily and seasonal shape is kept, the calendar year is not.
    """
    local = factors.tz_convert(snapshots.tz)
    hourly = snapshots.floor("h")
    direct = local.reindex(hourly)
    if direct.notna().all():
        return pd.Series(direct.to_numpy(float), index=snapshots, name="emission_factor_kg_per_kwh")
    key = pd.Series(
        local.to_numpy(float),
        index=pd.MultiIndex.from_arrays([local.index.month, local.index.day, local.index.hour]),
    )
    key = key[~key.index.duplicated()]
    wanted = pd.MultiIndex.from_arrays([hourly.month, hourly.day, hourly.hour])
    mapped = key.reindex(wanted).to_numpy(float)
    if np.isnan(mapped).any():
        # a missing hour (e.g. 29 February absent in the file): fill from the neighbouring hours
        mapped = pd.Series(mapped).interpolate(limit_direction="both").to_numpy()
    return pd.Series(mapped, index=snapshots, name="emission_factor_kg_per_kwh")
