"""Rate limits per API key and per client address: 429 with Retry-After and a JSON body, the public routes
limited per address only, and the 429 in the OpenAPI (chisan.service.rate_limits, the ``limits`` library).

The limits are moving windows of one second: with a limit of N, N requests in a burst pass and the N+1st is
refused; one second after the first of them, a request passes again. Bursts below are a few requests through the
in-process client (milliseconds each), well inside one second; each test checks that it was.
"""

from __future__ import annotations

import time

import httpx
import pytest
from service_helpers import ADMIN, make_client, make_town, settings_for
from starlette.testclient import TestClient

from chisan.service.main import create_app
from chisan.service.testing import ServerThread

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def burst(send, n: int) -> tuple[list[httpx.Response], float]:
    """``n`` requests made by ``send()`` one after the other, and the time they took [s]."""
    t0 = time.monotonic()
    responses = [send() for _ in range(n)]
    return responses, time.monotonic() - t0


def assert_429(r, *, limit: int, what: str, loc: list[str]) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["retry-after"] == "1"  # windows of 1 s: the oldest counted request leaves it within 1 s
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["message"] == f"rate limit of {limit} requests per second per {what} exceeded; retry after 1 s"
    assert body["detail"] == [{"loc": loc, "msg": body["message"], "type": "rate_limited"}]


@pytest.fixture
def town(sqlite_url):
    # make the town without limits, then serve the same database with them
    with make_client(sqlite_url) as client:
        t = make_town(client, "hayai", stations=1)
        other_key = t.post("/api/v1/api-keys", {"name": "second", "scopes": ["read"]}).json()["key"]
    t.other_key = other_key
    t.url = sqlite_url
    return t


def limited(url: str, *, per_key: int, per_address: int) -> TestClient:
    app = create_app(
        settings_for(url, rate_limit_per_key_per_s=per_key, rate_limit_per_address_per_s=per_address),
        start_ocpp=False,
        start_scheduler=False,
    )
    return TestClient(app)


def test_a_key_over_its_limit_gets_429_and_other_keys_do_not(town):
    with limited(town.url, per_key=3, per_address=1000) as client:
        h = {"X-API-Key": town.key}
        responses, took_s = burst(lambda: client.get("/api/v1/stations", headers=h), 4)
        assert took_s < 0.9, took_s
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert_429(responses[3], limit=3, what="API key", loc=["header", "X-API-Key"])
        # another key of the same town, from the same address, has its own count
        assert client.get("/api/v1/stations", headers={"X-API-Key": town.other_key}).status_code == 200
        # wrong keys count too (per key header): guessing is limited like using
        wrong = {"X-API-Key": "chisan_guess"}
        statuses = [client.get("/api/v1/stations", headers=wrong).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        # after Retry-After, the key works again
        time.sleep(1.05)
        assert client.get("/api/v1/stations", headers=h).status_code == 200


def test_an_address_over_its_limit_gets_429_on_every_route(town):
    with limited(town.url, per_key=1000, per_address=4) as client:
        keys = [town.key, town.other_key]
        t0 = time.monotonic()
        statuses = [
            client.get("/api/v1/municipality", headers={"X-API-Key": keys[i % 2]}).status_code for i in range(4)
        ]
        refused = client.get("/health")
        assert time.monotonic() - t0 < 0.9
        assert statuses == [200] * 4  # two keys, one address: four requests in all
        assert_429(refused, limit=4, what="address", loc=["client", "address"])
        gbfs = client.get(f"/gbfs/{town.slug}/gbfs.json")
        assert gbfs.status_code == 429
        # another address is not affected (same app, a client at 10.0.0.2)
        other = TestClient(client.app, client=("10.0.0.2", 40000))
        assert other.get("/health").status_code == 200
        assert other.get("/api/v1/stations", headers={"X-API-Key": town.key}).status_code == 200


def test_public_routes_are_limited_per_address_only(town):
    """With a key limit of 2: /health and GBFS take any number of requests carrying that key (they do not read
    keys); /api/v1 takes two."""
    with limited(town.url, per_key=2, per_address=1000) as client:
        h = {"X-API-Key": town.key}
        t0 = time.monotonic()
        assert [client.get("/health", headers=h).status_code for _ in range(5)] == [200] * 5
        assert [client.get(f"/gbfs/{town.slug}/station_status.json", headers=h).status_code for _ in range(5)] == [
            200
        ] * 5
        assert [client.get("/api/v1/stations", headers=h).status_code for _ in range(3)] == [200, 200, 429]
        assert time.monotonic() - t0 < 0.9


def test_limits_off_when_zero(town):
    with limited(town.url, per_key=0, per_address=0) as client:
        h = {"X-API-Key": town.key}
        assert all(client.get("/api/v1/stations", headers=h).status_code == 200 for _ in range(150))


def test_rate_limits_over_real_http(town):
    """Through uvicorn on 127.0.0.1: the limit holds, and the 429 carries its headers on the wire."""
    app = create_app(
        settings_for(town.url, rate_limit_per_key_per_s=5, rate_limit_per_address_per_s=1000),
        start_ocpp=False,
        start_scheduler=False,
    )
    with ServerThread(app) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        h = {"X-API-Key": town.key}
        t0 = time.monotonic()
        statuses = [client.get("/api/v1/stations", headers=h).status_code for _ in range(6)]
        assert time.monotonic() - t0 < 0.9
        assert statuses == [200] * 5 + [429]
        r = client.get("/api/v1/stations", headers=h)
        assert_429(r, limit=5, what="API key", loc=["header", "X-API-Key"])
        assert int(r.headers["content-length"]) == len(r.content)


def test_openapi_documents_429(town):
    with limited(town.url, per_key=50, per_address=100) as client:
        spec = client.get("/openapi.json").json()
    ops = [op for item in spec["paths"].values() for op in item.values()]
    assert len(ops) >= 50
    for op in ops:
        answer = op["responses"]["429"]
        assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
        assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RateLimited"}
    assert set(spec["components"]["schemas"]["RateLimited"]["required"]) == {"detail", "message"}


def test_settings_defaults_and_admin_routes(town):
    """Defaults: 50 requests/s per key, 100 per address; the admin routes count per address."""
    s = settings_for(town.url)
    assert (s.rate_limit_per_key_per_s, s.rate_limit_per_address_per_s) == (0, 0)  # the tests' own
    from chisan.service.core.config import Settings

    d = Settings()
    assert (d.rate_limit_per_key_per_s, d.rate_limit_per_address_per_s, d.rate_limit_storage_uri) == (
        50,
        100,
        "memory://",
    )
    with limited(town.url, per_key=1000, per_address=2) as client:
        admin = {"X-Admin-Token": ADMIN}
        statuses = [client.get("/api/v1/admin/municipalities", headers=admin).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
