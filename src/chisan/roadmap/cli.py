"""``chisan roadmap``: run a town forward year by year to its carbon target and write the roadmap report.

Registered on the ``chisan`` app by :mod:`chisan.cli`. The command talks to people (progress, tables, one red
line per error, exit status 2); the work is done by :func:`chisan.roadmap.run.run_roadmap`.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

if TYPE_CHECKING:
    from rich.table import Table

from chisan.exceptions import ChisanError, ScenarioError


def roadmap(
    scenario: Annotated[
        Path | None,
        typer.Argument(help="Scenario TOML file, with an optional \\[roadmap] table; omit for the bundled example."),
    ] = None,
    settings: Annotated[
        Path | None,
        typer.Option("--settings", "-s", help="A TOML file with the \\[roadmap] table (keeps town.toml plan-ready)."),
    ] = None,
    years: Annotated[
        str | None, typer.Option("--years", help="First and last year, e.g. 2026-2050 (default: the table's).")
    ] = None,
    plan_years: Annotated[
        int | None,
        typer.Option("--plan-years", help="Years planned in full, evenly spaced (default: the table's, 3)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report and tables.")] = Path(
        "chisan-roadmap"
    ),
    example: Annotated[
        bool,
        typer.Option(
            "--example",
            help="Print an example \\[roadmap] table (save it as roadmap.toml; pass --settings roadmap.toml).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print the output folder.")] = False,
) -> None:
    """Run the town forward year by year: fleet, battery ageing and the 4Rs, second-life storage, emissions path."""
    from chisan.cli import _print_warnings, _progress, console
    from chisan.roadmap.schema import EXAMPLE_ROADMAP_TOML

    if example:
        sys.stdout.write(EXAMPLE_ROADMAP_TOML)
        return
    t_start = time.perf_counter()
    try:
        from chisan.report.output import check_out_dir

        check_out_dir(out)  # before the roadmap's solves: refuse a file or a folder of the user's own files
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sc, road, name, text = _load(scenario, settings)
            span = _years(years)
            if plan_years is not None:
                if plan_years < 2:
                    raise ScenarioError(f"--plan-years {plan_years}: allowed: 2 or more (the first and the last).")
                road = road.model_copy(update={"plan_years": plan_years})
            result = _run(sc, road, span, quiet, _progress)
            if not quiet:
                console.print("[dim]writing the report and tables[/]")
            from chisan.roadmap.report import write_roadmap_outputs

            out_dir = write_roadmap_outputs(out, result, sc, scenario_text=text, scenario_name=name)
    except ChisanError as err:
        fail(err)
    _print_warnings(caught, quiet)
    if quiet:
        console.print(str(out_dir))
        return
    console.print(_table(result, sc.municipality.name))
    s = result.summary
    verdict = (
        f"net zero in [bold]{s['net_zero_year']}[/]"
        + (" (in time)" if s["reaches_target"] else f" (after the {s['target_year']} target)")
        if s["net_zero_year"] is not None
        else f"[bold]{s['gap_at_target_kg'] / 1000:,.1f} t CO2e[/] left in {s['target_year']}"
    )
    peak_target = (
        f"; {'in time for' if s['peaks_in_time'] else 'after'} the {s['peak_by_year']} peak target"
        if s.get("peak_by_year") is not None
        else ""
    )
    console.print(
        f"[green]done[/] in {time.perf_counter() - t_start:.1f} s: peak in [bold]{s['peak_year']}[/] "
        f"({s['peak_kg'] / 1000:,.1f} t CO2e{peak_target}), {verdict}. Planned in full: "
        f"{', '.join(str(y) for y in result.config.planned_years)}. Report: [bold]{out_dir / 'roadmap.html'}[/]"
    )


def fail(err: Exception) -> None:
    """Print a chisan error for people and exit with status 2 (the message is escaped: it names [roadmap])."""
    from chisan.cli import err_console

    err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False)
    raise typer.Exit(code=2)


def _load(scenario: Path | None, settings: Path | None):
    """(Scenario, RoadmapSettings, name for the report, scenario text)."""
    from chisan.roadmap.schema import EXAMPLE_ROADMAP_TOML, example_settings, load_roadmap
    from chisan.scenario.load import example_path

    if scenario is None:
        path = example_path()
        sc, road = load_roadmap(path, settings)
        if settings is None:
            road = example_settings()
        text = path.read_text(encoding="utf-8")
        if settings is None:
            text += "\n" + EXAMPLE_ROADMAP_TOML
        return sc, road, f"{path.name} (bundled example)", text
    sc, road = load_roadmap(scenario, settings)
    text = scenario.read_text(encoding="utf-8")
    if settings is not None:
        text += "\n" + settings.read_text(encoding="utf-8")
    return sc, road, scenario.name, text


def _years(text: str | None) -> tuple[int, int] | None:
    from chisan.roadmap.schema import parse_years

    return None if text is None else parse_years(text)


def _run(sc, road, span, quiet: bool, make_progress):
    from chisan.roadmap.run import run_roadmap

    if quiet:
        return run_roadmap(sc, road, years=span)
    with make_progress() as progress:
        task = progress.add_task("preparing the roadmap", total=1.0)
        state = {"year": ""}

        def say(msg: str, frac: float) -> None:
            year = msg.split(":")[0]
            if year != state["year"]:
                if state["year"]:
                    progress.console.print(f"[dim]✓ {state['year']} planned[/]", highlight=False)
                state["year"] = year
            progress.update(task, description=msg, completed=min(1.0, max(0.0, frac)))

        result = run_roadmap(sc, road, years=span, progress=say)
        progress.update(task, description="ageing, 4R and emissions done", completed=1.0)
    return result


def _table(result, town: str) -> Table:
    """The planned years and the target year as a rich table."""
    from rich.table import Table

    y = result.years
    table = Table(title=f"{town} — roadmap (planned years and the target year)")
    for col in ("year", "vehicles", "PV kW", "storage used kWh", "scope 2 t", "embodied t", "net t CO2e"):
        table.add_column(col, justify="right")
    keep = sorted(set(result.config.planned_years) | {result.config.target_year})
    for year in keep:
        r = y.loc[year]
        table.add_row(
            f"{year}{'' if r['planned'] else ' (derived)'}",
            f"{int(r['vehicles'])}",
            f"{r['pv_kw']:,.1f}",
            f"{r['storage_kwh']:,.0f}",
            f"{r['scope2_kg'] / 1000:,.2f}",
            f"{r['embodied_kg'] / 1000:,.2f}",
            f"{r['net_kg'] / 1000:,.2f}",
        )
    return table
