"""Choosing a depot fleet's drivetrain (chisan.economics.drivetrain): costs by hand, the carbon target, the errors.

The depot is NREL's beverage fleet (Borlaug et al. 2021) with 26 t rigid trucks at its own site, no PV, a flat
¥30/kWh and a basic charge, as in tests/depots/test_depot_plan.py: its electricity bill is import x 30 + contract
kW x 1,500 x 12, so both candidates' yearly costs can be written down from the catalogue and the plan's quantities.
"""

from __future__ import annotations

import pytest

from chisan.economics.drivetrain import (
    DIESEL_CO2_KG_PER_L,
    candidate_shares,
    choice_markdown,
    choose_drivetrain,
    pick_candidate,
)
from chisan.exceptions import ScenarioError
from chisan.scenario.load import scenario_from_dict
from tests.factories import small_scenario_dict

FLEET = "/work/shared/data/logistics/nrel_hdev_depot_fleets/fleet1-beverage-delivery"
TARIFF = {
    "name": "flat with basic charge",
    "voltage": "high",
    "seasons": [{"bands": [{"price_jpy_per_kwh": 30.0}]}],
    "basic_charge_jpy_per_kw_month": 1500.0,
}


def _crf(r: float, n: float) -> float:
    """Capital recovery factor r (1+r)^n / ((1+r)^n - 1), written out here independently of chisan.units."""
    return r * (1 + r) ** n / ((1 + r) ** n - 1)


def plan_stations(run) -> list[str]:
    return list(run.results.stations.index)


def _scenario(**choice):
    data = small_scenario_dict()
    data["grid"] = {"tariff": TARIFF}
    data["policy"] = {}
    data["depots"] = [
        {
            "name": "Depot",
            "vehicle_class": "rigid_26t",
            "charger_kw": 50.0,
            "pv_max_kw": 0.0,
            "path": FLEET,
            "vehicle_days_per_day": 4,
            "seed": 3,
        }
    ]
    data["drivetrain_choice"] = {"depot": "Depot", "drivetrains": ["battery_electric", "diesel"], "step_fraction": 1.0}
    data["drivetrain_choice"].update(choice)
    return scenario_from_dict(data, source="t.toml")


@pytest.fixture(scope="module")
def two_candidates():
    scenario = _scenario()
    return scenario, choose_drivetrain(scenario, method="full")


def test_two_candidates_cost_what_the_hand_formulas_give(two_candidates):
    scenario, result = two_candidates
    t = result.candidates
    assert list(t.index) == ["diesel 100 %", "BEV 100 %"]
    bev, diesel = t.loc["BEV 100 %"], t.loc["diesel 100 %"]
    # the same 4 vehicle-days a weekday run either way: the diesel trucks drive the planned trucks' km
    km = bev["km_per_year"]
    assert km > 0 and diesel["km_per_year"] == pytest.approx(km, rel=1e-9)
    r = scenario.finance.discount_rate_fraction
    # diesel rigid_26t (catalogue): ¥18,000,000 over 10 years, ¥22/km, 30 l/100 km at the cited ¥146.0/l
    # (ANRE weekly survey of 2025-12-15, chisan.economics.diesel); 4 trucks
    litres = km * 30.0 / 100.0
    assert diesel["total_jpy_per_year"] == pytest.approx(
        4 * 18_000_000 * _crf(r, 10) + km * 22.0 + litres * 146.0, rel=1e-9
    )
    assert diesel["co2_kg_per_year"] == pytest.approx(litres * 2.62, rel=1e-12)
    assert DIESEL_CO2_KG_PER_L == 2.62
    # battery-electric: ¥45,000,000 over 10 years and ¥15/km per truck, the bill, the chargers' annuity and O&M
    plan = result.runs[4]  # the plan of the depot's 4 vehicle-days a day, all battery-electric
    assert plan.checks.passed and sorted(result.runs) == [0, 4]
    assert "Depot" not in plan_stations(result.runs[0])
    site = plan.results.sites.loc["Depot"]
    assert site["pv_kw"] == 0.0 and site["storage_kwh"] == 0.0
    n = int(plan.results.stations.loc["Depot", "vehicles"])
    n_ch = int(plan.results.stations.loc["Depot", "chargers"])
    ch = scenario.technologies.chargers
    bill = site["import_kwh_per_year"] * 30.0 + site["contract_kw"] * 1500.0 * 12
    chargers = n_ch * (ch.capex_per_charger * _crf(r, ch.lifetime_years) + ch.fixed_om_per_charger_year)
    hand = n * 45_000_000 * _crf(r, 10) + km * 15.0 + bill + chargers
    assert bev["battery_electric_vehicles"] == n
    assert bev["total_jpy_per_year"] == pytest.approx(hand, rel=1e-6)
    # grid CO2: the depot's own site imports at the scenario's flat factor
    factor = scenario.grid.emission_factor_kg_per_kwh
    assert bev["co2_kg_per_year"] == pytest.approx(site["import_kwh_per_year"] * factor, rel=1e-6)
    # no target: the cheaper is chosen, and the table says so
    cheaper = "diesel 100 %" if diesel["total_jpy_per_year"] < bev["total_jpy_per_year"] else "BEV 100 %"
    assert result.chosen == cheaper
    assert t["chosen"].sum() == 1 and t.loc[cheaper, "chosen"]
    assert "**chosen**" in choice_markdown(result).split(cheaper, 1)[1].split("\n", 1)[0]


def test_carbon_target_flips_the_choice(two_candidates):
    _, result = two_candidates
    t = result.candidates
    cheap = t["total_jpy_per_year"].idxmin()
    clean = t["co2_kg_per_year"].idxmin()
    assert cheap != clean  # diesel is cheaper per year here, battery-electric emits less
    between = (t.loc[cheap, "co2_kg_per_year"] + t.loc[clean, "co2_kg_per_year"]) / 2
    flipped = pick_candidate(t, between)
    assert flipped.chosen == clean
    assert list(flipped.candidates["meets_target"]) == [name == clean for name in t.index]
    assert f"the cheapest overall, {cheap}" in flipped.why
    assert pick_candidate(t, None).chosen == cheap


def test_no_candidate_meets_the_target_names_the_field():
    scenario = _scenario(drivetrains=["diesel"], max_co2_kg_per_year=1.0)
    with pytest.raises(ScenarioError) as err:
        choose_drivetrain(scenario, method="full")
    message = str(err.value)
    assert message.startswith("drivetrain_choice.max_co2_kg_per_year = 1 is met by no candidate")
    assert "(diesel 100 %)" in message and "Traceback" not in message


def test_fuel_cell_needs_its_figures_and_the_depot_must_exist():
    with pytest.raises(ScenarioError) as err:
        _scenario(drivetrains=["fuel_cell", "diesel"])
    assert "give fuel_cell_capex, fuel_cell_maintenance_per_km, fuel_cell_lifetime_years" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        choose_drivetrain(_scenario(depot="Nowhere"))
    assert str(err.value) == "drivetrain_choice.depot = 'Nowhere' is not a depot; the depots are Depot"


def _cny_scenario(drivetrains: list[str], choice: dict | None = None, **finance):
    data = small_scenario_dict(finance={"currency": "CNY", **finance})
    data["policy"] = {}
    data["depots"] = [
        {"name": "Depot", "vehicle_class": "rigid_7_5t", "path": FLEET, "vehicle_days_per_day": 4, "seed": 3}
    ]
    data["drivetrain_choice"] = {"depot": "Depot", "drivetrains": drivetrains, "step_fraction": 1.0, **(choice or {})}
    return scenario_from_dict(data, source="t.toml")


def test_the_choice_is_costed_in_the_scenarios_currency_cny():
    scenario = _cny_scenario(["diesel"])
    result = choose_drivetrain(scenario, method="full")
    row = result.candidates.loc["diesel 100 %"]
    km = row["km_per_year"]
    r = scenario.finance.discount_rate_fraction
    # rigid_7_5t in CNY (chisan.economics.diesel.CNY_VEHICLE_PRICES): diesel truck CNY 160,000 over the class's 10
    # years, CNY 0.60/km; 18 l/100 km (catalogue) at Shanghai's CNY 6.49/l (the shared per-currency default)
    litres = km * 18.0 / 100.0
    assert km > 0 and row["diesel_vehicle_days"] == 4
    assert row["total_cny_per_year"] == pytest.approx(4 * 160_000 * _crf(r, 10) + km * 0.60 + litres * 6.49, rel=1e-9)
    assert "total_jpy_per_year" not in result.candidates
    assert f"{row['total_cny_per_year']:,.0f} CNY/year" in result.why and "¥" not in result.why
    assert "cost [CNY/year]" in choice_markdown(result)


def test_a_currency_without_prices_or_fuel_cell_figures_is_refused_by_field():
    usd = _cny_scenario(["diesel"], currency="USD")
    with pytest.raises(ScenarioError) as err:
        choose_drivetrain(usd, method="full")
    assert str(err.value).startswith("depots[0].vehicle_class = 'rigid_7_5t': the depot comparison with diesel")
    # the old JPY name in a CNY scenario: refused, naming the field to give instead
    old = {**FUEL_CELL_CNY, "fuel_cell_capex_jpy": FUEL_CELL_CNY["fuel_cell_capex"]}
    del old["fuel_cell_capex"]
    with pytest.raises(ScenarioError) as err:
        _cny_scenario(["fuel_cell", "diesel"], old)
    assert str(err.value).endswith(
        "drivetrain_choice.fuel_cell_capex_jpy is in JPY and finance.currency = 'CNY'; give "
        "drivetrain_choice.fuel_cell_capex [CNY per vehicle] instead"
    )
    with pytest.raises(ScenarioError) as err:
        _cny_scenario(["diesel"], {"fuel_cell_maintenance_jpy_per_km": 15.0})
    assert str(err.value).endswith("give drivetrain_choice.fuel_cell_maintenance_per_km [CNY/km] instead")
    # a CNY fuel-cell candidate without its maintenance: chisan has no default in CNY, the message names the field
    missing = {k: v for k, v in FUEL_CELL_CNY.items() if k != "fuel_cell_maintenance_per_km"}
    with pytest.raises(ScenarioError) as err:
        _cny_scenario(["fuel_cell", "diesel"], missing)
    message = str(err.value)
    assert "drivetrains include 'fuel_cell': give fuel_cell_maintenance_per_km (chisan has no default)" in message
    assert "Traceback" not in message and "ValidationError" not in message


# Made-up CNY figures for the hand check (not cited; chisan has no fuel-cell default in any currency).
FUEL_CELL_CNY = {
    "fuel_cell_class": "fc_truck_rigid",
    "fuel_cell_capex": 900_000.0,  # [CNY per vehicle]
    "fuel_cell_maintenance_per_km": 0.8,  # [CNY/km]
    "fuel_cell_lifetime_years": 8,
    "hydrogen_price_per_kg": 35.0,  # [CNY/kg]
    "hydrogen_co2_kg_per_kg": 2.0,
}


def test_a_fuel_cell_candidate_is_costed_in_cny_by_hand():
    scenario = _cny_scenario(["fuel_cell"], FUEL_CELL_CNY)
    result = choose_drivetrain(scenario, method="full")
    assert list(result.candidates.index) == ["FCEV 100 %"] and sorted(result.runs) == [0]
    row = result.candidates.loc["FCEV 100 %"]
    km = row["fuel_cell_km_per_year"]
    assert km > 0 and row["km_per_year"] == pytest.approx(km, rel=1e-12) and row["fuel_cell_vehicle_days"] == 4
    r = scenario.finance.discount_rate_fraction
    # 4 fuel-cell trucks (one per vehicle-day) at CNY 900,000 over 8 years, CNY 0.8/km, and the hydrogen:
    # fc_truck_rigid 7.75 kg/100 km (31 kg / 400 km, Hyundai Xcient; catalogue) at CNY 35/kg
    kg = km * 7.75 / 100.0
    hand = 4 * 900_000.0 * _crf(r, 8) + km * 0.8 + kg * 35.0
    assert row["fuel_cell_cny_per_year"] == pytest.approx(hand, rel=1e-12)
    assert row["total_cny_per_year"] == pytest.approx(hand, rel=1e-12)
    assert row["co2_kg_per_year"] == pytest.approx(kg * 2.0, rel=1e-12)
    assert "total_jpy_per_year" not in result.candidates and result.chosen == "FCEV 100 %"


def test_the_old_jpy_names_are_read_for_a_jpy_scenario_with_a_warning():
    from chisan.scenario.schema import RenamedFieldWarning

    figures = {k: v for k, v in FUEL_CELL_CNY.items() if k not in ("fuel_cell_capex", "fuel_cell_maintenance_per_km")}
    old = {**figures, "fuel_cell_capex_jpy": 12_000_000, "fuel_cell_maintenance_jpy_per_km": 15.0}
    with pytest.warns(RenamedFieldWarning) as caught:
        scenario = _scenario(drivetrains=["fuel_cell", "diesel"], **old)
    messages = [str(w.message) for w in caught]
    assert messages[0].startswith("drivetrain_choice.fuel_cell_capex_jpy is renamed drivetrain_choice.fuel_cell_capex")
    assert any(m.startswith("drivetrain_choice.fuel_cell_maintenance_jpy_per_km is renamed") for m in messages)
    choice = scenario.drivetrain_choice
    assert choice.fuel_cell_capex == 12_000_000 and choice.fuel_cell_maintenance_per_km == 15.0
    with pytest.raises(ScenarioError) as err:
        _scenario(drivetrains=["fuel_cell", "diesel"], **old, fuel_cell_capex=1.0)
    assert "give fuel_cell_capex only" in str(err.value)


def test_candidate_shares_in_quarters_sum_to_one():
    mixes = candidate_shares(["battery_electric", "fuel_cell", "diesel"], 0.25)
    assert len(mixes) == 15  # compositions of 4 quarters into 3 parts: C(6, 2)
    assert all(abs(sum(m.values()) - 1.0) < 1e-12 for m in mixes)
    assert {"battery_electric": 0.5, "fuel_cell": 0.25, "diesel": 0.25} in mixes


def test_cli_without_a_choice_table_is_one_clear_error(tmp_path):
    from typer.testing import CliRunner

    from chisan.cli import app
    from chisan.scenario.load import example_path

    path = tmp_path / "town.toml"
    path.write_text(example_path().read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(app, ["drivetrain", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "the scenario has no [drivetrain_choice] table" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_shows_a_renamed_field_as_one_warning_line_not_pythons(tmp_path):
    """`chisan drivetrain` shows the scenario's warnings as `chisan plan` does ("warning: <text>"), not Python's
    "<file>:<line>: RenamedFieldWarning" lines. The depot named is not one of [[depots]], so the command stops
    with its one-line error right after loading; the warning is shown before it."""
    import tomli_w
    from typer.testing import CliRunner

    from chisan.cli import app

    data = small_scenario_dict()
    data["drivetrain_choice"] = {
        "depot": "Nowhere",
        "drivetrains": ["fuel_cell", "diesel"],
        **{k: v for k, v in FUEL_CELL_CNY.items() if k != "fuel_cell_capex"},
        "fuel_cell_capex_jpy": 12_000_000,
    }
    path = tmp_path / "town.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(app, ["drivetrain", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    text = " ".join(result.output.split())  # rich wraps long lines
    assert "warning: drivetrain_choice.fuel_cell_capex_jpy is renamed drivetrain_choice.fuel_cell_capex" in text
    assert "drivetrain_choice.depot = 'Nowhere' is not a depot" in text
    assert "UserWarning" not in text and "RenamedFieldWarning" not in text and ".py:" not in text
    assert text.count("is renamed") == 1
