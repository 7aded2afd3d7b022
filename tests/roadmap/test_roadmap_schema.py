"""The [roadmap] table: defaults, the grid path by hand, and clear errors for bad inputs (also through TOML)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from roadmap_fakes import town, town_dict

from chisan.exceptions import ScenarioError
from chisan.roadmap.schema import (
    EXAMPLE_ROADMAP_TOML,
    RoadmapSettings,
    example_settings,
    grid_factor_path,
    load_roadmap,
    parse_years,
    planned_years,
    resolve,
    roadmap_from_dict,
)


def _toml(data: dict) -> str:
    """A minimal TOML writer for the test towns (tables, arrays of tables, numbers, strings, booleans)."""
    lines: list[str] = []

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return f'"{v}"'
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return repr(v)

    def table(name: str, body: dict) -> None:
        simple = {k: v for k, v in body.items() if not isinstance(v, dict | list) or k == "route_shares"}
        nested = {k: v for k, v in body.items() if k not in simple}
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {value(v)}" for k, v in simple.items())
        for k, v in nested.items():
            if isinstance(v, list):
                for item in v:
                    lines.append(f"[[{name}.{k}]]")
                    lines.extend(f"{a} = {value(b)}" for a, b in item.items())
            else:
                table(f"{name}.{k}", v)

    for name, body in data.items():
        if isinstance(body, list):
            for item in body:
                lines.append(f"[[{name}]]")
                lines.extend(f"{k} = {value(v)}" for k, v in item.items())
        else:
            table(name, body)
    return "\n".join(lines) + "\n"


def write_town(tmp_path: Path, **roadmap) -> Path:
    path = tmp_path / "town.toml"
    path.write_text(_toml(town_dict(**roadmap) if roadmap else town_dict()), encoding="utf-8")
    return path


def test_toml_writer_round_trips() -> None:
    data = town_dict(retire_soh_fraction=0.75, route_shares={"reuse": 1.0})
    assert tomllib.loads(_toml(data)) == data


def test_defaults_resolve_against_the_scenario() -> None:
    cfg = resolve(RoadmapSettings(), town(), chemistry="NMC622")
    assert cfg.years[0] == 2025 and cfg.years[-1] == 2050  # horizon.year default 2025, end 2050
    assert cfg.target_year == 2050
    assert cfg.planned_years == [2025, 2037, 2050]  # 3 evenly spaced: positions 0, 12.5 (rounds to even 12), 25
    assert cfg.ageing_model == "nmc622_denso"  # the NMC622 EV-cell model (issue 12)
    assert cfg.second_life_price_per_kwh == pytest.approx(300_000 / 24)  # 4R Energy, JPY
    assert (cfg.grid_factor_kg_per_kwh == 0.5).all()  # the scenario's factor, flat
    settings = example_settings()
    assert settings.grid_emission_factor_kg_per_kwh == {"2026": 0.4535, "2030": 0.37, "2050": 0.0}
    assert tomllib.loads(EXAMPLE_ROADMAP_TOML)["roadmap"]["route_shares"]["reuse"] == 0.5


def test_grid_factor_path_by_hand() -> None:
    settings = roadmap_from_dict({"grid_emission_factor_kg_per_kwh": {"2030": 0.37, "2026": 0.45, "2050": 0.0}})
    path = grid_factor_path(list(range(2024, 2052)), settings, base_kg_per_kwh=9.9)
    # Flat before the first point and after the last; 2028 halfway 0.45 -> 0.37 = 0.41; 2040 halfway to 0 = 0.185.
    assert path.loc[2024] == 0.45 and path.loc[2051] == 0.0
    assert path.loc[2028] == pytest.approx(0.41, abs=1e-15)
    assert path.loc[2040] == pytest.approx(0.185, abs=1e-15)
    rate = roadmap_from_dict({"grid_emission_factor_change_per_year_fraction": -0.1})
    compounding = grid_factor_path([2026, 2027, 2028], rate, base_kg_per_kwh=0.5)
    assert np.allclose(compounding, [0.5, 0.45, 0.405], rtol=1e-15)


def test_planned_years() -> None:
    years = list(range(2026, 2051))
    assert planned_years(years, 5) == [2026, 2032, 2038, 2044, 2050]
    assert planned_years(years, [2030, 2040]) == [2026, 2030, 2040, 2050]  # the ends are always planned
    assert planned_years(years, 100) == years
    with pytest.raises(ScenarioError, match=r"plan_years: \[2060\] outside the roadmap 2026-2050"):
        planned_years(years, [2060])
    assert parse_years("2026-2050") == (2026, 2050)
    for bad in ("2050-2026", "26-50", "2026"):
        with pytest.raises(ScenarioError, match="a range of calendar years such as 2026-2050"):
            parse_years(bad)


@pytest.mark.parametrize(
    ("roadmap", "message"),
    [
        ({"retire_soh_fraction": 1.2}, r"retire_soh_fraction = 1\.2 \(line \d+\): allowed: a fraction in \(0, 1\]"),
        ({"second_life_end_soh_fraction": 0.0}, r"second_life_end_soh_fraction = 0\.0.*a fraction in \(0, 1\]"),
        (
            {"route_shares": {"reuse": 0.5, "resell": 0.1, "refabricate": 0.1, "recycle": 0.2}},
            r"route_shares = .* \(line \d+\): the shares sum to 0\.9; allowed: shares of resell, reuse, refabricate, "
            r"recycle summing to 1",
        ),
        ({"route_shares": {"landfill": 1.0}}, r"unknown route\(s\) \['landfill'\]; allowed: resell, reuse"),
        ({"chemistry": "NCA"}, r"chemistry = 'NCA' \(line \d+\): unknown chemistry 'NCA'; allowed: NMC111, NMC622"),
        (
            {"ageing_model": "nmc999"},
            r"unknown ageing model 'nmc999'; allowed: lfp_250ah, lfp_naumann, lmo_nissan_leaf, nca_panasonic, "
            r"nmc111_kokam, nmc622_denso, nmc811_lgmj1",
        ),
        ({"recycling_process": "smelting"}, r"unknown process 'smelting'; allowed: pyrometallurgy, hydrometallurgy"),
        ({"retire_soh_fraction": 0.6, "second_life_end_soh_fraction": 0.7}, r"must be below retire_soh_fraction"),
        ({"start_year": 2030, "end_year": 2030}, r"end_year = 2030 must be after start_year = 2030"),
        ({"grid_emission_factor_kg_per_kwh": {"soon": 0.3}}, r"key 'soon' is not a year"),
        ({"grid_emission_factor_kg_per_kwh": {"2030": -0.1}}, r"factor -0\.1 for 2030; allowed: a number >= 0"),
        (
            {"retire_soh": 0.8},
            r"unknown key 'retire_soh' \(line \d+\); did you mean 'retire_soh_fraction'\? Allowed in \[roadmap\]: "
            r"start_year",
        ),
        ({"plan_years": 1}, r"plan at least 2 years"),
    ],
)
def test_bad_tables_in_the_toml_file_get_clear_errors(tmp_path: Path, roadmap: dict, message: str) -> None:
    path = write_town(tmp_path, **roadmap)
    with pytest.raises(ScenarioError, match=message) as caught:
        load_roadmap(path)
    assert str(caught.value).startswith(f"{path}: invalid [roadmap]")


def test_errors_that_need_the_scenario(tmp_path: Path) -> None:
    scenario, settings = load_roadmap(write_town(tmp_path, target_year=2070, end_year=2050))
    with pytest.raises(ScenarioError, match=r"target_year = 2070 is outside the roadmap 2025-2050"):
        resolve(settings, scenario, chemistry="NMC622")
    usd = town(finance={"currency": "USD"})
    with pytest.raises(ScenarioError, match=r"second_life_price_per_kwh is required when the currency is 'USD'"):
        resolve(RoadmapSettings(), usd, chemistry="LFP")
    with pytest.raises(ScenarioError, match=r"unknown chemistry 'NCA'"):
        resolve(RoadmapSettings(), town(), chemistry="NCA")


def test_settings_in_a_separate_file(tmp_path: Path) -> None:
    scenario_path = write_town(tmp_path)
    data = tomllib.loads(scenario_path.read_text())
    data.pop("roadmap")
    scenario_path.write_text(_toml(data))  # a plan-ready town.toml
    settings_path = tmp_path / "roadmap.toml"
    settings_path.write_text("[roadmap]\nretire_soh_fraction = 0.75\n")
    _, settings = load_roadmap(scenario_path, settings_path)
    assert settings.retire_soh_fraction == 0.75
    settings_path.write_text("retire_soh_fraction = 1.5\n")  # keys at the top level are read too
    with pytest.raises(ScenarioError, match=r"roadmap\.toml: invalid \[roadmap\]: retire_soh_fraction = 1\.5"):
        load_roadmap(scenario_path, settings_path)
    both = write_town(tmp_path, retire_soh_fraction=0.7)
    with pytest.raises(ScenarioError, match="keep the roadmap settings in one place"):
        load_roadmap(both, settings_path)
    with pytest.raises(ScenarioError, match="file not found"):
        load_roadmap(tmp_path / "missing.toml")
