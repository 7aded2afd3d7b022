"""Start-up cost of the ``chisan`` command and of the processes its pools spawn, in CPU seconds.

Prints one table. Rows (each a fresh interpreter, median over ``--runs``; CPU = user + system of that process):

1. ``python -c pass``: the interpreter alone, the floor of every row below.
2. ``import chisan.cli``: what every command pays before it starts.
3. ``python -m chisan --help``.
4. A spawned worker of each pool, started the way ``chisan plan`` starts it from the console script (the worker
   runs the script again as ``__mp_main__``, so it imports :mod:`chisan.cli`, then the module of the pool's
   function): the worker's CPU when the function could start, and which heavy packages it holds then.
   (Under ``python -m chisan`` the worker skips the ``__main__`` module; the console script is the dearer case.)

Usage: ``python benchmarks/bench_cli_import.py [--runs 3]``. Machines here are noisy (2 cores): read CPU, not wall.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The functions the pools of ``chisan plan`` run in spawned processes (module, function).
WORKER_ENTRIES = (
    ("business as usual (plan/pipeline.py)", "chisan.plan.bau_worker", "solve_bau"),
    ("per-site dispatch (plan/site_dispatch.py)", "chisan.plan.site_dispatch", "_run_part"),
    ("per-site year (plan/site_year.py)", "chisan.plan.site_year_worker", "solve_site"),
)

#: Packages a worker or ``import chisan.cli`` should not need.
HEAVY = ("scipy.optimize", "sklearn", "tsam", "fastapi", "sqlalchemy", "dask", "plotly", "rich", "typer", "jinja2")

# the console script's own text (pip's entry-point wrapper) plus a probe the pool can run
_MAIN = """\
import re
import sys
from chisan.cli import app


def probe(module, function):
    import importlib, resource, sys

    getattr(importlib.import_module(module), function)  # what unpickling the submitted function does
    r = resource.getrusage(resource.RUSAGE_SELF)
    heavy = [m for m in HEAVY if m in sys.modules]
    return r.ru_utime + r.ru_stime, heavy


HEAVY = {heavy!r}

if __name__ == '__main__':
    import json
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        print(json.dumps(pool.submit(probe, sys.argv[1], sys.argv[2]).result()))
"""


def _child_cpu(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(CPU [s] of the finished children, wall [s], stdout) of running ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "COLUMNS": "120"}
    py = sys.executable
    rows: list[tuple[str, float, float, str]] = []

    def row(name: str, cmd: list[str]) -> None:
        runs = [_child_cpu(cmd, env) for _ in range(args.runs)]
        rows.append((name, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), ""))

    row("python -c pass", [py, "-c", "pass"])
    row("import chisan.cli", [py, "-c", "import chisan.cli"])
    row("python -m chisan --help", [py, "-m", "chisan", "--help"])
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "chisan"
        script.write_text(_MAIN.format(heavy=HEAVY), encoding="utf-8")
        for name, module, function in WORKER_ENTRIES:
            cpus, heavy = [], []
            for _ in range(args.runs):
                cpu, heavy = json.loads(subprocess.run(
                    [py, str(script), module, function], env=env, capture_output=True, text=True, check=True
                ).stdout)  # fmt: skip
                cpus.append(cpu)
            rows.append((f"worker: {name}", statistics.median(cpus), float("nan"), ", ".join(heavy) or "none"))
    floor = rows[0][1]
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}; medians of {args.runs} run(s)")
    print(f"{'case':<52} {'CPU [s]':>8} {'× floor':>8} {'wall [s]':>9}  heavy packages loaded")
    for name, cpu, wall, heavy in rows:
        print(f"{name:<52} {cpu:>8.2f} {cpu / floor:>8.1f} {wall:>9.2f}  {heavy}")


if __name__ == "__main__":
    main()
