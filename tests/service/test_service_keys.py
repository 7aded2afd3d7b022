"""API keys: scopes on every route, expiry, revocation, the town's last admin key, the service admin's view, the
migration of existing keys, and the OpenAPI's description of the credentials (SQLite and PostgreSQL).

Which scope each route needs is written out here from the issue (issue 10, point 5), independently of the code:
``read`` for every GET; ``operate`` for bookings and their changes, members, vehicle telemetry, schedules and the
PV forecast; ``town_admin`` for API keys, stations, chargers, vehicles and the town's settings. Each scope includes
the ones before it.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from service_helpers import ADMIN, NOW, jst, make_client, make_town

from chisan.service import models
from chisan.service.core.db import Database, current_revision, migrate

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

OPERATE_ROUTES = {
    ("POST", "/api/v1/bookings"),
    ("PATCH", "/api/v1/bookings/{booking_id}"),
    ("POST", "/api/v1/bookings/{booking_id}/cancel"),
    ("POST", "/api/v1/bookings/{booking_id}/late-return"),
    ("POST", "/api/v1/bookings/{booking_id}/return"),
    ("POST", "/api/v1/members"),
    ("PATCH", "/api/v1/members/{member_id}"),
    ("DELETE", "/api/v1/members/{member_id}"),
    ("POST", "/api/v1/vehicles/{vehicle_id}/telemetry"),
    ("POST", "/api/v1/schedules"),
    ("PUT", "/api/v1/forecast/pv"),
}
ADMIN_GET_ROUTES = {("GET", "/api/v1/api-keys")}  # listing keys is key management, not reading the town's data
LOWER = {"operate": "read", "town_admin": "operate"}


def expected_scope(method: str, path: str) -> str:
    if (method, path) in ADMIN_GET_ROUTES:
        return "town_admin"
    if method == "GET":
        return "read"
    return "operate" if (method, path) in OPERATE_ROUTES else "town_admin"


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def town(database_url):
    clock = Clock(NOW)
    with make_client(database_url, clock=clock) as client:
        t = make_town(client, "kagi")
        t.clock = clock
        yield t


def new_key(town, scopes, expect=201, **body):
    return town.post("/api/v1/api-keys", {"name": "+".join(scopes), "scopes": scopes, **body}, expect=expect).json()


def as_key(town, key: str, method: str, path: str, json=None):
    return town.client.request(method, path, json=json, headers={"X-API-Key": key})


def operations(client) -> list[tuple[str, str, dict]]:
    spec = client.get("/openapi.json").json()
    return [(m.upper(), p, op) for p, item in spec["paths"].items() for m, op in item.items()]


def concrete(path: str) -> str:
    for word in ("station_id", "charger_id", "vehicle_id", "member_id", "booking_id", "schedule_id", "key_id"):
        path = path.replace("{" + word + "}", "999999")
    return path.replace("{municipality_id}", "999999")


# --- scopes


def test_every_route_declares_the_scope_the_issue_gives_it(town):
    ops = [(m, p, op) for m, p, op in operations(town.client) if p.startswith("/api/v1/")]
    assert len(ops) >= 45
    for method, path, op in ops:
        if path.startswith("/api/v1/admin/"):
            assert op["security"] == [{"AdminToken": []}], (method, path)
        else:
            assert op["security"] == [{"ApiKey": [expected_scope(method, path)]}], (method, path)


def test_a_key_without_the_scope_is_refused_naming_it(town):
    """Every tenant route, called with a key one scope short of what it needs: 403 naming the scope; with a key
    that has it, anything but 401/403 (the ids do not exist: 404 or 422 are fine)."""
    keys = {s: new_key(town, [s])["key"] for s in ("read", "operate")}
    keys["town_admin"] = town.key
    checked = 0
    for method, path, _op in operations(town.client):
        if not path.startswith("/api/v1/") or path.startswith("/api/v1/admin/"):
            continue
        needed = expected_scope(method, path)
        body = {} if method in ("POST", "PUT", "PATCH") else None
        if needed in LOWER:
            r = as_key(town, keys[LOWER[needed]], method, concrete(path), body)
            assert r.status_code == 403, (method, path, r.text)
            message = r.json()["message"]
            assert f"'{needed}' scope" in message and f"{method} {concrete(path)} needs" in message
            assert r.json()["detail"][0]["type"] == "insufficient_scope"
            checked += 1
        r = as_key(town, keys[needed], method, concrete(path), body)
        assert r.status_code not in (401, 403), (method, path, r.text)
    # 11 operate routes, and every town_admin route but GET /api-keys has a GET beside it: about 30 refusals
    assert checked >= 25


def test_each_scope_does_what_the_issue_says(town):
    read = new_key(town, ["read"])
    operate = new_key(town, ["operate"])
    assert read["scopes"] == ["read"]
    assert operate["scopes"] == ["read", "operate"]  # stored with what it includes
    assert as_key(town, read["key"], "GET", "/api/v1/stations").status_code == 200
    booking = {
        "vehicle_id": town.vehicles[0],
        "start_at": jst(12).isoformat(),
        "end_at": jst(13).isoformat(),
        "distance_km": 5,
    }
    assert as_key(town, read["key"], "POST", "/api/v1/bookings", booking).status_code == 403
    made = as_key(town, operate["key"], "POST", "/api/v1/bookings", booking)
    assert made.status_code == 201, made.text
    ret = {"returned_at": jst(13).isoformat()}
    assert as_key(town, operate["key"], "POST", f"/api/v1/bookings/{made.json()['id']}/return", ret).status_code == 200
    telemetry = {"soc_fraction": 0.8, "measured_at": NOW.isoformat()}
    path = f"/api/v1/vehicles/{town.vehicles[1]}/telemetry"
    assert as_key(town, operate["key"], "POST", path, telemetry).status_code == 200
    assert as_key(town, operate["key"], "POST", "/api/v1/schedules").status_code == 201
    station = {"name": "new", "latitude_deg": 35, "longitude_deg": 139}
    r = as_key(town, operate["key"], "POST", "/api/v1/stations", station)
    assert r.status_code == 403 and "'town_admin' scope" in r.json()["message"]
    assert "this key has: read operate" in r.json()["message"]
    assert as_key(town, operate["key"], "PATCH", "/api/v1/municipality", {"pv_kw": 3}).status_code == 403
    assert as_key(town, town.key, "POST", "/api/v1/stations", station).status_code == 201


def test_scopes_are_validated(town):
    r = town.post("/api/v1/api-keys", {"scopes": ["superuser"]}, expect=422)
    assert "scopes" in r.json()["message"]
    r = town.post("/api/v1/api-keys", {"scopes": []}, expect=422)
    assert "scopes" in r.json()["message"]
    assert new_key(town, ["town_admin"])["scopes"] == ["read", "operate", "town_admin"]
    default = town.post("/api/v1/api-keys", {"name": "no scopes given"}).json()
    assert default["scopes"] == ["read"]  # least privilege unless asked


# --- expiry, revocation, unknown keys


def test_expired_key_is_refused_with_a_clear_message(town):
    key = new_key(town, ["operate"], expires_at=(NOW + dt.timedelta(hours=1)).isoformat())
    assert dt.datetime.fromisoformat(key["expires_at"]) == NOW + dt.timedelta(hours=1)
    assert as_key(town, key["key"], "GET", "/api/v1/stations").status_code == 200  # and now it is cached
    town.clock.now = NOW + dt.timedelta(hours=1)  # at expires_at it no longer works
    r = as_key(town, key["key"], "GET", "/api/v1/stations")
    assert r.status_code == 401
    assert "expired at 2025-06-02T01:00:00+00:00" in r.json()["message"]
    assert key["prefix"] in r.json()["message"]
    assert as_key(town, town.key, "GET", "/api/v1/stations").status_code == 200  # a key without expiry works


def test_expiry_must_be_in_the_future(town):
    r = town.post("/api/v1/api-keys", {"expires_at": (NOW - dt.timedelta(seconds=1)).isoformat()}, expect=422)
    assert "expires_at" in r.json()["message"] and "not in the future" in r.json()["message"]
    r = town.post("/api/v1/api-keys", {"expires_at": "2025-07-01T00:00:00"}, expect=422)  # no offset
    assert "expires_at" in r.json()["message"]


def test_revoked_and_unknown_keys_get_a_clear_401(town):
    key = new_key(town, ["read"])
    assert as_key(town, key["key"], "GET", "/api/v1/municipality").status_code == 200
    town.client.delete(f"/api/v1/api-keys/{key['id']}", headers=town.headers)
    r = as_key(town, key["key"], "GET", "/api/v1/municipality")
    assert r.status_code == 401 and "was revoked at 2025-06-02T00:00:00+00:00" in r.json()["message"]
    r = as_key(town, "chisan_no-such-key", "GET", "/api/v1/municipality")
    assert r.status_code == 401 and r.json()["message"] == "header.X-API-Key: unknown API key"
    r = town.client.get("/api/v1/municipality")
    assert r.status_code == 401 and "X-API-Key header missing" in r.json()["message"]


# --- listing and revoking


def test_town_lists_its_keys_without_secrets(town):
    read = new_key(town, ["read"], expires_at="2025-07-01T00:00:00+09:00")
    unused = new_key(town, ["operate"])
    as_key(town, read["key"], "GET", "/api/v1/stations")
    r = town.get("/api/v1/api-keys")
    assert r.status_code == 200
    listed = {k["id"]: k for k in r.json()}
    assert set(listed) == {listed_id for listed_id in listed} and len(listed) == 3
    for secret in (town.key, read["key"], unused["key"]):
        assert secret not in r.text
    assert "key_hash" not in r.text
    first = min(listed)
    assert listed[first]["scopes"] == ["read", "operate", "town_admin"]
    k = listed[read["id"]]
    assert set(k) == {
        "id",
        "municipality_id",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    }
    assert k["prefix"] == read["key"][:13] and k["scopes"] == ["read"]
    assert dt.datetime.fromisoformat(k["expires_at"]) == dt.datetime(2025, 6, 30, 15, tzinfo=dt.UTC)
    assert dt.datetime.fromisoformat(k["last_used_at"]) == NOW  # the app's clock
    assert listed[unused["id"]]["last_used_at"] is None


def test_last_use_is_written_once_a_minute(town):
    key = new_key(town, ["read"])
    as_key(town, key["key"], "GET", "/api/v1/stations")

    def last_used():
        return next(k for k in town.get("/api/v1/api-keys").json() if k["id"] == key["id"])["last_used_at"]

    assert dt.datetime.fromisoformat(last_used()) == NOW
    town.client.app.state.key_cache.clear()  # a new lookup, 30 s later: less than a minute, not written again
    town.clock.now = NOW + dt.timedelta(seconds=30)
    as_key(town, key["key"], "GET", "/api/v1/stations")
    assert dt.datetime.fromisoformat(last_used()) == NOW
    town.client.app.state.key_cache.clear()  # 61 s after the last note: written
    town.clock.now = NOW + dt.timedelta(seconds=61)
    as_key(town, key["key"], "GET", "/api/v1/stations")
    assert dt.datetime.fromisoformat(last_used()) == NOW + dt.timedelta(seconds=61)


def test_read_and_operate_keys_cannot_revoke_keys(town):
    first_id = town.get("/api/v1/api-keys").json()[0]["id"]
    for scope in ("read", "operate"):
        key = new_key(town, [scope])
        r = as_key(town, key["key"], "DELETE", f"/api/v1/api-keys/{first_id}")
        assert r.status_code == 403 and "'town_admin' scope" in r.json()["message"]
        r = as_key(town, key["key"], "PATCH", f"/api/v1/api-keys/{key['id']}", {"scopes": ["town_admin"]})
        assert r.status_code == 403  # nor give themselves more
    assert town.get("/api/v1/municipality").status_code == 200


def test_the_last_admin_key_can_be_neither_revoked_nor_downgraded(town):
    first_id = town.get("/api/v1/api-keys").json()[0]["id"]
    r = town.client.delete(f"/api/v1/api-keys/{first_id}", headers=town.headers)
    assert r.status_code == 409
    assert "last active town_admin key" in r.json()["message"] and "key_id" in r.json()["message"]
    r = town.client.patch(f"/api/v1/api-keys/{first_id}", json={"scopes": ["operate"]}, headers=town.headers)
    assert r.status_code == 409 and "cannot be downgraded" in r.json()["message"]
    assert town.get("/api/v1/api-keys").json()[0]["revoked_at"] is None
    # renaming it is fine
    r = town.client.patch(f"/api/v1/api-keys/{first_id}", json={"name": "town hall"}, headers=town.headers)
    assert r.status_code == 200 and r.json()["name"] == "town hall"
    # an expired admin key does not count: with the second one expired, the first is the last again
    second = new_key(town, ["town_admin"], expires_at=(NOW + dt.timedelta(hours=1)).isoformat())
    town.clock.now = NOW + dt.timedelta(hours=2)
    assert town.client.delete(f"/api/v1/api-keys/{first_id}", headers=town.headers).status_code == 409
    # with a third, active, admin key the first can go; then the third is the last
    third = new_key(town, ["town_admin"])
    r = town.client.delete(f"/api/v1/api-keys/{first_id}", headers=town.headers)
    assert r.status_code == 200 and dt.datetime.fromisoformat(r.json()["revoked_at"]) == town.clock.now
    assert as_key(town, town.key, "GET", "/api/v1/stations").status_code == 401
    r = as_key(town, third["key"], "DELETE", f"/api/v1/api-keys/{third['id']}")
    assert r.status_code == 409
    r = as_key(town, third["key"], "PATCH", f"/api/v1/api-keys/{third['id']}", {"scopes": ["read"]})
    assert r.status_code == 409
    # the expired one can be revoked (it is not active)
    assert as_key(town, third["key"], "DELETE", f"/api/v1/api-keys/{second['id']}").status_code == 200


def test_downgrading_a_key_takes_effect_at_once(town):
    spare = new_key(town, ["town_admin"])
    r = town.client.patch(f"/api/v1/api-keys/{spare['id']}", json={"scopes": ["read"]}, headers=town.headers)
    assert r.status_code == 200 and r.json()["scopes"] == ["read"]
    r = as_key(town, spare["key"], "POST", "/api/v1/stations", {"name": "x", "latitude_deg": 35, "longitude_deg": 1})
    assert r.status_code == 403


def test_two_revocations_at_once_leave_one_admin_key(town):
    """Two admin keys, each revoking the other in parallel requests: exactly one succeeds (the other is refused as
    the last admin key, 409, or finds its own key revoked, 401), and the town keeps one active admin key."""
    survivor = {"id": town.get("/api/v1/api-keys").json()[0]["id"], "key": town.key}
    for _round in range(10):  # without the lock of the town's keys, about one round in ten leaves none on PostgreSQL
        second = new_key(town, ["town_admin"])
        pair = [survivor, second]
        barrier = threading.Barrier(2)
        results: dict[int, int] = {}

        def revoke(me, other, barrier=barrier, results=results):
            barrier.wait()
            results[me["id"]] = as_key(town, me["key"], "DELETE", f"/api/v1/api-keys/{other['id']}").status_code

        threads = [threading.Thread(target=revoke, args=(pair[i], pair[1 - i])) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) in ([200, 401], [200, 409]), results
        with town.client.app.state.database.session() as s:
            active = s.scalars(
                sa.select(models.ApiKey.id).where(
                    models.ApiKey.municipality_id == town.municipality_id, models.ApiKey.revoked_at.is_(None)
                )
            ).all()
        survivor = next(k for k in pair if results[k["id"]] == 200)
        assert active == [survivor["id"]]
        town.key = survivor["key"]


# --- the service admin


def test_service_admin_lists_towns_and_their_keys(town):
    other = make_town(town.client, "tonari", stations=0)
    read = new_key(town, ["read"])
    town.client.delete(f"/api/v1/api-keys/{read['id']}", headers=town.headers)
    admin = {"X-Admin-Token": ADMIN}
    r = town.client.get("/api/v1/admin/municipalities", headers=admin)
    assert r.status_code == 200
    towns = {t["slug"]: t for t in r.json()}
    assert set(towns) == {"kagi", "tonari"}
    assert towns["kagi"]["id"] == town.municipality_id and towns["tonari"]["id"] == other.municipality_id
    assert [k["scopes"] for k in towns["kagi"]["keys"]] == [["read", "operate", "town_admin"], ["read"]]
    assert towns["kagi"]["active_keys"] == 1 and towns["tonari"]["active_keys"] == 1
    assert towns["kagi"]["keys"][1]["revoked_at"] is not None
    for secret in (town.key, other.key, read["key"]):
        assert secret not in r.text
    r = town.client.get(f"/api/v1/admin/municipalities/{other.municipality_id}/api-keys", headers=admin)
    assert r.status_code == 200 and [k["municipality_id"] for k in r.json()] == [other.municipality_id]
    r = town.client.get("/api/v1/admin/municipalities/999999/api-keys", headers=admin)
    assert r.status_code == 404 and r.json()["detail"][0]["loc"] == ["path", "municipality_id"]
    assert r.json()["message"] == "no municipality 999999"
    # a town's key is no admin token, whatever its scopes
    r = town.client.get("/api/v1/admin/municipalities", headers=town.headers)
    assert r.status_code == 403 and "X-Admin-Token" in r.json()["message"]


# --- the migration


def test_existing_keys_migrate_to_every_scope(database_url):
    """A key stored before 0006 gets read, operate and town_admin, and keeps working through the API;
    downgrading to 0003 removes the new columns and keeps the key."""
    from alembic import command

    from chisan.service.core.db import alembic_config
    from chisan.service.crud import hash_api_key

    db = Database(database_url)
    try:
        migrate(db, "0003")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO municipalities (slug, name, timezone, latitude_deg, longitude_deg, pv_kw, storage_kwh, "
                "storage_kw, import_price_per_kwh, export_price_per_kwh, emission_factor_kg_per_kwh, "
                "carbon_price_per_kg, currency, feed_contact_email, created_at) VALUES ('old', 'Old', 'Asia/Tokyo', "
                "35, 139, 0, 0, 0, 30, 0, 0.45, 0, 'JPY', 'a@b.c', '2025-01-01 00:00:00')"
            )
            conn.execute(
                sa.text(
                    "INSERT INTO api_keys (municipality_id, name, prefix, key_hash, created_at) "
                    "VALUES (1, 'old key', 'chisan_oldkey', :h, '2025-01-01 00:00:00')"
                ),
                {"h": hash_api_key("chisan_oldkey-secret")},
            )
    finally:
        db.dispose()
    with make_client(database_url) as client:  # the app migrates to the head on start
        h = {"X-API-Key": "chisan_oldkey-secret"}
        keys = client.get("/api/v1/api-keys", headers=h)
        assert keys.status_code == 200, keys.text
        assert keys.json()[0]["scopes"] == ["read", "operate", "town_admin"]
        assert keys.json()[0]["expires_at"] is None
        r = client.post("/api/v1/stations", headers=h, json={"name": "S", "latitude_deg": 35, "longitude_deg": 139})
        assert r.status_code == 201
    db = Database(database_url)
    try:
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(db.url, conn), "0003")
        assert current_revision(db) == "0003"
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("api_keys")}
        assert not columns & {"scopes", "expires_at", "last_used_at"} and "key_hash" in columns
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM api_keys").scalar() == 1
    finally:
        db.dispose()


# --- the OpenAPI


def test_openapi_documents_the_headers_the_service_reads(town):
    """/docs' "Authorize" fills in the security schemes; a request with the header named there works."""
    spec = town.client.app.openapi()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {**schemes["ApiKey"], "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["AdminToken"] == {**schemes["AdminToken"], "type": "apiKey", "in": "header", "name": "X-Admin-Token"}
    r = town.client.get("/api/v1/stations", headers={schemes["ApiKey"]["name"]: town.key})
    assert r.status_code == 200
    r = town.client.get("/api/v1/admin/municipalities", headers={schemes["AdminToken"]["name"]: ADMIN})
    assert r.status_code == 200
    public = [(m, p) for m, p, op in operations(town.client) if "security" not in op]
    assert all(p == "/health" or p.startswith("/gbfs/") for _m, p in public), public
