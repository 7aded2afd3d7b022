"""Bookings through the API: charge-aware admission with alternatives, changes, cancellations, late returns,
errors that name the field, and no double booking under parallel clients (SQLite and PostgreSQL).

Numbers used below (Nissan Sakura, chisan.catalogue): usable 19.0 kWh, reserve 10 % = 1.9 kWh, on-board charger
3.0 kW, charging efficiency 0.9 → 2.7 kWh per hour into the battery; battery-side consumption 0.124 kWh/km × 0.9
= 0.1116 kWh/km. Every station below has as many 3 kW chargers as cars, so each car's guaranteed power is 3 kW.
No scenario, so trips take their neutral-temperature energy. The clock starts at 09:00 JST.
"""

from __future__ import annotations

import datetime as dt
import threading

import httpx
import pytest
from service_helpers import NOW, jst, make_client, make_town, settings_for

from chisan.service.main import create_app
from chisan.service.testing import ServerThread

KWH_PER_KM = 0.124 * 0.9
RATE_KWH_PER_H = 3.0 * 0.9


class Clock:
    """A clock the test moves forward."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def town(sqlite_url):
    clock = Clock(NOW)
    with make_client(sqlite_url, clock=clock) as client:
        t = make_town(client, "kaze", vehicles_per_station=3, chargers_per_station=3, soc_fraction=0.5)
        t.clock = clock
        yield t


def book(town, expect=201, **body):
    for key in ("start_at", "end_at"):
        if isinstance(body.get(key), dt.datetime):
            body[key] = body[key].isoformat()
    return town.post("/api/v1/bookings", body, expect=expect)


def set_soc(town, vehicle_id: int, soc: float) -> None:
    town.post(f"/api/v1/vehicles/{vehicle_id}/telemetry", {"soc_fraction": soc, "measured_at": NOW.isoformat()}, 200)


def test_admitted_booking_reports_trip_and_energy_at_start(town):
    car = town.vehicles[0]  # 9.5 kWh at 09:00
    r = book(town, vehicle_id=car, start_at=jst(10), end_at=jst(12), distance_km=40).json()
    # trip = 40 km × 0.1116 kWh/km = 4.464 kWh; energy at 10:00 = 9.5 + 1 h × 2.7 kWh/h = 12.2 kWh
    assert r["trip_energy_kwh"] == pytest.approx(40 * KWH_PER_KM, abs=1e-9)
    assert r["energy_at_start_kwh"] == pytest.approx(9.5 + RATE_KWH_PER_H, abs=1e-6)
    assert r["status"] == "confirmed" and r["vehicle_id"] == car
    listed = town.get("/api/v1/bookings", vehicle_id=car).json()
    assert [b["id"] for b in listed] == [r["id"]]


def test_guaranteed_power_counts_only_the_cars_of_the_station(town):
    """Admission shares a station's chargers among that station's cars, not among every car in the database.

    Another station of the same town (1 charger, 4 cars) and another town (3 stations × 3 cars) must not change
    what the first station's car can charge: still 3 kW at the plug, 2.7 kWh per hour into the battery.
    """
    make_town(town.client, "other", stations=3, vehicles_per_station=3, chargers_per_station=1)
    crowded = town.post(
        "/api/v1/stations", {"name": "crowded", "latitude_deg": 35.8, "longitude_deg": 139.7, "charger_kw": 3.0}
    ).json()
    town.post("/api/v1/chargers", {"station_id": crowded["id"], "ocpp_id": "crowded-1", "max_power_kw": 3.0})
    crowded_cars = [
        town.post(
            "/api/v1/vehicles",
            {"station_id": crowded["id"], "name": f"crowded-{k}", "model": "nissan_sakura", "soc_fraction": 0.5},
        ).json()["id"]
        for k in range(4)
    ]
    car = town.vehicles[0]  # 9.5 kWh at 09:00, its station: 3 chargers for 3 cars
    r = book(town, vehicle_id=car, start_at=jst(11), end_at=jst(12), distance_km=10).json()
    assert r["energy_at_start_kwh"] == pytest.approx(9.5 + 2 * RATE_KWH_PER_H, abs=1e-6)
    # the crowded station's 3 kW charger is shared by its 4 cars: 0.75 kW each, 0.675 kWh per hour
    r = book(town, vehicle_id=crowded_cars[0], start_at=jst(11), end_at=jst(12), distance_km=10).json()
    assert r["energy_at_start_kwh"] == pytest.approx(9.5 + 2 * 0.75 * 0.9, abs=1e-6)


def test_refused_for_energy_with_earliest_start_and_other_cars(town):
    low, _mid, full = town.vehicles
    set_soc(town, low, 0.1)  # 1.9 kWh
    set_soc(town, full, 1.0)  # 19 kWh
    r = book(town, expect=409, vehicle_id=low, start_at=jst(10), end_at=jst(14), distance_km=150)
    detail = r.json()["detail"]
    trip = 150 * KWH_PER_KM  # 16.74 kWh
    # needed before the 10:00 departure: trip + reserve = 18.64 kWh; one hour of charging (2.7 kWh) can come
    # before it, so 15.94 kWh are needed now, against 1.9 kWh held
    assert detail["reason"] == "insufficient_energy" and detail["field"] == "start_at"
    assert detail["energy_needed_kwh"] == pytest.approx(trip + 1.9 - RATE_KWH_PER_H, abs=1e-3)
    assert detail["energy_available_kwh"] == pytest.approx(1.9, abs=1e-3)
    assert "start_at" in r.json()["message"]
    # the car needs (18.64 − 1.9) / 2.7 = 6.2 h of charging from 09:00: ready at 15:12, so the first 15-min
    # start after 10:00 that works is 15:15
    assert dt.datetime.fromisoformat(detail["earliest_feasible_start_at"]) == jst(15.25)
    # the 9.5 kWh car reaches 12.2 kWh by 10:00 (too little); the full one holds 19 ≥ 18.64 kWh
    assert detail["alternative_vehicle_ids"] == [full]
    # the offer is good: booking the earliest start, and the other car, are both admitted
    book(town, vehicle_id=low, start_at=jst(15.25), end_at=jst(19.25), distance_km=150)
    book(town, vehicle_id=full, start_at=jst(10), end_at=jst(14), distance_km=150)


def test_refused_when_busy_offers_the_next_free_slot(town):
    car = town.vehicles[0]
    book(town, vehicle_id=car, start_at=jst(10), end_at=jst(12), distance_km=10)
    r = book(town, expect=409, vehicle_id=car, start_at=jst(11), end_at=jst(13), distance_km=10)
    detail = r.json()["detail"]
    assert detail["reason"] == "vehicle_busy"
    # candidates step by 15 min from 11:00; [12:00, 14:00) is the first that does not overlap [10:00, 12:00)
    assert dt.datetime.fromisoformat(detail["earliest_feasible_start_at"]) == jst(12)
    assert set(detail["alternative_vehicle_ids"]) == set(town.vehicles[1:])


def test_station_booking_takes_the_first_car_that_fits(town):
    a, b, c = town.vehicles
    set_soc(town, a, 0.1)
    set_soc(town, c, 1.0)
    # 60 km = 6.696 kWh + 1.9 = 8.596 kWh needed at 09:30; a: 1.9 + 0.5 h × 2.7 = 3.25 (no); b: 9.5 + 1.35 = 10.85
    r = book(town, station_id=town.stations[0], start_at=jst(9.5), end_at=jst(11), distance_km=60).json()
    assert r["vehicle_id"] == b
    # 150 km needs 18.64 kWh: only c (19 kWh) fits
    r = book(town, station_id=town.stations[0], start_at=jst(9.5), end_at=jst(11), distance_km=150).json()
    assert r["vehicle_id"] == c
    r = book(town, expect=409, station_id=town.stations[0], start_at=jst(9.5), end_at=jst(11), distance_km=150)
    assert r.json()["detail"]["reason"] == "no_vehicle" and r.json()["detail"]["field"] == "station_id"


def test_change_and_cancel(town):
    car, other = town.vehicles[:2]
    first = book(town, vehicle_id=car, start_at=jst(10), end_at=jst(12), distance_km=10).json()
    second = book(town, vehicle_id=car, start_at=jst(13), end_at=jst(14), distance_km=10).json()
    # moving the second onto the first is refused by admission, naming the field
    r = town.client.patch(
        f"/api/v1/bookings/{second['id']}", json={"start_at": jst(11).isoformat()}, headers=town.headers
    )
    assert r.status_code == 409 and r.json()["detail"]["reason"] == "vehicle_busy"
    # a longer trip is re-admitted with its new energy: 80 km = 8.928 kWh
    r = town.client.patch(f"/api/v1/bookings/{second['id']}", json={"distance_km": 80}, headers=town.headers)
    assert r.status_code == 200 and r.json()["trip_energy_kwh"] == pytest.approx(80 * KWH_PER_KM)
    # moving it to another car
    r = town.client.patch(f"/api/v1/bookings/{second['id']}", json={"vehicle_id": other}, headers=town.headers)
    assert r.status_code == 200 and r.json()["vehicle_id"] == other
    # cancelling frees the slot
    assert town.post(f"/api/v1/bookings/{first['id']}/cancel", expect=200).json()["status"] == "cancelled"
    book(town, vehicle_id=car, start_at=jst(10), end_at=jst(12), distance_km=10)
    assert town.get("/api/v1/bookings", status="cancelled").json()[0]["id"] == first["id"]


def test_late_return_replans_following_bookings(town):
    c1, c2, c3 = town.vehicles
    town.client.patch(f"/api/v1/vehicles/{c3}", json={"is_disabled": True}, headers=town.headers)
    b1 = book(town, vehicle_id=c1, start_at=jst(10), end_at=jst(12), distance_km=40).json()
    b2 = book(town, vehicle_id=c1, start_at=jst(12.5), end_at=jst(14), distance_km=60).json()
    # c1 at 18:00 on time: 9.5 + 2.7 − 4.464 + 1.35 − 6.696 + 4 h × 2.7 = 13.19 ≥ 11.16 + 1.9 = 13.06 kWh: admitted
    b3 = book(town, vehicle_id=c1, start_at=jst(18), end_at=jst(20), distance_km=100).json()
    b4 = book(town, vehicle_id=c2, start_at=jst(17.5), end_at=jst(19), distance_km=10).json()
    town.clock.now = jst(11.5).astimezone(dt.UTC)
    r = town.post(
        f"/api/v1/bookings/{b1['id']}/late-return",
        {"expected_return_at": jst(15).isoformat(), "soc_fraction": 0.0},
        200,
    ).json()
    affected = {a["booking_id"]: a for a in r["affected"]}
    # b2 starts at 12:30, before c1 is back (15:00). c2 holds 9.5 kWh at 11:30 + 1 h × 2.7 = 12.2 ≥ 6.696 + 1.9 at
    # 12:30, and still 5.504 + 3.5 h × 2.7 = 14.95 ≥ 1.116 + 1.9 for its own b4 at 17:30: b2 moves to c2
    assert affected[b2["id"]]["status"] == "reassigned" and affected[b2["id"]]["vehicle_id"] == c2
    assert affected[b2["id"]]["previous_vehicle_id"] == c1
    # b3 at 18:00 needs 13.06 kWh; c1 is back at 15:00 empty: 3 h × 2.7 = 8.1 kWh (short); c2 is on b4 then, c3 is
    # disabled → at risk
    assert affected[b3["id"]]["status"] == "at_risk" and affected[b3["id"]]["vehicle_id"] == c1
    assert b4["id"] not in affected
    assert town.get(f"/api/v1/bookings/{b2['id']}").json()["vehicle_id"] == c2
    alerts = town.get("/api/v1/alerts", kind="booking_at_risk").json()
    assert [a["booking_id"] for a in alerts] == [b3["id"]]
    assert dt.datetime.fromisoformat(r["booking"]["expected_return_at"]) == jst(15)
    # the car's slot now runs to 15:00: a booking of c1 at 14:45 is refused as busy
    r = book(town, expect=409, vehicle_id=c1, start_at=jst(14.75), end_at=jst(15.5), distance_km=1)
    assert r.json()["detail"]["reason"] == "vehicle_busy"
    # on return the booking completes and the SOC is recorded
    done = town.post(
        f"/api/v1/bookings/{b1['id']}/return", {"returned_at": jst(15).isoformat(), "soc_fraction": 0.05}, 200
    ).json()
    assert done["status"] == "completed"
    assert town.get(f"/api/v1/vehicles/{c1}").json()["soc_fraction"] == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"start_at": "2025-06-02T10:00:00", "end_at": "2025-06-02T12:00:00+09:00", "distance_km": 1}, "start_at", 422),
        (
            {"start_at": "2025-06-02T12:00:00+09:00", "end_at": "2025-06-02T10:00:00+09:00", "distance_km": 1},
            "end_at",
            422,
        ),
        (
            {"start_at": "2025-06-02T10:00:00+09:00", "end_at": "2025-06-02T12:00:00+09:00", "distance_km": -5},
            "distance_km",
            422,
        ),
        (
            {
                "start_at": "2025-06-02T10:00:00+09:00",
                "end_at": "2025-06-02T12:00:00+09:00",
                "distance_km": 1,
                "distnce_km": 3,
            },
            "distnce_km",
            422,
        ),
        (
            {"start_at": "2025-06-01T10:00:00+09:00", "end_at": "2025-06-01T12:00:00+09:00", "distance_km": 1},
            "start_at",
            422,
        ),
        ({"start_at": "2025-06-02T10:00:00+09:00", "end_at": "2025-06-02T12:00:00+09:00"}, "distance_km", 422),
        (
            {
                "start_at": "2025-06-02T10:00:00+09:00",
                "end_at": "2025-06-02T12:00:00+09:00",
                "distance_km": 1,
                "vehicle_id": 99999,
            },
            "vehicle_id",
            422,
        ),
    ],
    ids=[
        "naive-start",
        "end-before-start",
        "negative-distance",
        "unknown-field",
        "in-the-past",
        "missing-distance",
        "unknown-vehicle",
    ],
)
def test_bad_requests_name_the_field(town, body, field, status):
    body = {"vehicle_id": town.vehicles[0], **body} if "vehicle_id" not in body else body
    r = town.client.post("/api/v1/bookings", json=body, headers=town.headers)
    assert r.status_code == status, r.text
    assert field in r.json()["message"]
    assert town.get("/api/v1/bookings").json() == []


def test_other_bad_requests_name_the_field(town):
    r = town.client.post(
        "/api/v1/vehicles",
        json={"station_id": town.stations[0], "name": "x", "model": "nisan_sakura"},
        headers=town.headers,
    )
    assert r.status_code == 422 and "model" in r.json()["message"] and "nissan_sakura" in r.json()["message"]
    r = town.client.post(
        "/api/v1/stations", json={"name": "s", "latitude_deg": 95, "longitude_deg": 139}, headers=town.headers
    )
    assert r.status_code == 422 and "latitude_deg" in r.json()["message"]
    r = town.client.post(
        "/api/v1/chargers", json={"station_id": town.stations[0], "ocpp_id": "kaze-1-1"}, headers=town.headers
    )
    assert r.status_code == 409 and "ocpp_id" in r.json()["message"]
    r = town.client.delete(f"/api/v1/stations/{town.stations[0]}", headers=town.headers)
    assert r.status_code == 409 and "station_id" in r.json()["message"]


def _parallel(n: int, fn) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(k: int) -> None:
        barrier.wait()
        results[k] = fn(k)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_parallel_clients_never_double_book(database_url):
    """Twelve clients, each with its own connection, book one car for overlapping times at once (exactly one
    wins, the others are told the car is taken), then twelve book one car for twelve separate hours at once
    (all win: serialising never fails a request that fits)."""
    app = create_app(settings_for(database_url), clock=lambda: NOW, start_ocpp=False, start_scheduler=False)
    with ServerThread(app) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
        town = make_town(client, "para", vehicles_per_station=2, chargers_per_station=2, soc_fraction=1.0)
        car, other = town.vehicles

        def overlapping(k: int):
            with httpx.Client(base_url=server.base_url, timeout=60) as c:
                start = jst(10) + dt.timedelta(minutes=5 * k)
                return c.post(
                    "/api/v1/bookings",
                    headers=town.headers,
                    json={
                        "vehicle_id": car,
                        "start_at": start.isoformat(),
                        "end_at": (start + dt.timedelta(hours=2)).isoformat(),
                        "distance_km": 5,
                    },
                )

        answers = _parallel(12, overlapping)
        codes = sorted(r.status_code for r in answers)
        assert codes == [201] + [409] * 11, [r.text for r in answers if r.status_code not in (201, 409)]
        assert all(r.json()["detail"]["reason"] == "vehicle_busy" for r in answers if r.status_code == 409)
        assert len(client.get("/api/v1/bookings", headers=town.headers, params={"vehicle_id": car}).json()) == 1

        def separate(k: int):
            with httpx.Client(base_url=server.base_url, timeout=60) as c:
                start = jst(10) + dt.timedelta(hours=k)
                return c.post(
                    "/api/v1/bookings",
                    headers=town.headers,
                    json={
                        "vehicle_id": other,
                        "start_at": start.isoformat(),
                        "end_at": (start + dt.timedelta(minutes=30)).isoformat(),
                        "distance_km": 5,
                    },
                )

        answers = _parallel(12, separate)
        assert [r.status_code for r in answers] == [201] * 12, [r.text for r in answers if r.status_code != 201]
        stored = client.get("/api/v1/bookings", headers=town.headers, params={"vehicle_id": other}).json()
        assert len(stored) == 12


def test_energy_now_counts_departed_trips(town):
    """After its 10:00 departure (40 km = 4.464 kWh) a car that read SOC 0.5 at 09:00 holds 9.5 − 4.464 kWh until a
    new reading comes; the town-wide query and the per-car function agree."""
    from chisan.service import crud, models

    car = town.vehicles[0]
    book(town, vehicle_id=car, start_at=jst(10), end_at=jst(12), distance_km=40)
    town.clock.now = jst(11).astimezone(dt.UTC)
    with town.client.app.state.database.session() as s:
        every = crud.energies_now_kwh(s, municipality_id=town.municipality_id, now=town.clock.now)
        one = {v: crud.energy_now_kwh(s, vehicle=s.get(models.Vehicle, v), now=town.clock.now) for v in town.vehicles}
    assert every == pytest.approx(one)
    assert every[car] == pytest.approx(9.5 - 40 * KWH_PER_KM)
    assert every[town.vehicles[1]] == pytest.approx(9.5)
    # the dashboard shows the same
    shown = {v["id"]: v for v in town.get("/api/v1/dashboard").json()["vehicles"]}
    assert shown[car]["energy_kwh"] == pytest.approx(9.5 - 40 * KWH_PER_KM, abs=1e-3)
