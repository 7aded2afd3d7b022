"""REopt's outage simulation, checked against numbers derived by hand."""

from __future__ import annotations

import numpy as np
import pytest

from chisan.resilience.outage import OutageSources, outage_result, simulate_outages


def sources(n: int = 48, **kw) -> OutageSources:
    """Flat sources over ``n`` hourly steps; overrides as scalars or arrays."""
    base = {
        "critical_load_kw": 2.0,
        "pv_kw": 0.0,
        "storage_start_kwh": 0.0,
        "storage_kwh": 0.0,
        "storage_kw": 0.0,
        "storage_charge_efficiency_fraction": 1.0,
        "storage_discharge_efficiency_fraction": 1.0,
        "parked_kwh": 0.0,
        "parked_cars": 0.0,
        "called_kwh": 0.0,
        "called_cars": 0.0,
        "v2h_kw_per_car": 6.0,
        "v2h_efficiency_fraction": 1.0,
        "dt_hours": 1.0,
    }
    base.update(kw)
    arrays = (
        "critical_load_kw",
        "pv_kw",
        "storage_start_kwh",
        "parked_kwh",
        "parked_cars",
        "called_kwh",
        "called_cars",
    )
    for key in arrays:
        base[key] = np.broadcast_to(np.asarray(base[key], float), (n,)).copy()
    return OutageSources(**base)


def test_one_shelter_one_car_no_pv_hours_are_usable_energy_over_load():
    # a car with 30 kWh, 8 kWh kept as reserve (20 % of 40 kWh usable): 22 kWh usable at 2 kW → 11 h
    usable_kwh = 30.0 - 0.2 * 40.0
    hours = simulate_outages(sources(parked_kwh=usable_kwh, parked_cars=1), outage_h=72)
    assert hours == pytest.approx(np.full(48, 22.0 / 2.0))


def test_v2h_losses_shorten_the_supply():
    # 22 kWh × 0.9 = 19.8 kWh delivered at 2 kW = 9.9 h: 9 whole hours met, the 10th not fully
    hours = simulate_outages(sources(parked_kwh=22.0, parked_cars=1, v2h_efficiency_fraction=0.9), outage_h=72)
    assert set(hours) == {9.0}


def test_a_load_above_the_v2h_power_is_not_met():
    # one car of 6 kW cannot carry 8 kW, whatever it holds; two cars can: 40 kWh / 8 kW = 5 h
    one = simulate_outages(sources(critical_load_kw=8.0, parked_kwh=40.0, parked_cars=1), outage_h=72)
    two = simulate_outages(sources(critical_load_kw=8.0, parked_kwh=40.0, parked_cars=2), outage_h=72)
    assert set(one) == {0.0}
    assert set(two) == {5.0}


def test_storage_and_pv_then_called_car_after_its_delay():
    # storage 4 kWh covers 2 h at 2 kW; a called car with 10 kWh arriving after 2 h adds 5 h → 7 h
    s = sources(storage_start_kwh=4.0, storage_kwh=10.0, storage_kw=5.0, called_kwh=10.0, called_cars=1)
    assert set(simulate_outages(s, outage_h=72, call_delay_h=2.0)) == {7.0}
    # arriving after 3 h it comes too late: the shelter went dark in hour 3
    assert set(simulate_outages(s, outage_h=72, call_delay_h=3.0)) == {2.0}


def test_pv_surplus_charges_the_storage_and_the_year_wraps():
    # 4 steps: PV 6 kW in step 0 only, load 2 kW; storage empty at the start, 10 kWh / 5 kW, lossless.
    # Start 0: PV meets 2 kW, 4 kW charge the storage (4 kWh) → steps 1, 2 from storage → step 3 dark: 3 h.
    # Start 1: storage empty → 0 h. Start 3: step 3 dark at once → 0 h (PV of step 0 comes after wrapping, too late).
    s = sources(n=4, pv_kw=[6.0, 0, 0, 0], storage_kwh=10.0, storage_kw=5.0)
    assert list(simulate_outages(s, outage_h=4)) == [3.0, 0.0, 0.0, 0.0]
    # with 2 kWh in store at every start, start 3 spends them in step 3, wraps to step 0 where PV meets the load
    # and stores 4 kWh, which carry steps 1 and 2: 4 h, the whole outage
    s = sources(n=4, pv_kw=[6.0, 0, 0, 0], storage_start_kwh=2.0, storage_kwh=10.0, storage_kw=5.0)
    assert simulate_outages(s, outage_h=4)[3] == 4.0


def test_quarter_hour_steps_count_hours():
    # 15-minute steps: 22 kWh at 2 kW is still 11 h (44 steps)
    hours = simulate_outages(sources(n=96, parked_kwh=22.0, parked_cars=1, dt_hours=0.25), outage_h=72)
    assert set(hours) == {11.0}


def test_distribution_and_probability_of_the_full_outage():
    # loads of 1, 2, 4 and 8 kW, each for 100 h, on a 24 kWh car of 6 kW: an outage starting at the start of
    # each block lasts 24, 12, 6 and 0 h (8 kW is above the car's power) of a 24 h outage
    s = sources(n=4 * 100, critical_load_kw=np.repeat([1.0, 2.0, 4.0, 8.0], 100), parked_kwh=24.0, parked_cars=1)
    res = outage_result(s, index=np.arange(400), outage_h=24, call_delay_h=0)
    h = res.survival["hours_survived_h"].to_numpy()
    assert h[0] == 24 and h[100] == 12 and h[200] == 6 and h[300] == 0
    # REopt's probs_of_surviving: share of starts lasting ≥ d hours
    p = res.probabilities.set_index("duration_h")["survival_probability_fraction"]
    assert p[1.0] == pytest.approx((h >= 1).mean())
    assert p[24.0] == pytest.approx((h >= 24).mean()) == res.full_outage_probability_fraction
    assert p.is_monotonic_decreasing
    assert res.summary().loc["resilience_hours_max", "value"] == 24.0


def test_vectorised_over_starts_equals_reopts_loop_one_start_at_a_time():
    from tests.resilience.reference_loop import random_sources, simulate_loop

    s = random_sources(500, seed=3)
    fast = simulate_outages(s, outage_h=72, call_delay_h=2)
    slow = simulate_loop(s, outage_h=72, call_delay_h=2)
    np.testing.assert_array_equal(fast, slow)
    assert 0 < (fast == 72).mean() < 1  # the case has starts that survive and starts that do not


def test_forty_kwh_usable_at_two_kw_last_twenty_hours():
    # the brief's hand case: one shelter, one car, no PV, 40 kWh above reserve, 2 kW → 40 / 2 = 20 h
    hours = simulate_outages(sources(n=8760, parked_kwh=40.0, parked_cars=1), outage_h=72)
    assert hours.shape == (8760,)
    assert set(hours) == {20.0}


def test_fractional_hour_counts_only_whole_steps_fully_met():
    # 41 kWh at 2 kW would be 20.5 h: the 21st hour is only half met, so it does not count (REopt's rule)
    assert set(simulate_outages(sources(parked_kwh=41.0, parked_cars=1), outage_h=72)) == {20.0}


def test_pv_only_with_a_known_daily_profile():
    # PV 4 kW from 08:00 to 16:00 (8 h), 0 otherwise; load 2 kW; no storage, no car. An outage starting at hour h
    # of the day with 8 ≤ h < 16 is supplied until 16:00 (16 − h hours); any other start goes dark at once.
    day_pv_kw = np.where((np.arange(24) >= 8) & (np.arange(24) < 16), 4.0, 0.0)
    s = sources(n=24 * 365, pv_kw=np.tile(day_pv_kw, 365))
    res = outage_result(s, index=np.arange(24 * 365), outage_h=72, call_delay_h=0)
    by_hour = res.survival["hours_survived_h"].to_numpy().reshape(365, 24)
    expected = np.where((np.arange(24) >= 8) & (np.arange(24) < 16), 16 - np.arange(24), 0).astype(float)
    np.testing.assert_array_equal(by_hour, np.tile(expected, (365, 1)))
    p = res.probabilities.set_index("duration_h")["survival_probability_fraction"]
    assert p[1.0] == pytest.approx(8 / 24)  # 8 of the 24 start hours last ≥ 1 h
    assert p[8.0] == pytest.approx(1 / 24)  # only the 08:00 start lasts 8 h
    assert p[9.0] == 0.0 and res.full_outage_probability_fraction == 0.0


def test_survival_probability_of_a_constant_case():
    # 40 kWh at 2 kW everywhere: every start lasts 20 h. A 20 h outage is always survived, a 24 h one never;
    # P(≥ d) is 1 up to 20 h and 0 after.
    s = sources(n=8760, parked_kwh=40.0, parked_cars=1)
    assert outage_result(s, np.arange(8760), outage_h=20, call_delay_h=0).full_outage_probability_fraction == 1.0
    res = outage_result(s, np.arange(8760), outage_h=24, call_delay_h=0)
    assert res.full_outage_probability_fraction == 0.0
    p = res.probabilities.set_index("duration_h")["survival_probability_fraction"]
    np.testing.assert_array_equal(p.to_numpy(), np.where(np.arange(1, 25) <= 20, 1.0, 0.0))


def test_energy_supplied_never_exceeds_what_is_available():
    # for every start: the critical load met over the hours survived ≤ storage at the start × η_d + the second-life
    # packs' × η_sl + the cars' energy above reserve × η_V2H + the PV of those hours (PV can only be used once,
    # directly or via a store)
    from tests.resilience.reference_loop import random_sources

    s = random_sources(2000, seed=7)
    hours = simulate_outages(s, outage_h=72, call_delay_h=2)
    n = len(s.critical_load_kw)
    idx = (np.arange(n)[:, None] + np.arange(72)[None, :]) % n  # step of each start's outage hour
    inside = np.arange(72)[None, :] < (hours / s.dt_hours)[:, None]
    met_kwh = (s.critical_load_kw[idx] * inside).sum(axis=1) * s.dt_hours
    pv_kwh = (s.pv_kw[idx] * inside).sum(axis=1) * s.dt_hours
    available_kwh = (
        np.minimum(s.storage_start_kwh, s.storage_kwh) * s.storage_discharge_efficiency_fraction
        + np.minimum(s.second_life_start_kwh, s.second_life_kwh) * s.second_life_efficiency_fraction
        + (s.parked_kwh + s.called_kwh) * s.v2h_efficiency_fraction
        + pv_kwh
    )
    assert (met_kwh <= available_kwh + 1e-6).all()
    assert (hours > 0).any()  # the bound is checked on starts that supply something


@pytest.mark.parametrize(
    ("override", "call", "field"),
    [
        ({"dt_hours": 0.0}, {}, "dt_hours"),
        ({}, {"outage_h": -1.0}, "outage_h"),
        ({}, {"outage_h": 2.5}, "outage_h"),
        ({}, {"call_delay_h": -1.0}, "call_delay_h"),
        ({"v2h_efficiency_fraction": 1.2}, {}, "v2h_efficiency_fraction"),
        ({"storage_kw": -5.0}, {}, "storage_kw"),
        ({"parked_kwh": -3.0}, {}, "parked_kwh"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(override, call, field):
    kwargs = {"outage_h": 72.0, "call_delay_h": 0.0} | call
    with pytest.raises(ValueError, match=field):
        simulate_outages(sources(**override), **kwargs)


def test_arrays_of_another_length_are_refused():
    s = sources(n=48)
    bad = OutageSources(**{**s.__dict__, "pv_kw": np.zeros(47)})
    with pytest.raises(ValueError, match=r"pv_kw has shape \(47,\).*\(48,\)"):
        simulate_outages(bad, outage_h=72)


def test_second_life_packs_deliver_their_energy_at_their_own_efficiency():
    # 1 kW, no PV, no storage; 20 kWh of second-life packs at a round trip of 0.81 (0.9 each way, √0.81), c-rate
    # 0.5 → 10 kW: 20 × 0.9 = 18 kWh reach the shelter → 18 h. Pooled at a new store's 0.95 it would be 19 h.
    packs = {"second_life_start_kwh": 20.0, "second_life_kwh": 20.0, "second_life_kw": 10.0}
    s = sources(
        second_life_efficiency_fraction=0.9, storage_discharge_efficiency_fraction=0.95, **packs, critical_load_kw=1.0
    )
    assert set(simulate_outages(s, outage_h=24)) == {18.0}


def test_new_storage_then_second_life_each_at_its_efficiency():
    # 10 kWh new storage at 0.95 out (9.5 kWh) + 20 kWh packs at 0.9 out (18 kWh) = 27.5 kWh at 1 kW → 27 whole
    # hours (hour 10 takes 0.5 kWh from each); one pool of 30 kWh at 0.95 would give 28.5 kWh → 28 h
    s = sources(
        critical_load_kw=1.0,
        storage_start_kwh=10.0,
        storage_kwh=10.0,
        storage_kw=10.0,
        storage_discharge_efficiency_fraction=0.95,
        second_life_start_kwh=20.0,
        second_life_kwh=20.0,
        second_life_kw=10.0,
        second_life_efficiency_fraction=0.9,
    )
    assert set(simulate_outages(s, outage_h=48)) == {27.0}


def test_second_life_power_limits_the_supply():
    # 3 kW of load, the packs give at most 2.5 kW (c-rate 0.125 × 20 kWh): not one hour is met in full
    s = sources(critical_load_kw=3.0, second_life_start_kwh=20.0, second_life_kwh=20.0, second_life_kw=2.5)
    assert set(simulate_outages(s, outage_h=24)) == {0.0}


def test_pv_surplus_the_storage_cannot_take_charges_the_packs_at_their_efficiency():
    # Step 0: PV 11 kW against 1 kW of load; the full new storage takes nothing, the empty packs (10 kWh, 10 kW,
    # 0.9 each way) take the 10 kW surplus → 9 kWh stored → 9 × 0.9 = 8.1 kWh out → hours 1–8 met, hour 9 not:
    # 9 h survived from step 0.
    pv = np.zeros(48)
    pv[0] = 11.0
    s = sources(
        critical_load_kw=1.0,
        pv_kw=pv,
        storage_start_kwh=0.0,
        storage_kwh=0.0,
        second_life_kwh=10.0,
        second_life_kw=10.0,
        second_life_efficiency_fraction=0.9,
    )
    assert simulate_outages(s, outage_h=24)[0] == 9.0
