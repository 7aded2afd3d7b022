"""The report's words for a council: signs, horizons, denominators, counts, sources and currencies said plainly.

Two small plans: the test town of :func:`tests.factories.small_scenario` (June, one month) and the bundled
Shanghai example planned for October only (as in tests/scenario/test_shanghai_example.py), whose electrolyser on
Shanghai's grid emits more than the delivered hydrogen it replaces. Every expected figure is rebuilt here from the
result tables (dispatch, bookings, cost tables), not read from the report's own helpers.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from chisan.carbon.factors import grid_factor
from tests.factories import write_run
from tests.scenario.test_shanghai_example import EXAMPLE


def _render(run, out, name: str) -> str:
    write_run(run, out, scenario_name=name)
    html = (out / "report.html").read_text(encoding="utf-8")
    return re.sub(r"<script.*?</script>", "", html, flags=re.S)  # the page's words, not plotly.js


@pytest.fixture(scope="module")
def small(tmp_path_factory, small_two_stage_plan_with_bau):
    run = small_two_stage_plan_with_bau  # small_scenario(), two-stage, 8 typical days, with business as usual
    return run, _render(run, tmp_path_factory.mktemp("small") / "out", "small.toml")


@pytest.fixture(scope="module")
def shanghai(tmp_path_factory, shanghai_month_plan_with_bau):
    run = shanghai_month_plan_with_bau  # October 2025 (MONTH), with business as usual
    assert (run.prepared.inputs.snapshots[0].month, len(run.prepared.inputs.snapshots)) == (10, 31 * 24)
    return run, _render(run, tmp_path_factory.mktemp("shanghai") / "out", EXAMPLE.name)


def _summary(html: str) -> str:
    return html.split("<h2>Summary</h2>", 1)[1].split("<h2>", 1)[0]


def test_more_co2_than_without_the_plan_is_said_plainly_as_a_warning(shanghai):
    run, html = shanghai
    e = run.results.emissions
    parts = [e[f"avoided_by_{c}_kg"] for c in ("car_sharing", "depots", "hydrogen_fleet", "local_renewables")]
    more_t = -sum(parts) / 1000.0
    assert more_t > 0  # the electrolyser on Shanghai's grid: the example's plan emits more than it avoids
    summary = _summary(html)
    assert (
        f"<span class='warn'>This plan <b>emits {more_t:,.1f} t CO2e a year more than the town without it</b>"
        in summary
    )
    # the electrolyser's electricity at the constant registry factor per kg made [kg CO2e/kg H2]
    h2 = run.results.hydrogen
    ef = grid_factor("CN-SH:2022:location").kg_co2_per_kwh
    per_kg = h2.figure("hydrogen_electricity_kwh_per_year") * ef / h2.figure("hydrogen_produced_kg_per_year")
    assert 25 < per_kg < 45  # ~58 kWh/kg × 0.585 kg/kWh: far above the 9.35 kg/kg of natural-gas reforming
    assert "mainly because the electrolyser runs on grid power (its electricity at the grid's factor" in summary
    assert f"is {per_kg:,.1f} kg CO2e per kg of hydrogen, against 9.35 kg for delivered hydrogen" in summary
    assert f"{-e['avoided_by_hydrogen_fleet_kg'] / 1000:,.1f} t added by making hydrogen on site" in summary
    assert "avoids -" not in html and "-348" not in summary and " -" not in summary.split("kg for delivered")[1]
    assert (
        f'<div class="card warn"><div class="v">+{more_t:,.1f} t</div><div class="l">CO2e a year more than without '
        "the plan</div></div>" in summary
    )
    assert "CO2e avoided per year" not in summary


def test_co2_avoided_keeps_avoids(small):
    run, html = small
    avoided_t = run.results.emissions["avoided_kg"] / 1000.0
    assert avoided_t > 0
    assert f"and avoids {avoided_t:,.1f} t CO2e a year: " in _summary(html)
    assert f'<div class="card"><div class="v">{avoided_t:,.1f} t</div><div class="l">CO2e avoided per year' in html
    assert "class='warn'" not in html and "card warn" not in html


def test_a_one_month_plan_gives_the_weather_and_yield_over_its_horizon(small):
    run, html = small
    dt = run.prepared.inputs.dt_hours
    ghi = run.prepared.weather["ghi"].sum() * dt / 1000.0  # Σ W/m² × h / 1000 = kWh/m² over June
    assert ghi == pytest.approx(4.14 * 30, abs=2.0)  # Tokyo's June: 4.14 kWh/m²/day × 30 days (DESIGN.md §7)
    yield_kwh = run.prepared.inputs.pv_kw_per_kw.sum() * dt
    assert f"GHI {ghi:,.1f} kWh/m² over the horizon (1 month);" in html
    assert f"specific yield {yield_kwh:,.0f} kWh/kWp over the horizon (1 month)" in html
    assert "kWh/m²/year" not in html and "kWh/kWp/year" not in html


def test_the_renewable_balance_names_its_denominator(shanghai):
    run, html = shanghai
    b = run.results.energy_balance
    charging, h2 = b["charging_kwh"], b["hydrogen_electricity_kwh"]
    share = (b["pv_kwh"] + b["wind_kwh"]) / (charging + h2)
    summary = _summary(html)
    assert f"produce {share * 100:.1f} % of the electricity drawn by the vehicles' chargers and the electrolyser" in (
        summary
    )
    assert f"÷ ({charging:,.0f} kWh of charging + {h2:,.0f} kWh for the electrolyser and compressor)" in summary
    assert "of the energy the cars draw" not in summary
    assert "net renewable balance over the horizon (1 month)</div>" in summary
    assert "net annual renewable balance" not in summary


def test_the_week_text_separates_the_electrolyser_and_the_depot_from_the_cars(shanghai):
    run, html = shanghai
    d = run.results.dispatch
    vehicles = run.prepared.inputs.vehicles
    depot_ids = vehicles.index[vehicles["station"] == "Delivery Depot"]
    dt = run.prepared.inputs.dt_hours
    texts = re.findall(r"the shared cars drew ([\d,]+) kWh, the depots' vehicles ([\d,]+) kWh, the electrolyser "
                       r"and compressor ([\d,]+) kWh; local supply", html)  # fmt: skip
    assert len(texts) == 2 and "the cars drew" not in html
    # the two weeks shown are 7-day windows starting at midnight: find each by its numbers
    found = 0
    for start in d.index[::24]:
        week = d.loc[start : start + pd.Timedelta(hours=167)]
        if len(week) != 168:
            continue
        depot = run.results.vehicle_charge_kw.loc[week.index, depot_ids].sum().sum() * dt
        shared = week["charging_kw"].sum() * dt - depot
        h2 = week["hydrogen_electricity_kw"].sum() * dt
        found += (f"{shared:,.0f}", f"{depot:,.0f}", f"{h2:,.0f}") in texts
    assert found >= 2


def test_car_sharing_bookings_and_depot_shifts_are_counted_apart(shanghai):
    run, html = shanghai
    bk = run.prepared.assignment.bookings
    depot = bk["station"] == "Delivery Depot"
    cs = bk[~depot]
    cs_served = int(cs["vehicle_id"].notna().sum())
    text = (
        f"{len(cs):,} car-sharing bookings (generated) in the period; {cs_served:,} served; "
        f"{len(cs) - cs_served:,} unserved"
    )
    assert text in html
    shifts = bk[depot]
    assert f"; {len(shifts):,} depot shifts (the depots' own vehicles) in the period; " in html
    assert f"{len(bk):,} bookings in the period" not in html
    # the tile: the car-sharing share of the served key figure (which counts the depot shifts too)
    k = run.results.kpis["value"]
    per_year = k["bookings_served"] * cs_served / run.prepared.assignment.served_count
    assert f'<div class="v">{per_year:,.0f}</div><div class="l">car-sharing bookings served per year' in html


def test_market_based_scope_2_says_when_no_supplier_factor_was_given(small, shanghai):
    run, html = small
    assert run.prepared.scenario.grid.market_emission_factor_kg_per_kwh is None
    assert "market-based: no supplier factor given, so the location factor is used (453 g/kWh, its mean)" in html
    assert "supplier's factor" not in html
    assert "grid import × the grid's constant emission factor" in html and "in each hour" not in html
    assert "<td>Grid import × the grid's constant factor</td>" in html and "hourly grid factor" not in html
    _, html = shanghai
    assert "market-based uses the supplier's factor (420 g/kWh, CN-SH:2022:carbon_market" in html


def test_a_factor_and_tariff_typed_into_the_scenario_say_their_source_is_not_stated(small, shanghai):
    _, html = small
    assert "<th>Grid emission factor</th><td>constant 453.5 g CO2e/kWh (a number given in the scenario; source " in (
        html
    )
    tariff = html.split("<th>Grid tariff</th><td>", 1)[1].split("</td>", 1)[0]
    assert tariff.startswith("import 28.0 JPY/kWh") and "a number given in the scenario; source not stated" in tariff
    _, html = shanghai
    row = html.split("<th>Grid emission factor</th><td>", 1)[1].split("</td>", 1)[0]
    assert row.startswith("constant 584.9 g CO2e/kWh, registry factor CN-SH:2022:location") and "Ministry" in row
    assert "source not stated" not in row


@pytest.mark.parametrize("which", ["small", "shanghai"])
def test_the_savings_reconcile_with_the_annual_costs(which, request):
    run, html = request.getfixturevalue(which)
    c = run.prepared.inputs.currency
    lc = c.lower()
    comp = run.economics.comparison
    plan, bau = comp[f"plan_{lc}_per_year"].sum(), comp[f"bau_{lc}_per_year"].sum()
    section = html.split("<h3>Annual cost, plan and business as usual</h3>", 1)[1].split("<h2>", 1)[0]
    assert (
        f'<tr><th>Total</th><th class="n">{plan:,.0f}</th>\n<th class="n">{bau:,.0f}</th><th class="n">'
        f"{bau - plan:,.0f}</th></tr>" in section
    )
    # by hand: the first year's cash flow has the operating savings less the new fixed O&M; the annual costs
    # have the operating savings less the new equipment's annuity + O&M lines of the cost table
    bought = run.economics.investment.index
    equipment = (comp.loc[bought, f"plan_{lc}_per_year"] - comp.loc[bought, f"bau_{lc}_per_year"]).sum()
    om = run.economics.investment[f"fixed_om_{lc}_per_year"].sum()
    first = run.economics.figures.loc["annual_savings_first_year", "value"]
    assert bau - plan + equipment - om == pytest.approx(first, abs=1.0)
    assert (
        f"{bau - plan:,.0f} + {equipment:,.0f} − {om:,.0f} = {first:,.0f} {c}." in section
        and f"saves {first:,.0f} {c} in its first year" in section
    )


def test_no_code_identifiers_for_the_council(shanghai):
    _, html = shanghai
    words = re.sub(r"<[^>]+>", " ", html)
    assert "CNY_VEHICLE_PRICES" not in words and "chisan.economics" not in words and "chisan.plan." not in words
    section = " ".join(html.split("<h2>Depots against diesel", 1)[1].split("<h2>", 1)[0].split())
    assert "about 250,000 CNY against about 180,000 CNY for a diesel one" in section


def test_money_units_put_the_currency_into_second_life_prices():
    from chisan.report.wording import money_units

    reason = "its cost of 1,781 /kWh/year (V = 1,781: break-even price = the offered 12,500 /kWh)"
    assert money_units(reason, "JPY") == (
        "its cost of 1,781 JPY/kWh/year (V = 1,781 JPY/kWh/year: break-even price = the offered 12,500 JPY/kWh)"
    )


def test_checks_show_the_margin_and_costs_carry_the_currency(small):
    run, html = small
    usable = run.prepared.inputs.vehicles["usable_kwh"]
    margin = (usable - run.results.vehicle_energy_kwh).min().min()  # the closest any car came to full [kWh]
    assert margin > 0
    row = html.split("<td>vehicle energy ≤ usable at every step</td>", 1)[1].split("</tr>", 1)[0]
    assert f'<td class="n">inside by {margin:.3g}</td>' in row
    assert "worst case against the limit" in html and "<th>worst</th>" not in html
    costs = html.split("<h2>Cost", 1)[1].split("<h2>", 1)[0]
    assert "<td>0 JPY/t CO2e</td>" in costs and "<td>0 kWh × 0 JPY/kWh</td>" in costs
    assert " per t CO2e" not in costs and "JPY/kWh·h</td>" in costs


def test_the_sites_table_scrolls_on_screen_and_wraps_in_print(shanghai):
    _, html = shanghai
    section = html.split("<h2>Sites and their meters", 1)[1].split("<h2>", 1)[0]
    assert '<div class="wide"><table>' in section and "</table></div>" in section
    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert re.search(r"\.wide { overflow-x: auto; width: calc\(100vw", css)  # the window's width, then scroll
    assert "@media print" in css and "table-layout: fixed" in css.split("@media print", 1)[1]
    assert "<td>shanghai_<wbr>commercial_<wbr>tou_<wbr>illustrative</td>" in section  # breaks at underscores


def test_the_appraisals_cautions_stand_at_the_top_of_the_economics(small):
    run, html = small
    # the small town plans June only (tests/factories.small_scenario): the appraisal says so (chisan.economics.cautions)
    assert any(c.startswith("horizon.months = 1") for c in run.economics.cautions)
    section = html.split("<h2>Economics against business as usual", 1)[1].split("<h2>", 1)[0]
    for caution in run.economics.cautions:
        assert f'<p class="warn">Caution: {caution}</p>' in section


def test_the_summary_counts_the_depots_chargers_apart_from_the_bases(shanghai):
    run, html = shanghai
    k = run.results.kpis["value"]
    depots = {d.name for d in run.prepared.scenario.depots}
    bases = [s for s in run.prepared.inputs.stations.index.astype(str) if s not in depots]
    at_bases = int(k["chargers"]) - int(k["depot_chargers"])
    assert 0 < at_bases < int(k["chargers"]) and len(bases) < len(run.prepared.inputs.stations)
    assert f"{int(k['vehicles'])} shared EVs and {at_bases} chargers at {len(bases)} car-sharing bases (" in html
    assert f"{int(k['depot_chargers'])} more at {len(depots)} depot" in html
