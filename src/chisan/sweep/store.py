"""Sweep results on disk: one small Parquet file per municipality, written atomically, and the consolidated tables.

Layout of an output folder::

    sweep.json                 what was swept: template fingerprint, settings (a resumed run must match them)
    parts/<code>.parquet       one row per municipality, "ok" or "failed" with its error; written to a
                               temporary file and moved into place with os.replace, so a killed run leaves
                               either the whole file or none
    municipalities.parquet     all rows (ok and failed), one per municipality, sorted by code
    municipalities.csv         the same, for spreadsheets

A second run reads ``parts/`` and plans only what is missing (and, by default, what failed). The consolidated
tables are rewritten from ``parts/`` at the end of every run, also an interrupted one, again atomically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from chisan.exceptions import DataError
from chisan.report.output import atomic_file

MANIFEST = "sweep.json"
PARTS = "parts"
RESULTS = "municipalities.parquet"
RESULTS_CSV = "municipalities.csv"

STATUS_OK = "ok"
STATUS_FAILED = "failed"


def _atomic_write(path: Path, write) -> None:
    """``write(tmp)`` then an atomic, fsynced move onto ``path`` (a killed run leaves the old file or the new)."""
    atomic_file(path, write, fsync=True)


def _safe_name(code: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(code))
    if not keep:
        raise DataError(f"municipality code {code!r} cannot name a file")
    return keep


class SweepStore:
    """The output folder of a sweep.

    Parameters
    ----------
    out_dir : Path
        Folder; created when missing.
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.parts_dir = self.out_dir / PARTS

    def open(self, manifest: Mapping[str, Any], *, fresh: bool = False) -> None:
        """Prepare the folder for a run with ``manifest``; resume when it holds the same sweep.

        Raises
        ------
        DataError
            The folder holds a sweep with other settings (and ``fresh`` is False), or is not writable.
        """
        try:
            self.parts_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise DataError(f"{self.out_dir}: cannot create the output folder: {err}") from None
        for tmp in self.parts_dir.glob(".*.tmp"):  # left by a run killed while writing
            tmp.unlink(missing_ok=True)
        path = self.out_dir / MANIFEST
        wanted = json.loads(json.dumps(dict(manifest), default=str))
        if path.is_file() and not fresh:
            try:
                existing = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as err:
                raise DataError(f"{path}: unreadable sweep manifest ({err}); remove it or use a new folder") from None
            differ = sorted(k for k in set(existing) | set(wanted) if existing.get(k) != wanted.get(k))
            if differ:
                shown = "; ".join(f"{k}: {existing.get(k)!r} → {wanted.get(k)!r}" for k in differ[:4])
                raise DataError(
                    f"{self.out_dir} holds a sweep with other settings ({shown}); its results cannot be mixed with "
                    "this run's. Use another output folder, or start afresh (fresh=True / --fresh)"
                )
        if fresh:
            for part in self.parts_dir.glob("*.parquet"):
                part.unlink()
        _atomic_write(path, lambda tmp: tmp.write_text(json.dumps(wanted, indent=2, sort_keys=True), encoding="utf-8"))

    def part_path(self, code: str) -> Path:
        """Path of one municipality's result file."""
        return self.parts_dir / f"{_safe_name(code)}.parquet"

    def write(self, record: Mapping[str, Any]) -> Path:
        """Write one municipality's row atomically (replacing an earlier one)."""
        frame = pd.DataFrame([dict(record)])
        path = self.part_path(str(record["code"]))
        _atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
        return path

    def status(self) -> dict[str, str]:
        """Status (``"ok"`` or ``"failed"``) of every municipality with a result file, by code."""
        table = self.records(columns=["code", "status"])
        return dict(zip(table["code"].astype(str), table["status"].astype(str), strict=True))

    def records(self, columns: list[str] | None = None) -> pd.DataFrame:
        """All result rows found in ``parts/`` (unreadable files are skipped: they are planned again)."""
        frames = []
        for part in sorted(self.parts_dir.glob("*.parquet")):
            try:
                frames.append(pd.read_parquet(part, columns=columns))
            except (OSError, ValueError):
                continue
        if not frames:
            return pd.DataFrame(columns=columns or ["code", "status"])
        frames = [f for f in frames if not f.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns or ["code", "status"])

    def consolidate(self, order: list[str] | None = None) -> pd.DataFrame:
        """Write ``municipalities.parquet`` and ``.csv`` from ``parts/`` (atomically) and return the table.

        Parameters
        ----------
        order : list of str, optional
            Codes in the order of the input table; others follow sorted.
        """
        table = self.records()
        if len(table):
            table["code"] = table["code"].astype(str)
            rank = {c: i for i, c in enumerate(order or [])}
            table = (
                table.assign(_rank=table["code"].map(lambda c: rank.get(c, len(rank))))
                .sort_values(["_rank", "code"])
                .drop(columns="_rank")
                .reset_index(drop=True)
            )
        _atomic_write(self.out_dir / RESULTS, lambda tmp: table.to_parquet(tmp, index=False))
        _atomic_write(self.out_dir / RESULTS_CSV, lambda tmp: table.to_csv(tmp, index=False))
        return table


def read_results(out_dir: str | Path) -> pd.DataFrame:
    """The consolidated table of a sweep folder (``municipalities.parquet``).

    Raises
    ------
    DataError
        No consolidated table in the folder.
    """
    path = Path(out_dir) / RESULTS
    if not path.is_file():
        raise DataError(f"{path}: no sweep results here (run chisan sweep with --out {out_dir})")
    return pd.read_parquet(path)
