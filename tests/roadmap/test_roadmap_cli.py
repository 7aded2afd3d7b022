"""``chisan roadmap`` end to end with the real planner on a small town (one month, 6 cars), and its errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_roadmap_schema import _toml
from typer.testing import CliRunner

from chisan.cli import app
from chisan.plan.pipeline import plan_scenario
from chisan.roadmap.schema import load_roadmap
from factories import small_scenario_dict

runner = CliRunner()

ROADMAP = {
    "start_year": 2025,
    "end_year": 2027,
    "plan_years": 2,
    "grid_emission_factor_kg_per_kwh": {"2025": 0.45, "2027": 0.3},
}


def _write(tmp_path: Path, roadmap: dict) -> Path:
    data = small_scenario_dict()
    data["roadmap"] = roadmap
    path = tmp_path / "small.toml"
    path.write_text(_toml(data), encoding="utf-8")
    assert tomllib.loads(path.read_text()) == data
    return path


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("roadmap")
    path = _write(tmp, ROADMAP)
    out = tmp / "out"
    result = runner.invoke(app, ["roadmap", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return path, out


def test_writes_the_report_and_tables(ran: tuple[Path, Path]) -> None:
    _, out = ran
    for name in ("roadmap.html", "years.csv", "packs.csv", "health.csv", "stocks.csv", "flows.csv", "materials.csv"):
        assert (out / name).is_file(), name
    html = (out / "roadmap.html").read_text(encoding="utf-8")
    for section in ("Emissions path", "Battery health", "Reuse, resell, refabricate, recycle", "Materials recovered"):
        assert section in html
    assert "Sankey" in html or "sankey" in html
    years = pd.read_csv(out / "years.csv", index_col="year")
    assert years.index.tolist() == [2025, 2026, 2027]
    assert years["planned"].tolist() == [True, False, True]
    # Flat hourly factor: scope 2 = import × the year's factor (0.45, 0.375, 0.30 kg/kWh on the straight line).
    assert np.allclose(years["grid_factor_kg_per_kwh"], [0.45, 0.375, 0.30], rtol=0, atol=1e-15)
    assert np.allclose(years["scope2_kg"], years["grid_import_kwh"] * years["grid_factor_kg_per_kwh"], rtol=1e-12)
    # The derived year lies on the straight line between the planned years.
    mid = 0.5 * (years.loc[2025, "grid_import_kwh"] + years.loc[2027, "grid_import_kwh"])
    assert years.loc[2026, "grid_import_kwh"] == pytest.approx(mid, rel=1e-12)
    # Every car holds a pack every year; health has one row per pack and year.
    stocks = pd.read_csv(out / "stocks.csv", index_col="year")
    assert (stocks["in_car_packs"] == years["vehicles"]).all()
    health = pd.read_csv(out / "health.csv")
    assert len(health) == 6 * 3
    assert ((health["soh"] > 0.9) & (health["soh"] < 1.0)).all()  # three years in a car: a few % at most


@pytest.mark.filterwarnings("ignore::chisan.mobility.fleet.UnservedBookingsWarning")  # a busy June: counted, shown
def test_first_year_is_the_plan_of_the_town(ran: tuple[Path, Path]) -> None:
    # The first roadmap year changes nothing in the town (no floor yet, no second-life packs, the same factor),
    # so it must be exactly what `chisan plan` gives for the scenario (storage: none built in either).
    path, out = ran
    scenario, _ = load_roadmap(path)
    scenario = scenario.model_copy(
        update={"grid": scenario.grid.model_copy(update={"emission_factor_kg_per_kwh": 0.45})}
    )
    run = plan_scenario(scenario)
    assert run.results.capacities["storage_kwh"] == 0.0
    years = pd.read_csv(out / "years.csv", index_col="year")
    assert years.loc[2025, "pv_kw"] == pytest.approx(run.results.capacities["pv_kw"], rel=1e-9)
    assert years.loc[2025, "grid_import_kwh"] == pytest.approx(run.results.energy_balance["grid_import_kwh"], rel=1e-9)
    assert years.loc[2025, "scope2_kg"] == pytest.approx(run.results.kpi("scope2_location_kg"), rel=1e-9)


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, ROADMAP | {"retire_soh_fraction": 1.2})
    out = tmp_path / "out"
    result = runner.invoke(app, ["roadmap", str(path), "--out", str(out)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())  # rich wraps long lines
    assert "invalid [roadmap]: retire_soh_fraction = 1.2" in text
    assert "Traceback" not in result.output
    assert not out.exists()
    result = runner.invoke(app, ["roadmap", str(_write(tmp_path, ROADMAP)), "--years", "2030-2020"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "--years '2030-2020': allowed: a range of calendar years such as 2026-2050" in text


def test_example_table_is_valid_toml() -> None:
    result = runner.invoke(app, ["roadmap", "--example"])
    assert result.exit_code == 0
    table = tomllib.loads(result.output)["roadmap"]
    assert table["end_year"] == 2050
    assert sum(table["route_shares"].values()) == pytest.approx(1.0)
