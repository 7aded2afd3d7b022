"""Speed of the outage simulation (REopt's method, vectorised over start steps).

Prints one table: median wall time over ``--runs`` runs of :func:`chisan.resilience.outage.simulate_outages` for
every start step of a year (8,760 hourly starts, and 35,040 quarter-hour starts) with a 72 h outage, PV, storage,
parked and called cars; and, once, REopt's way — one start after the other in a Python loop — on the hourly year, with
the ratio and a check that both give the same hours. Target (issue 12): all 8,760 start hours ≤ 5 s.

Usage: ``python benchmarks/bench_resilience.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chisan.resilience.outage import simulate_outages
from tests.resilience.reference_loop import random_sources, simulate_loop


def timed(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    hourly = random_sources(8760, seed=1)
    quarter = random_sources(35040, seed=1, dt_hours=0.25)
    t_h, fast = timed(lambda: simulate_outages(hourly, 72, 2), args.runs)
    t_q, _ = timed(lambda: simulate_outages(quarter, 72, 2), args.runs)
    t_loop, slow = timed(lambda: simulate_loop(hourly, 72, 2), 1)
    same = bool(np.array_equal(fast, slow))
    print("| case | starts | outage [h] | median [s] | target [s] | note |")
    print("|---|---:|---:|---:|---:|---|")
    print(f"| chisan (NumPy over starts), hourly | 8,760 | 72 | {t_h:.4f} | 5 | {'≤ target' if t_h <= 5 else 'SLOW'} |")
    print(f"| chisan (NumPy over starts), 15 min | 35,040 | 72 | {t_q:.4f} | – | |")
    print(
        f"| REopt's loop, one start at a time (1 run) | 8,760 | 72 | {t_loop:.3f} | – | "
        f"{t_loop / t_h:,.0f}× chisan; same hours: {same} |"
    )


if __name__ == "__main__":
    main()
