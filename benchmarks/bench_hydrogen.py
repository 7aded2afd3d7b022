"""Speed of the combined example: shared cars + an e-van depot + a fuel-cell bus line with its electrolyser.

Prints one table. Each row runs ``chisan plan`` (solver.method = 'auto', business as usual, report) as a
subprocess with ``CHISAN_DATA`` unset (the bundled synthetic weather), on the bundled ``hydrogen_town`` example
(12 shared cars at 3 bases, 4 e-vans, 3 fuel-cell buses) over its horizon (one month) and, unless ``--quick``, over
three months (both planned by the full co-optimisation), and on the ``shanghai_district`` example (30 shared cars
at 5 bases, 4 e-vans, 3 fuel-cell buses, 7 metered sites) over its own horizon, the calendar year 2025 (two-stage:
typical-day sizing with the hydrogen station, the year-long aggregate LP, per-vehicle dispatch;
:mod:`chisan.plan.hydrogen_stages`):
median wall time, median CPU time (user + system of the subprocess) and peak memory (max RSS) over ``--runs`` runs.
Targets (issue 14): ≤ 120 s, ≤ 4 GB for the combined example over a year.

Measured 2026-12-04 (``--runs 1``, load average 13 on the shared 2-core machine): hydrogen_town 1 month 24.9 s wall /
10.7 s CPU / 0.42 GB, 3 months 47.2 / 22.8 / 0.61, shanghai_district a year 103.9 / 49.0 / 1.26 (target met).
Again at load 17-19, with the class figures of the depot catalogue cited (e-vans at 0.30 kWh/km): hydrogen_town
36.2 / 11.8 / 0.36 and 59.5 / 24.3 / 0.46, shanghai_district a year 118.0 / 46.8 / 0.87 (met; its CPU time is
the figure to compare: the wall time follows the load).

Usage: ``python benchmarks/bench_hydrogen.py [--runs 3] [--quick]``. Machines here are noisy (2 cores shared): read
medians, the CPU time next to the wall time, and the load average printed under the table.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chisan.scenario.load import example_path

TARGET_S = 120.0
TARGET_GB = 4.0


def _scenario(folder: Path, example: str, months: int, start_month: int | None = None) -> Path:
    """A copy of the example (and its duty files) with ``months`` months planned (from ``start_month``)."""
    src = example_path(example)
    for csv in src.parent.glob(f"{example}_*.csv"):
        shutil.copy(csv, folder / csv.name)
    text = re.sub(r"(?m)^months = \d+", f"months = {months}", src.read_text(encoding="utf-8"))
    if start_month is not None:
        text = re.sub(r"(?m)^start_month = \d+", f"start_month = {start_month}", text)
    out = folder / f"{example}_{months}m.toml"
    out.write_text(text, encoding="utf-8")
    return out


def _run(path: Path, out: Path) -> tuple[float, float, float]:
    """Wall time [s], CPU time [s] and max RSS [GB] of one ``chisan plan`` subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "CHISAN_DATA"}  # the bundled synthetic weather
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "src")
    code = "from chisan.cli import app; app()"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code, "plan", str(path), "-o", str(out), "-q"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024**2  # ru_maxrss [KiB] on Linux: the largest child so far


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="only the example's own horizon (one month)")
    args = parser.parse_args()
    cases = [("hydrogen_town", 1, None)]
    if not args.quick:
        cases += [("hydrogen_town", 3, None), ("shanghai_district", 12, 1)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for example, months, start in cases:
            path = _scenario(folder, example, months, start)
            runs = [_run(path, folder / f"out_{example}_{months}_{i}") for i in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            rss = max(r[2] for r in runs)
            rows.append((example, months, wall, cpu, rss))
    print(f"{'combined example (chisan plan)':<46} {'wall [s]':>9} {'CPU [s]':>9} {'max RSS [GB]':>13} {'target':>16}")
    for example, months, wall, cpu, rss in rows:
        ok = "met" if wall <= TARGET_S and rss <= TARGET_GB else "NOT met"
        span = "a year" if months == 12 else f"{months} month{'s' if months > 1 else ''}"
        label = f"{example}, {span} ({args.runs} runs)"
        print(f"{label:<46} {wall:>9.1f} {cpu:>9.1f} {rss:>13.2f} {f'≤{TARGET_S:.0f} s, ≤{TARGET_GB:.0f} GB':>12} {ok}")
    if len(rows) > 1:
        print(f"{'ratio hydrogen_town 3 months / 1 month (wall)':<46} {rows[1][2] / rows[0][2]:>9.2f}")
    print(f"load average (1, 5, 15 min) at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
