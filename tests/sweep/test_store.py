"""The sweep's output folder: atomic rows, resumable status, manifests that keep sweeps apart."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from chisan.exceptions import DataError
from chisan.sweep.store import MANIFEST, RESULTS_CSV, SweepStore


def test_rows_are_written_whole_and_replaced(tmp_path):
    store = SweepStore(tmp_path / "out")
    store.open({"template_sha256": "abc"})
    store.write({"code": "011002", "status": "failed", "error": "boom"})
    store.write({"code": "011002", "status": "ok", "pv_kw": 12.5})  # a retry replaces the failed row
    store.write({"code": "473022", "status": "ok", "pv_kw": 3.0})
    assert store.status() == {"011002": "ok", "473022": "ok"}
    assert not list((tmp_path / "out").rglob("*.tmp"))
    table = store.consolidate(order=["473022", "011002"])
    assert list(table["code"]) == ["473022", "011002"]
    assert pd.read_csv(tmp_path / "out" / RESULTS_CSV, dtype={"code": str})["pv_kw"].tolist() == [3.0, 12.5]


def test_a_damaged_row_file_is_planned_again(tmp_path):
    store = SweepStore(tmp_path)
    store.open({"k": 1})
    store.write({"code": "1", "status": "ok"})
    store.part_path("2").write_bytes(b"PAR1 not really parquet")  # e.g. copied half by hand
    assert store.status() == {"1": "ok"}


def test_leftovers_of_a_killed_write_are_removed(tmp_path):
    store = SweepStore(tmp_path)
    store.open({"k": 1})
    (store.parts_dir / ".1.parquet.deadbeef.tmp").write_bytes(b"half")
    store.open({"k": 1})
    assert not list(store.parts_dir.glob("*.tmp"))


def test_manifest_keeps_different_sweeps_apart(tmp_path):
    store = SweepStore(tmp_path)
    store.open({"template_sha256": "abc", "settings": {"method": "reduced"}})
    store.write({"code": "1", "status": "ok"})
    with pytest.raises(DataError, match=r"other settings \(settings: .*reduced.*two-stage"):
        store.open({"template_sha256": "abc", "settings": {"method": "two-stage"}})
    store.open({"template_sha256": "abc", "settings": {"method": "two-stage"}}, fresh=True)
    assert store.status() == {}
    assert json.loads((tmp_path / MANIFEST).read_text())["settings"]["method"] == "two-stage"
