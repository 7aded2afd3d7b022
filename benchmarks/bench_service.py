"""Load test of the operations service on loopback; prints one table.

1. Booking creation on PostgreSQL: requests sent open-loop at a fixed rate (default 300/s) for a while, each a
   new booking of one of 500 cars; latency counted from the moment each request was due (no coordinated
   omission). Target: the rate sustained with p99 ≤ 100 ms and every request answered 201. The row also
   counts PostgreSQL's COMMITs slower than 50 ms: each waits for the write-ahead log to reach the disk, and one
   flush that stalls holds every booking behind it (``disk_fsync.py`` measures the disk alone).
2. 200 OCPP 1.6J charge points (real ``ocpp`` clients over websockets) connected at once: boot, status, start a
   transaction, then MeterValues every 10 s. Target: no error, no timeout.
3. A 36 h / 15 min schedule for 500 cars at 50 stations: built, solved (linopy/HiGHS), verified. Target ≤ 5 s.

The service runs as ``python -m chisan.service --workers 2`` (two processes on the REST port, the first also
running OCPP) on a throwaway PostgreSQL cluster (Debian's package, chisan.service.testing); nothing is
downloaded. The load generator, PostgreSQL and the service share the machine: on two cores, the booking figures
hold only when nothing else is running (the server needs ≈ 2–3 ms of CPU per booking, ≈ 0.6–0.9 core at 300/s).

Run: ``.venv/bin/python benchmarks/bench_service.py [--rate 300] [--seconds 20] [--ocpp-seconds 60] [--workers 2]
[--parts booking,ocpp,schedule]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, ChargingProfileStatus

from chisan.service.scheduler import compute_schedule
from chisan.service.testing import free_port, postgres_cluster, start_server_process, synthetic_state

ADMIN = "bench-admin"
SLOW_STATEMENT_MS = 50
"""Statements slower than this are logged by the benchmark's PostgreSQL [ms]."""
N_STATIONS = 50
CARS_PER_STATION = 10
JST = dt.timezone(dt.timedelta(hours=9))


async def _gather_limited(coros, limit: int = 32):
    sem = asyncio.Semaphore(limit)

    async def one(c):
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


async def make_town(base: str) -> tuple[str, list[int], list[str]]:
    """A town of 50 stations × 10 cars and 10 chargers, made through the API; returns key, car ids, charger ids."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        r = await c.post(
            "/api/v1/admin/municipalities",
            headers={"X-Admin-Token": ADMIN},
            json={"slug": "bench", "name": "Bench", "latitude_deg": 35.7, "longitude_deg": 139.7, "pv_kw": 300},
        )
        r.raise_for_status()
        key = r.json()["api_key"]["key"]
        h = {"X-API-Key": key}
        stations = await _gather_limited(
            c.post(
                "/api/v1/stations",
                headers=h,
                json={
                    "name": f"S{s:02d}",
                    "latitude_deg": 35.7 + s / 1000,
                    "longitude_deg": 139.7,
                    "charger_kw": 3.0,
                    "connection_limit_kw": 24.0,
                },
            )
            for s in range(N_STATIONS)
        )
        sids = [r.json()["id"] for r in stations]
        chargers = await _gather_limited(
            c.post("/api/v1/chargers", headers=h, json={"station_id": sid, "ocpp_id": f"CP-{sid}-{k}"})
            for sid in sids
            for k in range(CARS_PER_STATION)
        )
        cars = await _gather_limited(
            c.post(
                "/api/v1/vehicles",
                headers=h,
                json={"station_id": sid, "name": f"car-{sid}-{k}", "id_tag": f"T{sid}-{k}", "soc_fraction": 1.0},
            )
            for sid in sids
            for k in range(CARS_PER_STATION)
        )
        for r in (*chargers, *cars):
            r.raise_for_status()
        # each charger authenticates its connection (OCPP security profile 1) with a key the town sets
        keys = await _gather_limited(
            c.post(f"/api/v1/chargers/{r.json()['id']}/authorization-key", headers=h) for r in chargers
        )
        for r in keys:
            r.raise_for_status()
            CHARGER_KEYS[r.json()["ocpp_id"]] = r.json()["authorization_key"]
        return key, [r.json()["id"] for r in cars], [r.json()["ocpp_id"] for r in chargers]


class RawHttp:
    """A minimal HTTP/1.1 keep-alive client (JSON POSTs), so that the load generator costs little CPU.

    httpx is used everywhere else; here each request must cost the generator far less than it costs the server,
    on a machine whose two cores the server and PostgreSQL share with it.
    """

    def __init__(self, host: str, port: int, connections: int) -> None:
        self.host, self.port, self.n = host, port, connections
        self.pool: asyncio.Queue = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.n):
            self.pool.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def close(self) -> None:
        while not self.pool.empty():
            _, w = self.pool.get_nowait()
            w.close()

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        reader, writer = await self.pool.get()
        try:
            head = [
                f"POST {path} HTTP/1.1",
                f"Host: {self.host}:{self.port}",
                "Content-Type: application/json",
                f"Content-Length: {len(body)}",
                *(f"{k}: {v}" for k, v in headers.items()),
                "",
                "",
            ]
            writer.write("\r\n".join(head).encode() + body)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            data = await reader.readexactly(length)
            self.pool.put_nowait((reader, writer))
            return status, data
        except Exception:
            writer.close()
            self.pool.put_nowait(await asyncio.open_connection(self.host, self.port))
            raise


async def booking_load(base: str, key: str, cars: list[int], rate: float, seconds: float, day: int = 1) -> dict:
    """Open-loop booking creation at ``rate`` per second; latency from each request's due time [ms].

    Bookings start ``day`` days from now (different days never overlap).
    """
    n = int(rate * seconds)
    day0 = dt.datetime.now(JST).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=day)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    host, port = base.removeprefix("http://").split(":")
    client = RawHttp(host, int(port), connections=64)
    await client.open()
    h = {"X-API-Key": key}

    async def one(k: int, due: float) -> None:
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        car = cars[k % len(cars)]
        slot = k // len(cars)  # each car gets bookings 1 h long, 2 h apart: never overlapping
        start = day0 + dt.timedelta(hours=2 * slot)
        body = json.dumps(
            {
                "vehicle_id": car,
                "start_at": start.isoformat(),
                "end_at": (start + dt.timedelta(hours=1)).isoformat(),
                "distance_km": 5.0,
            }
        ).encode()
        try:
            code, _ = await asyncio.wait_for(client.post("/api/v1/bookings", h, body), timeout=30)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
            code = 0
        latencies.append((time.perf_counter() - due) * 1000.0)
        statuses[code] = statuses.get(code, 0) + 1

    t0 = time.perf_counter() + 0.5
    await asyncio.gather(*(one(k, t0 + k / rate) for k in range(n)))
    elapsed = time.perf_counter() - t0
    await client.close()
    lat = np.array(latencies)
    return {
        "requests": n,
        "ok": statuses.get(201, 0),
        "statuses": statuses,
        "throughput_per_s": statuses.get(201, 0) / elapsed,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "max_ms": float(lat.max()),
    }


CHARGER_KEYS: dict[str, str] = {}
"""Authorization key of each charger identity (HTTP Basic password), set by :func:`make_town`."""


class BenchChargePoint(ChargePoint):
    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id, cs_charging_profiles, **kwargs):
        return call_result.SetChargingProfile(status=ChargingProfileStatus.accepted)


async def charge_point(port: int, cp_id: str, id_tag: str, seconds: float, stagger: float, stats: dict) -> None:
    await asyncio.sleep(stagger)
    try:
        auth = base64.b64encode(f"{cp_id}:{CHARGER_KEYS[cp_id]}".encode()).decode()
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/{cp_id}",
            subprotocols=["ocpp1.6"],
            open_timeout=30,
            additional_headers={"Authorization": f"Basic {auth}"},
        ) as ws:
            cp = BenchChargePoint(cp_id, ws, response_timeout=30)
            listener = asyncio.create_task(cp.start())
            stats["connected"] += 1
            t = time.perf_counter()
            boot = await cp.call(call.BootNotification(charge_point_model="bench", charge_point_vendor="chisan"))
            stats["latency_ms"].append((time.perf_counter() - t) * 1000)
            if boot is None or boot.status != "Accepted":
                stats["errors"] += 1
            await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
            now = dt.datetime.now(dt.UTC)
            tx = await cp.call(
                call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=0, timestamp=now.isoformat())
            )
            if tx is None:
                stats["errors"] += 1
                return
            energy = 0
            t_end = time.perf_counter() + seconds
            while time.perf_counter() < t_end:
                await asyncio.sleep(10.0)
                energy += 8  # 3 kW for 10 s = 8.3 Wh
                t = time.perf_counter()
                r = await cp.call(
                    call.MeterValues(
                        connector_id=1,
                        transaction_id=tx.transaction_id,
                        meter_value=[
                            {
                                "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                                "sampledValue": [
                                    {"value": str(energy), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                                    {"value": "2990", "measurand": "Power.Active.Import", "unit": "W"},
                                ],
                            }
                        ],
                    )
                )
                stats["latency_ms"].append((time.perf_counter() - t) * 1000)
                stats["meter_values"] += 1
                if r is None:
                    stats["errors"] += 1
            await cp.call(
                call.StopTransaction(
                    meter_stop=energy, timestamp=dt.datetime.now(dt.UTC).isoformat(), transaction_id=tx.transaction_id
                )
            )
            listener.cancel()
    except Exception as err:  # counted, and the first few shown
        stats["errors"] += 1
        if len(stats["messages"]) < 5:
            stats["messages"].append(f"{cp_id}: {type(err).__name__}: {err}")


async def ocpp_load(port: int, charger_ids: list[str], seconds: float) -> dict:
    stats = {"connected": 0, "errors": 0, "meter_values": 0, "latency_ms": [], "messages": []}
    n = len(charger_ids)
    # each charger's id tag is the car with the same position (car-<station>-<k> ↔ CP-<station>-<k>)
    tags = [f"T{c.split('-')[1]}-{c.split('-')[2]}" for c in charger_ids]
    await asyncio.gather(
        *(
            charge_point(port, c, t, seconds, 10.0 * k / n, stats)
            for k, (c, t) in enumerate(zip(charger_ids, tags, strict=True))
        )
    )
    lat = np.array(stats["latency_ms"] or [np.nan])
    stats["p99_ms"] = float(np.nanpercentile(lat, 99))
    return stats


def schedule_timing(repeats: int = 3) -> dict:
    state = synthetic_state(n_vehicles=500, n_stations=50, seed=1)
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = compute_schedule(state, time_limit_s=4.0)
        times.append(time.perf_counter() - t)
    return {
        "seconds": times,
        "method": result.method,
        "verified": result.verified,
        "status": result.solver_status,
        "bookings": len(state.bookings),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far [s] (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Process ids of the direct children of ``pid`` (the service's extra workers)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0, help="booking requests per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the booking load [s]")
    parser.add_argument("--charge-points", type=int, default=200)
    parser.add_argument("--ocpp-seconds", type=float, default=60.0, help="duration of the meter values [s]")
    parser.add_argument("--workers", type=int, default=2, help="processes serving the REST API")
    parser.add_argument(
        "--pg-folder",
        default=None,
        help="where the throwaway PostgreSQL cluster lives (default: the system's temporary folder); "
        "/dev/shm (memory) takes the disk out of the booking latency, for diagnosis only: commits are not durable",
    )
    parser.add_argument(
        "--parts",
        default="booking,ocpp,schedule",
        help="comma-separated parts to run (booking, ocpp, schedule); default all three",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if unknown := parts - {"booking", "ocpp", "schedule"}:
        parser.error(f"--parts: unknown part(s) {', '.join(sorted(unknown))}; allowed: booking, ocpp, schedule")
    rows = []
    if parts & {"booking", "ocpp"}:
        rows += server_rows(args, parts)
    if "schedule" in parts:
        rows.append(schedule_row())
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"{'benchmark':{width[0]}}  {'target':{width[1]}}  {'measured':{width[2]}}  ok")
    for name, target, measured, ok in rows:
        print(f"{name:{width[0]}}  {target:{width[1]}}  {measured:{width[2]}}  {'yes' if ok else 'NO'}")


def server_rows(args, parts: set[str]) -> list[tuple]:
    """Rows of the booking and OCPP benchmarks, on one server process tree and PostgreSQL cluster."""
    rows = []
    # PostgreSQL logs every statement slower than SLOW_STATEMENT_MS: a booking's COMMIT waits for the WAL to reach
    # the disk (fsync on, as in production), and the table shows how long the slowest of those waits were
    settings = {"log_min_duration_statement": str(SLOW_STATEMENT_MS)}
    with (
        postgres_cluster(max_connections=300, settings=settings, folder=args.pg_folder) as pg,
        tempfile.TemporaryDirectory() as tmp,
    ):
        url = pg.create_database("bench")
        port, ocpp_port = free_port(), free_port()
        env = {
            "CHISAN_ADMIN_TOKEN": ADMIN,
            "CHISAN_SCHEDULE_INTERVAL_S": "0",
            # one key from one address at hundreds of requests a second: limits far above the load, so the
            # limiter's cost is measured without refusing anything
            "CHISAN_RATE_LIMIT_PER_KEY_PER_S": "100000",
            "CHISAN_RATE_LIMIT_PER_ADDRESS_PER_S": "100000",
        }
        server = start_server_process(
            database_url=url,
            port=port,
            ocpp_port=ocpp_port,
            env=env,
            log_path=Path(tmp) / "server.log",
            workers=args.workers,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            key, cars, chargers = asyncio.run(make_town(base))
            asyncio.run(booking_load(base, key, cars, 50.0, 2.0, day=30))  # warm-up
            if "booking" in parts:
                rows.append(booking_row(args, server, base, key, cars, pg.log_path))
            if "ocpp" in parts:
                rows.append(ocpp_row(args, ocpp_port, chargers))
        finally:
            server.terminate()
            server.wait(timeout=30)
            if os.environ.get("BENCH_SHOW_LOG"):
                print((Path(tmp) / "server.log").read_text()[-5000:], file=sys.stderr)
    return rows


def slow_commits_ms(log_path: Path, offset: int) -> list[float]:
    """Durations of the COMMITs PostgreSQL logged as slow after byte ``offset`` of its log [ms]."""
    with open(log_path, "rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    return [float(m) for m in re.findall(r"duration: ([0-9.]+) ms\s+statement: COMMIT", text)]


def booking_row(args, server, base: str, key: str, cars: list[int], pg_log: Path) -> tuple:
    """Booking creation at ``args.rate`` for ``args.seconds``, the server's CPU per booking, and the slowest
    COMMITs of PostgreSQL meanwhile (the disk's flush of the write-ahead log)."""
    pids = [server.pid, *children(server.pid)]
    cpu0 = sum(cpu_seconds(p) for p in pids)
    offset = pg_log.stat().st_size
    b = asyncio.run(booking_load(base, key, cars, args.rate, args.seconds))
    b["server_cpu_ms"] = (sum(cpu_seconds(p) for p in pids) - cpu0) * 1000.0 / b["requests"]
    commits = slow_commits_ms(pg_log, offset)
    ok = b["ok"] == b["requests"] and b["p99_ms"] <= 100.0 and b["throughput_per_s"] >= 0.97 * args.rate
    return (
        f"booking creation (PostgreSQL{' in ' + args.pg_folder if args.pg_folder else ''}, {args.workers} HTTP "
        "processes)",
        f"≥ {args.rate:.0f} req/s, p99 ≤ 100 ms, all 201",
        f"{b['throughput_per_s']:.0f} req/s, p50 {b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms, "
        f"{b['ok']}/{b['requests']} × 201, server CPU {b['server_cpu_ms']:.1f} ms/request; "
        f"COMMITs > {SLOW_STATEMENT_MS} ms: {len(commits)}, slowest {max(commits, default=0.0):.0f} ms",
        ok,
    )


def ocpp_row(args, ocpp_port: int, chargers: list[str]) -> tuple:
    """``args.charge_points`` OCPP 1.6J charge points sending MeterValues for ``args.ocpp_seconds``."""
    o = asyncio.run(ocpp_load(ocpp_port, chargers[: args.charge_points], args.ocpp_seconds))
    for m in o["messages"]:
        print("  ", m, file=sys.stderr)
    return (
        f"{args.charge_points} charge points, MeterValues every 10 s",
        "all connected, no error",
        f"{o['connected']} connected, {o['meter_values']} MeterValues, {o['errors']} errors, "
        f"p99 answer {o['p99_ms']:.1f} ms",
        o["connected"] == args.charge_points and o["errors"] == 0,
    )


def schedule_row() -> tuple:
    """The 36 h / 15 min schedule of 500 cars at 50 stations, three times."""
    s = schedule_timing()
    worst = max(s["seconds"])
    return (
        "36 h / 15 min schedule, 500 cars, 50 stations",
        "≤ 5 s, verified",
        f"{statistics.median(s['seconds']):.2f} s median, {worst:.2f} s worst ({s['method']}, "
        f"verified={s['verified']}, {s['bookings']} bookings)",
        worst <= 5.0 and s["verified"],
    )


if __name__ == "__main__":
    main()
