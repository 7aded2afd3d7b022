"""``--out`` never costs the user a file: a file or a folder of their own files is refused before any work."""

from __future__ import annotations

import tomli_w
from typer.testing import CliRunner

from chisan.cli import app
from tests.factories import small_scenario_dict

runner = CliRunner()


def _sandbox(tmp_path):
    sbx = tmp_path / "sbx"
    sbx.mkdir()
    (sbx / "town.toml").write_text(tomli_w.dumps(small_scenario_dict()), encoding="utf-8")
    (sbx / "notes.docx").write_bytes(b"PK\x03\x04")
    return sbx


def test_plan_into_the_scenarios_own_folder_is_refused_and_keeps_it(tmp_path):
    sbx = _sandbox(tmp_path)
    for extra in ([], ["--check"]):
        result = runner.invoke(app, ["plan", str(sbx / "town.toml"), "--out", str(sbx), *extra])
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert f"--out {sbx}" in text and "did not write" in text and "Choose a new or empty folder" in text
        assert sorted(p.name for p in sbx.iterdir()) == ["notes.docx", "town.toml"]


def test_plan_out_a_file_is_refused_and_keeps_it(tmp_path):
    sbx = _sandbox(tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["plan", str(sbx / "town.toml"), "--out", str(afile), "--check"])
    assert result.exit_code == 2, result.output
    assert "is a file, not a folder" in " ".join(result.output.split())
    assert afile.read_text(encoding="utf-8") == "keep me"


def test_compare_and_autonomous_refuse_a_file_before_planning(tmp_path):
    sbx = _sandbox(tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("keep me", encoding="utf-8")
    for command in (["compare", str(sbx / "town.toml")], ["autonomous", str(sbx / "town.toml")]):
        result = runner.invoke(app, [*command, "--out", str(afile)])
        assert result.exit_code == 2, result.output
        assert "is a file, not a folder" in " ".join(result.output.split())
        assert afile.read_text(encoding="utf-8") == "keep me"
