"""Published cell ageing models: parameter tables and stress laws (rates) of each chemistry.

The tables are named constants and the rate functions take them as ``params``; :mod:`chisan.batteries.ageing`
binds them into :class:`~chisan.batteries.ageing.AgeingModel` objects (``AGEING_MODELS``) and advances the fade
state; the public names of this module are re-exported there.

Published parameter sets are named constants; :func:`chisan.batteries.ageing.ageing_model` looks a model up by
name:

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
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

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
