"""A sweep gives each town its area's grid factor (registry) and tariff (low voltage below 50 kW of chargers).

Rows of Sapporo, Osaka and Naha as in the municipalities table of ../shared/data (code, prefecture, town hall,
population 2022-01-01), written out so that the test runs without that folder.
"""

from __future__ import annotations

import pytest

from chisan.carbon.factors import grid_factor
from chisan.exceptions import ScenarioError
from chisan.sweep.derive import DeriveOptions, charging_power_kw, derivation_facts, derive_scenario
from chisan.sweep.reduced import plan_reduced
from chisan.tariffs.areas import AREA_TARIFFS

ROWS = {
    "011002": {"name": "Sapporo", "prefecture": "Hokkaido", "pref_code": "01", "latitude_deg": 43.0621,
               "longitude_deg": 141.3544, "population": 1960668},
    "271004": {"name": "Osaka", "prefecture": "Osaka", "pref_code": "27", "latitude_deg": 34.6937,
               "longitude_deg": 135.5023, "population": 2732107},
    "472018": {"name": "Naha", "prefecture": "Okinawa", "pref_code": "47", "latitude_deg": 26.2124,
               "longitude_deg": 127.6809, "population": 317405},
}  # fmt: skip
OPTIONS = DeriveOptions(weather="template", grid_factors="latest", prices="tariff")


@pytest.mark.parametrize(
    ("code", "area", "factor_name", "tariff"),
    [
        ("011002", "hokkaido", "JP-hokkaido:2020:basic", AREA_TARIFFS["hokkaido"][1]),
        ("271004", "kansai", "JP-kansai:2018:basic", "kansai_high_voltage_business"),
        ("472018", "okinawa", "JP-okinawa:2013:basic", "okinawa_high_voltage_business"),
    ],
)
def test_a_city_gets_its_areas_latest_factor_and_high_voltage_tariff(template, code, area, factor_name, tariff):
    scenario = derive_scenario(template, code, ROWS[code], OPTIONS)
    facts = derivation_facts(template, scenario, OPTIONS)
    assert facts["area"] == area
    assert scenario.grid.emission_factor == factor_name  # named, so the report names it
    assert scenario.grid.emission_factor_kg_per_kwh == grid_factor(factor_name).kg_co2_per_kwh
    assert factor_name in facts["grid_factor_source"] and grid_factor(factor_name).url in facts["grid_factor_source"]
    assert facts["tariff"] == tariff and facts["tariff_voltage"] == "high"
    assert scenario.grid.import_tou == [] and scenario.grid.tariff.contract.kind == "peak_demand"
    # a city of 300,000–2,700,000 has far more than 50 kW of chargers (6 kW each)
    assert facts["charging_power_kw"] >= 50.0 and facts["charging_power_kw"] % 6.0 == 0.0
    assert tariff in facts["tariff_source"] and "≥ 50 kW" in facts["tariff_source"]


def test_the_latest_set_uses_each_areas_most_recent_basic_factor(template):
    # Kyushu: FY2022 0.399 (kyuden.co.jp), newer than FY2018 0.319 and FY2013 0.613
    scenario = derive_scenario(template, "401307", {**ROWS["472018"], "prefecture": "Fukuoka", "pref_code": "40"},
                               OPTIONS)  # fmt: skip
    assert scenario.grid.emission_factor == "JP-kyushu:2022:basic"
    assert scenario.grid.emission_factor_kg_per_kwh == pytest.approx(0.399)


@pytest.fixture(scope="module")
def small_okinawa(template):
    # 3,000 residents at the template's 1.5 % membership → 45 members, 1 station, 3 chargers × 6 kW = 18 kW
    row = {**ROWS["472018"], "name": "a small Okinawan village", "population": 3000}
    return derive_scenario(template, "473821", row, OPTIONS)


def test_a_small_town_gets_the_low_voltage_tariff_with_its_charging_power_as_contract(template, small_okinawa):
    assert charging_power_kw(small_okinawa) == pytest.approx(18.0)
    tariff = small_okinawa.grid.tariff
    assert tariff.name == AREA_TARIFFS["okinawa"][0] and tariff.voltage == "low"
    assert tariff.contract.kind == "fixed" and tariff.contract.contract_kw == 18.0
    facts = derivation_facts(template, small_okinawa, OPTIONS)
    assert "< 50 kW" in facts["tariff_source"] and "contract fixed at 18 kW" in facts["tariff_source"]


def test_the_sweeps_reduced_plan_bills_the_low_voltage_basic_charge(small_okinawa):
    # Okinawa 低圧電力: 1,306.80 JPY/kW/month × 18 kW × 12 months = 282,268.80 JPY/year
    plan = plan_reduced(small_okinawa)
    assert plan.costs.loc["Basic charge", "total_per_year"] == pytest.approx(1306.80 * 18 * 12, rel=1e-9)
    assert plan.costs.loc["Grid import", "total_per_year"] > 0.0


def test_tariffs_need_a_yen_template(template):
    cny = template.model_copy(update={"finance": template.finance.model_copy(update={"currency": "CNY"})})
    with pytest.raises(ScenarioError, match="prices = 'tariff' gives Japanese tariffs in JPY"):
        OPTIONS.check(cny)


def test_a_template_with_its_own_tariff_keeps_it(template):
    own = template.model_copy(update={"grid": template.grid.model_copy(update={"tariff": None})})
    data = own.model_dump(mode="python", exclude={"base_dir"})
    data["grid"].update(tariff="kansai_high_voltage_business", import_tou=[])
    from chisan.scenario.load import scenario_from_dict

    with_tariff = scenario_from_dict(data, source="t.toml", base_dir=template.base_dir)
    scenario = derive_scenario(with_tariff, "472018", ROWS["472018"], OPTIONS)  # Naha, in Okinawa's area
    assert scenario.grid.tariff == "kansai_high_voltage_business"
    facts = derivation_facts(with_tariff, scenario, OPTIONS)
    assert "kept" in facts["tariff_source"] and facts["tariff"] == "kansai_high_voltage_business"


def test_a_template_with_a_meter_per_base_keeps_the_price_index_and_says_why(template):
    # the reduced sweep plan bills a basic charge behind one meter only (chisan.sweep.lp.solve_aggregate)
    data = template.model_dump(mode="python", exclude={"base_dir"})
    data["grid"]["topology"] = "per_site"
    from chisan.scenario.load import scenario_from_dict

    metered = scenario_from_dict(data, source="t.toml", base_dir=template.base_dir)
    scenario = derive_scenario(metered, "472018", ROWS["472018"], OPTIONS)
    assert scenario.grid.tariff is None and scenario.grid.topology == "per_site"
    assert scenario.grid.import_price_per_kwh == pytest.approx(28.0 * 28.49 / 26.48)  # Okinawa's index over TEPCO's
    facts = derivation_facts(metered, scenario, OPTIONS)
    assert "a meter per base" in facts["tariff_source"] and facts["import_price_index"] == pytest.approx(28.49 / 26.48)
