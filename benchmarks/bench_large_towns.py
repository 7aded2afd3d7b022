"""Speed of ``chisan plan`` as towns grow: the bundled example scaled to more bases, one meter per base.

Prints one table. Each town is the example with ``n`` bases of 6 Nissan Sakura and 6 chargers each (population,
PV limit and storage limit in proportion to the bases; members share the bases equally), planned over the year
with the default two-stage method and ``grid.topology = "per_site"``. Business as usual is not solved (the default
of ``plan_scenario``; ``chisan plan`` solves it in a second process alongside the plan, on the core the sizing leaves
idle, so its wall time adds little there). Columns: cars, sites, end-to-end seconds
(median of ``--runs``), CPU seconds of the run and its worker processes, seconds in sizing and in the per-vehicle
dispatch, peak memory of the run [MB], whether every after-solve check passed;
then the growth exponent b of time ∝ cars^b fitted over the rows. Peak memory is that of the run's process plus
the largest worker's times the number of workers (the workers run side by side: an upper bound of the town's
simultaneous use); the 1-minute load average is read before and after each run (the machine is shared).

Targets (issue 11): 300 cars (50 sites) ≤ 60 s and 1,000 cars ≤ 5 min end to end, ≤ 4 GB.

Usage: ``python benchmarks/bench_large_towns.py [--cars 60 300 1002] [--runs 1] [--workers 2]``. Each town runs
in its own subprocess so its peak memory is its own. Machines here are noisy (2 cores): read medians.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tomllib

import numpy as np

CARS_PER_SITE = 6


def scaled_example(n_sites: int) -> dict:
    """The bundled example as a dictionary, scaled to ``n_sites`` bases of 6 cars and 6 chargers."""
    from chisan.scenario.load import example_path

    data = tomllib.loads(example_path().read_text(encoding="utf-8"))
    factor = n_sites / len(data["stations"])
    template = data["stations"][0]
    stations = []
    for i in range(n_sites):
        row = dict(template)
        row.update(
            name=f"Base {i + 1:03d}",
            latitude_deg=template["latitude_deg"] + 0.004 * (i % 10),
            longitude_deg=template["longitude_deg"] + 0.004 * (i // 10),
            vehicles=CARS_PER_SITE,
            chargers=CARS_PER_SITE,
            member_share_fraction=None,
        )
        stations.append({k: v for k, v in row.items() if v is not None})
    data["stations"] = stations
    data["municipality"]["population"] = round(data["municipality"]["population"] * factor)
    tech = data["technologies"]
    for name, key in (("pv", "max_kw"), ("storage", "max_kwh"), ("storage", "max_kw"), ("wind", "max_kw")):
        if key in tech.get(name, {}):
            tech[name][key] = tech[name][key] * factor
    data.pop("resilience", None)
    return data


def _cpu_s() -> float:
    """CPU seconds [s] of this process and its finished children (the dispatch's worker processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_one(n_sites: int, workers: int) -> dict:
    """Plan one scaled town in this process; return its timings (called in a subprocess)."""
    import functools
    import time
    import warnings

    import chisan.plan.solve as solve
    from chisan.plan.pipeline import plan_scenario
    from chisan.scenario.load import scenario_from_dict

    warnings.simplefilter("ignore")
    solve.parallel_rolling_dispatch = functools.partial(solve.parallel_rolling_dispatch, workers=workers)
    scenario = scenario_from_dict(scaled_example(n_sites), source=f"scaled-{n_sites}.toml")
    t0 = time.perf_counter()
    c0 = _cpu_s()
    run = plan_scenario(scenario, method="two-stage")
    total = time.perf_counter() - t0
    cpu = _cpu_s() - c0
    d = run.results.method
    return {
        "cars": len(run.prepared.inputs.vehicles),
        "sites": n_sites,
        "total_s": total,
        "cpu_s": cpu,
        "sizing_s": d.get("sizing_s", float("nan")),
        "dispatch_s": d.get("dispatch_s", float("nan")),
        "checks": bool(run.checks.passed),
        "peak_mb": (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            + workers * resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        )
        / 1024,
        "parts": d.get("shadow_prices", {}).get("dispatch_parts", 1),
    }


def _load_1min() -> float:
    """The 1-minute load average (Linux ``/proc/loadavg``), NaN elsewhere."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cars", type=int, nargs="+", default=[60, 150, 300])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.workers)))
        return
    rows = []
    for cars in args.cars:
        n_sites = max(1, round(cars / CARS_PER_SITE))
        runs = []
        for _ in range(args.runs):
            load_before = _load_1min()
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(n_sites), "--workers", str(args.workers)],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                raise SystemExit(f"{cars} cars failed:\n{out.stderr[-3000:]}")
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            runs[-1]["load"] = max(load_before, _load_1min())
        row = dict(runs[0])
        for key in ("total_s", "cpu_s", "sizing_s", "dispatch_s", "peak_mb", "load"):
            row[key] = statistics.median(r[key] for r in runs)
        rows.append(row)
    print(
        f"{'cars':>6} {'sites':>6} {'end to end [s]':>15} {'CPU [s]':>8} {'sizing [s]':>11} {'dispatch [s]':>13} "
        f"{'blocks':>7} {'peak [MB]':>10} {'load':>5} {'checks':>7}"
    )
    for r in rows:
        print(
            f"{r['cars']:>6} {r['sites']:>6} {r['total_s']:>15.1f} {r['cpu_s']:>8.1f} {r['sizing_s']:>11.1f} "
            f"{r['dispatch_s']:>13.1f} {r['parts']:>7} {r['peak_mb']:>10.0f} {r['load']:>5.1f} "
            f"{'pass' if r['checks'] else 'FAIL':>7}"
        )
    if len(rows) >= 2:
        cars = np.log([r["cars"] for r in rows])
        secs = np.log([r["total_s"] for r in rows])
        b = np.polyfit(cars, secs, 1)[0]
        print(f"growth: end-to-end time ∝ cars^{b:.2f} (least squares over {len(rows)} towns)")
    print("(peak: the run's max RSS + workers × the largest worker's; load: 1-minute load average, before or after)")


if __name__ == "__main__":
    main()
