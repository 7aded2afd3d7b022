"""Speed of the roadmap (issue 3, point 6), printed as one table.

* Ageing one year of hourly SOC for 1,000 packs (target <= 2 s): stress extraction (vectorised rainflow) and
  the virtual-time fade update, median of 3, for the lab cells and the field-calibrated ones, with both C-rate
  stressors (issue 12).
* ``chisan roadmap`` of the bundled example town (30 cars, 2026-2050, the example [roadmap] table: 3 years
  planned in full) from the shell, imports and report included (target <= 60 s).
* The same roadmap in the library with 5 planned years, for comparison, with the time per plan.

Run: ``.venv/bin/python benchmarks/bench_roadmap.py``. The machine is shared: the load average is printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def _car_like_soc(n_hours: int, n_packs: int, seed: int) -> pd.DataFrame:
    """Shared cars: trips take 2-15 % SOC in ~12 % of hours, charging +10 %/h to 90 % at night."""
    rng = np.random.default_rng(seed)
    drive = (rng.random((n_hours, n_packs)) < 0.12) * rng.uniform(0.02, 0.15, (n_hours, n_packs))
    night = (np.arange(n_hours) % 24 >= 22) | (np.arange(n_hours) % 24 < 6)
    soc = np.empty((n_hours, n_packs))
    level = np.full(n_packs, 0.9)
    for t in range(n_hours):
        level = np.clip(level - drive[t], 0.05, 1.0)
        if night[t]:
            level = np.minimum(level + 0.1, 0.9)
        soc[t] = level
    index = pd.date_range("2025-01-01", periods=n_hours, freq="h", tz="Asia/Tokyo")
    return pd.DataFrame(soc, index=index, columns=[f"car{i:04d}" for i in range(n_packs)])


def bench_ageing() -> list[tuple]:
    from chisan.batteries.ageing import calibrated, simulate_fleet_capacity
    from chisan.batteries.field import DEFAULT_FIELD_CALIBRATION

    soc = _car_like_soc(8760, 1000, seed=3)
    temp = pd.Series(15 + 10 * np.sin(2 * np.pi * (np.arange(8760) / 8760 - 0.25)), index=soc.index)
    cases = [
        ("nmc622_denso", "while_cycling", 1.0),
        ("nmc622_denso", "while_cycling", DEFAULT_FIELD_CALIBRATION["nmc622_denso"]),
        ("nmc111_kokam", "while_cycling", 1.0),
        ("nmc111_kokam", "while_cycling", DEFAULT_FIELD_CALIBRATION["nmc111_kokam"]),
        ("lfp_250ah", "while_cycling", 1.0),
        ("lfp_250ah", "time_average", 1.0),
        ("nca_panasonic", "while_cycling", DEFAULT_FIELD_CALIBRATION["nca_panasonic"]),
    ]
    rows = []
    for name, definition, factor in cases:
        model = calibrated(name, factor)
        times = []
        for _ in range(3):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # cold deep cycles of the synthetic cars reach the Kokam LAM floor
                t0 = time.perf_counter()
                capacity = simulate_fleet_capacity(
                    soc, temp, model, dt_hours=1.0, step="1D", c_rate_definition=definition
                )
                times.append(time.perf_counter() - t0)
        note = f"median of 3; mean SOH after 1 year {capacity.iloc[-1].mean():.4f}"
        label = f"ageing: 1,000 packs × 8,760 h ({name}, {definition}, × {factor:g})"
        rows.append((label, float(np.median(times)), 2.0, note))
    return rows


def bench_cli() -> list[tuple]:
    chisan = Path(sys.executable).with_name("chisan")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        command = [str(chisan), "roadmap", "--out", f"{tmp}/out", "--quiet"]
        done = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(done.stderr)
    return [("chisan roadmap (example town, 25 years, 3 planned), shell", seconds, 60.0, "imports + report, 1 run")]


def bench_library(plan_years: int) -> list[tuple]:
    from chisan.roadmap.run import run_roadmap
    from chisan.roadmap.schema import example_settings
    from chisan.scenario.load import example_path, load_scenario

    scenario = load_scenario(example_path())
    settings = example_settings().model_copy(update={"plan_years": plan_years})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        result = run_roadmap(scenario, settings)
        seconds = time.perf_counter() - t0
    plans = {k.removeprefix("plan_"): v for k, v in result.timings.items() if k.startswith("plan_")}
    note = "plans " + ", ".join(f"{y} {s:.1f}" for y, s in plans.items()) + f"; ageing {result.timings['ageing']:.2f}"
    h = result.health
    first = h[(h["state"] == "in_car") & h["pack_id"].str.endswith("-p1")]
    soh8 = first[first["year"] == result.config.years[0] + 7][["soh_low_fade", "soh", "soh_high_fade"]].mean()
    reasons = result.packs["retire_reason"].value_counts().to_dict()
    note += (
        f"; first packs' SOH after 8 years {soh8['soh']:.3f} (band {soh8['soh_high_fade']:.3f}-"
        f"{soh8['soh_low_fade']:.3f}); retired {reasons}"
    )
    return [(f"run_roadmap, {plan_years} planned years (library)", seconds, None, note)]


def main() -> None:
    load = os.getloadavg()
    rows = bench_ageing() + bench_cli() + bench_library(5)
    width = max(len(r[0]) for r in rows)
    print(f"bench_roadmap — {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print(f"{'measure':<{width}}  {'seconds':>8}  {'target s':>8}  {'ratio':>6}  note")
    for name, seconds, target, note in rows:
        goal, ratio = ("", "") if target is None else (f"{target:g}", f"{seconds / target:.2f}")
        print(f"{name:<{width}}  {seconds:8.2f}  {goal:>8}  {ratio:>6}  {note}")


if __name__ == "__main__":
    main()
