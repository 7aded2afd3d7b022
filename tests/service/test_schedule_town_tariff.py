"""The rolling schedule prices the town at the scenario's ``grid.tariff``, for both topologies (stop 22).

A town of two stations, one Nissan Sakura each on one 3 kW charger, started from its scenario, on an inline tariff
(JP calendar, levies 3.98 − 1.00 = 2.98 JPY/kWh on every band):

- summer (June–September), weekdays: night 00–08 ¥18, day 08–13 ¥30, peak 13–16 ¥45, day 16–22 ¥30, night 22–24 ¥18;
  Saturdays and holidays: 00–08 ¥18, 08–24 ¥22;
- the rest of the year: ¥25 all day.

The schedule runs at 09:00 JST on Monday 21 July 2025, Marine Day (海の日, a national holiday in ``jpholiday``), for
36 h to 21:00 on Tuesday 22 July. By hand, the import price [JPY/kWh] is then: Monday 14:00 (holiday, 08–24 band)
22 + 2.98 = 24.98; Tuesday 14:00 (weekday peak band) 45 + 2.98 = 47.98; Tuesday 03:00 (night) 18 + 2.98 = 20.98.
Before stop 22 the service ignored ``grid.tariff`` and priced every step at the flat ¥30 of ``[grid]``.

Each car is at 20 % and booked for 40 km at 20:00 on Tuesday (as ``test_schedule_site_tariffs``): it needs
(4.464 + 1.9 − 3.8) / 0.9 = 2.8489 kWh from the plug, by 20:00 Tuesday, 35 h after the schedule's start.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from service_helpers import JST, make_client

from chisan.scenario.load import load_scenario
from chisan.service import models
from chisan.service.errors import FieldError
from chisan.service.site_prices import check_town_tariffs

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

START = dt.datetime(2025, 7, 21, 9, 0, tzinfo=JST)
"""Marine Day 2025, 09:00 JST."""
NEED_KWH = (4.464 + 1.9 - 3.8) / 0.9
"""Energy from the plug each car needs before its booking [kWh] (module docstring)."""
LEVIES = 3.98 - 1.00


def _band(a: int, b: int, price: float, days: str) -> str:
    return f'{{ name = "b{a}-{b}", start_hour = {a}, end_hour = {b}, price_jpy_per_kwh = {price}, day_types = {days} }}'


def _tariff(contract: str, basic: float, currency: str = "JPY") -> str:
    week, rest = '["weekday"]', '["saturday", "holiday"]'
    summer = [
        _band(0, 8, 18.0, week),
        _band(8, 13, 30.0, week),
        _band(13, 16, 45.0, week),
        _band(16, 22, 30.0, week),
        _band(22, 24, 18.0, week),
        _band(0, 8, 18.0, rest),
        _band(8, 24, 22.0, rest),
    ]
    text = (
        f'[grid.tariff]\nname = "summer_tou"\ncurrency = "{currency}"\nrenewable_levy_jpy_per_kwh = 3.98\n'
        f"fuel_cost_adjustment_jpy_per_kwh = -1.0\nbasic_charge_jpy_per_kw_month = {basic}\n"
        f"contract = {contract}\n"
        f'[[grid.tariff.seasons]]\nname = "summer"\nmonths = [6, 7, 8, 9]\nbands = [{", ".join(summer)}]\n'
        '[[grid.tariff.seasons]]\nname = "rest"\nmonths = [1, 2, 3, 4, 5, 10, 11, 12]\n'
        "bands = [{ start_hour = 0, end_hour = 24, price_jpy_per_kwh = 25.0 }]\n"
    )
    if currency != "JPY":
        text = text.replace("_jpy_", f"_{currency.lower()}_")
    return text


def scenario(topology: str, contract: str = '{ kind = "fixed", contract_kw = 50.0 }', basic: float = 1000.0) -> str:
    return (
        '[municipality]\nname = "Touville"\nlatitude_deg = 35.7\nlongitude_deg = 139.7\npopulation = 5000\n\n'
        f'[grid]\ntopology = "{topology}"\nimport_price_per_kwh = 30.0\n'
        + _tariff(contract, basic)
        + '\n[[stations]]\nname = "North"\nlatitude_deg = 35.71\nlongitude_deg = 139.70\nvehicles = 1\n'
        "chargers = 1\ncharger_kw = 3.0\n\n"
        '[[stations]]\nname = "South"\nlatitude_deg = 35.69\nlongitude_deg = 139.70\nvehicles = 1\nchargers = 1\n'
        "charger_kw = 3.0\n"
    )


def _schedule(folder, url: str, text: str, contract_kw: float | None = None) -> tuple[int, dict]:
    """The town of ``text`` from its scenario, each car at 20 % and booked at 20:00 Tuesday; POST /schedules.
    ``contract_kw`` sets the town meter's contract so far [kW] first (in the database, as earlier schedules or the
    plan would have)."""
    path = folder / "touville.toml"
    path.write_text(text, encoding="utf-8")
    now = START.astimezone(dt.UTC)
    with make_client(url, scenario_path=path, clock=lambda: now) as client:
        headers = {"X-API-Key": client.app.state.scenario_key}
        if contract_kw is not None:
            with client.app.state.database.session() as s:
                s.execute(sa.update(models.Municipality).values(contract_kw=contract_kw))
                s.commit()
        for car in client.get("/api/v1/vehicles", headers=headers).json():
            r = client.post(
                f"/api/v1/vehicles/{car['id']}/telemetry",
                json={"soc_fraction": 0.2, "measured_at": now.isoformat()},
                headers=headers,
            )
            assert r.status_code == 200, r.text
            start = START.replace(day=22, hour=20)
            body = {
                "vehicle_id": car["id"],
                "start_at": start.isoformat(),
                "end_at": (start + dt.timedelta(hours=2)).isoformat(),
                "distance_km": 40,
            }
            r = client.post("/api/v1/bookings", json=body, headers=headers)
            assert r.status_code == 201, r.text
        r = client.post("/api/v1/schedules", headers=headers)
        with client.app.state.database.session() as s:
            contracts = {"town": s.scalar(sa.select(models.Municipality.contract_kw))}
            contracts |= dict(s.execute(sa.select(models.Station.name, models.Station.contract_kw)).all())
    return r.status_code, r.json() | {"contracts_kw": contracts}


def _steps(schedule: dict) -> pd.DatetimeIndex:
    return pd.date_range(schedule["start_at"], periods=schedule["n_steps"], freq="15min").tz_convert("Asia/Tokyo")


def _at(schedule: dict, day: int, hour: int) -> float:
    steps = _steps(schedule)
    return schedule["import_price_per_kwh"][int(np.flatnonzero((steps.day == day) & (steps.hour == hour))[0])]


@pytest.mark.parametrize("topology", ["single_meter", "per_site"])
def test_peak_band_and_holiday_are_priced_from_the_towns_tariff(tmp_path, sqlite_url, topology):
    code, schedule = _schedule(tmp_path, sqlite_url, scenario(topology))
    assert code == 201 and schedule["verified"], schedule
    assert _at(schedule, 22, 14) == pytest.approx(45.0 + LEVIES)  # Tuesday, weekday peak band: 47.98
    assert _at(schedule, 21, 14) == pytest.approx(22.0 + LEVIES)  # Marine Day: the holiday band, 24.98
    assert _at(schedule, 22, 3) == pytest.approx(18.0 + LEVIES)  # Tuesday night: 20.98
    assert "grid.tariff 'summer_tou'" in schedule["message"]


def test_single_meter_town_charges_in_the_tariffs_cheap_band(tmp_path, sqlite_url):
    """All of both cars' 2 × 2.8489 kWh falls on Tuesday 00:00–08:00 (¥20.98, the cheapest band in the horizon),
    costing 2 × 2.8489 × 20.98 = ¥119.54; at the flat ¥30 the whole horizon cost the same."""
    code, schedule = _schedule(tmp_path, sqlite_url, scenario("single_meter"))
    assert code == 201 and schedule["method"] == "optimal" and schedule["verified"], schedule
    steps = _steps(schedule)
    grid = np.array(schedule["grid_import_kw"])
    cheap = (steps.day == 22) & (steps.hour < 8)
    assert grid.sum() * 0.25 == pytest.approx(2 * NEED_KWH, abs=1e-3)
    assert np.abs(grid[~cheap]).max() == pytest.approx(0.0, abs=1e-6)
    price = np.array(schedule["import_price_per_kwh"])
    assert (grid * price).sum() * 0.25 == pytest.approx(2 * 2.8489 * 20.98, abs=1e-2)


def test_fixed_contract_caps_the_single_meters_import(tmp_path, sqlite_url):
    """A fixed contract of 0.5 kW (the breaker): the cheap band holds 0.5 kW × 8 h = 4 kWh, the other 1.6978 kWh
    go to the next cheapest band, Marine Day 09:00–24:00 (¥24.98); never above 0.5 kW."""
    code, schedule = _schedule(tmp_path, sqlite_url, scenario("single_meter", '{ kind = "fixed", contract_kw = 0.5 }'))
    assert code == 201 and schedule["verified"], schedule
    steps = _steps(schedule)
    grid = np.array(schedule["grid_import_kw"])
    assert grid.max() <= 0.5 + 1e-6
    cheap = (steps.day == 22) & (steps.hour < 8)
    assert grid[cheap].sum() * 0.25 == pytest.approx(4.0, abs=1e-3)
    assert grid[steps.day == 21].sum() * 0.25 == pytest.approx(2 * NEED_KWH - 4.0, abs=1e-3)


@pytest.mark.parametrize(("topology", "meters"), [("single_meter", 1), ("per_site", 2)])
def test_peak_demand_basic_charge_flattens_each_meters_demand(tmp_path, sqlite_url, topology, meters):
    """Basic charge ¥1,000/kW/month on the highest 30-minute demand: one more kW costs ¥12,000, far more than the
    ¥27 a kWh saves between bands, so each meter draws its cars' energy evenly over the 35 h before the booking:
    single meter 2 × 2.8489 / 35 = 0.16280 kW, each station's meter 2.8489 / 35 = 0.08140 kW."""
    code, schedule = _schedule(tmp_path, sqlite_url, scenario(topology, '{ kind = "peak_demand" }'))
    assert code == 201 and schedule["method"] == "optimal" and schedule["verified"], schedule
    assert "basic charge on the highest 30-minute demand" in schedule["message"]
    per_meter = 2 * NEED_KWH / meters / 35.0
    if meters == 1:
        demand = np.array(schedule["grid_import_kw"]).reshape(-1, 2).mean(axis=1)
        assert demand.max() == pytest.approx(per_meter, abs=1e-4)
    for row in schedule["stations"]:
        demand = np.array(row["charge_kw"]).reshape(-1, 2).mean(axis=1)
        assert np.array(row["charge_kw"]).sum() * 0.25 == pytest.approx(NEED_KWH, abs=1e-3)
        if meters == 2:
            assert demand.max() == pytest.approx(per_meter, abs=1e-4)
    # the first half hour drew the flat demand: it is each meter's contract now, carried to the next schedule
    contracts = schedule["contracts_kw"]
    if meters == 1:
        assert contracts == pytest.approx({"town": per_meter, "North": 0.0, "South": 0.0}, abs=1e-4)
    else:
        assert contracts == pytest.approx({"town": 0.0, "North": per_meter, "South": per_meter}, abs=1e-4)


def test_a_contract_already_set_is_filled_at_no_basic_charge_in_the_cheap_band(tmp_path, sqlite_url):
    """The single meter's contract is already 1 kW (earlier schedules drew it): up to 1 kW costs no more basic
    charge, and the cheap band (Tuesday 00:00–08:00) needs only 2 × 2.8489 / 8 = 0.712 kW on average, so all the
    charging goes there again, at most 1 kW a half hour, and the contract stays at 1 kW (the first half hour,
    09:00 Monday, draws nothing)."""
    code, schedule = _schedule(tmp_path, sqlite_url, scenario("single_meter", '{ kind = "peak_demand" }'), 1.0)
    assert code == 201 and schedule["method"] == "optimal" and schedule["verified"], schedule
    grid = np.array(schedule["grid_import_kw"])
    steps = _steps(schedule)
    cheap = (steps.day == 22) & (steps.hour < 8)
    assert grid.sum() * 0.25 == pytest.approx(2 * NEED_KWH, abs=1e-3)
    assert np.abs(grid[~cheap]).max() == pytest.approx(0.0, abs=1e-6)
    assert grid.reshape(-1, 2).mean(axis=1).max() <= 1.0 + 1e-6
    assert schedule["contracts_kw"]["town"] == pytest.approx(1.0)


def test_a_tariff_in_another_currency_is_one_clear_message_not_a_5xx(tmp_path, sqlite_url):
    text = scenario("single_meter").replace(_tariff('{ kind = "fixed", contract_kw = 50.0 }', 1000.0), "")
    text = text.replace("import_price_per_kwh = 30.0\n", "import_price_per_kwh = 30.0\n" + _tariff("{}", 0.0, "CNY"))
    code, body = _schedule(tmp_path, sqlite_url, text)
    assert code == 422, body
    message = body["message"]
    assert message.startswith("grid.tariff") and "CNY" in message and "finance.currency = 'JPY'" in message
    assert "choose a tariff priced in JPY" in message and "Error" not in message
    path = tmp_path / "touville.toml"
    with pytest.raises(FieldError, match=r"grid\.tariff 'summer_tou' is priced in CNY"):
        check_town_tariffs(load_scenario(path), pd.Timestamp(START), "Asia/Tokyo")
    # `chisan serve --scenario` stops before starting, with the same one line
    from typer.testing import CliRunner

    from chisan.cli import app as cli_app

    result = CliRunner().invoke(cli_app, ["serve", "--scenario", str(path), "--port", "0"])
    assert result.exit_code == 2, result.output
    assert "error: grid.tariff 'summer_tou' is priced in CNY but finance.currency = 'JPY'" in result.output
    assert "Traceback" not in result.output


def test_demand_intervals_lie_on_the_meters_half_hours():
    """A 15-minute schedule from 09:15 starts one step into the meter's 09:00–09:30 interval: its first interval's
    demand is (its first step's import) / 2 — 4 kW for 15 min in a half hour is 2 kW; from 09:00 it is the mean of
    the first two steps, (4 + 2) / 2 = 3 kW."""
    from types import SimpleNamespace

    from chisan.service.scheduler import demand_offset_steps, first_interval_demand_kw

    at = {
        m: SimpleNamespace(snapshots=pd.date_range(START.replace(minute=m), periods=4, freq="15min"), dt_hours=0.25)
        for m in (0, 15)
    }
    grid = np.array([[4.0], [2.0], [0.0], [0.0]])
    assert demand_offset_steps(at[15]) == 1 and demand_offset_steps(at[0]) == 0
    assert first_interval_demand_kw(at[15], grid)[0] == pytest.approx(2.0)
    assert first_interval_demand_kw(at[0], grid)[0] == pytest.approx(3.0)


def test_upgrade_to_0009_gives_every_meter_no_contract_and_downgrade_removes_it(database_url):
    """0008 → a town and a station → 0009: both start at 0 kW; back to 0008 the columns are gone, the rows kept."""
    from alembic import command
    from service_helpers import migration_head

    from chisan.service.core.db import Database, alembic_config, current_revision, migrate

    db = Database(database_url)
    try:
        migrate(db, "0008")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO municipalities (slug, name, timezone, latitude_deg, longitude_deg, pv_kw, storage_kwh, "
                "storage_kw, import_price_per_kwh, export_price_per_kwh, emission_factor_kg_per_kwh, "
                "carbon_price_per_kg, currency, feed_contact_email, created_at) VALUES ('old', 'Old town', "
                "'Asia/Tokyo', 35.0, 139.0, 0, 0, 0, 30, 0, 0.4535, 0, 'JPY', 'a@example.org', '2025-06-02 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO stations (municipality_id, name, latitude_deg, longitude_deg, charger_kw, created_at) "
                "SELECT id, 'Base', 35.0, 139.0, 6.0, '2025-06-02 00:00:00' FROM municipalities"
            )
        migrate(db)
        assert current_revision(db) == migration_head() == "0009"
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT contract_kw FROM municipalities").scalar() == 0.0
            assert conn.exec_driver_sql("SELECT contract_kw FROM stations").scalar() == 0.0
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(db.url, conn), "0008")
        for table in ("municipalities", "stations"):
            assert "contract_kw" not in {c["name"] for c in sa.inspect(db.engine).get_columns(table)}
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM stations").scalar() == 1
    finally:
        db.dispose()


def test_a_sites_fixed_contract_is_shared_by_its_stations_in_proportion_to_their_power(tmp_path, sqlite_url):
    """North (one 3 kW charger) and South (two) behind one declared site "Campus", one meter on the town's tariff
    with a fixed contract of 1 kW: North may draw 1 × 3 / 9 = 0.3333 kW and South 0.6667 kW, together never more
    than the contract. South's 2.8489 kWh fit in the cheap band (0.6667 × 8 h = 5.33 kWh); North's cheap band holds
    0.3333 × 8 = 2.6667 kWh and the other 0.1823 kWh go to the next cheapest, Marine Day from 09:00 (¥24.98)."""
    text = scenario("per_site", '{ kind = "fixed", contract_kw = 1.0 }').replace(
        "charger_kw = 3.0\n", 'charger_kw = 3.0\nsite = "Campus"\n'
    )
    head, south = text.split('name = "South"')
    text = head + 'name = "South"' + south.replace("chargers = 1", "chargers = 2") + '\n[[sites]]\nname = "Campus"\n'
    code, schedule = _schedule(tmp_path, sqlite_url, text)
    assert code == 201 and schedule["method"] == "optimal" and schedule["verified"], schedule
    names = {"North": 0, "South": 1}
    steps = _steps(schedule)
    cheap = (steps.day == 22) & (steps.hour < 8)
    rows = sorted(schedule["stations"], key=lambda r: r["station_id"])
    north, south = (np.array(rows[names[x]]["charge_kw"]) for x in ("North", "South"))
    # the stored schedule keeps 4 decimals [kW]
    assert north.max() == pytest.approx(1.0 / 3.0, abs=1e-4) and south.max() <= 2.0 / 3.0 + 1e-4
    assert (north + south).max() <= 1.0 + 1e-4
    assert south[cheap].sum() * 0.25 == pytest.approx(NEED_KWH, abs=1e-3)
    assert north[cheap].sum() * 0.25 == pytest.approx(8.0 / 3.0, abs=1e-3)
    assert north[steps.day == 21].sum() * 0.25 == pytest.approx(NEED_KWH - 8.0 / 3.0, abs=1e-3)
