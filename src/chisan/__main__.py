"""``python -m chisan``: the same command line as the ``chisan`` console script (:mod:`chisan.cli`)."""

from chisan.cli import app

if __name__ == "__main__":  # pragma: no cover - the guard matters: spawned workers re-import the main module
    app(prog_name="chisan")
