"""A delivery depot on the plan: NREL's beverage fleet (Borlaug et al. 2021) at its own site, planned and checked.

The bound on the depot's peak is computed here from the same inputs, independently of the model: each vehicle
charges at the constant power that delivers, over each dwell (a run of plugged-in steps), the energy of the shifts
that leave after it and before the next dwell; the sum over vehicles at each step is a feasible charging profile
(vehicle energy cyclic, battery at reserve + trip before each departure), so a plan that prices its contract kW
and nothing else at the depot's meter peaks no higher than that profile does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chisan.catalogue.vehicle_classes import vehicle_class, vehicle_classes
from chisan.depots.duties import read_nrel_vehicle_days
from chisan.depots.schedule import lay_vehicle_days, working_days
from chisan.economics.diesel import depot_tco
from chisan.exceptions import ScenarioError
from chisan.plan.pipeline import plan_scenario
from chisan.report.render import render_report, write_outputs
from chisan.scenario.load import scenario_from_dict
from tests.factories import small_scenario_dict

FLEET = "/work/shared/data/logistics/nrel_hdev_depot_fleets/fleet1-beverage-delivery"
PER_DAY = 6  # vehicle-days run each weekday
# a flat ¥30/kWh and a basic charge on each site's peak kW: the only reason to charge at one hour rather than another
TARIFF = {
    "name": "flat with basic charge",
    "voltage": "high",
    "seasons": [{"bands": [{"price_jpy_per_kwh": 30.0}]}],
    "basic_charge_jpy_per_kw_month": 1500.0,
}


def _depot(**changes) -> dict:
    depot = {
        "name": "Depot",
        "vehicle_class": "rigid_26t",
        "charger_kw": 50.0,
        "pv_max_kw": 0.0,
        "path": FLEET,
        "vehicle_days_per_day": PER_DAY,
        "seed": 3,
    }
    return {**depot, **changes}


@pytest.fixture(scope="module")
def depot_run():
    data = small_scenario_dict()
    data["horizon"] = {"year": 2025, "start_month": 6, "months": 1, "step_minutes": 60}
    data["grid"] = {"tariff": TARIFF}
    data["policy"] = {}
    data["depots"] = [_depot()]
    return plan_scenario(scenario_from_dict(data, source="t.toml"), method="full")


def _depot_columns(run) -> pd.Index:
    veh = run.prepared.inputs.vehicles
    return veh.index[veh["station"] == "Depot"]


def test_every_shift_is_served_with_its_trip_energy(depot_run):
    run = depot_run
    bookings = run.prepared.assignment.bookings
    shifts = bookings[bookings["station"] == "Depot"]
    # June 2025 has 21 weekdays; each runs PER_DAY vehicle-days of fleet 1, each with all its shifts of the file
    day = shifts["start"].dt.date
    assert day.nunique() == 21
    assert (shifts.groupby(day)["vehicle_day_id"].nunique() == PER_DAY).all()
    in_file = read_nrel_vehicle_days(FLEET).groupby("vehicle_day_id").size()
    got = shifts.groupby([day, shifts["vehicle_day_id"].astype(int)]).size()
    assert (got.to_numpy() == in_file.reindex(got.index.get_level_values(1)).to_numpy()).all()
    assert shifts["vehicle_id"].notna().all()
    # trip energy = distance [km] x 0.92 kWh/km (rigid_26t, DEA), summed in the plan's per-vehicle series
    cols = _depot_columns(run)
    planned = run.prepared.inputs.trip_energy_kwh[cols].to_numpy().sum()
    assert planned == pytest.approx(shifts["distance_km"].sum() * vehicle_class("rigid_26t").kwh_per_km, rel=1e-9)


def test_every_vehicle_leaves_with_trip_energy_plus_reserve(depot_run):
    run = depot_run
    assert run.checks.passed, run.checks.table()
    inputs = run.prepared.inputs
    cols = _depot_columns(run)
    k = inputs.vehicles.index.get_indexer(cols)
    energy = np.asarray(run.solution.values["Vehicle-energy_kwh"])[:, k]
    trips = inputs.trip_energy_kwh[cols].to_numpy()
    reserve = inputs.vehicles.loc[cols, "reserve_kwh"].to_numpy()
    t, v = np.nonzero(trips > 0)
    before = energy[t - 1, v]  # t = 0 wraps to the last step: the vehicle energy is cyclic over the period
    shifts = run.prepared.assignment.bookings.query("station == 'Depot'")
    assert t.size == len(shifts)  # one departure step per shift
    assert (before - trips[t, v] - reserve[v]).min() >= -1e-6


def _constant_power_bound_kw(inputs, cols) -> tuple[float, pd.DataFrame]:
    """Peak of the sum over vehicles of each dwell's constant power [kW] (see the module docstring)."""
    plugged = inputs.plugged[cols].to_numpy(bool)
    trips = inputs.trip_energy_kwh[cols].to_numpy()
    eff = inputs.vehicles.loc[cols, "charge_efficiency"].to_numpy()
    dt = inputs.dt_hours
    starts = plugged & ~np.vstack([np.zeros((1, plugged.shape[1]), bool), plugged[:-1]])
    run = np.cumsum(starts, axis=0)  # dwell number of each plugged step (1, 2, ...)
    label = pd.DataFrame(np.where(plugged, run, np.nan)).ffill().shift(1).to_numpy()  # last dwell before each step
    last = run[-1]  # departures before the first dwell draw on the last one (cyclic)
    label = np.where(np.isnan(label), last[None, :], label).astype(int)
    t, v = np.nonzero(trips > 0)
    need = pd.Series(trips[t, v]).groupby([v, label[t, v]]).sum()  # [kWh] per (vehicle, dwell)
    steps = pd.Series(plugged[np.nonzero(plugged)]).groupby([np.nonzero(plugged)[1], run[np.nonzero(plugged)]]).size()
    power = need / (steps.reindex(need.index) * dt * eff[need.index.get_level_values(0)])  # [kW] at the plug
    tt, vv = np.nonzero(plugged)
    profile = np.zeros(plugged.shape)
    keys = pd.MultiIndex.from_arrays([vv, run[tt, vv]])
    profile[tt, vv] = power.reindex(keys).fillna(0.0).to_numpy()
    return float(profile.sum(axis=1).max()), power


def test_depot_peaks_no_higher_than_constant_power_charging(depot_run):
    run = depot_run
    inputs = run.prepared.inputs
    cols = _depot_columns(run)
    bound, power = _constant_power_bound_kw(inputs, cols)
    # the bound is feasible per vehicle (no dwell asks more than its 50 kW charger) and below every charger at once
    assert power.max() <= 50.0 + 1e-9
    assert bound < len(cols) * 50.0
    peak_charging = run.results.stations.loc["Depot", "peak_charging_kw"]
    peak_meter = run.results.sites.loc["Depot", "peak_demand_kw"]
    assert peak_charging <= bound * (1 + 1e-6) + 1e-6
    assert peak_meter <= bound * (1 + 1e-6) + 1e-6


def test_depot_cost_per_km_and_diesel_comparison(depot_run):
    run = depot_run
    tco = depot_tco(run.prepared.scenario, run.prepared.inputs, run.results, run.prepared.assignment)
    row = tco.loc["Depot"]
    served = run.prepared.assignment.bookings.query("station == 'Depot'")
    km = served["distance_km"].sum() * run.prepared.inputs.opex_scale
    assert row["km_per_year"] == pytest.approx(km, rel=1e-12)
    # the depot is its own site with no PV or storage: its electricity is the flat ¥30/kWh on what it imports plus
    # ¥1,500/kW/month x 12 months on its contract kW (the tariff above)
    site = run.results.sites.loc["Depot"]
    assert site["pv_kw"] == 0.0 and site["storage_kwh"] == 0.0
    bill = site["import_kwh_per_year"] * 30.0 + site["contract_kw"] * 1500.0 * 12
    assert row["electricity_jpy_per_year"] == pytest.approx(bill, rel=1e-6)
    # diesel: 30 l/100 km (rigid_26t) at the cited default ¥146.0/l (ANRE survey of 2025-12-15)
    assert row["diesel_fuel_jpy_per_year"] == pytest.approx(km * 30.0 / 100.0 * 146.0, rel=1e-9)
    assert row["bev_jpy_per_km"] == pytest.approx(row["bev_total_jpy_per_year"] / km, rel=1e-12)
    assert row["saving_jpy_per_year"] == pytest.approx(
        row["diesel_total_jpy_per_year"] - row["bev_total_jpy_per_year"], rel=1e-12
    )


def test_vehicle_days_are_laid_on_weekdays_without_repeats():
    shifts = read_nrel_vehicle_days(FLEET)
    days = working_days(
        pd.date_range("2025-06-01", "2025-06-08", freq="h", tz="Asia/Tokyo", inclusive="left"), "weekdays"
    )
    assert list(days.day) == [2, 3, 4, 5, 6]  # 1 and 7 June 2025 are Sunday and Saturday
    booked = lay_vehicle_days(shifts, days, per_day=4, seed=1, station="D")
    per_day = booked.groupby(booked["start"].dt.day)["vehicle_day_id"]
    assert (per_day.nunique() == 4).all()  # 4 distinct vehicle-days a day (a vehicle-day may have 2 shifts)
    # clock times are the file's: 07:57:32 to 19:24:55 for vehicle-day 1 on whatever day it was drawn
    first = shifts.set_index("vehicle_day_id").loc[1]
    got = booked[booked["vehicle_day_id"] == "1"]
    hours = (got["start"] - got["start"].dt.normalize()) / pd.Timedelta(hours=1)
    assert np.allclose(hours, first["start_h"])
    assert booked.equals(lay_vehicle_days(shifts, days, per_day=4, seed=1, station="D"))  # seeded


def test_unknown_vehicle_class_is_one_error_listing_the_classes():
    data = small_scenario_dict()
    data["depots"] = [_depot(vehicle_class="bus")]
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, source="t.toml")
    message = str(err.value)
    assert "depots.0.vehicle_class" in message or "depots[0].vehicle_class" in message
    assert "'bus' is not a vehicle class; the classes are " + ", ".join(vehicle_classes()) in message
    assert "Traceback" not in message


def test_report_has_one_depot_section_with_the_diesel_comparison(depot_run):
    run = depot_run
    html = render_report(run.prepared, run.results, run.checks, scenario_name="t", solve_seconds=1.0)
    assert html.count("<h2>Depots against diesel") == 1
    section = html.split("<h2>Depots against diesel", 1)[1].split("<h2>", 1)[0]
    assert "<td>Depot</td><td>rigid_26t</td>" in section
    assert '<td class="n">146</td>' in section  # the cited default diesel price, 146.0 JPY/l shown as :g


def test_car_sharing_figures_leave_out_the_depot(depot_run):
    run = depot_run
    bookings = run.prepared.assignment.bookings
    cars = bookings[(bookings["station"] != "Depot") & bookings["vehicle_id"].notna()]
    km = cars["distance_km"].sum() * run.prepared.inputs.opex_scale
    assert run.results.kpis.loc["km_per_year", "value"] == pytest.approx(km, rel=1e-12)


def test_outputs_carry_depots_csv(depot_run, tmp_path):
    run = depot_run
    out = write_outputs(
        tmp_path / "out", run.prepared, run.results, run.checks, scenario_text="", scenario_name="t", solve_seconds=1.0
    )
    table = pd.read_csv(out / "depots.csv", index_col="depot")
    assert list(table.index) == ["Depot"]
    assert table.loc["Depot", "peak_charging_kw"] == pytest.approx(
        run.results.stations.loc["Depot", "peak_charging_kw"]
    )


def test_depot_figure_sums_are_the_plans(depot_run):
    from chisan.report.depot import depot_figures, depot_sites

    run = depot_run
    assert depot_sites(run.prepared) == {"Depot": ["Depot"]}  # the depot is its own site (no sites.toml entry)
    ((week, month),) = depot_figures(run.prepared, run.results)
    bars = {trace.name: np.asarray(trace.y, float) for trace in month.data}
    assert list(month.data[0].x) == ["Jun 2025"]  # the one month of the horizon
    scale = run.prepared.inputs.opex_scale  # the per-year columns are the horizon's energy times this
    site = run.results.sites.loc["Depot"]
    station = run.results.stations.loc["Depot"]
    # [MWh] x 1000 = [kWh] over the horizon = the results' kWh per year / scale
    assert bars["Grid import"].sum() * 1000 == pytest.approx(site["import_kwh_per_year"] / scale, rel=1e-9)
    assert bars["Vehicle charging"].sum() * 1000 == pytest.approx(station["charging_kwh_per_year"] / scale, rel=1e-9)
    assert bars["PV"].sum() * 1000 == pytest.approx(site["pv_kwh_per_year"] / scale, abs=1e-9)
    # and the same from the per-vehicle charging and the site meter's column of the dispatch, summed by hand
    cols = _depot_columns(run)
    by_hand = run.results.vehicle_charge_kw[cols].to_numpy().sum() * run.prepared.inputs.dt_hours
    assert bars["Vehicle charging"].sum() * 1000 == pytest.approx(by_hand, rel=1e-9)
    imported = run.results.dispatch["site_import_kw:Depot"].to_numpy().sum() * run.prepared.inputs.dt_hours
    assert bars["Grid import"].sum() * 1000 == pytest.approx(imported, rel=1e-9)
    # the week: 7 x 24 hourly steps from a Monday, its charging the same hours of the plan
    lines = {trace.name: trace for trace in week.data}
    x = pd.DatetimeIndex(lines["Vehicle charging"].x)
    assert len(x) == 7 * 24 and x[0].dayofweek == 0 and x[0].hour == 0
    hours = run.results.vehicle_charge_kw.loc[x, cols].sum(axis=1).to_numpy()
    assert np.allclose(np.asarray(lines["Vehicle charging"].y, float), hours)
    # the figures are in the report, after the depot table
    html = render_report(run.prepared, run.results, run.checks, scenario_name="t", solve_seconds=1.0)
    section = html.split("<h2>Depots against diesel", 1)[1].split("<h2>", 1)[0]
    assert "site Depot (Depot): monthly energy" in section
    assert "site Depot (Depot): charging, PV and grid import" in section


def test_co2_avoided_compares_like_with_like(depot_run):
    """Each avoided-CO2 line by hand from the dispatch: the shared cars against private cars, the depot against
    diesel (its served km × the class's l/100 km × 2.62 kg CO2/l), local renewables as the grid avoided; the lines
    sum to the total, and the car-sharing line does not carry the depot's charging."""
    from chisan.economics.diesel import DIESEL_CO2_KG_PER_L

    run = depot_run
    inputs, res = run.prepared.inputs, run.results
    scale, dt = inputs.opex_scale, inputs.dt_hours
    ef = res.dispatch["emission_factor_kg_per_kwh"].to_numpy(float)
    cols = _depot_columns(run)
    depot_kw = res.vehicle_charge_kw[cols].sum(axis=1).to_numpy(float)
    shared_kw = res.vehicle_charge_kw.drop(columns=cols).sum(axis=1).to_numpy(float)
    kg = lambda kw: float((kw * ef).sum() * dt * scale)  # noqa: E731  [kg/year] = [kW] × [kg/kWh] × [h]
    sc = run.prepared.scenario
    base = sc.baseline
    km_cars = res.kpis.loc["km_per_year", "value"]
    if base.private_car_km_per_year > 0:  # the private cars not bought × their annual km
        km_private = res.kpis.loc["vehicles", "value"] * base.substitution_factor * base.private_car_km_per_year
    else:  # the shared km by private gasoline cars
        km_private = km_cars
    private_kg = km_private * base.ice_emission_g_per_km / 1000.0
    bookings = run.prepared.assignment.bookings
    depot_km = bookings[(bookings["station"] == "Depot") & bookings["vehicle_id"].notna()]["distance_km"].sum()
    diesel_kg = depot_km * scale * vehicle_class("rigid_26t").diesel_l_per_100km / 100.0 * DIESEL_CO2_KG_PER_L
    k = res.kpis["value"]
    assert k["co2_avoided_by_car_sharing_kg"] == pytest.approx(private_kg - kg(shared_kw), rel=1e-9)
    assert k["co2_avoided_by_depots_kg"] == pytest.approx(diesel_kg - kg(depot_kw), rel=1e-9)
    assert "co2_avoided_by_hydrogen_fleet_kg" not in k  # a town without hydrogen shows no hydrogen row
    imported = res.dispatch["grid_import_kw"].to_numpy(float)
    other = res.dispatch["other_load_kw"].to_numpy(float)
    grid_only = kg(shared_kw) + kg(depot_kw) + kg(other)
    assert k["co2_avoided_by_local_renewables_kg"] == pytest.approx(grid_only - kg(imported), rel=1e-9, abs=1e-6)
    parts = [f"co2_avoided_by_{p}_kg" for p in ("car_sharing", "depots", "local_renewables")]
    assert sum(k[p] for p in parts) == pytest.approx(k["co2_avoided_kg"], rel=1e-12)
    assert k["co2_avoided_by_car_sharing_kg"] > 0  # the depot's charging is no longer set against the shared cars


def test_key_figures_keep_car_sharing_and_depot_apart(depot_run):
    """Each key figure has one scope and says it: the chargers are the whole town's, with the depot's counted in
    their own row; the shared cars' charging stands next to the energy their trips took; the town's cost per km
    divides by the depot's km too."""
    from chisan.report.labels import KPI_LABELS, label, value_text

    run = depot_run
    res, inputs = run.results, run.prepared.inputs
    kpis, k = res.kpis, res.kpis["value"]
    depot = res.stations.loc["Depot"]
    assert k["depot_vehicles"] == depot["vehicles"] and k["depot_chargers"] == depot["chargers"]
    assert k["chargers"] == res.stations["chargers"].sum()  # every charger is costed (appraisal reads this row)
    assert f"{int(depot['chargers'])} at the depots" in kpis.loc["chargers", "definition"]
    cols = _depot_columns(run)
    to_kwh = inputs.dt_hours * inputs.opex_scale  # [kWh/year] per kW held over the horizon's steps
    shared_kwh = float(res.vehicle_charge_kw.drop(columns=cols).to_numpy().sum()) * to_kwh
    depot_kwh = float(res.vehicle_charge_kw[cols].to_numpy().sum()) * to_kwh
    assert k["car_sharing_charging_kwh_per_year"] == pytest.approx(shared_kwh, rel=1e-9)
    assert k["depot_charging_kwh_per_year"] == pytest.approx(depot_kwh, rel=1e-9)
    assert k["charging_kwh_per_year"] == pytest.approx(shared_kwh + depot_kwh, rel=1e-9)
    # the shared cars' trips against the shared cars' charging: an efficiency a car can have (≤ 100 %)
    assert 0.5 < k["trip_energy_kwh_per_year"] / k["car_sharing_charging_kwh_per_year"] <= 1.0
    assert "served bookings" in kpis.loc["trip_energy_kwh_per_year", "definition"]
    bookings = run.prepared.assignment.bookings
    served = bookings[bookings["vehicle_id"].notna()]
    depot_km = served.loc[served["station"] == "Depot", "distance_km"].sum() * inputs.opex_scale
    assert k["depot_km_per_year"] == pytest.approx(depot_km, rel=1e-12)
    assert k["cost_per_km"] == pytest.approx(k["total_cost_per_year"] / (k["km_per_year"] + depot_km), rel=1e-12)
    assert "co2_avoided_by_depots_kg" in k and "hydrogen_fleet_km_per_year" not in k
    assert label("bookings_served", KPI_LABELS) == "Car-sharing bookings served"
    assert value_text(k["depot_vehicles"], "vehicles") == (f"{int(depot['vehicles'])}", "vehicles")
