"""HiGHS through linopy, quietly, and with the solver's progress when asked.

HiGHS prints its banner when the first variables are added to a new ``highspy.Highs`` object, before linopy
applies ``output_flag``; a command-line tool with progress bars should not show it. :func:`quiet_highs` makes
linopy build silent HiGHS objects for the duration of a ``with`` block (solver options given later, such as
``output_flag=True`` for debugging, still apply). linopy also logs a warning with the whole solver status when a
solve ends infeasible; chisan diagnoses and reports those itself, so linopy's own warnings are held back inside
the block (its errors still pass).

With a ``progress`` callable, the HiGHS object that linopy builds also reports how its solve goes
(:class:`SolveWatcher`): HiGHS calls back on every simplex iteration (``kCallbackSimplexInterrupt``: the
iteration count) and with every log line (``kCallbackLogging``: the simplex's infeasibilities every few seconds,
the interior point's infeasibilities and gap every iteration). Log lines reach the callback only while
``output_flag`` is on, so the solve runs with ``output_flag = True`` and ``log_to_console = False``: nothing is
printed, and logging changes nothing HiGHS computes.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import highspy
import linopy

SolveProgress = Callable[[str, float], None]
"""``f(message, fraction_of_the_solve_done)``; the fraction is an estimate in [0, 1) that never goes back."""

REPORT_INTERVAL_S = 0.2
"""Least time between two reports [s], unless the estimate moved by :data:`REPORT_STEP` or more."""

REPORT_STEP = 0.05
"""A rise of the estimated fraction done that is reported at once (at most 1 / REPORT_STEP such reports)."""

STARTED = 0.02
"""The estimate at HiGHS's first callback [-]: presolve, a small share of the solve, is behind it."""

FRACTION_CAP = 0.95
"""The estimate never exceeds this before HiGHS has returned: the last stretch (postsolve, crossover) is unknown."""

IPM_TOLERANCE = 1e-8
"""HiGHS's default primal, dual and optimality tolerance of the interior point [-] (``ipm_optimality_tolerance``)."""

IPM_TYPICAL_ITERATIONS = 30
"""Scale of the interior point's iteration count [-]: it converges in a few tens of iterations almost whatever
the size of the LP (Wright 1997; HiGHS's IPX took 33 on the small test town), ``ipm_iteration_limit`` aside."""

# dual simplex log line (HEkk reportIterationObjective/infeasibility): "6211  2.47e+05 Pr: 2562(295.851) 6.7s";
# phase 1 reads "Ph1: n(sum)", and "; Du: n(sum)" may follow
_SIMPLEX_LINE = re.compile(r"^\s*(\d+)\s+\S+\s+(Ph1|Pr): (\d+)\(([^)]*)\)")
# IPX iteration line: " Iter  primal obj  dual obj  pinf  dinf  gap  time" (columns as in IPX's header)
_IPM_LINE = re.compile(r"^\s*(\d+)\*?\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+[\d.]+\s*$")
_PRESOLVED_ROWS = re.compile(r"Presolve reductions: rows (\d+)")
_LP_ROWS = re.compile(r"has (\d+) rows")


class SolveWatcher:
    """Turns HiGHS's callbacks into throttled ``(message, fraction)`` reports of one LP solve.

    The fraction done is an estimate. Interior point: the fall of the largest of its primal infeasibility, dual
    infeasibility and relative gap towards the tolerance, on a log scale from the largest seen (each iteration
    cuts them by a roughly constant factor, and practical codes take a few tens of iterations almost whatever the
    size: Wright, *Primal-Dual Interior-Point Methods*, SIAM 1997), or ``1 − exp(−iterations / 30)`` if larger.
    Dual simplex: the fall of the sum of primal infeasibilities on a log scale, or ``1 − exp(−iterations / rows)``
    if larger (simplex codes typically take between one and three iterations per row: Shamir, "The efficiency of
    the simplex method: a survey", *Management Science* 33(3), 1987; here, rows of the presolved LP). It never
    goes back and stays below :data:`FRACTION_CAP`.

    Parameters
    ----------
    report : SolveProgress
        Called from the thread that runs HiGHS.
    clock : callable
        Seconds, monotonic (for tests).
    """

    def __init__(self, report: SolveProgress, clock: Callable[[], float] = time.monotonic) -> None:
        self.report = report
        self.clock = clock
        self.fraction = STARTED
        self.rows = 0
        self.message = "starting HiGHS"
        self.reports = 0
        self._last_time = -math.inf
        self._last_fraction = 0.0
        self._first_sum = 0.0  # the largest sum of primal infeasibilities seen
        self._first_measure = 0.0  # the largest interior-point measure seen
        self._simplex_detail = ""

    def _advance(self, fraction: float, message: str) -> None:
        self.fraction = max(self.fraction, min(FRACTION_CAP, fraction))
        self.message = message
        now = self.clock()
        if now - self._last_time >= REPORT_INTERVAL_S or self.fraction - self._last_fraction >= REPORT_STEP:
            self._last_time, self._last_fraction = now, self.fraction
            self.reports += 1
            self.report(message, self.fraction)

    def on_simplex(self, event) -> None:
        """``kCallbackSimplexInterrupt``: called on every simplex iteration with the iteration count."""
        it = int(event.data_out.simplex_iteration_count)
        if it < 0:
            return
        guess = 1.0 - math.exp(-it / self.rows) if self.rows else 0.0
        self._advance(guess, f"dual simplex, iteration {it:,}{self._simplex_detail}")

    def on_log(self, event) -> None:
        """``kCallbackLogging``: one line of HiGHS's log."""
        line = event.message
        if (match := _PRESOLVED_ROWS.search(line)) or (not self.rows and (match := _LP_ROWS.search(line))):
            self.rows = max(1, int(match.group(1)))
            return
        if match := _SIMPLEX_LINE.match(line):
            self._on_simplex_line(int(match.group(1)), match.group(2), int(match.group(3)), match.group(4))
        elif match := _IPM_LINE.match(line):
            try:
                it, pinf, dinf, gap = int(match.group(1)), *(float(match.group(k)) for k in (4, 5, 6))
            except ValueError:
                return
            self._on_ipm_line(it, pinf, dinf, gap)
        elif line.lstrip().startswith("Crossover"):
            self._advance(self.fraction, "crossover from the interior point to a vertex")

    def _on_simplex_line(self, it: int, phase: str, count: int, infeasibility_sum: str) -> None:
        try:
            total = float(infeasibility_sum)
        except ValueError:
            return
        fall = 0.0
        if phase == "Ph1":  # phase 1 of the dual simplex removes dual infeasibilities
            self._simplex_detail = f"; at {it:,}: phase 1, {count:,} dual infeasibilities, sum {total:.3g}"
        else:
            self._simplex_detail = f"; at {it:,}: {count:,} primal infeasibilities, sum {total:.3g}"
            self._first_sum = max(self._first_sum, total)
            fall = 1.0 - math.log1p(total) / math.log1p(self._first_sum) if self._first_sum > 0 else 0.0
        guess = 1.0 - math.exp(-it / self.rows) if self.rows else 0.0
        self._advance(max(fall, guess), f"dual simplex, iteration {it:,}{self._simplex_detail}")

    def _on_ipm_line(self, it: int, pinf: float, dinf: float, gap: float) -> None:
        measure = max(pinf, dinf, abs(gap), IPM_TOLERANCE)
        # the gap often widens over the first iterations: measure from the largest seen
        self._first_measure = max(self._first_measure, measure, 10 * IPM_TOLERANCE)
        fall = math.log(self._first_measure / measure) / math.log(self._first_measure / IPM_TOLERANCE)
        guess = 1.0 - math.exp(-it / IPM_TYPICAL_ITERATIONS)
        self._advance(
            max(fall, guess),
            f"interior point, iteration {it}, primal infeasibility {pinf:.1e}, dual {dinf:.1e}, gap {gap:.1e}",
        )


class QuietHighs(highspy.Highs):
    """A ``highspy.Highs`` whose console output is off from the start."""

    def __init__(self) -> None:
        super().__init__()
        self.setOptionValue("output_flag", False)


def _watched_highs(watcher: SolveWatcher) -> type[highspy.Highs]:
    """A :class:`QuietHighs` that reports to ``watcher`` (console off, log lines to the callback only)."""

    class WatchedHighs(QuietHighs):
        def __init__(self) -> None:
            super().__init__()
            self.setOptionValue("log_to_console", False)
            self.cbSimplexInterrupt += watcher.on_simplex
            self.cbLogging += watcher.on_log

    return WatchedHighs


@contextmanager
def quiet_highs(watcher: SolveWatcher | None = None) -> Iterator[None]:
    """Let linopy create :class:`QuietHighs` objects inside the block (reporting to ``watcher`` if given).

    linopy reaches ``highspy.Highs`` through a lazy proxy of the ``highspy`` module, so the module attribute is
    swapped for the duration of the block.
    """
    original = highspy.Highs
    highspy.Highs = QuietHighs if watcher is None else _watched_highs(watcher)
    log = logging.getLogger("linopy")
    level = log.level
    log.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        highspy.Highs = original
        log.setLevel(level)


def solve_model(m: linopy.Model, options: dict, progress: SolveProgress | None = None) -> str:
    """Solve with HiGHS through linopy's direct interface and return the termination condition.

    ``progress`` receives the solver's own progress while it runs (:class:`SolveWatcher`), throttled to a few
    reports a second; the solution is the same with and without it.
    """
    watcher = None if progress is None else SolveWatcher(progress)
    if watcher is not None and not options.get("output_flag", False):
        options = {**options, "output_flag": True, "log_to_console": False}  # log lines to the callback only
    with quiet_highs(watcher):
        _, condition = m.solve(solver_name="highs", io_api="direct", **options)
    return str(condition)
