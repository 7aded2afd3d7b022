"""End to end: ten real municipalities on a local Dask cluster, resumption, interruption, failure isolation,
and one municipality's row against ``chisan plan`` on its derived scenario."""

from __future__ import annotations

import json
import shutil
import tomllib
import warnings

import numpy as np
import pandas as pd
import pytest
import tomli_w
from typer.testing import CliRunner

from chisan.cli import app
from chisan.scenario.load import scenario_from_dict
from chisan.sweep.derive import derive_scenario
from chisan.sweep.run import WARM_UP_MODULES, SweepSettings, kpi_column, run_sweep, warm_up
from chisan.sweep.store import RESULTS, SweepStore, read_results
from chisan.sweep.summary import national_totals, write_summary
from tests.sweep.samples import SAMPLE10

KPI_COLUMNS = (
    "pv_kw",
    "storage_kwh",
    "vehicles",
    "total_cost_jpy_per_year",
    "cost_jpy_per_km",
    "renewable_share_annual_fraction",
    "renewable_share_hourly_matched_fraction",
    "co2_avoided_kg_per_year",
)


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    skip = {"seconds", "cpu_seconds", "worker_peak_rss_mb"}
    cols = [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]
    return frame.set_index("code")[cols].sort_index()


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory, municipalities, template):
    """The ten-municipality sample planned on a local cluster of two worker processes."""
    out = tmp_path_factory.mktemp("sweep") / "out"
    outcome = run_sweep(municipalities.loc[list(SAMPLE10)], template, out, n_workers=2)
    return outcome


def test_ten_municipalities_on_a_local_cluster(cluster_run):
    results = cluster_run.results
    assert cluster_run.progress.ok == 10 and cluster_run.progress.failed == 0
    assert list(results["code"]) == list(SAMPLE10)  # the input's order
    assert (results["status"] == "ok").all()
    # one row per municipality with its capacities and KPIs, units in the names
    for col in KPI_COLUMNS:
        assert results[col].notna().all(), col
    assert (results["renewable_share_annual_fraction"] >= 1.0 - 1e-6).all()  # the template's 100 % annual target
    # the areas of the ten: one each
    assert sorted(results["area"]) == sorted(
        ["hokkaido", "tohoku", "tepco", "hokuriku", "chubu", "kansai", "chugoku", "shikoku", "kyushu", "okinawa"]
    )
    # work was shared by two worker processes
    assert results["worker"].nunique() == 2
    on_disk = read_results(cluster_run.out_dir)
    pd.testing.assert_frame_equal(on_disk, results)
    assert len(list((cluster_run.out_dir / "parts").glob("*.parquet"))) == 10
    assert not list(cluster_run.out_dir.rglob("*.tmp"))
    # the start-up (cluster, workers' imports) is timed apart, once, and is part of the run's wall time
    assert 0.0 < cluster_run.startup_seconds < cluster_run.seconds
    assert cluster_run.warm_up_cpu_seconds > 0.0


def test_warm_up_imports_every_planning_module():
    """Every name of WARM_UP_MODULES exists (warm_up skips a missing one, so a misspelt name would go unnoticed)."""
    import sys

    cpu_s = warm_up()
    assert cpu_s > 0.0
    missing = [name for name in WARM_UP_MODULES if name not in sys.modules]
    assert missing == []


def test_summary_sums_the_rows(cluster_run, tmp_path):
    results = cluster_run.results
    totals = national_totals(results)
    assert totals["vehicles"] == results["vehicles"].sum()
    assert totals["pv_kw"] == pytest.approx(results["pv_kw"].sum())
    # national cost per km is a ratio of sums, not a mean of ratios
    assert totals["cost_jpy_per_km"] == pytest.approx(
        results["total_cost_jpy_per_year"].sum() / results["km_per_year"].sum()
    )
    report = write_summary(results, tmp_path, kpi="co2_avoided_kg_per_year")
    text = report.read_text(encoding="utf-8")
    assert "Plotly" in text and "cdn.plot.ly/plotly" not in text  # plotly.js embedded: works offline
    assert json.dumps("Ōgimi")[1:-1] in text  # in the map's data (JSON-escaped) …
    assert "Okinawa" in text  # … and the prefecture table
    # the report says how its figures were made: the typical days of the rows, the operation of the run
    assert "How these figures were derived" in text and "on 24 linked typical days" in text
    assert "a dispatch of all 8,760 hours" in text  # no sweep.json in this folder: the default operation
    (tmp_path / "sweep.json").write_text(json.dumps({"settings": {"operation": "typical-days", "max_stations": 7}}))
    text = write_summary(results, tmp_path).read_text(encoding="utf-8")
    assert "read off the typical days" in text and "more than 7 car-sharing bases" in text
    prefs = pd.read_csv(tmp_path / "prefectures.csv", index_col="prefecture")
    assert list(prefs.index) == [
        "Hokkaido",
        "Aomori",
        "Ibaraki",
        "Toyama",
        "Nagano",
        "Shiga",
        "Tottori",
        "Tokushima",
        "Fukuoka",
        "Okinawa",
    ]  # JIS order


def test_synchronous_run_gives_equal_rows(cluster_run, municipalities, template, tmp_path):
    codes = ["012092", "363014", "473022"]
    outcome = run_sweep(municipalities.loc[codes], template, tmp_path / "sync", scheduler="synchronous")
    assert outcome.progress.ok == 3
    assert outcome.startup_seconds == 0.0  # no cluster to start
    cluster = _numeric(cluster_run.results).loc[sorted(codes)]
    sync = _numeric(outcome.results)
    # the same task in another process gives bit-identical figures (seeded inputs, deterministic tsam and HiGHS)
    pd.testing.assert_frame_equal(sync, cluster, check_exact=True)


def test_an_existing_cluster_by_its_address(cluster_run, municipalities, template, tmp_path):
    """--scheduler tcp://HOST:PORT: the rows come back to this process, which writes them; the same figures."""
    from distributed import LocalCluster

    codes = ["163210", "403482"]
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        outcome = run_sweep(municipalities.loc[codes], template, tmp_path / "tcp", scheduler=cluster.scheduler_address)
    assert outcome.progress.ok == 2
    pd.testing.assert_frame_equal(
        _numeric(outcome.results), _numeric(cluster_run.results).loc[sorted(codes)], check_exact=True
    )
    from chisan.exceptions import ScenarioError

    with pytest.raises(ScenarioError, match="allowed: tcp://HOST:PORT"):
        run_sweep(municipalities.loc[codes], template, tmp_path / "bad", scheduler="http://localhost:8786")


def test_second_run_plans_only_what_is_missing(cluster_run, municipalities, template, tmp_path):
    out = tmp_path / "resume"
    shutil.copytree(cluster_run.out_dir, out)
    for code in ("083097", "254410"):
        (out / "parts" / f"{code}.parquet").unlink()
    (out / RESULTS).unlink()
    seen = []
    outcome = run_sweep(
        municipalities.loc[list(SAMPLE10)],
        template,
        out,
        scheduler="synchronous",
        on_progress=lambda p: seen.append(p.last["code"]) if p.last else None,
    )
    assert seen == ["083097", "254410"]
    assert outcome.progress.total == 2 and outcome.progress.skipped == 8
    assert len(outcome.results) == 10
    pd.testing.assert_frame_equal(_numeric(outcome.results), _numeric(cluster_run.results), check_exact=True)


def test_a_folder_of_another_sweep_is_not_mixed(cluster_run, municipalities, template, tmp_path):
    out = tmp_path / "other"
    shutil.copytree(cluster_run.out_dir, out)
    from chisan.exceptions import DataError

    with pytest.raises(DataError, match="holds a sweep with other settings"):
        run_sweep(
            municipalities.loc[["012092"]],
            template,
            out,
            scheduler="synchronous",
            settings=SweepSettings(n_typical_days=12),
        )


def test_interrupted_run_leaves_whole_files_and_resumes(municipalities, template, tmp_path):
    codes = ["012092", "363014", "473022"]
    out = tmp_path / "interrupted"

    def stop_after_first(progress):
        if progress.done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(municipalities.loc[codes], template, out, scheduler="synchronous", on_progress=stop_after_first)
    store = SweepStore(out)
    assert list(store.status().values()) == ["ok"]
    assert not list(out.rglob("*.tmp"))
    assert len(read_results(out)) == 1  # what was done is consolidated on the way out
    outcome = run_sweep(municipalities.loc[codes], template, out, scheduler="synchronous")
    assert outcome.progress.total == 2 and outcome.progress.skipped == 1
    assert list(outcome.results["code"]) == codes and (outcome.results["status"] == "ok").all()


def test_failures_are_recorded_and_the_others_go_on(municipalities, template, tmp_path):
    # No local generation, and a cap on the grid emissions of charging: 0.68 kg × 115 kWh a member (the template
    # charges ≈ 51,600 kWh a year for 450 members) × 450 members = 35,190 kg a year, scaled with the members.
    # Grid import = charging, so the cap holds where the grid factor is below ≈ 0.68 kg/kWh: in Chubu's area
    # (0.513) but not in Okinawa's (0.858).
    data = template.model_dump(mode="python", exclude={"base_dir"})
    for tech in ("pv", "wind", "storage"):
        data["technologies"][tech]["enabled"] = False
    data["policy"]["renewable_share_min_fraction"] = None
    data["policy"]["max_emissions_kg_per_year"] = 0.68 * 115 * 450
    capped = scenario_from_dict(data, source="capped template")
    table = municipalities.loc[["203033", "473022"]].copy()
    bad = table.loc[["203033"]].rename(index={"203033": "999991"}).assign(latitude_deg=np.nan, name="No Place")
    tiny = table.loc[["203033"]].rename(index={"203033": "999992"}).assign(population=20, name="Tiny")
    table = pd.concat([table, bad, tiny])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = run_sweep(table, capped, tmp_path / "fail", scheduler="synchronous")
    rows = outcome.results.set_index("code")
    assert outcome.progress.ok == 1 and outcome.progress.failed == 3
    assert rows.loc["203033", "status"] == "ok"
    assert rows.loc["203033", "scope2_location_kg_per_year"] <= 0.68 * 115 * rows.loc["203033", "members"]
    assert rows.loc["473022", "error_type"] == "InfeasibleError"
    assert "policy.max_emissions_kg_per_year" in rows.loc["473022", "error"]
    assert rows.loc["999991", "error_type"] == "ScenarioError" and "latitude_deg" in rows.loc["999991", "error"]
    assert rows.loc["999992", "error_type"] == "ScenarioError" and "rounds to 0" in rows.loc["999992", "error"]
    failures = pd.read_csv(write_summary(outcome.results, tmp_path / "fail").parent / "failures.csv", dtype=str)
    assert sorted(failures["code"]) == ["473022", "999991", "999992"]


def _no_none(value):
    if isinstance(value, dict):
        return {k: _no_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_no_none(v) for v in value]
    return value


def test_sweep_row_equals_chisan_plan_on_the_derived_scenario(municipalities, municipalities_csv, template, tmp_path):
    """`chisan sweep --method two-stage` and `chisan plan --method two-stage` on the derived scenario's TOML."""
    code = "473022"
    runner = CliRunner()
    sweep_out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        [
            "sweep",
            str(municipalities_csv),
            "--code",
            code,
            "--method",
            "two-stage",
            "--scheduler",
            "synchronous",
            "--out",
            str(sweep_out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    row = read_results(sweep_out).set_index("code").loc[code]
    # the derived scenario, written as a TOML file a planner could edit and run
    derived = derive_scenario(template, code, municipalities.loc[code].to_dict())
    toml_path = tmp_path / "derived.toml"
    toml_path.write_text(tomli_w.dumps(_no_none(derived.model_dump(mode="json", exclude={"base_dir"}))))
    # the CLI's default weather is the derivation's default: each town's own Japanese climate
    assert tomllib.loads(toml_path.read_text())["weather"]["source"] == "japan"
    plan_out = tmp_path / "plan"
    result = runner.invoke(app, ["plan", str(toml_path), "--method", "two-stage", "--out", str(plan_out), "--quiet"])
    assert result.exit_code == 0, result.output
    kpis = pd.read_csv(plan_out / "kpis.csv", index_col=0)
    assert len(kpis) >= 20
    for name, k in kpis.iterrows():
        column = kpi_column(str(name), str(k["unit"]), "JPY")
        assert row[column] == pytest.approx(float(k["value"]), rel=1e-9, abs=1e-9), name


def test_cli_errors_are_one_line(municipalities_csv, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["sweep", str(municipalities_csv), "--wards", "some", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "wards = 'some'; allowed: exclude, only, instead-of-city" in result.output
    result = runner.invoke(app, ["sweep", str(tmp_path / "none.csv"), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "municipalities file not found" in result.output
    result = runner.invoke(
        app,
        [
            "sweep",
            str(municipalities_csv),
            "--code",
            "473022",
            "--scheduler",
            "synchronous",
            "--out",
            str(tmp_path / "o"),
            "--map-kpi",
            "happiness",
        ],
    )
    assert result.exit_code == 2 and "map KPI 'happiness'" in result.output and "cost_jpy_per_km" in result.output
