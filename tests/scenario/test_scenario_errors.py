"""A bad scenario file gets one clear message naming the file, the field, the value and what is allowed."""

from __future__ import annotations

import tomllib

import pytest

from chisan.exceptions import DataError, ScenarioError
from chisan.plan.prepare import prepare_inputs
from chisan.scenario.load import example_path, load_scenario, scenario_from_dict
from tests.factories import example_dict, small_scenario_dict


def test_the_bundled_example_is_valid():
    sc = load_scenario(example_path())
    assert len(sc.stations) == 5
    assert sum(s.vehicles for s in sc.stations) == 30
    assert sc.fleet.vehicle_model == "nissan_sakura"


def _write(tmp_path, text: str):
    path = tmp_path / "town.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_field(tmp_path):
    text = example_path().read_text(encoding="utf-8").replace("population = 30000\n", "")
    with pytest.raises(ScenarioError) as err:
        load_scenario(_write(tmp_path, text))
    msg = str(err.value)
    assert "town.toml" in msg and "missing field 'municipality.population'" in msg and "Residents" in msg


def test_wrong_unit_in_a_field_name(tmp_path):
    # a power given in watts under a made-up key: rejected, with the key, its line and the right name
    text = example_path().read_text(encoding="utf-8").replace("charger_kw = 6.0           #", "charger_w = 6000 #", 1)
    with pytest.raises(ScenarioError) as err:
        load_scenario(_write(tmp_path, text))
    msg = str(err.value)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("charger_w"))
    assert "unknown field 'stations[0].charger_w'" in msg
    assert f"(line {line})" in msg
    assert "did you mean 'charger_kw'" in msg


def test_wrong_unit_as_text_value(tmp_path):
    text = example_path().read_text(encoding="utf-8").replace("max_kw = 200 ", 'max_kw = "200 kW" ', 1)
    with pytest.raises(ScenarioError, match=r"technologies\.pv\.max_kw = '200 kW'.*number"):
        load_scenario(_write(tmp_path, text))


def test_negative_capacity():
    data = example_dict()
    data["technologies"]["storage"]["max_kwh"] = -50
    with pytest.raises(ScenarioError, match=r"technologies\.storage\.max_kwh = -50.*greater than or equal to 0"):
        scenario_from_dict(data, source="town.toml")


def test_unknown_vehicle_model_lists_the_valid_ones():
    sc = scenario_from_dict(small_scenario_dict(fleet={"vehicle_model": "nissan_sakra"}), source="town.toml")
    with pytest.raises(ScenarioError) as err:
        prepare_inputs(sc)
    msg = str(err.value)
    assert "fleet.vehicle_model = 'nissan_sakra'" in msg and "nissan_sakura" in msg and "nissan_leaf_40" in msg


def test_member_shares_must_sum_to_one():
    data = example_dict()
    data["stations"][0]["member_share_fraction"] = 0.5
    with pytest.raises(ScenarioError, match=r"sum to 1, they sum to 1\.2"):
        scenario_from_dict(data, source="town.toml")


def test_unknown_time_zone():
    data = example_dict()
    data["municipality"]["timezone"] = "Asia/Tokio"
    with pytest.raises(ScenarioError, match=r"municipality\.timezone = 'Asia/Tokio'.*IANA"):
        scenario_from_dict(data, source="town.toml")


def test_not_toml(tmp_path):
    with pytest.raises(ScenarioError, match=r"town\.toml: not valid TOML"):
        load_scenario(_write(tmp_path, "[municipality\nname = 'x'"))


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.toml")


def test_weather_file_required_for_epw():
    data = example_dict()
    data["weather"] = {"source": "epw"}
    with pytest.raises(ScenarioError, match=r"weather.*needs weather\.path"):
        scenario_from_dict(data, source="town.toml")


def test_booking_outside_the_planned_year(tmp_path):
    csv = tmp_path / "bookings.csv"
    csv.write_text(
        "booking_id,station,start,end,distance_km\n"
        "b1,Town Hall,2025-06-03 09:00,2025-06-03 12:00,20\n"
        "b2,Hospital,2026-01-05 09:00,2026-01-05 11:00,15\n",
        encoding="utf-8",
    )
    sc = scenario_from_dict(
        small_scenario_dict(bookings={"source": "csv", "path": str(csv)}), source="town.toml", base_dir=tmp_path
    )
    with pytest.raises(DataError) as err:
        prepare_inputs(sc)
    msg = str(err.value)
    assert "bookings.csv, row 2 (line 3), column 'end': '2026-01-05 11:00' lies after the planning period" in msg
    assert "[2025-06-01 00:00:00+09:00, 2025-07-01 00:00:00+09:00)" in msg


def test_example_text_is_toml_with_sources():
    # every cost figure of the example says where it comes from or that it is an assumption
    text = example_path().read_text(encoding="utf-8")
    tomllib.loads(text)
    for key in (
        "capex_per_kw = 200000",
        "capex_per_kwh = 150000",
        "export_price_per_kwh = 9.6",
        "emission_factor_kg_per_kwh = 0.4535",
    ):
        assert key in text
    assert text.count("assumption") >= 5 and "METI" in text and "Electricity Maps" in text


def test_leap_year_is_refused_with_the_reason():
    data = example_dict()
    data["horizon"]["year"] = 2024
    with pytest.raises(ScenarioError, match=r"horizon\.year = 2024.*leap year.*use 2025"):
        scenario_from_dict(data, source="town.toml")


def test_horizon_must_not_wrap_past_december():
    data = example_dict()
    data["horizon"].update(start_month=11, months=3)
    with pytest.raises(ScenarioError, match=r"start_month = 11 with months = 3 runs past December.*months ≤ 2"):
        scenario_from_dict(data, source="town.toml")
