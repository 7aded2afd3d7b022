"""A sweep of a template whose bases have tariffs of their own: the derived towns keep their meters and tariffs, and
the sweep row is chisan plan's per-site bill (the reduced one-bus LP cannot bill meters apart)."""

from __future__ import annotations

import pytest

from chisan.plan.pipeline import plan_scenario
from chisan.scenario.load import scenario_from_dict
from chisan.sweep.derive import DeriveOptions, derive_scenario, price_rule
from chisan.sweep.run import SweepSettings, kpi_column, plan_municipality
from tests.factories import small_scenario_dict

CODE = "473022"  # one of the sample municipalities (tests/sweep/samples.py)


@pytest.fixture(scope="module")
def template():
    # The small town (one month, 2 stations × 3 cars); its first base on TEPCO's low-voltage power tariff
    # (20 kW contract fixed), the other on the town's prices. No grid.topology given.
    data = small_scenario_dict()
    data["stations"][0]["tariff"] = "tepco_low_voltage_power"
    return scenario_from_dict(data, source="template.toml")


def test_derived_town_keeps_its_meters_and_their_tariffs(template, municipalities):
    options = DeriveOptions(weather="template")
    derived = derive_scenario(template, CODE, municipalities.loc[CODE].to_dict(), options)
    # a tariff per meter keeps a meter per base (not the single meter of screening), so the area's one tariff is
    # not given to the town: its prices are the template's × the area index
    assert derived.grid.topology == "per_site"
    assert price_rule(template, options) == "area"
    # station k is the template's station k mod 2: the first keeps its tariff, a second the town's prices
    tariffs = [s.tariff for s in derived.stations]
    assert tariffs == [template.stations[k % 2].tariff for k in range(len(tariffs))]
    assert tariffs[0] == "tepco_low_voltage_power"


def test_sweep_row_is_the_per_site_bill_of_chisan_plan(template, municipalities):
    settings = SweepSettings(method="reduced", n_typical_days=8, derive=DeriveOptions(weather="template"))
    row = municipalities.loc[CODE].to_dict()
    record = plan_municipality(template, CODE, row, settings)
    assert record["status"] == "ok", record["error"]
    assert record["method"] == "two-stage"  # the reduced plan is not used for meters on tariffs of their own
    derived = derive_scenario(template, CODE, row, settings.derive)
    run = plan_scenario(derived, method="two-stage", n_typical_days=8)
    total = run.results.kpis.loc["total_cost_per_year"]
    assert record[kpi_column("total_cost_per_year", str(total["unit"]), "JPY")] == pytest.approx(
        float(total["value"]), rel=1e-9
    )
    # and that plan bills the low-voltage bases on their fixed 20 kW contract
    sites = run.results.sites
    low = sites[sites["tariff"] == "tepco_low_voltage_power"]
    assert len(low) >= 1
    assert low["contract_kw"].to_numpy() == pytest.approx([20.0] * len(low))
