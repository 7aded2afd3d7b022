"""Second-life storage in the disaster mode's hours of shelter supply left (issue 12 point 5 follow-up, issue 11).

The town of :mod:`test_disaster_mode`: the shelter "Town hall" needs 2 kW; station A's two called cars give
21.6 kWh to it (2 × (0.8 − 0.2) × 20 kWh above reserve × 0.9 V2H), within 2 × 6 kW; 10.8 h alone. The town's
stationary storage, 12 kWh / 5 kW, is half full as the service assumes: 6 kWh × 0.95 = 5.7 kWh to the shelter.

Second-life packs, 40 kWh / 20 kW (c-rate 0.5) at a round trip of 0.81 (each way √0.81 = 0.9, as the planner
splits it, chisan.plan.second_life), half full like the storage: 20 kWh × 0.9 = 18 kWh to the shelter.
Hand-derived hours left, every source within its power of the 2 kW load, storage first, then second life, then
the cars: (5.7 + 18 + 21.6) kWh / 2 kW = 22.65 h (1,359 whole minutes).
"""

from __future__ import annotations

import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from dashboard_helpers import dashboard_dom
from service_helpers import NOW, make_client, migration_head, settings_for
from test_disaster_mode import SHELTER, disaster_town

from chisan.resilience.outage import OutageSources, simulate_outages
from chisan.service.core.db import Database, alembic_config, current_revision, migrate
from chisan.service.disaster import STEP_HOURS, hours_left_h, supply_steps
from chisan.service.main import create_app
from chisan.service.testing import ServerThread

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PACKS = {"second_life_kwh": 40.0, "second_life_kw": 20.0, "second_life_round_trip_efficiency_fraction": 0.81}


def test_second_life_packs_add_their_energy_to_the_hours_left(database_url):
    """Over the API on SQLite and PostgreSQL: the town's configuration takes the packs, the status counts them."""
    with make_client(database_url) as client:
        town = disaster_town(client)
        town.post(town.path, {"shelters": [SHELTER], "called_station_ids": [town.station_a]}, expect=200)
        r = client.patch("/api/v1/municipality", json={"storage_kwh": 12.0, "storage_kw": 5.0}, headers=town.headers)
        assert r.status_code == 200 and r.json()["second_life_kwh"] == 0.0, r.text
        before = town.get(town.path).json()
        assert before["second_life_energy_kwh"] == 0.0
        assert before["hours_of_supply_left_h"] == pytest.approx(13.65)  # (5.7 + 21.6) / 2, test_disaster_mode
        r = client.patch("/api/v1/municipality", json=PACKS, headers=town.headers)
        assert r.status_code == 200, r.text
        assert {k: r.json()[k] for k in PACKS} == PACKS
        out = town.get(town.path).json()
        assert out["second_life_energy_kwh"] == pytest.approx(18.0)  # 0.5 × 40 kWh × √0.81
        assert out["storage_energy_kwh"] == pytest.approx(5.7) and out["usable_energy_kwh"] == pytest.approx(21.6)
        assert out["hours_of_supply_left_h"] == pytest.approx(22.65)  # module docstring
        assert out["hours_of_supply_left_h"] - before["hours_of_supply_left_h"] == pytest.approx(18.0 / 2.0)
        # packs of 1 kW under the 2 kW load (no stationary storage): they give 1 kW for 18 h, the cars the other
        # 1 kW meanwhile (18 kWh of their 21.6), then the cars alone 3.6 kWh / 2 kW = 1.8 h: 19.8 h
        r = client.patch("/api/v1/municipality", json={"storage_kwh": 0.0, "second_life_kw": 1.0}, headers=town.headers)
        assert r.status_code == 200, r.text
        out = town.get(town.path).json()
        assert out["storage_energy_kwh"] == 0.0 and out["second_life_energy_kwh"] == pytest.approx(18.0)
        assert out["hours_of_supply_left_h"] == pytest.approx(19.8)
        # packs without power give nothing
        client.patch("/api/v1/municipality", json={"second_life_kw": 0.0}, headers=town.headers)
        out = town.get(town.path).json()
        assert out["second_life_energy_kwh"] == 0.0 and out["hours_of_supply_left_h"] == pytest.approx(10.8)


def test_a_wrong_round_trip_efficiency_is_named(sqlite_url):
    with make_client(sqlite_url) as client:
        town = disaster_town(client)
        for value in (0.0, 1.2, None):
            r = client.patch(
                "/api/v1/municipality",
                json={"second_life_round_trip_efficiency_fraction": value},
                headers=town.headers,
            )
            assert r.status_code == 422, r.text
            message = r.json()["message"]
            assert "second_life_round_trip_efficiency_fraction" in message and "Traceback" not in message
        r = client.patch("/api/v1/municipality", json={"second_life_kwh": -1.0}, headers=town.headers)
        assert r.status_code == 422 and "second_life_kwh" in r.json()["message"], r.text
        assert client.get("/api/v1/municipality", headers=town.headers).json()["second_life_kwh"] == 0.0


def test_packs_below_the_load_are_topped_up_by_the_storage_and_then_the_cars():
    """A 3 kW load; storage 2 kW holding 1 kWh (× 0.95 = 0.95 kWh); packs 0.5 kW holding 10 kWh (× 0.9 = 9 kWh);
    cars 21.6 kWh within 12 kW. By hand: storage 2 kW for 0.95 / 2 = 0.475 h = 28.5 min, packs 0.5 kW, cars 0.5 kW;
    then packs 0.5 kW and cars 2.5 kW until the packs are empty: they gave 0.475 × 0.5 = 0.2375 kWh, 8.7625 kWh
    left = 17.525 h more; the cars gave 0.2375 + 17.525 × 2.5 = 44.05 kWh > 21.6: they run out first, at
    0.475 + (21.6 − 0.2375) / 2.5 = 9.02 h = 541.2 min. Whole minutes: 541 → 9.0167 h."""
    above = [12.0, 12.0]
    got = hours_left_h(
        3.0,
        above,
        6.0,
        0.9,
        storage_start_kwh=1.0,
        storage_kw=2.0,
        second_life_start_kwh=10.0,
        second_life_kw=0.5,
        second_life_discharge_efficiency_fraction=0.9,
    )
    assert got == pytest.approx(541 / 60)


def test_the_supply_steps_are_the_outage_simulations():
    """One start of chisan.resilience.outage.simulate_outages (storage then cars, minute steps) gives the same
    whole steps as :func:`supply_steps` over random towns: loads, storage energy and power, cars."""
    rng = np.random.default_rng(12)
    for _ in range(40):
        load = float(rng.uniform(0.5, 15.0))
        storage_kwh, storage_kw = float(rng.uniform(0, 30)), float(rng.choice([0.0, rng.uniform(0.2, 12.0)]))
        cars = int(rng.integers(0, 4))
        above = float(rng.uniform(0, 20) * cars)
        one = np.zeros(1)
        sources = OutageSources(
            critical_load_kw=np.array([load]),
            pv_kw=one,
            storage_start_kwh=np.array([storage_kwh]),
            storage_kwh=storage_kwh,
            storage_kw=storage_kw,
            storage_charge_efficiency_fraction=1.0,
            storage_discharge_efficiency_fraction=0.95,
            parked_kwh=np.array([above]),
            parked_cars=np.array([float(cars)]),
            called_kwh=one,
            called_cars=one,
            v2h_kw_per_car=6.0,
            v2h_efficiency_fraction=0.9,
            dt_hours=STEP_HOURS,
        )
        reference = round(float(simulate_outages(sources, 48.0)[0]) / STEP_HOURS)
        steps = supply_steps(
            load,
            np.array([0.95 * storage_kwh, 0.9 * above]),
            np.array([storage_kw, 6.0 * cars]),
            STEP_HOURS,
            round(48.0 / STEP_HOURS),
        )
        assert steps == reference, (load, storage_kwh, storage_kw, cars, above)


def test_upgrade_to_0008_gives_every_town_no_packs_and_downgrade_removes_them(database_url):
    """0007 → a town → 0008: the town has 0 kWh / 0 kW of packs at the planner's default 0.85; back to 0007 the
    columns are gone and the town is still there; then the head again."""
    db = Database(database_url)
    try:
        migrate(db, "0007")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO municipalities (slug, name, timezone, latitude_deg, longitude_deg, pv_kw, storage_kwh, "
                "storage_kw, import_price_per_kwh, export_price_per_kwh, emission_factor_kg_per_kwh, "
                "carbon_price_per_kg, currency, feed_contact_email, created_at) VALUES ('old', 'Old town', "
                "'Asia/Tokyo', 35.0, 139.0, 0, 12, 5, 30, 0, 0.4535, 0, 'JPY', 'a@example.org', "
                "'2025-06-02 00:00:00')"
            )
        migrate(db, "0008")
        with db.engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT storage_kwh, second_life_kwh, second_life_kw, second_life_round_trip_efficiency_fraction "
                "FROM municipalities WHERE slug = 'old'"
            ).one()
        assert tuple(row) == (12.0, 0.0, 0.0, 0.85)
        assert current_revision(db) == "0008"
        from alembic import command

        with db.engine.begin() as conn:
            command.downgrade(alembic_config(db.url, conn), "0007")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("municipalities")}
        assert "second_life_kwh" not in columns and "storage_kwh" in columns
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM municipalities").scalar() == 1
        migrate(db)
        assert current_revision(db) == migration_head()
    finally:
        db.dispose()


def test_dashboard_shows_each_sources_energy_and_the_hours(tmp_path, chromium):
    """Debian's headless chromium renders the disaster line with every source the hours count, with units.

    By hand (module docstring): cars 21.6 kWh, storage 5.7 kWh, packs of 42 kWh half full × √0.81 = 18.9 kWh;
    46.2 kWh at 2 kW = 23.1 h (1,386 whole minutes)."""
    app = create_app(
        settings_for(f"sqlite:///{tmp_path / 'c.db'}"), clock=lambda: NOW, start_ocpp=False, start_scheduler=False
    )
    with ServerThread(app) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
        town = disaster_town(client)
        body = {"storage_kwh": 12.0, "storage_kw": 5.0} | PACKS | {"second_life_kwh": 42.0}
        assert client.patch("/api/v1/municipality", json=body, headers=town.headers).status_code == 200
        town.post(town.path, {"shelters": [SHELTER], "called_station_ids": [town.station_a]}, expect=200)
        dom = dashboard_dom(chromium, server.base_url, town.key, tmp_path / "profile")
    line = dom.by_id("disaster-energy")
    text = " ".join(line["text"].split())
    assert text == (
        "Energy for the shelters: cars 21.6 kWh + storage 5.7 kWh + second-life storage 18.9 kWh = 46.2 kWh, "
        "at 2.00 kW: 23.1 h"
    )
    assert float(line["attrs"]["data-cars-kwh"]) == pytest.approx(21.6)
    assert float(line["attrs"]["data-storage-kwh"]) == pytest.approx(5.7)
    assert float(line["attrs"]["data-second-life-kwh"]) == pytest.approx(18.9)
    assert float(dom.by_id("disaster")["attrs"]["data-hours-left"]) == pytest.approx(23.1)
    assert "Hours of shelter supply left: 23.1 h" in " ".join(dom.by_id("disaster")["text"].split())
