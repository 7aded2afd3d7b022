"""The depot comparison with diesel in the scenario's currency: JPY from the catalogue, CNY from chisan's table,
and one clear refusal when a figure is missing for the currency (the end-to-end CNY case is the Shanghai example,
tests/scenario/test_shanghai_example.py)."""

from __future__ import annotations

import pytest

from chisan.catalogue.vehicle_classes import vehicle_class
from chisan.economics.diesel import (
    CNY_VEHICLE_PRICES,
    check_depot_prices,
    diesel_price_per_l,
    vehicle_prices,
)
from chisan.exceptions import ScenarioError
from tests.factories import small_scenario


def test_jpy_prices_are_the_catalogues():
    cls = vehicle_class("rigid_26t")
    p = vehicle_prices("rigid_26t", "JPY")
    assert (p.capex, p.maintenance_per_km, p.diesel_capex, p.diesel_maintenance_per_km) == (
        cls.capex_jpy,
        cls.maintenance_jpy_per_km,
        cls.diesel_capex_jpy,
        cls.diesel_maintenance_jpy_per_km,
    )


def test_cny_prices_and_diesel_defaults():
    assert vehicle_prices("e_van", "CNY") is CNY_VEHICLE_PRICES["e_van"]
    assert "assumption" in CNY_VEHICLE_PRICES["e_van"].source
    assert diesel_price_per_l(None, "CNY") == 6.49  # Shanghai, 2018-02-10 (Shanghai Daily)
    assert diesel_price_per_l(None, "JPY") == 146.0  # ANRE survey of 2025-12-15
    assert diesel_price_per_l(7.2, "CNY") == 7.2  # given in the scenario's currency


def test_a_class_without_cny_prices_is_refused_by_name():
    with pytest.raises(ScenarioError) as err:
        vehicle_prices("tractor", "CNY", field="depots[0].vehicle_class")
    msg = str(err.value)
    assert msg.startswith("depots[0].vehicle_class = 'tractor': the depot comparison with diesel has no vehicle")
    assert "finance.currency = 'CNY'" in msg and "CNY: e_van, rigid_7_5t" in msg and "Traceback" not in msg


def test_a_currency_without_a_diesel_default_needs_the_price():
    with pytest.raises(ScenarioError, match=r"depots\[1\]\.diesel_price_per_l is not given .* 'USD'"):
        diesel_price_per_l(None, "USD", field="depots[1].diesel_price_per_l")
    assert diesel_price_per_l(1.1, "USD") == 1.1


def test_the_scenario_is_checked_depot_by_depot(tmp_path):
    depot = {"name": "Yard", "vehicle_class": "e_van", "duties": "csv", "path": "shifts.csv"}
    (tmp_path / "shifts.csv").write_text("vehicle_day_id,start_h,end_h,distance_km\nv1,8,16,80\n", encoding="utf-8")
    ok = small_scenario(tmp_path, finance={"currency": "CNY"}, depots=[depot])
    check_depot_prices(ok)  # e_van has CNY prices and CNY a diesel default
    bad = small_scenario(tmp_path, finance={"currency": "CNY"}, depots=[{**depot, "vehicle_class": "rigid_26t"}])
    with pytest.raises(ScenarioError, match=r"depots\[0\]\.vehicle_class = 'rigid_26t'"):
        check_depot_prices(bad)
    # and the plan refuses it while preparing its inputs, before any model is built or solved
    from chisan.plan.prepare import prepare_inputs

    with pytest.raises(ScenarioError, match=r"depots\[0\]\.vehicle_class = 'rigid_26t'"):
        prepare_inputs(bad)
