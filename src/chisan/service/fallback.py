"""Least-laxity-first charging: the schedule used when the optimiser fails or runs out of time.

At every step, each plugged-in car that holds less than it needs before its next departure asks for power; the
cars with the least laxity (the hours of charging they could skip and still be ready) are served first, within
their own limit, their station's chargers and connection, and the town's grid connection (plus the PV it has).
What the PV gives beyond the needs then tops up the cars that have room, least laxity first again.

Least laxity first is the classic on-line rule for deadline scheduling of EV charging; it needs no solver and
keeps every limit by construction [1].

References
----------
.. [1] Y. Xu, F. Pan and L. Tong, "Dynamic scheduling for charging electric vehicles: a priority rule",
   IEEE Transactions on Automatic Control 61 (2016) 4094–4099, :doi:`10.1109/TAC.2016.2541305`.
"""

from __future__ import annotations

import numpy as np

TOLERANCE_KWH = 1e-9


def next_departure(trips_kwh: np.ndarray) -> np.ndarray:
    """Step of each car's next departure at or after each step (``n`` when none), shape (steps, cars)."""
    n, v = trips_kwh.shape
    out = np.full((n + 1, v), n, dtype=np.int64)
    for t in range(n - 1, -1, -1):
        out[t] = np.where(trips_kwh[t] > 0, t, out[t + 1])
    return out[:n]


def _allocate(
    request_kw: np.ndarray, order: np.ndarray, station: np.ndarray, station_left_kw: np.ndarray, total_left_kw: float
) -> np.ndarray:
    """Grant requests in ``order`` within each station's and the total's remaining power [kW] (both updated)."""
    grant = np.zeros_like(request_kw)
    for v in order:
        if total_left_kw <= 0:
            break
        g = min(request_kw[v], station_left_kw[station[v]], total_left_kw)
        if g > 0:
            grant[v] = g
            station_left_kw[station[v]] -= g
            total_left_kw -= g
    return grant


def least_laxity_first(
    *,
    plugged: np.ndarray,
    trips_kwh: np.ndarray,
    need_after_kwh: np.ndarray,
    energy0_kwh: np.ndarray,
    usable_kwh: np.ndarray,
    max_charge_kw: np.ndarray,
    charge_efficiency: np.ndarray,
    station: np.ndarray,
    station_limit_kw: np.ndarray,
    site_limit_kw: float | None,
    pv_kw: np.ndarray,
    dt_hours: float,
) -> np.ndarray:
    """Charging power of each car at each step [kW at the plug], least laxity first.

    Parameters
    ----------
    plugged : np.ndarray of bool, (steps, cars)
        The car is at its station for the whole step.
    trips_kwh : np.ndarray, (steps, cars)
        Energy leaving each battery in the step its booking starts [kWh].
    need_after_kwh : np.ndarray, (steps, cars)
        Least energy after each step for every later booking to start
        (:func:`chisan.plan.dispatch.minimum_energy_kwh`) [kWh].
    energy0_kwh, usable_kwh, max_charge_kw, charge_efficiency : np.ndarray, (cars,)
        Energy now [kWh], usable energy [kWh], charging limit [kW], plug-to-battery efficiency [-].
    station : np.ndarray of int, (cars,)
        Position of each car's station in ``station_limit_kw``.
    station_limit_kw : np.ndarray, (stations,)
        min(chargers × charger power, connection limit) [kW].
    site_limit_kw : float or None
        Town's grid import limit [kW]; the PV output comes on top of it.
    pv_kw : np.ndarray, (steps,)
        PV output available [kW].
    dt_hours : float
        Step [h].
    """
    n, v = plugged.shape
    charge = np.zeros((n, v))
    nxt = next_departure(trips_kwh)
    cumulative_plugged = np.vstack([np.zeros((1, v)), np.cumsum(plugged, axis=0)])  # plugged steps before t
    e = energy0_kwh.astype(float).copy()
    rate_kwh = charge_efficiency * max_charge_kw * dt_hours  # battery energy per step at full power
    cars = np.arange(v)
    for t in range(n):
        d = nxt[t]
        target = np.where(d > 0, need_after_kwh[np.maximum(d - 1, 0), cars], need_after_kwh[0])
        target = np.where(d >= n, need_after_kwh[n - 1], target)
        deficit = np.maximum(0.0, target - e)
        steps_left = cumulative_plugged[np.minimum(d, n), cars] - cumulative_plugged[t]
        with np.errstate(divide="ignore", invalid="ignore"):
            laxity_h = steps_left * dt_hours - np.where(rate_kwh > 0, deficit / rate_kwh * dt_hours, np.inf)
        can = plugged[t] & (max_charge_kw > 0)
        room_kwh = np.maximum(0.0, usable_kwh - e)
        request = np.where(
            can & (deficit > TOLERANCE_KWH),
            np.minimum(max_charge_kw, np.minimum(deficit, room_kwh) / (charge_efficiency * dt_hours)),
            0.0,
        )
        order = np.argsort(np.where(request > 0, laxity_h, np.inf), kind="stable")
        order = order[request[order] > 0]
        station_left = station_limit_kw.astype(float).copy()
        total_left = np.inf if site_limit_kw is None else float(site_limit_kw) + float(pv_kw[t])
        grant = _allocate(request, order, station, station_left, total_left)
        # PV beyond the needs tops up the cars with room
        surplus = float(pv_kw[t]) - grant.sum()
        if surplus > 1e-9:
            extra_room = np.maximum(0.0, room_kwh - grant * charge_efficiency * dt_hours)
            extra = np.where(can, np.minimum(max_charge_kw - grant, extra_room / (charge_efficiency * dt_hours)), 0.0)
            extra = np.maximum(extra, 0.0)
            order2 = np.argsort(np.where(extra > 0, laxity_h, np.inf), kind="stable")
            order2 = order2[extra[order2] > 0]
            grant += _allocate(extra, order2, station, station_left, surplus)
        charge[t] = grant
        e = e + charge_efficiency * grant * dt_hours - trips_kwh[t]
    return charge
