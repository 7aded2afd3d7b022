"""OCPP 1.6J (and 2.0.1) with real charge points: ``ocpp`` library clients over websockets on 127.0.0.1, no
protocol mocks.

Every frame the central system answers with is compared in full (parsed JSON). The clock of the service is fixed
at 09:00 JST (00:00 UTC), so times in its answers are known.

Every charge point authenticates (security profile 1, the default: HTTP Basic with the key the town set through
the API). The tests' clock moves forward with the charge, since meter values ahead of it are refused.

The case: one station with one 3 kW charger, one car at SOC 0.1 (1.9 kWh) whose idTag starts the transaction, a
60 km trip at 13:00 (6.696 kWh: 8.596 kWh needed, 6.696 kWh into the battery = 7.44 kWh at the plug) and a
supplied PV forecast of 4 kW from 09:00 to 11:00. The schedule takes the car's 3 kW from PV for those 2 h (6 kWh,
the PV credit makes it so) and the remaining 1.44 kWh from the grid before 13:00.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import json

import httpx
import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, ChargingProfileStatus
from ocpp.v201 import ChargePoint as ChargePoint201Client
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as call_result201
from ocpp.v201.enums import Action as Action201
from service_helpers import NOW, jst, make_town, settings_for
from websockets.exceptions import InvalidStatus

from chisan.service.main import create_app
from chisan.service.testing import ServerThread

UTC = dt.UTC


def z(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    """The service's clock in the tests: fixed, and moved on by the test (``clock.t = ...``)."""

    def __init__(self, t: dt.datetime) -> None:
        self.t = t

    def __call__(self) -> dt.datetime:
        return self.t


def basic(user: str, password: str) -> dict[str, str]:
    """The HTTP Basic ``Authorization`` header of a charge point (RFC 7617)."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


KEYS: dict[str, str] = {}
"""The authorization key of each charge point identity of the running test (set by the fixture)."""


class RecordingChargePoint(ChargePoint):
    """A charge point that numbers its calls 1, 2, … and keeps every frame it sends and receives."""

    def __init__(self, cp_id, connection):
        super().__init__(cp_id, connection, response_timeout=20)
        self._unique_id_generator = itertools.count(1).__next__
        self.received: list = []
        self.sent: list = []
        self.profiles: list = []

    async def route_message(self, raw_msg):
        self.received.append(json.loads(raw_msg))
        await super().route_message(raw_msg)

    async def _send(self, message):
        self.sent.append(json.loads(message))
        await super()._send(message)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id, cs_charging_profiles, **kwargs):
        self.profiles.append((connector_id, cs_charging_profiles))
        return call_result.SetChargingProfile(status=ChargingProfileStatus.accepted)

    def answer_to(self, unique_id: str):
        hits = [m for m in self.received if m[0] in (3, 4) and m[1] == unique_id]
        assert len(hits) == 1, self.received
        return hits[0]


@pytest.fixture
def service(sqlite_url):
    clock = Clock(NOW)
    app = create_app(settings_for(sqlite_url), clock=clock, start_ocpp=True, start_scheduler=False)
    with ServerThread(app) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
        town = make_town(client, "umi", vehicles_per_station=1, chargers_per_station=1, soc_fraction=0.1)
        town.ocpp_port = app.state.central.port
        town.app = app
        town.clock = clock
        r = town.post(f"/api/v1/chargers/{town.chargers[0]}/authorization-key", expect=200)
        KEYS.clear()
        KEYS[r.json()["ocpp_id"]] = r.json()["authorization_key"]
        yield town


async def connect(port: int, cp_id: str, protocols=("ocpp1.6",)):
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/{cp_id}",
        subprotocols=list(protocols),
        open_timeout=20,
        additional_headers=basic(cp_id, KEYS[cp_id]),
    )
    cp = RecordingChargePoint(cp_id, ws)
    task = asyncio.create_task(cp.start())
    return ws, cp, task


async def wait_for(predicate, timeout_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)


def meter(t: dt.datetime, energy_wh: float | None = None, power_w: float | None = None) -> dict:
    values = []
    if energy_wh is not None:
        values.append({"value": str(energy_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"})
    if power_w is not None:
        values.append({"value": str(power_w), "measurand": "Power.Active.Import", "unit": "W"})
    return {"timestamp": z(t), "sampledValue": values}


def test_charge_point_session_profile_and_overdraw(service):
    town = service
    cp_id = "umi-1-1"
    car = town.vehicles[0]
    car_tag = "umi-1-1"  # make_town: f"{slug[:8]}-{station}-{car}"
    town.post(
        "/api/v1/bookings",
        {"vehicle_id": car, "start_at": jst(13).isoformat(), "end_at": jst(14).isoformat(), "distance_km": 60},
    )
    r = town.client.put(
        "/api/v1/forecast/pv",
        headers=town.headers,
        json={"start_at": NOW.isoformat(), "step_minutes": 15, "pv_kw": [4.0] * 8},
    )
    assert r.status_code == 200
    schedule = town.post("/api/v1/schedules").json()
    assert schedule["method"] == "optimal" and schedule["verified"]

    async def scenario():
        ws, cp, task = await connect(town.ocpp_port, cp_id)
        try:
            boot = await cp.call(
                call.BootNotification(charge_point_model="AC-3", charge_point_vendor="Kaze", firmware_version="1.2")
            )
            assert boot.status == "Accepted"
            assert cp.sent[0] == [
                2,
                "1",
                "BootNotification",
                {"chargePointModel": "AC-3", "chargePointVendor": "Kaze", "firmwareVersion": "1.2"},
            ]
            assert cp.answer_to("1") == [
                3,
                "1",
                {"currentTime": "2025-06-02T00:00:00Z", "interval": 300, "status": "Accepted"},
            ]
            await cp.call(call.Heartbeat())
            assert cp.answer_to("2") == [3, "2", {"currentTime": "2025-06-02T00:00:00Z"}]
            await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
            assert cp.answer_to("3") == [3, "3", {}]
            await cp.call(call.Authorize(id_tag="STRANGER"))
            assert cp.answer_to("4") == [3, "4", {"idTagInfo": {"status": "Invalid"}}]
            await cp.call(call.Authorize(id_tag=car_tag))
            assert cp.answer_to("5") == [3, "5", {"idTagInfo": {"status": "Accepted"}}]
            await cp.call(call.StartTransaction(connector_id=1, id_tag=car_tag, meter_start=1000, timestamp=z(NOW)))
            assert cp.answer_to("6") == [3, "6", {"transactionId": 1, "idTagInfo": {"status": "Accepted"}}]
            # the schedule's profile follows the transaction: a SetChargingProfile call from the central system
            await wait_for(lambda: cp.profiles)
            push = [m for m in cp.received if m[0] == 2]
            assert len(push) == 1
            plan = next(v for v in schedule["vehicles"] if v["vehicle_id"] == car)
            limits = [float(round(kw * 1000)) for kw in plan["charge_kw"]]
            periods = []
            for k, w in enumerate(limits):
                if not periods or periods[-1]["limit"] != w:
                    periods.append({"startPeriod": k * 900, "limit": w})
            assert push[0] == [
                2,
                "1",
                "SetChargingProfile",
                {
                    "connectorId": 1,
                    "csChargingProfiles": {
                        "chargingProfileId": schedule["id"],
                        "stackLevel": 0,
                        "chargingProfilePurpose": "TxProfile",
                        "chargingProfileKind": "Absolute",
                        "transactionId": 1,
                        "chargingSchedule": {
                            "chargingRateUnit": "W",
                            "duration": 144 * 900,
                            "startSchedule": "2025-06-02T00:00:00Z",
                            "chargingSchedulePeriod": periods,
                        },
                    },
                },
            ]
            assert cp.sent[-1] == [3, "1", {"status": "Accepted"}]
            # what the profile says, derived by hand: 3 kW (PV) from 09:00 to 11:00, 7.44 kWh in all, ≤ 3 kW
            assert limits[:8] == [3000.0] * 8
            assert sum(limits) * 0.25 / 1000 == pytest.approx(7.44, abs=2e-3)
            assert max(limits) <= 3000.0
            town.clock.t = jst(10.5)  # the charge goes on until 10:30; its meter values are not ahead of the clock
            # meter values: 3600 W against a 3000 W limit is over 3000 × 1.05 + 200 = 3350 W → reported;
            # 3100 W is within the tolerance; an energy register rising 700 Wh in 10 min is 4200 W → reported
            samples = [
                (jst(9 + 5 / 60), 1250, 3600),
                (jst(9 + 10 / 60), 1500, 3100),
                (jst(10), 4000, None),
                (jst(10 + 10 / 60), 4700, None),
            ]
            for k, (t, e, p) in enumerate(samples):
                await cp.call(call.MeterValues(connector_id=1, transaction_id=1, meter_value=[meter(t, e, p)]))
                assert cp.answer_to(str(7 + k)) == [3, str(7 + k), {}]
            await cp.call(
                call.StopTransaction(meter_stop=5000, timestamp=z(jst(10.5)), transaction_id=1, reason="EVDisconnected")
            )
            assert cp.answer_to("11") == [3, "11", {"idTagInfo": {"status": "Accepted"}}]
        finally:
            task.cancel()
            await ws.close()

    asyncio.run(scenario())
    alerts = town.get("/api/v1/alerts", kind="overdraw").json()
    assert sorted((a["measured_w"], a["limit_w"]) for a in alerts) == [(3600.0, 3000.0), (4200.0, 3000.0)]
    assert all("umi-1-1" in a["message"] for a in alerts)
    sessions = town.get("/api/v1/charging-sessions").json()
    assert len(sessions) == 1
    s = sessions[0]
    assert (s["id"], s["status"], s["vehicle_id"], s["energy_wh"]) == (1, "stopped", car, 4000.0)
    charger = town.get(f"/api/v1/chargers/{town.chargers[0]}").json()
    assert (charger["vendor"], charger["model"], charger["protocol"], charger["status"]) == (
        "Kaze",
        "AC-3",
        "ocpp1.6",
        "Preparing",
    )
    # the car's SOC follows the meter: 0.1 + (5000 − 1000) Wh × 0.9 / 19 kWh, as of the StopTransaction
    vehicle = town.get(f"/api/v1/vehicles/{car}").json()
    assert vehicle["soc_fraction"] == pytest.approx(0.1 + 4.0 * 0.9 / 19.0, abs=1e-9)
    assert dt.datetime.fromisoformat(vehicle["soc_measured_at"]) == jst(10.5)
    # the metered energy counts as delivered on the day
    metrics = town.get("/api/v1/metrics/stations", day="2025-06-02").json()[0]
    assert metrics["energy_delivered_kwh"] == pytest.approx(4.0, abs=1e-9)


def test_unknown_identity_and_wrong_protocol_are_refused(service):
    """An unknown identity is refused as any failed authentication is (401, see test_service_ocpp_security.py);
    an authenticated charge point that speaks no OCPP version of the central system's gets 400."""
    auth = basic("umi-1-1", KEYS["umi-1-1"])

    async def scenario():
        with pytest.raises(InvalidStatus) as err:
            await websockets.connect(f"ws://127.0.0.1:{service.ocpp_port}/NOBODY", subprotocols=["ocpp1.6"])
        assert err.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as err:  # a version the central system does not speak
            await websockets.connect(
                f"ws://127.0.0.1:{service.ocpp_port}/umi-1-1", subprotocols=["ocpp0.9"], additional_headers=auth
            )
        assert err.value.response.status_code == 400
        with pytest.raises(InvalidStatus) as err:  # no OCPP version at all
            await websockets.connect(f"ws://127.0.0.1:{service.ocpp_port}/umi-1-1", additional_headers=auth)
        assert err.value.response.status_code == 400

    asyncio.run(scenario())


def test_profiles_go_out_when_a_schedule_is_run_during_a_session(service):
    """A transaction already running when the schedule is computed gets the new profile at once."""
    town = service
    car = town.vehicles[0]

    async def scenario():
        ws, cp, task = await connect(town.ocpp_port, "umi-1-1")
        try:
            await cp.call(call.BootNotification(charge_point_model="AC-3", charge_point_vendor="Kaze"))
            tx = await cp.call(call.StartTransaction(connector_id=1, id_tag="umi-1-1", meter_start=0, timestamp=z(NOW)))
            await asyncio.sleep(0.3)
            assert cp.profiles == []  # no schedule yet: nothing to send
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{town.client.base_url.port}") as c:
                r = await c.post("/api/v1/schedules", headers=town.headers)
            assert r.status_code == 201
            await wait_for(lambda: cp.profiles)
            connector, profile = cp.profiles[0]
            assert connector == 1 and profile["transaction_id"] == tx.transaction_id
            assert profile["charging_profile_id"] == r.json()["id"]
        finally:
            task.cancel()
            await ws.close()

    asyncio.run(scenario())
    with town.app.state.database.session() as s:
        from chisan.service import models

        rows = s.query(models.ChargingProfile).all()
        assert [(p.status, p.session_id) for p in rows] == [("Accepted", 1)]
    assert car in [v["vehicle_id"] for v in town.get("/api/v1/schedules/latest").json()["vehicles"]]


class RecordingStation201(ChargePoint201Client):
    """An OCPP 2.0.1 charging station that numbers its calls and keeps every frame."""

    def __init__(self, cp_id, connection):
        super().__init__(cp_id, connection, response_timeout=20)
        self._unique_id_generator = itertools.count(1).__next__
        self.received: list = []
        self.profiles: list = []

    async def route_message(self, raw_msg):
        self.received.append(json.loads(raw_msg))
        await super().route_message(raw_msg)

    @on(Action201.set_charging_profile)
    def on_set_charging_profile(self, evse_id, charging_profile, **kwargs):
        self.profiles.append((evse_id, charging_profile))
        return call_result201.SetChargingProfile(status="Accepted")

    def answer_to(self, unique_id: str):
        hits = [m for m in self.received if m[0] in (3, 4) and m[1] == unique_id]
        assert len(hits) == 1, self.received
        return hits[0]


def energy_201(t: dt.datetime, energy_wh: float, power_w: float | None = None) -> dict:
    values = [{"value": energy_wh, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}]
    if power_w is not None:
        values.append({"value": power_w, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}})
    return {"timestamp": z(t), "sampledValue": values}


def test_ocpp_201_station_transaction_profile_and_overdraw(service):
    """The same case over OCPP 2.0.1: TransactionEvent Started/Updated/Ended carry the transaction (named by the
    station), the profile goes out as a 2.0.1 TxProfile, and over-draw is detected from the Updated meter values."""
    town = service
    car = town.vehicles[0]
    town.post(
        "/api/v1/bookings",
        {"vehicle_id": car, "start_at": jst(13).isoformat(), "end_at": jst(14).isoformat(), "distance_km": 60},
    )
    town.client.put(
        "/api/v1/forecast/pv",
        headers=town.headers,
        json={"start_at": NOW.isoformat(), "step_minutes": 15, "pv_kw": [4.0] * 8},
    )
    schedule = town.post("/api/v1/schedules").json()

    async def scenario():
        ws = await websockets.connect(
            f"ws://127.0.0.1:{town.ocpp_port}/umi-1-1",
            subprotocols=["ocpp2.0.1"],
            additional_headers=basic("umi-1-1", KEYS["umi-1-1"]),
        )
        assert ws.subprotocol == "ocpp2.0.1"
        cs = RecordingStation201("umi-1-1", ws)
        task = asyncio.create_task(cs.start())
        try:
            await cs.call(
                call201.BootNotification(charging_station={"model": "AC-3", "vendor_name": "Kaze"}, reason="PowerUp")
            )
            assert cs.answer_to("1") == [
                3,
                "1",
                {"currentTime": "2025-06-02T00:00:00Z", "interval": 300, "status": "Accepted"},
            ]
            await cs.call(
                call201.StatusNotification(timestamp=z(NOW), connector_status="Occupied", evse_id=1, connector_id=1)
            )
            assert cs.answer_to("2") == [3, "2", {}]
            await cs.call(
                call201.TransactionEvent(
                    event_type="Started",
                    timestamp=z(NOW),
                    trigger_reason="Authorized",
                    seq_no=0,
                    transaction_info={"transaction_id": "TX-7"},
                    id_token={"id_token": "umi-1-1", "type": "ISO14443"},
                    evse={"id": 1, "connector_id": 1},
                    meter_value=[energy_201(NOW, 1000)],
                )
            )
            assert cs.answer_to("3") == [3, "3", {"idTokenInfo": {"status": "Accepted"}}]
            await wait_for(lambda: cs.profiles)
            plan = next(v for v in schedule["vehicles"] if v["vehicle_id"] == car)
            periods = []
            for k, kw in enumerate(plan["charge_kw"]):
                w = float(round(kw * 1000))
                if not periods or periods[-1]["limit"] != w:
                    periods.append({"startPeriod": k * 900, "limit": w})
            push = [m for m in cs.received if m[0] == 2]
            assert push == [
                [
                    2,
                    "1",
                    "SetChargingProfile",
                    {
                        "evseId": 1,
                        "chargingProfile": {
                            "id": schedule["id"],
                            "stackLevel": 0,
                            "chargingProfilePurpose": "TxProfile",
                            "chargingProfileKind": "Absolute",
                            "transactionId": "TX-7",
                            "chargingSchedule": [
                                {
                                    "id": schedule["id"],
                                    "startSchedule": "2025-06-02T00:00:00Z",
                                    "duration": 144 * 900,
                                    "chargingRateUnit": "W",
                                    "chargingSchedulePeriod": periods,
                                }
                            ],
                        },
                    },
                ]
            ]
            town.clock.t = jst(9.5)  # the transaction ends at 09:30
            # 3600 W against the 3000 W of PV time is over 3350 W → reported
            await cs.call(
                call201.TransactionEvent(
                    event_type="Updated",
                    timestamp=z(jst(9 + 5 / 60)),
                    trigger_reason="MeterValuePeriodic",
                    seq_no=1,
                    transaction_info={"transaction_id": "TX-7"},
                    meter_value=[energy_201(jst(9 + 5 / 60), 1250, 3600)],
                )
            )
            assert cs.answer_to("4") == [3, "4", {}]
            await cs.call(
                call201.TransactionEvent(
                    event_type="Ended",
                    timestamp=z(jst(9.5)),
                    trigger_reason="EVDeparted",
                    seq_no=2,
                    transaction_info={"transaction_id": "TX-7", "stopped_reason": "EVDisconnected"},
                    meter_value=[energy_201(jst(9.5), 2500)],
                )
            )
            assert cs.answer_to("5") == [3, "5", {}]
        finally:
            task.cancel()
            await ws.close()

    asyncio.run(scenario())
    alerts = town.get("/api/v1/alerts", kind="overdraw").json()
    assert [(a["measured_w"], a["limit_w"]) for a in alerts] == [(3600.0, 3000.0)]
    sessions = town.get("/api/v1/charging-sessions").json()
    assert [(s["status"], s["vehicle_id"], s["meter_start_wh"], s["energy_wh"]) for s in sessions] == [
        ("stopped", car, 1000.0, 1500.0)
    ]
    assert town.get(f"/api/v1/chargers/{town.chargers[0]}").json()["protocol"] == "ocpp2.0.1"


def test_a_schedule_that_breaks_a_limit_is_never_sent(service):
    """A newer schedule stored with a broken limit (as the operator's record) is skipped: the charger gets the
    newest schedule that keeps every limit."""
    from chisan.service import models

    town = service
    good = town.post("/api/v1/schedules").json()
    with town.app.state.database.session() as s:
        bad = models.Schedule(
            municipality_id=town.municipality_id,
            start_at=NOW,
            step_minutes=15,
            n_steps=144,
            method="fallback",
            solver_status="test",
            solve_seconds=0.0,
            verified=False,
            limits_ok=False,
            message="broken",
            pv_kw=[],
            import_price_per_kwh=[],
            grid_import_kw=[],
            at_risk_booking_ids=[],
        )
        bad.vehicles = [
            models.ScheduleVehicle(vehicle_id=town.vehicles[0], charge_kw=[9.9] * 144, energy_kwh=[0.0] * 144)
        ]
        s.add(bad)
    assert town.get("/api/v1/schedules/latest").json()["limits_ok"] is False

    async def scenario():
        ws, cp, task = await connect(town.ocpp_port, "umi-1-1")
        try:
            await cp.call(call.StartTransaction(connector_id=1, id_tag="umi-1-1", meter_start=0, timestamp=z(NOW)))
            await wait_for(lambda: cp.profiles)
            _connector, profile = cp.profiles[0]
            assert profile["charging_profile_id"] == good["id"]
            assert max(p["limit"] for p in profile["charging_schedule"]["charging_schedule_period"]) <= 3000
        finally:
            task.cancel()
            await ws.close()

    asyncio.run(scenario())


def test_one_profile_per_transaction_when_triggers_race(service, monkeypatch):
    """The charger's connection and its transaction both ask for its profile; when the first lookup is slow (a
    loaded server) both find the running transaction — the profile still goes out once."""
    import time as _time

    from chisan.service.ocpp import store

    town = service
    town.post("/api/v1/schedules")
    original = store.profiles_to_send
    calls = []

    def slow_first(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            _time.sleep(0.8)  # the connection's lookup: it will see the transaction started meanwhile
        return original(*args, **kwargs)

    monkeypatch.setattr(store, "profiles_to_send", slow_first)

    async def scenario():
        ws, cp, task = await connect(town.ocpp_port, "umi-1-1")
        try:
            await cp.call(call.StartTransaction(connector_id=1, id_tag="umi-1-1", meter_start=0, timestamp=z(NOW)))
            await wait_for(lambda: len(calls) >= 2 and cp.profiles)
            await asyncio.sleep(1.5)  # both lookups done
            assert len([m for m in cp.received if m[0] == 2]) == 1
        finally:
            task.cancel()
            await ws.close()

    asyncio.run(scenario())


def test_meter_values_are_read_in_their_units_in_both_versions():
    """Units and measurands of MeterValues, by hand: 1.6 gives unit names, 2.0.1 a unit and a power of ten."""
    from chisan.service.ocpp.store import FrameError, parse_meter_values, parse_meter_values_201

    t0 = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    (s,) = parse_meter_values(
        [
            {
                "timestamp": "2026-11-25T01:00:00Z",
                "sampled_value": [
                    {"value": "12.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
                    {"value": "3.2", "measurand": "Power.Active.Import", "unit": "kW"},
                    {
                        "value": "999",
                        "measurand": "Power.Active.Import",
                        "unit": "W",
                        "phase": "L1",
                    },  # a phase: not used
                    {"value": "57", "measurand": "SoC"},
                    {"value": "n/a", "measurand": "Voltage"},  # not a number: skipped
                ],
            }
        ],
        t0,
    )
    assert (s.energy_wh, s.power_w, s.soc_fraction) == (12_500.0, 3_200.0, 0.57)
    assert s.sampled_at == dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC)
    (s,) = parse_meter_values_201(
        [
            {
                "timestamp": "2026-11-25T01:00:00Z",
                "sampled_value": [
                    {"value": 125, "unit_of_measure": {"unit": "kWh", "multiplier": -1}},  # default measurand
                    {
                        "value": 32,
                        "measurand": "Power.Active.Import",
                        "unit_of_measure": {"unit": "W", "multiplier": 2},
                    },
                    {"value": 100, "measurand": "SoC"},
                ],
            }
        ],
        t0,
    )
    assert (s.energy_wh, s.power_w, s.soc_fraction) == (12_500.0, 3_200.0, 1.0)
    # a state of charge above 100 % is refused (it was clipped to 1 before chargers were checked), as is NaN
    with pytest.raises(FrameError, match=r"SoC: 101\.0 % is outside"):
        parse_meter_values_201(
            [{"timestamp": "2026-11-25T01:00:00Z", "sampled_value": [{"value": 101, "measurand": "SoC"}]}], t0
        )
    with pytest.raises(FrameError, match="not a finite number"):
        parse_meter_values([{"sampled_value": [{"value": "NaN"}]}], t0)
