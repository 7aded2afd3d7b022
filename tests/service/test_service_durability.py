"""Nothing lost: the service runs as ``python -m chisan.service`` in a subprocess and is killed with SIGKILL.

- Under a load of booking requests, every booking the service acknowledged (201) is there after a restart.
- A charge point's transaction started before the kill goes on after the restart: the service sends its profile
  again when the charger reconnects, takes its meter values and closes it on StopTransaction.
- Started with no database URL, the service creates its SQLite file; with ``--scenario`` it loads the town.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, ChargingProfileStatus
from service_helpers import ADMIN, make_town

from chisan.service.testing import free_port, start_server_process, stop_server_process

ENV = {"CHISAN_ADMIN_TOKEN": ADMIN, "CHISAN_SCHEDULE_INTERVAL_S": "0"}


class Server:
    """``python -m chisan.service`` on fixed ports, restartable."""

    def __init__(self, url: str, tmp_path, **kw) -> None:
        self.url, self.tmp, self.kw = url, tmp_path, kw
        self.port, self.ocpp_port = free_port(), free_port()
        self.log = tmp_path / "server.log"
        self.proc = None

    def start(self) -> Server:
        self.proc = start_server_process(
            database_url=self.url, port=self.port, ocpp_port=self.ocpp_port, env=ENV, log_path=self.log, **self.kw
        )
        return self

    def kill(self) -> None:
        stop_server_process(self.proc, kill=True)

    def stop(self) -> None:
        if self.proc is not None:
            stop_server_process(self.proc)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def test_kill_9_under_load_loses_no_acknowledged_booking(database_url, tmp_path):
    server = Server(database_url, tmp_path).start()
    try:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            town = make_town(client, "tsuchi", vehicles_per_station=20, chargers_per_station=20, soc_fraction=1.0)
        day0 = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=2)
        acknowledged: dict[int, tuple] = {}
        lock = threading.Lock()
        stop = threading.Event()
        counter = iter(range(10**6))

        def client_loop() -> None:
            with httpx.Client(base_url=server.base, timeout=10) as c:
                while not stop.is_set():
                    with lock:
                        k = next(counter)
                    car = town.vehicles[k % 20]
                    start = day0 + dt.timedelta(hours=2 * (k // 20))
                    body = {
                        "vehicle_id": car,
                        "start_at": start.isoformat(),
                        "end_at": (start + dt.timedelta(hours=1)).isoformat(),
                        "distance_km": 3.0,
                    }
                    try:
                        r = c.post("/api/v1/bookings", json=body, headers=town.headers)
                    except httpx.HTTPError:
                        return  # the server is gone
                    if r.status_code == 201:
                        with lock:
                            acknowledged[r.json()["id"]] = (car, start)

        threads = [threading.Thread(target=client_loop) for _ in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()  # mid-load: requests are in flight
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert len(acknowledged) >= 150
        server.start()
        with httpx.Client(base_url=server.base, timeout=30) as client:
            stored = client.get("/api/v1/bookings", headers=town.headers).json()
        by_id = {b["id"]: b for b in stored}
        missing = sorted(set(acknowledged) - set(by_id))
        assert missing == []
        for bid, (car, start) in acknowledged.items():
            assert by_id[bid]["vehicle_id"] == car
            assert dt.datetime.fromisoformat(by_id[bid]["start_at"]) == start
        # and the database still refuses doubles after the crash
        assert len({(b["vehicle_id"], b["start_at"]) for b in stored}) == len(stored)
    finally:
        server.stop()


class Resuming(ChargePoint):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.profiles = []

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id, cs_charging_profiles, **kwargs):
        self.profiles.append(cs_charging_profiles)
        return call_result.SetChargingProfile(status=ChargingProfileStatus.accepted)


async def _until(predicate, timeout_s=20.0):
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError
        await asyncio.sleep(0.05)


def test_restart_resumes_charging_sessions(sqlite_url, tmp_path):
    server = Server(sqlite_url, tmp_path).start()
    try:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            town = make_town(client, "kumo", vehicles_per_station=1, chargers_per_station=1, soc_fraction=0.2)
            start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=8)
            town.post(
                "/api/v1/bookings",
                {
                    "vehicle_id": town.vehicles[0],
                    "start_at": start.isoformat(),
                    "end_at": (start + dt.timedelta(hours=1)).isoformat(),
                    "distance_km": 50,
                },
            )
            schedule_id = town.post("/api/v1/schedules").json()["id"]

        def stamp() -> str:
            return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        async def before_kill() -> int:
            async with websockets.connect(
                f"ws://127.0.0.1:{server.ocpp_port}/kumo-1-1", subprotocols=["ocpp1.6"]
            ) as ws:
                cp = Resuming("kumo-1-1", ws)
                task = asyncio.create_task(cp.start())
                await cp.call(call.BootNotification(charge_point_model="m", charge_point_vendor="v"))
                tx = await cp.call(
                    call.StartTransaction(connector_id=1, id_tag="kumo-1-1", meter_start=100, timestamp=stamp())
                )
                await _until(lambda: cp.profiles)
                assert cp.profiles[0]["transaction_id"] == tx.transaction_id
                await cp.call(
                    call.MeterValues(
                        connector_id=1,
                        transaction_id=tx.transaction_id,
                        meter_value=[{"timestamp": stamp(), "sampledValue": [{"value": "600", "unit": "Wh"}]}],
                    )
                )
                server.kill()
                task.cancel()
                return tx.transaction_id

        tx = asyncio.run(before_kill())
        server.start()

        async def after_restart() -> Resuming:
            async with websockets.connect(
                f"ws://127.0.0.1:{server.ocpp_port}/kumo-1-1", subprotocols=["ocpp1.6"]
            ) as ws:
                cp = Resuming("kumo-1-1", ws)
                task = asyncio.create_task(cp.start())
                # no new boot, no new transaction: the restarted service sends the running one its profile again
                await _until(lambda: cp.profiles)
                assert cp.profiles[0]["transaction_id"] == tx
                assert cp.profiles[0]["charging_profile_id"] == schedule_id
                r = await cp.call(
                    call.MeterValues(
                        connector_id=1,
                        transaction_id=tx,
                        meter_value=[{"timestamp": stamp(), "sampledValue": [{"value": "1600", "unit": "Wh"}]}],
                    )
                )
                assert r is not None
                r = await cp.call(call.StopTransaction(meter_stop=2100, timestamp=stamp(), transaction_id=tx))
                assert r.id_tag_info["status"] == "Accepted"
                task.cancel()
                return cp

        asyncio.run(after_restart())
        with httpx.Client(base_url=server.base, timeout=30) as client:
            sessions = client.get("/api/v1/charging-sessions", headers=town.headers).json()
        assert [(s["id"], s["status"], s["meter_start_wh"], s["energy_wh"]) for s in sessions] == [
            (tx, "stopped", 100.0, 2000.0)
        ]
    finally:
        server.stop()


SCENARIO = """
[municipality]
name = "Minato Test"
code = "999999"
latitude_deg = 35.66
longitude_deg = 139.75
population = 1000

[[stations]]
name = "Hall"
vehicles = 2
chargers = 2
charger_kw = 3.0

[technologies.pv]
fixed_kw = 40.0
"""


def test_first_start_creates_sqlite_and_loads_the_scenario(tmp_path):
    scenario = tmp_path / "town.toml"
    scenario.write_text(SCENARIO)
    env = {**ENV, "CHISAN_SCENARIO_PATH": str(scenario)}
    port, ocpp_port = free_port(), free_port()
    log = tmp_path / "server.log"
    assert not (tmp_path / "chisan.db").exists()
    proc = start_server_process(database_url="", port=port, ocpp_port=ocpp_port, env=env, log_path=log, cwd=tmp_path)
    try:
        assert (tmp_path / "chisan.db").is_file()
        deadline = time.monotonic() + 30
        while "API key" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        key = re.search(r"(chisan_[A-Za-z0-9_-]{20,})", log.read_text()).group(1)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            h = {"X-API-Key": key}
            town = client.get("/api/v1/municipality", headers=h).json()
            assert (town["slug"], town["name"], town["pv_kw"]) == ("999999", "Minato Test", 40.0)
            assert [c["ocpp_id"] for c in client.get("/api/v1/chargers", headers=h).json()] == [
                "999999-Hall-1",
                "999999-Hall-2",
            ]
            assert len(client.get("/api/v1/vehicles", headers=h).json()) == 2
            schedule = client.post("/api/v1/schedules", headers=h).json()
            # the PV forecast comes from the scenario's (synthetic) weather: 40 kWp gives output in daylight
            assert max(schedule["pv_kw"]) > 0.0 and min(schedule["pv_kw"]) == 0.0
            assert max(schedule["pv_kw"]) <= 40.0
            docs = client.get("/openapi.json").json()
            assert "/api/v1/bookings" in docs["paths"]
    finally:
        stop_server_process(proc)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'chisan.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0004"
    engine.dispose()


def child_processes(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                out.append(int(stat.parent.name))
        except OSError:
            continue
    return out


@pytest.mark.parametrize("workers", [2])
def test_extra_workers_serve_the_api(sqlite_url, tmp_path, workers):
    """With two processes on the REST port, requests are answered by both and see one database."""
    server = Server(sqlite_url, tmp_path, workers=workers).start()
    try:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            town = make_town(client, "futa", vehicles_per_station=1, chargers_per_station=1)
            # new connections land on either process; each sees the same town
            for _ in range(20):
                with httpx.Client(base_url=server.base, timeout=30) as c:
                    assert c.get("/api/v1/municipality", headers=town.headers).json()["slug"] == "futa"
        deadline = time.monotonic() + 20
        while len(children := child_processes(server.proc.pid)) < workers - 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(children) >= workers - 1
    finally:
        server.stop()
