"""Helpers for the service's tests and benchmarks: a throwaway PostgreSQL cluster, free ports, a server process.

The cluster is Debian's PostgreSQL (package ``postgresql``), started from ``initdb``/``pg_ctl`` in a temporary
folder on a free port of 127.0.0.1, owned by an unprivileged user when run as root (PostgreSQL refuses to run as
root), and removed afterwards. Nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

POSTGRES_MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install Debian's package: "
    "`apt-get install -y postgresql postgresql-contrib` (.ci/run does this), or put initdb on PATH."
)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bindir() -> Path | None:
    """Folder holding ``initdb`` and ``pg_ctl`` (Debian's ``/usr/lib/postgresql/<v>/bin`` or PATH)."""
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True):
        if (Path(cand) / "initdb").is_file() and (Path(cand) / "pg_ctl").is_file():
            return Path(cand)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


def install_debian_packages(packages: list[str]) -> str | None:
    """Install Debian ``packages`` with apt-get (as root); returns None on success, else why it failed."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{' '.join(packages)} missing and cannot be installed here (needs root and apt-get)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=False)
    done = subprocess.run(["apt-get", "install", "-y", "-q", *packages], capture_output=True, text=True, env=env)
    return None if done.returncode == 0 else f"apt-get install {' '.join(packages)} failed: {done.stderr[-500:]}"


@dataclass
class PostgresCluster:
    """A running throwaway cluster: ``url(dbname)`` gives a SQLAlchemy URL of one of its databases."""

    datadir: Path
    port: int
    bindir: Path
    run_as: str | None

    @property
    def log_path(self) -> Path:
        """The server's log file."""
        return self.datadir.parent / "log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, dbname: str) -> str:
        """Create a database and return its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{dbname}"')
        return self.url(dbname)


def _command(cmd: list[str], run_as: str | None) -> list[str]:
    return ["runuser", "-u", run_as, "--", *cmd] if run_as else cmd


@contextlib.contextmanager
def postgres_cluster(
    *, max_connections: int = 200, settings: dict[str, str] | None = None, folder: Path | str | None = None
) -> Iterator[PostgresCluster]:
    """Start a throwaway PostgreSQL cluster, yield it, and stop and delete it afterwards.

    ``settings`` are further server parameters (``-c name=value``), e.g. ``{"log_min_duration_statement": "50"}``;
    ``folder`` is where its data folder is made (default: the system's temporary folder).

    Raises
    ------
    RuntimeError
        The PostgreSQL binaries are missing (message says how to install them) or the server did not start.
    """
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError(POSTGRES_MISSING)
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError as err:
            raise RuntimeError("running as root needs the 'postgres' user of Debian's postgresql package") from err
        run_as = "postgres"
    tmp = Path(tempfile.mkdtemp(prefix="chisan-pg-", dir=folder))
    datadir = tmp / "data"
    if run_as:
        shutil.chown(tmp, user=run_as)
    port = free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    try:
        subprocess.run(
            _command(
                [str(bindir / "initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres", "-E", "UTF8"], run_as
            ),
            check=True,
            capture_output=True,
            env=env,
        )
        options = (
            f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections={max_connections} "
            "-c shared_buffers=64MB"
        )
        options += "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
        subprocess.run(
            _command(
                [str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options, "-l", str(tmp / "log"), "-w", "start"],
                run_as,
            ),
            check=True,
            capture_output=True,
            env=env,
        )
    except subprocess.CalledProcessError as err:
        log = (tmp / "log").read_text() if (tmp / "log").exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {err.stderr.decode(errors='replace')}\n{log}") from err
    try:
        yield PostgresCluster(datadir=datadir, port=port, bindir=bindir, run_as=run_as)
    finally:
        subprocess.run(
            _command([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"], run_as),
            capture_output=True,
            env=env,
        )
        shutil.rmtree(tmp, ignore_errors=True)


def wait_for_port(port: int, host: str = "127.0.0.1", timeout_s: float = 30.0, process=None) -> None:
    """Wait until something listens on ``host:port`` (raise TimeoutError, or RuntimeError if ``process`` died)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before listening on {port}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s} s")


def start_server_process(
    *,
    database_url: str,
    port: int,
    ocpp_port: int,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    workers: int = 1,
    cwd: Path | None = None,
) -> subprocess.Popen:
    """Start ``python -m chisan.service`` in a subprocess and wait until both ports listen."""
    cmd = [
        sys.executable,
        "-m",
        "chisan.service",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ocpp-port",
        str(ocpp_port),
        "--workers",
        str(workers),
    ]
    if database_url:
        cmd += ["--database-url", database_url]
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    # its own session, so that stopping it can stop the HTTP worker processes it spawns too (stop_server_process)
    proc = subprocess.Popen(
        cmd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True
    )
    try:
        wait_for_port(port, process=proc, timeout_s=60)
        wait_for_port(ocpp_port, process=proc, timeout_s=60)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def stop_server_process(proc: subprocess.Popen, *, kill: bool = False, timeout_s: float = 30) -> None:
    """Stop a server started by :func:`start_server_process`: SIGTERM (or SIGKILL) to its main process, then, once
    it is gone, to anything left in its session (worker processes that were still starting)."""
    if proc.poll() is None:
        (proc.kill if kill else proc.terminate)()
        proc.wait(timeout=timeout_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def synthetic_state(
    *,
    n_vehicles: int,
    n_stations: int,
    start: str = "2025-06-02 06:00",
    timezone: str = "Asia/Tokyo",
    horizon_hours: float = 36.0,
    step_minutes: int = 15,
    bookings_per_vehicle_per_day: float = 2.0,
    chargers_per_station: int | None = None,
    pv_kw: float = 200.0,
    seed: int = 0,
):
    """A town of Nissan Sakuras (19 kWh usable, 3 kW) with random bookings, as a :class:`FleetState`.

    Bookings start on 15-minute marks between 07:00 and 21:00, last 1–4 h, take 2–8 kWh; cars start at
    40–90 % SOC; PV follows a half-sine from 06:00 to 18:00 peaking at ``pv_kw``; import costs 30 JPY/kWh from
    08:00 to 22:00 and 20 JPY/kWh otherwise.
    """
    import numpy as np
    import pandas as pd

    from chisan.service.scheduler import FleetState

    rng = np.random.default_rng(seed)
    dt_hours = step_minutes / 60.0
    snapshots = pd.date_range(
        pd.Timestamp(start, tz=timezone), periods=round(horizon_hours / dt_hours), freq=f"{step_minutes}min"
    )
    per_station = chargers_per_station if chargers_per_station is not None else max(1, n_vehicles // n_stations)
    stations = pd.DataFrame(
        {
            "chargers": per_station,
            "charger_kw": 3.0,
            "connection_limit_kw": np.where(np.arange(n_stations) % 2 == 0, 0.8 * per_station * 3.0, np.nan),
        },
        index=pd.Index([str(i + 1) for i in range(n_stations)], name="station"),
    )
    vehicles = pd.DataFrame(
        {
            "station": [str(i % n_stations + 1) for i in range(n_vehicles)],
            "usable_kwh": 19.0,
            "reserve_kwh": 1.9,
            "max_charge_kw": 3.0,
            "charge_efficiency": 0.9,
            "energy_kwh": rng.uniform(0.4, 0.9, n_vehicles) * 19.0,
        },
        index=pd.Index([str(1000 + i) for i in range(n_vehicles)], name="vehicle"),
    )
    rows = []
    days = int(np.ceil((horizon_hours + 24) / 24)) + 1
    day0 = snapshots[0].normalize()
    bid = 1
    for _j, vid in enumerate(vehicles.index):
        free_from = snapshots[0]
        for d in range(days):
            k = rng.poisson(bookings_per_vehicle_per_day)
            starts = sorted(rng.integers(7 * 4, 21 * 4, size=k))
            for s in starts:
                t0 = day0 + pd.Timedelta(days=d, minutes=15 * int(s))
                if t0 < free_from + pd.Timedelta(hours=1):
                    continue
                t1 = t0 + pd.Timedelta(minutes=15 * int(rng.integers(4, 17)))
                rows.append(
                    {
                        "booking_id": bid,
                        "vehicle": vid,
                        "start": t0,
                        "end": t1,
                        "trip_energy_kwh": float(rng.uniform(2.0, 8.0)),
                    }
                )
                bid += 1
                free_from = t1
    bookings = pd.DataFrame(rows, columns=["booking_id", "vehicle", "start", "end", "trip_energy_kwh"])
    hours = snapshots.hour + snapshots.minute / 60.0
    pv = pd.Series(pv_kw * np.clip(np.sin(np.pi * (hours - 6.0) / 12.0), 0.0, None), index=snapshots)
    price = pd.Series(np.where((hours >= 8) & (hours < 22), 30.0, 20.0), index=snapshots)
    return FleetState(
        snapshots=snapshots,
        dt_hours=dt_hours,
        stations=stations,
        vehicles=vehicles,
        bookings=bookings,
        pv_kw=pv,
        import_price_per_kwh=price,
        emission_factor_kg_per_kwh=pd.Series(0.45, index=snapshots),
        grid_connection_limit_kw=None,
    )


class ServerThread:
    """The service's app served by uvicorn in a background thread (REST on ``port``; OCPP as the app says).

    Use as a context manager; ``base_url`` is ``http://127.0.0.1:<port>``.
    """

    def __init__(self, app, port: int | None = None) -> None:
        import threading

        import uvicorn

        self.app = app
        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server thread did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)
