"""``chisan serve --plan chisan-out/``: the service runs the town that ``chisan plan`` sized.

The plan is a real run of ``chisan plan`` on the bundled example (HiGHS, about 15 s), once for the module. Its
folder gives the stations with their coordinates, the planned PV (``capacities.csv``), the cars and chargers
(``stations.csv``) and the tariff (``scenario.toml``: ¥28/kWh by day, ¥21/kWh from 22:00 to 08:00, export
¥9.6/kWh). A station without coordinates is an error naming it and the field.
"""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
from service_helpers import make_client
from typer.testing import CliRunner

from chisan.cli import app as cli_app
from chisan.exceptions import ScenarioError
from chisan.service.from_plan import load_plan

EXAMPLE_STATIONS = {
    "Town Hall": (36.1800, 140.4200),
    "Station Square": (36.1885, 140.4105),
    "Hospital": (36.1712, 140.4321),
    "Community Center": (36.1931, 140.4338),
    "Shopping Street": (36.1758, 140.4046),
}
"""The bundled example's stations and their coordinates [degrees north, degrees east]."""


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan") / "chisan-out"
    result = CliRunner().invoke(cli_app, ["plan", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def served(plan_dir, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'chisan.db'}"
    with make_client(url, plan_path=plan_dir) as client:
        key = client.app.state.scenario_key
        assert key, "the plan's town was created with a first API key"
        headers = {"X-API-Key": key}
        town = client.get("/api/v1/municipality", headers=headers).json()
        stations = client.get("/api/v1/stations", headers=headers).json()
        chargers = client.get("/api/v1/chargers", headers=headers).json()
        vehicles = client.get("/api/v1/vehicles", headers=headers).json()
        feed = client.get(f"/gbfs/{town['slug']}/station_information.json").json()
        schedule = client.post("/api/v1/schedules", headers=headers).json()
    return town, stations, chargers, vehicles, feed, schedule


def test_the_plans_capacities_and_tariff_are_the_towns(plan_dir, served):
    town, *_ = served
    capacities = pd.read_csv(plan_dir / "capacities.csv").set_index("capacity")["value"]
    assert capacities["pv_kw"] > 1.0  # the plan builds PV; `serve --scenario` started with 0 kW
    assert town["pv_kw"] == pytest.approx(capacities["pv_kw"])
    assert town["storage_kwh"] == pytest.approx(capacities["storage_kwh"])
    assert town["storage_kw"] == pytest.approx(capacities["storage_kw"])
    assert (town["import_price_per_kwh"], town["export_price_per_kwh"]) == (28.0, 9.6)
    assert town["timezone"] == "Asia/Tokyo"


def test_the_plans_stations_cars_and_chargers(plan_dir, served):
    _town, stations, chargers, vehicles, feed, _ = served
    planned = pd.read_csv(plan_dir / "stations.csv").set_index("station")
    assert {s["name"]: (s["latitude_deg"], s["longitude_deg"]) for s in stations} == EXAMPLE_STATIONS
    by_id = {s["id"]: s["name"] for s in stations}
    for name, row in planned.iterrows():
        assert sum(by_id[c["station_id"]] == name for c in chargers) == row["chargers"], name
        assert sum(by_id[v["station_id"]] == name for v in vehicles) == row["vehicles"], name
    assert len(vehicles) == 30 and len(chargers) == 30  # 5 stations × 6 cars, 6 chargers
    # the public feed carries the scenario's coordinates, not invented ones
    assert {(s["lat"], s["lon"]) for s in feed["data"]["stations"]} == set(EXAMPLE_STATIONS.values())


def test_schedules_use_the_plans_pv_and_time_of_use_tariff(served):
    town, *_, schedule = served
    # 36 h from 09:00 JST on 2 June: ¥28 by day, ¥21 from 22:00 to 08:00 (the 15-min steps of 22:00–08:00)
    prices = schedule["import_price_per_kwh"]
    assert set(prices) == {21.0, 28.0}
    # step k starts at 09:00 + k × 15 min: 22:00 is k = 52, 08:00 the next day k = 92
    assert prices[51] == 28.0 and prices[52:92] == [21.0] * 40 and prices[92] == 28.0
    # PV from the plan's capacity on the scenario's weather: output by day, never above the installed kW
    assert max(schedule["pv_kw"]) > 0.0 and min(schedule["pv_kw"]) == 0.0
    assert max(schedule["pv_kw"]) <= town["pv_kw"] + 1e-9
    assert schedule["start_at"].startswith("2025-06-02T00:00")  # NOW, 09:00 JST


def _copy(plan_dir, tmp_path):
    folder = tmp_path / "plan"
    shutil.copytree(plan_dir, folder)
    return folder


def test_a_station_without_coordinates_is_an_error(plan_dir, tmp_path):
    folder = _copy(plan_dir, tmp_path)
    toml = folder / "scenario.toml"
    text = toml.read_text()
    text, n = re.subn(r'(name = "Hospital"\n)latitude_deg = [0-9.]+\n', r"\1", text)
    assert n == 1
    toml.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_plan(folder)
    message = str(err.value)
    assert "stations[2] ('Hospital'): latitude_deg missing" in message and str(toml) in message
    assert "Town Hall" not in message
    # the command says it in one line and starts nothing (exit code 2)
    result = CliRunner().invoke(cli_app, ["serve", "--plan", str(folder), "--port", "0"])
    assert result.exit_code == 2
    assert "'Hospital'): latitude_deg missing" in result.output and "Traceback" not in result.output


def test_serve_scenario_without_station_coordinates_is_an_error(tmp_path):
    scenario = tmp_path / "town.toml"
    scenario.write_text(
        '[municipality]\nname = "Nowhere"\nlatitude_deg = 35.0\nlongitude_deg = 139.0\npopulation = 1000\n\n'
        '[[stations]]\nname = "Hall"\nlongitude_deg = 139.0\nvehicles = 1\n'
    )
    result = CliRunner().invoke(cli_app, ["serve", "--scenario", str(scenario), "--port", "0"])
    assert result.exit_code == 2
    assert "stations[0] ('Hall'): latitude_deg missing" in result.output


def test_a_broken_plan_folder_names_what_is_wrong(plan_dir, tmp_path):
    with pytest.raises(ScenarioError, match="plan folder not found"):
        load_plan(tmp_path / "nothing-here")
    folder = _copy(plan_dir, tmp_path)
    (folder / "capacities.csv").unlink()
    with pytest.raises(ScenarioError, match=r"capacities\.csv missing"):
        load_plan(folder)
    folder = _copy(plan_dir, tmp_path / "b")
    stations = pd.read_csv(folder / "stations.csv")
    stations.loc[0, "station"] = "Harbour"
    stations.to_csv(folder / "stations.csv", index=False)
    with pytest.raises(
        ScenarioError, match=r"not in scenario\.toml: \['Harbour'\]; not in stations\.csv: \['Town Hall'\]"
    ):
        load_plan(folder)
    folder = _copy(plan_dir, tmp_path / "c")
    caps = pd.read_csv(folder / "capacities.csv")
    caps.loc[caps["capacity"] == "pv_kw", "value"] = -3.0
    caps.to_csv(folder / "capacities.csv", index=False)
    with pytest.raises(ScenarioError, match=r"pv_kw = -3\.0; a finite capacity ≥ 0 is expected"):
        load_plan(folder)
    result = CliRunner().invoke(cli_app, ["serve", "--plan", str(folder), "--scenario", str(folder / "scenario.toml")])
    assert result.exit_code == 2 and "give one" in result.output


def _with_second_life(folder, used_kwh_by_site):
    """The plan folder as `chisan plan` writes it for a scenario offering second-life packs (issue 12): the offer in
    scenario.toml and where the plan put them in run.json (details.second_life.used_kwh_by_site)."""
    toml = folder / "scenario.toml"
    toml.write_text(
        toml.read_text()
        + "\n[second_life]\noffered_kwh = 60.0\nprice_per_kwh = 5000.0\nround_trip_efficiency_fraction = 0.81\n"
        "max_c_rate_per_h = 0.25\n"
    )
    run = json.loads((folder / "run.json").read_text())
    run["details"]["second_life"] = {"offered_kwh": 60.0, "used_kwh": 0.0, "used_kwh_by_site": used_kwh_by_site}
    (folder / "run.json").write_text(json.dumps(run))


def test_the_plans_second_life_packs_are_the_towns(plan_dir, tmp_path):
    """Packs placed at two sites, 30 + 10 kWh: the town has 40 kWh at c-rate 0.25 (10 kW) and η_rt 0.81, and its
    disaster mode counts them: half full, 20 kWh × √0.81 = 18 kWh to the shelter."""
    folder = _copy(plan_dir, tmp_path)
    _with_second_life(folder, {"Town Hall": 30.0, "Hospital": 10.0})
    caps = load_plan(folder).capacities
    assert (caps["second_life_kwh"], caps["second_life_kw"]) == pytest.approx((40.0, 10.0))
    assert caps["second_life_round_trip_efficiency_fraction"] == 0.81
    url = f"sqlite:///{tmp_path / 'chisan.db'}"
    with make_client(url, plan_path=folder) as client:
        headers = {"X-API-Key": client.app.state.scenario_key}
        town = client.get("/api/v1/municipality", headers=headers).json()
        assert (town["second_life_kwh"], town["second_life_kw"]) == pytest.approx((40.0, 10.0))
        assert town["second_life_round_trip_efficiency_fraction"] == 0.81
        station = client.get("/api/v1/stations", headers=headers).json()[0]["id"]
        on = client.post(
            f"/api/v1/towns/{town['slug']}/disaster",
            json={"shelters": [{"name": "Hall", "critical_load_kw": 2.0}], "called_station_ids": [station]},
            headers=headers,
        )
        assert on.status_code == 200, on.text
        assert on.json()["second_life_energy_kwh"] == pytest.approx(18.0)


def test_a_plan_offering_second_life_without_its_placement_names_what_is_wrong(plan_dir, tmp_path):
    folder = _copy(plan_dir, tmp_path)
    _with_second_life(folder, {"Town Hall": -5.0})
    with pytest.raises(ScenarioError, match=r"used_kwh_by_site\.Town Hall = -5\.0; a finite energy ≥ 0 kWh"):
        load_plan(folder)
    (folder / "run.json").unlink()
    with pytest.raises(ScenarioError, match=r"run\.json: not readable .* offers second-life storage"):
        load_plan(folder)
    # without an offer run.json is not needed, and the town has no packs
    folder = _copy(plan_dir, tmp_path / "b")
    (folder / "run.json").unlink()
    assert load_plan(folder).capacities["second_life_kwh"] == 0.0


def test_the_plans_contract_kw_is_the_single_meters_contract_to_start_on(plan_dir, tmp_path):
    """A single-meter town on a peak-demand tariff starts its schedules on the plan's contract (kpis.csv row
    contract_kw, 12.5 kW here); per-site meters, or flat prices, start at 0; a broken value names the file."""
    from chisan.service.from_plan import _contract_kw

    folder = _copy(plan_dir, tmp_path)
    kpis = pd.DataFrame({"kpi": ["contract_kw"], "value": [12.5], "unit": ["kW"], "definition": ["x"]})
    kpis.to_csv(folder / "kpis.csv", index=False)
    scenario = load_plan(folder).scenario
    grid = scenario.grid.model_copy(
        update={"topology": "single_meter", "tariff": "tepco_high_voltage_business", "import_tou": []}
    )
    single = scenario.model_copy(update={"grid": grid})
    assert _contract_kw(folder, single) == 12.5
    assert (
        _contract_kw(folder, single.model_copy(update={"grid": grid.model_copy(update={"topology": "per_site"})}))
        == 0.0
    )
    assert _contract_kw(folder, scenario) == 0.0  # the example's flat prices and bands: no contract kW
    kpis.assign(value=[-1.0]).to_csv(folder / "kpis.csv", index=False)
    with pytest.raises(ScenarioError, match=r"kpis\.csv: contract_kw = -1\.0; a finite contract ≥ 0 kW is expected"):
        _contract_kw(folder, single)
