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


@contextmanager
def atomic_folder(out_dir: str | Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``out_dir``; on success it replaces ``out_dir``, on error it is removed.

    An earlier ``out_dir`` stays untouched until the new one is complete, and is put back if the swap fails.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        yield tmp
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
