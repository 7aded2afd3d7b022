"""GBFS v3.0 feeds validate against the official JSON schemas (MobilityData/gbfs-json-schema v3.0, in
../shared/data/gbfs_json_schema_v3.0), with formats checked, and carry the right numbers.

jsonschema checks ``date-time`` and ``uri`` only with optional packages that are not installed here, so the two
formats are checked by the functions below (RFC 3339 §5.6 grammar; an absolute URI with scheme and host).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from urllib.parse import urlparse

import jsonschema
import pytest
from service_helpers import NOW, jst, make_client, make_town

from chisan.service.gbfs import public_vehicle_id

FEEDS = ("gbfs", "system_information", "vehicle_types", "station_information", "station_status", "vehicle_status")

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def checker() -> jsonschema.FormatChecker:
    fc = jsonschema.FormatChecker()

    @fc.checks("date-time", raises=ValueError)
    def _date_time(value) -> bool:
        if not isinstance(value, str):
            return True
        if not RFC3339.match(value):
            raise ValueError(f"{value!r} is not RFC 3339")
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    @fc.checks("uri", raises=ValueError)
    def _uri(value) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlparse(value)
        if not (parts.scheme and parts.netloc):
            raise ValueError(f"{value!r} is not an absolute URI")
        return True

    return fc


@pytest.fixture(scope="module")
def feeds(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('gbfs') / 'chisan.db'}"
    with make_client(url) as client:
        town = make_town(client, "sora", stations=2, vehicles_per_station=2, chargers_per_station=2, soc_fraction=0.5)
        a, b, c, d = town.vehicles
        # car a is out on a booking from 09:00 (the clock), car b is disabled, car d is booked from 09:15
        town.post(
            "/api/v1/bookings",
            {"vehicle_id": a, "start_at": jst(9).isoformat(), "end_at": jst(11).isoformat(), "distance_km": 20},
        )
        town.post(
            "/api/v1/bookings",
            {"vehicle_id": d, "start_at": jst(9.25).isoformat(), "end_at": jst(10).isoformat(), "distance_km": 5},
        )
        client.patch(f"/api/v1/vehicles/{b}", json={"is_disabled": True}, headers=town.headers)
        town.post(f"/api/v1/vehicles/{c}/telemetry", {"soc_fraction": 0.8, "measured_at": NOW.isoformat()}, 200)
        out = {name: client.get(f"/gbfs/{town.slug}/{name}.json") for name in FEEDS}
        yield town, {k: v.json() for k, v in out.items()}, out


@pytest.mark.parametrize("name", FEEDS)
def test_feed_validates_against_the_official_schema(shared_data, feeds, name):
    _town, data, responses = feeds
    assert responses[name].status_code == 200
    assert responses[name].headers["content-type"].startswith("application/json")
    schema = json.loads((shared_data / "gbfs_json_schema_v3.0" / f"{name}.json").read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=checker())
    errors = sorted(validator.iter_errors(data[name]), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]
    # stricter than the schema: every field of every item is one the specification defines
    items_key = {
        "station_information": "stations",
        "station_status": "stations",
        "vehicle_status": "vehicles",
        "vehicle_types": "vehicle_types",
    }.get(name)
    if items_key:
        allowed = set(schema["properties"]["data"]["properties"][items_key]["items"]["properties"])
        for item in data[name]["data"][items_key]:
            assert set(item) <= allowed, set(item) - allowed


def test_feeds_carry_the_towns_state(feeds):
    town, data, _ = feeds
    a, b, c, d = town.vehicles
    s1, s2 = town.stations
    assert data["gbfs"]["version"] == "3.0"
    assert {f["name"] for f in data["gbfs"]["data"]["feeds"]} == set(FEEDS) - {"gbfs"}
    assert data["system_information"]["data"]["timezone"] == "Asia/Tokyo"
    status = {s["station_id"]: s for s in data["station_status"]["data"]["stations"]}
    # station 1: car a is out on its trip, car b disabled → 0 available, 1 disabled;
    # station 2: car d is held for its booking at 09:15 (within 30 min) → only car c is available
    assert status[str(s1)]["num_vehicles_available"] == 0 and status[str(s1)]["num_vehicles_disabled"] == 1
    assert status[str(s2)]["num_vehicles_available"] == 1
    assert status[str(s2)]["vehicle_types_available"] == [{"vehicle_type_id": "nissan_sakura", "count": 1}]
    # public ids rotate: HMAC of (town, car, trips started) under the service's secret; none is a permanent id
    secret = town.client.app.state.settings.gbfs_secret
    ids = {v: public_vehicle_id(secret, municipality_id=town.municipality_id, vehicle_id=v, trips=0) for v in (b, c, d)}
    vehicles = {v["vehicle_id"]: v for v in data["vehicle_status"]["data"]["vehicles"]}
    # car a is on a trip: v3.0 forbids listing vehicles of an active rental
    assert set(vehicles) == set(ids.values())
    assert public_vehicle_id(secret, municipality_id=town.municipality_id, vehicle_id=a, trips=1) not in vehicles
    assert {str(x) for x in town.vehicles}.isdisjoint(vehicles) and all(len(i) == 24 for i in vehicles)
    assert vehicles[ids[d]]["is_reserved"] and not vehicles[ids[c]]["is_reserved"]
    assert vehicles[ids[b]]["is_disabled"]
    # car c at SOC 0.8: 15.2 kWh, 13.3 kWh above the 1.9 kWh reserve at 0.1116 kWh/km → 119,175.6 m
    assert vehicles[ids[c]]["current_fuel_percent"] == pytest.approx(0.8)
    assert vehicles[ids[c]]["current_range_meters"] == math.floor((0.8 * 19.0 - 1.9) / (0.124 * 0.9) * 1000)
    assert vehicles[ids[d]]["station_id"] == str(s2) and "lat" not in vehicles[ids[d]]
    types = data["vehicle_types"]["data"]["vehicle_types"]
    # 19 kWh / 0.1116 kWh/km = 170.25 km
    assert types == [
        {
            "vehicle_type_id": "nissan_sakura",
            "form_factor": "car",
            "propulsion_type": "electric",
            "max_range_meters": round(19.0 / (0.124 * 0.9) * 1000),
            "name": [{"text": "Nissan Sakura (2022)", "language": "en"}],
            "rider_capacity": 4,
        }
    ]
    info = {s["station_id"]: s for s in data["station_information"]["data"]["stations"]}
    assert info[str(s1)]["name"] == [{"text": "sora-station-1", "language": "ja"}]
    assert info[str(s1)]["capacity"] == 2


def test_the_format_checks_bite(shared_data, feeds):
    """The schema check is not vacuous: a time without offset, a relative URL, a missing field all fail."""
    _town, data, _ = feeds
    schema = json.loads((shared_data / "gbfs_json_schema_v3.0" / "gbfs.json").read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=checker())
    bad = json.loads(json.dumps(data["gbfs"]))
    bad["last_updated"] = "2025-06-02 00:00:00"
    bad["data"]["feeds"][0]["url"] = "/gbfs/sora/system_information.json"
    messages = [e.message for e in validator.iter_errors(bad)]
    assert len(messages) == 2
    status = json.loads((shared_data / "gbfs_json_schema_v3.0" / "station_status.json").read_text())
    broken = json.loads(json.dumps(data["station_status"]))
    del broken["data"]["stations"][0]["is_renting"]
    assert not jsonschema.Draft7Validator(status, format_checker=checker()).is_valid(broken)


def test_vehicle_ids_rotate_after_each_trip_and_cars_on_a_trip_are_not_listed(tmp_path):
    clock = {"now": NOW}
    with make_client(f"sqlite:///{tmp_path / 'c.db'}", clock=lambda: clock["now"]) as client:
        town = make_town(client, "umi", stations=1, vehicles_per_station=2, chargers_per_station=1)
        x, y = town.vehicles
        trip = town.post(
            "/api/v1/bookings",
            {"vehicle_id": x, "start_at": jst(10).isoformat(), "end_at": jst(11).isoformat(), "distance_km": 10},
        ).json()
        # car y leaves at 09:00 for 30 min and its return is never recorded: it stays out (late)
        town.post(
            "/api/v1/bookings",
            {"vehicle_id": y, "start_at": jst(9).isoformat(), "end_at": jst(9.5).isoformat(), "distance_km": 5},
        )

        def feed(at: dt.datetime) -> tuple[dict, int]:
            clock["now"] = at.astimezone(dt.UTC)
            vehicles = client.get(f"/gbfs/{town.slug}/vehicle_status.json").json()["data"]["vehicles"]
            station = client.get(f"/gbfs/{town.slug}/station_status.json").json()["data"]["stations"][0]
            return {v["vehicle_id"]: v for v in vehicles}, station["num_vehicles_available"]

        before, available = feed(jst(9))  # car y already out, car x free
        assert len(before) == 1 and available == 1
        (id_before,) = before
        assert feed(jst(9))[0].keys() == {id_before}  # the same id between trips
        held, available = feed(jst(9.75))  # 15 min before its booking car x is held for it
        assert held.keys() == {id_before} and held[id_before]["is_reserved"] and available == 0
        assert feed(jst(10.5)) == ({}, 0)  # on its trip: not listed
        late, _ = feed(jst(11.25))  # past its end, return not recorded: still out
        assert late == {}
        town.post(f"/api/v1/bookings/{trip['id']}/return", {"returned_at": jst(11.3).isoformat()}, 200)
        after, available = feed(jst(11.5))
        assert len(after) == 1 and available == 1
        (id_after,) = after
        assert id_after != id_before and not after[id_after]["is_reserved"]
        secret = client.app.state.settings.gbfs_secret
        mid = town.municipality_id
        assert id_before == public_vehicle_id(secret, municipality_id=mid, vehicle_id=x, trips=0)
        assert id_after == public_vehicle_id(secret, municipality_id=mid, vehicle_id=x, trips=1)
        # another salt gives other ids: they cannot be recomputed from the public data alone
        assert public_vehicle_id("another secret salt!", municipality_id=mid, vehicle_id=x, trips=0) != id_before


def test_cors_on_the_public_feeds_only(tmp_path):
    with make_client(f"sqlite:///{tmp_path / 'c.db'}") as client:
        town = make_town(client, "kumo", stations=1, vehicles_per_station=1, chargers_per_station=1)
        origin = {"Origin": "https://planner.example"}
        for name in FEEDS:
            r = client.get(f"/gbfs/{town.slug}/{name}.json", headers=origin)
            assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*", name
        pre = client.options(
            f"/gbfs/{town.slug}/vehicle_status.json",
            headers={**origin, "Access-Control-Request-Method": "GET"},
        )
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == "*"
        assert pre.headers["access-control-allow-methods"] == "GET"
        # an unknown town: the 404 is readable by the page that asked, and names the field
        missing = client.get("/gbfs/no-such-town/vehicle_status.json", headers=origin)
        assert missing.status_code == 404 and missing.headers["access-control-allow-origin"] == "*"
        assert missing.json()["message"] == "no municipality 'no-such-town'"
        # GET only: the feeds take no writes
        assert client.post(f"/gbfs/{town.slug}/vehicle_status.json", headers=origin).status_code == 405
        # the authenticated API is not readable from other origins
        r = client.get("/api/v1/vehicles", headers={**town.headers, **origin})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
