"""``chisan example``: every bundled example can be had, and one that reads CSV files comes with them."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chisan.cli import app

runner = CliRunner()
BUNDLED = sorted(
    Path(str(p)).stem
    for p in resources.files("chisan.scenario").joinpath("examples").iterdir()
    if str(p).endswith(".toml")
)


def test_the_examples_folder_holds_the_five_named_in_the_readme():
    assert BUNDLED == [
        "autonomous_town",
        "example_town",
        "hydrogen_town",
        "second_life_peak_shaving",
        "shanghai_district",
    ]


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_toml_is_an_example(name):
    result = runner.invoke(app, ["example", name])
    assert result.exit_code == 0, result.output
    assert "municipality" in tomllib.loads(result.stdout)


@pytest.mark.parametrize("name", ["shanghai_district", "hydrogen_town"])
def test_example_out_writes_the_scenario_with_its_csv_files_and_it_checks(tmp_path, name):
    folder = tmp_path / "mine"
    result = runner.invoke(app, ["example", name, "--out", str(folder)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{name}.toml", f"{name}_bus_blocks.csv", f"{name}_depot_shifts.csv"]
    )
    check = runner.invoke(app, ["plan", str(folder / f"{name}.toml"), "--check", "--out", str(tmp_path / "o")])
    assert check.exit_code == 0, check.output
    assert "is valid" in check.output


def test_a_redirected_example_says_how_to_get_its_csv_files(tmp_path):
    printed = runner.invoke(app, ["example", "hydrogen_town"])
    assert printed.exit_code == 0
    assert "--out DIR" in " ".join(printed.stderr.split())
    (tmp_path / "h.toml").write_text(printed.stdout, encoding="utf-8")
    check = runner.invoke(app, ["plan", str(tmp_path / "h.toml"), "--check", "--out", str(tmp_path / "o")])
    assert check.exit_code == 2
    text = "".join(check.output.split())  # rich wraps long paths anywhere
    assert "hydrogen_town_depot_shifts.csv:filenotfound" in text
    assert "comeswiththebundledexamplehydrogen_town:`chisanexamplehydrogen_town--outDIR`" in text


def test_example_out_does_not_replace_a_different_file(tmp_path):
    (tmp_path / "example_town.toml").write_text("# my own town\n", encoding="utf-8")
    result = runner.invoke(app, ["example", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "already exists and differs from the example" in " ".join(result.output.split())
    assert (tmp_path / "example_town.toml").read_text(encoding="utf-8") == "# my own town\n"
