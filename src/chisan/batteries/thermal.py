"""Pack temperature of a parked car from a published thermal network: LBNL V2G-Sim's cabin and pack nodes.

The model (V2G-Sim [1]_, ``v2gsim/battery_degradation/BDcore.py``, ``idle_temperature`` and
``charging_temperature``) treats the cabin and the pack as two lumped thermal masses coupled to the air and to
each other; the sun heats the cabin, the pack's own heat is ``R·I²``. While the car is parked and idle no thermal
management runs (V2G-Sim's own assumption, "key-off, so AC and thermal management system do not work")::

    M_c dT_c/dt = K_ac (T_a - T_c) + K_bc (T_b - T_c) + Q_sun        (cabin)
    M_b dT_b/dt = K_ab (T_a - T_b) + K_bc (T_c - T_b) + Q_pack       (pack)

Not modelled: V2G-Sim's pack cooling while driving or charging above 20 °C (``354·(T_b - 20)`` W) and its cabin
A/C while driving (4,500 W above 25 °C); chisan's pack is passively cooled, as the LEAF's, so for an actively cooled
pack (the bZ4X's liquid loop) the charging hours of a warm day come out warmer than V2G-Sim would make them.

V2G-Sim integrates this second by second with forward Euler. chisan steps it by the planning step (an hour)
exactly: with the inputs held over the step (zero-order hold) the 2×2 system splits into its two modes, each a
first-order filter run over the whole year at once by :func:`scipy.signal.lfilter` (no loop over hours), and
each step's temperature is the exact mean over the step. ``tests/batteries/test_battery_thermal.py`` checks it
against V2G-Sim's own per-second update.

V2G-Sim gives no conversion from irradiance to the heat the cabin absorbs (its input ``rad`` is in W). chisan
takes it from a measurement of parked cars: McLaren, Null & Quinn [2]_ measured, in a dark sedan on 16 clear
sunny days at 22-36 °C air, a rise of the cabin air of about 40 °F (22.2 K) in 60 minutes, 80 % of it in the
first 30 minutes (so within a few percent of the equilibrium after an hour). The cabin's steady-state rise per
watt in V2G-Sim's network is ``(K_ab + K_bc) / ((K_ac + K_bc)(K_ab + K_bc) - K_bc²)`` = 0.0408 K/W, so 22.2 K is
about 545 W absorbed (:func:`cabin_solar_heat_w`). That the clear sunny days of [2]_ stood at 1 kW/m² on the
horizontal, and that the absorbed heat scales with the hour's global horizontal irradiance, are chisan's
assumptions (:data:`CABIN_SOLAR_RISE_C_AT_1_KW_PER_M2`).

References
----------
.. [1] V2G-Sim, Lawrence Berkeley National Laboratory, repository Samveg/V2G-Sim-beta, read 2026-12-04:
   ``v2gsim/battery_degradation/BatteryDegradation.py`` (commit 2bf8da5; ``coefTemp``, ``R = 0.15``, charging
   current = power / 380) and ``v2gsim/battery_degradation/BDcore.py`` (commit 739fa09; the update equations).
.. [2] C. McLaren, J. Null, J. Quinn (2005), Heat stress from enclosed vehicles: moderate ambient temperatures
   cause significant temperature rise in enclosed vehicles, Pediatrics 116(1):e109-e112,
   https://doi.org/10.1542/peds.2004-2368 (abstract, read 2026-12-04 at
   https://studylib.net/doc/18206510/heat-stress-from-enclosed-vehicles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from chisan.exceptions import ScenarioError

SECONDS_PER_HOUR: float = 3600.0


@dataclass(frozen=True)
class TwoNodeNetwork:
    """Cabin and pack as two lumped thermal masses (V2G-Sim [1]_ ``coefTemp``).

    Attributes
    ----------
    cabin_heat_capacity_j_per_k, pack_heat_capacity_j_per_k : float
        ``M_c``, ``M_b`` [J/K].
    pack_air_conductance_w_per_k, cabin_air_conductance_w_per_k, cabin_pack_conductance_w_per_k : float
        ``K_ab``, ``K_ac``, ``K_bc`` [W/K].
    """

    cabin_heat_capacity_j_per_k: float
    pack_heat_capacity_j_per_k: float
    pack_air_conductance_w_per_k: float
    cabin_air_conductance_w_per_k: float
    cabin_pack_conductance_w_per_k: float

    def conductance_matrix_w_per_k(self) -> np.ndarray:
        """``G`` [W/K] of ``C dT/dt = -G T + (heat from the air and the sources)``, T = (cabin, pack)."""
        k_ab, k_ac, k_bc = (
            self.pack_air_conductance_w_per_k,
            self.cabin_air_conductance_w_per_k,
            self.cabin_pack_conductance_w_per_k,
        )
        return np.array([[k_ac + k_bc, -k_bc], [-k_bc, k_ab + k_bc]])

    def state_matrix_per_s(self) -> np.ndarray:
        """``A = -C⁻¹ G`` [1/s] of ``dT/dt = A T + C⁻¹ q``."""
        capacity = np.array([self.cabin_heat_capacity_j_per_k, self.pack_heat_capacity_j_per_k])
        return -self.conductance_matrix_w_per_k() / capacity[:, None]

    def steady_rise_k_per_w(self) -> np.ndarray:
        """Steady-state rise above the air [K/W]: ``G⁻¹``; column 0 = heat into the cabin, 1 = into the pack.

        V2G-Sim's network, by hand: det G = 26.068 · 7.811 - 3.468² = 191.59 W²/K²; heat into the cabin raises the
        cabin 7.811 / 191.59 = 0.0408 K/W and the pack 3.468 / 191.59 = 0.0181 K/W; heat into the pack raises it
        26.068 / 191.59 = 0.136 K/W.
        """
        return np.linalg.inv(self.conductance_matrix_w_per_k())

    def time_constants_h(self) -> np.ndarray:
        """The two time constants [h], shortest first: ``-1 / eigenvalues(A)`` (V2G-Sim: 1.1 h and 7.0 h)."""
        return np.sort(-1.0 / np.linalg.eigvals(self.state_matrix_per_s()).real) / SECONDS_PER_HOUR


V2G_SIM_NETWORK = TwoNodeNetwork(
    cabin_heat_capacity_j_per_k=101_771.0,  # V2G-Sim [1]_ coefTemp 'M_c'
    pack_heat_capacity_j_per_k=182_000.0,  # 'M_b'
    pack_air_conductance_w_per_k=4.343,  # 'K_ab'
    cabin_air_conductance_w_per_k=22.6,  # 'K_ac'
    cabin_pack_conductance_w_per_k=3.468,  # 'K_bc'
)
"""LBNL V2G-Sim's cabin/pack network [1]_ (a passively cooled pack while parked)."""

V2G_SIM_PACK_RESISTANCE_OHM: float = 0.15
"""Pack resistance of the heat ``R·I²`` [Ω], V2G-Sim [1]_ ``R = 0.15``."""

V2G_SIM_PACK_VOLTAGE_V: float = 380.0
"""Pack voltage converting charging power to current [V], V2G-Sim [1]_ ``-power / 380``."""

CABIN_SOLAR_RISE_C_AT_1_KW_PER_M2: float = 22.2
"""Equilibrium rise of the cabin air of a closed car parked in full sun [K]: McLaren et al. [2]_, about 40 °F
after 60 minutes on clear sunny days (80 % of it within 30 minutes); taken at 1 kW/m² (chisan's assumption)."""

DEFAULT_CHARGE_POWER_KW: float = 6.0
"""AC charging power of the heat while charging [kW]: a Japanese 200 V / 30 A normal charger (the catalogue's cars
charge at 3.0-6.6 kW, chisan.catalogue.vehicles)."""


def cabin_solar_heat_w(
    ghi_w_per_m2: np.ndarray,
    *,
    cabin_rise_c_at_1_kw_per_m2: float = CABIN_SOLAR_RISE_C_AT_1_KW_PER_M2,
    network: TwoNodeNetwork = V2G_SIM_NETWORK,
) -> np.ndarray:
    """Solar heat absorbed by a parked car's cabin [W], proportional to the global horizontal irradiance.

    ``Q_sun = cabin_rise / G⁻¹[cabin, cabin] · GHI / (1000 W/m²)``: the heat that holds the network's cabin at
    ``cabin_rise_c_at_1_kw_per_m2`` above the air in 1 kW/m² (V2G-Sim [1]_, McLaren et al. [2]_: 22.2 K /
    0.0408 K/W = 545 W).
    """
    if not (np.isfinite(cabin_rise_c_at_1_kw_per_m2) and 0.0 <= cabin_rise_c_at_1_kw_per_m2 <= 80.0):
        raise ScenarioError(
            f"[batteries] cabin_solar_rise_c = {cabin_rise_c_at_1_kw_per_m2!r}; allowed: a number of °C in [0, 80]."
        )
    per_w = float(network.steady_rise_k_per_w()[0, 0])
    sun = np.clip(np.asarray(ghi_w_per_m2, dtype=float), 0.0, None) / 1000.0
    return cabin_rise_c_at_1_kw_per_m2 / per_w * sun


def charging_heat_w(charge_power_kw: float | np.ndarray) -> np.ndarray:
    """Heat of the pack while charging [W]: ``R·I²`` with ``I = P / V`` (V2G-Sim [1]_; 37 W at 6 kW)."""
    current_a = np.asarray(charge_power_kw, dtype=float) * 1000.0 / V2G_SIM_PACK_VOLTAGE_V
    return V2G_SIM_PACK_RESISTANCE_OHM * current_a**2


def two_node_temperatures(
    temp_air_c: np.ndarray,
    cabin_heat_w: np.ndarray,
    pack_heat_w: np.ndarray,
    *,
    dt_hours: float,
    network: TwoNodeNetwork = V2G_SIM_NETWORK,
) -> tuple[np.ndarray, np.ndarray]:
    """Cabin and pack temperature of each car, step by step, from the two-node network [°C].

    Inputs are held over each step; the result is the exact mean over the step. The network starts in
    equilibrium with the first step's inputs. Vectorised: each of the two modes is a first-order filter
    (:func:`scipy.signal.lfilter` along time), all cars at once.

    Parameters
    ----------
    temp_air_c : numpy.ndarray
        Air temperature [°C], shape (T,).
    cabin_heat_w, pack_heat_w : numpy.ndarray
        Heat into the cabin (sun) and into the pack (``R·I²``) [W], shape (T, N) or broadcastable to it.
    dt_hours : float
        Step [h].
    network : TwoNodeNetwork
        Default V2G-Sim's [1]_.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Cabin and pack temperature [°C], each (T, N).
    """
    air = np.asarray(temp_air_c, dtype=float)[:, None]
    q_cab, q_pack = np.asarray(cabin_heat_w, dtype=float), np.asarray(pack_heat_w, dtype=float)
    shape = np.broadcast_shapes(air.shape, q_cab.shape, q_pack.shape)
    capacity = (network.cabin_heat_capacity_j_per_k, network.pack_heat_capacity_j_per_k)
    # forcing C⁻¹ q [K/s] of each node, q = heat from the air + the sources
    f_cab = (network.cabin_air_conductance_w_per_k * air + q_cab) / capacity[0]
    f_pack = (network.pack_air_conductance_w_per_k * air + q_pack) / capacity[1]
    a = network.state_matrix_per_s()
    eigenvalues, vectors = np.linalg.eig(a)
    eigenvalues, vectors = eigenvalues.real, vectors.real  # C⁻¹G is similar to a symmetric matrix: real modes
    inverse = np.linalg.inv(vectors)
    first = np.stack([np.broadcast_to(f[0], shape[1:]) for f in (f_cab, f_pack)], axis=-1)  # (N, 2)
    start = -np.linalg.solve(a, first.T).T  # equilibrium of the first step, (N, 2)
    dt_s = float(dt_hours) * SECONDS_PER_HOUR
    cabin = np.zeros(shape)
    pack = np.zeros(shape)
    for mode in range(2):  # the two modes, not the hours
        beta = np.broadcast_to(inverse[mode, 0] * f_cab + inverse[mode, 1] * f_pack, shape)  # modal forcing
        lam = eigenvalues[mode]
        decay = np.exp(lam * dt_s)
        gain = (decay - 1.0) / lam  # z[k+1] = decay z[k] + gain beta[k]
        z0 = start @ inverse[mode]
        z = lfilter([0.0, gain], [1.0, -decay], beta, axis=0, zi=z0[None, :])[0]
        c1 = (decay - 1.0) / (lam * dt_s)  # mean over the step of the exact solution
        mean = c1 * z + (c1 - 1.0) / lam * beta
        cabin += vectors[0, mode] * mean
        pack += vectors[1, mode] * mean
    return cabin, pack
