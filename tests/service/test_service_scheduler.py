"""Smart charging: the schedule from the planning model, its verification, the least-laxity-first fallback, and the
metrics per station and day — against numbers derived by hand.

All cases: Nissan Sakura-like cars (usable 19 kWh, reserve 1.9 kWh, 3 kW, charging efficiency 0.9 → 0.675 kWh
into the battery per 15-min step at full power), 15-min steps starting 06:00 JST.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from service_helpers import NOW, jst, make_client, make_town

from chisan.service import scheduler
from chisan.service.fallback import least_laxity_first
from chisan.service.scheduler import FleetState, compute_schedule, plan_inputs, verify
from chisan.service.testing import synthetic_state

TZ = "Asia/Tokyo"
START = pd.Timestamp("2025-06-02 06:00", tz=TZ)
TOL_KWH = 1e-4  # HiGHS primal feasibility 1e-7 per row, over a few dozen steps


def state(
    *,
    hours: float = 8.0,
    cars: dict[str, float],
    bookings: list[tuple[int, str, float, float, float]],
    chargers: int = 1,
    pv_kw: dict[tuple[float, float], float] | None = None,
    price: float = 30.0,
    connection_kw: float = np.nan,
) -> FleetState:
    """One station; ``cars`` = id → energy now [kWh]; bookings = (id, car, start h, end h, trip kWh) in JST."""
    snaps = pd.date_range(START, periods=round(hours * 4), freq="15min")
    hour = (snaps - START.normalize()) / pd.Timedelta(hours=1)
    pv = pd.Series(0.0, index=snaps)
    for (h0, h1), kw in (pv_kw or {}).items():
        pv[(hour >= h0) & (hour < h1)] = kw
    day = START.normalize()
    return FleetState(
        snapshots=snaps,
        dt_hours=0.25,
        stations=pd.DataFrame(
            {"chargers": [chargers], "charger_kw": [3.0], "connection_limit_kw": [connection_kw]},
            index=pd.Index(["1"], name="station"),
        ),
        vehicles=pd.DataFrame(
            {
                "station": "1",
                "usable_kwh": 19.0,
                "reserve_kwh": 1.9,
                "max_charge_kw": 3.0,
                "charge_efficiency": 0.9,
                "energy_kwh": list(cars.values()),
            },
            index=pd.Index(list(cars), name="vehicle"),
        ),
        bookings=pd.DataFrame(
            [
                {
                    "booking_id": b,
                    "vehicle": v,
                    "start": day + pd.Timedelta(hours=s),
                    "end": day + pd.Timedelta(hours=e),
                    "trip_energy_kwh": kwh,
                }
                for b, v, s, e, kwh in bookings
            ],
            columns=["booking_id", "vehicle", "start", "end", "trip_energy_kwh"],
        ),
        pv_kw=pv,
        import_price_per_kwh=pd.Series(price, index=snaps),
        emission_factor_kg_per_kwh=pd.Series(0.45, index=snaps),
    )


def test_optimal_schedule_uses_pv_first_and_buys_the_rest():
    """5 kWh at 06:00; a 10 kWh trip at 12:00 needs 10 + 1.9 = 11.9 kWh, i.e. 6.9 kWh into the battery = 7.667 kWh
    at the plug. PV gives 2 kW from 09:00 to 11:00 = 4 kWh (the PV credit makes the schedule take all of it); the
    remaining 3.667 kWh come from the grid at 30 JPY/kWh. Objective = 3.667 × 30 − 1 × 4 = 106.0 JPY."""
    s = state(cars={"a": 5.0}, bookings=[(1, "a", 12, 13, 10.0)], pv_kw={(9, 11): 2.0})
    r = compute_schedule(s, time_limit_s=30)
    assert r.method == "optimal" and r.verified and r.verification.limits_ok and not r.verification.at_risk
    charge = r.charge_kw["a"].to_numpy()
    plug_kwh = charge.sum() * 0.25
    assert plug_kwh == pytest.approx(6.9 / 0.9, abs=TOL_KWH)
    assert r.pv_used_kw.sum() * 0.25 == pytest.approx(4.0, abs=TOL_KWH)
    assert r.grid_import_kw.sum() * 0.25 == pytest.approx(6.9 / 0.9 - 4.0, abs=TOL_KWH)
    assert r.objective == pytest.approx((6.9 / 0.9 - 4.0) * 30.0 - 4.0, abs=1e-3)
    # the car holds exactly trip + reserve when it leaves (rebuilt energy after the 12:00 step = reserve)
    k = 24  # 12:00 is step 24 after 06:00
    assert r.verification.energy_kwh[k, 0] == pytest.approx(1.9, abs=TOL_KWH)
    assert charge[k : k + 4].max() == 0.0  # away 12:00–13:00


def test_shared_charger_is_sequenced_by_deadline():
    """Two cars at the reserve share one 3 kW charger; b leaves at 07:00 and a at 08:00, each needing 2.7 kWh in
    the battery = 3 kWh at the plug = 1 h at full power: b must charge 06:00–07:00 and a 07:00–08:00."""
    s = state(cars={"a": 1.9, "b": 1.9}, bookings=[(1, "a", 8, 9, 2.7), (2, "b", 7, 9, 2.7)], hours=4)
    r = compute_schedule(s, time_limit_s=30)
    assert r.method == "optimal" and r.verified
    ch = r.charge_kw
    assert ch["b"].iloc[:4].to_numpy() == pytest.approx([3.0] * 4, abs=1e-6)
    assert ch["a"].iloc[4:8].to_numpy() == pytest.approx([3.0] * 4, abs=1e-6)
    assert (ch.sum(axis=1) <= 3.0 + 1e-6).all()


def test_least_laxity_first_serves_the_tighter_deadline_first():
    """Same case through the fallback alone: laxity of b at 06:00 = 1 h to go − 1 h of charging = 0, of a = 2 − 1 =
    1 h, so b gets the charger first; both are ready, and nothing charges beyond the needs (no PV)."""
    s = state(cars={"a": 1.9, "b": 1.9}, bookings=[(1, "a", 8, 9, 2.7), (2, "b", 7, 9, 2.7)], hours=4)
    r = compute_schedule(s, force_fallback="test")
    assert r.method == "fallback" and r.verified
    expected_b = [3.0] * 4 + [0.0] * 12
    expected_a = [0.0] * 4 + [3.0] * 4 + [0.0] * 8
    assert r.charge_kw["b"].to_numpy() == pytest.approx(expected_b, abs=1e-9)
    assert r.charge_kw["a"].to_numpy() == pytest.approx(expected_a, abs=1e-9)


def test_fallback_tops_up_with_surplus_pv_within_limits():
    """No bookings, 5 kW of PV for an hour, two cars with room, one 3 kW charger: the fallback puts 3 kW (the
    charger) of the PV into the cars during that hour, nothing from the grid."""
    s = state(cars={"a": 10.0, "b": 10.0}, bookings=[], pv_kw={(6, 7): 5.0}, hours=2)
    r = compute_schedule(s, force_fallback="test")
    assert r.charge_kw.sum(axis=1).to_numpy() == pytest.approx([3.0] * 4 + [0.0] * 4, abs=1e-9)
    assert r.grid_import_kw.sum() == pytest.approx(0.0, abs=1e-9)


def test_binding_charger_is_optimal_with_shortfall_not_infeasible():
    """Two cars that must both take 3 kWh at the plug by 07:00 from one 3 kW charger: each alone could (so no
    booking is cut beforehand), together they cannot. The optimiser no longer reports infeasible: the charger runs
    the whole hour (3 kWh at the plug = 2.7 kWh into the batteries) and the bookings are short by 2 × 2.7 − 2.7 =
    2.7 kWh together; the schedule is optimal and verified, the shortfall is reported."""
    s = state(cars={"a": 1.9, "b": 1.9}, bookings=[(1, "a", 7, 9, 2.7), (2, "b", 7, 9, 2.7)], hours=4)
    r = compute_schedule(s, time_limit_s=30)
    assert r.method == "optimal" and r.solver_status == "optimal" and r.verified and r.verification.limits_ok
    assert r.charge_kw.iloc[:4].sum(axis=1).to_numpy() == pytest.approx([3.0] * 4, abs=1e-6)
    assert sum(r.shortfall_kwh.values()) == pytest.approx(2.7, abs=TOL_KWH)
    assert sum(r.verification.at_risk.values()) == pytest.approx(2.7, abs=TOL_KWH)
    assert "shared limits bind" in r.message


def test_least_laxity_first_shares_a_charger_it_cannot_satisfy(caplog):
    """The same case through the fallback: least laxity first re-ranks every step: at 06:00 both have laxity 0 (a
    wins the tie), after it b is behind (laxity −0.25 h against 0) and gets 06:15; at 06:30 they tie again
    (−0.25 h) and a gets it, b gets 06:45. Each car gets 2 steps × 0.675 = 1.35 kWh of its 2.7 kWh: both bookings
    are at risk by 1.35 kWh."""
    s = state(cars={"a": 1.9, "b": 1.9}, bookings=[(1, "a", 7, 9, 2.7), (2, "b", 7, 9, 2.7)], hours=4)
    r = compute_schedule(s, force_fallback="test")
    assert r.method == "fallback" and r.verification.limits_ok and not r.unavoidable
    assert r.charge_kw["a"].iloc[:4].to_numpy() == pytest.approx([3.0, 0.0, 3.0, 0.0])
    assert r.verification.at_risk == {1: pytest.approx(1.35, abs=1e-9), 2: pytest.approx(1.35, abs=1e-9)}
    assert not r.verified  # a booking that could have been served on its own is not: say so


def test_time_budget_exceeded_falls_back():
    s = synthetic_state(n_vehicles=120, n_stations=12, seed=3)
    r = compute_schedule(s, time_limit_s=1e-6)
    assert r.method == "fallback" and r.solver_status == "time_limit"
    assert r.verification.limits_ok


def test_solver_error_falls_back(monkeypatch, caplog):
    def broken(inputs, time_limit_s):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(scheduler, "_solve_optimal", broken)
    s = state(cars={"a": 5.0}, bookings=[(1, "a", 12, 13, 10.0)])
    with caplog.at_level(logging.WARNING, logger="chisan.service.scheduler"):
        r = compute_schedule(s)
    assert r.method == "fallback" and "solver crashed" in r.solver_status and r.verified


def test_unservable_booking_is_cut_and_reported():
    """2 kWh now and a 15 kWh trip at 08:00: at most 2 + 2 h × 2.7 = 7.4 kWh by then — 15 + 1.9 cannot be met by any
    schedule. It is reported at risk with 16.9 − 7.4 = 9.5 kWh missing, and the rest is still optimised."""
    s = state(cars={"a": 2.0, "b": 5.0}, bookings=[(1, "a", 8, 9, 15.0), (2, "b", 9, 10, 4.0)], chargers=2, hours=6)
    r = compute_schedule(s, time_limit_s=30)
    assert r.method == "optimal" and r.verified
    assert r.unavoidable == {1: pytest.approx(15.0 + 1.9 - 7.4, abs=1e-9)}
    assert 2 not in r.verification.at_risk


def test_verification_catches_broken_schedules():
    s = state(cars={"a": 1.9, "b": 1.9}, bookings=[(1, "a", 8, 9, 2.7), (2, "b", 7, 9, 2.7)], hours=4)
    inputs, _ = plan_inputs(s)
    n = s.n_steps
    good = np.zeros((n, 2))
    good[4:8, 0] = 3.0
    good[0:4, 1] = 3.0
    assert verify(s, inputs, good, np.zeros(n)).limits_ok
    both = good.copy()
    both[0:4, 0] = 3.0  # two cars on one 3 kW charger at once
    v = verify(s, inputs, both, np.zeros(n))
    assert not v.limits_ok and any("chargers' power exceeded" in m for m in v.violations)
    away = good.copy()
    away[5, 1] = 1.0  # b is away from 07:00
    v = verify(s, inputs, away, np.zeros(n))
    assert any("charging while away" in m for m in v.violations)
    late = np.zeros((n, 2))
    late[0:4, 1] = 3.0  # a never charges: its 08:00 trip is short by 2.7 kWh
    v = verify(s, inputs, late, np.zeros(n))
    assert v.limits_ok and v.at_risk == {1: pytest.approx(2.7, abs=1e-9)}


def test_least_laxity_first_keeps_the_site_limit():
    """Site import limit 1 kW, no PV: two cars asking 3 kW each get 1 kW together."""
    charge = least_laxity_first(
        plugged=np.ones((2, 2), dtype=bool),
        trips_kwh=np.zeros((2, 2)),
        need_after_kwh=np.full((2, 2), 10.0),
        energy0_kwh=np.array([1.0, 1.0]),
        usable_kwh=np.array([19.0, 19.0]),
        max_charge_kw=np.array([3.0, 3.0]),
        charge_efficiency=np.array([0.9, 0.9]),
        station=np.array([0, 0]),
        station_limit_kw=np.array([6.0]),
        site_limit_kw=1.0,
        pv_kw=np.zeros(2),
        dt_hours=0.25,
    )
    assert charge.sum(axis=1) == pytest.approx([1.0, 1.0])


def test_schedule_and_metrics_through_the_api(sqlite_url):
    """One car at 1.9 kWh (SOC 0.1) and one 3 kW charger; a 60 km trip at 13:00 JST takes 60 × 0.1116 = 6.696 kWh,
    so 8.596 kWh are needed: 6.696 kWh into the battery = 7.44 kWh at the plug. The supplied PV forecast is 4 kW
    from 09:00 to 11:00; the car takes 3 kW of it (its limit) = 6.0 kWh; 1.44 kWh come from the grid at 30 JPY/kWh
    = 43.2 JPY. PV share 6.0 / 7.44."""
    with make_client(sqlite_url) as client:
        town = make_town(client, "hare", vehicles_per_station=1, chargers_per_station=1, soc_fraction=0.1)
        car = town.vehicles[0]
        town.post(
            "/api/v1/bookings",
            {"vehicle_id": car, "start_at": jst(13).isoformat(), "end_at": jst(14).isoformat(), "distance_km": 60},
        )
        r = client.put(
            "/api/v1/forecast/pv",
            headers=town.headers,
            json={"start_at": NOW.isoformat(), "step_minutes": 15, "pv_kw": [4.0] * 8},
        )
        assert r.status_code == 200
        sched = town.post("/api/v1/schedules").json()
        assert sched["method"] == "optimal" and sched["verified"] and sched["at_risk_booking_ids"] == []
        assert sched["n_steps"] == 144 and sched["step_minutes"] == 15
        plan = sched["vehicles"][0]
        assert sum(plan["charge_kw"]) * 0.25 == pytest.approx(6.696 / 0.9, abs=1e-3)
        assert sum(sched["grid_import_kw"]) * 0.25 == pytest.approx(6.696 / 0.9 - 6.0, abs=1e-3)
        m = town.get("/api/v1/metrics/stations", day="2025-06-02").json()
        assert len(m) == 1
        m = m[0]
        assert m["bookings"] == 1 and m["bookings_ready_on_time"] == 1
        assert m["energy_needed_kwh"] == pytest.approx(6.696, abs=1e-3)
        assert m["energy_planned_kwh"] == pytest.approx(7.44, abs=1e-3)
        assert m["pv_share_fraction"] == pytest.approx(6.0 / 7.44, abs=1e-3)
        assert m["grid_kwh"] == pytest.approx(1.44, abs=1e-3)
        assert m["grid_cost"] == pytest.approx(43.2, abs=0.05)
        assert m["peak_kw"] == pytest.approx(3.0, abs=1e-6) and m["limit_kw"] == pytest.approx(3.0)
        assert m["energy_delivered_kwh"] == 0.0  # no charger reported anything yet
        latest = town.get("/api/v1/schedules/latest").json()
        assert latest["id"] == sched["id"]


def test_schedule_of_500_cars_at_50_stations_is_verified_quickly():
    """The size of the benchmark, as a guard in the suite (the benchmark measures the time properly)."""
    s = synthetic_state(n_vehicles=500, n_stations=50, seed=0)
    r = compute_schedule(s, time_limit_s=20)
    assert r.method == "optimal" and r.verified
    assert r.verification.limits_ok
    # every booking the cars can serve alone is ready; the others are reported
    assert set(r.verification.at_risk) <= set(r.unavoidable)
    assert r.timings["total_s"] < 15.0  # generous: the suite shares two noisy cores; the benchmark asks ≤ 5 s
