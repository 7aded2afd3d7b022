"""Every command's ``--help`` shows its help strings whole: no bracketed text eaten by rich markup."""

from __future__ import annotations

import re

import click
import pytest
import typer.main
import typer.rich_utils
from typer.testing import CliRunner

from chisan.cli import app

runner = CliRunner()
COMMANDS = sorted(typer.main.get_command(app).commands)
BOX = re.compile(r"[│╭╮╰╯─┃━]")


def _shown(text: str) -> str:
    """Help output without the panel frames, every run of white space one blank."""
    return " ".join(BOX.sub(" ", text).split())


def _written(cmd: click.Command) -> list[str]:
    """The help texts of a command and its parameters as written (rich's escape \\[ read as [)."""
    texts = [cmd.help or ""] + [getattr(p, "help", None) or "" for p in cmd.params]
    return [t.replace("\\[", "[") for t in texts]


def test_every_command_is_scanned():
    assert {"plan", "example", "compare", "roadmap", "drivetrain", "sweep", "serve", "autonomous"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_keeps_every_bracketed_text(name, monkeypatch):
    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", 4000)  # one line per paragraph: nothing wraps mid-bracket
    cmd = typer.main.get_command(app).commands[name]
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    shown = _shown(result.output)
    for text in _written(cmd):
        for bracket in re.findall(r"\[[^\]\n]*\]", " ".join(text.split())):
            assert bracket in shown, f"chisan {name} --help lost {bracket!r} of {text[:60]!r}…"
    # what markup leaves behind where it ate a bracket: a blank before a full stop, or after an opening parenthesis
    assert " ." not in shown.replace(" ...", "")
    assert "( " not in shown
