"""Speed and memory of ``chisan plan`` as towns grow: the bundled example scaled to more bases, one meter per base.

Prints one table. Each town is the example with ``n`` bases of 6 Nissan Sakura and 6 chargers each (population,
PV limit and storage limit in proportion to the bases; members share the bases equally), planned over the year
with the default two-stage method and ``grid.topology = "per_site"``. Business as usual (``--bau``): ``alongside``
(the default, as ``chisan plan`` does it: solved in a second process beside the plan, with its own dispatch
workers), ``after`` (solved in the plan's process after the plan) or ``none`` (the plan alone); give several to
run each town in each. Columns: cars, sites, business as usual, runs; end-to-end seconds (median and min–max of
``--repeat`` runs), CPU seconds of the run and its worker processes, seconds in sizing, in the per-vehicle
dispatch and waiting for business as usual, dispatch blocks; memory [MB]: the peak over time of the sum of the
process tree's PSS (proportional set size: shared pages divided among the processes sharing them) and of its RSS,
sampled every ``--interval`` seconds from this driver (:mod:`_memory`), and the largest single process's exact
peak RSS (the kernel's ``VmHWM``); the 1-minute load average (the larger of before and after); whether every
after-solve check passed (the plan's and business as usual's). Then the growth exponent b of time ∝ cars^b fitted
over the towns, and for each row the memory of each process of its run with the largest PSS sum.

Targets (issue 11): 300 cars (50 sites) ≤ 60 s and 1,000 cars ≤ 5 min end to end, ≤ 4 GB.

Usage: ``python benchmarks/bench_large_towns.py [--cars 60 150 300] [--repeat 1] [--workers 2]
[--bau alongside none after] [--json out.json]``. Each run is its own subprocess, so its memory is its own.
Machines here are noisy (2 cores): read medians, CPU seconds and the load beside them.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tomllib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _memory import HEADER, Measured, ProcessMemory, label_roles, run_sampled

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


BAU_MODES = ("alongside", "after", "none")


def _cpu_s() -> float:
    """CPU seconds [s] of this process and its finished children (the dispatch's worker processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_one(n_sites: int, workers: int, bau: str) -> dict:
    """Plan one scaled town in this process; return its timings (called in a subprocess)."""
    import functools
    import time
    import warnings

    import chisan.plan.pipeline as pipeline
    import chisan.plan.solve as solve
    from chisan.scenario.load import scenario_from_dict

    warnings.simplefilter("ignore")
    solve.parallel_rolling_dispatch = functools.partial(solve.parallel_rolling_dispatch, workers=workers)
    bau_pids: list[int] = []
    start_bau = pipeline._start_bau

    def _start_bau(*args, **kwargs):  # note the worker's pid, so that the driver can name it in the memory table
        started = start_bau(*args, **kwargs)
        if started is not None:
            bau_pids.extend(getattr(started[0], "_processes", None) or {})
        return started

    pipeline._start_bau = _start_bau
    scenario = scenario_from_dict(scaled_example(n_sites), source=f"scaled-{n_sites}.toml")
    t0 = time.perf_counter()
    c0 = _cpu_s()
    run = pipeline.plan_scenario(
        scenario, method="two-stage", business_as_usual=bau != "none", bau_alongside=bau == "alongside"
    )
    total = time.perf_counter() - t0
    cpu = _cpu_s() - c0
    d = run.results.method
    return {
        "cars": len(run.prepared.inputs.vehicles),
        "sites": n_sites,
        "bau": bau,
        "total_s": total,
        "cpu_s": cpu,
        "sizing_s": d.get("sizing_s", float("nan")),
        "dispatch_s": d.get("dispatch_s", float("nan")),
        "bau_s": run.seconds.get("business_as_usual", 0.0),
        "checks": bool(run.checks.passed),  # business as usual's checks raise inside plan_scenario if they fail
        "bound_mb": (  # the former upper bound: the run's max RSS + workers × the largest finished child's
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            + workers * resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        )
        / 1024,
        "parts": d.get("shadow_prices", {}).get("dispatch_parts", 1),
        "bau_pids": bau_pids,
    }


def measure(n_sites: int, workers: int, bau: str, interval_s: float) -> tuple[dict, Measured]:
    """One town in a subprocess, its process tree's memory sampled from here."""
    cmd = [sys.executable, __file__, "--one", str(n_sites), "--workers", str(workers), "--bau", bau]
    m = run_sampled(cmd, interval_s=interval_s)
    if m.returncode != 0:
        raise SystemExit(f"{n_sites * CARS_PER_SITE} cars (business as usual {bau}) failed:\n{m.stderr[-3000:]}")
    out = json.loads(m.stdout.strip().splitlines()[-1])
    label_roles(m.memory, {pid: "business as usual" for pid in out["bau_pids"]})
    largest = max(m.memory.processes.values(), key=lambda p: p.hwm_rss_mb)
    out.update(
        pss_sum_mb=m.memory.peak_sum_pss_mb,
        rss_sum_mb=m.memory.peak_sum_rss_mb,
        largest_mb=largest.hwm_rss_mb,
        hwm_sum_mb=sum(p.hwm_rss_mb for p in m.memory.processes.values()),
        largest_role=largest.role,
        tree_cpu_s=m.cpu_s,
        wall_s=m.wall_s,
        load=m.load,
        loadavg_before=m.load_before,
        loadavg_after=m.load_after,
        memory=m.memory.summary(),
    )
    return out, m


def _spread(runs: list[dict], key: str) -> tuple[float, float, float]:
    values = [r[key] for r in runs]
    return statistics.median(values), min(values), max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cars", type=int, nargs="+", default=[60, 150, 300])
    parser.add_argument("--repeat", "--runs", type=int, default=1, dest="repeat", help="runs per town (medians)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bau", nargs="+", choices=BAU_MODES, default=["alongside"])
    parser.add_argument("--interval", type=float, default=0.2, help="memory sampling interval [s]")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    parser.add_argument("--from-json", type=Path, nargs="+", help="print the table of runs written by --json")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.workers, args.bau[0])))
        return
    if args.from_json:
        everything = [r for path in args.from_json for r in json.loads(path.read_text(encoding="utf-8"))]
    else:
        everything = []
        for cars in args.cars:
            n_sites = max(1, round(cars / CARS_PER_SITE))
            for bau in args.bau:
                for _ in range(args.repeat):
                    everything.append(measure(n_sites, args.workers, bau, args.interval)[0])
                    if args.json:  # after every run: a long series stopped early keeps what it measured
                        args.json.write_text(json.dumps(everything, indent=1, default=str), encoding="utf-8")
    print_table(everything)


def print_table(everything: list[dict]) -> None:
    """The table of the runs (grouped by cars and business as usual), the growth exponents, each row's processes."""
    groups: dict[tuple[int, str], list[dict]] = {}
    for r in everything:
        groups.setdefault((r["cars"], r["bau"]), []).append(r)
    rows = []
    for (_, _), runs in sorted(groups.items(), key=lambda kv: (kv[0][0], BAU_MODES.index(kv[0][1]))):
        row = dict(runs[0])
        for key in ("total_s", "cpu_s", "sizing_s", "dispatch_s", "bau_s", "pss_sum_mb", "rss_sum_mb"):
            row[key] = _spread(runs, key)
        row["largest_mb"] = max(r["largest_mb"] for r in runs)
        row["hwm_sum_mb"] = max(sum(p["hwm_rss_mb"] for p in r["memory"]["processes"]) for r in runs)
        row["load"] = max(r["load"] for r in runs)
        row["checks"] = all(r["checks"] for r in runs)
        row["runs"] = len(runs)
        row["worst"] = max(runs, key=lambda x: x["pss_sum_mb"])
        rows.append(row)
    print(
        f"{'cars':>5} {'sites':>5} {'BAU':>9} {'runs':>4} {'end to end [s] (min–max)':>25} {'CPU [s]':>7} "
        f"{'sizing':>6} {'dispatch':>8} {'BAU [s]':>7} {'blocks':>6} {'PSS sum':>8} {'RSS sum':>8} "
        f"{'largest':>7} {'ΣHWM':>6} {'load':>5} {'checks':>6}"
    )
    for r in rows:
        t, lo, hi = r["total_s"]
        print(
            f"{r['cars']:>5} {r['sites']:>5} {r['bau']:>9} {r['runs']:>4} {t:>10.1f} ({lo:>5.1f}–{hi:>5.1f}) "
            f"{r['cpu_s'][0]:>7.1f} {r['sizing_s'][0]:>6.1f} {r['dispatch_s'][0]:>8.1f} {r['bau_s'][0]:>7.1f} "
            f"{r['parts']:>6} {r['pss_sum_mb'][2]:>8.0f} {r['rss_sum_mb'][2]:>8.0f} {r['largest_mb']:>7.0f} "
            f"{r['hwm_sum_mb']:>6.0f} "
            f"{r['load']:>5.1f} {'pass' if r['checks'] else 'FAIL':>6}"
        )
    for bau in BAU_MODES:
        mine = [r for r in rows if r["bau"] == bau]
        if len({r["cars"] for r in mine}) >= 2:
            b = np.polyfit(np.log([r["cars"] for r in mine]), np.log([r["total_s"][0] for r in mine]), 1)[0]
            print(f"growth (business as usual {bau}): end-to-end time ∝ cars^{b:.2f} (fitted over {len(mine)} towns)")
    print(
        "(seconds: medians of the runs; memory [MB]: the largest over the runs of the peak in time of the process "
        "tree's summed PSS and RSS, sampled every "
        f"{rows[0]['memory']['interval_s'] if rows else 0:g} s, of the largest single process's exact peak RSS "
        "and ΣHWM, the sum of every process's "
        "exact peak RSS (an upper bound of the simultaneous RSS sum); load: 1-minute load average)"
    )
    for r in rows:
        mem, worst = r["worst"]["memory"], r["worst"]
        print(
            f"\n{r['cars']} cars, business as usual {r['bau']}: each process of the run whose PSS sum peaked highest "
            f"({mem['peak_sum_pss_mb']:.0f} MB at {mem['peak_sum_pss_at_s']:.1f} s, RSS sum "
            f"{mem['peak_sum_rss_mb']:.0f} MB; {mem['samples']} samples in "
            f"{max(p['last_s'] for p in mem['processes']):.0f} s; /proc/loadavg {worst['loadavg_before']} → "
            f"{worst['loadavg_after']})"
        )
        print(HEADER)
        for p in sorted(mem["processes"], key=lambda q: q["first_s"]):
            print(ProcessMemory(**p).row())


if __name__ == "__main__":
    main()
