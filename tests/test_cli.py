"""The chisan command as people use it: exit status, messages, files written or not written."""

from __future__ import annotations

import json
import tomllib

import pandas as pd
import pytest
import tomli_w
from typer.testing import CliRunner

from chisan.cli import app
from tests.factories import small_scenario_dict

runner = CliRunner()


def _scenario_file(tmp_path, **changes):
    path = tmp_path / "town.toml"
    path.write_text(tomli_w.dumps(small_scenario_dict(**changes)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """``chisan plan`` of the small town with its defaults, run once for the tests that read what it wrote."""
    tmp_path = tmp_path_factory.mktemp("planned")
    path = _scenario_file(tmp_path)
    out = tmp_path / "out"
    return path, out, runner.invoke(app, ["plan", str(path), "--out", str(out)])


def test_plan_writes_report_and_tables(planned):
    path, out, result = planned
    assert result.exit_code == 0, result.output
    for name in (
        "report.html",
        "kpis.csv",
        "capacities.csv",
        "costs.csv",
        "stations.csv",
        "dispatch.csv",
        "dispatch.parquet",
        "vehicle_energy_kwh.parquet",
        "vehicle_charge_kw.parquet",
        "bookings.csv",
        "checks.csv",
        "scenario.toml",
        "run.json",
    ):
        assert (out / name).is_file(), name
    kpis = pd.read_csv(out / "kpis.csv", index_col=0)
    assert kpis.loc["vehicles", "value"] == 6
    assert (pd.read_csv(out / "checks.csv")["passed"]).all()
    run = json.loads((out / "run.json").read_text())
    assert run["checks_passed"] is True
    assert tomllib.loads((out / "scenario.toml").read_text()) == tomllib.loads(path.read_text())
    assert "all" in result.output and "checks passed" in result.output and "PV to build" in result.output
    assert "Local renewable share of charging" in result.output and "fraction" not in result.output
    # the dispatch table balances by construction of the checks; spot-check the columns carry units
    dispatch = pd.read_csv(out / "dispatch.csv", index_col=0)
    assert {"pv_kw", "grid_import_kw", "charging_kw", "storage_energy_kwh", "import_price_per_kwh"} <= set(dispatch)


def test_plan_writes_the_economics_against_business_as_usual(planned):
    import numpy_financial as npf

    _, out, result = planned
    assert result.exit_code == 0, result.output
    figures = pd.read_csv(out / "economics.csv", index_col=0)["value"]
    flows = pd.read_csv(out / "cash_flows.csv", index_col=0)
    assert len(flows) == 25 + 1  # years 0 … project life (default 25)
    assert figures["npv"] == pytest.approx(npf.npv(0.03, flows["net_jpy"].to_numpy()), rel=1e-9)
    assert figures["investment"] == pytest.approx(-flows.loc[0, "investment_jpy"])
    # one total: the economics, the KPIs and the cost table agree
    costs = pd.read_csv(out / "costs.csv", index_col=0)
    kpis = pd.read_csv(out / "kpis.csv", index_col=0)["value"]
    assert figures["total_cost_per_year"] == pytest.approx(kpis["total_cost_per_year"])
    assert costs["total_per_year"].sum() == pytest.approx(kpis["total_cost_per_year"])
    bau = pd.read_csv(out / "bau_kpis.csv", index_col=0)["value"]
    assert bau["pv_kw"] == 0 and figures["bau_total_cost_per_year"] == pytest.approx(bau["total_cost_per_year"])
    for name in ("investment.csv", "cash_flows.parquet", "cost_comparison.csv", "bau_costs.csv"):
        assert (out / name).is_file(), name
    assert "Net present value (NPV)" in result.output and "Simple payback" in result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert ">Economics against business as usual<" in html and "Yearly cash flows against business as usual" in html


def test_no_bau_skips_the_economics(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", str(_scenario_file(tmp_path)), "--out", str(out), "--no-bau"])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file() and not (out / "economics.csv").exists()
    assert "Net present value" not in result.output
    assert ">Economics against business as usual<" not in (out / "report.html").read_text(encoding="utf-8")


def test_check_validates_without_solving(tmp_path):
    path = _scenario_file(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", str(path), "--check", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "is valid" in result.output and "bookings" in result.output
    assert not out.exists()


def test_bad_scenario_exits_2_with_one_message_and_writes_nothing(tmp_path):
    data = small_scenario_dict()
    data["technologies"]["pv"]["max_kw"] = -1
    path = tmp_path / "town.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "error:" in result.output and "technologies.pv.max_kw = -1" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_infeasible_target_exits_2_naming_the_target_and_keeps_earlier_results(tmp_path, planned):
    import shutil

    # the earlier results: a copy (times kept) of what the shared plan wrote, so that this test's run can only
    # touch its own folder
    _, earlier, ok = planned
    assert ok.exit_code == 0, ok.output
    out = shutil.copytree(earlier, tmp_path / "out")
    before = (out / "report.html").stat().st_mtime_ns
    path = _scenario_file(
        tmp_path,
        technologies={"pv": {"max_kw": 1.0}, "wind": {"enabled": False}},
        policy={"renewable_share_min_fraction": 1.0},
    )
    result = runner.invoke(app, ["plan", str(path), "--out", str(out), "--method", "full"])
    assert result.exit_code == 2, result.output
    assert "policy.renewable_share_min_fraction = 100.0% cannot be met" in result.output
    assert "at most" in result.output
    assert (out / "report.html").stat().st_mtime_ns == before  # the earlier result is untouched
    assert not list(tmp_path.glob(".out*"))


def test_unknown_method_is_refused(tmp_path):
    result = runner.invoke(app, ["plan", str(_scenario_file(tmp_path)), "--method", "fastest"])
    assert result.exit_code == 2 and "allowed are auto, full, two-stage" in result.output


def test_example_prints_the_bundled_scenario():
    result = runner.invoke(app, ["example"])
    assert result.exit_code == 0
    assert tomllib.loads(result.output)["municipality"]["name"] == "Example Town"


def test_example_autonomous_prints_the_self_driving_variant():
    result = runner.invoke(app, ["example", "--autonomous"])
    assert result.exit_code == 0
    data = tomllib.loads(result.stdout)
    assert data["fleet"]["kind"] == "autonomous" and data["fleet"]["autonomous"]["simulated_days"] == 5
    assert all("vehicles" not in st for st in data["stations"])


BAD_INPUTS = {
    "missing field": ({"municipality": {"population": None}}, "missing field 'municipality.population'"),
    "wrong unit": ({"stations": [{"name": "A", "charger_w": 6000}]}, "did you mean 'charger_kw'"),
    "negative capacity": ({"technologies": {"storage": {"max_kwh": -5}}}, "technologies.storage.max_kwh = -5"),
    "unknown vehicle model": ({"fleet": {"vehicle_model": "tesla_model_9"}}, "fleet.vehicle_model = 'tesla_model_9'"),
    "booking outside the year": (None, "lies after the planning period"),
    "infeasible target": (
        {
            "technologies": {"pv": {"max_kw": 0.5}, "wind": {"enabled": False}},
            "policy": {"renewable_share_min_fraction": 1.0},
        },
        "cannot be met: at most",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_every_bad_input_gets_its_error_and_no_output(tmp_path, case):
    changes, expected = BAD_INPUTS[case]
    data = small_scenario_dict()
    if case == "missing field":
        del data["municipality"]["population"]
    elif case == "wrong unit":
        data["stations"][0]["charger_w"] = 6000
    elif case == "booking outside the year":
        csv = tmp_path / "bookings.csv"
        csv.write_text(
            "booking_id,station,start,end,distance_km\n"
            "b1,Town Hall,2025-06-03 09:00,2025-06-03 12:00,20\n"
            "b2,Hospital,2025-12-24 09:00,2025-12-24 11:00,15\n",
            encoding="utf-8",
        )
        data["bookings"] = {"source": "csv", "path": "bookings.csv"}
    else:
        from tests.factories import _merge

        data = _merge(data, changes)
    path = tmp_path / "town.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", str(path), "--out", str(out), "--method", "full"])
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_error_text_in_brackets_is_printed_as_is(capsys):
    # a TOML table name like [stations] in a message must not be eaten as rich markup
    import typer

    from chisan.cli import fail
    from chisan.exceptions import ScenarioError

    with pytest.raises(typer.Exit) as exit_info:
        fail(ScenarioError("town.toml: [stations] needs at least one station"))
    assert exit_info.value.exit_code == 2
    assert "[stations] needs at least one station" in capsys.readouterr().err


def test_plan_accepts_the_roadmap_table_of_the_same_file(tmp_path):
    # one file for `chisan plan` and `chisan roadmap`: plan leaves the [roadmap] table to the roadmap command
    data = small_scenario_dict()
    data["roadmap"] = {"start_year": 2026, "end_year": 2030}
    path = tmp_path / "town.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["plan", str(path), "--check"])
    assert result.exit_code == 0, result.output


def test_check_warns_about_implausible_inputs(tmp_path):
    path = _scenario_file(tmp_path, technologies={"pv": {"capex_per_kw": 200}})
    result = runner.invoke(app, ["plan", str(path), "--check"])
    assert result.exit_code == 0, result.output
    assert (
        "warning:" in result.output and "technologies.pv.capex_per_kw = 200 JPY/kW is implausibly low" in result.output
    )


def test_python_dash_m_chisan_is_the_console_script():
    """``python -m chisan --help`` lists the same commands as ``chisan --help``."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "chisan", "--help"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    for command in ("plan", "roadmap", "sweep", "serve", "compare"):
        assert command in out.stdout
