"""Rainflow cycles and stress factors: hand-derived examples and the `rainflow` package as reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rainflow

from chisan.batteries.cycles import (
    count_cycles,
    equivalent_full_cycles,
    extract_cycles,
    samples_per_step,
    stress_factors,
)
from chisan.exceptions import DataError, ScenarioError

COLUMNS = ["range", "mean", "count", "i_start", "i_end"]


def _sorted(frame: pd.DataFrame) -> np.ndarray:
    values = frame[COLUMNS].to_numpy(dtype=float)
    return values[np.lexsort(values.T[::-1])]


def _sawtooth(top: float, bottom: float, n_cycles: int, step: float) -> np.ndarray:
    """SOC going top -> bottom -> top, n_cycles times, in increments of ``step`` per sample."""
    down = np.arange(top, bottom - 1e-12, -step)
    one = np.concatenate([down, down[::-1][1:]])  # top .. bottom .. top
    return np.concatenate([one[:-1]] * n_cycles + [one[-1:]])


def test_sawtooth_gives_the_efc_derived_by_hand() -> None:
    # 10 cycles between 0.9 and 0.3 (DoD 0.6) in steps of 0.1 per hour. Every swing is a half cycle of range
    # 0.6 (the equal peaks make rainflow close each range as a half cycle): 20 halves × 0.5 × 0.6 = 6.0 EFC,
    # which is also half the total variation: 10 × 2 × 0.6 / 2 = 6.0.
    soc = _sawtooth(0.9, 0.3, 10, 0.1)
    cycles = count_cycles(soc)
    assert np.allclose(cycles["range"], 0.6)
    assert cycles["count"].sum() == pytest.approx(10.0)
    assert (cycles["count"] * cycles["range"]).sum() == pytest.approx(6.0)
    assert equivalent_full_cycles(pd.Series(soc)) == pytest.approx(6.0)

    # Stress per day: one cycle takes 12 h (6 h down, 6 h up), so 2 per day -> 1.2 EFC per full day, DoD 0.6,
    # C-rate 0.1 per hour (|dSOC| of 0.1 every hour while moving).
    index = pd.date_range("2025-04-01", periods=soc.size, freq="h", tz="Asia/Tokyo")
    stress = stress_factors(pd.Series(soc, index=index), 20.0, dt_hours=1.0, step="1D")
    assert stress["efc"].sum() == pytest.approx(6.0)
    assert np.allclose(stress.loc[stress["efc"] > 0, "dod"], 0.6)
    assert np.allclose(stress["c_rate"], 0.1)
    assert stress["efc"].iloc[1:4].to_numpy() == pytest.approx([1.2, 1.2, 1.2])
    assert np.allclose(stress["temp_c"], 20.0)
    # 121 hourly samples: 5 full days and one hour; each sample stands for dt_hours.
    assert stress["dt_days"].sum() == pytest.approx(121 / 24)


def test_nested_cycle_counted_by_hand() -> None:
    # Series 0, 1, 0.4, 0.6, 0.2, 0.8, 0 (ASTM E1049 §5.4.4 by hand):
    # at 0.2 the range 0.4-0.6 (0.2) is closed as a full cycle; at 0 the range 0.2-0.8 (0.6) is a full
    # cycle; then 0-1 contains the start -> half cycle; the residue 1-0 is a half cycle.
    soc = np.array([0.0, 1.0, 0.4, 0.6, 0.2, 0.8, 0.0])
    expected = pd.DataFrame(
        [
            [0.2, 0.5, 1.0, 2, 3],
            [0.6, 0.5, 1.0, 4, 5],
            [1.0, 0.5, 0.5, 0, 1],
            [1.0, 0.5, 0.5, 1, 6],
        ],
        columns=COLUMNS,
    )
    assert np.allclose(_sorted(extract_cycles(soc)), _sorted(expected))
    assert np.allclose(_sorted(count_cycles(soc)), _sorted(expected))
    # EFC: 0.2 + 0.6 + 0.5 + 0.5 = 1.8 = (1 + 0.6 + 0.2 + 0.4 + 0.6 + 0.8) / 2.
    assert equivalent_full_cycles(pd.Series(soc)) == pytest.approx(1.8)


@pytest.mark.parametrize("seed", range(6))
def test_vectorised_cycles_equal_rainflow(seed: int) -> None:
    # The vectorised four-point extraction must give exactly the cycles of the rainflow package, for smooth
    # random series, series with ties and plateaus (rounded to quarters) and random walks, all at once.
    rng = np.random.default_rng(seed)
    n_time = 200
    series = {
        "uniform": rng.random(n_time),
        "plateaus": np.round(rng.random(n_time) * 4) / 4,
        "walk": np.clip(0.5 + np.cumsum(rng.normal(0, 0.08, n_time)), 0, 1),
        "flat": np.full(n_time, 0.7),
        "short": np.r_[rng.random(3), np.full(n_time - 3, 0.2)],
    }
    frame = pd.DataFrame(series)
    vectorised = extract_cycles(frame)
    for name, values in series.items():
        reference = pd.DataFrame(list(rainflow.extract_cycles(values)), columns=COLUMNS)
        mine = vectorised[vectorised["pack"] == name]
        assert np.allclose(_sorted(mine), _sorted(reference)), name
        # Eq. 1: rainflow cycles split the total variation exactly.
        assert (mine["count"] * mine["range"]).sum() == pytest.approx(np.abs(np.diff(values)).sum() / 2)


def test_stress_of_many_packs_equals_one_by_one() -> None:
    # DataFrame path (vectorised cycles) and Series path (rainflow package) give the same stress factors.
    rng = np.random.default_rng(7)
    index = pd.date_range("2025-01-01", periods=24 * 20, freq="h", tz="UTC")
    soc = pd.DataFrame(
        {f"car{i}": np.clip(0.6 + np.cumsum(rng.normal(0, 0.05, index.size)), 0.05, 1.0) for i in range(4)},
        index=index,
    )
    temp = pd.Series(15 + 5 * np.sin(np.arange(index.size) / 24), index=index)
    many = stress_factors(soc, temp, dt_hours=1.0, step="2D")
    for column in soc.columns:
        one = stress_factors(soc[column], temp, dt_hours=1.0, step="2D")
        for name in one.columns:
            assert np.allclose(many[name][column], one[name], rtol=1e-12, atol=1e-15), (column, name)


def test_bad_inputs_raise_clear_errors() -> None:
    soc = pd.Series([0.5, 0.6, 1.2, 0.4], index=pd.date_range("2025-01-01", periods=4, freq="h"), name="car7")
    with pytest.raises(DataError, match=r"car7.*1\.2.*\[0, 1\]"):
        stress_factors(soc, 20.0, dt_hours=1.0)
    gap = pd.Series(
        [0.5, 0.6, 0.4], index=pd.DatetimeIndex(["2025-01-01 00:00", "2025-01-01 01:00", "2025-01-01 03:00"])
    )
    with pytest.raises(DataError, match="not sampled every"):
        stress_factors(gap, 20.0, dt_hours=1.0)
    shifted = pd.Series(20.0, index=soc.index + pd.Timedelta(hours=1))
    ok = soc.clip(upper=1.0)
    with pytest.raises(DataError, match="same index"):
        stress_factors(ok, shifted, dt_hours=1.0)
    with pytest.raises(ScenarioError, match="whole number"):
        samples_per_step("90min", 1.0)
    with pytest.raises(ScenarioError, match="dt_hours"):
        samples_per_step("1D", -1.0)
