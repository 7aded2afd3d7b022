"""``chisan roadmap`` and ``chisan drivetrain`` refuse an --out folder of the user's own files before any work."""

from __future__ import annotations

import pytest
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


@pytest.mark.parametrize("command", ["roadmap", "drivetrain"])
def test_a_folder_of_user_files_is_refused_and_kept(tmp_path, command):
    sbx = _sandbox(tmp_path)
    result = runner.invoke(app, [command, str(sbx / "town.toml"), "--out", str(sbx)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"--out {sbx}" in text and "did not write" in text
    assert "planned" not in text and "preparing" not in text  # no progress line: no plan was started
    assert sorted(p.name for p in sbx.iterdir()) == ["notes.docx", "town.toml"]
    assert (sbx / "notes.docx").read_bytes() == b"PK\x03\x04"


@pytest.mark.parametrize("command", ["roadmap", "drivetrain"])
def test_the_refusal_comes_before_the_scenario_is_read(tmp_path, command):
    """A broken scenario would fail on loading; the --out refusal naming the folder shows it came first."""
    sbx = _sandbox(tmp_path)
    (sbx / "town.toml").write_text("this is = = not TOML", encoding="utf-8")
    result = runner.invoke(app, [command, str(sbx / "town.toml"), "--out", str(sbx)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert text.startswith("error: --out ") and "did not write" in text
    assert (sbx / "notes.docx").exists()
