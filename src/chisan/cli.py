"""The ``chisan`` command: plan a town, and (as the issues land) run its roadmap, the national sweep and the
operations service.

The library never prints; this module talks to people: rich progress for each stage, tables of results, and
errors as one red line naming the file, field, value and what is allowed (exit status 2), never a traceback.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from chisan.exceptions import ChisanError

if TYPE_CHECKING:
    from rich.progress import Progress
    from rich.table import Table

# Each command imports its work inside its function (and the commands of the other packages register from modules
# that import only typer and rich): every command, and every process a pool spawns from the console script (it runs
# the script again, so it imports this module), starts without scipy, the service or Dask.

app = typer.Typer(
    name="chisan",
    help="chisan (地産): plan and run electric car-sharing powered by renewable energy produced in the town.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=False)
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        from chisan import __version__

        console.print(f"chisan {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """chisan (地産): renewable-powered car-sharing for towns."""


def fail(err: Exception) -> None:
    """Print a chisan error for people and exit with status 2."""
    err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False)
    raise typer.Exit(code=2)


def _progress() -> Progress:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(bar_width=30),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def kpi_table(results, title: str) -> Table:
    """The key figures as a rich table, with labels for people (kpis.csv keeps the machine names)."""
    from rich.table import Table

    from chisan.report.labels import KPI_LABELS, label, value_text

    table = Table(title=title, show_lines=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for name, row in results.kpis.iterrows():
        shown, unit = value_text(row["value"], row["unit"])
        table.add_row(label(str(name), KPI_LABELS), shown, unit)
    return table


def economics_table(economics, title: str) -> Table:
    """The economics figures against business as usual as a rich table, with labels for people."""
    from rich.table import Table

    from chisan.report.labels import FIGURE_LABELS, label, value_text

    table = Table(title=title, show_lines=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for name, row in economics.figures.iterrows():
        shown, unit = value_text(row["value"], row["unit"])
        table.add_row(label(name, FIGURE_LABELS), shown, unit)
    return table


@app.command()
def example(
    name: Annotated[
        str | None,
        typer.Argument(
            help="Which example: example_town (default), shanghai_district, hydrogen_town (shared cars, an e-van "
            "depot and a fuel-cell bus line), autonomous_town, second_life_peak_shaving. shanghai_district and "
            "hydrogen_town read CSV files beside them: get them with --out.",
        ),
    ] = None,
    path: Annotated[bool, typer.Option("--path", help="Print where the example file is instead of its text.")] = False,
    autonomous: Annotated[
        bool, typer.Option("--autonomous", help="The same town served by a simulated self-driving shared fleet.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the example and the CSV files it reads into this folder (created if new; an existing "
            "file is not replaced) and print their paths, instead of printing the text.",
        ),
    ] = None,
) -> None:
    """Print a bundled example scenario (redirect it to a file to start your own: chisan example > town.toml;
    an example with CSV files: chisan example shanghai_district --out my_district)."""
    from chisan.scenario.load import example_companions, example_path

    try:
        chosen = "autonomous_town" if autonomous and name is None else name
        file = example_path(chosen)
        companions = example_companions(chosen)
        if out is not None:
            _write_example(out, [file, *companions])
            return
    except ChisanError as err:
        fail(err)
    sys.stdout.write(f"{file}\n" if path else file.read_text(encoding="utf-8"))
    if companions and not path:
        err_console.print(
            f"[yellow]note:[/] {file.stem} reads {', '.join(p.name for p in companions)} from its own folder; "
            f"`chisan example {file.stem} --out DIR` writes them with the scenario",
            highlight=False,
        )


def _write_example(out: Path, files: list[Path]) -> None:
    """Copy ``files`` into ``out``; refuse (before copying any) when ``out`` is a file or holds a different one."""
    if out.exists() and not out.is_dir():
        raise ChisanError(f"--out {out}: is a file, not a folder; choose a folder for the example")
    clash = [out / f.name for f in files if (out / f.name).exists() and (out / f.name).read_bytes() != f.read_bytes()]
    if clash:
        raise ChisanError(
            f"--out {out}: {', '.join(str(c) for c in clash)} already exists and differs from the example; "
            "it is not replaced: choose another folder or delete the file"
        )
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        (out / f.name).write_bytes(f.read_bytes())
        console.print(str(out / f.name), highlight=False)


@app.command()
def plan(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario TOML file; omit to plan the bundled example town.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report and tables.")] = Path("chisan-out"),
    check: Annotated[bool, typer.Option("--check", help="Validate the scenario and its files; do not solve.")] = False,
    method: Annotated[
        str | None, typer.Option("--method", help="auto, full or two-stage (default: the scenario's).")
    ] = None,
    bound: Annotated[
        bool, typer.Option("--bound", help="Certify the two-stage gap with a lower bound (slower).")
    ] = False,
    no_bau: Annotated[
        bool,
        typer.Option("--no-bau", help="Skip the business-as-usual solve and the economics (NPV, payback …)."),
    ] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="weather.source = 'japan': folder with the regional hourly years, laid out like chisan's shared "
            "data (default: $CHISAN_DATA; without one, the bundled monthly figures).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print the output folder.")] = False,
) -> None:
    """Plan the cost-optimal renewable-powered car-sharing system of a town, compare it with business as usual
    (the same town on the grid only) and write an HTML report."""
    from chisan.scenario.load import example_path, load_scenario

    path = scenario or example_path()
    name = path.name if scenario else f"{path.name} (bundled example)"
    if method is not None and method not in ("auto", "full", "two-stage"):
        fail(ChisanError(f"--method = {method!r}: allowed are auto, full, two-stage"))
    t_start = time.perf_counter()
    try:
        from chisan.report.output import check_out_dir

        check_out_dir(out)  # before the solve: refuse a file or a folder of the user's own files (--check too)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sc = load_scenario(path)
            if data is not None:
                if sc.weather.source != "japan":
                    raise ChisanError(
                        f"--data {data}: only weather.source = 'japan' reads a data folder, the scenario has "
                        f"weather.source = {sc.weather.source!r}"
                    )
                sc = sc.model_copy(update={"weather": sc.weather.model_copy(update={"data_dir": data.resolve()})})
            if check:
                from chisan.scenario.sanity import warn_implausible

                warn_implausible(sc)
                _check_only(sc, name, quiet)
                _print_warnings(caught, quiet)
                return
            run = _run_with_progress(sc, method=method, bound=bound, quiet=quiet, bau=not no_bau)
            if not quiet:
                console.print("[dim]writing the report and tables[/]")
            from chisan.report.render import write_outputs

            out_dir = write_outputs(
                out,
                run.prepared,
                run.results,
                run.checks,
                scenario_text=path.read_text(encoding="utf-8"),
                scenario_name=name,
                solve_seconds=run.seconds["solve"],
                economics=run.economics,
                bau=run.bau,
                resilience=run.resilience,
            )
    except ChisanError as err:
        fail(err)
    _print_warnings(caught, quiet)
    if quiet:
        console.print(str(out_dir))
        return
    console.print(kpi_table(run.results, f"{run.prepared.scenario.municipality.name} — key figures"))
    if run.economics is not None:
        console.print(economics_table(run.economics, "Against business as usual (the same town on the grid only)"))
    if run.prepared.autonomous is not None:
        from chisan.report.render import autonomous_table

        v = autonomous_table(run.prepared, run.results)["value"]
        console.print(
            f"Autonomous fleet: {int(v['fleet_cars'])} cars ({v['fleet_size_from']}), "
            f"{v['empty_distance_fraction']:.0%} of km empty; charging {v['charging_planned_kwh']:,.0f} kWh, "
            f"{v['charging_reoptimised_fraction']:.0%} re-optimised by the plan; at the planned PV "
            f"{v['charging_planned_pv_fraction']:.0%} PV-fed, {v['charging_planned_grid_cost_per_kwh']:.1f} "
            f"{run.prepared.inputs.currency}/kWh from the grid (the simulation's own charging: "
            f"{v['charging_simulated_pv_fraction']:.0%}, {v['charging_simulated_grid_cost_per_kwh']:.1f}). "
            "Table: autonomous.csv"
        )
    console.print(
        f"[green]done[/] in {time.perf_counter() - t_start:.1f} s ({run.results.method['method']} method; "
        f"all {len(run.checks.rows)} after-solve checks passed). Report: [bold]{out_dir / 'report.html'}[/]"
    )


@app.command()
def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario TOML files (any number); each is one variant.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the tables and the workbook.")] = Path(
        "chisan-compare"
    ),
    method: Annotated[
        str | None, typer.Option("--method", help="auto, full or two-stage (default: each scenario's).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Dask worker processes (default: one per core).")
    ] = None,
    serial: Annotated[bool, typer.Option("--serial", help="Plan one after another, without Dask.")] = False,
) -> None:
    """Plan several scenarios — and the low/high variants of each one's \\[sensitivity] table — each against
    business as usual, and write one comparison table, tornado charts of NPV, cost per km and the local renewable
    share, and an Excel workbook."""
    import pandas as pd
    from rich.table import Table

    from chisan.economics import compare as cmp
    from chisan.report.labels import FIGURE_LABELS, KPI_LABELS, label, value_text
    from chisan.report.output import atomic_folder, check_out_dir, fig_html
    from chisan.scenario.load import load_scenario

    if method is not None and method not in ("auto", "full", "two-stage"):
        fail(ChisanError(f"--method = {method!r}: allowed are auto, full, two-stage"))
    t_start = time.perf_counter()
    try:
        check_out_dir(out)  # before planning: refuse a file or a folder of the user's own files
        entries: list[tuple[str, str, str, cmp.Variant]] = []  # (file, field, side, variant)
        for path in scenarios:
            sc = load_scenario(path)
            for field, side, variant in cmp.sensitivity_variants(sc, name=path.stem):
                if side != "base":
                    variant = cmp.Variant(f"{path.stem}: {variant.name}", variant.scenario)
                entries.append((path.stem, field, side, variant))
        names = [v.name for *_, v in entries]
        if len(set(names)) != len(names):
            raise ChisanError(
                f"two scenarios have the same name ({', '.join(sorted({n for n in names if names.count(n) > 1}))}); "
                "rename a file"
            )
        console.print(f"planning {len(entries)} variants, each with business as usual")
        results = cmp.run_variants(
            [v for *_, v in entries],
            method=method,
            scheduler="synchronous" if serial else None,
            n_workers=workers,
            on_done=lambda r: console.print(f"[dim]✓ {escape(r.name)}{' — ' + escape(r.error) if r.error else ''}[/]"),
        )
        bases = [r for (_, _, side, _), r in zip(entries, results, strict=True) if side == "base"]
        table = cmp.comparison_table(results)
        tornados = {}
        for stem in dict.fromkeys(e[0] for e in entries):
            mine = [(f, side, r) for (s, f, side, _), r in zip(entries, results, strict=True) if s == stem]
            if len(mine) > 1:
                for figure in cmp.TORNADO_FIGURES:
                    tornados[(stem, figure)] = cmp.tornado_table(mine, figure)
        with atomic_folder(out.resolve()) as tmp:
            table.to_csv(tmp / "comparison.csv")
            sensitivity = pd.concat(tornados, names=["scenario", "figure"]) if tornados else None
            if sensitivity is not None:
                sensitivity.to_csv(tmp / "sensitivity.csv")
                import plotly.offline

                charts = "".join(
                    fig_html(
                        cmp.tornado_chart(
                            t, f"{label(figure, {**KPI_LABELS, **FIGURE_LABELS})} of {stem}", _unit_of(table, figure)
                        )
                    )
                    for (stem, figure), t in tornados.items()
                )
                (tmp / "tornado.html").write_text(
                    f"<!DOCTYPE html><html><head><meta charset='utf-8'><script>{plotly.offline.get_plotlyjs()}"
                    f"</script></head><body>{charts}</body></html>",
                    encoding="utf-8",
                )
            cmp.write_workbook(tmp / "comparison.xlsx", results, table, sensitivity)
    except ChisanError as err:
        fail(err)
    shown = Table(title=f"{len(bases)} scenario(s), {len(results)} variant(s) against business as usual")
    shown.add_column("figure")
    for r in results if len(results) <= 6 else bases:
        shown.add_column(r.name, justify="right")
    shown.add_column("unit")
    for name, row in table.iterrows():
        cols = [r.name for r in (results if len(results) <= 6 else bases)]
        cells = [value_text(row[c], row["unit"]) for c in cols]
        unit = next((u for _, u in cells if u), row["unit"])
        shown.add_row(label(str(name), {**KPI_LABELS, **FIGURE_LABELS}), *[v for v, _ in cells], unit)
    console.print(shown)
    console.print(
        f"[green]done[/] in {time.perf_counter() - t_start:.1f} s. Tables: [bold]{out.resolve()}[/] "
        "(comparison.csv, comparison.xlsx" + (", sensitivity.csv, tornado.html)" if tornados else ")")
    )


def _unit_of(table, figure: str) -> str:
    return str(table.loc[figure, "unit"]) if figure in table.index else ""


def _print_warnings(caught, quiet: bool) -> None:
    if quiet:
        return
    seen = set()
    for w in caught:
        text = str(w.message)
        if text in seen or issubclass(w.category, DeprecationWarning | FutureWarning):
            continue
        seen.add(text)
        err_console.print(f"[yellow]warning:[/] {escape(text)}", highlight=False)


def _run_with_progress(sc, *, method: str | None, bound: bool, quiet: bool, bau: bool = True):
    from chisan.plan.pipeline import plan_scenario

    if quiet:
        return plan_scenario(sc, method=method, lower_bound=bound, business_as_usual=bau, bau_alongside=bau)
    with _progress() as progress:
        task = progress.add_task("reading the scenario", total=1.0)
        state = {"msg": ""}

        def say(msg: str, frac: float) -> None:
            stage = msg.split(" (")[0]
            if stage != state["msg"]:
                if state["msg"]:
                    progress.console.print(f"[dim]✓ {state['msg']}[/]", highlight=False)
                state["msg"] = stage
            # the solver's own progress moves the bar during a solve (plan/highs.py); its text is not markup
            progress.update(task, description=escape(msg), completed=min(1.0, max(0.0, frac)))

        # business as usual solved in a second process beside the plan (two cores)
        run = plan_scenario(
            sc, method=method, lower_bound=bound, progress=say, business_as_usual=bau, bau_alongside=bau
        )
        progress.update(task, description="plan checked", completed=1.0)
    return run


def _check_only(sc, name: str, quiet: bool) -> None:
    from chisan.plan.prepare import prepare_inputs

    prepared = prepare_inputs(sc)
    a = prepared.assignment
    inp = prepared.inputs
    if quiet:
        console.print("ok")
        return
    console.print(
        f"[green]ok[/]: {name} is valid. {len(inp.snapshots):,} steps of {inp.dt_hours:g} h; "
        f"{len(a.bookings):,} bookings ({a.unserved_count:,} cannot be served); {len(inp.vehicles)} "
        f"vehicles at {len(inp.stations)} stations; PV yield {inp.pv_kw_per_kw.sum() * inp.dt_hours:,.0f} "
        f"kWh/kWp/year; weather: {prepared.weather_source}."
    )


from chisan.roadmap.cli import roadmap  # noqa: E402

app.command()(roadmap)

from chisan.economics.drivetrain_cli import drivetrain  # noqa: E402

app.command()(drivetrain)

from chisan.sweep.cli import sweep  # noqa: E402

app.command()(sweep)

from chisan.service.cli import serve  # noqa: E402

app.command("serve")(serve)

from chisan.autonomous_cli import autonomous  # noqa: E402

app.command()(autonomous)


if __name__ == "__main__":  # pragma: no cover
    app()
