"""Pack temperature from LBNL V2G-Sim's cabin/pack network: its published constants, its own update, McLaren 2005."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from chisan.batteries.field import PACK_THERMAL_MODELS, pack_temperature
from chisan.batteries.thermal import (
    CABIN_SOLAR_RISE_C_AT_1_KW_PER_M2,
    V2G_SIM_NETWORK,
    cabin_solar_heat_w,
    charging_heat_w,
    two_node_temperatures,
)
from chisan.exceptions import ScenarioError

# V2G-Sim, v2gsim/battery_degradation/BatteryDegradation.py (commit 2bf8da5), coefTemp, R and the 380 V.
M_C, M_B, K_AB, K_AC, K_BC = 101771.0, 182000.0, 4.343, 22.6, 3.468
R_OHM, PACK_V = 0.15, 380.0


def _v2g_sim_per_second(air_c, rad_w, charge_w, cabin0, pack0):
    """V2G-Sim's own update, transcribed from BDcore.py (commit 739fa09): ``idle_temperature`` when no charge
    heat, ``charging_temperature`` below 20 °C otherwise (forward Euler, one-second steps). A reference loop."""
    cabin, pack = cabin0, pack0
    cabins, packs = np.empty(len(air_c)), np.empty(len(air_c))
    for i, (ta, rad, q) in enumerate(zip(air_c, rad_w, charge_w, strict=True)):
        new_cabin = cabin + (K_AC * (ta - cabin) + K_BC * (pack - cabin) + rad) / M_C
        new_pack = pack + (K_AB * (ta - pack) + K_BC * (cabin - pack) + q) / M_B
        assert q == 0.0 or pack < 20.0  # above 20 °C V2G-Sim's charging cools the pack (not modelled here)
        cabin, pack = new_cabin, new_pack
        cabins[i], packs[i] = cabin, pack
    return cabins, packs


def test_the_network_is_v2g_sims_and_its_steady_state_and_time_constants_follow_by_hand() -> None:
    net = V2G_SIM_NETWORK
    assert (
        net.cabin_heat_capacity_j_per_k,
        net.pack_heat_capacity_j_per_k,
        net.pack_air_conductance_w_per_k,
        net.cabin_air_conductance_w_per_k,
        net.cabin_pack_conductance_w_per_k,
    ) == (M_C, M_B, K_AB, K_AC, K_BC)
    det = (K_AC + K_BC) * (K_AB + K_BC) - K_BC**2  # 191.59 W²/K²
    assert det == pytest.approx(191.59, abs=0.01)
    rise = net.steady_rise_k_per_w()
    assert rise[0, 0] == pytest.approx((K_AB + K_BC) / det, rel=1e-12)  # cabin per W into the cabin: 0.0408
    assert rise[1, 0] == pytest.approx(K_BC / det, rel=1e-12)  # pack per W into the cabin: 0.0181
    assert rise[1, 1] == pytest.approx((K_AC + K_BC) / det, rel=1e-12)  # pack per W into the pack: 0.136
    assert (rise[0, 0], rise[1, 0], rise[1, 1]) == pytest.approx((0.0408, 0.0181, 0.136), abs=5e-4)
    # eigenvalues of A = -C⁻¹G from its trace and determinant: λ = (tr ± √(tr² - 4 det)) / 2
    tr = -(K_AC + K_BC) / M_C - (K_AB + K_BC) / M_B
    det_a = det / (M_C * M_B)
    lam = [(tr + s * math.sqrt(tr * tr - 4 * det_a)) / 2 for s in (+1, -1)]
    taus_h = sorted(-1 / x / 3600 for x in lam)
    assert net.time_constants_h() == pytest.approx(taus_h, rel=1e-9)
    assert net.time_constants_h() == pytest.approx([1.07, 6.96], abs=0.01)


def test_charging_heat_is_v2g_sims_r_i_squared() -> None:
    # 0.15 Ω × (6000 W / 380 V)² = 37.40 W; 3 kW: 9.35 W
    assert float(charging_heat_w(6.0)) == pytest.approx(R_OHM * (6000 / PACK_V) ** 2, rel=1e-12)
    assert float(charging_heat_w(6.0)) == pytest.approx(37.40, abs=0.01)
    assert float(charging_heat_w(3.0)) == pytest.approx(9.35, abs=0.01)


def test_the_cabin_in_full_sun_settles_at_mclarens_measured_rise() -> None:
    # McLaren, Null & Quinn 2005 (Pediatrics 116:e109, abstract): about 40 °F rise of a closed sedan's cabin air
    # in 60 minutes on clear sunny days = 22.2 K; taken as the equilibrium at 1 kW/m².
    assert pytest.approx(40.0 * 5.0 / 9.0, abs=0.03) == CABIN_SOLAR_RISE_C_AT_1_KW_PER_M2
    q = cabin_solar_heat_w(np.array([1000.0, 500.0, -5.0]))
    assert q[0] == pytest.approx(22.2 / ((K_AB + K_BC) / ((K_AC + K_BC) * (K_AB + K_BC) - K_BC**2)), rel=1e-12)
    assert q[0] == pytest.approx(544.5, abs=0.1)
    assert q[1] == pytest.approx(q[0] / 2, rel=1e-12) and q[2] == 0.0  # linear in GHI, no negative sun
    hours = 96
    air = np.full(hours, 25.0)
    cabin, pack = two_node_temperatures(air, np.r_[0.0, np.full(hours - 1, q[0])][:, None], 0.0, dt_hours=1.0)
    assert cabin[-1, 0] - 25.0 == pytest.approx(22.2, abs=0.01)
    assert pack[-1, 0] - 25.0 == pytest.approx(544.5 * K_BC / ((K_AC + K_BC) * (K_AB + K_BC) - K_BC**2), abs=0.01)
    assert cabin[0, 0] == pytest.approx(25.0, abs=1e-12) and pack[0, 0] == pytest.approx(25.0, abs=1e-12)
    with pytest.raises(ScenarioError, match=r"\[batteries\] cabin_solar_rise_c = 99"):
        cabin_solar_heat_w(np.array([1000.0]), cabin_rise_c_at_1_kw_per_m2=99.0)


def test_hourly_exact_steps_reproduce_v2g_sims_own_per_second_update() -> None:
    # A spring day: air 8-16 °C, clear-sky sun up to 900 W/m², a 6 kW charge from 01:00 to 05:00 (pack < 20 °C).
    hours = np.arange(24)
    air_h = 12.0 - 4.0 * np.cos(2 * np.pi * (hours - 3) / 24)
    ghi_h = np.clip(900.0 * np.sin(np.pi * (hours - 6) / 12), 0.0, None)
    charging_h = (hours >= 1) & (hours < 5)
    rad_h = cabin_solar_heat_w(ghi_h)
    q_h = np.where(charging_h, float(charging_heat_w(6.0)), 0.0)
    cabin_ref, pack_ref = _v2g_sim_per_second(
        np.repeat(air_h, 3600), np.repeat(rad_h, 3600), np.repeat(q_h, 3600), air_h[0], air_h[0]
    )
    # hour means of the reference, hours 1..23 (hour 0: chisan starts in equilibrium, so does the reference)
    cabin, pack = two_node_temperatures(air_h, rad_h[:, None], q_h[:, None], dt_hours=1.0)
    assert cabin[:, 0] == pytest.approx(cabin_ref.reshape(24, 3600).mean(axis=1), abs=0.01)
    assert pack[:, 0] == pytest.approx(pack_ref.reshape(24, 3600).mean(axis=1), abs=0.01)
    assert pack.max() - air_h.max() > 1.0  # the afternoon pack stands above the air: the model does something


def test_pack_temperature_selects_the_model_for_every_car_at_once() -> None:
    index = pd.date_range("2025-07-01", periods=48, freq="h")
    h = np.arange(48) % 24
    air = pd.Series(26.0 + 5.0 * np.sin(2 * np.pi * (h - 9) / 24), index=index)
    ghi = pd.Series(np.clip(1000.0 * np.sin(np.pi * (h - 6) / 12), 0.0, None), index=index)
    charge = np.zeros(48)
    charge[20:24] = 0.1  # +0.1 SOC per hour from 20:00 to 23:00 of the first day
    soc = pd.DataFrame({"parked": np.full(48, 0.6), "charged": 0.2 + np.cumsum(charge)}, index=index)
    net = pack_temperature(air, ghi, soc, dt_hours=1.0, thermal_model="v2g_sim", charge_power_kw=6.0)
    assert list(net.columns) == ["parked", "charged"] and net.index.equals(index)
    q_sun = cabin_solar_heat_w(ghi.to_numpy())[:, None]
    q_pack = np.zeros((48, 2))
    q_pack[20:24, 1] = float(charging_heat_w(6.0))  # rows where the SOC rose by 0.1 from the row before
    _, expected = two_node_temperatures(air.to_numpy(), q_sun, q_pack, dt_hours=1.0)
    assert net.to_numpy() == pytest.approx(expected, abs=1e-12)
    assert (net["charged"] - net["parked"]).iloc[20:26].min() > 0.0  # the charged car's pack is warmer
    offsets = pack_temperature(air, ghi, soc, dt_hours=1.0)  # the default keeps chisan's former behaviour
    assert offsets["parked"].to_numpy() == pytest.approx(air + 4.0 * ghi / 1000.0, abs=1e-12)
    assert PACK_THERMAL_MODELS == ("offsets", "v2g_sim")
    with pytest.raises(ScenarioError, match=r"pack_thermal_model = 'blast'; allowed: offsets, v2g_sim"):
        pack_temperature(air, ghi, soc, dt_hours=1.0, thermal_model="blast")
