"""The HTML report: self-contained (opens offline), every section and figure present, rendered by a real browser."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.factories import write_run

FIGURES = 9  # summer week, winter week, monthly, vehicle heat map, fleet heat map, cost, cash flows, carbon, duration


@pytest.fixture(scope="module")
def report(tmp_path_factory, small_two_stage_plan_with_bau):
    run = small_two_stage_plan_with_bau  # small_scenario(), two-stage, 8 typical days, with business as usual
    out = tmp_path_factory.mktemp("report") / "out"
    write_run(run, out)
    return run, out / "report.html"


def test_report_is_self_contained(report):
    _, path = report
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html)  # plotly.js is inline
    assert not re.search(r"<link[^>]+href=[\"']https?://", html)
    assert html.count('class="plotly-graph-div"') == FIGURES


def test_report_explains_method_checks_and_inputs(report):
    run, path = report
    html = path.read_text(encoding="utf-8")
    for heading in (
        "Summary",
        "Key figures",
        "Car-sharing bases",
        "Two weeks of the plan",  # a June run has no winter week (the heading was "A summer week and a winter week")
        "Monthly energy",
        "Vehicle batteries",
        "Cost",
        "Economics against business as usual",
        "Investment",
        "Carbon",
        "How this plan was computed",
        "Checks after solving",
        "Inputs and assumptions",
    ):
        assert f">{heading}<" in html, heading
    assert "Two-stage method" in html and "above the lower bound" in html
    assert html.count('<span class="ok">passed</span>') == len(run.checks.rows) + 1
    assert f"{run.results.capacities['pv_kw']:,.1f} kW" in html
    assert "kWh/kWp over the horizon (1 month)" in html and "GHI" in html  # one month: not per year
    # one total: the cost table's total row, the summary and the method section show the same number
    total = f"{run.results.kpi('total_cost_per_year'):,.0f}"
    assert html.count(total) >= 3, total
    assert "its cost estimate was" not in html  # the sizing estimate is no longer shown as a total
    # a one-month horizon says so in every heading of scaled figures, and shows no winter week
    scaled = " (per horizon of 1 month, scaled to a year)"
    for heading in ("Key figures", "Car-sharing bases", "Cost", "Economics against business as usual", "Carbon"):
        assert f'>{heading}<span class="scaled">{scaled}</span></h2>' in html, heading
    assert "winter week" not in html.lower() and "The week of" in html
    # labels and percentages for people, not snake_case and "fraction"
    assert ">Local renewable share of charging<" in html and ">Net annual renewable balance<" in html
    assert ">renewable_share_annual<" not in html and ">fraction<" not in html


def test_every_figure_renders_in_headless_chromium(report, tmp_path, chromium):
    _, path = report
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    # plotly draws each figure into an <svg class="main-svg">; a JS error would leave the divs empty
    assert dom.count('class="main-svg"') >= FIGURES
