"""The service bounded at the edge (issue 10): hostile and mistaken requests are 4xx, fast, with bounded memory.

The hostile requests of the issue go to a real server process (``python -m chisan.service``) on SQLite: a booking
in the year 9999, one lasting 100 years, a 42 MB body, ids of 2^63, NaN, NUL bytes. Each must be answered 4xx
within a second, and the server's peak resident memory (``VmHWM`` of /proc/<pid>/status) must stay within 100 MB of
what it was before them. The other tests pin each bound on SQLite and PostgreSQL through the app.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time

import httpx
import pytest
from service_helpers import ADMIN, NOW, jst, make_client, make_town, settings_for

from chisan.service.testing import free_port, start_server_process, stop_server_process


def _status_kb(pid: int, field: str) -> int:
    """A memory figure of /proc/<pid>/status [kB] (VmRSS: resident now, VmHWM: peak resident)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def _raw_request(port: int, head: bytes, body_size: int) -> tuple[int, float]:
    """Send a request whose body is ``body_size`` bytes over a plain socket, as far as the server reads it, and
    return the status of its answer and the seconds it took."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(head)
        chunk = b"x" * 65536
        sent = 0
        try:
            while sent < body_size:
                s.sendall(chunk[: body_size - sent])
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed without reading the rest: what it should do
        answer = b""
        try:
            while b"\r\n" not in answer:
                data = s.recv(4096)
                if not data:
                    break
                answer += data
        except ConnectionResetError:
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, time.monotonic() - t0


def test_hostile_requests_are_4xx_within_a_second_with_bounded_memory(tmp_path):
    port, ocpp_port = free_port(), free_port()
    proc = start_server_process(
        database_url=f"sqlite:///{tmp_path / 'chisan.db'}",
        port=port,
        ocpp_port=ocpp_port,
        env={"CHISAN_ADMIN_TOKEN": ADMIN, "CHISAN_SCHEDULE_INTERVAL_S": "0", "CHISAN_ACCESS_LOG": "false"},
        log_path=tmp_path / "server.log",
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            town = make_town(client, "hostile", stations=1, vehicles_per_station=1, chargers_per_station=1)
            car, h = town.vehicles[0], town.headers
            tomorrow = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
            ok = town.post(
                "/api/v1/bookings",
                {
                    "vehicle_id": car,
                    "start_at": tomorrow.isoformat(),
                    "end_at": (tomorrow + dt.timedelta(hours=2)).isoformat(),
                    "distance_km": 5,
                },
            ).json()
            rss_before_kb = _status_kb(proc.pid, "VmRSS")
            hwm_before_kb = _status_kb(proc.pid, "VmHWM")

            def booking(start: dt.datetime, end: dt.datetime) -> dict:
                return {"vehicle_id": car, "start_at": start.isoformat(), "end_at": end.isoformat(), "distance_km": 5}

            y9999 = dt.datetime(9999, 6, 1, tzinfo=dt.UTC)
            hostile = {
                "booking in the year 9999": lambda: client.post(
                    "/api/v1/bookings", headers=h, json=booking(y9999, y9999 + dt.timedelta(hours=1))
                ),
                "booking lasting 100 years": lambda: client.post(
                    "/api/v1/bookings", headers=h, json=booking(tomorrow, tomorrow.replace(year=tomorrow.year + 100))
                ),
                "booking lasting 10 years (within the years allowed)": lambda: client.post(
                    "/api/v1/bookings", headers=h, json=booking(tomorrow, tomorrow.replace(year=tomorrow.year + 10))
                ),
                "booking starting in 20 years": lambda: client.post(
                    "/api/v1/bookings",
                    headers=h,
                    json=booking(
                        tomorrow.replace(year=tomorrow.year + 20),
                        tomorrow.replace(year=tomorrow.year + 20) + dt.timedelta(hours=1),
                    ),
                ),
                "vehicle id 2^63 in the path": lambda: client.get(f"/api/v1/vehicles/{2**63}", headers=h),
                "vehicle id 2^63 in the body": lambda: client.post(
                    "/api/v1/bookings", headers=h, json={**booking(tomorrow, tomorrow), "vehicle_id": 2**63}
                ),
                "booking id 2^31 in the path": lambda: client.get(f"/api/v1/bookings/{2**31}", headers=h),
                "NaN distance": lambda: client.post(
                    "/api/v1/bookings",
                    headers={**h, "Content-Type": "application/json"},
                    content=json.dumps(booking(tomorrow, tomorrow + dt.timedelta(hours=1))).replace("5}", "NaN}"),
                ),
                "Infinity SoC": lambda: client.post(
                    f"/api/v1/vehicles/{car}/telemetry",
                    headers={**h, "Content-Type": "application/json"},
                    content=b'{"soc_fraction": Infinity, "measured_at": "2025-06-02T00:00:00Z"}',
                ),
                "NUL in a name": lambda: client.post("/api/v1/members", headers=h, json={"name": "a\x00b"}),
                "NUL in the public feed's path": lambda: client.get("/gbfs/a%00b/gbfs.json"),
                "null start in a PATCH": lambda: client.patch(
                    f"/api/v1/bookings/{ok['id']}", headers=h, json={"start_at": None}
                ),
                "forecast in the year 9999": lambda: client.get(
                    "/api/v1/forecast/pv", headers=h, params={"start_at": "9999-12-31T20:00:00+00:00"}
                ),
                "metrics of 9999-12-31": lambda: client.get(
                    "/api/v1/metrics/stations", headers=h, params={"day": "9999-12-31"}
                ),
                "telemetry a day ahead": lambda: client.post(
                    f"/api/v1/vehicles/{car}/telemetry",
                    headers=h,
                    json={"soc_fraction": 0.03, "measured_at": tomorrow.isoformat()},
                ),
                "20 KB of headers": lambda: client.get("/api/v1/vehicles", headers={**h, "X-Pad": "p" * 20_000}),
                "900 KB name (the 422 must not repeat it)": lambda: client.post(
                    "/api/v1/members", headers=h, json={"name": "n" * 900_000}
                ),
            }
            answers = {}
            for name, send in hostile.items():
                t0 = time.monotonic()
                r = send()
                answers[name] = (r.status_code, time.monotonic() - t0, len(r.content))
            # 42 MB of JSON (a list of zeros) to the booking route, over a socket as a client would stream it
            size = 42 * 1024 * 1024
            head = (
                f"POST /api/v1/bookings HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {town.key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
            ).encode()
            status, seconds = _raw_request(port, head, size)
            answers["42 MB body"] = (status, seconds, 0)
            # 1 MB of headers, which no client sends
            head = f"GET /api/v1/vehicles HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: {'p' * 1_000_000}\r\n\r\n".encode()
            status, seconds = _raw_request(port, head, 0)
            answers["1 MB of headers"] = (status, seconds, 0)
            # the server still works, and the hostile requests stored nothing
            listed = client.get("/api/v1/bookings", headers=h).json()
            rss_after_kb = _status_kb(proc.pid, "VmRSS")
            hwm_after_kb = _status_kb(proc.pid, "VmHWM")
    finally:
        stop_server_process(proc)
    report = "\n".join(f"{n}: {c} in {s * 1000:.0f} ms, {b} bytes" for n, (c, s, b) in answers.items())
    print(f"\n{report}\nRSS {rss_before_kb} -> {rss_after_kb} kB, peak {hwm_before_kb} -> {hwm_after_kb} kB")
    for name, (code, seconds, body_bytes) in answers.items():
        assert 400 <= code < 500, f"{name}: {code}\n{report}"
        assert seconds < 1.0, f"{name}: {seconds:.2f} s\n{report}"
        assert body_bytes < 4096, f"{name}: the answer repeats the input ({body_bytes} bytes)"
    assert answers["42 MB body"][0] == 413 and answers["20 KB of headers"][0] == 431
    assert [b["id"] for b in listed] == [ok["id"]]
    assert hwm_after_kb - hwm_before_kb < 100 * 1024, report


# --- each bound, through the app, on SQLite and PostgreSQL (the tests' clock: NOW, Monday 2 June 2025 09:00 JST)


def _booking(car: int, start: dt.datetime, end: dt.datetime, km: float = 1.0) -> dict:
    return {"vehicle_id": car, "start_at": start.isoformat(), "end_at": end.isoformat(), "distance_km": km}


def test_booking_horizon_and_span_are_configurable_bounds(database_url):
    # 2 days ahead at most, 24 h at most: the bounds are inclusive, one step beyond is refused naming the field
    with make_client(database_url, booking_horizon_days=2, booking_max_hours=24) as client:
        town = make_town(client, "bounds", soc_fraction=0.9)
        car = town.vehicles[0]
        last = NOW + dt.timedelta(days=2)
        town.post("/api/v1/bookings", _booking(car, last, last + dt.timedelta(hours=1)), 201)
        r = town.post(
            "/api/v1/bookings", _booking(car, last + dt.timedelta(minutes=15), last + dt.timedelta(hours=3)), 422
        )
        assert r.json()["detail"][0]["loc"] == ["body", "start_at"] and "2 days ahead" in r.json()["message"]
        start = NOW + dt.timedelta(hours=3)
        town.post("/api/v1/bookings", _booking(town.vehicles[1], start, start + dt.timedelta(hours=24)), 201)
        r = town.post("/api/v1/bookings", _booking(car, start, start + dt.timedelta(hours=24, minutes=15)), 422)
        assert r.json()["detail"][0]["loc"] == ["body", "end_at"]
        assert "24.25 h" in r.json()["message"] and "at most 24 h" in r.json()["message"]
        # years outside 2000..2099 are refused by the schema, on every route that takes a time or a day
        r = town.post(
            "/api/v1/bookings",
            _booking(car, dt.datetime(2100, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 2, tzinfo=dt.UTC)),
            422,
        )
        assert r.json()["detail"][0]["loc"] == ["body", "start_at"]
        assert town.get("/api/v1/metrics/stations", day="1999-12-31").status_code == 422
        assert town.get("/api/v1/forecast/pv", start_at="2100-01-01T00:00:00Z").status_code == 422
        assert town.get("/api/v1/bookings", start_from="0001-01-01T00:00:00Z").status_code == 422


def test_patch_return_and_telemetry_cannot_rewrite_time(database_url):
    with make_client(database_url) as client:
        town = make_town(client, "timely", soc_fraction=0.9)
        car = town.vehicles[0]
        b = town.post("/api/v1/bookings", _booking(car, jst(12), jst(14))).json()
        path = f"/api/v1/bookings/{b['id']}"
        for field in ("start_at", "end_at", "vehicle_id", "distance_km"):
            r = client.patch(path, headers=town.headers, json={field: None})
            assert r.status_code == 422, r.text
            assert r.json()["detail"][0]["loc"] == ["body", field] and "must not be null" in r.json()["message"]
        r = client.patch(path, headers=town.headers, json={"member_id": None})  # a member is optional: null is fine
        assert r.status_code == 200 and r.json()["member_id"] is None
        r = client.patch(path, headers=town.headers, json={"start_at": jst(8).isoformat()})  # NOW is 09:00 JST
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "start_at"], r.text
        r = client.patch(path, headers=town.headers, json={"end_at": jst(11).isoformat()})  # before its start
        assert r.status_code == 422 and "must be after start_at" in r.json()["message"]
        r = town.post(f"{path}/return", {"returned_at": jst(11).isoformat()}, 422)
        assert r.json()["detail"][0]["loc"] == ["body", "returned_at"] and "before the booking started" in r.text
        # telemetry: 5 minutes of clock skew allowed (default), one second more refused
        tel = f"/api/v1/vehicles/{car}/telemetry"
        town.post(tel, {"soc_fraction": 0.8, "measured_at": (NOW + dt.timedelta(seconds=300)).isoformat()}, 200)
        r = town.post(tel, {"soc_fraction": 0.03, "measured_at": (NOW + dt.timedelta(seconds=301)).isoformat()}, 422)
        assert r.json()["detail"][0]["loc"] == ["body", "measured_at"] and "in the future" in r.json()["message"]
        assert client.get(f"/api/v1/vehicles/{car}", headers=town.headers).json()["soc_fraction"] == 0.8


def test_idempotency_key_books_once(database_url):
    with make_client(database_url) as client:
        town = make_town(client, "idem", soc_fraction=0.9)
        other = make_town(client, "idem-other", soc_fraction=0.9)
        body = _booking(town.vehicles[0], jst(12), jst(14))
        key = {"Idempotency-Key": "3f0c5a1e-booking-1"}
        first = client.post("/api/v1/bookings", headers={**town.headers, **key}, json=body)
        again = client.post("/api/v1/bookings", headers={**town.headers, **key}, json=body)
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert [b["id"] for b in town.get("/api/v1/bookings").json()] == [first.json()["id"]]
        changed = client.post("/api/v1/bookings", headers={**town.headers, **key}, json={**body, "distance_km": 2})
        assert changed.status_code == 422 and changed.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
        # the same key in another town is that town's own
        theirs = client.post(
            "/api/v1/bookings", headers={**other.headers, **key}, json=_booking(other.vehicles[0], jst(12), jst(14))
        )
        assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
        # without a key, the same body is a second request: the car is taken
        assert client.post("/api/v1/bookings", headers=town.headers, json=body).status_code == 409


def test_admission_time_budget_answers_503_and_stores_nothing(database_url):
    with make_client(database_url, request_budget_s=1e-9) as client:
        town = make_town(client, "hurry", soc_fraction=0.9)
        r = client.post("/api/v1/bookings", headers=town.headers, json=_booking(town.vehicles[0], jst(12), jst(14)))
        assert r.status_code == 503 and r.headers["Retry-After"] == "5", r.text
        assert "time budget" in r.json()["message"]
        assert town.get("/api/v1/bookings").json() == []


def test_database_gone_is_503_and_broken_schema_is_500_with_request_id(pg):
    import psycopg
    from fastapi.testclient import TestClient

    from chisan.service.main import create_app

    url = pg.create_database("edge_gone")
    app = create_app(settings_for(url), clock=lambda: NOW, start_ocpp=False, start_scheduler=False)
    with TestClient(app, raise_server_exceptions=False) as client:  # the answer a client sees, not the traceback
        town = make_town(client, "gone")
        r = client.get("/api/v1/stations", headers={**town.headers, "X-Request-ID": "req-42"})
        assert r.status_code == 200 and r.headers["X-Request-ID"] == "req-42"
        with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres dbname=edge_gone", autocommit=True) as c:
            c.execute("DROP TABLE alerts CASCADE")  # a broken schema: an error the service cannot expect
        r = client.get("/api/v1/alerts", headers=town.headers)
        assert r.status_code == 500 and r.json()["request_id"] == r.headers["X-Request-ID"]
        assert r.json()["request_id"] in r.json()["message"] and "Traceback" not in r.text
        with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute('DROP DATABASE "edge_gone" WITH (FORCE)')
        r = client.get("/api/v1/stations", headers=town.headers)
        assert r.status_code == 503 and r.headers["Retry-After"] == "5", r.text
        assert r.json()["message"] == "the database is unavailable; try again later"


# --- the admission's work does not grow with how long or how far ahead bookings are


def _reference_check(battery, energy_now, frame, now, dt_hours=0.25):
    """energy_check on the full grid from now to the last end (no compression): the second implementation."""
    import numpy as np

    from chisan.plan.dispatch import minimum_energy_kwh
    from chisan.service import admission

    snapshots = admission._grid(now, max([now, *frame["end"]]), dt_hours)
    plugged, trips = admission.trip_frames([frame], snapshots, dt_hours)
    need = minimum_energy_kwh(admission._inputs(battery, snapshots, dt_hours, plugged, trips), cyclic=False).to_numpy()
    gain = plugged[0] * battery.charge_efficiency * battery.charge_kw * dt_hours
    need_now = float(np.maximum(battery.reserve_kwh, need[0] + trips[0] - gain)[0])
    ok = need_now <= energy_now + admission.TOLERANCE_KWH and need.max() <= battery.usable_kwh + admission.TOLERANCE_KWH
    return ok, need_now, len(snapshots)


def _frame(rows):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["start", "end", "trip_energy_kwh"])
    for c in ("start", "end"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    return frame


def test_compressed_admission_matches_the_full_grid():
    """On random trip sets (seeded) the compressed check gives the full grid's need and verdict exactly."""
    import random

    from chisan.service import admission

    rng = random.Random(10)
    now = NOW + dt.timedelta(minutes=7)  # not on a step boundary
    for case in range(200):
        battery = admission.Battery(
            usable_kwh=20.0, reserve_kwh=2.0, charge_efficiency=0.9, charge_kw=rng.choice([0.0, 1.5, 3.0, 6.0])
        )
        rows, t = [], now - dt.timedelta(hours=rng.choice([0, 0, 5]))  # sometimes a trip under way
        for _ in range(rng.randint(1, 6)):
            start = t + dt.timedelta(minutes=rng.randint(0, 20 * 24 * 60))
            end = start + dt.timedelta(minutes=rng.randint(10, 7 * 24 * 60))
            rows.append((start, end, rng.uniform(0.5, 12.0)))
            t = end
        frame = _frame(rows)
        energy_now = rng.uniform(2.0, 20.0)
        ok, need, _ = _reference_check(battery, energy_now, frame, now)
        got = admission.energy_check(battery, energy_now, [frame], now=now)
        assert bool(got.ok[0]) == ok and float(got.need_now_kwh[0]) == pytest.approx(need, abs=1e-9), case
    # a week-long trip 89 days ahead: the full grid has 9,217 steps, the compressed one a few dozen
    battery = admission.Battery(usable_kwh=20.0, reserve_kwh=2.0, charge_efficiency=0.9, charge_kw=3.0)
    far = now + dt.timedelta(days=89)
    frame = _frame([(far, far + dt.timedelta(days=7), 10.0)])
    compressed, _ = admission.compress_trips(
        frame, now=now, dt_hours=0.25, idle_steps=admission._idle_steps(battery, 0.25)
    )
    steps = admission._grid(now, compressed["end"].max(), 0.25).size
    # idle steps: ceil((20 − 2) / (0.9 × 3 × 0.25)) + 2 = ceil(26.67) + 2 = 29; + 1 step away + 1 boundary step
    assert _reference_check(battery, 5.0, frame, now)[2] == 9217 and steps <= 31


def test_earliest_feasible_start_matches_brute_force():
    """earliest_feasible_start (compressed, all candidates at once) equals trying each candidate on the full grid."""
    import random

    import pandas as pd

    from chisan.service import admission

    rng = random.Random(11)
    now = NOW + dt.timedelta(minutes=3)
    for case in range(25):
        battery = admission.Battery(
            usable_kwh=20.0, reserve_kwh=2.0, charge_efficiency=0.9, charge_kw=rng.choice([1.0, 3.0])
        )
        rows, t = [], now
        for _ in range(rng.randint(1, 4)):
            start = t + dt.timedelta(minutes=rng.randint(0, 6 * 24 * 60))
            end = start + dt.timedelta(minutes=rng.randint(30, 3 * 24 * 60))
            rows.append((start, end, rng.uniform(1.0, 12.0)))
            t = end
        others = _frame(rows)
        start = now + dt.timedelta(hours=rng.uniform(1, 72))
        end = start + dt.timedelta(hours=rng.uniform(1, 30))
        energy, e_now = rng.uniform(1, 15), rng.uniform(2, 12)
        got = admission.earliest_feasible_start(
            battery, e_now, others, start=start, end=end, trip_energy_kwh=energy, now=now
        )
        expected = None
        for k in range(1, 193):
            c = start + k * dt.timedelta(minutes=15)
            if any(s < c + (end - start) and c < e for s, e, _ in rows):
                continue
            trial = pd.concat([others, _frame([(c, c + (end - start), energy)])], ignore_index=True)
            if _reference_check(battery, e_now, trial.sort_values("start"), now)[0]:
                expected = c
                break
        assert got == expected, case


def test_idempotency_key_sent_concurrently_books_once(database_url):
    """Eight clients send the same request with the same key at once (real HTTP, a server thread): one booking,
    and every answer is it (201, same body)."""
    from concurrent.futures import ThreadPoolExecutor

    from chisan.service.main import create_app
    from chisan.service.testing import ServerThread

    app = create_app(settings_for(database_url), clock=lambda: NOW, start_ocpp=False, start_scheduler=False)
    with ServerThread(app) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        town = make_town(client, "retry", soc_fraction=0.9)
        body = _booking(town.vehicles[0], jst(12), jst(14))
        headers = {**town.headers, "Idempotency-Key": "same-request-sent-8-times"}

        def send(_):
            with httpx.Client(base_url=server.base_url, timeout=30) as c:
                return c.post("/api/v1/bookings", headers=headers, json=body)

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(send, range(8)))
        assert [r.status_code for r in answers] == [201] * 8, [r.text for r in answers]
        assert len({r.text for r in answers}) == 1
        assert [b["id"] for b in town.get("/api/v1/bookings").json()] == [answers[0].json()["id"]]


def test_prices_and_sizes_are_finite_and_a_schedule_still_runs(database_url):
    """The largest values the schema allows (1e7) are accepted and a schedule runs on them; one more is a 422."""
    with make_client(database_url) as client:
        town = make_town(client, "extreme", soc_fraction=0.3)
        h = town.headers
        r = client.patch("/api/v1/municipality", headers=h, json={"import_price_per_kwh": 1e7, "pv_kw": 1e7})
        assert r.status_code == 200, r.text
        r = client.patch("/api/v1/municipality", headers=h, json={"import_price_per_kwh": 1.0000001e7})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "import_price_per_kwh"]
        town.post("/api/v1/bookings", _booking(town.vehicles[0], jst(15), jst(16), km=30))
        assert town.post("/api/v1/schedules", None, 201).json()["n_steps"] == 144  # 36 h at 15 min
        assert client.get("/api/v1/vehicles?x=" + "q" * 20_000, headers=h).status_code == 431  # a long URL
