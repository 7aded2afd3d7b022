"""``chisan sweep``: the plan of every municipality of a table, on Dask, with a national summary.

Registered on the ``chisan`` app by :mod:`chisan.cli`. Talks to people: a rich progress bar (done, failed,
remaining, time left), a table of national totals, errors as one red line (exit status 2).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from rich.table import Table

from chisan.exceptions import ChisanError
from chisan.sweep.method import derivation_help

console = Console()
err_console = Console(stderr=True)


def _fail(err: Exception) -> None:
    err_console.print(f"[bold red]error:[/] {err}", highlight=False)
    raise typer.Exit(code=2)


def _totals_table(totals) -> Table:
    from rich.table import Table

    table = Table(title="National totals (municipalities planned)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    from chisan.sweep.summary import SUMMED

    for key, label in (
        *SUMMED.items(),
        ("cost_jpy_per_km", "cost per km [JPY/km]"),
        ("renewable_share_annual_fraction", "renewable share of charging [%]"),
        ("co2_avoided_t_per_year", "CO2 avoided [t CO2e/year]"),
    ):
        if key not in totals or key == "co2_avoided_kg_per_year":
            continue
        value = float(totals[key])
        if key.endswith("fraction"):
            shown = f"{value * 100:,.1f}"
        elif value.is_integer() or abs(value) >= 100:
            shown = f"{value:,.0f}"
        else:
            shown = f"{value:,.2f}"
        table.add_row(escape(label), shown)
    return table


def _prefecture_or_none(value) -> str | None:
    """JIS code of a row's prefecture, None when unknown (that row then fails with its own message)."""
    from chisan.sweep.derive import prefecture_code

    try:
        return prefecture_code(value)
    except ChisanError:
        return None


def sweep(
    municipalities: Annotated[
        Path, typer.Argument(help="CSV of municipalities: code, name, prefecture, lat, lon, population (+ ward flag).")
    ],
    template: Annotated[
        Path | None, typer.Option("--template", "-t", help="Template scenario TOML; default the bundled example town.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (resumed when it holds this sweep).")] = Path(
        "chisan-sweep"
    ),
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="tcp://HOST:PORT of a running Dask scheduler, or 'synchronous' (no cluster)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Local cluster: worker processes (default one per core).")
    ] = None,
    wards: Annotated[
        str, typer.Option("--wards", help="Wards of designated cities: exclude, only, instead-of-city.")
    ] = "exclude",
    method: Annotated[
        str, typer.Option("--method", help="reduced (fast), or chisan plan's two-stage, full, auto (per vehicle).")
    ] = "reduced",
    typical_days: Annotated[
        int | None, typer.Option("--typical-days", min=2, max=366, help="Default: the template's solver.typical_days.")
    ] = None,
    operation: Annotated[
        str, typer.Option("--operation", help="Reduced plan: operating figures from the 'year' or 'typical-days'.")
    ] = "year",
    weather: Annotated[
        str,
        typer.Option(
            "--weather",
            help="japan (default: each town's own climate: its region's typical year, GHI scaled to the measured "
            "points), municipality (Tokyo's synthetic climate at each town's sun) or template (as it is).",
        ),
    ] = "japan",
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="--weather japan: folder with the regional hourly years, laid out like chisan's shared data "
            "(default: $CHISAN_DATA; without one, the bundled monthly figures).",
        ),
    ] = None,
    grid_factors: Annotated[
        str,
        typer.Option(
            "--grid-factors",
            help="Grid emission factors by area: latest (each area's most recent basic factor of the registry), "
            "latest-adjusted, fy2016 (adjusted), fy2013 (basic), or template.",
        ),
    ] = "latest",
    prices: Annotated[
        str,
        typer.Option(
            "--prices",
            help="Import prices: tariff (the area's low-voltage tariff below 50 kW of installed charging, else its "
            "high-voltage one), area (the template's × an area index), or template.",
        ),
    ] = "tariff",
    code: Annotated[list[str] | None, typer.Option("--code", help="Only this municipality code (repeatable).")] = None,
    prefecture: Annotated[
        list[str] | None, typer.Option("--prefecture", help="Only this prefecture (repeatable; name or JIS code).")
    ] = None,
    sample: Annotated[
        int | None, typer.Option("--sample", min=1, help="Only a seeded random sample of this many municipalities.")
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed/--no-retry-failed", help="Plan again what failed in an earlier run.")
    ] = True,
    fresh: Annotated[bool, typer.Option("--fresh", help="Discard earlier results in the output folder.")] = False,
    map_kpi: Annotated[str, typer.Option("--map-kpi", help="Column that colours the map.")] = "cost_jpy_per_km",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print the output folder.")] = False,
) -> None:
    # the docstring (the command's help) is set below the function, from chisan.sweep.method
    from chisan.scenario.load import example_path, load_scenario
    from chisan.sweep.derive import DeriveOptions, prefecture_code, read_municipalities
    from chisan.sweep.run import SweepSettings
    from chisan.sweep.summary import kpi_map, national_totals, write_summary

    t0 = time.perf_counter()
    try:
        tpl = load_scenario(template or example_path())
        table = read_municipalities(municipalities, wards=wards)
        if code:
            missing = sorted(set(code) - set(table.index))
            if missing:
                raise ChisanError(f"--code {', '.join(missing)}: not in {municipalities} (with --wards {wards})")
            table = table.loc[list(dict.fromkeys(code))]
        if prefecture:
            wanted = {prefecture_code(p) for p in prefecture}
            codes = [
                _prefecture_or_none(c or name) for c, name in zip(table["pref_code"], table["prefecture"], strict=True)
            ]
            table = table[[c in wanted for c in codes]]
        if sample is not None and sample < len(table):
            table = table.sample(n=sample, random_state=0).sort_index()
        if table.empty:
            raise ChisanError("no municipality left to plan after --code / --prefecture / --sample")
        settings = SweepSettings(
            method=method,
            n_typical_days=typical_days,
            operation=operation,
            derive=DeriveOptions(
                weather=weather,
                data_dir=str(data.resolve()) if data is not None else None,
                grid_factors=grid_factors,
                prices=prices,
            ),
        )
        settings.check(tpl)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = _run(table, tpl, out, settings, scheduler, workers, wards, retry_failed, fresh, quiet=quiet)
            results = outcome.results
            if len(results):
                kpi_map(results, map_kpi)  # a bad --map-kpi fails here, before the report is written
                report = write_summary(
                    results, out, kpi=map_kpi, title=f"chisan sweep — {municipalities.name}", data_dir=data
                )
            else:
                report = None
    except ChisanError as err:
        _fail(err)
    except KeyboardInterrupt:
        err_console.print(
            f"[yellow]interrupted[/]: the municipalities finished so far are in {out}; run the same command again "
            "to plan the rest"
        )
        raise typer.Exit(code=130) from None
    if quiet:
        console.print(str(out))
        return
    p = outcome.progress
    console.print(_totals_table(national_totals(results)))
    console.print(
        f"[green]done[/] in {time.perf_counter() - t0:,.0f} s: {p.ok:,} planned, {p.failed:,} failed, {p.skipped:,} "
        f"already done. Results: [bold]{out / 'municipalities.parquet'}[/]"
        + (f"; report: [bold]{report}[/]" if report else "")
    )
    if p.failed:
        err_console.print(f"[yellow]{p.failed} municipalities failed[/]: see {out / 'failures.csv'}")


sweep.__doc__ = (
    "Plan every municipality of a table from a template scenario, on Dask, and summarise the country.\n\n"
    "How each municipality's figures are derived from the template:\n\n" + derivation_help()
)


def _run(table, tpl, out, settings, scheduler, workers, wards, retry_failed, fresh, *, quiet: bool):
    """Run the sweep, with a progress bar of done / failed / left unless ``quiet``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from chisan.sweep.run import run_sweep

    common = dict(
        settings=settings,
        scheduler=scheduler,
        n_workers=workers,
        wards=wards,
        retry_failed=retry_failed,
        fresh=fresh,
    )
    if quiet:
        return run_sweep(table, tpl, out, **common)

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TextColumn("[green]{task.fields[ok]} ok[/] · [red]{task.fields[failed]} failed[/] · {task.fields[left]} left"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("starting the cluster", total=None, ok=0, failed=0, left="?")

        def update(p) -> None:
            last = p.last
            desc = "planning" if last is None else f"{last.get('name', last['code'])[:28]:<28}"
            progress.update(
                task, total=p.total, completed=p.done, ok=p.ok, failed=p.failed, left=p.remaining, description=desc
            )
            if last is not None and last.get("status") == "failed":
                progress.console.print(
                    f"[red]✗[/] {last['code']} {last.get('name', '')}: {last.get('error_type')}: "
                    f"{str(last.get('error', ''))[:160]}",
                    highlight=False,
                )

        outcome = run_sweep(table, tpl, out, **common, on_progress=update)
        progress.update(task, description="done")
    return outcome
