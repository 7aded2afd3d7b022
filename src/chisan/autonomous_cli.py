"""``chisan autonomous``: how many self-driving shared cars serve a town's trips, and how they charge.

Registered on the ``chisan`` app by :mod:`chisan.cli`. The command talks to people (progress, a table, one red
line per error, exit status 2); the work is done by :mod:`chisan.autonomous`. This module sits beside that package,
not in it: importing it must not run the package's ``__init__`` (the simulation, scipy.optimize, linopy), which
every ``chisan`` command would pay.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from chisan.exceptions import ChisanError


def autonomous(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file (its town, stations, vehicle, PV, prices).")],
    requests: Annotated[
        Path | None,
        typer.Option(
            "--requests",
            help="CSV of requests (time + origin/destination lat/lon or zones); "
            "default: the scenario's bookings turned into door-to-door trips.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the tables and figures.")] = Path(
        "chisan-autonomous"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the requests and the fleet's start.")] = 0,
    service_level: Annotated[
        float, typer.Option("--service-level", help="Share of requests to pick up within --max-wait-min.")
    ] = 0.95,
    max_wait_min: Annotated[float, typer.Option("--max-wait-min", help="Wait limit \\[min].")] = 10.0,
    days: Annotated[int, typer.Option("--days", help="Days simulated from the start of the planned period.")] = 7,
    pv_kw: Annotated[
        float | None, typer.Option("--pv-kw", help="PV at the chargers \\[kWp] (default: the scenario's fixed PV).")
    ] = None,
) -> None:
    """Size a self-driving shared fleet for a service level, and report its empty km, energy, chargers, PV share
    and cost against today's station-based car-sharing; writes tables and HTML figures."""
    from rich.table import Table

    from chisan.cli import _print_warnings, _progress, console, fail

    t_start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from chisan.autonomous import export, figures, metrics
            from chisan.autonomous.simulate import simulate
            from chisan.autonomous.town import town_inputs
            from chisan.report.output import check_out_dir
            from chisan.scenario.load import load_scenario

            check_out_dir(out)  # before the simulation: refuse a file or a folder of the user's own files
            if not 0 < service_level <= 1:
                raise ChisanError(f"--service-level = {service_level}: give a share in (0, 1], e.g. 0.95")
            if not max_wait_min > 0:
                raise ChisanError(f"--max-wait-min = {max_wait_min}: give a wait > 0 [min]")
            sc = load_scenario(scenario)
            town = town_inputs(sc, days=days, requests_csv=requests, seed=seed, pv_kwp=pv_kw)
            if len(town.requests) == 0:
                raise ChisanError("there are no requests in the simulated days; nothing to serve")

            with _progress() as progress:
                task = progress.add_task("sizing the fleet", total=1.0)

                def run(cars: int):
                    cfg = dataclasses.replace(town.base_config, cars=cars)
                    progress.update(task, description=f"simulating {cars:,} cars", completed=0.0)
                    return simulate(
                        town.requests, town.grid, town.sites, cfg, horizon_min=town.horizon_min, seed=seed,
                        pv_kw=town.pv_kw, price_per_kwh=town.price_per_kwh,
                        progress=lambda f: progress.update(task, completed=f),
                    )  # fmt: skip

                def tried(cars: int, level: float) -> None:
                    progress.console.print(
                        f"[dim]✓ {cars:,} cars: {level:.1%} picked up within {max_wait_min:g} min[/]"
                    )

                cars, result, search = metrics.fleet_size_for_service(
                    run, level=service_level, max_wait_min=max_wait_min, on_try=tried, high=len(town.requests)
                )
                progress.update(task, description=f"{cars:,} cars meet the service level", completed=1.0)
            summary = metrics.summary(
                result, max_wait_min=max_wait_min, vehicle_cost_per_year=town.vehicle_cost_per_year,
                currency=town.currency,
            )  # fmt: skip
            comparison = None
            if town.bookings is not None and len(town.bookings):
                comparison = metrics.station_comparison(
                    result, town.bookings, consumption_kwh_per_km=town.consumption_kwh_per_km
                )
            literature = metrics.literature_table(summary, comparison)
            out_dir = _write(out, result, summary, comparison, literature, search, metrics, export, figures,
                             max_wait_min)  # fmt: skip
    except ChisanError as err:
        fail(err)
    _print_warnings(caught, False)
    table = Table(title=f"{sc.municipality.name} — autonomous fleet, {days} day(s), {len(town.requests):,} requests")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for name, row in summary.iterrows():
        value = row["value"]
        shown = f"{value:,.3f}" if isinstance(value, float) and abs(value) < 10 else f"{value:,.0f}"
        table.add_row(name.replace("_", " "), shown, str(row["unit"]))
    console.print(table)
    if comparison is not None:
        cmp = Table(title="Against today's station-based car-sharing (same outings)")
        for col in ("figure", "station-based", "autonomous", "unit"):
            cmp.add_column(col, justify="left" if col in ("figure", "unit") else "right")
        for name, row in comparison.iterrows():
            cells = ["–" if row[c] != row[c] else f"{row[c]:,.2f}" for c in ("station_based", "autonomous")]
            cmp.add_row(name.replace("_", " "), *cells, str(row["unit"]))
        console.print(cmp)
    lit = Table(title="Next to published shared-autonomous fleets")
    for col in ("study", "cars replaced per shared car", "empty km per rider km", "source"):
        lit.add_column(col)
    for study, row in literature.iterrows():
        ratio, extra = row["cars_replaced_per_shared_car"], row["extra_distance_fraction"]
        lit.add_row(
            str(study), "–" if ratio != ratio else f"{ratio:.1f}", "–" if extra != extra else f"{extra:.0%}",
            str(row["source"]),
        )  # fmt: skip
    console.print(lit)
    console.print(f"[dim]{escape(metrics.TOWN_DIFFERENCES)}[/]")
    console.print(
        f"[green]done[/] in {time.perf_counter() - t_start:.1f} s ({len(search)} fleet sizes tried). "
        f"Tables and figures: [bold]{escape(str(out_dir))}[/]"
    )


def _write(out, result, summary, comparison, literature, search, metrics, export, figures, max_wait_min) -> Path:
    import plotly.offline

    from chisan.report.output import atomic_folder, fig_html

    out_dir = out.resolve()
    with atomic_folder(out_dir) as tmp:
        summary.to_csv(tmp / "summary.csv")
        metrics.chargers_needed(result).to_csv(tmp / "chargers_per_site.csv")
        search.to_csv(tmp / "fleet_search.csv", index=False)
        literature.to_csv(tmp / "literature.csv")
        if comparison is not None:
            comparison.to_csv(tmp / "station_comparison.csv")
        export.charging_windows(result).to_csv(tmp / "charging_windows.csv", index=False)
        export.away_periods(result).to_csv(tmp / "away_periods.csv", index=False)
        charts = "".join(
            fig_html(f)
            for f in (
                figures.fleet_state_figure(result),
                figures.wait_figure(result, max_wait_min),
                figures.charging_figure(result),
            )
        )
        (tmp / "autonomous.html").write_text(
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Autonomous fleet</title><script>"
            f"{plotly.offline.get_plotlyjs()}</script></head><body><p>{escape(metrics.TOWN_DIFFERENCES)}</p>"
            f"{charts}</body></html>",
            encoding="utf-8",
        )
    return out_dir
