"""The schema comes only from Alembic, matches the models, and guards booking overlaps in the database itself."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from chisan.service import models
from chisan.service.core.db import Database, current_revision, migrate
from chisan.service.models import DATABASE_ONLY_OBJECTS, Base

T0 = dt.datetime(2025, 6, 2, 1, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def _migrated(url: str) -> Database:
    db = Database(url)
    migrate(db)
    return db


def test_models_match_migration_head(database_url):
    """Autogenerate against the migrated database finds nothing to do: the models are the migration head."""
    db = _migrated(database_url)
    try:
        assert current_revision(db) == "0004"
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_object": lambda obj, name, type_, reflected, compare_to: name not in DATABASE_ONLY_OBJECTS,
                },
            )
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
        # and every table of the models exists (nothing was created from the models: the service never calls
        # create_all, so the tables can only have come from the migration)
        names = set(sa.inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= names
    finally:
        db.dispose()


def test_migrate_is_idempotent(sqlite_url):
    db = _migrated(sqlite_url)
    migrate(db)  # a restart applies nothing new and does not fail
    assert current_revision(db) == "0004"
    db.dispose()


def _town(db: Database) -> int:
    with db.session() as s:
        m = models.Municipality(slug="x", name="X", latitude_deg=35.0, longitude_deg=139.0)
        s.add(m)
        s.flush()
        st = models.Station(municipality_id=m.id, name="S", latitude_deg=35.0, longitude_deg=139.0)
        s.add(st)
        s.flush()
        v = models.Vehicle(
            municipality_id=m.id,
            station_id=st.id,
            name="car",
            model="nissan_sakura",
            usable_kwh=19.0,
            reserve_kwh=1.9,
            max_charge_kw=3.0,
            charge_efficiency=0.9,
            consumption_kwh_per_km=0.11,
            soc_fraction=1.0,
            soc_measured_at=T0,
        )
        s.add(v)
        s.flush()
        return v.id


def _booking(vehicle_id: int, start: dt.datetime, end: dt.datetime, status: str = "confirmed") -> models.Booking:
    return models.Booking(
        municipality_id=1,
        vehicle_id=vehicle_id,
        start_at=start,
        end_at=end,
        distance_km=10.0,
        trip_energy_kwh=1.0,
        status=status,
    )


def test_database_refuses_overlapping_bookings(database_url):
    """Inserted directly through the ORM (no admission code at all), an overlap is refused by the database.

    [1 h, 3 h) and [2 h, 4 h) overlap; [3 h, 4 h) only touches [1 h, 3 h) (half-open intervals) and is allowed;
    a cancelled booking does not hold its slot; moving a booking onto another one is refused too.
    """
    db = _migrated(database_url)
    try:
        vid = _town(db)
        with db.session() as s:
            s.add(_booking(vid, T0 + H, T0 + 3 * H))
        with pytest.raises(IntegrityError) as err, db.session() as s:
            s.add(_booking(vid, T0 + 2 * H, T0 + 4 * H))
        assert "overlap" in str(err.value).lower() or "exclusion" in str(err.value).lower()
        with db.session() as s:
            s.add(_booking(vid, T0 + 3 * H, T0 + 4 * H))  # touching is not overlapping
            s.add(_booking(vid, T0 + 2 * H, T0 + 5 * H, status="cancelled"))
        with pytest.raises(IntegrityError), db.session() as s:
            b = s.scalars(sa.select(models.Booking).where(models.Booking.start_at == T0 + 3 * H)).one()
            b.start_at = T0 + 2 * H  # now [2 h, 4 h) overlaps [1 h, 3 h)
        with pytest.raises(IntegrityError), db.session() as s:
            b = s.scalars(sa.select(models.Booking).where(models.Booking.status == "cancelled")).one()
            b.status = "confirmed"  # re-activating a cancelled overlapping booking
        with db.session() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(models.Booking)) == 3
    finally:
        db.dispose()


def test_database_serialises_parallel_overlapping_inserts(database_url):
    """Eight threads, each with its own connection, insert bookings of one car that all overlap at 2 h: the
    database lets exactly one through, whatever the interleaving."""
    db = _migrated(database_url)
    try:
        vid = _town(db)
        barrier = threading.Barrier(8)
        outcomes: list[str] = []
        lock = threading.Lock()

        def worker(k: int) -> None:
            barrier.wait()
            try:
                with db.session() as s:
                    s.add(_booking(vid, T0 + H + k * dt.timedelta(minutes=5), T0 + 3 * H))
                result = "ok"
            except IntegrityError:
                result = "refused"
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["ok"] + ["refused"] * 7
        with db.session() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(models.Booking)) == 1
    finally:
        db.dispose()


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        models.UTCDateTime().process_bind_param(dt.datetime(2025, 1, 1), sa.create_engine("sqlite://").dialect)


def test_upgrade_keeps_data_and_downgrade_reverts(database_url):
    """0001 → rows → 0002 (OCPP 2.0.1 transaction names): the rows survive, including a session that meter samples
    refer to; 0002 → 0001 removes the column again; and back to the head."""
    db = Database(database_url)
    try:
        migrate(db, "0001")
        vid = _town(db)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO chargers (municipality_id, station_id, ocpp_id, max_power_kw, connectors, status, "
                "created_at) VALUES (1, 1, 'CP', 3.0, 1, 'Available', '2025-06-02 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO charging_sessions (municipality_id, charger_id, connector_id, vehicle_id, id_tag, status, "
                f"meter_start_wh, meter_last_wh, started_at) VALUES (1, 1, 1, {vid}, 'T', 'active', 5, 7, "
                "'2025-06-02 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO meter_samples (municipality_id, charger_id, connector_id, session_id, sampled_at, "
                "energy_wh) VALUES (1, 1, 1, 1, '2025-06-02 00:10:00', 7)"
            )
        migrate(db)
        assert current_revision(db) == "0004"
        with db.session() as s:
            row = s.get(models.ChargingSession, 1)
            assert (row.meter_start_wh, row.meter_last_wh, row.transaction_ref) == (5.0, 7.0, None)
            row.transaction_ref = "TX-1"
            s.add(
                models.ChargingSession(
                    municipality_id=1,
                    charger_id=1,
                    connector_id=1,
                    id_tag="T",
                    status="active",
                    meter_start_wh=0.0,
                    meter_last_wh=0.0,
                    started_at=T0,
                )
            )
        with pytest.raises(IntegrityError), db.session() as s:  # a station names each transaction once
            s.add(
                models.ChargingSession(
                    municipality_id=1,
                    charger_id=1,
                    connector_id=1,
                    id_tag="T",
                    status="active",
                    meter_start_wh=0.0,
                    meter_last_wh=0.0,
                    started_at=T0,
                    transaction_ref="TX-1",
                )
            )
        from alembic import command

        from chisan.service.core.db import alembic_config

        with db.engine.begin() as conn:
            command.downgrade(alembic_config(db.url, conn), "0001")
        assert current_revision(db) == "0001"
        assert "transaction_ref" not in {c["name"] for c in sa.inspect(db.engine).get_columns("charging_sessions")}
        migrate(db)
        with db.session() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(models.MeterSample)) == 1
            assert s.scalar(sa.select(sa.func.count()).select_from(models.ChargingSession)) == 2
    finally:
        db.dispose()


def test_processes_starting_together_migrate_once(database_url):
    """Three services starting at once on an empty database: each applies the migrations or finds them applied
    (PostgreSQL: an advisory lock; SQLite: the write lock), none fails."""
    dbs = [Database(database_url) for _ in range(3)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def start(db: Database) -> None:
        barrier.wait()
        try:
            migrate(db)
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=start, args=(db,)) for db in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert {current_revision(db) for db in dbs} == {"0004"}
    finally:
        for db in dbs:
            db.dispose()


def test_throwaway_cluster_takes_server_settings_and_logs_slow_statements(pg):
    """The benchmark's cluster is started with extra server settings; here: log every statement (threshold 0 ms)
    and find a COMMIT with its duration in the cluster's log, as bench_service.py reads it."""
    from chisan.service.testing import postgres_cluster

    with postgres_cluster(settings={"log_min_duration_statement": "0"}) as cluster:
        engine = sa.create_engine(cluster.url())
        try:
            with engine.begin() as connection:
                assert connection.exec_driver_sql("SHOW log_min_duration_statement").scalar() == "0"
                connection.exec_driver_sql("SELECT 1")
        finally:
            engine.dispose()
        log = cluster.log_path.read_text()
    assert "statement: COMMIT" in log and "duration:" in log
