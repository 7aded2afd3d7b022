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

Usage: ``python benchmarks/bench_decision.py [--runs 1] [--full]``. Machines here are noisy (2 cores).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
import tomli_w

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_large_towns import scaled_example  # noqa: E402

CHISAN = [sys.executable, "-m", "chisan.cli"]


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, str, float]:
    """Wall time [s], peak memory [MB] (GNU time's max RSS), output and CPU time [s] (user + system, with the
    worker processes) of one command."""
    t0 = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", out.stderr))
    return wall, (int(rss.group(1)) / 1024 if rss else float("nan")), out.stdout, cpu


def load_average() -> float:
    """The 1-minute load average of the machine (``/proc/loadavg``), nan where there is none."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


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
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--full", action="store_true", help="also time the full method for 10, 20, 40 vehicles")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = [timed([*CHISAN, "plan", "--out", str(tmp / "ex")], tmp) for _ in range(args.runs)]
        one_plan = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[3] for r in runs)
        rows.append(("bundled example + business as usual", one_plan, cpu, max(r[1] for r in runs), "≤ 20 s, ≤ 2 GB"))
        path = town40(tmp / "town40.toml")
        runs = [timed([*CHISAN, "plan", str(path), "--out", str(tmp / "t40")], tmp) for _ in range(args.runs)]
        rows.append(
            (
                "40 cars, 8 metered bases, TOU + basic charge, 90 % hourly",
                statistics.median(r[0] for r in runs),
                statistics.median(r[3] for r in runs),
                max(r[1] for r in runs),
                "≤ 60 s",
            )
        )
        path = example_with_sensitivity(tmp / "sens.toml")
        wall, rss, _, cpu = timed([*CHISAN, "compare", str(path), "--out", str(tmp / "cmp")], tmp)
        rows.append(
            (f"compare: example + 10 variants ({wall / one_plan:.1f} × one plan)", wall, cpu, rss, "≤ 5 × one plan")
        )
        if args.full:
            secs = []
            for n in (10, 20, 40):
                data = scaled_example(max(1, n // 5))
                for s in data["stations"]:
                    s["vehicles"] = s["chargers"] = 5
                data["solver"] = {"method": "full", "time_limit_s": 3600}
                p = tmp / f"full{n}.toml"
                p.write_bytes(tomli_w.dumps(data).encode())
                wall, rss, _, cpu = timed([*CHISAN, "plan", str(p), "--out", str(tmp / f"f{n}"), "--no-bau"], tmp)
                secs.append(wall)
                rows.append((f"full method, a year, {n} vehicles", wall, cpu, rss, "(exponent below)"))
            b = np.polyfit(np.log([10, 20, 40]), np.log(secs), 1)[0]
            rows.append((f"full method: time ∝ vehicles^{b:.2f}", float("nan"), float("nan"), float("nan"), ""))
    print(f"{'case':<64} {'seconds':>9} {'CPU s':>8} {'peak MB':>9}  target")
    print(f"(load average {load_average():.2f} at the end; 2 cores: wall above CPU time means a loaded machine)")
    for name, s, cpu, mb, target in rows:
        print(f"{name:<64} {s:>9.1f} {cpu:>8.1f} {mb:>9.0f}  {target}")


if __name__ == "__main__":
    main()
