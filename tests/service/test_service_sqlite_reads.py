"""On SQLite, reads never wait for a writer, and the schedule solve holds no transaction.

Every test writes through a second, raw ``sqlite3`` connection to the service's database file: a writer outside the
service holding SQLite's write lock (``BEGIN IMMEDIATE``) is exactly what a slow request of another town is.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from service_helpers import make_client, make_town

from chisan.service import scheduler

PROMPT_S = 2.0
"""A read answers within this while the write lock is held [s] (the lock wait would be the 30 s busy_timeout)."""


def _hold_write_lock(path) -> sqlite3.Connection:
    """A connection that holds SQLite's write lock (an open write transaction) until it is rolled back."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=5)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE vehicles SET soc_fraction = 0.3 WHERE id = (SELECT min(id) FROM vehicles)")
    return conn


def test_reads_of_another_town_answer_while_a_writer_holds_the_lock(tmp_path):
    path = tmp_path / "chisan.db"
    with make_client(f"sqlite:///{path}") as client:
        writer_town = make_town(client, "kaze", stations=1, vehicles_per_station=1, chargers_per_station=1)
        town = make_town(client, "hana", stations=1, vehicles_per_station=2, chargers_per_station=1)
        # a key that is in no cache yet: the request must look it up in the database
        fresh = town.post("/api/v1/api-keys", {"name": "reader"}).json()["key"]
        headers = {"X-API-Key": fresh}
        lock = _hold_write_lock(path)
        try:
            timings = {}
            for name, url, hdrs in (
                ("vehicles", "/api/v1/vehicles", headers),
                ("dashboard", "/api/v1/dashboard", headers),
                ("gbfs", f"/gbfs/{town.slug}/vehicle_status.json", {}),
                ("station_status", f"/gbfs/{town.slug}/station_status.json", {}),
            ):
                t0 = time.perf_counter()
                r = client.get(url, headers=hdrs)
                timings[name] = time.perf_counter() - t0
                assert r.status_code == 200, (name, r.text)
            assert max(timings.values()) < PROMPT_S, timings
            assert len(client.get("/api/v1/vehicles", headers=headers).json()) == 2
            # the lock is real: a write of the town waits for it (and goes through once it is released)
            done = {}

            def write():
                done["response"] = client.post(
                    "/api/v1/members", json={"name": "waiting resident"}, headers=town.headers
                )

            thread = threading.Thread(target=write)
            thread.start()
            thread.join(1.0)
            assert thread.is_alive() and "response" not in done
        finally:
            lock.rollback()
            lock.close()
        thread.join(10)
        assert done["response"].status_code == 201, done["response"].text
        # the writer's uncommitted change never became visible
        assert writer_town.get("/api/v1/vehicles").json()[0]["soc_fraction"] == 0.5


def test_the_schedule_solve_holds_no_transaction(tmp_path, monkeypatch):
    """While the optimiser runs, another connection can take the write lock at once (timeout 0)."""
    path = tmp_path / "chisan.db"
    probes: list[str] = []
    solve = scheduler.compute_schedule

    def probing_solve(state, **kw):
        conn = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO members (municipality_id, name, created_at) VALUES (1, 'during solve', '2025')")
            conn.execute("COMMIT")
            probes.append("write lock free")
        except sqlite3.OperationalError as err:
            probes.append(f"locked: {err}")
        finally:
            conn.close()
        return solve(state, **kw)

    monkeypatch.setattr(scheduler, "compute_schedule", probing_solve)
    with make_client(f"sqlite:///{path}") as client:
        town = make_town(client, "mizu", stations=1, vehicles_per_station=2, chargers_per_station=2)
        r = town.post("/api/v1/schedules")
        assert r.json()["n_steps"] == 144  # 36 h at 15 min
    assert probes == ["write lock free"]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM members WHERE name = 'during solve'").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM schedules").fetchone() == (1,)
    conn.close()
