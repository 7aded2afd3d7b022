"""Speed of the decision-grade plan (issue 11, point 8): one table of medians, targets beside them.

Rows:

1. ``chisan plan`` on the bundled example end to end, business-as-usual solve included (a subprocess: wall time
   and peak memory). Target ≤ 20 s, ≤ 2 GB.
2. A 40-car town of 8 bases (the example scaled, 5 Nissan Leaf 40 kWh per base, each base its own meter) with
   TEPCO's high-voltage business tariff (time of use and a basic charge on the contract kW) and a 90 % hourly-matched
   target, end to end. Target ≤ 60 s.
3. ``chisan compare`` of the example with 10 sensitivity variants (5 inputs × low/high) against one plan of it:
   the ratio of the two wall times. Target ≤ 5 ×.
4. The full method (one LP of capacities and every car's hour) over a year against the number of vehicles
   (10, 20, 40): seconds each and the fitted exponent b of time ∝ vehicles^b (``--full`` to run it: minutes).

Each row runs ``--repeat`` times (seconds: median and min–max; the compare ratio is of the medians). Memory of every
run is sampled from here every 0.2 s over the command's whole process tree (:mod:`_memory`: the plan, business as
usual beside it, the dispatch's workers, compare's Dask workers): the peak over time of the tree's summed PSS
(shared pages divided among the processes sharing them) and RSS, and the largest single process's exact peak RSS
(``VmHWM``); then, per row, each process of its run with the largest PSS sum. CPU seconds are the command's and its
workers' (user + system); load is the larger 1-minute load average of before and after.

Usage: ``python benchmarks/bench_decision.py [--repeat 1] [--full]``. Machines here are noisy (2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import tomli_w

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _memory import HEADER, Measured, label_roles, run_sampled  # noqa: E402
from bench_large_towns import scaled_example  # noqa: E402

CHISAN = [sys.executable, "-m", "chisan.cli"]


def timed(cmd: list[str], cwd: Path) -> Measured:
    """One command, its wall and CPU time [s] and its process tree's memory (:func:`_memory.run_sampled`)."""
    m = run_sampled(cmd, cwd=cwd)
    if m.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{m.stdout[-2000:]}\n{m.stderr[-3000:]}")
    label_roles(m.memory)
    return m


def repeated(cmd: list[str], cwd: Path, n: int) -> list[Measured]:
    """``cmd`` run ``n`` times, one after another."""
    return [timed(cmd, cwd) for _ in range(n)]


def row(name: str, runs: list[Measured], target: str) -> dict:
    """One line of the table: medians and spreads of ``runs``."""
    walls = [m.wall_s for m in runs]
    return {
        "case": name,
        "runs": runs,
        "wall_s": statistics.median(walls),
        "min_s": min(walls),
        "max_s": max(walls),
        "cpu_s": statistics.median(m.cpu_s for m in runs),
        "pss_mb": max(m.memory.peak_sum_pss_mb for m in runs),
        "rss_mb": max(m.memory.peak_sum_rss_mb for m in runs),
        "largest_mb": max(p.hwm_rss_mb for m in runs for p in m.memory.processes.values()),
        "hwm_sum_mb": max(sum(p.hwm_rss_mb for p in m.memory.processes.values()) for m in runs),
        "load": max(m.load for m in runs),
        "target": target,
    }


def town40(path: Path, target: float = 0.9, bases: int = 8) -> Path:
    data = scaled_example(bases)
    for s in data["stations"]:
        s["vehicles"] = s["chargers"] = 5
    data["municipality"]["population"] = 50000
    data["fleet"]["vehicle_model"] = "nissan_leaf_40"
    data["grid"].pop("import_tou", None)
    data["grid"]["tariff"] = "tepco_high_voltage_business_2025"
    data["policy"].update(renewable_share_min_fraction=target, renewable_share_basis="hourly")
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


def example_with_sensitivity(path: Path) -> Path:
    from chisan.scenario.load import example_path

    data = tomllib.loads(example_path().read_text(encoding="utf-8"))
    data["sensitivity"] = {
        "parameters": [
            {"field": "technologies.pv.capex_per_kw", "low": 150000, "high": 250000},
            {"field": "finance.discount_rate_fraction", "low": 0.01, "high": 0.05},
            {"field": "fleet.lease_per_vehicle_year", "low": 360000, "high": 480000},
            {"field": "bookings.membership_fraction", "low": 0.012, "high": 0.018},
            {"field": "baseline.ice_emission_g_per_km", "low": 100, "high": 160},
        ]
    }
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", "--runs", type=int, default=1, dest="repeat", help="runs per row (medians)")
    parser.add_argument("--full", action="store_true", help="also time the full method for 10, 20, 40 vehicles")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = repeated([*CHISAN, "plan", "--out", str(tmp / "ex")], tmp, args.repeat)
        rows.append(row("bundled example + business as usual", runs, "≤ 20 s, ≤ 2 GB"))
        one_plan = rows[-1]["wall_s"]
        path = town40(tmp / "town40.toml")
        runs = repeated([*CHISAN, "plan", str(path), "--out", str(tmp / "t40")], tmp, args.repeat)
        rows.append(row("40 cars, 8 metered bases, TOU + basic charge, 90 % hourly", runs, "≤ 60 s"))
        path = example_with_sensitivity(tmp / "sens.toml")
        runs = repeated([*CHISAN, "compare", str(path), "--out", str(tmp / "cmp")], tmp, args.repeat)
        rows.append(row("compare: example + 10 variants", runs, "≤ 5 × one plan"))
        rows[-1]["case"] += f" ({rows[-1]['wall_s'] / one_plan:.1f} × one plan)"
        if args.full:
            secs = []
            for n in (10, 20, 40):
                data = scaled_example(max(1, n // 5))
                for s in data["stations"]:
                    s["vehicles"] = s["chargers"] = 5
                data["solver"] = {"method": "full", "time_limit_s": 3600}
                p = tmp / f"full{n}.toml"
                p.write_bytes(tomli_w.dumps(data).encode())
                runs = repeated([*CHISAN, "plan", str(p), "--out", str(tmp / f"f{n}"), "--no-bau"], tmp, args.repeat)
                rows.append(row(f"full method, a year, {n} vehicles", runs, "(exponent below)"))
                secs.append(rows[-1]["wall_s"])
            b = np.polyfit(np.log([10, 20, 40]), np.log(secs), 1)[0]
    print(
        f"{'case':<62} {'runs':>4} {'seconds (min–max)':>22} {'CPU s':>7} {'PSS sum':>8} {'RSS sum':>8} "
        f"{'largest':>8} {'ΣHWM':>6} {'load':>5}  target"
    )
    for r in rows:
        print(
            f"{r['case']:<62} {len(r['runs']):>4} {r['wall_s']:>8.1f} ({r['min_s']:>5.1f}–{r['max_s']:>5.1f}) "
            f"{r['cpu_s']:>7.1f} {r['pss_mb']:>8.0f} {r['rss_mb']:>8.0f} {r['largest_mb']:>8.0f} "
            f"{r['hwm_sum_mb']:>6.0f} {r['load']:>5.1f}  {r['target']}"
        )
    if args.full:
        print(f"full method: time ∝ vehicles^{b:.2f} (least squares over 10, 20, 40 vehicles)")
    print(
        "(seconds: median wall; memory [MB]: the largest over the runs of the peak in time of the process tree's "
        "summed PSS and RSS, sampled every 0.2 s, of one process's exact peak RSS and ΣHWM, the sum of every process's "
        "exact peak RSS (an upper bound of the simultaneous sum); load: 1-minute load average; "
        "2 cores: wall above CPU time means a loaded machine)"
    )
    for r in rows:
        worst = max(r["runs"], key=lambda m: m.memory.peak_sum_pss_mb)
        mem = worst.memory
        print(
            f"\n{r['case']}: each process of the run whose PSS sum peaked highest ({mem.peak_sum_pss_mb:.0f} MB at "
            f"{mem.peak_sum_pss_at_s:.1f} s; /proc/loadavg {worst.load_before} → {worst.load_after})"
        )
        print(HEADER)
        for p in sorted(mem.processes.values(), key=lambda q: q.first_s):
            print(p.row())


if __name__ == "__main__":
    main()
