"""``chisan autonomous`` end to end on the bundled example town."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from chisan.cli import app
from chisan.scenario.load import example_path


def test_command_sizes_the_fleet_and_writes_tables_and_figures(tmp_path):
    out = tmp_path / "av"
    result = CliRunner().invoke(app, ["autonomous", str(example_path()), "--days", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "summary.csv", index_col="figure")
    assert summary.loc["picked_up_within_max_wait_fraction", "value"] >= 0.95
    search = pd.read_csv(out / "fleet_search.csv")
    # the fleet found is the smallest tried that meets the level
    meets = search[search["service_level"] >= 0.95]["cars"]
    assert summary.loc["fleet_cars", "value"] == meets.min()
    assert (out / "autonomous.html").read_text().count("plotly-graph-div") == 3
    windows = pd.read_csv(out / "charging_windows.csv")
    assert windows["vehicle_id"].nunique() == summary.loc["fleet_cars", "value"]


def test_a_bad_requests_file_is_one_red_line(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("time,origin_zone\n2025-01-01 08:00,1\n")
    result = CliRunner().invoke(
        app, ["autonomous", str(example_path()), "--requests", str(bad), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "missing column(s) ['destination_zone']" in result.output and "Traceback" not in result.output
