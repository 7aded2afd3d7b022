"""Batch dispatch: waiting requests and available cars matched by a linear assignment.

At each batch the cost of car ``j`` for request ``i`` is its pick-up time [min] minus the time the request has
already waited [min], so that among requests competing for too few cars the older ones win (first come, first
served) and otherwise the total pick-up time is least. Pairs a car cannot serve (battery, or a pick-up longer
than ``max_pickup_min``) are forbidden. Solved with scipy's ``linear_sum_assignment`` (the Jonker-Volgenant
shortest augmenting path algorithm; Crouse 2016, IEEE Trans. Aerosp. Electron. Syst. 52(4)), which handles
rectangular matrices: ``min(requests, cars)`` pairs at most.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

_FORBIDDEN = 1e9


def assign_batch(
    pickup_min: np.ndarray, waited_min: np.ndarray, feasible: np.ndarray, *, max_pickup_min: float
) -> tuple[np.ndarray, np.ndarray]:
    """Match requests (rows) to cars (columns).

    Parameters
    ----------
    pickup_min : np.ndarray, shape (requests, cars)
        Time for each car to reach each request's origin [min].
    waited_min : np.ndarray, shape (requests,)
        Time each request has waited so far [min].
    feasible : np.ndarray of bool, shape (requests, cars)
        The car holds enough energy for the pick-up, the ride and the way back to its charger.
    max_pickup_min : float
        Longest pick-up allowed [min].

    Returns
    -------
    rows, cols : np.ndarray of int
        Matched request and car positions (every returned pair is allowed).
    """
    if pickup_min.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    allowed = feasible & (pickup_min <= max_pickup_min)
    cost = np.where(allowed, pickup_min - waited_min[:, None], _FORBIDDEN)
    rows, cols = linear_sum_assignment(cost)
    keep = allowed[rows, cols]
    return rows[keep].astype(np.int64), cols[keep].astype(np.int64)
