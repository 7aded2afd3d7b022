"""atomic_folder replaces only what chisan wrote: never a file, never a folder of someone's own files."""

from __future__ import annotations

import pytest

from chisan.exceptions import ChisanError
from chisan.report.output import OUTPUT_MARKER, atomic_folder


def _write(out):
    with atomic_folder(out) as tmp:
        (tmp / "kpis.csv").write_text("new", encoding="utf-8")


def test_a_file_is_refused_and_kept(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine", encoding="utf-8")
    with pytest.raises(ChisanError, match=r"afile: is a file, not a folder.*Choose another --out folder"):
        _write(afile)
    assert afile.read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # no temporary folder left behind


def test_a_folder_of_other_files_is_refused_and_kept(tmp_path):
    (tmp_path / "town.toml").write_text("[municipality]", encoding="utf-8")
    (tmp_path / "notes.docx").write_bytes(b"PK")
    with pytest.raises(ChisanError, match=r"holds files that chisan did not write.*delete this one yourself"):
        _write(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.docx", "town.toml"]


def test_the_body_does_not_run_when_the_folder_is_refused(tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"PK")
    ran = []
    with pytest.raises(ChisanError), atomic_folder(tmp_path):
        ran.append(True)
    assert ran == []


@pytest.mark.parametrize("earlier", [OUTPUT_MARKER, "run.json", "roadmap.json"])
def test_an_earlier_output_is_replaced_whole(tmp_path, earlier):
    out = tmp_path / "out"
    out.mkdir()
    (out / earlier).write_text("{}", encoding="utf-8")
    (out / "stale.csv").write_text("old", encoding="utf-8")
    _write(out)
    assert sorted(p.name for p in out.iterdir()) == sorted([OUTPUT_MARKER, "kpis.csv"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_new_or_empty_folder_is_written_and_marked(tmp_path):
    (tmp_path / "empty").mkdir()
    for name in ("empty", "new"):
        _write(tmp_path / name)
        assert (tmp_path / name / "kpis.csv").read_text(encoding="utf-8") == "new"
        assert (tmp_path / name / OUTPUT_MARKER).is_file()
    _write(tmp_path / "new")  # its own output is chisan's to replace
