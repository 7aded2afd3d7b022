"""BLAST-Lite's fine-profile reference (``shared/data/battery_reference/blast_lite_1.1_fine_profiles.csv``) as the
battery tests replay it: one day of the reference's README repeated for 8 years.

Shared by test_battery_blast_models.py (the BLAST-Lite fits, default stressor) and test_battery_c_rate.py (both
C-rate stressors).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from chisan.batteries.ageing import capacity_fade, step_stress

FINE = Path("battery_reference") / "blast_lite_1.1_fine_profiles.csv"

YEARS = (1, 3, 8)
"""Years at which the reference gives the relative capacity (columns ``q_1y``, ``q_3y``, ``q_8y``)."""


def fine_rows(blast_names: Mapping[str, str]) -> list[pd.Series]:
    """The reference's rows of the BLAST-Lite classes in ``blast_names`` (a single placeholder without the data)."""
    from conftest import _shared_data_dir

    folder = _shared_data_dir()
    if folder is None:  # the shared_data fixture fails the tests loudly in that case
        return [pd.Series({"model": "missing"})]
    frame = pd.read_csv(folder / FINE)
    return [row for _, row in frame.iterrows() if row["model"] in blast_names]


def readme_day(soc_max: float, depth: float, c_rate: float, dt_hours: float) -> np.ndarray:
    """The README's day: discharge by ``depth`` at ``c_rate``, charge back at the same rate, rest at ``soc_max``."""
    hours = np.arange(round(24 / dt_hours)) * dt_hours
    ramp = depth / c_rate if depth > 0 else 0.0
    soc = np.full(hours.size, soc_max)
    down = hours <= ramp
    up = (hours > ramp) & (hours <= 2 * ramp)
    soc[down] = soc_max - c_rate * hours[down]
    soc[up] = soc_max - depth + c_rate * (hours[up] - ramp)
    return soc


def replayed_capacity(row: pd.Series, model: str, **stress_options) -> np.ndarray:
    """Relative capacity [fraction] after each of :data:`YEARS` of the row's day repeated, under ``model``.

    ``stress_options`` go to :func:`chisan.batteries.ageing.step_stress` (e.g. ``c_rate_definition``).
    """
    dt_hours = float(row["profile_step_minutes"]) / 60.0
    depth = float(row["depth_of_discharge"])
    soc = readme_day(float(row["soc_max"]), depth, float(row["c_rate"]) if depth > 0 else 1.0, dt_hours)
    stress, _ = step_stress(pd.Series(soc), float(row["temperature_c"]), model, dt_hours=dt_hours, **stress_options)
    days = pd.DataFrame({name: np.tile(value[0], 365 * YEARS[-1]) for name, value in stress.items()})
    capacity = capacity_fade(days, model)["relative_capacity"].to_numpy()
    return np.array([capacity[365 * y - 1] for y in YEARS])
