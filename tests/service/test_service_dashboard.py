"""The operator's dashboard page in headless Chromium (Debian's ``chromium`` package): it loads its data from the
API with the key in the URL fragment and shows the stations, the cars with their SOC, today's bookings and the
charging plan against PV. The page's DOM after its scripts ran is read with ``--dump-dom``. The browser comes from
the project-wide ``chromium`` fixture (installed when missing, a clear failure when it cannot be).
"""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser

import httpx
import pytest
from service_helpers import NOW, jst, make_town, settings_for

from chisan.service.main import create_app
from chisan.service.testing import ServerThread

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


class Dom(HTMLParser):
    """Elements by id / class, with their attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[dict] = []
        self._stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        el = {
            "tag": tag,
            "attrs": dict(attrs),
            "text": "",
            "parents": [e["tag"] for e in self._stack],
            "ids": [e["attrs"].get("id") for e in self._stack],
        }
        self.elements.append(el)
        if tag not in ("meta", "input", "br", "img", "link"):
            self._stack.append(el)

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for el in self._stack:
            el["text"] += data

    def by_id(self, ident: str) -> dict:
        return next(e for e in self.elements if e["attrs"].get("id") == ident)

    def rows(self, table_id: str) -> list[dict]:
        return [e for e in self.elements if e["tag"] == "tr" and table_id in e["ids"] and "tbody" in e["parents"]]


def test_dashboard_in_headless_chromium(tmp_path, chromium):
    browser = chromium
    url = f"sqlite:///{tmp_path / 'chisan.db'}"
    app = create_app(settings_for(url), clock=lambda: NOW, start_ocpp=False, start_scheduler=False)
    with ServerThread(app) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
        town = make_town(client, "niji", stations=2, vehicles_per_station=2, chargers_per_station=2, soc_fraction=0.5)
        town.post(
            f"/api/v1/vehicles/{town.vehicles[1]}/telemetry",
            {"soc_fraction": 0.25, "measured_at": NOW.isoformat()},
            200,
        )
        b1 = town.post(
            "/api/v1/bookings",
            {
                "vehicle_id": town.vehicles[0],
                "start_at": jst(13).isoformat(),
                "end_at": jst(15).isoformat(),
                "distance_km": 30,
            },
        ).json()
        b2 = town.post(
            "/api/v1/bookings",
            {
                "vehicle_id": town.vehicles[2],
                "start_at": jst(18).isoformat(),
                "end_at": jst(19).isoformat(),
                "distance_km": 10,
            },
        ).json()
        town.post(
            "/api/v1/bookings",
            {
                "vehicle_id": town.vehicles[3],
                "start_at": jst(10, day=3).isoformat(),
                "end_at": jst(11, day=3).isoformat(),
                "distance_km": 10,
            },
        )  # tomorrow
        client.put("/api/v1/forecast/pv", headers=town.headers, json={"start_at": NOW.isoformat(), "pv_kw": [5.0] * 16})
        schedule = town.post("/api/v1/schedules").json()
        out = subprocess.run(
            [
                browser,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp_path / 'profile'}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                f"{server.base_url}/dashboard#key={town.key}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 0, out.stderr[-2000:]
    dom = Dom()
    dom.feed(out.stdout)
    body = next(e for e in dom.elements if e["tag"] == "body")
    assert body["attrs"].get("data-state") == "ready", (dom.by_id("error")["text"], out.stderr[-2000:])
    assert "Niji" in dom.by_id("town")["text"]
    # stations: both, with their 2 chargers and 2 cars
    stations = dom.rows("stations")
    assert [r["attrs"]["data-station-id"] for r in stations] == [str(s) for s in town.stations]
    assert all("niji-station" in r["text"] for r in stations)
    # cars with their SOC (0.5, 0.25, 0.5, 0.5) shown as data and as text
    cars = {r["attrs"]["data-vehicle-id"]: r for r in dom.rows("vehicles")}
    assert float(cars[str(town.vehicles[0])]["attrs"]["data-soc"]) == pytest.approx(0.5)
    assert float(cars[str(town.vehicles[1])]["attrs"]["data-soc"]) == pytest.approx(0.25)
    assert "25 %" in cars[str(town.vehicles[1])]["text"]
    # today's bookings only (not tomorrow's)
    assert [r["attrs"]["data-booking-id"] for r in dom.rows("bookings")] == [str(b1["id"]), str(b2["id"])]
    # the plan against PV: one point per step of the schedule for PV, charging and grid import
    svg = dom.by_id("plan")
    assert svg["attrs"]["data-steps"] == "144" and svg["attrs"]["data-method"] == schedule["method"]
    lines = {e["attrs"]["class"]: e["attrs"]["points"] for e in dom.elements if e["tag"] == "polyline"}
    assert set(lines) == {"pv", "charging", "grid-import"}
    for points in lines.values():
        assert len(points.split()) == 144
    # PV is 5 kW for the first 4 h, then 0: its line is high at first and at the bottom (y = 200) at the end
    pv_y = [float(p.split(",")[1]) for p in lines["pv"].split()]
    assert pv_y[0] < 200 and pv_y[-1] == pytest.approx(200.0)


def test_dashboard_asks_for_a_key_without_one(tmp_path, chromium):
    browser = chromium
    app = create_app(
        settings_for(f"sqlite:///{tmp_path / 'c.db'}"), clock=lambda: NOW, start_ocpp=False, start_scheduler=False
    )
    with ServerThread(app) as server:
        out = subprocess.run(
            [
                browser,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp_path / 'profile'}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                f"{server.base_url}/dashboard",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    dom = Dom()
    dom.feed(out.stdout)
    body = next(e for e in dom.elements if e["tag"] == "body")
    assert body["attrs"].get("data-state") == "login"
    assert "hidden" not in dom.by_id("login")["attrs"]
