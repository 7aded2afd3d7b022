"""``chisan drivetrain``: plan every drivetrain mix of a depot's fleet and write the choice."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Annotated

import typer

from chisan.exceptions import ChisanError


def drivetrain(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file with a \\[drivetrain_choice] table.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the table of candidates.")] = Path(
        "chisan-drivetrain"
    ),
    method: Annotated[str | None, typer.Option("--method", help="auto, full or two-stage.")] = None,
) -> None:
    """Choose the cheapest battery-electric / fuel-cell / diesel mix of a depot's fleet within its carbon target:
    every candidate planned and costed per year; writes drivetrain_choice.csv and drivetrain_choice.md."""
    from chisan.cli import _print_warnings, console, fail
    from chisan.economics.drivetrain import choice_markdown, choose_drivetrain
    from chisan.report.output import atomic_folder, check_out_dir
    from chisan.scenario.load import load_scenario

    t0 = time.perf_counter()
    try:
        check_out_dir(out)  # before the candidates' solves: refuse a file or a folder of the user's own files
        # the scenario's warnings (a renamed field …) as `chisan plan` shows them: one "warning:" line each
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                sc = load_scenario(scenario)
            finally:
                _print_warnings(caught, quiet=False)
        with warnings.catch_warnings():  # every candidate's plan would repeat the same warnings
            warnings.simplefilter("ignore")
            result = choose_drivetrain(sc, method=method)
        text = f"# Drivetrain of depot {sc.drivetrain_choice.depot}\n\n" + choice_markdown(result)
        with atomic_folder(out.resolve()) as tmp:
            result.candidates.to_csv(tmp / "drivetrain_choice.csv")
            (tmp / "drivetrain_choice.md").write_text(text, encoding="utf-8")
    except ChisanError as err:
        fail(err)
    console.print(text, markup=False)
    console.print(f"[green]done[/] in {time.perf_counter() - t0:.1f} s. Tables: [bold]{out.resolve()}[/]")
