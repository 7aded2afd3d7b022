"""Run a sweep on Dask: every municipality's plan, one task each, results written as they arrive.

:func:`plan_municipality` is the task: derive the municipality's scenario from the template
(:mod:`chisan.sweep.derive`), plan it (the reduced plan of :mod:`chisan.sweep.reduced`, or ``chisan plan``'s own
:func:`~chisan.plan.pipeline.plan_scenario`), and return one flat row of key figures — or, when anything goes
wrong, the row with its error. It never raises, so one bad municipality cannot stop the others.

:func:`run_sweep` sends the tasks to a Dask cluster — a local one by default (one single-threaded worker process
per core), an existing one at ``tcp://HOST:PORT``, or none (``"synchronous"``: one after another in this process,
for debugging) — and writes each row atomically as it comes back (:class:`~chisan.sweep.store.SweepStore`), so an
interrupted run resumes where it stopped. A task's result depends only on its inputs (seeded bookings and weather,
deterministic tsam clustering, single-threaded HiGHS), so it is the same wherever it runs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import resource
import socket
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from chisan.exceptions import ChisanError, ScenarioError
from chisan.scenario.schema import Scenario
from chisan.scenario.schema_sites import has_site_tariffs
from chisan.sweep.derive import DeriveOptions, derivation_facts, derive_scenario
from chisan.sweep.reduced import DEFAULT_MAX_STATIONS
from chisan.sweep.store import STATUS_FAILED, STATUS_OK, SweepStore

METHODS = ("reduced", "two-stage", "full", "auto")
"""``reduced`` (the sweep's fast plan) or one of ``chisan plan``'s methods (the same plan as ``chisan plan``)."""

IDENTITY_COLUMNS = ("code", "name", "prefecture", "population", "latitude_deg", "longitude_deg")


@dataclass(frozen=True)
class SweepSettings:
    """How every municipality is planned.

    Attributes
    ----------
    method : str
        ``"reduced"`` (default, :func:`chisan.sweep.reduced.plan_reduced`) or ``"two-stage"``, ``"full"``,
        ``"auto"`` (:func:`chisan.plan.pipeline.plan_scenario`, exactly ``chisan plan --method``).
    n_typical_days : int, optional
        Typical days; default the template's ``solver.typical_days``.
    max_stations : int
        Reduced plan: stations computed in full.
    operation : str
        Reduced plan: ``"year"`` or ``"typical-days"`` (:func:`~chisan.sweep.reduced.plan_reduced`).
    derive : DeriveOptions
        How scenarios are derived from the template.
    """

    method: str = "reduced"
    n_typical_days: int | None = None
    max_stations: int = DEFAULT_MAX_STATIONS
    operation: str = "year"
    derive: DeriveOptions = field(default_factory=DeriveOptions)

    def check(self, template: Scenario) -> None:
        """Raise ScenarioError when the settings do not fit the template."""
        if self.method not in METHODS:
            raise ScenarioError(f"method = {self.method!r}; allowed: {', '.join(METHODS)}")
        if self.operation not in ("year", "typical-days"):
            raise ScenarioError(f"operation = {self.operation!r}; allowed: year, typical-days")
        if self.n_typical_days is not None and not 2 <= self.n_typical_days <= 366:
            raise ScenarioError(f"typical days = {self.n_typical_days}; allowed: 2 to 366")
        if self.max_stations < 1:
            raise ScenarioError(f"max_stations = {self.max_stations}; allowed: ≥ 1")
        self.derive.check(template)


def template_fingerprint(template: Scenario) -> str:
    """SHA-256 of the template's validated content (so a resumed sweep can tell a changed template)."""
    return hashlib.sha256(template.model_dump_json().encode("utf-8")).hexdigest()


def manifest(template: Scenario, settings: SweepSettings, *, wards: str) -> dict[str, Any]:
    """What identifies a sweep: a resumed run must match it (chisan version excluded, so upgrades resume)."""
    d = asdict(settings)
    d["derive"]["area_by_code"] = dict(sorted(settings.derive.area_by_code.items()))
    return {"template_sha256": template_fingerprint(template), "settings": d, "wards": wards}


def kpi_column(name: str, unit: str, currency: str) -> str:
    """Column name of a KPI with its unit in it (``total_cost_per_year`` [JPY/year] → ``total_cost_jpy_per_year``)."""
    cur = currency.lower()
    if unit.startswith(currency) and "_per_" in name:
        return name.replace("_per_", f"_{cur}_per_", 1)
    if unit == "fraction":
        return f"{name}_fraction"
    if unit.endswith("/year") and not name.endswith("_per_year"):
        return f"{name}_per_year"
    return name


def kpi_record(kpis: pd.DataFrame, currency: str) -> dict[str, float]:
    """A KPI table (``value``, ``unit``) as a flat row with units in the column names."""
    return {kpi_column(str(n), str(r["unit"]), currency): float(r["value"]) for n, r in kpis.iterrows()}


@contextmanager
def _quiet_logs(level: int = logging.ERROR) -> Iterator[None]:
    """Silence the solver stack's log lines (linopy warns on every infeasible solve) for the task's duration."""
    loggers = [logging.getLogger(name) for name in ("linopy", "tsam", "pvlib", "windpowerlib")]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, lvl in zip(loggers, before, strict=True):
            lg.setLevel(lvl)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far [MB] (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def plan_municipality(template: Scenario, code: str, row: Mapping[str, Any], settings: SweepSettings) -> dict[str, Any]:
    """Plan one municipality and return its row of key figures, or its error. Never raises.

    Returns
    -------
    dict
        ``code``, ``name``, ``prefecture``, ``population``, ``latitude_deg``, ``longitude_deg``, ``status``
        (``"ok"``/``"failed"``), ``error_type``, ``error``, ``warnings``; when ok: the derivation (area, members,
        stations, grid factor, price index) and every KPI with its unit in its name; always ``seconds`` (wall
        time of the task [s]), ``cpu_seconds`` (CPU time of the worker process during the task [s]: the task's
        own cost, whatever else the machine runs), ``worker`` and ``worker_peak_rss_mb`` (peak memory of the
        worker process [MB]).
    """
    t0 = time.perf_counter()
    c0 = time.process_time()
    record: dict[str, Any] = {k: row.get(k) for k in IDENTITY_COLUMNS if k != "code"}
    record = {"code": str(code), **record}
    record["name"] = str(record.get("name") or code)
    method = settings.method  # the method used (module docstring of chisan.sweep.derive, "Meters")
    try:
        with warnings.catch_warnings(record=True) as caught, _quiet_logs():
            warnings.simplefilter("always")
            scenario = derive_scenario(template, str(code), row, settings.derive)
            facts = derivation_facts(template, scenario, settings.derive)
            currency = scenario.finance.currency
            if method == "reduced" and has_site_tariffs(scenario):
                # meters on tariffs of their own: the reduced plan's one-bus LP cannot bill each on its own
                # tariff (chisan.sweep.lp.solve_aggregate), chisan plan's two-stage method does
                method = "two-stage"
            if method == "reduced":
                from chisan.sweep.reduced import plan_reduced

                plan = plan_reduced(
                    scenario,
                    n_typical_days=settings.n_typical_days,
                    max_stations=settings.max_stations,
                    operation=settings.operation,
                )
                kpis = plan.kpis
                balance = plan.energy_balance
                record["typical_days"] = plan.details["typical_days"]
                record["sizing_passes"] = max(1, len(plan.details["policy_passes"]))
            else:
                from chisan.plan.pipeline import plan_scenario

                run = plan_scenario(scenario, method=method, n_typical_days=settings.n_typical_days)
                kpis = run.results.kpis
                balance = run.results.energy_balance
        record.update(facts)
        record.update(kpi_record(kpis, currency))
        record.update(
            {
                "grid_import_kwh_per_year": float(balance["grid_import_kwh"]),
                "grid_export_kwh_per_year": float(balance["grid_export_kwh"]),
                "pv_kwh_per_year": float(balance["pv_kwh"]),
                "wind_kwh_per_year": float(balance["wind_kwh"]),
                "curtailed_kwh_per_year": float(balance["curtailed_kwh"]),
            }
        )
        record.update(status=STATUS_OK, error_type="", error="")
        record["warnings"] = _warning_text(caught)
    except Exception as err:  # any failure stays this municipality's: recorded, and the sweep goes on
        record.update(status=STATUS_FAILED, error_type=type(err).__name__, error=_error_text(err), warnings="")
    record["method"] = method
    record["seconds"] = time.perf_counter() - t0
    record["cpu_seconds"] = time.process_time() - c0
    record["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    record["worker_peak_rss_mb"] = _peak_rss_mb()
    return record


def _warning_text(caught: list) -> str:
    seen = []
    for w in caught:
        if issubclass(w.category, DeprecationWarning | FutureWarning):
            continue
        text = str(w.message)
        if text not in seen:
            seen.append(text)
    return " | ".join(seen)[:1000]


def _error_text(err: Exception) -> str:
    if isinstance(err, ChisanError):
        return str(err)[:2000]
    # not a chisan error: a bug or an environment problem — keep where it happened
    tb = traceback.extract_tb(err.__traceback__)
    where = f" (at {tb[-1].filename}:{tb[-1].lineno})" if tb else ""
    return f"{err}{where}"[:2000]


def failure_record(code: str, row: Mapping[str, Any], settings: SweepSettings, err: BaseException) -> dict[str, Any]:
    """The row of a municipality whose task did not return (worker lost, cancelled, …)."""
    record = {"code": str(code), **{k: row.get(k) for k in IDENTITY_COLUMNS if k != "code"}}
    record.update(
        status=STATUS_FAILED,
        error_type=type(err).__name__,
        error=f"the task did not return: {err}"[:2000],
        warnings="",
        method=settings.method,
        seconds=float("nan"),
        cpu_seconds=float("nan"),
        worker="",
        worker_peak_rss_mb=float("nan"),
    )
    return record


@dataclass
class SweepProgress:
    """Counts of a running sweep.

    Attributes
    ----------
    total : int
        Municipalities to plan in this run (those already done are not counted).
    ok, failed : int
        Finished in this run.
    skipped : int
        Already done in an earlier run.
    last : dict or None
        The row that just arrived.
    """

    total: int
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    last: dict | None = None

    @property
    def done(self) -> int:
        """Finished in this run (ok or failed)."""
        return self.ok + self.failed

    @property
    def remaining(self) -> int:
        """Still to plan."""
        return self.total - self.done


@dataclass
class SweepOutcome:
    """What a run did: the consolidated table, the counts and the times [s]."""

    results: pd.DataFrame
    progress: SweepProgress
    out_dir: Path
    seconds: float
    startup_seconds: float = 0.0
    """Wall time until every worker was ready to plan [s]: the cluster started (or reached) and chisan's
    planning modules imported in each worker (:func:`warm_up`); a sweep pays it once, whatever its size."""
    warm_up_cpu_seconds: float = 0.0
    """CPU time of the slowest worker process before its first task [s]: start and imports (:func:`warm_up`; 0
    without a cluster)."""


def pending(municipalities: pd.DataFrame, store: SweepStore, *, retry_failed: bool) -> tuple[list[str], int]:
    """Codes still to plan (not ok in ``store``; failed ones too unless ``retry_failed`` is False), and how many
    are skipped."""
    status = store.status()
    todo = []
    for code in municipalities.index.astype(str):
        s = status.get(code)
        if s == STATUS_OK or (s == STATUS_FAILED and not retry_failed):
            continue
        todo.append(code)
    return todo, len(municipalities) - len(todo)


def _rows(municipalities: pd.DataFrame) -> dict[str, dict[str, Any]]:
    frame = municipalities.copy()
    frame.index = frame.index.astype(str)
    return {code: {k: (None if pd.isna(v) else v) for k, v in row.items()} for code, row in frame.iterrows()}


def run_sweep(
    municipalities: pd.DataFrame,
    template: Scenario,
    out_dir: str | Path,
    *,
    settings: SweepSettings | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    wards: str = "exclude",
    retry_failed: bool = True,
    fresh: bool = False,
    on_progress: Callable[[SweepProgress], None] | None = None,
) -> SweepOutcome:
    """Plan every municipality of ``municipalities`` and write the results to ``out_dir``.

    Parameters
    ----------
    municipalities : pd.DataFrame
        Rows of :func:`chisan.sweep.derive.read_municipalities` (index: code).
    template : Scenario
        The reference town.
    out_dir : str or Path
        Output folder (:class:`~chisan.sweep.store.SweepStore`); a folder holding the same sweep is resumed.
    settings : SweepSettings, optional
    scheduler : str, optional
        None: a local Dask cluster (``n_workers`` single-threaded worker processes, default one per core);
        ``"tcp://HOST:PORT"``: an existing Dask scheduler (its workers need chisan installed; rows come back to
        this process, which writes them); ``"synchronous"``: no cluster, one after another in this process.
    n_workers : int, optional
        Local cluster only.
    wards : str
        How the table was read (recorded in the manifest).
    retry_failed : bool
        Plan again the municipalities that failed in an earlier run.
    fresh : bool
        Discard earlier results in ``out_dir``.
    on_progress : callable, optional
        Called with a :class:`SweepProgress` after every municipality (and once at the start).

    Raises
    ------
    ScenarioError, DataError
        Settings that do not fit the template, a folder holding another sweep, an unreachable scheduler.
    """
    settings = settings or SweepSettings()
    settings.check(template)
    t0 = time.perf_counter()
    store = SweepStore(out_dir)
    store.open(manifest(template, settings, wards=wards), fresh=fresh)
    rows = _rows(municipalities)
    todo, skipped = pending(municipalities, store, retry_failed=retry_failed)
    progress = SweepProgress(total=len(todo), skipped=skipped)
    report = on_progress or (lambda p: None)
    report(progress)

    def arrived(record: dict[str, Any]) -> None:
        store.write(record)
        if record["status"] == STATUS_OK:
            progress.ok += 1
        else:
            progress.failed += 1
        progress.last = record
        report(progress)

    startup = [0.0, 0.0]
    try:
        if todo:
            if scheduler == "synchronous":
                for code in todo:
                    arrived(plan_municipality(template, code, rows[code], settings))
            else:
                _run_distributed(template, todo, rows, settings, scheduler, n_workers, arrived, startup)
    finally:
        results = store.consolidate(order=list(rows))
    return SweepOutcome(
        results=results,
        progress=progress,
        out_dir=Path(out_dir),
        seconds=time.perf_counter() - t0,
        startup_seconds=startup[0],
        warm_up_cpu_seconds=startup[1],
    )


WARM_UP_MODULES = (
    "chisan.sweep.reduced",
    "chisan.plan.pipeline",
    "chisan.plan.prepare",
    "chisan.plan.reduce",
    "chisan.resources.japan_climate",
    "highspy",
    "tsam",
    "pvlib.solarposition",
    "sklearn.cluster",
)
"""What a task imports on first use (≈ 3.5 s of CPU in a fresh worker, benchmarks/bench_sweep.py)."""


def warm_up() -> float:
    """Import the planning modules of :data:`WARM_UP_MODULES` in this process; returns the process's CPU time so far
    [s] (its start, the imports of this module when Dask unpickled the call, and these).

    Run on every worker before the first task (:func:`run_sweep`), so that the imports of both workers run side
    by side while the cluster starts, not inside the first municipality of each worker.
    """
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in WARM_UP_MODULES:
            try:
                importlib.import_module(name)
            except ImportError:  # an optional part: its first task imports what it needs, or fails with its row
                continue
    return time.process_time()


def _run_distributed(
    template: Scenario,
    todo: list[str],
    rows: dict[str, dict[str, Any]],
    settings: SweepSettings,
    scheduler: str | None,
    n_workers: int | None,
    arrived: Callable[[dict[str, Any]], None],
    startup: list[float],
) -> None:
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the cluster's INFO lines would break the progress bar
    try:
        _submit_all(template, todo, rows, settings, scheduler, n_workers, arrived, startup)
    finally:
        quiet.setLevel(level)


def _submit_all(
    template: Scenario,
    todo: list[str],
    rows: dict[str, dict[str, Any]],
    settings: SweepSettings,
    scheduler: str | None,
    n_workers: int | None,
    arrived: Callable[[dict[str, Any]], None],
    startup: list[float],
) -> None:
    """Submit every task to the cluster and hand each row to ``arrived``; ``startup`` is set to the wall time
    until the workers were warm and the CPU time of the slowest worker's imports [s]."""
    import dask
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    t0 = time.perf_counter()
    try:
        if scheduler is None:
            # no statistical profiler in the workers (it samples the task's stack every 10 ms for a dashboard the
            # sweep does not open): a task's CPU time fell from 1.78 to 1.68 s median on eight realistic towns
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                cluster = LocalCluster(
                    n_workers=n_workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            client = Client(cluster)
        else:
            if not str(scheduler).startswith(("tcp://", "tls://", "inproc://", "ucx://")):
                raise ScenarioError(
                    f"scheduler = {scheduler!r}; allowed: tcp://HOST:PORT of a running Dask scheduler, or "
                    "'synchronous' (no cluster)"
                )
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as err:
                raise ScenarioError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
    except BaseException:
        if cluster is not None:
            cluster.close()
        raise
    try:
        with client:
            imports = client.run(warm_up)  # every worker at once, before its first task
            startup[1] = max(imports.values(), default=0.0)
            shared = client.scatter(template, broadcast=True)
            startup[0] = time.perf_counter() - t0
            run_id = uuid.uuid4().hex[:12]
            futures = {}
            for code in todo:
                future = client.submit(
                    plan_municipality, shared, code, rows[code], settings, key=f"chisan-sweep-{code}-{run_id}"
                )
                futures[future] = code
            try:
                for future in as_completed(futures):
                    code = futures[future]
                    try:
                        record = future.result()
                    except Exception as err:  # a lost worker or a cancelled task fails this one only
                        record = failure_record(code, rows[code], settings, err)
                    arrived(record)
            except BaseException:
                client.cancel(list(futures))
                raise
    finally:
        if cluster is not None:
            cluster.close()
