"""A key of one town can neither read nor change another town's data — checked for every route of the app.

Two towns, A and B, are made through the API. For every API route, the case below calls it with A's key against
B's objects (B's ids in the path, or in the body) and asserts that it is refused (404 for another town's object
in the path, 422 naming the field for one in the body, 403 for admin routes), or — for routes without ids — that
what comes back is A's alone; and after every call B's data is compared with a snapshot taken before it.
The test also fails if the app has a route without a case here, so a new route cannot skip the check.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.routing import APIRoute
from service_helpers import NOW, jst, make_client, make_town

from chisan.service import models

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def towns(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('tenancy') / 'chisan.db'}"
    with make_client(url) as client:
        a = make_town(client, "town-a")
        b = make_town(client, "town-b")
        for town in (a, b):
            booking = town.post(
                "/api/v1/bookings",
                {
                    "vehicle_id": town.vehicles[0],
                    "member_id": town.members[0],
                    "start_at": jst(12).isoformat(),
                    "end_at": jst(14).isoformat(),
                    "distance_km": 20,
                },
            ).json()
            town.bookings.append(booking["id"])
            town.schedule = town.post("/api/v1/schedules").json()["id"]
            town.key_id = town.get("/api/v1/api-keys").json()[0]["id"]
            r = client.put(
                "/api/v1/forecast/pv",
                headers=town.headers,
                json={"start_at": NOW.isoformat(), "step_minutes": 15, "pv_kw": [1.0 if town is a else 7.0] * 4},
            )
            assert r.status_code == 200, r.text
        with client.app.state.database.session() as s:  # an alert and a charging session of B
            s.add(models.Alert(municipality_id=b.municipality_id, kind="overdraw", message="B's alert", created_at=NOW))
            s.add(
                models.ChargingSession(
                    municipality_id=b.municipality_id,
                    charger_id=b.chargers[0],
                    connector_id=1,
                    id_tag="x",
                    meter_start_wh=0.0,
                    meter_last_wh=0.0,
                    started_at=NOW,
                )
            )
        yield a, b


def snapshot(town) -> dict:
    """Everything B has, as its own key reads it."""
    out = {}
    for path in (
        "/api/v1/municipality",
        "/api/v1/api-keys",
        "/api/v1/stations",
        "/api/v1/chargers",
        "/api/v1/vehicles",
        "/api/v1/members",
        "/api/v1/bookings",
        "/api/v1/schedules",
        "/api/v1/alerts",
        "/api/v1/charging-sessions",
    ):
        r = town.get(path)
        assert r.status_code == 200, (path, r.text)
        out[path] = r.json()
    out["forecast"] = town.get("/api/v1/forecast/pv", start_at=NOW.isoformat(), hours=1).json()
    return out


def ids(response) -> set[int]:
    return {item["id"] for item in response.json()}


def refused(response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    if field is not None:
        assert field in response.json()["message"], response.text


def call(a, method: str, path: str, json=None, headers=None):
    return a.client.request(method, path, json=json, headers=a.headers if headers is None else headers)


# --- one case per route: f(a, b) with A calling


def c_admin_create(a, b):
    r = call(
        a,
        "POST",
        "/api/v1/admin/municipalities",
        {"slug": "town-c", "name": "C", "latitude_deg": 35, "longitude_deg": 139},
    )
    refused(r, 403, "X-Admin-Token")


def c_admin_list(a, b):
    refused(call(a, "GET", "/api/v1/admin/municipalities"), 403, "X-Admin-Token")


def c_admin_keys(a, b):
    refused(call(a, "GET", f"/api/v1/admin/municipalities/{b.municipality_id}/api-keys"), 403, "X-Admin-Token")


def c_municipality_get(a, b):
    assert call(a, "GET", "/api/v1/municipality").json()["id"] == a.municipality_id


def c_municipality_patch(a, b):
    r = call(a, "PATCH", "/api/v1/municipality", {"pv_kw": 12.5})
    assert r.status_code == 200 and r.json()["id"] == a.municipality_id and r.json()["pv_kw"] == 12.5


def c_keys_list(a, b):
    assert ids(call(a, "GET", "/api/v1/api-keys")).isdisjoint({b.key_id})


def c_keys_create(a, b):
    secret = call(a, "POST", "/api/v1/api-keys", {"name": "second"}).json()["key"]
    assert call(a, "GET", "/api/v1/municipality", headers={"X-API-Key": secret}).json()["id"] == a.municipality_id


def c_keys_patch(a, b):
    refused(call(a, "PATCH", f"/api/v1/api-keys/{b.key_id}", {"scopes": ["read"]}), 404)


def c_keys_delete(a, b):
    refused(call(a, "DELETE", f"/api/v1/api-keys/{b.key_id}"), 404)
    assert b.get("/api/v1/municipality").status_code == 200  # B's key still works


def _list_case(kind):
    def case(a, b):
        got = ids(call(a, "GET", f"/api/v1/{kind}"))
        assert got and got.isdisjoint(set(getattr(b, kind)))

    return case


def _get_case(kind):
    def case(a, b):
        refused(call(a, "GET", f"/api/v1/{kind}/{getattr(b, kind)[0]}"), 404)

    return case


def _delete_case(kind):
    def case(a, b):
        refused(call(a, "DELETE", f"/api/v1/{kind}/{getattr(b, kind)[0]}"), 404)

    return case


def c_station_create(a, b):
    new = call(a, "POST", "/api/v1/stations", {"name": "A new", "latitude_deg": 35, "longitude_deg": 139}).json()
    assert new["id"] in ids(call(a, "GET", "/api/v1/stations"))


def c_station_patch(a, b):
    refused(call(a, "PATCH", f"/api/v1/stations/{b.stations[0]}", {"name": "taken over"}), 404)


def c_charger_create(a, b):
    refused(
        call(a, "POST", "/api/v1/chargers", {"station_id": b.stations[0], "ocpp_id": "A-into-B"}), 422, "station_id"
    )


def c_charger_patch(a, b):
    refused(call(a, "PATCH", f"/api/v1/chargers/{b.chargers[0]}", {"max_power_kw": 1.0}), 404)
    refused(call(a, "PATCH", f"/api/v1/chargers/{a.chargers[0]}", {"station_id": b.stations[0]}), 422, "station_id")


def c_charger_key(a, b):
    # another town's charger: not found, and its key (which B's charger connects with) is left as it was
    refused(call(a, "POST", f"/api/v1/chargers/{b.chargers[0]}/authorization-key"), 404, "no charger")
    ok = call(a, "POST", f"/api/v1/chargers/{a.chargers[0]}/authorization-key")
    assert ok.status_code == 200 and len(ok.json()["authorization_key"]) == 32


def c_vehicle_list(a, b):
    _list_case("vehicles")(a, b)
    r = call(a, "GET", f"/api/v1/vehicles?station_id={b.stations[0]}")
    assert r.status_code == 200 and r.json() == []


def c_vehicle_create(a, b):
    refused(call(a, "POST", "/api/v1/vehicles", {"station_id": b.stations[0], "name": "A car in B"}), 422, "station_id")


def c_vehicle_patch(a, b):
    refused(call(a, "PATCH", f"/api/v1/vehicles/{b.vehicles[0]}", {"is_disabled": True}), 404)
    refused(call(a, "PATCH", f"/api/v1/vehicles/{a.vehicles[0]}", {"station_id": b.stations[0]}), 422, "station_id")


def c_vehicle_telemetry(a, b):
    r = call(
        a,
        "POST",
        f"/api/v1/vehicles/{b.vehicles[0]}/telemetry",
        {"soc_fraction": 0.01, "measured_at": (NOW + dt.timedelta(hours=1)).isoformat()},
    )
    refused(r, 404)


def c_member_create(a, b):
    assert call(a, "POST", "/api/v1/members", {"name": "new resident"}).status_code == 201


def c_member_patch(a, b):
    refused(call(a, "PATCH", f"/api/v1/members/{b.members[0]}", {"name": "x"}), 404)


def c_booking_list(a, b):
    _list_case("bookings")(a, b)
    assert call(a, "GET", f"/api/v1/bookings?vehicle_id={b.vehicles[0]}").json() == []
    assert call(a, "GET", f"/api/v1/bookings?station_id={b.stations[0]}").json() == []


def c_booking_create(a, b):
    body = {"start_at": jst(15).isoformat(), "end_at": jst(16).isoformat(), "distance_km": 5}
    refused(call(a, "POST", "/api/v1/bookings", {**body, "vehicle_id": b.vehicles[1]}), 422, "vehicle_id")
    refused(call(a, "POST", "/api/v1/bookings", {**body, "station_id": b.stations[0]}), 422, "station_id")
    refused(
        call(a, "POST", "/api/v1/bookings", {**body, "vehicle_id": a.vehicles[1], "member_id": b.members[0]}),
        422,
        "member_id",
    )


def c_booking_patch(a, b):
    refused(call(a, "PATCH", f"/api/v1/bookings/{b.bookings[0]}", {"distance_km": 1}), 404)
    refused(call(a, "PATCH", f"/api/v1/bookings/{a.bookings[0]}", {"vehicle_id": b.vehicles[1]}), 422, "vehicle_id")
    refused(call(a, "PATCH", f"/api/v1/bookings/{a.bookings[0]}", {"member_id": b.members[0]}), 422, "member_id")


def c_booking_cancel(a, b):
    refused(call(a, "POST", f"/api/v1/bookings/{b.bookings[0]}/cancel"), 404)


def c_booking_late(a, b):
    refused(
        call(a, "POST", f"/api/v1/bookings/{b.bookings[0]}/late-return", {"expected_return_at": jst(20).isoformat()}),
        404,
    )


def c_booking_return(a, b):
    refused(call(a, "POST", f"/api/v1/bookings/{b.bookings[0]}/return", {"returned_at": jst(14).isoformat()}), 404)


def c_schedule_run(a, b):
    r = call(a, "POST", "/api/v1/schedules")
    assert r.status_code == 201
    assert {v["vehicle_id"] for v in r.json()["vehicles"]} == set(a.vehicles)
    assert {s["station_id"] for s in r.json()["stations"]} <= set(a.stations) | set(
        s["id"] for s in call(a, "GET", "/api/v1/stations").json()
    )


def c_schedule_list(a, b):
    assert ids(call(a, "GET", "/api/v1/schedules")).isdisjoint({b.schedule})


def c_schedule_latest(a, b):
    latest = call(a, "GET", "/api/v1/schedules/latest").json()
    assert latest["id"] != b.schedule and set(v["vehicle_id"] for v in latest["vehicles"]) <= set(a.vehicles)


def c_schedule_get(a, b):
    refused(call(a, "GET", f"/api/v1/schedules/{b.schedule}"), 404)


def c_forecast_put(a, b):
    r = call(a, "PUT", "/api/v1/forecast/pv", {"start_at": NOW.isoformat(), "pv_kw": [2.0, 2.0]})
    assert r.status_code == 200 and r.json()["pv_kw"] == [2.0, 2.0]


def c_forecast_get(a, b):
    r = call(a, "GET", f"/api/v1/forecast/pv?start_at={NOW.isoformat().replace('+', '%2B')}&hours=1")
    assert r.status_code == 200 and 7.0 not in r.json()["pv_kw"] and len(r.json()["pv_kw"]) == 4


def c_alerts(a, b):
    assert all(x["message"] != "B's alert" for x in call(a, "GET", "/api/v1/alerts").json())


def c_sessions(a, b):
    assert call(a, "GET", "/api/v1/charging-sessions").json() == []


def c_metrics(a, b):
    got = {m["station_id"] for m in call(a, "GET", "/api/v1/metrics/stations").json()}
    assert got and got.isdisjoint(set(b.stations))


def c_dashboard(a, b):
    d = call(a, "GET", "/api/v1/dashboard").json()
    assert d["municipality"]["id"] == a.municipality_id
    assert {v["id"] for v in d["vehicles"]}.isdisjoint(b.vehicles)
    assert {s["id"] for s in d["stations"]}.isdisjoint(b.stations)
    assert {x["id"] for x in d["bookings_today"]}.isdisjoint(b.bookings)


def c_disaster_get(a, b):
    assert call(a, "GET", f"/api/v1/towns/{b.slug}/disaster").status_code == 404
    assert call(a, "GET", f"/api/v1/towns/{a.slug}/disaster").json()["town"] == a.slug


def c_disaster_post(a, b):
    shelter = {"name": "hall", "critical_load_kw": 1.0}
    r = call(a, "POST", f"/api/v1/towns/{b.slug}/disaster", {"shelters": [shelter]})
    assert r.status_code == 404
    for field, ident in (("called_station_ids", b.stations[0]), ("called_vehicle_ids", b.vehicles[0])):
        r = call(a, "POST", f"/api/v1/towns/{a.slug}/disaster", {"shelters": [shelter], field: [ident]})
        assert r.status_code == 422 and f"{field}.0" in r.json()["message"], r.text
    assert call(b, "GET", f"/api/v1/towns/{b.slug}/disaster").json()["active"] is False


def c_disaster_delete(a, b):
    on = call(b, "POST", f"/api/v1/towns/{b.slug}/disaster", {"shelters": [{"name": "h", "critical_load_kw": 1}]})
    assert on.status_code == 200, on.text
    assert call(a, "DELETE", f"/api/v1/towns/{b.slug}/disaster").status_code == 404
    assert call(b, "GET", f"/api/v1/towns/{b.slug}/disaster").json()["active"] is True
    assert call(b, "DELETE", f"/api/v1/towns/{b.slug}/disaster").json()["active"] is False


def _gbfs_case(feed):
    def case(a, b):
        # open data by design: public, no key, and nothing about members or bookings in it
        r = a.client.get(f"/gbfs/{b.slug}/{feed}.json")
        assert r.status_code == 200
        text = r.text
        assert "resident" not in text and "member" not in text and b.key not in text
        assert a.client.get(f"/gbfs/no-such-town/{feed}.json").status_code == 404

    return case


def c_health(a, b):
    assert a.client.get("/health").json() == {"status": "ok"}


CASES = {
    ("POST", "/api/v1/admin/municipalities"): c_admin_create,
    ("GET", "/api/v1/admin/municipalities"): c_admin_list,
    ("GET", "/api/v1/admin/municipalities/{municipality_id}/api-keys"): c_admin_keys,
    ("GET", "/api/v1/municipality"): c_municipality_get,
    ("PATCH", "/api/v1/municipality"): c_municipality_patch,
    ("GET", "/api/v1/api-keys"): c_keys_list,
    ("POST", "/api/v1/api-keys"): c_keys_create,
    ("PATCH", "/api/v1/api-keys/{key_id}"): c_keys_patch,
    ("DELETE", "/api/v1/api-keys/{key_id}"): c_keys_delete,
    ("GET", "/api/v1/stations"): _list_case("stations"),
    ("POST", "/api/v1/stations"): c_station_create,
    ("GET", "/api/v1/stations/{station_id}"): _get_case("stations"),
    ("PATCH", "/api/v1/stations/{station_id}"): c_station_patch,
    ("DELETE", "/api/v1/stations/{station_id}"): _delete_case("stations"),
    ("GET", "/api/v1/chargers"): _list_case("chargers"),
    ("POST", "/api/v1/chargers"): c_charger_create,
    ("GET", "/api/v1/chargers/{charger_id}"): _get_case("chargers"),
    ("PATCH", "/api/v1/chargers/{charger_id}"): c_charger_patch,
    ("DELETE", "/api/v1/chargers/{charger_id}"): _delete_case("chargers"),
    ("POST", "/api/v1/chargers/{charger_id}/authorization-key"): c_charger_key,
    ("GET", "/api/v1/vehicles"): c_vehicle_list,
    ("POST", "/api/v1/vehicles"): c_vehicle_create,
    ("GET", "/api/v1/vehicles/{vehicle_id}"): _get_case("vehicles"),
    ("PATCH", "/api/v1/vehicles/{vehicle_id}"): c_vehicle_patch,
    ("DELETE", "/api/v1/vehicles/{vehicle_id}"): _delete_case("vehicles"),
    ("POST", "/api/v1/vehicles/{vehicle_id}/telemetry"): c_vehicle_telemetry,
    ("GET", "/api/v1/members"): _list_case("members"),
    ("POST", "/api/v1/members"): c_member_create,
    ("GET", "/api/v1/members/{member_id}"): _get_case("members"),
    ("PATCH", "/api/v1/members/{member_id}"): c_member_patch,
    ("DELETE", "/api/v1/members/{member_id}"): _delete_case("members"),
    ("GET", "/api/v1/bookings"): c_booking_list,
    ("POST", "/api/v1/bookings"): c_booking_create,
    ("GET", "/api/v1/bookings/{booking_id}"): _get_case("bookings"),
    ("PATCH", "/api/v1/bookings/{booking_id}"): c_booking_patch,
    ("POST", "/api/v1/bookings/{booking_id}/cancel"): c_booking_cancel,
    ("POST", "/api/v1/bookings/{booking_id}/late-return"): c_booking_late,
    ("POST", "/api/v1/bookings/{booking_id}/return"): c_booking_return,
    ("POST", "/api/v1/schedules"): c_schedule_run,
    ("GET", "/api/v1/schedules"): c_schedule_list,
    ("GET", "/api/v1/schedules/latest"): c_schedule_latest,
    ("GET", "/api/v1/schedules/{schedule_id}"): c_schedule_get,
    ("PUT", "/api/v1/forecast/pv"): c_forecast_put,
    ("GET", "/api/v1/forecast/pv"): c_forecast_get,
    ("GET", "/api/v1/alerts"): c_alerts,
    ("GET", "/api/v1/charging-sessions"): c_sessions,
    ("GET", "/api/v1/metrics/stations"): c_metrics,
    ("GET", "/api/v1/dashboard"): c_dashboard,
    ("GET", "/api/v1/towns/{town}/disaster"): c_disaster_get,
    ("POST", "/api/v1/towns/{town}/disaster"): c_disaster_post,
    ("DELETE", "/api/v1/towns/{town}/disaster"): c_disaster_delete,
    **{
        ("GET", f"/gbfs/{{slug}}/{f}.json"): _gbfs_case(f)
        for f in (
            "gbfs",
            "system_information",
            "vehicle_types",
            "station_information",
            "station_status",
            "vehicle_status",
        )
    },
    ("GET", "/dashboard"): lambda a, b: None,  # static page: checked below, holds no data
    ("GET", "/health"): c_health,
}


def app_routes() -> set[tuple[str, str]]:
    from chisan.service.main import create_app

    app = create_app()
    try:  # FastAPI ≥ 0.160 keeps included routers nested; iter_route_contexts flattens them
        from fastapi.routing import iter_route_contexts

        items = [(c.path, c.methods, c.original_route) for c in iter_route_contexts(app.routes)]
    except ImportError:
        items = [(r.path, getattr(r, "methods", None), r) for r in app.routes]
    return {(m, path) for path, methods, route in items if isinstance(route, APIRoute) for m in methods}


def test_every_route_has_a_tenancy_case():
    assert app_routes() == set(CASES)


@pytest.mark.parametrize(("method", "path"), sorted(CASES), ids=[f"{m} {p}" for m, p in sorted(CASES)])
def test_route_keeps_towns_apart(towns, method, path):
    a, b = towns
    before = snapshot(b)
    CASES[(method, path)](a, b)
    assert snapshot(b) == before


def test_tenant_routes_need_a_valid_key(towns):
    a, _b = towns
    for method, path in sorted(CASES):
        if not path.startswith("/api/v1/") or path.startswith("/api/v1/admin"):
            continue
        concrete = path.replace("{", "").replace("}", "").replace("station_id", "1").replace("vehicle_id", "1")
        for word in ("charger_id", "member_id", "booking_id", "schedule_id", "key_id"):
            concrete = concrete.replace(word, "1")
        r = a.client.request(method, concrete, headers={})
        assert r.status_code == 401, (method, path, r.text)
        r = a.client.request(method, concrete, headers={"X-API-Key": "chisan_not-a-key"})
        assert r.status_code == 401, (method, path, r.text)


def test_revoked_key_is_refused(towns):
    a, _b = towns
    secret = a.post("/api/v1/api-keys", {"name": "short-lived"}).json()
    assert a.client.get("/api/v1/stations", headers={"X-API-Key": secret["key"]}).status_code == 200
    a.client.delete(f"/api/v1/api-keys/{secret['id']}", headers=a.headers)
    assert a.client.get("/api/v1/stations", headers={"X-API-Key": secret["key"]}).status_code == 401


def test_keys_are_stored_hashed(towns):
    a, _b = towns
    with a.client.app.state.database.session() as s:
        stored = [k.key_hash for k in s.query(models.ApiKey).all()]
    assert a.key not in stored
    import hashlib

    assert hashlib.sha256(a.key.encode()).hexdigest() in stored


def test_dashboard_page_holds_no_data(towns):
    a, _b = towns
    html = a.client.get("/dashboard").text
    assert "town-a" not in html.lower() and "town-b" not in html.lower() and "/api/v1/dashboard" in html
