"""Verification of a schedule: each car's energy rebuilt from the charging powers alone, each limit and booking checked.

Step 4 of the pipeline of :mod:`chisan.service.scheduler`, which re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chisan.plan.inputs import PlanInputs
from chisan.service.schedule_state import FleetState

TOLERANCE_KWH = 1e-3
"""Energy tolerance of the verification [kWh] (solver feasibility tolerance × horizon, rounded up)."""

TOLERANCE_KW = 1e-3
"""Power tolerance of the verification [kW]."""


@dataclass
class Verification:
    """What :func:`verify` found.

    Attributes
    ----------
    limits_ok : bool
        No car charges while away or above its limit, no station above its chargers or connection, the town
        within its grid limit, no battery above its usable energy.
    violations : list of str
        One line per broken limit (first few).
    at_risk : dict[int, float]
        Booking id → energy missing at its start [kWh].
    energy_kwh : np.ndarray
        Each car's energy after each step rebuilt from the charging powers [kWh], (steps, cars).
    """

    limits_ok: bool
    violations: list[str]
    at_risk: dict[int, float]
    energy_kwh: np.ndarray


# --- verification


def verify(state: FleetState, inputs: PlanInputs, charge_kw: np.ndarray, storage_net_kw: np.ndarray) -> Verification:
    """Check a schedule from its charging powers alone (independently of how it was computed).

    Rebuilds each car's energy e_t = e_{t−1} + η ch_t Δt − served_t, where a booking takes its trip energy
    (as in ``inputs``: cut to what the car alone can reach, see
    :func:`~chisan.service.schedule_inputs.attainable_trips`) but at most what the car holds above its reserve,
    served_t = min(trip_t, max(0, e_{t−1} + η ch_t Δt − reserve)); the rest is the
    booking's shortfall. Checks:
    no charging while away or above the car's limit, each station within chargers × charger power and its
    connection, the town's import (charging + storage − PV) within its grid limit, no battery above its usable
    energy, and every booking starting with its trip energy plus the reserve (else it is at risk).

    Parameters
    ----------
    charge_kw : np.ndarray, (steps, cars)
        Charging power at the plug [kW].
    storage_net_kw : np.ndarray, (steps,)
        Storage charge − discharge [kW].
    """
    tol = TOLERANCE_KW
    veh = inputs.vehicles
    plug = inputs.plugged.to_numpy(bool)
    violations: list[str] = []

    def report(mask: np.ndarray, what: str, names: pd.Index | None = None) -> None:
        if mask.any():
            where = np.argwhere(mask)[0]
            who = f" ({names[where[1]]})" if names is not None and mask.ndim == 2 else ""
            violations.append(f"{what} at {state.snapshots[where[0]]}{who}, {int(mask.sum())} time(s)")

    cars, stations = veh.index, inputs.stations
    report(charge_kw < -tol, "negative charging of vehicle", cars)
    report((~plug) & (charge_kw > tol), "charging while away of vehicle", cars)
    report(charge_kw > veh["max_charge_kw"].to_numpy(float)[None, :] + tol, "charging above the limit of vehicle", cars)
    onehot = (veh["station"].to_numpy()[:, None] == stations.index.to_numpy()[None, :]).astype(float)
    per_station = charge_kw @ onehot
    cap = (stations["chargers"] * stations["charger_kw"]).to_numpy(float)
    conn = stations["connection_limit_kw"].astype(float).fillna(np.inf).to_numpy()
    report(per_station > cap[None, :] + tol, "chargers' power exceeded at station", stations.index)
    report(per_station > conn[None, :] + tol, "connection limit exceeded at station", stations.index)
    grid = charge_kw.sum(axis=1) + storage_net_kw - state.pv_kw.to_numpy(float)
    if state.grid_connection_limit_kw is not None:
        report(grid > state.grid_connection_limit_kw + tol, "town import above the grid limit")
    eta = veh["charge_efficiency"].to_numpy(float)
    trips = inputs.trip_energy_kwh.to_numpy(float)
    energy0 = inputs.initial_energy_kwh.to_numpy(float)
    reserve = veh["reserve_kwh"].to_numpy(float)
    gain = eta[None, :] * charge_kw * state.dt_hours
    energy = np.empty_like(gain)
    short = np.zeros_like(gain)
    e = energy0.copy()
    for t in range(len(gain)):  # vectorised over cars; the min() makes it a recursion
        before = e + gain[t]
        served = np.minimum(trips[t], np.maximum(0.0, before - reserve))
        short[t] = trips[t] - served
        e = before - served
        energy[t] = e
    report(
        energy > veh["usable_kwh"].to_numpy(float)[None, :] + TOLERANCE_KWH, "usable energy exceeded of vehicle", cars
    )
    at_risk = bookings_at_risk(state, short, TOLERANCE_KWH)
    return Verification(limits_ok=not violations, violations=violations, at_risk=at_risk, energy_kwh=energy)


def bookings_at_risk(state: FleetState, short_kwh: np.ndarray, tolerance_kwh: float) -> dict[int, float]:
    """Booking id → shortfall [kWh] for the (step, car) cells of ``short_kwh`` above the tolerance."""
    out: dict[int, float] = {}
    if not (short_kwh > tolerance_kwh).any():
        return out
    b = state.bookings
    step = pd.Timedelta(hours=state.dt_hours)
    for t, j in np.argwhere(short_kwh > tolerance_kwh):
        start = state.snapshots[t]
        hit = b[(b["vehicle"] == state.vehicles.index[j]) & (b["start"] >= start) & (b["start"] < start + step)]
        for bid in hit["booking_id"]:
            out[int(bid)] = float(short_kwh[t, j])
    return out
