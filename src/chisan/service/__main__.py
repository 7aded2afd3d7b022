"""``python -m chisan.service``: run the operations service (same options as ``chisan serve``)."""

import typer

from chisan.service.cli import serve

if __name__ == "__main__":
    typer.run(serve)
