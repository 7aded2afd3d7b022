"""Hydrogen as a second carrier (chisan.plan.hydrogen): against PyPSA's Links and Stores, balances rebuilt after
solving, and refuelling windows that cannot be met reported before solving.

Tolerances: the objectives of chisan and PyPSA within 1e-4 relative (the issue's tolerance; both solved by HiGHS
to 1e-7 per row); the rebuilt hydrogen balance to 1e-6 of each step's largest flow (chisan.plan.check).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pypsa  # noqa: F401  (a missing PyPSA must fail the suite, not skip it)
import pytest

from chisan.exceptions import ScenarioError
from chisan.plan.check import check_solution
from chisan.plan.hydrogen import LHV_KWH_PER_KG, build_hydrogen_inputs, stack_replacement_factor
from chisan.plan.inputs import Capacity
from chisan.plan.prepare import prepare_inputs
from chisan.plan.solve import solve_plan
from tests.factories import small_scenario
from tests.pypsa_reference import solve_pypsa

DAYS = 4
"""Days of the small problems (short: the PyPSA comparisons solve each twice)."""

FLEET = pd.DataFrame(
    {"fleet": ["bus", "car"], "tank_kg": [37.5, 5.6], "max_fill_kg_per_h": [120.0, 60.0]},
    index=pd.Index(["bus-1", "mirai-1"], name="vehicle"),
)


def _duties(days: pd.DatetimeIndex, shifts: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    """Duties on every day: (vehicle, start h, end h, hydrogen kg)."""
    rows = [
        (vid, day + pd.Timedelta(hours=a), day + pd.Timedelta(hours=b), kg) for day in days for vid, a, b, kg in shifts
    ]
    return pd.DataFrame(rows, columns=["vehicle", "start", "end", "hydrogen_kg"])


# bus: two blocks a day with a 1.5 h stop (12:00-13:30, one whole step at the depot); car: one day trip
SHIFTS = [("bus-1", 7.0, 12.0, 8.0), ("bus-1", 13.5, 19.0, 6.4), ("mirai-1", 9.0, 17.0, 2.3)]


@pytest.fixture(scope="module")
def week_inputs():
    # the first DAYS days of the small example town (2 stations × 3 cars, two metered sites), real pipeline inputs
    sc = small_scenario(horizon={"months": 1, "start_month": 7})
    inputs = prepare_inputs(sc).inputs
    week = slice(0, DAYS * 24)
    return dataclasses.replace(
        inputs,
        snapshots=inputs.snapshots[week],
        pv_kw_per_kw=inputs.pv_kw_per_kw.iloc[week],
        wind_kw_per_kw=inputs.wind_kw_per_kw.iloc[week],
        temp_air_c=None,
        import_price_per_kwh=inputs.import_price_per_kwh.iloc[week],
        export_price_per_kwh=inputs.export_price_per_kwh.iloc[week],
        emission_factor_kg_per_kwh=inputs.emission_factor_kg_per_kwh.iloc[week],
        other_load_kw=None,
        site_other_load_kw=None,
        weight=None,
        period=None,
        plugged=inputs.plugged.iloc[week],
        trip_energy_kwh=inputs.trip_energy_kwh.iloc[week],
        renewable_share_min=None,
    )


def _with_hydrogen(inputs, *, min_load=0.0, bought=None, shifts=SHIFTS, site="first"):
    days = inputs.snapshots.normalize().unique()
    caps = {
        "electrolyser_kw": Capacity(annual_cost_per_unit=9_000.0),
        "h2_storage_kwh": Capacity(annual_cost_per_unit=150.0),
        "h2_dispenser_kw": Capacity(annual_cost_per_unit=300.0),
    }
    where = (inputs.sites.index[-1] if site == "first" else site) if inputs.per_site else None
    h = build_hydrogen_inputs(
        _duties(days, shifts),
        FLEET,
        inputs.snapshots,
        inputs.dt_hours,
        site=where,
        capacities=caps,
        electrolyser_kwh_per_kg=55.0,
        compressor_kwh_per_kg=3.0,
        min_load_fraction=min_load,
        bought_price_per_kg=bought,
    )
    return dataclasses.replace(inputs, hydrogen=h)


@pytest.mark.parametrize(
    "case",
    [
        {"topology": "per_site"},
        {"topology": "single_meter", "min_load": 0.1},
        {"topology": "per_site", "bought": 1_500.0, "policy": {"renewable_share_min": 0.3}},
    ],
    ids=["per-site", "one-meter-min-load", "bought-and-30pct-renewable"],
)
def test_electricity_and_hydrogen_same_optimum_as_pypsa(week_inputs, case, request):
    inputs = week_inputs
    if case["topology"] == "single_meter":
        inputs = dataclasses.replace(inputs, sites=None, site_other_load_kw=None)
    inputs = dataclasses.replace(inputs, **case.get("policy", {}))
    inputs = _with_hydrogen(inputs, min_load=case.get("min_load", 0.0), bought=case.get("bought"))
    if case == {"topology": "per_site"}:  # _with_hydrogen(week_inputs) as it stands: the module's plan of it
        inputs, ours = request.getfixturevalue("hydrogen_week")
    else:
        ours = solve_plan(inputs, method="full")
    n = solve_pypsa(inputs)
    theirs = float(n.objective + n.objective_constant)
    assert ours.details["objective"] == pytest.approx(theirs, rel=1e-4)
    # the electrolyser made what PyPSA's Link made, and the fuel-cell vehicles took their duties' hydrogen
    made = inputs.hydrogen.efficiency * ours.values["Hydrogen-electrolyser_kw"].sum()
    bought = ours.values.get("Hydrogen-bought_kw", np.zeros(1)).sum()
    need_kwh = inputs.hydrogen.draw_kwh.to_numpy().sum()
    assert made + bought == pytest.approx(need_kwh, rel=1e-5)  # the stores are cyclic: all made is used
    pypsa_made = -n.links_t.p1["electrolyser"].sum()
    pypsa_bought = n.generators_t.p["h2_bought"].sum() if "h2_bought" in n.generators.index else 0.0
    assert made + bought == pytest.approx(pypsa_made + pypsa_bought, rel=1e-4)
    report = check_solution(inputs, ours)
    assert report.passed, report.table()
    rows = report.table().set_index("check")
    assert rows.loc["hydrogen balance closes at every step", "worst"] <= 1e-6
    if case.get("min_load"):
        p = ours.values["Hydrogen-electrolyser_kw"]
        cap = ours.hydrogen_capacities["electrolyser_kw"]
        assert cap > 0 and p.min() >= 0.1 * cap - 1e-6  # never below 10 % of its capacity


@pytest.fixture(scope="module")
def hydrogen_week(week_inputs):
    """``_with_hydrogen(week_inputs)`` and its full plan, solved once for the tests that only read them."""
    inputs = _with_hydrogen(week_inputs)
    return inputs, solve_plan(inputs, method="full")


def test_hydrogen_balance_check_finds_a_broken_balance(hydrogen_week):
    inputs, ours = hydrogen_week
    values = dict(ours.values)
    values["Hydrogen-electrolyser_kw"] = values["Hydrogen-electrolyser_kw"] * 1.001  # 0.1 % more hydrogen made
    report = check_solution(inputs, dataclasses.replace(ours, values=values)).table().set_index("check")
    assert not report.loc["hydrogen balance closes at every step", "passed"]


def test_each_duty_refuelled_in_its_window_and_hydrogen_counts(hydrogen_week):
    # hand-derived: DAYS days × (8.0 + 6.4 + 2.3) kg = DAYS × 16.7 kg dispensed, made at 55 kWh/kg
    inputs, ours = hydrogen_week
    fill = ours.values["Hydrogen-dispense_kw"]
    assert fill.sum() * inputs.dt_hours / LHV_KWH_PER_KG == pytest.approx(DAYS * 16.7, rel=1e-6)
    # the bus's afternoon block is refuelled in the one whole step it stands at the depot (12:00-13:00)
    bus = inputs.hydrogen.vehicles.index.get_loc("bus-1")
    noon = inputs.snapshots.hour == 12
    assert fill[noon, bus].sum() * inputs.dt_hours / LHV_KWH_PER_KG == pytest.approx(DAYS * 6.4, rel=1e-6)
    el_kwh = ours.values["Hydrogen-electrolyser_kw"].sum() * inputs.dt_hours
    assert el_kwh == pytest.approx(DAYS * 16.7 * 55.0, rel=1e-6)


def test_an_infeasible_refuelling_window_names_the_vehicle_and_the_day(week_inputs):
    # back from the morning block at 12:30, out again at 12:45: no whole hour at the station in between
    shifts = [("bus-1", 7.0, 12.5, 8.0), ("bus-1", 12.75, 19.0, 6.4), ("mirai-1", 9.0, 17.0, 2.3)]
    with pytest.raises(ScenarioError) as err:
        _with_hydrogen(week_inputs, shifts=shifts)
    text = str(err.value)
    first_day = week_inputs.snapshots[0]
    assert "'bus-1'" in text and f"{first_day:%Y-%m-%d} at 12:45" in text and "6.4 kg" in text
    assert "0 h" in text and "Hydrogen" not in text and "<" not in text  # plain words, no repr of objects


def test_a_duty_beyond_the_tank_is_reported():
    idx = pd.date_range("2025-07-01", periods=48, freq="h", tz="Asia/Tokyo")
    duties = _duties(idx.normalize().unique(), [("mirai-1", 8.0, 20.0, 7.0)])
    with pytest.raises(ScenarioError, match=r"'mirai-1'.*2025-07-01 at 08:00 needs 7.0 kg.*more than its tank holds"):
        build_hydrogen_inputs(
            duties, FLEET.loc[["mirai-1"]], idx, 1.0, site=None, capacities={}, electrolyser_kwh_per_kg=55.0
        )


def test_stack_replacement_factor_hand_derived():
    # 20-year system, 7-year stacks at 3 %: replacements in years 7 and 14 → 1.03^-7 + 1.03^-14
    assert stack_replacement_factor(0.03, 20, 7) == pytest.approx(1.03**-7 + 1.03**-14, rel=1e-12)
    assert stack_replacement_factor(0.03, 20, 10) == pytest.approx(1.03**-10, rel=1e-12)  # year 20 is the end
    assert stack_replacement_factor(0.03, 20, 25) == 0.0


@pytest.fixture(scope="module")
def hydrogen_town_run(hydrogen_town_plan_with_bau):
    # plan_scenario(load_scenario(example_path("hydrogen_town"))): the plan of tests/conftest.py's run, which also
    # solved business as usual after it (tests/economics/test_hydrogen_economics.py reads that part)
    return hydrogen_town_plan_with_bau


def test_hydrogen_town_example_plans_end_to_end(hydrogen_town_run):
    run = hydrogen_town_run
    assert run.solution.method == "full"  # 'auto' picks the full co-optimisation for hydrogen
    assert run.checks.passed
    names = set(run.checks.table()["check"])
    assert (
        "hydrogen balance closes at every step" in names
        and "every site's meter balances at every step (5 sites)" in names
    )
    h2 = run.results.hydrogen
    # hand-derived from hydrogen_town_bus_blocks.csv: (85 + 100) + (55 + 95) + 170 = 505 km a day, every day, at
    # the fc_bus_12m class's 8.0 kg/100 km = 40.4 kg/day; a year = 365 × 40.4 = 14,746 kg
    assert h2.figure("hydrogen_dispensed_kg_per_year") == pytest.approx(14_746.0, rel=1e-9)
    made, bought = h2.figure("hydrogen_produced_kg_per_year"), h2.figure("hydrogen_bought_kg_per_year")
    assert made + bought == pytest.approx(14_746.0, rel=1e-5)  # the store is cyclic: made + bought = dispensed
    assert 0.0 <= h2.figure("hydrogen_renewable_share_fraction") <= 1.0
    assert h2.figure("hydrogen_from_local_renewables_kg_per_year") <= made + 1e-6
    assert h2.figure("electrolyser_kw") > 0 and 0 < h2.figure("electrolyser_full_load_hours") <= 8760
    # the levelised cost lies between the electricity alone (55 + 3 kWh/kg at 0 … the dearest tariff hour) and
    # everything the plan spends; and the bought price caps what the last kg may cost, not the average
    assert 0 < h2.figure("levelised_cost_of_hydrogen_per_kg") < 10 * 1200.0
    # the cost table's optimised lines, hydrogen included, sum to the objective
    costs = run.results.costs
    assert {"Electrolyser", "Hydrogen store", "Hydrogen dispenser", "Hydrogen bought"} <= set(costs.index)
    optimised = float(costs.loc[costs["in_objective"], "total_per_year"].sum())
    assert optimised == pytest.approx(run.solution.details["objective"], rel=1e-6)


def test_hydrogen_town_report_has_the_hydrogen_section(hydrogen_town_run, tmp_path):
    from chisan.report.render import write_outputs

    run = hydrogen_town_run
    out = write_outputs(
        tmp_path / "out",
        run.prepared,
        run.results,
        run.checks,
        scenario_text="",
        scenario_name="hydrogen_town.toml",
        solve_seconds=run.seconds["solve"],
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Hydrogen" in html and "Electrolyser operation and hydrogen stock" in html
    hourly = pd.read_csv(out / "hydrogen.csv", index_col=0)
    assert len(hourly) == len(run.prepared.inputs.snapshots)
    assert hourly["stock_kg"].max() <= run.results.hydrogen.figure("hydrogen_storage_kg") + 1e-6


def test_the_sweep_refuses_hydrogen(hydrogen_town_run):
    # (the two-stage method plans hydrogen: tests/plan/test_hydrogen_stages.py)
    from chisan.plan.reduce import aggregate_fleet
    from chisan.sweep.lp import solve_aggregate

    inputs = hydrogen_town_run.prepared.inputs
    with pytest.raises(NotImplementedError, match=r"does not model hydrogen.*\[hydrogen\] table"):
        solve_aggregate(aggregate_fleet(inputs))


def test_unknown_example_is_named():
    from chisan.scenario.load import example_path

    with pytest.raises(ScenarioError, match="the examples are example_town, shanghai_district, hydrogen_town"):
        example_path("nope")


def test_cli_prints_the_hydrogen_example():
    from typer.testing import CliRunner

    from chisan.cli import app

    result = CliRunner().invoke(app, ["example", "hydrogen_town"])
    assert result.exit_code == 0
    assert "[hydrogen]" in result.stdout and 'vehicle_class = "fc_bus_12m"' in result.stdout
    bad = CliRunner().invoke(app, ["example", "nope"])
    assert bad.exit_code != 0 and "the examples are" in bad.output


def test_levelised_cost_with_a_flat_grid_price_hand_derived(week_inputs):
    # grid only (no PV, wind or storage) at a flat 30 /kWh: the electricity's marginal value is 30 /kWh in every
    # step, so LCOH = (hydrogen capacity costs + bought + 30 × electricity [kWh/year]) / kg dispensed per year
    from chisan.plan.hydrogen_results import hydrogen_results

    flat = pd.Series(30.0, index=week_inputs.snapshots)
    off = {k: Capacity(enabled=False) for k in ("pv_kw", "wind_kw", "storage_kwh", "storage_kw")}
    inputs = dataclasses.replace(
        week_inputs, import_price_per_kwh=flat, capacities=off, basic_charge_per_kw_month=0.0, contract_kw_fixed=None
    )
    inputs = _with_hydrogen(inputs)
    ours = solve_plan(inputs, method="full")
    h2 = hydrogen_results(inputs, ours)
    assert np.allclose(h2.hourly["electricity_value_per_kwh"], 30.0, rtol=1e-6)
    assert h2.figure("hydrogen_renewable_share_fraction") == 0.0  # all from the grid
    # 16.7 kg a day × DAYS days, annualised by 8760 h / (DAYS × 24 h) = 16.7 × 365 = 6,095.5 kg a year
    assert h2.figure("hydrogen_dispensed_kg_per_year") == pytest.approx(6_095.5, rel=1e-9)
    expected = (h2.costs["total_per_year"].sum() + 30.0 * h2.figure("hydrogen_electricity_kwh_per_year")) / (
        h2.figure("hydrogen_dispensed_kg_per_year")
    )
    assert h2.figure("levelised_cost_of_hydrogen_per_kg") == pytest.approx(expected, rel=1e-6)
    # and the electricity part alone is 30 × (55 + 3) kWh/kg = 1,740 per kg made
    made = h2.figure("hydrogen_produced_kg_per_year")
    assert h2.figure("hydrogen_electricity_kwh_per_year") == pytest.approx(made * 58.0, rel=1e-6)


def test_no_hydrogen_source_is_reported():
    idx = pd.date_range("2025-07-01", periods=48, freq="h", tz="Asia/Tokyo")
    duties = _duties(idx.normalize().unique(), [("mirai-1", 8.0, 20.0, 2.0)])
    with pytest.raises(ScenarioError, match=r"no source: technologies.electrolyser is disabled.*bought_price_per_kg"):
        build_hydrogen_inputs(
            duties,
            FLEET.loc[["mirai-1"]],
            idx,
            1.0,
            site=None,
            capacities={"electrolyser_kw": Capacity(enabled=False)},
            electrolyser_kwh_per_kg=55.0,
        )


def test_hydrogen_table_names_units_and_formats_for_people(hydrogen_town_run):
    """The report's hydrogen table: a human name for each figure, shares in percent, kg and hours a year whole,
    a one-line definition; hydrogen_kpis.csv keeps the machine names (the index)."""
    from chisan.report.hydrogen import hydrogen_context

    run = hydrogen_town_run
    h2 = run.results.hydrogen
    rows = {r["name"]: r for r in hydrogen_context(run.results, run.prepared.inputs)["hydrogen"]["rows"]}
    assert len(rows) == len(h2.figures)
    assert all("_" not in name and name[:1].isupper() for name in rows)
    assert all(r["definition"] and "\n" not in r["definition"] for r in rows.values())
    share = rows["Renewable share of the hydrogen"]
    assert share["unit"] == "%"
    assert share["value"] == f"{h2.figure('hydrogen_renewable_share_fraction') * 100:.1f}"
    # hand-derived above: 505 km a day × 8.0 kg/100 km × 365 days = 14,746 kg a year, shown without decimals
    assert rows["Hydrogen dispensed"]["value"] == "14,746" and rows["Hydrogen dispensed"]["unit"] == "kg/year"
    hours = rows["Electrolyser full-load hours"]
    assert hours["unit"] == "h/year" and hours["value"] == f"{h2.figure('electrolyser_full_load_hours'):,.0f}"
    assert "." not in rows["Hydrogen made"]["value"] and "." not in rows["Hydrogen bought"]["value"]
    assert "hydrogen_renewable_share_fraction" in h2.figures.index  # the machine name stays


def test_key_figures_of_a_hydrogen_town_state_their_scope(hydrogen_town_run):
    """The fuel-cell fleet's km enter the town's cost per km (its station is in the town's cost): hand-derived
    505 km a day × 365 = 184,325 km a year (hydrogen_town_bus_blocks.csv)."""
    res = hydrogen_town_run.results
    k = res.kpis["value"]
    assert k["hydrogen_fleet_km_per_year"] == pytest.approx(505 * 365, rel=1e-9)
    all_km = k["km_per_year"] + k["hydrogen_fleet_km_per_year"] + k.get("depot_km_per_year", 0.0)
    assert k["cost_per_km"] == pytest.approx(k["total_cost_per_year"] / all_km, rel=1e-12)
    assert "fuel-cell vehicles" in res.kpis.loc["cost_per_km", "definition"]
    assert "hydrogen station" in res.kpis.loc["total_cost_per_year", "definition"]
    assert "co2_avoided_by_hydrogen_fleet_kg" in k
