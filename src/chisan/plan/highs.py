"""HiGHS through linopy, quietly.

HiGHS prints its banner when the first variables are added to a new ``highspy.Highs`` object, before linopy
applies ``output_flag``; a command-line tool with progress bars should not show it. :func:`quiet_highs` makes
linopy build silent HiGHS objects for the duration of a ``with`` block (solver options given later, such as
``output_flag=True`` for debugging, still apply). linopy also logs a warning with the whole solver status when a
solve ends infeasible; chisan diagnoses and reports those itself, so linopy's own warnings are held back inside
the block (its errors still pass).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import highspy
import linopy


class QuietHighs(highspy.Highs):
    """A ``highspy.Highs`` whose console output is off from the start."""

    def __init__(self) -> None:
        super().__init__()
        self.setOptionValue("output_flag", False)


@contextmanager
def quiet_highs() -> Iterator[None]:
    """Let linopy create :class:`QuietHighs` objects inside the block.

    linopy reaches ``highspy.Highs`` through a lazy proxy of the ``highspy`` module, so the module attribute is
    swapped for the duration of the block.
    """
    original = highspy.Highs
    highspy.Highs = QuietHighs
    log = logging.getLogger("linopy")
    level = log.level
    log.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        highspy.Highs = original
        log.setLevel(level)


def solve_model(m: linopy.Model, options: dict) -> str:
    """Solve with HiGHS through linopy's direct interface and return the termination condition."""
    with quiet_highs():
        _, condition = m.solve(solver_name="highs", io_api="direct", **options)
    return str(condition)
