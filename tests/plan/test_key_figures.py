"""The key figures of a car-sharing town (no depots, no hydrogen): only the rows the town has, counts shown whole,
definitions that say what each figure covers and where the reasons of the unserved bookings are."""

from __future__ import annotations

import pytest

from chisan.report.labels import KPI_LABELS, label, value_text


def test_a_car_sharing_town_shows_no_depot_or_hydrogen_rows(march_joint):
    kpis = march_joint.results.kpis
    assert not march_joint.prepared.scenario.depots and march_joint.results.hydrogen is None
    absent = {
        "depot_vehicles",
        "depot_chargers",
        "depot_charging_kwh_per_year",
        "car_sharing_charging_kwh_per_year",
        "depot_km_per_year",
        "hydrogen_fleet_km_per_year",
        "co2_avoided_by_depots_kg",
        "co2_avoided_by_hydrogen_fleet_kg",
    }
    assert not absent & set(kpis.index)
    k = kpis["value"]
    parts = ("car_sharing", "local_renewables")  # the avoided CO2 still sums over the rows shown
    assert sum(k[f"co2_avoided_by_{p}_kg"] for p in parts) == pytest.approx(k["co2_avoided_kg"], rel=1e-12)
    assert k["cost_per_km"] == pytest.approx(k["total_cost_per_year"] / k["km_per_year"], rel=1e-12)
    for text in kpis["definition"]:
        assert "depot" not in text.lower() and "electrolyser" not in text and "hydrogen" not in text
    if march_joint.results.energy_balance["other_load_kwh"] <= 1e-9:  # no other load: none named
        assert "other load" not in kpis["definition"].sum()


def test_counts_are_shown_whole(march_joint):
    k = march_joint.results.kpis
    for name in ("vehicles", "chargers", "bookings_served", "private_cars_replaced"):
        shown, _ = value_text(float(k.loc[name, "value"]), k.loc[name, "unit"])
        assert shown == f"{float(k.loc[name, 'value']):,.0f}", name
    assert value_text(6.0, "vehicles") == ("6", "vehicles")  # not "6.00"
    assert value_text(1234.4, "kWh/year") == ("1,234", "kWh/year")  # other units as before


def test_definitions_say_what_they_cover(march_joint):
    kpis = march_joint.results.kpis
    d = kpis["definition"]
    assert "bookings.csv, column unserved_reason" in d["bookings_unserved"] and "reasons table" not in d.sum()
    assert "served bookings" in d["trip_energy_kwh_per_year"]
    assert "car-sharing" in label("trip_energy_kwh_per_year", KPI_LABELS)
    # self-sufficiency and the hourly-matched share are one formula: both definitions say so
    k = kpis["value"]
    assert k["self_sufficiency"] == k["renewable_share_hourly_matched"]
    assert "same figure" in d["self_sufficiency"] and "same figure" in d["renewable_share_hourly_matched"]
    # the local share of charging is claimed equal to them only when charging is the town's only consumption
    balance = march_joint.results.energy_balance
    only_charging = balance["other_load_kwh"] <= 1e-9 and balance["v2g_kwh"] <= 1e-9
    claims = "equal to the consumption met locally" in d["local_renewable_share_of_charging"]
    assert claims == only_charging
    if claims:
        assert k["local_renewable_share_of_charging"] == pytest.approx(k["renewable_share_hourly_matched"], abs=1e-9)
