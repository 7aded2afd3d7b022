"""Rebalancing of idle cars between zones: the real-time rebalancing LP of Pavone, Smith, Frazzoli & Rus (2012).

Pavone et al. (2012, "Robotic load balancing for mobility-on-demand systems", Int. J. Robotics Research 31(7),
doi:10.1177/0278364912444766), real-time rebalancing policy (restated as §4.3 of Zhang & Pavone 2016, "Control of
robotic mobility-on-demand systems: a queueing-theoretical perspective", IJRR 35(1-3) 186-203,
doi:10.1177/0278364915581863): every period, with ``v_e[i]`` the *excess*
vehicles of zone ``i`` (idle cars minus waiting riders) and ``v_d[i]`` the *desired* vehicles, solve

    minimise   Σ_ij T[i, j] · num[i, j]
    subject to v_e[i] + Σ_j (num[j, i] − num[i, j]) ≥ v_d[i]      for every zone i
               num[i, j] ≥ 0,

and send ``num[i, j]`` empty cars from ``i`` to ``j``. The constraint matrix is that of a network flow (totally
unimodular), so the LP's vertex solutions are integral and no integer program is needed. Pavone et al. spread the
excess evenly, ``v_d[i] = ⌊Σ_j v_e[j] / n⌋``; here ``v_d[i] = ⌊max(Σ_j v_e[j], 0) · w[i]⌋`` with ``w`` the zone's
share of the expected demand (``w = 1/n`` gives their rule). One more row, ``Σ_j num[i, j] ≤ idle[i]``, stops a
zone from sending cars it does not have (it keeps the network structure; TUM's FleetPy adds the same row to its
implementation of this policy). ``T`` is the travel time, here
proportional to the road distance (one speed for all pairs at a given hour).

The model is built once with linopy and solved with HiGHS; each period only the right-hand sides change and the
persistent HiGHS model is re-solved warm (as :func:`chisan.plan.dispatch.rolling_dispatch` does).
"""

from __future__ import annotations

import warnings

import linopy
import numpy as np
import xarray as xr
from linopy.solvers import Solver

from chisan.exceptions import SolverError
from chisan.plan.highs import quiet_highs


def desired_vehicles(excess: np.ndarray, demand_share: np.ndarray) -> np.ndarray:
    """Desired idle cars per zone ``⌊max(Σ v_e, 0) · w⌋`` [cars] (see the module docstring)."""
    w = np.asarray(demand_share, dtype=float)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    return np.floor(max(float(np.sum(excess)), 0.0) * w + 1e-9)


class RebalancingLP:
    """The rebalancing LP of one zone grid, built once and re-solved with new right-hand sides.

    Parameters
    ----------
    cost : np.ndarray, shape (n, n)
        Cost of moving one car from zone i to zone j (travel time or distance); the diagonal is ignored.
    """

    def __init__(self, cost: np.ndarray) -> None:
        cost = np.asarray(cost, dtype=float)
        n = cost.shape[0]
        self.n_zones = n
        m = linopy.Model()
        upper = xr.DataArray(np.where(np.eye(n, dtype=bool), 0.0, np.inf), dims=["i", "j"])
        num = m.add_variables(lower=0.0, upper=upper, coords=[np.arange(n), np.arange(n)], dims=["i", "j"], name="num")
        inflow = num.sum("i").rename({"j": "i"})
        outflow = num.sum("j")
        zeros = xr.DataArray(np.zeros(n), coords=[np.arange(n)], dims=["i"])
        m.add_constraints(inflow - outflow >= zeros, name="balance")
        m.add_constraints(outflow <= zeros, name="supply")
        m.add_objective((num * xr.DataArray(np.where(np.eye(n, dtype=bool), 0.0, cost), dims=["i", "j"])).sum())
        self.model = m
        with quiet_highs(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.solver = Solver.from_name("highs", model=m, io_api="direct", options={}, track_updates=True)
        self.labels = m.variables["num"].labels.to_numpy()

    def solve(self, excess: np.ndarray, desired: np.ndarray, idle: np.ndarray) -> np.ndarray:
        """Cars to send from each zone to each other zone.

        Parameters
        ----------
        excess : np.ndarray, shape (n,)
            ``v_e``: idle cars minus waiting riders per zone [cars].
        desired : np.ndarray, shape (n,)
            ``v_d`` [cars].
        idle : np.ndarray, shape (n,)
            Idle cars per zone that may be moved [cars].

        Returns
        -------
        np.ndarray of int, shape (n, n)
            ``num[i, j]``.

        Raises
        ------
        SolverError
            HiGHS did not find an optimal solution (e.g. the desired cars exceed the idle ones).
        """
        self.model.constraints["balance"].rhs.values[...] = np.asarray(desired, float) - np.asarray(excess, float)
        self.model.constraints["supply"].rhs.values[...] = np.asarray(idle, float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = self.solver.solve(model=self.model)
        condition = str(result.status.termination_condition.value)
        if condition != "optimal" or result.solution is None:
            raise SolverError(f"rebalancing LP ended {condition!r}")
        primal = np.asarray(result.solution.primal, dtype=float)
        values = np.where(self.labels >= 0, primal[np.maximum(self.labels, 0)], 0.0)
        return np.rint(np.nan_to_num(values)).astype(np.int64)

    def close(self) -> None:
        """Free the HiGHS model."""
        self.solver.close()
