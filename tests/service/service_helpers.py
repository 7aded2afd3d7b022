"""Helpers of the service tests: the tests' clock, apps on a database, a town made through the API."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field

# Starlette's TestClient warns that it prefers httpx2; httpx is what the project installs.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from fastapi.testclient import TestClient  # noqa: E402

from chisan.service.core.config import Settings  # noqa: E402
from chisan.service.main import create_app  # noqa: E402

NOW = dt.datetime(2025, 6, 2, 0, 0, tzinfo=dt.UTC)
"""The tests' clock: Monday 2 June 2025, 09:00 in Tokyo."""

ADMIN = "test-admin-token"
JST = dt.timezone(dt.timedelta(hours=9))


def jst(hour: float, day: int = 2) -> dt.datetime:
    """A time on the tests' day(s) in Tokyo (JST, UTC+9)."""
    h = int(hour)
    return dt.datetime(2025, 6, day, h, round((hour - h) * 60), tzinfo=JST)


def migration_head() -> str:
    """The newest migration shipped (what the service's ``migrate`` brings a database to)."""
    from alembic.script import ScriptDirectory

    from chisan.service.core.db import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def settings_for(url: str, **kw) -> Settings:
    # the tests' client makes hundreds of requests a second from one address with one key: no rate limits but
    # where a test asks for them (tests/service/test_service_rate_limits.py)
    kw.setdefault("rate_limit_per_key_per_s", 0)
    kw.setdefault("rate_limit_per_address_per_s", 0)
    return Settings(database_url=url, admin_token=ADMIN, ocpp_port=0, schedule_interval_s=0, **kw)


def make_client(url: str, *, clock=lambda: NOW, start_ocpp: bool = False, **kw) -> TestClient:
    app = create_app(settings_for(url, **kw), clock=clock, start_ocpp=start_ocpp, start_scheduler=False)
    return TestClient(app)


@dataclass
class Town:
    """A town made through the API: its key and the ids of what it has."""

    client: TestClient
    slug: str
    key: str
    municipality_id: int
    stations: list[int] = field(default_factory=list)
    chargers: list[int] = field(default_factory=list)
    vehicles: list[int] = field(default_factory=list)
    members: list[int] = field(default_factory=list)
    bookings: list[int] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    def post(self, path: str, json=None, expect: int | None = 201):
        r = self.client.post(path, json=json, headers=self.headers)
        if expect is not None:
            assert r.status_code == expect, r.text
        return r

    def get(self, path: str, **params):
        return self.client.get(path, headers=self.headers, params=params)


def make_town(
    client: TestClient,
    slug: str,
    *,
    stations: int = 1,
    vehicles_per_station: int = 2,
    chargers_per_station: int = 2,
    soc_fraction: float = 0.5,
    pv_kw: float = 0.0,
    charger_kw: float = 3.0,
) -> Town:
    """A town with stations, chargers (OCPP ids ``<slug>-<s>-<c>``), Nissan Sakuras and a member."""
    r = client.post(
        "/api/v1/admin/municipalities",
        headers={"X-Admin-Token": ADMIN},
        json={"slug": slug, "name": slug.title(), "latitude_deg": 35.7, "longitude_deg": 139.7, "pv_kw": pv_kw},
    )
    assert r.status_code == 201, r.text
    town = Town(
        client=client, slug=slug, key=r.json()["api_key"]["key"], municipality_id=r.json()["municipality"]["id"]
    )
    for s in range(stations):
        st = town.post(
            "/api/v1/stations",
            {
                "name": f"{slug}-station-{s + 1}",
                "latitude_deg": 35.7 + 0.01 * s,
                "longitude_deg": 139.7,
                "charger_kw": charger_kw,
                "parking_spaces": vehicles_per_station,
            },
        ).json()
        town.stations.append(st["id"])
        for c in range(chargers_per_station):
            ch = town.post(
                "/api/v1/chargers",
                {"station_id": st["id"], "ocpp_id": f"{slug}-{s + 1}-{c + 1}", "max_power_kw": charger_kw},
            ).json()
            town.chargers.append(ch["id"])
        for v in range(vehicles_per_station):
            car = town.post(
                "/api/v1/vehicles",
                {
                    "station_id": st["id"],
                    "name": f"{slug}-car-{s + 1}-{v + 1}",
                    "model": "nissan_sakura",
                    "soc_fraction": soc_fraction,
                    "id_tag": f"{slug[:8]}-{s + 1}-{v + 1}",
                },
            ).json()
            town.vehicles.append(car["id"])
    town.members.append(
        town.post("/api/v1/members", {"name": f"{slug} resident", "id_tag": f"{slug[:8]}-m1"}).json()["id"]
    )
    return town
