"""Outage simulation over every start hour of the year, after the plan solves.

The method is REopt's outage simulator (NREL REopt.jl, ``src/outagesim/outage_simulator.jl`` at commit c93ce75:
``simulate_outage`` L3–L80 steps one outage, ``simulate_outages`` loops it over every start, ``process_results``
gives ``probs_of_surviving``; the file is under ``src/outagesim/``, not ``src/results/``):
for an outage starting in each time step of the year, walk through the
outage step by step, meet the critical load first from PV, then from storage (down to empty, within its power),
charge the storage with any PV surplus, and count the steps until the load is first not met; the year wraps around
(``t = (init_time_step - 1 + i) % n_time_steps + 1``). The results are the steps survived for each start, their
minimum / mean / maximum, and the probability of surviving each outage length. chisan adds the shared cars as a
third source (V2H/V2B): the cars parked at a shelter's base when the outage starts plug in at once, cars of the
bases that may be called arrive after ``call_delay_h``, and every car keeps its reserve. Unlike REopt's loop over
start times, every start is simulated at once with NumPy (one vector operation per outage step).

The shelters are supplied together, as one islanded microgrid with the plan's PV and storage (shares of them set in
``[resilience]``). Second-life storage (the retired car packs of :mod:`chisan.plan.second_life`) is a store of its
own, with its own energy, power (c-rate × energy) and efficiency (√ of its round trip, each way): it discharges after
the new storage and before the cars, and takes the PV surplus the new storage cannot.
The cars are pooled: their discharge power is (cars connected) × ``v2h_kw_per_car``, capped by the
energy they hold above their reserve, so a nearly empty car still counts at full power while others have energy
(a small optimism once most cars are drained).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_TOLERANCE_KW = 1e-6
"""Unmet load below this counts as met [kW] (round-off of the energy bookkeeping)."""


@dataclass(frozen=True)
class OutageSources:
    """What can supply the shelters for an outage starting in each step (arrays of length n_steps).

    Attributes
    ----------
    critical_load_kw : np.ndarray
        Critical load of all shelters together in each step [kW].
    pv_kw : np.ndarray
        PV available to the shelters in each step [kW].
    storage_start_kwh : np.ndarray
        Storage energy at the start of each step (end of the step before) [kWh].
    storage_kwh, storage_kw : float
        Storage energy capacity [kWh] and power [kW] available to the shelters.
    storage_charge_efficiency_fraction, storage_discharge_efficiency_fraction : float
        One-way efficiencies of the storage.
    parked_kwh, parked_cars : np.ndarray
        For an outage starting in each step: energy above reserve of the cars parked at the shelters' bases [kWh],
        and their number.
    called_kwh, called_cars : np.ndarray
        The same for the cars that may be called in (not already parked at a shelter).
    v2h_kw_per_car : float
        Discharge power of one car into a shelter [kW].
    v2h_efficiency_fraction : float
        Battery-to-shelter efficiency.
    dt_hours : float
        Step length [h].
    second_life_start_kwh : np.ndarray or float
        Second-life storage energy at the start of each step [kWh] (0 = none).
    second_life_kwh, second_life_kw : float
        Its usable energy [kWh] and power [kW] available to the shelters.
    second_life_efficiency_fraction : float
        Its one-way (charge = discharge) efficiency, √ of the packs' round trip
        (:attr:`chisan.plan.second_life.SecondLifeOffer.efficiency`).
    """

    critical_load_kw: np.ndarray
    pv_kw: np.ndarray
    storage_start_kwh: np.ndarray
    storage_kwh: float
    storage_kw: float
    storage_charge_efficiency_fraction: float
    storage_discharge_efficiency_fraction: float
    parked_kwh: np.ndarray
    parked_cars: np.ndarray
    called_kwh: np.ndarray
    called_cars: np.ndarray
    v2h_kw_per_car: float
    v2h_efficiency_fraction: float
    dt_hours: float
    second_life_start_kwh: np.ndarray | float = 0.0
    second_life_kwh: float = 0.0
    second_life_kw: float = 0.0
    second_life_efficiency_fraction: float = 1.0


def simulate_outages(sources: OutageSources, outage_h: float, call_delay_h: float = 0.0) -> np.ndarray:
    """Hours the critical load is fully met for an outage starting in each step of the year.

    Parameters
    ----------
    sources : OutageSources
    outage_h : float
        Outage length [h]; the simulation stops there (a start that survives it gets ``outage_h``).
    call_delay_h : float
        Time for called cars to arrive [h]; they join from the first step starting at or after it.

    Returns
    -------
    np.ndarray
        Hours survived [h] for each start step, between 0 and ``outage_h``.

    Raises
    ------
    ValueError
        If an argument is out of range (the message names it, its value and what is allowed).

    Notes
    -----
    Fractional-hour rule (REopt's, ``simulate_outage`` L74–L75: ``round(load_kw, digits=5) > 0`` ends the outage
    and returns the steps before it): a step counts only when the critical load is met in full for the whole step,
    so 19.8 kWh at 2 kW gives 9 h, not 9.9 h. Results are whole multiples of ``dt_hours``.
    """
    s = sources
    _check(s, outage_h, call_delay_h)
    dt = s.dt_hours
    n = len(s.critical_load_kw)
    n_steps = round(outage_h / dt)
    delay_steps = int(np.ceil(call_delay_h / dt - 1e-9))
    start = np.arange(n)
    storage = np.minimum(np.asarray(s.storage_start_kwh, float), s.storage_kwh).copy()
    packs = np.minimum(np.broadcast_to(np.asarray(s.second_life_start_kwh, float), (n,)), s.second_life_kwh).copy()
    eta_sl = s.second_life_efficiency_fraction
    cars_kwh = np.asarray(s.parked_kwh, float).copy()
    cars = np.asarray(s.parked_cars, float).copy()
    alive = np.ones(n, dtype=bool)
    survived = np.zeros(n, dtype=int)
    eta_c, eta_d = s.storage_charge_efficiency_fraction, s.storage_discharge_efficiency_fraction
    for k in range(n_steps):
        if k == delay_steps:
            cars_kwh += s.called_kwh
            cars += s.called_cars
        t = (start + k) % n  # REopt L22: t = (init_time_step - 1 + i) % n_time_steps + 1, the year wraps
        net_kw = s.critical_load_kw[t] - s.pv_kw[t]
        # PV surplus charges the storage, within its power and its free capacity (REopt L25–L31, which puts the whole
        # round-trip loss on charging; chisan splits it into charge and discharge efficiencies)
        charge_kw = np.minimum(np.minimum(-net_kw, s.storage_kw), (s.storage_kwh - storage) / (eta_c * dt))
        charge_kw = np.clip(charge_kw, 0.0, None)
        storage += charge_kw * eta_c * dt
        # what the new storage cannot take charges the second-life packs, at their own efficiency
        rest_kw = np.clip(-net_kw - charge_kw, 0.0, None)
        packs_in_kw = np.minimum(np.minimum(rest_kw, s.second_life_kw), (s.second_life_kwh - packs) / (eta_sl * dt))
        packs += np.clip(packs_in_kw, 0.0, None) * eta_sl * dt
        need_kw = np.clip(net_kw, 0.0, None)
        # storage discharges to the load: P ≤ power, P·dt/η_d ≤ energy held (REopt L66–L69 discharges only when the
        # battery carries the whole rest; chisan lets it carry part and the cars the rest, same result without cars)
        from_storage_kw = np.minimum(np.minimum(need_kw, s.storage_kw), storage * eta_d / dt)
        storage -= from_storage_kw * dt / eta_d
        need_kw -= from_storage_kw
        # then the second-life packs: P ≤ their power, P·dt/η_sl ≤ their energy
        from_packs_kw = np.minimum(np.minimum(need_kw, s.second_life_kw), packs * eta_sl / dt)
        packs -= from_packs_kw * dt / eta_sl
        need_kw -= from_packs_kw
        # the cars connected discharge next: P ≤ cars × V2H power, P·dt/η ≤ energy above reserve
        from_cars_kw = np.minimum(
            np.minimum(need_kw, cars * s.v2h_kw_per_car), cars_kwh * s.v2h_efficiency_fraction / dt
        )
        cars_kwh -= from_cars_kw * dt / s.v2h_efficiency_fraction
        need_kw -= from_cars_kw
        alive &= need_kw <= _TOLERANCE_KW  # REopt L74: round(load_kw, digits=5) > 0 is a failed step
        survived += alive
        if not alive.any():
            break
    return survived * dt


def _check(s: OutageSources, outage_h: float, call_delay_h: float) -> None:
    """Refuse inputs the simulation cannot mean, with a message naming the argument."""
    if not (np.isfinite(s.dt_hours) and s.dt_hours > 0):
        raise ValueError(f"dt_hours is {s.dt_hours}; it must be a step length above 0 h (1.0 hourly, 0.25 for 15 min)")
    if not (np.isfinite(outage_h) and outage_h > 0):
        raise ValueError(f"outage_h is {outage_h}; it must be an outage length above 0 h (e.g. 72)")
    steps = outage_h / s.dt_hours
    if abs(steps - round(steps)) > 1e-9:
        raise ValueError(f"outage_h is {outage_h} h; it must be a whole number of {s.dt_hours} h steps")
    if not (np.isfinite(call_delay_h) and call_delay_h >= 0):
        raise ValueError(f"call_delay_h is {call_delay_h}; it must be 0 h or more")
    n = len(s.critical_load_kw)
    if n == 0:
        raise ValueError("critical_load_kw is empty; it must hold one value [kW] per step of the year")
    for name in (
        "critical_load_kw",
        "pv_kw",
        "storage_start_kwh",
        "parked_kwh",
        "parked_cars",
        "called_kwh",
        "called_cars",
    ):
        values = np.asarray(getattr(s, name), float)
        if values.shape != (n,):
            raise ValueError(
                f"{name} has shape {values.shape}; it must have one value per step, like critical_load_kw ({n},)"
            )
        if not np.isfinite(values).all() or (values < 0).any():
            bad = values[~(np.isfinite(values) & (values >= 0))][0]
            raise ValueError(f"{name} holds {bad}; every value must be finite and 0 or more")
    packs = np.asarray(s.second_life_start_kwh, float)
    if packs.shape not in ((), (n,)) or not np.isfinite(packs).all() or (packs < 0).any():
        raise ValueError(
            f"second_life_start_kwh has shape {packs.shape}; it must be one value ≥ 0 [kWh] or one per step ({n},)"
        )
    for name in ("storage_kwh", "storage_kw", "v2h_kw_per_car", "second_life_kwh", "second_life_kw"):
        value = getattr(s, name)
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} is {value}; it must be finite and 0 or more")
    for name in (
        "storage_charge_efficiency_fraction",
        "storage_discharge_efficiency_fraction",
        "v2h_efficiency_fraction",
        "second_life_efficiency_fraction",
    ):
        value = getattr(s, name)
        if not (0 < value <= 1):
            raise ValueError(f"{name} is {value}; it must be a fraction above 0 and at most 1 (e.g. 0.95)")


@dataclass
class OutageResult:
    """Outage survival of the shelters over every start step.

    Attributes
    ----------
    survival : pd.DataFrame
        Per start time: ``hours_survived_h``, ``critical_load_kw``, ``storage_start_kwh``,
        ``second_life_start_kwh`` [kWh], ``parked_cars``,
        ``parked_kwh`` and ``called_cars``, ``called_kwh`` (energy above reserve [kWh]).
    probabilities : pd.DataFrame
        Per outage length ``duration_h`` [h]: ``survival_probability_fraction``, the share of start steps whose
        shelters stay supplied at least that long (REopt's ``probs_of_surviving``).
    outage_h : float
        The outage length simulated [h].
    """

    survival: pd.DataFrame
    probabilities: pd.DataFrame
    outage_h: float

    @property
    def full_outage_probability_fraction(self) -> float:
        """Share of start steps surviving the whole outage."""
        return float((self.survival["hours_survived_h"] >= self.outage_h - 1e-9).mean())

    def summary(self) -> pd.DataFrame:
        """Key figures: ``value``, ``unit``, ``definition`` (REopt's resilience_hours_min/avg/max)."""
        h = self.survival["hours_survived_h"]
        rows = [
            ("outage_h", self.outage_h, "h", "Outage length simulated from every start step"),
            ("resilience_hours_min", float(h.min()), "h", "Fewest hours the shelters stay supplied"),
            ("resilience_hours_mean", float(h.mean()), "h", "Mean hours the shelters stay supplied"),
            ("resilience_hours_max", float(h.max()), "h", "Most hours the shelters stay supplied"),
            (
                "full_outage_probability",
                self.full_outage_probability_fraction,
                "fraction",
                "Share of start steps in which the shelters survive the whole outage",
            ),
        ]
        return pd.DataFrame(rows, columns=["kpi", "value", "unit", "definition"]).set_index("kpi")


def outage_result(sources: OutageSources, index: pd.Index, outage_h: float, call_delay_h: float) -> OutageResult:
    """Simulate every start step and tabulate the survival and its distribution.

    Parameters
    ----------
    sources : OutageSources
    index : pd.Index
        Start time of each step.
    outage_h, call_delay_h : float
        Outage length and call-in delay [h].
    """
    hours = simulate_outages(sources, outage_h, call_delay_h)
    survival = pd.DataFrame(
        {
            "hours_survived_h": hours,
            "critical_load_kw": sources.critical_load_kw,
            "storage_start_kwh": sources.storage_start_kwh,
            "second_life_start_kwh": np.broadcast_to(np.asarray(sources.second_life_start_kwh, float), len(index)),
            "parked_cars": sources.parked_cars,
            "parked_kwh": sources.parked_kwh,
            "called_cars": sources.called_cars,
            "called_kwh": sources.called_kwh,
        },
        index=index,
    )
    dt = sources.dt_hours
    durations = dt * np.arange(1, round(outage_h / dt) + 1)
    probs = (hours[None, :] >= durations[:, None] - 1e-9).mean(axis=1)
    probabilities = pd.DataFrame({"duration_h": durations, "survival_probability_fraction": probs})
    return OutageResult(survival=survival, probabilities=probabilities, outage_h=float(outage_h))
