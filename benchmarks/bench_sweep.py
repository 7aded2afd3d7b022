"""Benchmark of ``chisan sweep``: a 100-municipality sample on a local Dask cluster, projected to the country.

Run::

    .venv/bin/python benchmarks/bench_sweep.py                        # 100 municipalities, light template
    .venv/bin/python benchmarks/bench_sweep.py --realistic -n 20      # the realistic template (below)
    .venv/bin/python benchmarks/bench_sweep.py --realistic -n 0 --accuracy 3   # sweep rows vs chisan plan
    .venv/bin/python benchmarks/bench_sweep.py --realistic -n 0 --accuracy-codes five   # five climates
    .venv/bin/python benchmarks/bench_sweep.py --realistic -n 0 --accuracy-codes five --split-parked
    .venv/bin/python benchmarks/bench_sweep.py --realistic -n 0 --accuracy-codes six --bias 0   # no correction
    .venv/bin/python benchmarks/bench_sweep.py --realistic -n 0 --accuracy-codes six --own-headroom

Templates: the light one is the bundled example (5 bases, flat + night tariff, annual 100 % target); the realistic
one (:func:`realistic_template`, issue 13 point 7) has 8 bases, a high-voltage time-of-use tariff with a basic
charge, V2G and an hourly-matched 90 % renewable target. Weather is the sweep's default (``japan``: each town's
own climate; the hourly regional years when ``CHISAN_DATA`` names the data folder, else the bundled figures).

Prints one table: time per municipality inside the worker (median, p90, max) [s], peak memory per worker process
[MB], wall time of the sample, and the projection for the 1,741 municipalities on 2 cores — from the wall time
(the start-up — cluster and the imports of every worker, :func:`chisan.sweep.run.warm_up` — counted once, as a
sweep of any size pays it once; also scaled with the sample, as this benchmark projected before), from the summed
task time divided by the workers, and from the summed CPU time of the tasks divided by the workers (what the sweep
takes when nothing else runs on the cores). With ``--accuracy N`` a second table gives the reduced plan's relative
error against the full-year per-vehicle plan of ``chisan plan`` (two-stage) on N small municipalities (≤ 45,000
residents, so that chisan plan takes seconds each).

The municipalities table is read from ../shared/data (never copied into the repository); set CHISAN_SHARED_DATA
to point elsewhere.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

MUNICIPALITIES = 1741


def shared_csv() -> Path:
    for base in (
        os.environ.get("CHISAN_SHARED_DATA"),
        Path(__file__).resolve().parents[2] / "shared" / "data",
        "/work/shared/data",
    ):
        if base and (Path(base) / "SOURCES.md").is_file():
            return Path(base) / "japan_municipalities" / "japan_municipalities_merged.csv"
    raise SystemExit("../shared/data not found: set CHISAN_SHARED_DATA to the folder holding SOURCES.md")


def _row(table: Table, label: str, *values: str) -> None:
    """A table row whose label may hold units in square brackets (not rich markup)."""
    table.add_row(escape(label), *values)


def realistic_template():
    """The bundled example made realistic: 8 bases, time-of-use with a basic charge, V2G, hourly 90 % target.

    Tariff: TEPCO EP's high-voltage business plan FY2025 (``tepco_high_voltage_business_2025``: basic charge
    3,030 JPY/kW/month on the year's peak 30-minute demand, 16.56 JPY/kWh, renewable levy 3.98 JPY/kWh) with its
    single energy band split into an *illustrative* day/night time-of-use pair (08–22 h at 18.56, 22–08 h at
    13.56 JPY/kWh; TEPCO's own business time-of-use plans differ) — a benchmark load, not a tariff to quote.
    """
    import tomllib

    from chisan.scenario.load import example_path, scenario_from_dict
    from chisan.tariffs.library import load_tariff

    data = tomllib.loads(example_path().read_text(encoding="utf-8"))
    base = data["stations"]
    stations = []
    for k in range(8):
        st = dict(base[k % len(base)])
        if k >= len(base):
            st["name"] = f"{st['name']} 2"
        st["member_share_fraction"] = 1.0 / 8
        stations.append(st)
    data["stations"] = stations
    data["municipality"]["population"] = 48_000  # 8 bases of 6 cars at the example's 1.5 % membership
    data["fleet"]["v2g"] = True
    data["fleet"]["v2g_cycle_cost_per_kwh"] = 5.0  # assumption: battery wear per kWh sent back
    tariff = load_tariff("tepco_high_voltage_business_2025").model_dump(mode="python")
    energy = tariff["seasons"][0]["bands"][0]["price_jpy_per_kwh"]
    tariff["name"] = "tepco_hv_2025_illustrative_tou"
    tariff["seasons"] = [
        {
            "name": "all year",
            "months": list(range(1, 13)),
            "bands": [
                {"name": "night", "start_hour": 0, "end_hour": 8, "price_jpy_per_kwh": energy - 3.0},
                {"name": "day", "start_hour": 8, "end_hour": 22, "price_jpy_per_kwh": energy + 2.0},
                {"name": "night", "start_hour": 22, "end_hour": 24, "price_jpy_per_kwh": energy - 3.0},
            ],
        }
    ]
    data["grid"]["import_tou"] = []
    data["grid"]["tariff"] = tariff
    # one meter and one contract for the town: the sweep's reduced LP has one town bus (a basic charge per
    # site's meter is not in it), so chisan plan is asked for the same thing
    data["grid"]["topology"] = "single_meter"
    data["technologies"]["pv"]["max_kw"] = 200 * 8 / 5
    data["technologies"]["storage"]["max_kwh"] = 500 * 8 / 5
    data["policy"]["renewable_share_min_fraction"] = 0.9
    data["policy"]["renewable_share_basis"] = "hourly"
    return scenario_from_dict(data, source="bench_sweep realistic template", base_dir=example_path().parent)


def _template(path: str | None, realistic: bool = False):
    from chisan.scenario.load import example_path, load_scenario

    if realistic:
        return realistic_template()
    return load_scenario(path or example_path())


def speed(
    n: int, workers: int, seed: int, console: Console, template_path: str | None = None, realistic: bool = False
) -> None:
    from chisan.sweep.derive import read_municipalities
    from chisan.sweep.run import run_sweep

    template = _template(template_path, realistic)
    table = read_municipalities(shared_csv())
    sample = table.sample(n=n, random_state=seed)
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        outcome = run_sweep(sample, template, Path(tmp) / "out", n_workers=workers)
        wall = time.perf_counter() - t0
    load_after = load_average()
    res = outcome.results
    ok = res[res["status"] == "ok"]
    secs = res["seconds"].to_numpy(float)
    cpu = res["cpu_seconds"].to_numpy(float)
    first = res.groupby("worker")["seconds"].first()  # a worker's first task in the table (not in time)
    peak = res.groupby("worker")["worker_peak_rss_mb"].max()
    busy = float(np.nansum(secs))
    startup = outcome.startup_seconds  # cluster start and imports in every worker, paid once by any sweep
    proj_wall = startup + (wall - startup) * MUNICIPALITIES / n
    proj_wall_scaled = wall * MUNICIPALITIES / n  # start-up counted 1,741 / n times (the earlier projection)
    proj_busy = busy / workers * MUNICIPALITIES / n
    proj_cpu = float(np.nansum(cpu)) / workers * MUNICIPALITIES / n
    which = "realistic template" if realistic else "light template"
    t = Table(
        title=f"chisan sweep, {which}: {n} municipalities sampled (seed {seed}) of {MUNICIPALITIES}, {workers} workers"
    )
    t.add_column("measure")
    t.add_column("value", justify="right")
    _row(t, "planned / failed", f"{len(ok)} / {len(res) - len(ok)}")
    _row(
        t,
        "population of the sample: median / max",
        f"{sample['population'].median():,.0f} / {sample['population'].max():,.0f}",
    )
    _row(t, "time per municipality, median [s]", f"{np.nanmedian(secs):.2f}")
    _row(t, "time per municipality, p90 [s]", f"{np.nanpercentile(secs, 90):.2f}")
    _row(t, "time per municipality, max [s]", f"{np.nanmax(secs):.2f}")
    _row(t, "CPU time per municipality, median [s]", f"{np.nanmedian(cpu):.2f}")
    _row(t, "CPU time per municipality, p90 [s]", f"{np.nanpercentile(cpu, 90):.2f}")
    _row(t, "CPU / wall time of the tasks (< 1: the cores were shared)", f"{np.nansum(cpu) / busy:.2f}")
    _row(t, "first row of each worker, mean [s]", f"{first.mean():.2f}")
    _row(t, "peak memory per worker, max [MB]", f"{peak.max():,.0f}")
    _row(t, "peak memory per worker, each [MB]", ", ".join(f"{v:,.0f}" for v in peak))
    _row(t, "start-up: cluster and imports in the workers, once [s]", f"{startup:,.1f}")
    warm_cpu = f"{outcome.warm_up_cpu_seconds:,.2f}"
    _row(t, "CPU of a worker process before its first task (start, imports), max [s]", warm_cpu)
    _row(t, f"wall time of the {n}, start-up included [s]", f"{wall:,.1f}")
    _row(t, f"projection for {MUNICIPALITIES:,} from wall time, start-up once [min]", f"{proj_wall / 60:,.1f}")
    _row(
        t,
        f"projection for {MUNICIPALITIES:,} from wall time, start-up × {MUNICIPALITIES / n:,.1f} [min]",
        f"{proj_wall_scaled / 60:,.1f}",
    )
    _row(t, f"projection for {MUNICIPALITIES:,} from task time / {workers} [min]", f"{proj_busy / 60:,.1f}")
    label = f"projection for {MUNICIPALITIES:,} from CPU time / {workers} (cores to ourselves) [min]"
    _row(t, label, f"{proj_cpu / 60:,.1f}")
    _row(t, "load average 1 / 5 / 15 min, before the run", load_before)
    _row(t, "load average 1 / 5 / 15 min, after the run", load_after)
    _row(t, "target (issue 13): projection ≤ 30 min ⇔ ≈ 2 s per municipality per worker", "")
    console.print(t)
    if len(ok) < len(res):
        console.print(res.loc[res["status"] != "ok", ["code", "name", "error_type", "error"]].to_string())


FIVE_CLIMATES = ("016349", "013030", "133051", "273228", "473481")
"""Shikaoi and Tōbetsu (Hokkaido, Sapporo's area), Hinode (Tokyo), Nose (Osaka), Yonabaru (Okinawa, Naha's area):
five climate regions, small enough for chisan plan in one to two minutes each (``--accuracy-codes five``)."""

SIX_TOWNS = (*FIVE_CLIMATES, "203033")
"""The five climates and Koumi (Nagano, the sweep tests' accuracy sample): ``--accuracy-codes six``. In three of
them (Koumi, Tōbetsu, Nose) the realistic template's hourly 90 % target binds."""


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages of the machine (/proc/loadavg), or "n/a"."""
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _transfer_ratio(scenario, reduced: pd.Series, full: pd.Series) -> str:
    """chisan plan's charging beyond the reduced plan's, over its extra V2G sent back / η² [-].

    ≈ 1 when the whole difference of charging is energy one car charged and sent back through V2G for another car
    to charge (the pool moves energy between its cars without V2G, its losses or its wear).
    """
    eta = scenario.fleet.charge_efficiency_fraction
    v2g = float(full["v2g_kwh"] - reduced["v2g_kwh"])
    if v2g <= 1e-6:
        return "no extra V2G"
    return f"{float(full['charging_kwh'] - reduced['charging_kwh']) / (v2g / eta**2):.2f}"


def accuracy(
    n: int,
    seed: int,
    console: Console,
    template_path: str | None = None,
    realistic: bool = False,
    codes: list[str] | None = None,
    split_parked: bool = False,
    own_headroom: bool = False,
    bias: float | None = None,
) -> None:
    """The sweep's reduced plan against ``chisan plan`` (two-stage) on the same derived scenario, N towns (or the
    towns of ``codes``); a row per town (total cost, hourly-matched share, annual balance), then the summary."""
    from chisan.plan.pipeline import plan_scenario
    from chisan.sweep.derive import derive_scenario, read_municipalities
    from chisan.sweep.reduced import POOLED_HOURLY_SHARE_BIAS, compare_with_full, plan_reduced

    options = {
        "split_parked": split_parked,
        "own_headroom": own_headroom,
        "hourly_share_bias": POOLED_HOURLY_SHARE_BIAS if bias is None else bias,
    }
    per_town = Table(title="per town: reduced plan / chisan plan − 1 (hourly share also in points)")
    columns = ("town", "total cost", "hourly share", "[points]", "annual balance", "charging", "PV kW reduced / plan")
    for col in (*columns, "V2G kWh reduced / plan", "plan's extra charging / (its V2G / η²)"):
        per_town.add_column(col, justify="left" if col == "town" else "right")

    template = _template(template_path, realistic)
    table = read_municipalities(shared_csv())
    if codes:
        small = table.loc[codes]
        n = len(codes)
    else:
        small = table[table["population"] <= 45_000].sample(n=n, random_state=seed)
    frames, times, stages = [], [], []
    for code, row in small.iterrows():
        scenario = derive_scenario(template, code, row.to_dict())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            full = plan_scenario(scenario, method="two-stage")
            t1 = time.perf_counter()
            reduced = plan_reduced(scenario, **options)
            t2 = time.perf_counter()
        times.append((t1 - t0, t2 - t1))
        stages.append({k: v for k, v in reduced.details.items() if k.endswith("_s")})
        frames.append(compare_with_full(reduced, full.results)["relative_error"].rename(code))
        err = frames[-1]
        hourly = "renewable_share_hourly_matched"
        per_town.add_row(
            escape(f"{code} {row['name']}"),
            f"{err['total_cost_per_year']:+.2%}",
            f"{err[hourly]:+.2%}",
            f"{100 * (reduced.kpi(hourly) - full.results.kpi(hourly)):+.2f}",
            f"{err['renewable_share_annual']:+.2%}",
            f"{err['charging_kwh_per_year']:+.2%}",
            f"{reduced.kpi('pv_kw'):,.1f} / {full.results.kpi('pv_kw'):,.1f}",
            f"{reduced.energy_balance['v2g_kwh']:,.0f} / {full.results.energy_balance['v2g_kwh']:,.0f}",
            _transfer_ratio(scenario, reduced.energy_balance, full.results.energy_balance),
        )
    console.print(per_town)
    errors = pd.concat(frames, axis=1)
    t = Table(
        title=f"reduced plan vs chisan plan (two-stage, per vehicle, full year) on {n} municipalities "
        + (f"({', '.join(codes)}, " if codes else f"≤ 45,000 residents (seed {seed}, ")
        + f"{'realistic' if realistic else 'light'} template, {', '.join(f'{k}={v}' for k, v in options.items())}): "
        "relative error "
        "(target: total cost and renewable figures within 2 %)"
    )
    for col in ("KPI", "mean |error|", "max |error|", "mean error"):
        t.add_column(col, justify="right" if col != "KPI" else "left")
    for kpi, row in errors.iterrows():
        if row.isna().all():
            _row(t, kpi, "not built in the sample", "", "")
            continue
        _row(t, kpi, f"{np.nanmean(np.abs(row)):.2%}", f"{np.nanmax(np.abs(row)):.2%}", f"{np.nanmean(row):+.2%}")
    tt = np.asarray(times)
    _row(t, "time: chisan plan / reduced, median [s]", f"{np.median(tt[:, 0]):.1f}", f"{np.median(tt[:, 1]):.2f}", "")
    console.print(t)
    where = pd.DataFrame(stages).median()
    console.print(
        "where the reduced plan's time goes (median over the sample, in one process) [s]: "
        + ", ".join(f"{k.removesuffix('_s')} {v:.2f}" for k, v in where.items()),
        markup=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--n", type=int, default=100, help="municipalities in the speed sample")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--accuracy", type=int, default=0, help="municipalities in the accuracy sample (0: skip)")
    parser.add_argument(
        "--accuracy-codes",
        default=None,
        help="comma-separated municipality codes for the accuracy table instead of a sample ('five': FIVE_CLIMATES, "
        "'six': SIX_TOWNS)",
    )
    parser.add_argument(
        "--own-headroom",
        action="store_true",
        help="accuracy: each car's least charging in the dim hours as rows on the pool (chisan.sweep.headroom)",
    )
    parser.add_argument(
        "--bias",
        type=float,
        default=None,
        help="accuracy: the pooled hourly share's bias [-] (default chisan.sweep.reduced.POOLED_HOURLY_SHARE_BIAS)",
    )
    parser.add_argument(
        "--split-parked",
        action="store_true",
        help="accuracy: the year's fleet as parked and on-road cars (chisan.sweep.parked) instead of one pool",
    )
    parser.add_argument("--template", default=None, help="template scenario TOML (default: the bundled example)")
    parser.add_argument("--realistic", action="store_true", help="the realistic template (8 bases, ToU, V2G, hourly)")
    args = parser.parse_args()
    console = Console()
    if args.n:
        speed(args.n, args.workers, args.seed, console, args.template, args.realistic)
    codes = None
    if args.accuracy_codes:
        named = {"five": FIVE_CLIMATES, "six": SIX_TOWNS}
        codes = list(named.get(args.accuracy_codes, args.accuracy_codes.split(",")))
    if args.accuracy or codes:
        accuracy(
            args.accuracy,
            args.seed,
            console,
            args.template,
            args.realistic,
            codes,
            args.split_parked,
            args.own_headroom,
            args.bias,
        )


if __name__ == "__main__":
    main()
