"""Speed of the combined example: shared cars + an e-van depot + a fuel-cell bus line with its electrolyser.

Prints one table. Each row runs ``chisan plan`` on the bundled ``hydrogen_town`` example (12 shared cars at
3 bases, 4 e-vans, 3 fuel-cell buses; full co-optimisation, business as usual, report) as a subprocess, over the
example's horizon (one month) and, unless ``--quick``, over three months: median wall time, median CPU time
(user + system of the subprocess) and peak memory (max RSS) over ``--runs`` runs. Targets (issue 14): ≤ 120 s,
≤ 4 GB for the combined example.

Usage: ``python benchmarks/bench_hydrogen.py [--runs 3] [--quick]``. Machines here are noisy (2 cores shared): read
medians, and the CPU time next to the wall time.
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


def _scenario(folder: Path, months: int) -> Path:
    """A copy of the example (and its duty files) with ``months`` months planned, in ``folder``."""
    src = example_path("hydrogen_town")
    for csv in src.parent.glob("hydrogen_town_*.csv"):
        shutil.copy(csv, folder / csv.name)
    text = re.sub(r"(?m)^months = \d+", f"months = {months}", src.read_text(encoding="utf-8"))
    out = folder / f"hydrogen_town_{months}m.toml"
    out.write_text(text, encoding="utf-8")
    return out


def _run(path: Path, out: Path) -> tuple[float, float, float]:
    """Wall time [s], CPU time [s] and max RSS [GB] of one ``chisan plan`` subprocess."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
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
    horizons = [1] if args.quick else [1, 3]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for months in horizons:
            path = _scenario(folder, months)
            runs = [_run(path, folder / f"out{months}_{i}") for i in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            rss = max(r[2] for r in runs)
            rows.append((months, wall, cpu, rss))
    print(f"{'combined example (chisan plan)':<42} {'wall [s]':>9} {'CPU [s]':>9} {'max RSS [GB]':>13} {'target':>16}")
    for months, wall, cpu, rss in rows:
        ok = "met" if wall <= TARGET_S and rss <= TARGET_GB else "NOT met"
        label = f"hydrogen_town, {months} month{'s' if months > 1 else ''} ({args.runs} runs)"
        print(f"{label:<42} {wall:>9.1f} {cpu:>9.1f} {rss:>13.2f} {f'≤{TARGET_S:.0f} s, ≤{TARGET_GB:.0f} GB':>12} {ok}")
    if len(rows) > 1:
        print(f"{'ratio 3 months / 1 month (wall)':<42} {rows[1][1] / rows[0][1]:>9.2f}")


if __name__ == "__main__":
    main()
