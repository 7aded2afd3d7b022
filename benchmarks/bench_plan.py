"""Speed of ``chisan plan``: the bundled example end to end, and chisan against PyPSA on identical problems.

Prints one table. Rows:

1. ``chisan plan`` on the bundled example (5 stations, 30 vehicles, 8,760 h, two-stage), run as a subprocess:
   median wall time and peak memory (max RSS) over ``--runs`` runs. Targets: ≤ 20 s, ≤ 2 GB.
2. The identical single-bus problem — the example's 30 vehicles, per vehicle, capacities free — over two and eight
   weeks, built and solved by chisan (``build_model`` + HiGHS) and by PyPSA (``to_pypsa`` network +
   ``Network.optimize`` with HiGHS): medians, their ratio, and the two optima (equal within 1e-4 relative).
   Target: chisan ≤ 0.5 × PyPSA.
3. The full year (unless ``--quick``): chisan's default two-stage plan against PyPSA's full co-optimisation of the
   same year (one run each: PyPSA takes minutes), with the cost gap of chisan's plan to PyPSA's optimum.

Usage: ``python benchmarks/bench_plan.py [--runs 3] [--quick]``. Machines here are noisy (2 cores): read medians.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import linopy

warnings.simplefilter("ignore")

from chisan.plan.highs import quiet_highs  # noqa: E402
from chisan.plan.inputs import PlanInputs  # noqa: E402
from chisan.plan.model import build_model  # noqa: E402
from chisan.plan.prepare import prepare_inputs  # noqa: E402
from chisan.plan.pypsa_network import pypsa_extra_functionality, to_pypsa  # noqa: E402
from chisan.plan.solve import _highs_options, _solve, evaluate_objective, solve_plan  # noqa: E402
from chisan.scenario.load import example_path, load_scenario  # noqa: E402


def first_days(inputs: PlanInputs, days: int) -> PlanInputs:
    """The first ``days`` days of chronological inputs (cyclic on their own)."""
    n = days * round(24 / inputs.dt_hours)

    def cut(s):
        return s.iloc[:n]

    return dataclasses.replace(
        inputs,
        snapshots=inputs.snapshots[:n],
        pv_kw_per_kw=cut(inputs.pv_kw_per_kw),
        wind_kw_per_kw=cut(inputs.wind_kw_per_kw),
        temp_air_c=None,
        import_price_per_kwh=cut(inputs.import_price_per_kwh),
        export_price_per_kwh=cut(inputs.export_price_per_kwh),
        emission_factor_kg_per_kwh=cut(inputs.emission_factor_kg_per_kwh),
        other_load_kw=None,
        weight=None,
        period=None,
        plugged=cut(inputs.plugged),
        trip_energy_kwh=cut(inputs.trip_energy_kwh),
    )


SOLVE_SECONDS: list[float] = []
"""Durations of every ``linopy.Model.solve`` call (HiGHS, with linopy's hand-over and read-back) [s]."""


def _timed_solve(solve):
    def wrapper(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return solve(self, *args, **kwargs)
        finally:
            SOLVE_SECONDS.append(time.perf_counter() - t0)

    return wrapper


linopy.Model.solve = _timed_solve(linopy.Model.solve)


def run_chisan_full(inputs: PlanInputs) -> tuple[float, float, float]:
    """Build + solve the full LP with chisan; (seconds, of which solving, objective)."""
    SOLVE_SECONDS.clear()
    t0 = time.perf_counter()
    m = build_model(inputs)
    assert _solve(m, _highs_options(None, None)) == "optimal"
    return time.perf_counter() - t0, sum(SOLVE_SECONDS), float(m.objective.value)


def run_pypsa(inputs: PlanInputs) -> tuple[float, float, float]:
    """Build + solve the same problem with PyPSA; (seconds, of which solving, objective)."""
    SOLVE_SECONDS.clear()
    t0 = time.perf_counter()
    n = to_pypsa(inputs)
    # PyPSA at its fastest: the direct HiGHS interface (as chisan uses), no LP file
    with quiet_highs():  # HiGHS's banner, as chisan's own solves
        _, condition = n.optimize(
            solver_name="highs",
            extra_functionality=pypsa_extra_functionality(inputs),
            io_api="direct",
            log_to_console=False,
            solver_options={"output_flag": False},
        )
    assert condition == "optimal", condition
    return time.perf_counter() - t0, sum(SOLVE_SECONDS), float(n.objective + n.objective_constant)


def end_to_end(runs: int) -> tuple[float, float]:
    """Median wall time [s] and peak RSS [MB] of ``chisan plan`` on the example, as subprocesses."""
    chisan = Path(sys.executable).with_name("chisan")
    times, rss = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            t0 = time.perf_counter()
            subprocess.run(
                [str(chisan), "plan", "--quiet", "--out", str(Path(tmp) / "out")], check=True, capture_output=True
            )
            times.append(time.perf_counter() - t0)
            rss.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024.0)
    return statistics.median(times), max(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the full-year comparison (minutes)")
    args = parser.parse_args()
    rows = []
    wall, mem = end_to_end(args.runs)
    rows.append(
        (
            "chisan plan, bundled example (30 vehicles, 8,760 h), end to end",
            f"{wall:.1f} s",
            "",
            "",
            f"peak {mem:,.0f} MB; targets ≤ 20 s, ≤ 2,048 MB",
        )
    )
    inputs = prepare_inputs(load_scenario(example_path())).inputs
    for days in (14, 56):
        sub = first_days(inputs, days)
        ours = [run_chisan_full(sub) for _ in range(args.runs)]
        theirs = [run_pypsa(sub) for _ in range(args.runs)]
        t_ours, s_ours = (statistics.median(r[i] for r in ours) for i in (0, 1))
        t_theirs, s_theirs = (statistics.median(r[i] for r in theirs) for i in (0, 1))
        rel = abs(ours[0][2] - theirs[0][2]) / abs(theirs[0][2])
        rows.append(
            (
                f"identical problem, {days} days × 30 vehicles, full LP (build + solve)",
                f"{t_ours:.2f} s",
                f"{t_theirs:.2f} s",
                f"{t_ours / t_theirs:.2f}",
                f"of which HiGHS {s_ours:.2f} vs {s_theirs:.2f} s; objectives {ours[0][2]:,.0f} vs "
                f"{theirs[0][2]:,.0f} (rel. diff {rel:.1e}); target ≤ 0.5",
            )
        )
    if not args.quick:
        t0 = time.perf_counter()
        sol = solve_plan(inputs, method="two-stage")
        t_two = time.perf_counter() - t0
        obj_two = evaluate_objective(inputs, sol)
        t_py, _, obj_py = run_pypsa(inputs)
        rows.append(
            (
                "full year × 30 vehicles: chisan two-stage vs PyPSA full co-optimisation",
                f"{t_two:.1f} s",
                f"{t_py:.1f} s",
                f"{t_two / t_py:.3f}",
                f"chisan's plan costs {100 * (obj_two - obj_py) / obj_py:+.2f} % vs PyPSA's optimum "
                f"({obj_two:,.0f} vs {obj_py:,.0f}); one run each",
            )
        )
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'chisan':>9}  {'PyPSA':>9}  {'ratio':>6}  note")
    for case, ours, theirs, ratio, note in rows:
        print(f"{case:<{width}}  {ours:>9}  {theirs:>9}  {ratio:>6}  {note}")


if __name__ == "__main__":
    main()
