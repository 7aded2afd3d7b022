"""Errors that chisan raises for people: each names what was wrong, the value, and what is allowed."""

from __future__ import annotations


class ChisanError(Exception):
    """Base class of every error chisan raises on purpose."""


class ScenarioError(ChisanError, ValueError):
    """The scenario file, or a file it points to, is invalid.

    The message names the file, the field, the value and what is allowed.
    """


class DataError(ChisanError, ValueError):
    """An input data file (weather, bookings, emission factors, ...) is malformed."""


class InfeasibleError(ChisanError):
    """The planning problem has no solution.

    Attributes
    ----------
    target : str
        Which requirement cannot be met (e.g. ``"policy.renewable_share_min_fraction"``).
    required : float
        The value the scenario asks for.
    achievable : float | None
        The best value a relaxed model reaches, when it could be computed.
    """

    def __init__(
        self,
        message: str,
        *,
        target: str = "",
        required: float | None = None,
        achievable: float | None = None,
    ) -> None:
        super().__init__(message)
        self.target = target
        self.required = required
        self.achievable = achievable


class SolverError(ChisanError):
    """The solver stopped without a usable solution (time limit, numerical trouble, ...)."""


class CheckError(ChisanError):
    """A solved plan failed its after-solve check (energy or balance rebuilt from the dispatch)."""
