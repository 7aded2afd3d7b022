"""Depots in the plan's inputs without solving: a generic shift CSV, its errors, and the class catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from chisan.catalogue.vehicle_classes import vehicle_class, vehicle_classes
from chisan.depots.duties import KM_PER_MILE
from chisan.exceptions import ScenarioError
from chisan.plan.prepare import prepare_inputs
from chisan.scenario.load import scenario_from_dict
from tests.factories import small_scenario_dict


def test_catalogue_has_the_four_classes_and_the_nrel_consumption():
    assert vehicle_classes() == ["e_van", "rigid_7_5t", "rigid_26t", "tractor"]
    # Borlaug et al. (2021) assumed 1.8 kWh/mi for the NREL depot trucks: 1.8 / 1.609344 = 1.118 kWh/km
    assert vehicle_class("tractor").kwh_per_km == pytest.approx(1.8 / KM_PER_MILE, abs=0.005)
    for key in vehicle_classes():
        c = vehicle_class(key)
        assert c.source and c.diesel_l_per_100km > 0 and c.usable_kwh > 0


def _csv_depot(tmp_path, text: str, **changes):
    path = tmp_path / "shifts.csv"
    path.write_text(text)
    data = small_scenario_dict()
    data["depots"] = [
        {"name": "Vans", "vehicle_class": "e_van", "charger_kw": 11.0, "duties": "csv", "path": str(path), **changes}
    ]
    return scenario_from_dict(data, source="t.toml", base_dir=tmp_path)


def test_generic_shift_csv_becomes_bookings_and_vehicles_of_the_class(tmp_path):
    # two vehicle-days: A 08:00-12:00 40 km and 13:00-17:30 30 km; B 06:00-14:00 100 km; both every day
    text = "vehicle_day_id,start_h,end_h,distance_km\nA,8,12,40\nA,13,17.5,30\nB,6,14,100\n"
    prepared = prepare_inputs(_csv_depot(tmp_path, text, working_days="all"))
    inputs = prepared.inputs
    vans = inputs.vehicles[inputs.vehicles["station"] == "Vans"]
    # e_van: 68 kWh usable, 10 % reserve = 6.8 kWh, charging min(11 kW class limit, 11 kW charger)
    assert (vans["usable_kwh"] == 68.0).all() and np.allclose(vans["reserve_kwh"], 6.8)
    assert (vans["max_charge_kw"] == 11.0).all()
    # June has 30 days x 3 shifts; energy 170 km x 0.25 kWh/km = 42.5 kWh a day
    shifts = prepared.assignment.bookings.query("station == 'Vans'")
    assert len(shifts) == 90 and shifts["vehicle_id"].notna().all()
    assert inputs.trip_energy_kwh[vans.index].to_numpy().sum() == pytest.approx(30 * 170 * 0.25)
    # its own site with an unlimited roof; one charger per sized vehicle
    assert inputs.stations.loc["Vans", "site"] == "Vans" and "Vans" in inputs.sites.index
    assert inputs.stations.loc["Vans", "chargers"] == len(vans)


def test_bad_shift_csv_names_file_column_and_line(tmp_path):
    text = "vehicle_day_id,start_h,end_h,distance_km\nA,8,12,40\nB,9,7,10\n"
    with pytest.raises(ScenarioError, match=r"shifts.csv: column 'end_h', line 3: value '7' is not allowed"):
        prepare_inputs(_csv_depot(tmp_path, text))


def test_depot_site_must_be_declared(tmp_path):
    text = "vehicle_day_id,start_h,end_h,distance_km\nA,8,12,40\n"
    with pytest.raises(ScenarioError, match=r"depots\[0\].site = 'Yard' is not a site"):
        prepare_inputs(_csv_depot(tmp_path, text, site="Yard"))
