"""The roadmap figures show the numbers of the result (checked on a stand-in roadmap)."""

from __future__ import annotations

import numpy as np
import pytest
from roadmap_fakes import FakePlanner, town

from chisan.roadmap import figures
from chisan.roadmap.report import render_roadmap
from chisan.roadmap.run import run_roadmap
from chisan.roadmap.schema import roadmap_from_dict


@pytest.fixture(scope="module")
def result():
    settings = roadmap_from_dict(
        {
            "chemistry": "LFP",
            "ageing_model": "lfp_naumann",
            "start_year": 2026,
            "end_year": 2050,
            "plan_years": 3,
            "vehicle_service_years": 8,
            "route_shares": {"reuse": 0.5, "resell": 0.2, "refabricate": 0.1, "recycle": 0.2},
        }
    )
    return run_roadmap(town((3, 3)), settings, planner=FakePlanner(temp_c=45.0))


def test_sankey_carries_the_stock_flow(result) -> None:
    fig = figures.lifecycle_sankey(result.lifecycle.flows)
    sankey = fig.data[0]
    labels = list(sankey.node.label)
    values = np.asarray(sankey.link.value)
    into = {lab: values[np.asarray(sankey.link.target) == i].sum() for i, lab in enumerate(labels)}
    flows = result.lifecycle.flows
    # kWh into the cars = every new pack's capacity; into recycling = the flows' total to "recycled".
    assert into["In cars"] == pytest.approx(result.packs["capacity_kwh"].sum())
    whole = flows.loc[flows["target"] == "recycled", "capacity_kwh"].sum()
    assert into["Recycle: whole packs"] == pytest.approx(whole)
    # the bad modules of refabricated packs are a node of their own, with kWh and no packs
    modules = flows[flows["target"] == "recycled_modules"]
    assert len(modules) and (modules["packs"] == 0).all()
    assert into["Recycle: bad modules of rebuilt packs (no pack)"] == pytest.approx(modules["capacity_kwh"].sum())


def test_emissions_figure_plots_the_net_path(result) -> None:
    fig = figures.emissions_path(result.years, result.summary, export_credit=False)
    net = next(trace for trace in fig.data if trace.name == "Net emissions")
    assert np.allclose(net.y, result.years["net_kg"] / 1000)
    planned = next(trace for trace in fig.data if trace.name == "Planned years")
    assert list(planned.x) == result.config.planned_years


def test_health_curves_and_page(result) -> None:
    fig = figures.health_curves(result.health, retire_soh=0.8, end_soh=0.6, max_packs=5)
    assert len({trace.hovertemplate.split("<br>")[0] for trace in fig.data}) == 5
    html = render_roadmap(result, town((3, 3)), scenario_name="testtown.toml")
    assert f"peak in {result.summary['peak_year']}" in html
    assert "Every pack that left a car" in html


def test_roadmap_report_says_why_each_plan_uses_second_life_or_not() -> None:
    # A planned year offered reused packs carries the plan's reason and break-even price into years.csv and the
    # report's capacity text; years without an offer (or derived years) carry none.
    settings = roadmap_from_dict(
        {"start_year": 2026, "end_year": 2040, "plan_years": [2036, 2040], "route_shares": {"reuse": 1.0}}
    )
    res = run_roadmap(town((2, 1)), settings, planner=FakePlanner(temp_c=45.0))
    y = res.years
    assert y.loc[2036, "second_life_break_even_price_per_kwh"] == 9_000.0
    assert y.loc[2036, "second_life_reason"].startswith("stand-in")
    # at 45 °C the reused packs end their second life in 2037 (test_roadmap_run): nothing is offered in 2040
    assert y.loc[2040, "second_life_offered_kwh"] == 0.0
    assert y["second_life_reason"].notna().sum() == 1
    html = render_roadmap(res, town((2, 1)), scenario_name="t.toml")
    assert "2036: stand-in" in html and "break-even 9,000" in html
