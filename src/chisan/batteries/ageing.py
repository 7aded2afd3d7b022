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

Published parameter sets are named constants; :func:`ageing_model` looks a model up by name:

===================  ======================================================================  =========
name                 cell and source                                                         chemistry
===================  ======================================================================  =========
``nmc111_kokam``     Kokam 75 Ah NMC111|graphite pouch, Smith et al. 2017 [1]_               NMC111
``lfp_250ah``        250 Ah LFP|graphite prismatic, Gasper et al. 2023 [2]_                  LFP
``lfp_naumann``      Sony/Murata 3 Ah LFP|graphite 26650, Naumann et al. 2018, 2020 [4]_ [5]_  LFP
``nmc811_lgmj1``     LG MJ1 3.5 Ah NMC811|graphite-Si 18650, EVERLASTING D2.3 data [8]_        NMC811
``nca_panasonic``    Panasonic NCR18650B 3.2 Ah NCA|graphite, Keil 2016, Preger 2020 [9]_ [10]_  NCA
``lmo_nissan_leaf``  used Nissan Leaf 66 Ah LMO|graphite half-modules, Braco 2020, 2022 [11]_     LMO
``nmc622_denso``     DENSO 50 Ah NMC622|graphite EV cells, Smith et al. 2021 [12]_                NMC622
===================  ======================================================================  =========

The last three are BLAST-Lite's fits [3]_ of the cited data (NREL, P. Gasper), one law for each:
``q_cal = A exp(B/T) exp(C SOC/T) · t^p`` (t in days, no anode potential) and ``q_cyc = (A + B·Crate +
C·DoD)(exp(D/T) + exp(-E/T)) · EFC^p`` (see :func:`blast_soc_calendar_rate`, :func:`blast_linear_cycle_rate`).
``lmo_nissan_leaf`` is a second-life model: its relative capacity is relative to the module's capacity when
its second life began (about 70 % of new in the data [11]_), and its cycle fade depends on throughput only.

The equations and parameter values of the first two models were read from the source of BLAST-Lite
1.1.1 (NREL, https://github.com/NREL/BLAST-Lite; BSD-3-Clause per its LICENSE file, "Apache Software
License" per its PyPI classifier), which implements the published models; they are re-implemented here, not
copied. They reproduce the BLAST-Lite 1.1 reference values in ``shared/data/battery_reference`` to better
than 0.002 relative capacity (``tests/batteries``); for the LFP cycling rows with the rate stressor BLAST-Lite
computed for them, which is half the C-rate (see :func:`lfp_250ah_cycle_rate` for why).

The stress factors (``dt_days, efc, dod, c_rate, mean_soc, temp_c``) come from
:func:`chisan.batteries.cycles.stress_factors`.

References
----------
.. [1] K. Smith, A. Saxon, M. Keyser, B. Lundstrom, Z. Cao, A. Roc (2017), Life prediction model for
   grid-connected Li-ion battery energy storage system, 2017 American Control Conference (ACC), 4062-4068.
   doi:10.23919/ACC.2017.7963578
.. [2] P. Gasper et al. (2023), Degradation and modeling of large-format commercial lithium-ion cells as a
   function of chemistry, design, and aging conditions, Journal of Energy Storage 73, 109042.
   doi:10.1016/j.est.2023.109042
.. [3] P. Gasper, N. Prakash, K. Smith (2023), BLAST-Lite 1.1, NREL software SWR-22-69,
   https://github.com/NREL/BLAST-Lite
.. [4] M. Naumann, M. Schimpe, P. Keil, H. C. Hesse, A. Jossen (2018), Analysis and modeling of calendar aging
   of a commercial LiFePO4/graphite cell, Journal of Energy Storage 17, 153-169. doi:10.1016/j.est.2018.01.019
.. [5] M. Naumann, F. B. Spingler, A. Jossen (2020), Analysis and modeling of cycle aging of a commercial
   LiFePO4/graphite cell, Journal of Power Sources 451, 227666. doi:10.1016/j.jpowsour.2019.227666
.. [6] M. Safari, C. Delacourt (2011), Modeling of a commercial graphite/LiFePO4 cell, Journal of the
   Electrochemical Society 158(5), A562. doi:10.1149/1.3567007
.. [7] M. Schimpe, M. E. von Kuepach, M. Naumann, H. C. Hesse, K. Smith, A. Jossen (2018), Comprehensive
   modeling of temperature-dependent degradation mechanisms in lithium iron phosphate batteries, Journal of
   the Electrochemical Society 165(2), A181. doi:10.1149/2.1181714jes
.. [8] EVERLASTING project (2020), Deliverable D2.3, ageing tests of LG INR18650 MJ1 cells,
   https://everlasting-project.eu/wp-content/uploads/2020/03/EVERLASTING_D2.3_final_20200228.pdf; model in
   BLAST-Lite ``blast/models/nmc811_grSi_LGMJ1_4Ah_2020.py``, class ``Nmc811_GrSi_LGMJ1_4Ah_Battery``.
.. [9] P. Keil, S. F. Schuster, J. Wilhelm, J. Travi, A. Hauser, R. C. Karl, A. Jossen (2016), Calendar aging
   of lithium-ion batteries, Journal of the Electrochemical Society 163(9), A1872. doi:10.1149/2.0411609jes
.. [10] Y. Preger et al. (2020), Degradation of commercial lithium-ion cells as a function of chemistry and
   cycling conditions, Journal of the Electrochemical Society 167, 120532. doi:10.1149/1945-7111/abae37; model
   in BLAST-Lite ``blast/models/nca_gr_Panasonic3Ah_2018.py``, class ``Nca_Gr_Panasonic3Ah_Battery``.
.. [11] E. Braco, I. San Martín, A. Berrueta, P. Sanchis, A. Ursúa (2020), Experimental assessment of cycling
   ageing of lithium-ion second-life batteries from electric vehicles, Journal of Energy Storage 32, 101695.
   doi:10.1016/j.est.2020.101695 (cycling), and Braco et al. (2022), doi:10.1109/EEEIC/ICPSEUROPE54979.2022.9854784
   (calendar); model in BLAST-Lite ``blast/models/lmo_gr_NissanLeaf66Ah_2ndLife_2020.py``, class
   ``Lmo_Gr_NissanLeaf66Ah_2ndLife_Battery``.
.. [12] K. Smith, P. Gasper, A. M. Colclasure, Y. Shimonishi, S. Yoshida (2021), Lithium-ion battery life model
   with electrode cracking and early-life break-in processes, Journal of the Electrochemical Society 168, 100530.
   doi:10.1149/1945-7111/ac2ebd; model in BLAST-Lite ``blast/models/nmc622_gr_DENSO50Ah_2021.py``, class
   ``Nmc622_Gr_DENSO50Ah_Battery`` (its break-in terms are switched off there, and here).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from chisan.batteries import cycles
from chisan.exceptions import ScenarioError
from chisan.units import KELVIN_OFFSET

GAS_CONSTANT_J_PER_MOL_K: float = 8.314462618
"""Molar gas constant R [J/(mol K)] (CODATA 2018)."""

SECONDS_PER_DAY: float = 86400.0

NMC111_KOKAM_PARAMETERS: Mapping[str, float] = MappingProxyType(
    {
        # Calendar loss of lithium inventory (LLI): q1 [1/day^q2]
        "q1_0": 2.66e7,
        "q1_1": -17.8,
        "q1_2": -5.21,
        "q2": 0.357,
        # Cycling LLI: q3 [1/EFC^q4]
        "q3_0": 3.80e3,
        "q3_1": -18.4,
        "q3_2": 1.04,
        "q4": 0.778,
        # Cycling loss of active material (LAM), sigmoid: q5 [EFC] and its exponent
        "q5_0": 1e4,
        "q5_1": 153.0,
        "p_lam": 10.0,
        "lam_offset": 0.01,
    }
)
"""Kokam 75 Ah NMC111|graphite model of Smith et al. 2017 [1]_ (values as in BLAST-Lite 1.1 [3]_)."""

LFP_250AH_PARAMETERS: Mapping[str, float] = MappingProxyType(
    {
        # Calendar: kcal [1/day^pcal]
        "p1": 8.37e4,
        "p2": -5.21e3,
        "p3": -3.56e3,
        "pcal": 0.526,
        # Cycling: kcyc [1/EFC^pcyc]
        "p4": 4.38e-8,
        "p5": 1.55e-8,
        "p6": 1.68e-7,
        "p7": 2.19e3,
        "p8": 1.55e5,
        "pcyc": 0.828,
    }
)
"""Large-format 250 Ah LFP|graphite prismatic model of Gasper et al. 2023 [2]_ (values as in BLAST-Lite)."""

NAUMANN_LFP_PARAMETERS: Mapping[str, float] = MappingProxyType(
    {
        # Calendar [4]: k_cal,ref [1/s^0.5], activation energy [J/mol], SOC polynomial
        "k_cal_ref": 1.2571e-5,
        "ea_cal_j_per_mol": 17126.0,
        "temp_ref_k": 298.15,
        "c_soc_3": 2.8575,
        "c_soc_0": 0.60225,
        "p_cal": 0.5,
        # Cycle [5], loss in percent: (a_c C + b_c)(a_d (DoD - 0.6)^3 + b_d) sqrt(FEC)
        "a_c": 0.0630,
        "b_c": 0.0971,
        "a_d": 4.0253,
        "b_d": 1.0923,
        "p_cyc": 0.5,
    }
)
"""Naumann et al. LFP|graphite calendar [4]_ and cycle [5]_ ageing model (DESIGN.md §7)."""

# The three BLAST-Lite fits below: values of ``_params_life`` in BLAST-Lite's sources [3]_ (NREL/BLAST-Lite,
# commit 039b74dce80fd09162c1a28b9e7abae15e93ce32), file and class named in each docstring. qcal_A [1/day^qcal_p],
# qcal_B and qcal_C [K], qcyc_A..qcyc_C [1/EFC^qcyc_p], qcyc_D and qcyc_E [K].

NMC811_LGMJ1_PARAMETERS: Mapping[str, float] = MappingProxyType(
    {
        "qcal_A": 0.0353,
        "qcal_B": -1.03e3,
        "qcal_C": 57.7,
        "qcal_p": 0.743,
        "qcyc_A": 1.77e-7,
        "qcyc_B": 8.08e-13,
        "qcyc_C": 2.21e-7,
        "qcyc_D": 2.25e3,
        "qcyc_E": 1.14e4,
        "qcyc_p": 0.695,
    }
)
"""LG MJ1 NMC811|Gr-Si 18650 [8]_: BLAST-Lite ``blast/models/nmc811_grSi_LGMJ1_4Ah_2020.py``,
``Nmc811_GrSi_LGMJ1_4Ah_Battery._params_life``. Tested 0-50 °C, DoD 0.2-0.8 (all cycling at 80 % DoD), SOC
0.1-0.9, up to 1 C charge and 3 C discharge; no knee is modelled."""

NCA_PANASONIC_PARAMETERS: Mapping[str, float] = MappingProxyType(
    {
        "qcal_A": 75.4,
        "qcal_B": -3.34e3,
        "qcal_C": 353.0,
        "qcal_p": 0.512,
        "qcyc_A": 1.86e-6,
        "qcyc_B": 4.74e-11,
        "qcyc_C": 1.77e-4,
        "qcyc_D": 3.34e-11,
        "qcyc_E": 2.81e-9,
        "qcyc_p": 0.699,
    }
)
"""Panasonic NCR18650B NCA|graphite [9]_ [10]_: BLAST-Lite ``blast/models/nca_gr_Panasonic3Ah_2018.py``,
``Nca_Gr_Panasonic3Ah_Battery._params_life``. Cycle tests 15-35 °C, DoD 0.8-1, up to 0.5 C charge and 2 C
discharge; the fitted D and E are so small that the cycling rate is, in effect, independent of temperature
(``exp(D/T) + exp(-E/T) = 2``), which BLAST-Lite warns may be optimistic outside 25-45 °C."""

LMO_NISSAN_LEAF_PARAMETERS: Mapping[str, float] = MappingProxyType(
    {
        "qcal_A": 3.25e8,
        "qcal_B": -7.58e3,
        "qcal_C": 162.0,
        "qcal_p": 0.464,
        "qcyc_A": 7.58e-5,
        "qcyc_p": 1.08,
    }
)
"""Used Nissan Leaf 66 Ah LMO|graphite half-modules (second life) [11]_: BLAST-Lite
``blast/models/lmo_gr_NissanLeaf66Ah_2ndLife_2020.py``, ``Lmo_Gr_NissanLeaf66Ah_2ndLife_Battery._params_life``.
Cycle fade ``7.58e-5 · EFC^1.08`` whatever the stress (tested at 25 °C, 100 % DoD, 1 C only, see
:func:`lmo_nissan_leaf_cycle_rate`)."""


NMC622_DENSO_PARAMETERS: Mapping[str, float] = MappingProxyType(
    {
        # Calendar: b1t [1/day^0.5] = Arrhenius(Ea) · polynomial in SOC (and SOC · T, and T above 55 °C)
        "b1t_Ea": 37000.0,
        "b1t_0": -0.000197,
        "b1t_1": 0.0101,
        "b1t_2": -0.0157,
        "b1t_3": 0.00835,
        "b1t_4": -4.06e-6,
        "b1t_5": 3.32e-5,
        # Cycling: b1N [-] on sqrt(DoD · Cchg) and DoD^6; cycle fade rate b1t · b1N · b1N_4 [1/EFC^0.5]
        "b1N_Ea_1": -58000.0,
        "b1N_0": 3.24,
        "b1N_1": 2.1,
        "b1N_2": -0.099,
        "b1N_3": 1.44,
        "b1N_Ea_2": -13000.0,
        "b1N_4": 0.985,
        "p": 0.5,
        "gas_constant": 8.3144,  # as in BLAST-Lite's arrhenius()
    }
)
"""DENSO 50 Ah NMC622|graphite EV cells [12]_: BLAST-Lite ``blast/models/nmc622_gr_DENSO50Ah_2021.py``,
``Nmc622_Gr_DENSO50Ah_Battery._params_life``. Calendar tests 10-60 °C, 10-100 % SOC; cycling 10-60 °C at 50 %
mean SOC, 1 C discharge, charge up to 1 C; no knee observed or modelled."""


# --- graphite anode potential -------------------------------------------------------------------------------


def anode_potential(soc: Any) -> np.ndarray:
    """Graphite anode open-circuit potential vs Li/Li+ [V] at a cell state of charge.

    The anode lithiation is ``x_a = 0.0085 + SOC (0.78 - 0.0085)`` (stoichiometry of Schimpe et al. [7]_) and
    the potential the fit of Safari & Delacourt [6]_; BLAST-Lite [3]_ uses the same pair for every cell.

    Parameters
    ----------
    soc : array-like
        State of charge [fraction].

    Returns
    -------
    numpy.ndarray
        Anode potential [V].
    """
    xa = 8.5e-3 + np.asarray(soc, dtype=float) * (0.78 - 8.5e-3)  # lithiation fraction, [7]
    return (  # graphite open-circuit potential fit of [6]
        0.6379
        + 0.5416 * np.exp(-305.5309 * xa)
        + 0.044 * np.tanh(-(xa - 0.1958) / 0.1088)
        - 0.1978 * np.tanh((xa - 1.0571) / 0.0854)
        - 0.6875 * np.tanh((xa + 0.0117) / 0.0529)
        - 0.0175 * np.tanh((xa - 0.5692) / 0.0875)
    )


_UA_GRID_POINTS = 20001
_UA_GRID_V = anode_potential(np.linspace(0.0, 1.0, _UA_GRID_POINTS))
_UA_GRID_SLOPE = np.diff(_UA_GRID_V)


def _anode_potential_fast(soc: np.ndarray) -> np.ndarray:
    """:func:`anode_potential` interpolated on a uniform 5e-5 SOC grid (error < 1e-6 V), for speed."""
    position = np.clip(soc, 0.0, 1.0) * (_UA_GRID_POINTS - 1)
    cell = np.minimum(position.astype(np.intp), _UA_GRID_POINTS - 2)
    return _UA_GRID_V[cell] + (position - cell) * _UA_GRID_SLOPE[cell]


# --- Kokam NMC111 (Smith et al. 2017) ---------------------------------------------------------------------


def kokam_nmc111_calendar_rate(
    temp_c: Any, soc: Any, params: Mapping[str, float] = NMC111_KOKAM_PARAMETERS
) -> np.ndarray:
    """Calendar fade rate of the Kokam NMC111 model, ``q_cal = q1 · t^q2`` with t in days.

    Parameters
    ----------
    temp_c : array-like
        Cell temperature [°C].
    soc : array-like
        State of charge [fraction].
    params : mapping, default :data:`NMC111_KOKAM_PARAMETERS`

    Returns
    -------
    numpy.ndarray
        ``q1`` [1/day^q2].
    """
    temp_n = (np.asarray(temp_c, dtype=float) + KELVIN_OFFSET) / (KELVIN_OFFSET + 35.0)  # T / 308.15 K, [1]
    ua_n = _anode_potential_fast(np.asarray(soc, dtype=float)) / 0.123  # Ua / 0.123 V, [1]
    # Arrhenius and Tafel terms of the calendar LLI rate, [1] (as in BLAST-Lite [3])
    return params["q1_0"] * np.exp(params["q1_1"] / temp_n + params["q1_2"] * ua_n / temp_n)


def kokam_nmc111_cycle_rate(
    temp_c: Any,
    dod: Any,
    c_rate: Any = 0.0,
    mean_soc: Any = 0.5,
    params: Mapping[str, float] = NMC111_KOKAM_PARAMETERS,
) -> np.ndarray:
    """Cycling fade rate (loss of lithium inventory) of the Kokam NMC111 model, ``q_cyc = q3 · EFC^q4``.

    The model has no C-rate dependence [1]_; ``c_rate`` and ``mean_soc`` are accepted for a common signature.

    Returns
    -------
    numpy.ndarray
        ``q3`` [1/EFC^q4].
    """
    temp_n = (np.asarray(temp_c, dtype=float) + KELVIN_OFFSET) / (KELVIN_OFFSET + 35.0)
    dod = np.asarray(dod, dtype=float)
    # Arrhenius term and depth-of-discharge term exp(q3_2 exp(DoD^2)), [1]
    return params["q3_0"] * np.exp(params["q3_1"] / temp_n + params["q3_2"] * np.exp(dod**2))


def kokam_nmc111_lam_scale(
    temp_c: Any, dod: Any, mean_soc: Any, params: Mapping[str, float] = NMC111_KOKAM_PARAMETERS
) -> np.ndarray:
    """Throughput scale ``q5`` [EFC] of the sigmoidal loss of active material of the Kokam NMC111 model.

    ``q_LAM = 2 (1/2 - 1/(1 + exp((EFC/q5)^p)))`` and the relative capacity is ``min(q_LLI, 1.01 - q_LAM)``
    [1]_. The linear law ``q5 = 1e4 + 153 (T - 55) DoD (SOC/0.6)`` was fitted to cycling at 0-55 °C, 80-100 %
    DoD and mean SOC up to about 0.6 (BLAST-Lite's summary of the test matrix [3]_). Outside that range it can
    fall to a few EFC or below zero (a car parked full in winter after one deep trip: 2 °C, DoD 0.9, mean SOC
    0.9 gives 1e4 - 153 · 53 · 0.9 · 1.5 < 0), and a single such day would destroy the pack. ``q5`` is
    therefore held at :data:`KOKAM_LAM_SCALE_FLOOR_EFC`, its value at the harshest tested corner (0 °C, DoD 1,
    SOC 0.6), with a warning.
    """
    temp_c = np.asarray(temp_c, dtype=float)
    q5 = params["q5_0"] + params["q5_1"] * (temp_c - 55.0) * np.asarray(dod) * (np.asarray(mean_soc) / 0.6)  # [1]
    floor = params["q5_0"] + params["q5_1"] * (0.0 - 55.0) * 1.0 * (0.6 / 0.6)  # harshest tested corner
    if np.any(q5 < floor):
        warnings.warn(
            f"Kokam NMC111 LAM scale q5 below {floor:,.0f} EFC (cold, deep cycling at high mean SOC: outside "
            f"the tested 0-55 °C, DoD <= 1, SOC <= 0.6 range); held at {floor:,.0f} EFC",
            stacklevel=2,
        )
        q5 = np.maximum(q5, floor)
    return q5


KOKAM_LAM_SCALE_FLOOR_EFC: float = NMC111_KOKAM_PARAMETERS["q5_0"] + NMC111_KOKAM_PARAMETERS["q5_1"] * (-55.0)
"""Smallest ``q5`` of :func:`kokam_nmc111_lam_scale` [EFC]: 1e4 + 153 · (0 - 55) · 1 · (0.6 / 0.6) = 1,585 EFC,
the value at the harshest corner of the tests (0 °C, DoD 1, mean SOC 0.6)."""


# --- LFP 250 Ah prismatic (Gasper et al. 2023) ------------------------------------------------------------


def lfp_250ah_calendar_rate(temp_c: Any, soc: Any, params: Mapping[str, float] = LFP_250AH_PARAMETERS) -> np.ndarray:
    """Calendar fade rate of the 250 Ah LFP model [2]_, ``q_cal = kcal · t^pcal`` with t in days.

    Returns
    -------
    numpy.ndarray
        ``kcal`` [1/day^pcal].
    """
    temp_k = np.asarray(temp_c, dtype=float) + KELVIN_OFFSET
    ua = _anode_potential_fast(np.asarray(soc, dtype=float))
    # kcal = |p1| exp(p2/T) exp(p3 Ua/T), [2]
    return abs(params["p1"]) * np.exp((params["p2"] + params["p3"] * ua) / temp_k)


def lfp_250ah_cycle_rate(
    temp_c: Any,
    dod: Any,
    c_rate: Any,
    mean_soc: Any = 0.5,
    params: Mapping[str, float] = LFP_250AH_PARAMETERS,
) -> np.ndarray:
    """Cycling fade rate of the 250 Ah LFP model [2]_, ``q_cyc = kcyc · EFC^pcyc``.

    Parameters
    ----------
    temp_c : array-like
        Cell temperature [°C].
    dod : array-like
        Depth of discharge [fraction].
    c_rate : array-like
        Mean absolute C-rate while charging or discharging [1/h] (``c_rate`` of
        :func:`chisan.batteries.cycles.stress_factors`): the model's "average of the charge and discharge
        C-rates" of the cycling tests [2]_, in which the cells cycled without rests.

    Notes
    -----
    BLAST-Lite 1.1.1 [3]_ computes its rate stressor differently: the time average of ``|dSOC/dt|`` over the
    whole update interval, rests included, by ``np.trapz(rate_per_interval, t[1:]) / Δt``, which pairs the
    rate of each sampling interval with the time at its *end*. The reference values in
    ``shared/data/battery_reference`` were made (we re-ran BLAST-Lite 1.1.1 and reproduce all 24 rows to
    < 1e-4) from each daily profile given at its four corner points ``t = 0, DoD/C, 2 DoD/C, 24 h`` with
    ``is_constant_input=True``. The interval rates ``C, C, 0`` then sit at the last three points, and the
    trapezoid gives ``C (DoD/C) + (C + 0)/2 (24 - 2 DoD/C) = 12 C`` [h] over 24 h: a stressor of exactly
    ``C/2`` for any DoD, an artefact of the sampling, not a property of the cycle. A finely sampled profile
    gives BLAST-Lite the whole-day average instead (0.066 for 80 % DoD at 0.5 C, and a fade 0.035 smaller at
    10 years than its own reference). Here the stressor is the C-rate while cycling, as in the tests the model
    was fitted to; the tests reproduce the reference by passing the stressor BLAST-Lite used (C/2).

    Returns
    -------
    numpy.ndarray
        ``kcyc`` [1/EFC^pcyc].
    """
    temp_k = np.asarray(temp_c, dtype=float) + KELVIN_OFFSET
    rate_stressor = np.asarray(c_rate, dtype=float)
    # kcyc = (p4 + p5 DoD + p6 Crate)(exp(p7/T) + exp(-p8/T)), [2]
    return (params["p4"] + params["p5"] * np.asarray(dod, dtype=float) + params["p6"] * rate_stressor) * (
        np.exp(params["p7"] / temp_k) + np.exp(-params["p8"] / temp_k)
    )


# --- Naumann LFP (2018, 2020) -----------------------------------------------------------------------------


def naumann_lfp_calendar_rate(
    temp_c: Any, soc: Any, params: Mapping[str, float] = NAUMANN_LFP_PARAMETERS
) -> np.ndarray:
    """Calendar fade rate of the Naumann LFP model [4]_, converted to ``q_cal = k · t^0.5`` with t in days.

    ``k = k_ref exp(-Ea/R (1/T - 1/T_ref)) (2.8575 (SOC - 0.5)^3 + 0.60225)`` per √s [4]_, times √86400.

    Returns
    -------
    numpy.ndarray
        ``k`` [1/day^0.5]; e.g. 25 °C, SOC 0.5: 1.2571e-5 · 0.60225 · √86400 = 2.2254e-3.
    """
    temp_k = np.asarray(temp_c, dtype=float) + KELVIN_OFFSET
    soc = np.asarray(soc, dtype=float)
    inv_t = 1.0 / temp_k - 1.0 / params["temp_ref_k"]
    arrhenius = np.exp(-params["ea_cal_j_per_mol"] / GAS_CONSTANT_J_PER_MOL_K * inv_t)  # Arrhenius term, [4]
    soc_term = params["c_soc_3"] * (soc - 0.5) ** 3 + params["c_soc_0"]  # SOC dependence of k_cal, [4]
    # per sqrt(s) in [4]; q = k_s sqrt(86400 t_day) = (k_s 86400^p) t_day^p
    return params["k_cal_ref"] * arrhenius * soc_term * SECONDS_PER_DAY ** params["p_cal"]


def naumann_lfp_cycle_rate(
    temp_c: Any,
    dod: Any,
    c_rate: Any,
    mean_soc: Any = 0.5,
    params: Mapping[str, float] = NAUMANN_LFP_PARAMETERS,
) -> np.ndarray:
    """Cycling fade rate of the Naumann LFP model [5]_, ``q_cyc = k · FEC^0.5`` (no temperature term).

    ``k = (0.0630 C + 0.0971)(4.0253 (DoD - 0.6)^3 + 1.0923) / 100`` (the published law is in percent).

    Returns
    -------
    numpy.ndarray
        ``k`` [1/FEC^0.5]; e.g. 1 C, DoD 1: 0.1601 · 1.34992 / 100 = 2.1612e-3.
    """
    c = np.asarray(c_rate, dtype=float)
    dod = np.asarray(dod, dtype=float)
    # C-rate term times DoD term of [5], in percent per sqrt(FEC)
    return (params["a_c"] * c + params["b_c"]) * (params["a_d"] * (dod - 0.6) ** 3 + params["b_d"]) / 100.0


# --- BLAST-Lite fits: NMC811 LG MJ1, NCA Panasonic, second-life Nissan Leaf -------------------------------


def blast_soc_calendar_rate(temp_c: Any, soc: Any, params: Mapping[str, float]) -> np.ndarray:
    """Calendar fade rate of BLAST-Lite's SOC-based fits [3]_, ``q_cal = k_cal · t^qcal_p`` with t in days.

    ``k_cal = qcal_A exp(qcal_B / T) exp(qcal_C SOC / T)`` (``update_rates`` of BLAST-Lite's
    ``Nmc811_GrSi_LGMJ1_4Ah_Battery``, ``Nca_Gr_Panasonic3Ah_Battery`` and
    ``Lmo_Gr_NissanLeaf66Ah_2ndLife_Battery``): the SOC itself, not the anode potential, sets the rate.

    Parameters
    ----------
    temp_c : array-like
        Cell temperature [°C].
    soc : array-like
        State of charge [fraction].
    params : mapping
        :data:`NMC811_LGMJ1_PARAMETERS`, :data:`NCA_PANASONIC_PARAMETERS` or :data:`LMO_NISSAN_LEAF_PARAMETERS`.

    Returns
    -------
    numpy.ndarray
        ``k_cal`` [1/day^qcal_p]; e.g. LG MJ1 at 20 °C, SOC 0.5: 0.0353 · exp(-1030/293.15) ·
        exp(28.85/293.15) = 1.1606e-3.
    """
    temp_k = np.asarray(temp_c, dtype=float) + KELVIN_OFFSET
    soc = np.asarray(soc, dtype=float)
    # k_cal = A exp(B/T) exp(C SOC/T), BLAST-Lite [3] (update_rates of the classes named above)
    return params["qcal_A"] * np.exp(params["qcal_B"] / temp_k) * np.exp(params["qcal_C"] * soc / temp_k)


def blast_linear_cycle_rate(
    temp_c: Any,
    dod: Any,
    c_rate: Any,
    mean_soc: Any = 0.5,
    params: Mapping[str, float] = NMC811_LGMJ1_PARAMETERS,
) -> np.ndarray:
    """Cycling fade rate of BLAST-Lite's LG MJ1 and Panasonic NCA fits [3]_, ``q_cyc = k_cyc · EFC^qcyc_p``.

    ``k_cyc = (qcyc_A + qcyc_B Crate + qcyc_C DoD)(exp(qcyc_D / T) + exp(-qcyc_E / T))``, linear in DoD (assumed,
    BLAST-Lite notes there are no data on it) and in C-rate. ``mean_soc`` is accepted for a common signature.

    Parameters
    ----------
    temp_c : array-like
        Cell temperature [°C].
    dod : array-like
        Depth of discharge [fraction].
    c_rate : array-like
        C-rate stressor [1/h] (the C-rate while cycling, as for :func:`lfp_250ah_cycle_rate`). BLAST-Lite takes
        the day's time average instead; for these two cells the C-rate coefficient is 4-5 orders of magnitude
        below the others (8.08e-13 vs 1.77e-7 for the MJ1), so the two definitions give the same fade to
        < 1e-4.

    Notes
    -----
    BLAST-Lite averages ``k_cyc`` over the temperature samples of the step; here it is evaluated at the step's
    mean temperature. The two agree exactly at constant temperature.

    Returns
    -------
    numpy.ndarray
        ``k_cyc`` [1/EFC^qcyc_p].
    """
    temp_k = np.asarray(temp_c, dtype=float) + KELVIN_OFFSET
    dod = np.asarray(dod, dtype=float)
    rate = np.asarray(c_rate, dtype=float)
    # k_cyc = (A + B Crate + C DoD)(exp(D/T) + exp(-E/T)), BLAST-Lite [3] (update_rates)
    return (params["qcyc_A"] + params["qcyc_B"] * rate + params["qcyc_C"] * dod) * (
        np.exp(params["qcyc_D"] / temp_k) + np.exp(-params["qcyc_E"] / temp_k)
    )


def lmo_nissan_leaf_cycle_rate(
    temp_c: Any,
    dod: Any,
    c_rate: Any = 0.0,
    mean_soc: Any = 0.5,
    params: Mapping[str, float] = LMO_NISSAN_LEAF_PARAMETERS,
) -> np.ndarray:
    """Cycling fade rate of the second-life Nissan Leaf model [11]_: the constant ``qcyc_A`` [1/EFC^qcyc_p].

    BLAST-Lite's ``Lmo_Gr_NissanLeaf66Ah_2ndLife_Battery.update_states`` advances the cycle fade with
    ``qcyc_A`` alone, since the cycling data are at one condition (25 °C, 100 % DoD, 1 C) [3]_; the stressors
    are accepted for a common signature and only set the shape of the result.
    """
    shape = np.broadcast(np.asarray(temp_c), np.asarray(dod), np.asarray(c_rate), np.asarray(mean_soc)).shape
    return np.full(shape, params["qcyc_A"])


# --- DENSO NMC622 (Smith et al. 2021) --------------------------------------------------------------------


def _denso_arrhenius(temp_k: np.ndarray, ea: float, params: Mapping[str, float]) -> np.ndarray:
    """``exp(-(Ea/R)(1/T - 1/298.15 K))`` as in BLAST-Lite's ``Nmc622_Gr_DENSO50Ah_Battery.arrhenius`` [12]_."""
    return np.exp(-(ea / params["gas_constant"]) * (1.0 / temp_k - 1.0 / 298.15))


def denso_nmc622_calendar_rate(
    temp_c: Any, soc: Any, params: Mapping[str, float] = NMC622_DENSO_PARAMETERS
) -> np.ndarray:
    """Calendar fade rate of the DENSO NMC622 model [12]_, ``q_cal = b1t · t^0.5`` with t in days.

    ``b1t = Arr(T, 37 kJ/mol) (b0 + b1 SOC + b2 SOC² + b3 SOC³ + b4 SOC·T + b5 max(0, T - 328.15 K))``; BLAST-Lite
    evaluates it at the step's mean SOC and temperature (so does chisan, see ``calendar_at_step_mean``).

    The polynomial is negative below about 2 % SOC (``b0 < 0``); a negative rate leaves the fade unchanged in
    :func:`advance_power_law` (no calendar or cycle fade there), where BLAST-Lite would let it recover.

    Returns
    -------
    numpy.ndarray
        ``b1t`` [1/day^0.5]; e.g. 25 °C, SOC 0.5: -1.97e-4 + 5.05e-3 - 3.925e-3 + 1.044e-3 - 6.05e-4 = 1.366e-3.
    """
    temp_k = np.asarray(temp_c, dtype=float) + KELVIN_OFFSET
    soc = np.asarray(soc, dtype=float)
    p = params
    poly = (  # SOC polynomial of b1t, [12] (BLAST-Lite update_rates)
        p["b1t_0"]
        + p["b1t_1"] * soc
        + p["b1t_2"] * soc**2
        + p["b1t_3"] * soc**3
        + p["b1t_4"] * soc * temp_k
        + p["b1t_5"] * np.maximum(0.0, temp_k - 328.15)
    )
    return _denso_arrhenius(temp_k, p["b1t_Ea"], p) * poly


def denso_nmc622_cycle_rate(
    temp_c: Any,
    dod: Any,
    c_rate: Any,
    mean_soc: Any = 0.5,
    params: Mapping[str, float] = NMC622_DENSO_PARAMETERS,
) -> np.ndarray:
    """Cycling fade rate of the DENSO NMC622 model [12]_, ``q_cyc = b1t · b1N · b1N_4 · EFC^0.5``.

    ``b1N = max(0, b0 Arr(T, -58 kJ/mol) sqrt(DoD · Cchg)(1 + b1 SOC) + b2) + b3 Arr(T, -13 kJ/mol) DoD^6``.

    Parameters
    ----------
    c_rate : array-like
        The charging C-rate while charging [1/h] (``c_rate_charge`` of the stress; the model's ``Cchg``).
    """
    temp_k = np.asarray(temp_c, dtype=float) + KELVIN_OFFSET
    dod = np.asarray(dod, dtype=float)
    soc = np.asarray(mean_soc, dtype=float)
    p = params
    stress = np.sqrt(np.maximum(dod * np.asarray(c_rate, dtype=float), 0.0))
    b1n = (
        np.maximum(  # [12] (BLAST-Lite update_rates)
            0.0,
            p["b1N_0"] * _denso_arrhenius(temp_k, p["b1N_Ea_1"], p) * stress * (1.0 + p["b1N_1"] * soc) + p["b1N_2"],
        )
        + p["b1N_3"] * _denso_arrhenius(temp_k, p["b1N_Ea_2"], p) * dod**6
    )
    return denso_nmc622_calendar_rate(temp_c, soc, p) * b1n * p["b1N_4"]


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


AGEING_MODELS: Mapping[str, AgeingModel] = MappingProxyType(
    {
        "nmc111_kokam": AgeingModel(
            name="nmc111_kokam",
            chemistry="NMC111",
            calendar_rate=partial(kokam_nmc111_calendar_rate, params=NMC111_KOKAM_PARAMETERS),
            calendar_exponent=NMC111_KOKAM_PARAMETERS["q2"],
            cycle_rate=partial(kokam_nmc111_cycle_rate, params=NMC111_KOKAM_PARAMETERS),
            cycle_exponent=NMC111_KOKAM_PARAMETERS["q4"],
            lam_scale=partial(kokam_nmc111_lam_scale, params=NMC111_KOKAM_PARAMETERS),
            lam_exponent=NMC111_KOKAM_PARAMETERS["p_lam"],
            lam_offset=NMC111_KOKAM_PARAMETERS["lam_offset"],
            description="Kokam 75 Ah NMC111|graphite, Smith et al. 2017, doi:10.23919/ACC.2017.7963578",
        ),
        "lfp_250ah": AgeingModel(
            name="lfp_250ah",
            chemistry="LFP",
            calendar_rate=partial(lfp_250ah_calendar_rate, params=LFP_250AH_PARAMETERS),
            calendar_exponent=LFP_250AH_PARAMETERS["pcal"],
            cycle_rate=partial(lfp_250ah_cycle_rate, params=LFP_250AH_PARAMETERS),
            cycle_exponent=LFP_250AH_PARAMETERS["pcyc"],
            description="250 Ah LFP|graphite prismatic, Gasper et al. 2023, doi:10.1016/j.est.2023.109042",
        ),
        "lfp_naumann": AgeingModel(
            name="lfp_naumann",
            chemistry="LFP",
            calendar_rate=partial(naumann_lfp_calendar_rate, params=NAUMANN_LFP_PARAMETERS),
            calendar_exponent=NAUMANN_LFP_PARAMETERS["p_cal"],
            cycle_rate=partial(naumann_lfp_cycle_rate, params=NAUMANN_LFP_PARAMETERS),
            cycle_exponent=NAUMANN_LFP_PARAMETERS["p_cyc"],
            description="LFP|graphite 26650, Naumann et al. 2018 (calendar), 2020 (cycle)",
        ),
        "nmc811_lgmj1": AgeingModel(
            name="nmc811_lgmj1",
            chemistry="NMC811",
            calendar_rate=partial(blast_soc_calendar_rate, params=NMC811_LGMJ1_PARAMETERS),
            calendar_exponent=NMC811_LGMJ1_PARAMETERS["qcal_p"],
            cycle_rate=partial(blast_linear_cycle_rate, params=NMC811_LGMJ1_PARAMETERS),
            cycle_exponent=NMC811_LGMJ1_PARAMETERS["qcyc_p"],
            description="LG MJ1 3.5 Ah NMC811|graphite-Si 18650, BLAST-Lite fit (NREL) of EVERLASTING D2.3 data",
        ),
        "nca_panasonic": AgeingModel(
            name="nca_panasonic",
            chemistry="NCA",
            calendar_rate=partial(blast_soc_calendar_rate, params=NCA_PANASONIC_PARAMETERS),
            calendar_exponent=NCA_PANASONIC_PARAMETERS["qcal_p"],
            cycle_rate=partial(blast_linear_cycle_rate, params=NCA_PANASONIC_PARAMETERS),
            cycle_exponent=NCA_PANASONIC_PARAMETERS["qcyc_p"],
            description=(
                "Panasonic NCR18650B 3.2 Ah NCA|graphite, BLAST-Lite fit (NREL) of Keil et al. 2016 (calendar) "
                "and Preger et al. 2020 (cycle)"
            ),
        ),
        "lmo_nissan_leaf": AgeingModel(
            name="lmo_nissan_leaf",
            chemistry="LMO",
            calendar_rate=partial(blast_soc_calendar_rate, params=LMO_NISSAN_LEAF_PARAMETERS),
            calendar_exponent=LMO_NISSAN_LEAF_PARAMETERS["qcal_p"],
            cycle_rate=partial(lmo_nissan_leaf_cycle_rate, params=LMO_NISSAN_LEAF_PARAMETERS),
            cycle_exponent=LMO_NISSAN_LEAF_PARAMETERS["qcyc_p"],
            description=(
                "Used Nissan Leaf 66 Ah LMO|graphite modules in second life, BLAST-Lite fit (NREL) of Braco et al. "
                "2020, 2022; capacity relative to the start of second life"
            ),
        ),
        "nmc622_denso": AgeingModel(
            name="nmc622_denso",
            chemistry="NMC622",
            calendar_rate=partial(denso_nmc622_calendar_rate, params=NMC622_DENSO_PARAMETERS),
            calendar_exponent=NMC622_DENSO_PARAMETERS["p"],
            cycle_rate=partial(denso_nmc622_cycle_rate, params=NMC622_DENSO_PARAMETERS),
            cycle_exponent=NMC622_DENSO_PARAMETERS["p"],
            description=(
                "DENSO 50 Ah NMC622|graphite EV cells, Smith et al. 2021, doi:10.1149/1945-7111/ac2ebd "
                "(BLAST-Lite's Nmc622_Gr_DENSO50Ah_Battery)"
            ),
            calendar_at_step_mean=True,
            charge_rate_stressor=True,
        ),
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
        """Relative capacity [fraction]: ``1 - s (q_cal + q_cyc)``, limited by LAM where the model has it [1]_.

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
