"""What every chisan report and output folder shares: atomic writes, JSON-safe metadata, number and figure format.

Nothing is half-written: a folder of results is filled in a temporary sibling and renamed into place only when
complete (:func:`atomic_folder`); a single file is written next to its target and moved onto it
(:func:`atomic_file`). ``os.replace`` within one folder is atomic on POSIX and Windows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from chisan.exceptions import ChisanError

FIGURE_CONFIG = {"displaylogo": False, "responsive": True}
"""plotly options of every embedded figure (plotly.js itself is inlined once per page)."""


def fig_html(fig) -> str:
    """A plotly figure as an HTML fragment without its own copy of plotly.js."""
    return fig.to_html(full_html=False, include_plotlyjs=False, config=FIGURE_CONFIG)


def num(value: float | None, digits: int = 0) -> str:
    """A number with thousands separators, or an en dash when it is missing or not finite."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def jsonable(obj):
    """``obj`` with numpy scalars, pandas series and non-finite floats made JSON-safe (NaN and ∞ → null)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, pd.Series):
        return jsonable(obj.to_dict())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


OUTPUT_MARKER = ".chisan-output"
"""Empty file that :func:`atomic_folder` puts in every folder it writes: the folder is chisan's to replace."""

EARLIER_OUTPUT_FILES = ("run.json", "roadmap.json", "comparison.xlsx", "drivetrain_choice.md", "autonomous.html")
"""Files that mark a folder written by a chisan before :data:`OUTPUT_MARKER` (plan, roadmap, compare, drivetrain,
autonomous)."""


def check_out_dir(out_dir: str | Path) -> Path:
    """``out_dir`` resolved, when chisan may write its results there: it is new, empty, or an earlier chisan output.

    Raises
    ------
    ChisanError
        ``out_dir`` is a file, or a folder with other contents (a chisan output folder is replaced as a whole,
        so anything else in it would be lost).
    """
    out_dir = Path(out_dir).resolve()
    if out_dir.is_file() or (out_dir.exists() and not out_dir.is_dir()):
        raise ChisanError(
            f"--out {out_dir}: is a file, not a folder; chisan writes a folder of results there and would replace "
            "the file. Choose another --out folder"
        )
    if out_dir.is_dir() and any(out_dir.iterdir()) and not _is_chisan_output(out_dir):
        raise ChisanError(
            f"--out {out_dir}: the folder already holds files that chisan did not write (it has no {OUTPUT_MARKER} "
            "or run.json); chisan replaces its output folder as a whole and would delete them. Choose a new or "
            "empty folder, or delete this one yourself"
        )
    return out_dir


def _is_chisan_output(folder: Path) -> bool:
    return any((folder / name).is_file() for name in (OUTPUT_MARKER, *EARLIER_OUTPUT_FILES))


@contextmanager
def atomic_folder(out_dir: str | Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``out_dir``; on success it replaces ``out_dir``, on error it is removed.

    An earlier ``out_dir`` stays untouched until the new one is complete, and is put back if the swap fails.
    Only a new or empty folder or an earlier chisan output is replaced (:func:`check_out_dir`).

    Raises
    ------
    ChisanError
        ``out_dir`` is a file or a folder of other files; nothing is written.
    """
    out_dir = check_out_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        yield tmp
        (tmp / OUTPUT_MARKER).touch()
        check_out_dir(out_dir)  # again: the folder may have changed while the results were computed
        _swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_into_place(tmp: Path, out_dir: Path) -> None:
    """Move ``tmp`` to ``out_dir``, replacing an earlier result folder only once the new one is complete."""
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        os.replace(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def atomic_file(path: str | Path, write: Callable[[Path], None], *, fsync: bool = False) -> None:
    """Call ``write(tmp_path)``, then move the temporary file onto ``path`` (same folder, so the move is atomic).

    ``fsync`` flushes the file to disk before the move, for files a later run relies on after a crash.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
