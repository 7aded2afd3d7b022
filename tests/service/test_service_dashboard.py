"""The operator's dashboard page in headless Chromium (Debian's ``chromium`` package): it loads its data from the
API with the key in the URL fragment and shows the stations, the cars with their SOC, today's bookings and the
charging plan against PV. The page's DOM after its scripts ran is read with ``--dump-dom``. The browser comes from
the project-wide ``chromium`` fixture (installed when missing, a clear failure when it cannot be).
"""

from __future__ import annotations

import datetime as dt
import subprocess

import httpx
import pytest
from dashboard_helpers import CHROMIUM_FLAGS, dashboard_dom, dashboard_url, page_state, rendered
from service_helpers import NOW, jst, make_town, settings_for

from chisan.service import models
from chisan.service.main import create_app
from chisan.service.testing import ServerThread


def book(town, vehicle_id: int, start, end, distance_km: float) -> dict:
    """Book ``vehicle_id`` from ``start`` to ``end`` for ``distance_km`` [km]; the booking as the API returns it."""
    body = {"vehicle_id": vehicle_id, "start_at": start.isoformat(), "end_at": end.isoformat()}
    return town.post("/api/v1/bookings", {**body, "distance_km": distance_km}).json()


def test_dashboard_in_headless_chromium(tmp_path, chromium):
    url = f"sqlite:///{tmp_path / 'chisan.db'}"
    app = create_app(settings_for(url), clock=lambda: NOW, start_ocpp=False, start_scheduler=False)
    with ServerThread(app) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
        town = make_town(client, "niji", stations=2, vehicles_per_station=2, chargers_per_station=2, soc_fraction=0.5)
        town.post(
            f"/api/v1/vehicles/{town.vehicles[1]}/telemetry",
            {"soc_fraction": 0.25, "measured_at": NOW.isoformat()},
            200,
        )
        b1 = book(town, town.vehicles[0], jst(13), jst(15), 30)
        b2 = book(town, town.vehicles[2], jst(18), jst(19), 10)
        book(town, town.vehicles[3], jst(10, day=3), jst(11, day=3), 10)  # tomorrow
        client.put("/api/v1/forecast/pv", headers=town.headers, json={"start_at": NOW.isoformat(), "pv_kw": [5.0] * 16})
        schedule = town.post("/api/v1/schedules").json()
        dom = dashboard_dom(chromium, server.base_url, town.key, tmp_path / "profile")
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
    # axes with units, times on the town's clock (Asia/Tokyo, UTC+9): the schedule starts at 09:00 JST (00:00 UTC)
    # and ticks every 3 local hours: 09:00 … 21:00, the date at local midnight (3 Jun), … 18:00 on 3 Jun (36 h)
    assert svg["attrs"]["data-y-unit"] == "kW" and svg["attrs"]["data-timezone"] == "Asia/Tokyo"
    assert svg["attrs"]["data-x-ticks"].split("|") == [
        "09:00",
        "12:00",
        "15:00",
        "18:00",
        "21:00",
        "3 Jun",
        "03:00",
        "06:00",
        "09:00",
        "12:00",
        "15:00",
        "18:00",
    ]
    titles = [e["text"] for e in dom.elements if e["tag"] == "text" and "plan" in e["ids"]]
    assert "power [kW]" in titles and "local time, Asia/Tokyo (UTC+09:00)" in titles
    # the kW axis: PV 5 kW is the highest line (a car charges at ≤ 3 kW) → ticks 0, 1, …, 5 kW
    assert svg["attrs"]["data-y-ticks"] == "0|1|2|3|4|5" and float(svg["attrs"]["data-max-kw"]) == 5.0
    # energy in the cars: 4 Sakuras × 19 kWh usable = 76 kWh = 100 %; the schedule gives each car's energy at the
    # end of each step: at the start SOC 0.5, 0.25, 0.5, 0.5 → 9.5 + 4.75 + 9.5 + 9.5 = 33.25 kWh, plus the first
    # 15 min of charging at the Sakura's 0.9 charge efficiency
    energy = dom.by_id("energy")["attrs"]
    assert float(energy["data-capacity-kwh"]) == pytest.approx(76.0)
    first_charge_kw = sum(v["charge_kw"][0] for v in schedule["vehicles"])
    assert float(energy["data-first-kwh"]) == pytest.approx(33.25 + first_charge_kw * 0.9 * 0.25, abs=0.01)
    assert float(energy["data-first-kwh"]) == pytest.approx(
        sum(v["energy_kwh"][0] for v in schedule["vehicles"]), abs=0.01
    )
    assert energy["data-y-unit"] == "kWh" and energy["data-y-ticks"] == "0|20|40|60|80"
    assert energy["data-y2-unit"] == "%"
    assert energy["data-y2-ticks"] == "0 %|25 %|50 %|75 %|100 %"  # placed at 0, 19, 38, 57, 76 kWh
    # 100 % = 76 kWh on a 0 … 80 kWh axis drawn from y = 200 (0) to y = 10 (80): y = 200 − 76/80 × 190 = 19.5
    full = next(e for e in dom.elements if e["tag"] == "text" and "energy" in e["ids"] and e["text"] == "100 %")
    assert float(full["attrs"]["y"]) == pytest.approx(19.5 + 4)  # the label's baseline is 4 units lower
    assert "All times are local time in Asia/Tokyo (UTC+09:00)." in dom.by_id("tz")["text"]
    assert "as of 02 Jun, 09:00" in dom.by_id("now")["text"]  # 00:00 UTC shown as 09:00 JST


def test_dashboard_alerts_for_late_returns_and_overdraw(tmp_path, chromium):
    """A car not back after its booking's end and a charger over its profile appear as alerts, on local time.

    The over-draw alert is the row the central system writes when a charger's metered power exceeds its accepted
    profile (chisan.service.ocpp.store.meter_values; exercised over OCPP in test_service_ocpp.py): 4.2 kW against
    a 3.0 kW limit is 40 % over.
    """
    clock = {"now": NOW}
    app = create_app(
        settings_for(f"sqlite:///{tmp_path / 'c.db'}"),
        clock=lambda: clock["now"],
        start_ocpp=False,
        start_scheduler=False,
    )
    with ServerThread(app) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
        town = make_town(client, "niji", stations=1, vehicles_per_station=3, chargers_per_station=1)
        late = book(town, town.vehicles[0], jst(9.5), jst(10), 10)
        back = book(town, town.vehicles[1], jst(9.5), jst(10), 10)
        book(town, town.vehicles[2], jst(12), jst(13), 10)  # not due yet
        clock["now"] = jst(10.75).astimezone(dt.UTC)  # 10:45 JST: 45 min after both ends
        town.post(f"/api/v1/bookings/{back['id']}/return", {"returned_at": jst(10.1).isoformat()}, 200)
        pv = [min(6.0, 0.5 * k) for k in range(24)]  # a PV ramp over the first 6 h [kW]
        client.put(
            "/api/v1/forecast/pv", headers=town.headers, json={"start_at": clock["now"].isoformat(), "pv_kw": pv}
        )
        town.post("/api/v1/schedules")
        with app.state.database.session() as session:
            session.add_all(
                [
                    models.Alert(
                        municipality_id=town.municipality_id,
                        kind="overdraw",
                        charger_id=town.chargers[0],
                        measured_w=4200.0,
                        limit_w=3000.0,
                        created_at=jst(10.5),
                        message="charger niji-1-1 connector 1 draws 4200 W, above the 3000 W its profile allows",
                    ),
                    models.Alert(  # two days old: not shown among the last 24 h
                        municipality_id=town.municipality_id,
                        kind="overdraw",
                        charger_id=town.chargers[0],
                        measured_w=5000.0,
                        limit_w=3000.0,
                        created_at=jst(10.5) - dt.timedelta(days=2),
                        message="old",
                    ),
                ]
            )
        dom = dashboard_dom(chromium, server.base_url, town.key, tmp_path / "profile")
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp_path / 'profile2'}",
                "--virtual-time-budget=15000",
                "--window-size=1200,1900",
                f"--screenshot={tmp_path / 'dashboard.png'}",
                dashboard_url(server.base_url, town.key),
            ],
            capture_output=True,
            timeout=120,
        )
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
    lates = [e for e in dom.elements if e["tag"] == "li" and "late-returns" in e["ids"]]
    assert [(e["attrs"].get("data-booking-id"), e["attrs"].get("data-late-minutes")) for e in lates] == [
        (str(late["id"]), "45")
    ]
    assert "was due back 02 Jun, 10:00, 45 min late" in lates[0]["text"]
    over = [e for e in dom.elements if e["tag"] == "li" and "overdraw" in e["ids"]]
    assert [(e["attrs"]["data-measured-kw"], e["attrs"]["data-limit-kw"]) for e in over] == [("4.200", "3.000")]
    assert over[0]["text"].startswith("02 Jun, 10:30 — charger niji-1-1 at niji-station-1: 4.20 kW metered")
    assert "(+40 %)" in over[0]["text"]


def test_dashboard_asks_for_a_key_without_one(tmp_path, chromium):
    app = create_app(
        settings_for(f"sqlite:///{tmp_path / 'c.db'}"), clock=lambda: NOW, start_ocpp=False, start_scheduler=False
    )
    with ServerThread(app) as server:
        dom, _ = rendered(chromium, f"{server.base_url}/dashboard", tmp_path / "profile", budget_ms=5000)
    assert page_state(dom) == "login"
    assert "hidden" not in dom.by_id("login")["attrs"]
