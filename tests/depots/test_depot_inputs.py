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


def test_the_class_figures_are_the_cited_ones():
    """Each technical figure as its source row derives it (vehicle_classes.csv, ``source``)."""
    van, light, rigid, tractor = (vehicle_class(k) for k in ("e_van", "rigid_7_5t", "rigid_26t", "tractor"))
    # e_van: on-road 0.285 (Renault Master Z.E.) to 0.31 kWh/km (eSprinter, 2.0 mi/kWh); E-Transit 4.76 kWh / 10 mi
    assert 0.285 <= van.kwh_per_km <= 1 / (2.0 * KM_PER_MILE)
    assert van.kwh_per_km == round(0.07 * 68 / (10 * KM_PER_MILE), 2)
    assert (van.usable_kwh, van.max_charge_kw, van.payload_kg) == (68.0, 11.0, 1616.0)  # E-Transit
    # rigid_7_5t: eCanter Next Generation L, 124 kWh for up to 200 km, DC up to 104 kW; Isuzu Elf EV 3,000 kg
    assert light.kwh_per_km == round(124 / 200, 2) and (light.usable_kwh, light.max_charge_kw) == (124.0, 104.0)
    assert light.payload_kg == 3000.0
    # rigid_26t: DEA BEV L1 0.9226 kWh/km; eActros 300 3 x 97 kWh net, 160 kW; DAF CF Electric rigid 10,200 kg
    assert rigid.kwh_per_km == round(0.9226, 2) and (rigid.usable_kwh, rigid.max_charge_kw) == (3 * 97.0, 160.0)
    assert rigid.payload_kg <= 26_000 - 10_200
    # tractor: inside the cross-checks (Volvo FH Electric 1.1 kWh/km at 40 t; DEA BEV L3 1.4729 at up to 50 t)
    assert 1.1 <= tractor.kwh_per_km <= 1.4729 and (tractor.usable_kwh, tractor.max_charge_kw) == (540.0, 400.0)
    assert tractor.payload_kg <= 40_000 - 9_000
    for c in (van, light, rigid, tractor):
        assert "http" in c.source and "assumption" in c.source  # the costs stay chisan's assumptions
    assert "PyPSA" in rigid.source and "BEV L1" in rigid.source and "BEV L3" in tractor.source


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
    # June has 30 days x 3 shifts; energy 170 km x 0.30 kWh/km (e_van, on-road) = 51 kWh a day
    shifts = prepared.assignment.bookings.query("station == 'Vans'")
    assert len(shifts) == 90 and shifts["vehicle_id"].notna().all()
    assert inputs.trip_energy_kwh[vans.index].to_numpy().sum() == pytest.approx(30 * 170 * 0.30)
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
