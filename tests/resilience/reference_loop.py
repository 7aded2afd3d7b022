"""REopt's outage simulator as it is written (one start at a time, a Python loop): the second implementation."""

from __future__ import annotations

import math

import numpy as np

from chisan.resilience.outage import OutageSources


def simulate_one_start(s: OutageSources, start: int, outage_h: float, call_delay_h: float) -> float:
    """Hours survived by an outage starting at step ``start``, step by step as in REopt.jl's ``simulate_outage``."""
    n = len(s.critical_load_kw)
    dt = s.dt_hours
    storage = min(float(s.storage_start_kwh[start]), s.storage_kwh)
    packs = min(float(np.broadcast_to(np.asarray(s.second_life_start_kwh, float), (n,))[start]), s.second_life_kwh)
    eta_sl = s.second_life_efficiency_fraction
    cars_kwh, cars = float(s.parked_kwh[start]), float(s.parked_cars[start])
    delay = math.ceil(call_delay_h / dt - 1e-9)
    for i in range(round(outage_h / dt)):
        if i == delay:
            cars_kwh += float(s.called_kwh[start])
            cars += float(s.called_cars[start])
        t = (start + i) % n
        net = s.critical_load_kw[t] - s.pv_kw[t]
        if net < 0:
            into = max(
                min(-net, s.storage_kw, (s.storage_kwh - storage) / (s.storage_charge_efficiency_fraction * dt)), 0
            )
            storage += into * s.storage_charge_efficiency_fraction * dt
            packs += (
                max(min(-net - into, s.second_life_kw, (s.second_life_kwh - packs) / (eta_sl * dt)), 0) * eta_sl * dt
            )
            continue
        d = min(net, s.storage_kw, storage * s.storage_discharge_efficiency_fraction / dt)
        storage -= d * dt / s.storage_discharge_efficiency_fraction
        net -= d
        p = min(net, s.second_life_kw, packs * eta_sl / dt)
        packs -= p * dt / eta_sl
        net -= p
        c = min(net, cars * s.v2h_kw_per_car, cars_kwh * s.v2h_efficiency_fraction / dt)
        cars_kwh -= c * dt / s.v2h_efficiency_fraction
        net -= c
        if net > 1e-6:
            return i * dt
    return round(outage_h / dt) * dt


def simulate_loop(s: OutageSources, outage_h: float, call_delay_h: float) -> np.ndarray:
    """Every start, one after the other."""
    return np.array([simulate_one_start(s, k, outage_h, call_delay_h) for k in range(len(s.critical_load_kw))])


def random_sources(n: int, seed: int, dt_hours: float = 1.0) -> OutageSources:
    """A year-like case: a PV day shape, a varying load, storage, cars parked and callable at random."""
    rng = np.random.default_rng(seed)
    hour = (np.arange(n) * dt_hours) % 24
    pv = np.clip(np.sin((hour - 6) / 12 * np.pi), 0, None) * 40.0 * rng.uniform(0.2, 1.0, n)
    return OutageSources(
        critical_load_kw=rng.uniform(5.0, 15.0, n),
        pv_kw=pv,
        storage_start_kwh=rng.uniform(0.0, 100.0, n),
        storage_kwh=100.0,
        storage_kw=30.0,
        storage_charge_efficiency_fraction=0.95,
        storage_discharge_efficiency_fraction=0.95,
        parked_kwh=rng.uniform(0.0, 60.0, n),
        parked_cars=rng.integers(0, 4, n).astype(float),
        called_kwh=rng.uniform(0.0, 200.0, n),
        called_cars=rng.integers(0, 10, n).astype(float),
        v2h_kw_per_car=6.0,
        v2h_efficiency_fraction=0.9,
        dt_hours=dt_hours,
        second_life_start_kwh=rng.uniform(0.0, 40.0, n),
        second_life_kwh=40.0,
        second_life_kw=20.0,
        second_life_efficiency_fraction=0.9,
    )
