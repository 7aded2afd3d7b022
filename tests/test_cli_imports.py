"""What starting ``chisan`` imports: the command line and the processes its pools spawn start without the heavy
packages of the commands they do not run (each check in a fresh interpreter, where ``sys.modules`` is honest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import typer.main

from chisan.cli import app

CLICK_APP = typer.main.get_command(app)

#: Packages no command needs before it runs, and no worker of the plan needs at all.
HEAVY = ("scipy.optimize", "fastapi", "dask", "plotly", "sqlalchemy", "sklearn", "tsam")


def _loaded(code: str) -> list[str]:
    """The packages of HEAVY (and rich, typer, chisan.report) in sys.modules after running ``code``."""
    probe = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        print(json.dumps([m for m in {(*HEAVY, "rich", "typer", "chisan.report")!r} if m in sys.modules]))
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_importing_the_cli_imports_no_command_work():
    loaded = _loaded("import chisan.cli")
    assert [m for m in HEAVY if m in loaded] == []
    assert "rich" in loaded and "typer" in loaded  # the probe sees what is imported


@pytest.mark.parametrize("command", [None, *sorted(CLICK_APP.commands)])
def test_help_of_every_command_is_whole_and_imports_no_command_work(command):
    args = ["--help"] if command is None else [command, "--help"]
    code = f"""
        import contextlib, io, json, sys
        from chisan.cli import app
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                app({args!r}, prog_name="chisan")
            except SystemExit as stop:
                assert stop.code == 0, stop.code
        print(json.dumps([buf.getvalue(), [m for m in {HEAVY!r} if m in sys.modules]]))
    """
    env = {**os.environ, "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    text, loaded = json.loads(out.stdout)
    # every option the command declares is in its help (the names come from typer's own command, not from here)
    params = CLICK_APP.params if command is None else CLICK_APP.commands[command].params
    for param in params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("-"):
                assert opt in text, f"{opt} missing from chisan {command} --help"
    assert loaded == []


@pytest.mark.parametrize(
    "module",
    ["chisan.plan.bau_worker", "chisan.plan.site_year_worker", "chisan.plan.site_dispatch"],
)
def test_worker_modules_import_only_the_solver(module):
    loaded = _loaded(f"import {module}")
    assert loaded == []  # neither the command line (rich, typer), nor the report, nor typical days (sklearn)


def test_a_worker_spawned_from_the_console_script_starts_without_the_commands(tmp_path):
    """A spawned worker runs the console script again (as ``__mp_main__``), then imports its function's module."""
    script = tmp_path / "chisan"
    script.write_text(
        textwrap.dedent(f"""
            import sys
            from chisan.cli import app


            def probe():
                import chisan.plan.bau_worker  # what unpickling chisan.plan.bau_worker.solve_bau imports
                return [m for m in {(*HEAVY, "chisan.report")!r} if m in sys.modules], "chisan.cli" in sys.modules


            if __name__ == "__main__":
                import json, multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                    print(json.dumps(pool.submit(probe).result()))
        """),
        encoding="utf-8",
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    heavy, saw_cli = json.loads(out.stdout.splitlines()[-1])
    assert saw_cli  # the worker did run the script again: the check below is of the real start-up
    assert heavy == []
