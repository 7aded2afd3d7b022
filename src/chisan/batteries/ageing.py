"""Semi-empirical capacity fade of lithium-ion packs: calendar + cycle ageing, advanced step by step.

Each model is a sum of fade laws of the form ``q = k(stress) · x^p``: calendar fade grows with time ``x = t``
[day] at a rate ``k`` set by temperature and state of charge; cycle fade grows with charge throughput
``x = EFC`` at a rate set by depth of discharge, C-rate and temperature. Stress changes from step to step,
so the fade is advanced with the "virtual time" state update of NREL's BLAST-Lite [3]_: the fade reached so
far is converted to the time it would have taken under the new stress, ``x_v = (q / k)^(1/p)``, and the law
is advanced from there, ``q' = k (x_v + Δx)^p`` (:func:`advance_power_law`). Changing stress is then neither
double-counted (as summing ``k_i Δx_i^p`` would) nor forgotten. For constant stress the update is exact for
any step length. (BLAST-Lite takes an explicit Euler step of the same state equation; for daily steps the
two agree to ~1e-4.)

The published cell models (parameter tables and rate functions, with their sources) are in
:mod:`chisan.batteries.cell_models`; :data:`AGEING_MODELS` binds them by name (see :func:`ageing_model`).

The stress factors (``dt_days, efc, dod, c_rate, mean_soc, temp_c``) come from
:func:`chisan.batteries.cycles.stress_factors`.

References
----------
.. [3] P. Gasper, N. Prakash, K. Smith (2023), BLAST-Lite 1.1, NREL software SWR-22-69,
   https://github.com/NREL/BLAST-Lite
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from chisan.batteries import cycles
from chisan.batteries.cell_models import GAS_CONSTANT_J_PER_MOL_K as GAS_CONSTANT_J_PER_MOL_K
from chisan.batteries.cell_models import KOKAM_LAM_SCALE_FLOOR_EFC as KOKAM_LAM_SCALE_FLOOR_EFC
from chisan.batteries.cell_models import LFP_250AH_PARAMETERS as LFP_250AH_PARAMETERS
from chisan.batteries.cell_models import LMO_NISSAN_LEAF_PARAMETERS as LMO_NISSAN_LEAF_PARAMETERS
from chisan.batteries.cell_models import NAUMANN_LFP_PARAMETERS as NAUMANN_LFP_PARAMETERS
from chisan.batteries.cell_models import NCA_PANASONIC_PARAMETERS as NCA_PANASONIC_PARAMETERS
from chisan.batteries.cell_models import NMC111_KOKAM_PARAMETERS as NMC111_KOKAM_PARAMETERS
from chisan.batteries.cell_models import NMC622_DENSO_PARAMETERS as NMC622_DENSO_PARAMETERS
from chisan.batteries.cell_models import NMC811_LGMJ1_PARAMETERS as NMC811_LGMJ1_PARAMETERS
from chisan.batteries.cell_models import SECONDS_PER_DAY as SECONDS_PER_DAY
from chisan.batteries.cell_models import anode_potential as anode_potential
from chisan.batteries.cell_models import blast_linear_cycle_rate as blast_linear_cycle_rate
from chisan.batteries.cell_models import blast_soc_calendar_rate as blast_soc_calendar_rate
from chisan.batteries.cell_models import denso_nmc622_calendar_rate as denso_nmc622_calendar_rate
from chisan.batteries.cell_models import denso_nmc622_cycle_rate as denso_nmc622_cycle_rate
from chisan.batteries.cell_models import kokam_nmc111_calendar_rate as kokam_nmc111_calendar_rate
from chisan.batteries.cell_models import kokam_nmc111_cycle_rate as kokam_nmc111_cycle_rate
from chisan.batteries.cell_models import kokam_nmc111_lam_scale as kokam_nmc111_lam_scale
from chisan.batteries.cell_models import lfp_250ah_calendar_rate as lfp_250ah_calendar_rate
from chisan.batteries.cell_models import lfp_250ah_cycle_rate as lfp_250ah_cycle_rate
from chisan.batteries.cell_models import lmo_nissan_leaf_cycle_rate as lmo_nissan_leaf_cycle_rate
from chisan.batteries.cell_models import naumann_lfp_calendar_rate as naumann_lfp_calendar_rate
from chisan.batteries.cell_models import naumann_lfp_cycle_rate as naumann_lfp_cycle_rate
from chisan.exceptions import ScenarioError

# --- state updates ------------------------------------------------------------------------------------------


def advance_power_law(fade: Any, rate: Any, exponent: float, dx: Any) -> np.ndarray:
    """Advance a fade state that follows ``q = k x^p`` by ``Δx`` under rate ``k`` (virtual-time update [3]_).

    ``x_v = (q / k)^(1/p)`` is the time (or throughput) that would give the current fade under the new rate;
    the new fade is ``k (x_v + Δx)^p``. Where ``Δx = 0`` or ``k = 0`` the fade is returned unchanged
    (exactly).

    Parameters
    ----------
    fade : array-like
        Current fade ``q`` [fraction of capacity].
    rate : array-like
        Rate ``k`` under the stress of this step [fraction / unit^p].
    exponent : float
        ``p`` (> 0).
    dx : array-like
        Time [day] or throughput [EFC] of this step (>= 0).

    Returns
    -------
    numpy.ndarray
        Fade after the step [fraction].
    """
    fade = np.asarray(fade, dtype=float)
    rate = np.asarray(rate, dtype=float)
    dx = np.asarray(dx, dtype=float)
    moves = (dx > 0) & (rate > 0)
    safe_rate = np.where(moves, rate, 1.0)
    virtual_x = (fade / safe_rate) ** (1.0 / exponent)
    advanced = safe_rate * (virtual_x + dx) ** exponent
    return np.where(moves, np.maximum(advanced, fade), fade)


def advance_sigmoid(fade: Any, scale: Any, exponent: float, dx: Any) -> np.ndarray:
    """Advance a fade state that follows ``q = 2 (1/2 - 1/(1 + exp((x/s)^p))) = tanh((x/s)^p / 2)``.

    The virtual throughput is ``x_v = s (2 artanh q)^(1/p)`` under the new scale ``s``; the new fade is
    ``tanh(((x_v + Δx)/s)^p / 2)`` (BLAST-Lite's sigmoid state [3]_, advanced exactly).

    Parameters
    ----------
    fade : array-like
        Current fade ``q`` in [0, 1).
    scale : array-like
        ``s`` [EFC], > 0.
    exponent : float
        ``p``.
    dx : array-like
        Throughput of the step [EFC].
    """
    fade = np.asarray(fade, dtype=float)
    scale = np.asarray(scale, dtype=float)
    dx = np.asarray(dx, dtype=float)
    virtual_x = scale * (2.0 * np.arctanh(np.minimum(fade, 1.0 - 1e-16))) ** (1.0 / exponent)
    advanced = np.tanh((((virtual_x + dx) / scale) ** exponent) / 2.0)
    return np.where(dx > 0, np.maximum(advanced, fade), fade)


# --- models -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeingModel:
    """A calendar + cycle capacity-fade model: rate functions bound to a published parameter set.

    Attributes
    ----------
    name : str
        Key in :data:`AGEING_MODELS`.
    chemistry : str
        Cell chemistry of the cell the model was fitted to (``"NMC111"``, ``"NMC811"``, ``"NCA"``, ``"LMO"``,
        ``"LFP"``); descriptive only (the materials of :mod:`chisan.batteries.materials` follow the pack's own
        chemistry).
    calendar_rate : callable
        ``(temp_c, soc) -> k`` [1/day^calendar_exponent].
    calendar_exponent : float
    cycle_rate : callable
        ``(temp_c, dod, c_rate, mean_soc) -> k`` [1/EFC^cycle_exponent].
    cycle_exponent : float
    lam_scale : callable or None
        ``(temp_c, dod, mean_soc) -> s`` [EFC] of a sigmoidal loss of active material, if the model has one.
    lam_exponent : float
    lam_offset : float
        The LAM-limited capacity is ``1 + lam_offset - q_LAM``.
    description : str
    field_factor : float, default 1
        Field calibration: the calendar and cycling (LLI) rates are multiplied by it, so that at any stress
        history those fades are ``field_factor`` times the lab cell's (the power-law updates are homogeneous in
        the rate); the sigmoidal LAM knee is left as fitted. BLAST-Lite's ``degradation_scalar`` [3]_ does the
        same. See :func:`calibrated` and :mod:`chisan.batteries.field`.
    calendar_at_step_mean : bool, default False
        Evaluate the calendar rate at the step's mean SOC and temperature (as BLAST-Lite does for the DENSO
        model) instead of averaging it over the samples.
    charge_rate_stressor : bool, default False
        The cycle law's rate stressor is the C-rate while charging (``c_rate_charge``), not ``c_rate``.
    """

    name: str
    chemistry: str
    calendar_rate: Callable[..., np.ndarray]
    calendar_exponent: float
    cycle_rate: Callable[..., np.ndarray]
    cycle_exponent: float
    lam_scale: Callable[..., np.ndarray] | None = None
    lam_exponent: float = 0.0
    lam_offset: float = 0.0
    description: str = field(default="", compare=False)
    field_factor: float = 1.0
    calendar_at_step_mean: bool = False
    charge_rate_stressor: bool = False


def _published(
    name: str,
    chemistry: str,
    params: Mapping[str, float],
    calendar: tuple[Callable[..., np.ndarray], str],
    cycle: tuple[Callable[..., np.ndarray], str],
    description: str,
    **options: Any,
) -> AgeingModel:
    """An :class:`AgeingModel` whose calendar and cycle laws are bound to one parameter table.

    ``calendar`` and ``cycle`` are each a rate function of :mod:`chisan.batteries.cell_models` and the key of its
    exponent in ``params``; ``options`` are the other fields of :class:`AgeingModel` (e.g. a LAM law).
    """
    (calendar_rate, calendar_key), (cycle_rate, cycle_key) = calendar, cycle
    return AgeingModel(
        name=name,
        chemistry=chemistry,
        calendar_rate=partial(calendar_rate, params=params),
        calendar_exponent=params[calendar_key],
        cycle_rate=partial(cycle_rate, params=params),
        cycle_exponent=params[cycle_key],
        description=description,
        **options,
    )


_BLAST_CALENDAR = (blast_soc_calendar_rate, "qcal_p")
_BLAST_CYCLE = (blast_linear_cycle_rate, "qcyc_p")

AGEING_MODELS: Mapping[str, AgeingModel] = MappingProxyType(
    {
        model.name: model
        for model in (
            _published(
                "nmc111_kokam",
                "NMC111",
                NMC111_KOKAM_PARAMETERS,
                (kokam_nmc111_calendar_rate, "q2"),
                (kokam_nmc111_cycle_rate, "q4"),
                "Kokam 75 Ah NMC111|graphite, Smith et al. 2017, doi:10.23919/ACC.2017.7963578",
                lam_scale=partial(kokam_nmc111_lam_scale, params=NMC111_KOKAM_PARAMETERS),
                lam_exponent=NMC111_KOKAM_PARAMETERS["p_lam"],
                lam_offset=NMC111_KOKAM_PARAMETERS["lam_offset"],
            ),
            _published(
                "lfp_250ah",
                "LFP",
                LFP_250AH_PARAMETERS,
                (lfp_250ah_calendar_rate, "pcal"),
                (lfp_250ah_cycle_rate, "pcyc"),
                "250 Ah LFP|graphite prismatic, Gasper et al. 2023, doi:10.1016/j.est.2023.109042",
            ),
            _published(
                "lfp_naumann",
                "LFP",
                NAUMANN_LFP_PARAMETERS,
                (naumann_lfp_calendar_rate, "p_cal"),
                (naumann_lfp_cycle_rate, "p_cyc"),
                "LFP|graphite 26650, Naumann et al. 2018 (calendar), 2020 (cycle)",
            ),
            _published(
                "nmc811_lgmj1",
                "NMC811",
                NMC811_LGMJ1_PARAMETERS,
                _BLAST_CALENDAR,
                _BLAST_CYCLE,
                "LG MJ1 3.5 Ah NMC811|graphite-Si 18650, BLAST-Lite fit (NREL) of EVERLASTING D2.3 data",
            ),
            _published(
                "nca_panasonic",
                "NCA",
                NCA_PANASONIC_PARAMETERS,
                _BLAST_CALENDAR,
                _BLAST_CYCLE,
                "Panasonic NCR18650B 3.2 Ah NCA|graphite, BLAST-Lite fit (NREL) of Keil et al. 2016 (calendar) "
                "and Preger et al. 2020 (cycle)",
            ),
            _published(
                "lmo_nissan_leaf",
                "LMO",
                LMO_NISSAN_LEAF_PARAMETERS,
                _BLAST_CALENDAR,
                (lmo_nissan_leaf_cycle_rate, "qcyc_p"),
                "Used Nissan Leaf 66 Ah LMO|graphite modules in second life, BLAST-Lite fit (NREL) of Braco et al. "
                "2020, 2022; capacity relative to the start of second life",
            ),
            _published(
                "nmc622_denso",
                "NMC622",
                NMC622_DENSO_PARAMETERS,
                (denso_nmc622_calendar_rate, "p"),
                (denso_nmc622_cycle_rate, "p"),
                "DENSO 50 Ah NMC622|graphite EV cells, Smith et al. 2021, doi:10.1149/1945-7111/ac2ebd "
                "(BLAST-Lite's Nmc622_Gr_DENSO50Ah_Battery)",
                calendar_at_step_mean=True,
                charge_rate_stressor=True,
            ),
        )
    }
)
"""Published ageing models by name; see :func:`ageing_model`."""


def ageing_model(name: str | AgeingModel) -> AgeingModel:
    """Look up a published ageing model by name (case-insensitive); an :class:`AgeingModel` passes through.

    Raises
    ------
    chisan.exceptions.ScenarioError
        For an unknown name, listing the valid names.
    """
    if isinstance(name, AgeingModel):
        return name
    key = str(name).strip().lower()
    if key not in AGEING_MODELS:
        raise ScenarioError(f"Unknown ageing model {name!r}; valid names: {', '.join(sorted(AGEING_MODELS))}.")
    return AGEING_MODELS[key]


def calibrated(model: str | AgeingModel, field_factor: float) -> AgeingModel:
    """The model with its calendar and cycling fade scaled by ``field_factor`` (see :class:`AgeingModel`).

    Raises
    ------
    chisan.exceptions.ScenarioError
        When the factor is not a finite number > 0.
    """
    model = ageing_model(model)
    try:
        factor = float(field_factor)
    except (TypeError, ValueError) as err:
        raise ScenarioError(f"field calibration factor must be a number > 0, got {field_factor!r}.") from err
    if not (np.isfinite(factor) and factor > 0):
        raise ScenarioError(
            f"field calibration factor = {field_factor!r} is not allowed; allowed: a finite number > 0 "
            "(1 = the lab cell's fade)."
        )
    return replace(model, field_factor=factor)


# --- fade over a sequence of steps ------------------------------------------------------------------------


@dataclass
class FadeState:
    """Fade reached so far by each pack [fraction of nominal capacity]: calendar, cycling (LLI) and LAM."""

    calendar: np.ndarray
    cycle: np.ndarray
    lam: np.ndarray

    @classmethod
    def new(cls, n_packs: int = 1) -> FadeState:
        """Fresh packs (no fade)."""
        return cls(np.zeros(n_packs), np.zeros(n_packs), np.zeros(n_packs))

    def relative_capacity(self, model: AgeingModel, fade_scale: float = 1.0) -> np.ndarray:
        """Relative capacity [fraction]: ``1 - s (q_cal + q_cyc)``, limited by LAM where the model has it.

        (The LAM limit is Smith et al. 2017's, see :mod:`chisan.batteries.cell_models`.)

        ``fade_scale`` ``s`` gives the capacity of packs aged with the calendar and cycling rates × ``s`` under
        the same stress (exact: the power-law updates are homogeneous in the rate); 1 = this state.
        """
        capacity = 1.0 - fade_scale * (self.calendar + self.cycle)
        if model.lam_scale is not None:
            capacity = np.minimum(capacity, 1.0 + model.lam_offset - self.lam)
        return capacity


def _step_rates(stress: Mapping[str, np.ndarray], model: AgeingModel) -> dict[str, np.ndarray]:
    """Rates per step from stress arrays (any matching shape); the calendar rate may be precomputed (unscaled).

    The calendar and cycling rates are multiplied by the model's ``field_factor`` (1 for the lab cell).
    """
    calendar = (
        stress["calendar_rate"]
        if "calendar_rate" in stress and not model.calendar_at_step_mean
        else model.calendar_rate(stress["temp_c"], stress["mean_soc"])
    )
    rate = stress["c_rate_charge"] if model.charge_rate_stressor and "c_rate_charge" in stress else stress["c_rate"]
    cycle = model.cycle_rate(stress["temp_c"], stress["dod"], rate, stress["mean_soc"])
    if model.field_factor != 1.0:
        calendar, cycle = model.field_factor * np.asarray(calendar), model.field_factor * np.asarray(cycle)
    rates = {"calendar": calendar, "cycle": cycle}
    if model.lam_scale is not None:
        rates["lam"] = model.lam_scale(stress["temp_c"], stress["dod"], stress["mean_soc"])
    return rates


def _power_law_path(fade: np.ndarray, rate: np.ndarray, exponent: float, dx: np.ndarray) -> np.ndarray:
    """Fade after each step of a run of virtual-time updates of ``q = k x^p`` (packs × steps), all at once.

    With ``u = q^(1/p)`` one update of :func:`advance_power_law` is ``u' = (k (x_v + Δx)^p)^(1/p)
    = k^(1/p) x_v + k^(1/p) Δx = u + k^(1/p) Δx`` (as ``x_v = (q/k)^(1/p)``): exactly additive, so a run of
    steps is a cumulative sum and needs no loop over steps.
    """
    moves = (dx > 0) & (rate > 0)
    increments = np.where(moves, np.where(moves, rate, 1.0) ** (1.0 / exponent) * dx, 0.0)
    u = fade[:, None] ** (1.0 / exponent) + np.cumsum(increments, axis=1)
    return u**exponent


def _sigmoid_path(fade: np.ndarray, scale: np.ndarray, exponent: float, dx: np.ndarray) -> np.ndarray:
    """Fade after each step of a run of :func:`advance_sigmoid` updates (packs × steps), all at once.

    With ``w = (2 artanh q)^(1/p)`` (the virtual throughput over the scale, ``x_v / s``) one update is
    ``w' = (x_v + Δx)/s = w + Δx/s``: additive, so a cumulative sum.
    """
    w0 = (2.0 * np.arctanh(np.minimum(fade, 1.0 - 1e-16))) ** (1.0 / exponent)
    w = w0[:, None] + np.cumsum(np.where(dx > 0, dx / scale, 0.0), axis=1)
    return np.tanh(w**exponent / 2.0)


def _advance(
    state: FadeState, rates: Mapping[str, np.ndarray], stress: Mapping[str, np.ndarray], model: AgeingModel
) -> tuple[FadeState, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Advance ``state`` through steps (arrays packs × steps); returns state, per-step fades and capacity.

    Equivalent to applying :func:`advance_power_law` and :func:`advance_sigmoid` step after step (checked in
    ``tests/batteries``), computed as cumulative sums in the coordinates where the updates add up.
    """
    n_packs, n_steps = np.shape(stress["efc"])
    dt_days = np.broadcast_to(np.asarray(stress["dt_days"], dtype=float), (n_packs, n_steps))
    efc = np.broadcast_to(np.asarray(stress["efc"], dtype=float), (n_packs, n_steps))
    shape = (n_packs, n_steps)
    cal = _power_law_path(state.calendar, np.broadcast_to(rates["calendar"], shape), model.calendar_exponent, dt_days)
    cyc = _power_law_path(state.cycle, np.broadcast_to(rates["cycle"], shape), model.cycle_exponent, efc)
    cap = 1.0 - cal - cyc
    if model.lam_scale is not None:
        lam = _sigmoid_path(state.lam, np.broadcast_to(rates["lam"], shape), model.lam_exponent, efc)
        cap = np.minimum(cap, 1.0 + model.lam_offset - lam)
    else:
        lam = np.zeros(shape)
    if n_steps == 0:
        return state, cal, cyc, lam, cap
    last_lam = lam[:, -1].copy() if model.lam_scale is not None else state.lam
    return FadeState(cal[:, -1].copy(), cyc[:, -1].copy(), last_lam), cal, cyc, lam, cap


def capacity_fade(stress: pd.DataFrame, model: str | AgeingModel, state: FadeState | None = None) -> pd.DataFrame:
    """Fade and relative capacity of one pack after each step of a stress table.

    Parameters
    ----------
    stress : pandas.DataFrame
        One row per step with the columns of :data:`chisan.batteries.cycles.STRESS_COLUMNS`; an optional
        column ``calendar_rate`` [1/day^p] holds the model's calendar rate already averaged over the step (as
        :func:`simulate_capacity` does from the SOC samples); without it the rate is evaluated at the step's
        ``temp_c`` and ``mean_soc``.
    model : str or AgeingModel
        See :func:`ageing_model`.
    state : FadeState, optional
        Fade reached before the first step (default: a new pack).

    Returns
    -------
    pandas.DataFrame
        Same index; columns ``calendar_fade``, ``cycle_fade``, ``lam_fade`` [fraction] and
        ``relative_capacity`` [fraction of nominal].
    """
    model = ageing_model(model)
    arrays = {name: stress[name].to_numpy(dtype=float)[None, :] for name in stress.columns}
    state = state if state is not None else FadeState.new(1)
    _, cal, cyc, lam, cap = _advance(state, _step_rates(arrays, model), arrays, model)
    return pd.DataFrame(
        {"calendar_fade": cal[0], "cycle_fade": cyc[0], "lam_fade": lam[0], "relative_capacity": cap[0]},
        index=stress.index,
    )


# --- health from SOC series ---------------------------------------------------------------------------------


_PACKS_PER_BLOCK = 64


def _stress_with_calendar_rate(
    soc: pd.Series | pd.DataFrame,
    temp_c: float | pd.Series | pd.DataFrame,
    model: AgeingModel,
    *,
    dt_hours: float,
    step: str | pd.Timedelta,
    c_rate_definition: str = "while_cycling",
) -> tuple[dict[str, np.ndarray], pd.Index]:
    """Stress arrays (packs × steps) with the calendar rate averaged over each step's samples.

    The calendar rate is evaluated at every sample (temperature and SOC) and then averaged over the step, as
    BLAST-Lite does [3]_: the rate is strongly non-linear in SOC, so the rate at the mean SOC would be biased.
    """
    per_step = cycles.samples_per_step(step, dt_hours)
    c_rate_definition = cycles.check_c_rate_definition(c_rate_definition)
    cycles.check_soc(soc, dt_hours)
    temp = cycles._broadcast_temperature(temp_c, soc)
    n_time = len(soc)
    if n_time < 2:
        raise ScenarioError(f"The SOC series needs at least 2 samples, got {n_time}.")
    index = cycles._step_index(soc.index, n_time, per_step, dt_hours)
    if not isinstance(soc, pd.DataFrame):
        x = np.asarray(soc, dtype=float)[None, :]
        frame = cycles.stress_factors(  # rainflow package
            soc, temp_c, dt_hours=dt_hours, step=step, c_rate_definition=c_rate_definition
        )
        arrays = {name: frame[name].to_numpy()[None, :] for name in cycles.STRESS_COLUMNS}
        arrays["calendar_rate"] = cycles._step_mean(model.calendar_rate(temp, x), per_step, n_time)
        return arrays, index
    x_all = np.ascontiguousarray(soc.to_numpy(dtype=float).T)
    blocks = []
    # Blocks of packs keep the working arrays small (cache-friendly, memory reused between blocks).
    for first in range(0, x_all.shape[0], _PACKS_PER_BLOCK):
        x = x_all[first : first + _PACKS_PER_BLOCK]
        temp_block = temp[first : first + _PACKS_PER_BLOCK] if temp.shape[0] > 1 else temp
        block = cycles._stress_arrays(
            x, temp_block, dt_hours=dt_hours, per_step=per_step, c_rate_definition=c_rate_definition
        )
        block["calendar_rate"] = cycles._step_mean(model.calendar_rate(temp_block, x), per_step, n_time)
        blocks.append(block)
    arrays = {name: np.concatenate([b[name] for b in blocks]) for name in blocks[0]}
    return arrays, index


def step_stress(
    soc: pd.Series | pd.DataFrame,
    temp_c: float | pd.Series | pd.DataFrame,
    model: str | AgeingModel,
    *,
    dt_hours: float,
    step: str | pd.Timedelta = "1D",
    c_rate_definition: str = "while_cycling",
) -> tuple[dict[str, np.ndarray], pd.Index]:
    """Stress of every pack in every update step, with the model's calendar rate averaged over each step.

    The building block of :func:`simulate_fleet_capacity` and :func:`project_health`, for callers that keep
    the fade state themselves (a roadmap that moves packs from cars to stationary storage) and advance it
    with :func:`advance_state`.

    Parameters
    ----------
    soc : pandas.Series or pandas.DataFrame
        State of charge [fraction], one column per pack for a DataFrame.
    temp_c : float, pandas.Series or pandas.DataFrame
        Cell temperature [°C].
    model : str or AgeingModel
    dt_hours : float
        Sampling interval [h].
    step : str or pandas.Timedelta, default ``"1D"``
    c_rate_definition : {"while_cycling", "time_average"}, default "while_cycling"
        C-rate stressor (:data:`chisan.batteries.cycles.C_RATE_DEFINITIONS`).

    Returns
    -------
    stress : dict of numpy.ndarray
        Arrays of packs × steps: :data:`chisan.batteries.cycles.STRESS_COLUMNS` and ``calendar_rate``
        [1/day^p].
    index : pandas.Index
        End of each step.
    """
    model = ageing_model(model)
    return _stress_with_calendar_rate(
        soc, temp_c, model, dt_hours=dt_hours, step=step, c_rate_definition=c_rate_definition
    )


def advance_state(
    state: FadeState, stress: Mapping[str, np.ndarray], model: str | AgeingModel
) -> tuple[FadeState, np.ndarray]:
    """Advance the fade of packs through steps of stress (virtual-time update, see :func:`advance_power_law`).

    Parameters
    ----------
    state : FadeState
        Fade of each pack before the first step (``n_packs`` long).
    stress : mapping of numpy.ndarray
        Arrays of packs × steps as :func:`step_stress` returns (a 1 × steps array applies to every pack).
    model : str or AgeingModel

    Returns
    -------
    state : FadeState
        Fade after the last step.
    capacity : numpy.ndarray
        Relative capacity [fraction of nominal] after each step, packs × steps.
    """
    model = ageing_model(model)
    n_packs = state.calendar.size
    arrays = {
        name: np.broadcast_to(np.asarray(value, dtype=float), (n_packs, np.shape(value)[-1]))
        for name, value in stress.items()
    }
    new_state, _, _, _, capacity = _advance(state, _step_rates(arrays, model), arrays, model)
    return new_state, capacity


def simulate_capacity(
    soc: pd.Series,
    temp_c: float | pd.Series,
    model: str | AgeingModel,
    *,
    dt_hours: float,
    step: str | pd.Timedelta = "1D",
    c_rate_definition: str = "while_cycling",
) -> pd.Series:
    """Relative capacity of one pack over time from its state-of-charge series.

    Parameters
    ----------
    soc : pandas.Series
        State of charge [fraction], sampled every ``dt_hours`` (checked for a time index).
    temp_c : float or pandas.Series
        Cell temperature [°C].
    model : str or AgeingModel
        Ageing model (see :func:`ageing_model`), e.g. ``"nmc111_kokam"``.
    dt_hours : float
        Sampling interval [h].
    step : str or pandas.Timedelta, default ``"1D"``
        Interval at which stress is evaluated and the state advanced (``"1D"``, ``"7D"``, ...).
    c_rate_definition : {"while_cycling", "time_average"}, default "while_cycling"
        C-rate stressor (:data:`chisan.batteries.cycles.C_RATE_DEFINITIONS`).

    Returns
    -------
    pandas.Series
        ``relative_capacity`` [fraction of nominal] at the end of each step.
    """
    model = ageing_model(model)
    arrays, index = _stress_with_calendar_rate(
        soc, temp_c, model, dt_hours=dt_hours, step=step, c_rate_definition=c_rate_definition
    )
    _, _, _, _, cap = _advance(FadeState.new(1), _step_rates(arrays, model), arrays, model)
    return pd.Series(cap[0], index=index, name="relative_capacity")


def simulate_fleet_capacity(
    soc: pd.DataFrame,
    temp_c: float | pd.Series | pd.DataFrame,
    model: str | AgeingModel,
    *,
    dt_hours: float,
    step: str | pd.Timedelta = "1D",
    c_rate_definition: str = "while_cycling",
) -> pd.DataFrame:
    """Relative capacity of many packs at once (vectorised across packs).

    Same as :func:`simulate_capacity` for each column of ``soc``; cycles are counted with the vectorised
    :func:`chisan.batteries.cycles.extract_cycles`. A year of hourly SOC for 1,000 packs takes about a second.

    Parameters
    ----------
    soc : pandas.DataFrame
        State of charge [fraction], one column per pack.
    temp_c : float, pandas.Series or pandas.DataFrame
        Cell temperature [°C]: one value, one series for all packs, or one column per pack.

    Returns
    -------
    pandas.DataFrame
        Relative capacity [fraction], steps × packs.
    """
    model = ageing_model(model)
    arrays, index = _stress_with_calendar_rate(
        soc, temp_c, model, dt_hours=dt_hours, step=step, c_rate_definition=c_rate_definition
    )
    _, _, _, _, cap = _advance(FadeState.new(soc.shape[1]), _step_rates(arrays, model), arrays, model)
    return pd.DataFrame(cap.T, index=index, columns=soc.columns)


@dataclass(frozen=True)
class HealthProjection:
    """State of health projected over years by repeating a representative year.

    Attributes
    ----------
    soh : pandas.Series or pandas.DataFrame
        Relative capacity [fraction] at the end of each year, index ``year`` = 0 (new, 1.0) .. years; one
        column per pack when the input was a DataFrame.
    retire_year : float or pandas.Series
        Time [years] at which the capacity first reaches ``retire_at`` (linear between update steps); NaN when
        it is not reached within the projection.
    retire_at : float
        The threshold [fraction].
    """

    soh: pd.Series | pd.DataFrame
    retire_year: float | pd.Series
    retire_at: float


def check_threshold(value: float, name: str) -> float:
    """Check that a state-of-health threshold is a fraction in (0, 1]; raise ScenarioError otherwise."""
    try:
        value = float(value)
    except (TypeError, ValueError) as err:
        raise ScenarioError(f"{name} must be a number in (0, 1], got {value!r}.") from err
    if not (0.0 < value <= 1.0):
        raise ScenarioError(
            f"{name} = {value} is not a state-of-health threshold; allowed: a fraction in (0, 1] "
            "(e.g. 0.8 for 80 % of nominal capacity)."
        )
    return value


def project_health(
    annual_soc: pd.Series | pd.DataFrame,
    temp_c: float | pd.Series | pd.DataFrame,
    model: str | AgeingModel,
    years: int,
    *,
    dt_hours: float,
    step: str | pd.Timedelta = "1D",
    retire_at: float = 0.8,
    c_rate_definition: str = "while_cycling",
) -> HealthProjection:
    """Project state of health over ``years`` by repeating one representative year of use.

    The stress of the year is extracted once and applied again every year; the fade state is carried across
    steps and years with the virtual-time update, so the projection equals simulating the repeated series.

    Parameters
    ----------
    annual_soc : pandas.Series or pandas.DataFrame
        State of charge [fraction] over one representative year (its whole length counts as one year),
        one column per pack for a DataFrame.
    temp_c : float, pandas.Series or pandas.DataFrame
        Cell temperature [°C] over the same year.
    model : str or AgeingModel
        See :func:`ageing_model`.
    years : int
        Number of years to project (>= 1).
    dt_hours : float
        Sampling interval [h].
    step : str or pandas.Timedelta, default ``"1D"``
        Update interval.
    c_rate_definition : {"while_cycling", "time_average"}, default "while_cycling"
        C-rate stressor (:data:`chisan.batteries.cycles.C_RATE_DEFINITIONS`).
    retire_at : float, default 0.8
        State-of-health threshold [fraction] at which a pack retires from a car (70-80 %, DESIGN.md §7).

    Returns
    -------
    HealthProjection
    """
    model = ageing_model(model)
    retire_at = check_threshold(retire_at, "retire_at")
    if int(years) != years or years < 1:
        raise ScenarioError(f"years must be a whole number >= 1, got {years!r}.")
    years = int(years)
    arrays, _ = _stress_with_calendar_rate(
        annual_soc, temp_c, model, dt_hours=dt_hours, step=step, c_rate_definition=c_rate_definition
    )
    rates = _step_rates(arrays, model)
    n_packs, n_steps = arrays["efc"].shape
    year_days = arrays["dt_days"][0].sum()
    step_end_years = np.cumsum(np.tile(arrays["dt_days"][0], years)) / year_days
    state = FadeState.new(n_packs)
    trajectory = np.empty((n_packs, years * n_steps))
    for y in range(years):
        state, _, _, _, cap = _advance(state, rates, arrays, model)
        trajectory[:, y * n_steps : (y + 1) * n_steps] = cap
    soh = np.hstack([np.ones((n_packs, 1)), trajectory[:, n_steps - 1 :: n_steps]])

    below = trajectory <= retire_at
    reached = below.any(axis=1)
    first = np.argmax(below, axis=1)
    t_prev = np.where(first > 0, step_end_years[np.maximum(first - 1, 0)], 0.0)
    c_prev = np.where(first > 0, trajectory[np.arange(n_packs), np.maximum(first - 1, 0)], 1.0)
    t_hit = step_end_years[first]
    c_hit = trajectory[np.arange(n_packs), first]
    frac = np.divide(c_prev - retire_at, c_prev - c_hit, out=np.ones(n_packs), where=c_prev > c_hit)
    retire_year = np.where(reached, t_prev + frac * (t_hit - t_prev), np.nan)

    year_index = pd.RangeIndex(years + 1, name="year")
    if isinstance(annual_soc, pd.DataFrame):
        return HealthProjection(
            soh=pd.DataFrame(soh.T, index=year_index, columns=annual_soc.columns),
            retire_year=pd.Series(retire_year, index=annual_soc.columns, name="retire_year"),
            retire_at=retire_at,
        )
    return HealthProjection(
        soh=pd.Series(soh[0], index=year_index, name="soh"),
        retire_year=float(retire_year[0]),
        retire_at=retire_at,
    )
