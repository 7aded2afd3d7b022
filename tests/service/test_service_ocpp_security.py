"""Chargers authenticate (OCPP security profiles 1 and 2) and their meter values are checked: real ``ocpp``
clients (1.6J and 2.0.1) over websockets on 127.0.0.1, with and without credentials, over ``ws://`` and over TLS
(``wss://``, a self-signed certificate made in the test with the ``openssl`` command).

The town: one station with one 3 kW charger ``umi-1-1`` and one car at SoC 0.1 (Nissan Sakura, 19 kWh usable,
charge efficiency 0.9). The service's clock is fixed at 2025-06-02 00:00 UTC and moved on by the tests.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import itertools
import json
import logging
import math
import ssl
import subprocess

import httpx
import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, ChargingProfileStatus
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from service_helpers import NOW, make_town, settings_for
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chisan.service import charger_keys, models
from chisan.service.main import create_app
from chisan.service.ocpp.auth import FailureLimiter, basic_credentials
from chisan.service.testing import ServerThread

UTC = dt.UTC
CP = "umi-1-1"


def z(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class Clock:
    def __init__(self, t: dt.datetime) -> None:
        self.t = t

    def __call__(self) -> dt.datetime:
        return self.t


class Station16(ChargePoint):
    """A 1.6J charge point that numbers its calls and keeps the frames it receives."""

    def __init__(self, cp_id, connection):
        super().__init__(cp_id, connection, response_timeout=20)
        self._unique_id_generator = itertools.count(1).__next__
        self.received: list = []

    async def route_message(self, raw_msg):
        self.received.append(json.loads(raw_msg))
        await super().route_message(raw_msg)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id, cs_charging_profiles, **kwargs):
        return call_result.SetChargingProfile(status=ChargingProfileStatus.accepted)

    def answer_to(self, unique_id: str):
        (hit,) = [m for m in self.received if m[0] in (3, 4) and m[1] == unique_id]
        return hit


class Station201(ChargePoint201):
    def __init__(self, cp_id, connection):
        super().__init__(cp_id, connection, response_timeout=20)
        self._unique_id_generator = itertools.count(1).__next__
        self.received: list = []

    async def route_message(self, raw_msg):
        self.received.append(json.loads(raw_msg))
        await super().route_message(raw_msg)

    def answer_to(self, unique_id: str):
        (hit,) = [m for m in self.received if m[0] in (3, 4) and m[1] == unique_id]
        return hit


@contextlib.contextmanager
def running(url: str, **settings):
    """The service (REST and OCPP) on ``url``'s database with a town, its charger's key set through the API."""
    clock = Clock(NOW)
    app = create_app(settings_for(url, **settings), clock=clock, start_ocpp=True, start_scheduler=False)
    with ServerThread(app) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
        town = make_town(client, "umi", vehicles_per_station=1, chargers_per_station=1, soc_fraction=0.1)
        town.app, town.clock, town.ocpp_port = app, clock, app.state.central.port
        town.cp_key = town.post(f"/api/v1/chargers/{town.chargers[0]}/authorization-key", expect=200).json()[
            "authorization_key"
        ]
        yield town


@pytest.fixture
def town(database_url):
    """The service on SQLite and on PostgreSQL."""
    with running(database_url) as town:
        yield town


async def refused(url: str, headers: dict | None = None, **kw):
    with pytest.raises(InvalidStatus) as err:
        await websockets.connect(url, subprotocols=["ocpp1.6"], additional_headers=headers or {}, **kw)
    return err.value.response


async def open_16(town, key: str | None = None, cls=Station16):
    ws = await websockets.connect(
        f"ws://127.0.0.1:{town.ocpp_port}/{CP}",
        subprotocols=["ocpp1.6"],
        additional_headers=basic(CP, key or town.cp_key),
        open_timeout=20,
    )
    cp = cls(CP, ws)
    task = asyncio.create_task(cp.start())
    return ws, cp, task


async def wait_until(predicate, timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)


# --- authentication


def test_unknown_identity_wrong_key_and_no_key_get_the_same_401(sqlite_url, caplog):
    """Five refusals from one address in this test: the limit is raised to 10 so that the right key still gets in
    (the limit is the next test's)."""
    with running(sqlite_url, ocpp_auth_failures_per_minute=10) as town:
        _same_401(town, caplog)


def _same_401(town, caplog):
    url = f"ws://127.0.0.1:{town.ocpp_port}"
    caplog.set_level(logging.WARNING, logger="chisan.service.ocpp")

    async def scenario():
        answers = [
            await refused(f"{url}/{CP}"),  # no credentials
            await refused(f"{url}/{CP}", basic(CP, "x" * 32)),  # wrong key
            await refused(f"{url}/CP-NOBODY", basic("CP-NOBODY", town.cp_key)),  # unknown identity (a real key)
            await refused(f"{url}/{CP}", basic("someone-else", town.cp_key)),  # right key, user name not the identity
        ]
        for r in answers:
            assert r.status_code == 401
            assert r.body == b"authentication failed\n"
            assert r.headers["WWW-Authenticate"] == 'Basic realm="chisan OCPP", charset="UTF-8"'
        # the right key connects and boots, over 1.6J ...
        ws, cp, task = await open_16(town)
        boot = await cp.call(call.BootNotification(charge_point_model="AC-3", charge_point_vendor="Kaze"))
        assert boot.status == "Accepted"
        task.cancel()
        await ws.close()
        # ... and over 2.0.1 (without credentials: the same 401)
        with pytest.raises(InvalidStatus) as err:
            await websockets.connect(f"{url}/{CP}", subprotocols=["ocpp2.0.1"])
        assert err.value.response.status_code == 401
        ws = await websockets.connect(
            f"{url}/{CP}", subprotocols=["ocpp2.0.1"], additional_headers=basic(CP, town.cp_key)
        )
        cs = Station201(CP, ws)
        task = asyncio.create_task(cs.start())
        boot = await cs.call(
            call201.BootNotification(charging_station={"model": "AC-3", "vendor_name": "Kaze"}, reason="PowerUp")
        )
        assert boot.status == "Accepted" and ws.subprotocol == "ocpp2.0.1"
        task.cancel()
        await ws.close()

    asyncio.run(scenario())
    failures = [r.getMessage() for r in caplog.records if "failed to authenticate" in r.getMessage()]
    assert len(failures) == 5  # 4 on 1.6, 1 on 2.0.1; each names why, for the operator
    assert "no HTTP Basic credentials" in failures[0] and "wrong authorization key" in failures[1]
    assert "unknown identity" in failures[2] and "user name is not the identity" in failures[3]


def test_key_is_stored_hashed_shown_once_and_rotated(town):
    with town.app.state.database.session() as s:
        stored = s.get(models.Charger, town.chargers[0]).auth_key_hash
    assert stored.startswith("scrypt$16384$8$1$") and town.cp_key not in stored
    assert len(town.cp_key) == 32 and charger_keys.verify_key(town.cp_key, stored)
    assert "authorization_key" not in json.dumps(town.get(f"/api/v1/chargers/{town.chargers[0]}").json())
    old = town.cp_key
    r = town.post(f"/api/v1/chargers/{town.chargers[0]}/authorization-key", expect=200).json()
    assert r["ocpp_id"] == CP and r["authorization_key"] != old
    # a key of the operator's own choosing, e.g. provisioned at the factory (16–40 characters)
    mine = "factory-key-0123456789"
    r2 = town.client.post(
        f"/api/v1/chargers/{town.chargers[0]}/authorization-key",
        headers=town.headers,
        json={"authorization_key": mine},
    )
    assert r2.status_code == 200 and r2.json()["authorization_key"] == mine
    short = town.client.post(
        f"/api/v1/chargers/{town.chargers[0]}/authorization-key", headers=town.headers, json={"authorization_key": "x"}
    )
    assert short.status_code == 422 and "authorization_key" in short.json()["message"]
    # another town cannot set (or learn of) this charger's key
    other = make_town(town.client, "kaze", vehicles_per_station=0, chargers_per_station=0)
    assert other.post(f"/api/v1/chargers/{town.chargers[0]}/authorization-key", expect=404).status_code == 404

    async def scenario():
        assert (await refused(f"ws://127.0.0.1:{town.ocpp_port}/{CP}", basic(CP, old))).status_code == 401
        assert (
            await refused(f"ws://127.0.0.1:{town.ocpp_port}/{CP}", basic(CP, r["authorization_key"]))
        ).status_code == 401
        ws, cp, task = await open_16(town, key=mine)
        assert (await cp.call(call.Heartbeat())).current_time == "2025-06-02T00:00:00Z"
        task.cancel()
        await ws.close()

    asyncio.run(scenario())


def test_failed_attempts_are_limited_per_identity_and_per_address(town, caplog):
    """5 failures in 60 s (the default) block the identity and the address: the 6th attempt gets 429, even with
    the right key, without its key being checked."""
    caplog.set_level(logging.WARNING, logger="chisan.service.ocpp")
    url = f"ws://127.0.0.1:{town.ocpp_port}"

    async def scenario():
        for k in range(5):
            assert (await refused(f"{url}/CP-GUESS{k}", basic(f"CP-GUESS{k}", "guess" * 4))).status_code == 401
        r = await refused(f"{url}/{CP}", basic(CP, town.cp_key))  # the address is blocked: the right key too
        assert r.status_code == 429 and r.headers["Retry-After"] == "60"

    asyncio.run(scenario())
    assert sum("failed to authenticate" in r.getMessage() for r in caplog.records) == 5
    assert sum("too many failed authentications" in r.getMessage() for r in caplog.records) == 1
    # the limiter itself, with a clock of our own: per key, sliding 60 s window
    t = [0.0]
    limiter = FailureLimiter(5, clock=lambda: t[0])
    for _ in range(5):
        assert not limiter.blocked("id:a", "ip:1")
        limiter.fail("id:a", "ip:1")
        t[0] += 1.0
    assert limiter.blocked("id:a") and limiter.blocked("ip:1") and not limiter.blocked("id:b", "ip:2")
    t[0] = 60.5  # the first failure (at 0 s) has left the window: 4 remain
    assert not limiter.blocked("id:a")
    assert basic_credentials("Basic " + base64.b64encode(b"a:b:c").decode()) == ("a", "b:c")
    assert basic_credentials("Basic !!!") is None and basic_credentials("Bearer x") is None


def test_a_second_connection_replaces_the_first_only_when_it_authenticates(town):
    async def scenario():
        ws1, cp1, task1 = await open_16(town)
        await cp1.call(call.Heartbeat())
        # an impostor without the key: refused, the charger's connection is untouched
        r = await refused(f"ws://127.0.0.1:{town.ocpp_port}/{CP}", basic(CP, "impostor-" * 4))
        assert r.status_code == 401
        assert (await cp1.call(call.Heartbeat())).current_time == "2025-06-02T00:00:00Z"
        # the charger itself reconnecting (with its key): the new connection replaces the old one
        ws2, cp2, task2 = await open_16(town)
        assert (await cp2.call(call.Heartbeat())).current_time == "2025-06-02T00:00:00Z"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws1.recv(), 10)
        assert ws1.close_code == 1000 and ws1.close_reason == "replaced by a new authenticated connection"
        for task in (task1, task2):
            task.cancel()
        await ws2.close()

    asyncio.run(scenario())


def test_profile_0_refuses_a_second_connection_and_unknown_identities(sqlite_url):
    """Profile 0 (development only) authenticates no one, so a second connection for a connected identity is
    refused (409), and an unknown identity too (404)."""
    with running(sqlite_url, ocpp_security_profile=0) as town:

        async def scenario():
            ws = await websockets.connect(f"ws://127.0.0.1:{town.ocpp_port}/{CP}", subprotocols=["ocpp1.6"])
            assert (await refused(f"ws://127.0.0.1:{town.ocpp_port}/{CP}")).status_code == 409
            assert (await refused(f"ws://127.0.0.1:{town.ocpp_port}/NOBODY")).status_code == 404
            await ws.close()

        asyncio.run(scenario())


# --- TLS (security profile 2)


def self_signed(tmp_path) -> tuple[str, str]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def test_profile_2_serves_wss_with_basic_auth(sqlite_url, tmp_path):
    cert, key = self_signed(tmp_path)
    with running(sqlite_url, ocpp_security_profile=2, ocpp_tls_cert_path=cert, ocpp_tls_key_path=key) as town:
        trusted = ssl.create_default_context(cafile=cert)
        url = f"wss://127.0.0.1:{town.ocpp_port}/{CP}"

        async def scenario():
            # TLS, certificate verified against the self-signed one, and the charger's key: connected
            ws = await websockets.connect(
                url, subprotocols=["ocpp1.6"], ssl=trusted, additional_headers=basic(CP, town.cp_key)
            )
            cp = Station16(CP, ws)
            task = asyncio.create_task(cp.start())
            boot = await cp.call(call.BootNotification(charge_point_model="AC-3", charge_point_vendor="Kaze"))
            assert boot.status == "Accepted"
            assert ws.transport.get_extra_info("ssl_object").version() in ("TLSv1.2", "TLSv1.3")
            task.cancel()
            await ws.close()
            # TLS without the key: 401; plain ws:// to the TLS port: no handshake at all
            assert (await refused(url, ssl=trusted)).status_code == 401
            with pytest.raises((OSError, websockets.exceptions.InvalidMessage, websockets.exceptions.InvalidHandshake)):
                await websockets.connect(
                    f"ws://127.0.0.1:{town.ocpp_port}/{CP}", subprotocols=["ocpp1.6"], open_timeout=5
                )
            # a client that does not trust the certificate refuses the server
            with pytest.raises(ssl.SSLCertVerificationError):
                await websockets.connect(url, subprotocols=["ocpp1.6"], ssl=ssl.create_default_context())

        asyncio.run(scenario())


def test_profile_2_without_certificate_files_is_a_clear_error(tmp_path):
    from chisan.service.core.config import Settings

    with pytest.raises(ValueError, match=r"ocpp_security_profile = 2 \(TLS\) needs ocpp_tls_cert_path"):
        Settings(ocpp_security_profile=2)
    with pytest.raises(ValueError, match=r"ocpp_tls_cert_path = '.*nothing\.pem': no such file"):
        Settings(
            ocpp_security_profile=2,
            ocpp_tls_cert_path=tmp_path / "nothing.pem",
            ocpp_tls_key_path=tmp_path / "nothing.pem",
        )


# --- meter values


def mv(t: dt.datetime, energy=None, power=None, soc=None) -> dict:
    values = []
    if energy is not None:
        values.append({"value": str(energy), "measurand": "Energy.Active.Import.Register", "unit": "Wh"})
    if power is not None:
        values.append({"value": str(power), "measurand": "Power.Active.Import", "unit": "W"})
    if soc is not None:
        values.append({"value": str(soc), "measurand": "SoC", "unit": "Percent"})
    return {"timestamp": z(t), "sampledValue": values}


def test_bad_meter_values_get_a_callerror_and_change_nothing(town):
    """Each bad frame is answered with a CALLERROR naming the value; the session goes on, nothing of the bad
    frames is stored, and the car's SoC is what the good values make it.

    Bounds, by hand, for the 3 kW charger (factor 1.5, skew 300 s): power ≤ 4500 W; energy since the start ≤
    4500 W × (elapsed + 300 s); the transaction starts at 00:00 UTC with 1000 Wh; the clock is at 00:30 UTC.
    """
    car = town.vehicles[0]
    start = NOW
    town.clock.t = NOW + dt.timedelta(minutes=30)
    t10 = NOW + dt.timedelta(minutes=10)  # 10 min in: at most 4500 × 900 / 3600 = 1125 Wh more than the start
    bad = [
        ("energy NaN", 1, [mv(t10, energy="NaN")], "PropertyConstraintViolation", "not a finite number"),
        ("energy not a number", 1, [mv(t10, energy="abc")], "FormationViolation", "'abc' is not a number"),
        ("energy Infinity", 1, [mv(t10, energy="Infinity")], "PropertyConstraintViolation", "not a finite"),
        ("250 kW", 1, [mv(t10, power=250_000)], "PropertyConstraintViolation", "250000 W is outside 0–4500 W"),
        ("12 MWh", 1, [mv(t10, energy=12_000_000)], "PropertyConstraintViolation", "more than the 1125 Wh"),
        ("below the start", 1, [mv(t10, energy=900)], "PropertyConstraintViolation", "below the transaction's start"),
        ("connector 5", 5, [mv(t10, energy=1200)], "PropertyConstraintViolation", "connectorId: 5 is not a connector"),
        (
            "in the future",
            1,
            [mv(NOW + dt.timedelta(minutes=36), energy=1200)],
            "PropertyConstraintViolation",
            "ahead of the central system's clock",
        ),
        (
            "before the transaction",
            1,
            [mv(NOW - dt.timedelta(minutes=6), energy=1000)],
            "PropertyConstraintViolation",
            "before the start of transaction 1",
        ),
        ("SoC 140 %", 1, [mv(t10, soc=140)], "PropertyConstraintViolation", "SoC: 140.0 % is outside 0–100 %"),
        (
            "unreadable time",
            1,
            [{"timestamp": "yesterday", "sampledValue": [{"value": "1200"}]}],
            "FormationViolation",
            "timestamp",
        ),
    ]

    async def scenario():
        ws, cp, task = await open_16(town)
        try:
            tx = await cp.call(
                call.StartTransaction(connector_id=1, id_tag="umi-1-1", meter_start=1000, timestamp=z(start))
            )
            assert tx.transaction_id == 1
            # good: 500 Wh in the first 10 min (3000 W), power 3000 W
            assert (
                await cp.call(call.MeterValues(connector_id=1, transaction_id=1, meter_value=[mv(t10, 1500, 3000)]))
                is not None
            )
            n = len(cp.received)
            for k, (what, connector, values, code, text) in enumerate(bad):
                await cp.call(call.MeterValues(connector_id=connector, transaction_id=1, meter_value=values))
                answer = cp.received[n + k]
                assert answer[0] == 4 and answer[2] == code, (what, answer)
                assert text in answer[3], (what, answer[3])
            # backwards: later than the good sample, lower register
            await cp.call(
                call.MeterValues(
                    connector_id=1, transaction_id=1, meter_value=[mv(t10 + dt.timedelta(minutes=5), 1400)]
                )
            )
            assert cp.received[-1][2] == "PropertyConstraintViolation" and "runs backwards" in cp.received[-1][3]
            # a connector beyond the charger's in StartTransaction
            await cp.call(call.StartTransaction(connector_id=3, id_tag="umi-1-1", meter_start=0, timestamp=z(start)))
            assert cp.received[-1][2] == "PropertyConstraintViolation" and "connectorId: 3" in cp.received[-1][3]
            # frames that are not OCPP at all, or break the message's schema: the connection stays up
            await ws.send("not json at all")
            await ws.send(json.dumps([2, "raw-1", "MeterValues", {"connectorId": "one", "meterValue": []}]))
            await wait_until(lambda: any(m[:2] == [4, "raw-1"] for m in cp.received))
            (schema_error,) = [m for m in cp.received if m[:2] == [4, "raw-1"]]
            assert schema_error[2] in ("FormationViolation", "TypeConstraintViolation"), schema_error
            # the session goes on: heartbeat, a good meter value, a stop
            assert (await cp.call(call.Heartbeat())).current_time == z(town.clock.t)
            t20 = NOW + dt.timedelta(minutes=20)
            assert (
                await cp.call(call.MeterValues(connector_id=1, transaction_id=1, meter_value=[mv(t20, 2000)]))
                is not None
            )
            # a stop with an impossible final register (12 MWh) closes the transaction on the last good one
            stop = await cp.call(call.StopTransaction(meter_stop=12_000_000, timestamp=z(t20), transaction_id=1))
            assert stop.id_tag_info["status"] == "Accepted"
        finally:
            task.cancel()
            await ws.close()

    asyncio.run(scenario())
    with town.app.state.database.session() as s:
        samples = s.query(models.MeterSample).order_by(models.MeterSample.id).all()
        assert [(x.energy_wh, x.power_w) for x in samples] == [(1500.0, 3000.0), (2000.0, 3000.0)]
        assert s.query(models.ChargingSession).count() == 1
    (session,) = town.get("/api/v1/charging-sessions").json()
    assert (session["status"], session["energy_wh"]) == ("stopped", 1000.0)
    # SoC: 0.1 + 1000 Wh × 0.9 / 19 kWh, from the good values only
    vehicle = town.get(f"/api/v1/vehicles/{car}").json()
    assert vehicle["soc_fraction"] == pytest.approx(0.1 + 1.0 * 0.9 / 19.0, abs=1e-9)
    assert not math.isnan(vehicle["soc_fraction"])


def test_bad_meter_values_over_201_get_format_and_property_errors(town):
    town.clock.t = NOW + dt.timedelta(minutes=30)

    def ev(event_type, seq, values, t=NOW):
        return call201.TransactionEvent(
            event_type=event_type,
            timestamp=z(t),
            trigger_reason="MeterValuePeriodic",
            seq_no=seq,
            transaction_info={"transaction_id": "TX-1"},
            id_token={"id_token": "umi-1-1", "type": "ISO14443"} if event_type == "Started" else None,
            evse={"id": 1, "connector_id": 1},
            meter_value=[{"timestamp": z(t), "sampledValue": values}],
        )

    def energy(v):
        return {"value": v, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}

    async def scenario():
        ws = await websockets.connect(
            f"ws://127.0.0.1:{town.ocpp_port}/{CP}",
            subprotocols=["ocpp2.0.1"],
            additional_headers=basic(CP, town.cp_key),
        )
        cs = Station201(CP, ws)
        task = asyncio.create_task(cs.start())
        try:
            await cs.call(ev("Started", 0, [energy(1000)]))
            assert cs.answer_to("1") == [3, "1", {"idTokenInfo": {"status": "Accepted"}}]
            t5 = NOW + dt.timedelta(minutes=5)
            await cs.call(ev("Updated", 1, [energy(12_000_000)], t5))
            assert cs.answer_to("2")[:3] == [4, "2", "PropertyConstraintViolation"]
            await cs.call(
                ev(
                    "Updated",
                    2,
                    [energy(1100), {"value": 250, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "kW"}}],
                    t5,
                )
            )
            assert cs.answer_to("3")[:3] == [4, "3", "PropertyConstraintViolation"]
            assert "250000 W is outside 0–4500 W" in cs.answer_to("3")[3]
            await cs.call(
                call201.MeterValues(evse_id=1, meter_value=[{"timestamp": "soon", "sampledValue": [energy(1)]}])
            )
            assert cs.answer_to("4")[:3] == [4, "4", "FormatViolation"]
            await cs.call(
                call201.MeterValues(evse_id=4, meter_value=[{"timestamp": z(t5), "sampledValue": [energy(1)]}])
            )
            assert cs.answer_to("5")[:3] == [4, "5", "PropertyConstraintViolation"]
            await cs.call(ev("Updated", 3, [energy(1250)], t5))  # 250 Wh in 5 min: 3000 W
            assert cs.answer_to("6") == [3, "6", {}]
            await cs.call(call201.Heartbeat())
            assert cs.answer_to("7") == [3, "7", {"currentTime": z(town.clock.t)}]
        finally:
            task.cancel()
            await ws.close()

    asyncio.run(scenario())
    with town.app.state.database.session() as s:
        assert [x.energy_wh for x in s.query(models.MeterSample).order_by(models.MeterSample.id)] == [1000.0, 1250.0]


# --- isolation from the REST API


def test_heartbeats_answer_while_rest_requests_trickle_in_and_large_bodies_are_parsed(tmp_path):
    """``chisan serve`` (a real server process): while one client trickles a booking body at 100 kB/s and another
    posts 8 MB bodies over and over, a charger's heartbeats are answered as fast as when the service is idle.

    Before the central system had a process of its own, a 33.5 MB body held a heartbeat for 20.4 s (measured on
    this machine, 2026-12-02); with a thread of its own still up to 1.9 s (the REST parser holds Python's
    interpreter lock); in its own process at most 69 ms.
    """
    import socket
    import statistics
    import threading
    import time

    from service_helpers import ADMIN

    from chisan.service.testing import free_port, start_server_process, stop_server_process

    port, ocpp_port = free_port(), free_port()
    env = {"CHISAN_ADMIN_TOKEN": ADMIN, "CHISAN_SCHEDULE_INTERVAL_S": "0", "CHISAN_ACCESS_LOG": "false"}
    proc = start_server_process(
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        port=port,
        ocpp_port=ocpp_port,
        env=env,
        log_path=tmp_path / "log",
    )
    stop = threading.Event()
    parsed: list[int] = []
    trickled = [0]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            town = make_town(client, "iso", vehicles_per_station=1, chargers_per_station=1)
            r = client.post(f"/api/v1/chargers/{town.chargers[0]}/authorization-key", headers=town.headers)
            cp_key = r.json()["authorization_key"]

        def trickle():
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(
                    f"POST /api/v1/bookings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"X-API-Key: {town.key}\r\nContent-Length: 2000000\r\n\r\n".encode()
                    + b'{"vehicle_id": 1, "pad": "'
                )
                while not stop.is_set():
                    s.sendall(b"a" * 1000)
                    trickled[0] += 1000
                    time.sleep(0.01)

        body = json.dumps({"vehicle_id": 1, "pad": [[1.5] * 100] * 13_000})  # 8 MB of JSON to parse
        headers = {**town.headers, "Content-Type": "application/json"}

        def large():
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as c:
                while not stop.is_set():
                    parsed.append(c.post("/api/v1/bookings", content=body, headers=headers).status_code)

        async def heartbeats(seconds: float) -> list[float]:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{ocpp_port}/iso-1-1",
                subprotocols=["ocpp1.6"],
                additional_headers=basic("iso-1-1", cp_key),
            )
            cp = Station16("iso-1-1", ws)
            task = asyncio.create_task(cp.start())
            out = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                t0 = time.perf_counter()
                await cp.call(call.Heartbeat())
                out.append(time.perf_counter() - t0)
                await asyncio.sleep(0.05)
            task.cancel()
            await ws.close()
            return out

        idle = asyncio.run(heartbeats(1.0))
        threads = [threading.Thread(target=f, daemon=True) for f in (trickle, large)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        loaded = sorted(asyncio.run(heartbeats(5.0)))
        stop.set()
        for t in threads:
            t.join(timeout=60)
    finally:
        stop.set()
        stop_server_process(proc)
    figures = (
        f"idle p50 {1000 * statistics.median(idle):.1f} ms; loaded n={len(loaded)} p50 "
        f"{1000 * statistics.median(loaded):.1f} ms, p95 {1000 * loaded[int(0.95 * (len(loaded) - 1))]:.1f} ms, "
        f"max {1000 * loaded[-1]:.1f} ms; {len(parsed)} large bodies answered {sorted(set(parsed))}, "
        f"{trickled[0] / 1000:.0f} kB trickled"
    )
    assert parsed and trickled[0] >= 200_000, figures  # the REST side was busy during the heartbeats
    assert len(loaded) >= 50, figures  # one every 50 ms plus its answer: at least 50 in 5 s
    assert loaded[int(0.95 * (len(loaded) - 1))] < 0.2 and loaded[-1] < 1.0, figures


def test_serve_refuses_profile_2_without_tls_files_with_one_clear_line():
    from typer.testing import CliRunner

    from chisan.cli import app

    result = CliRunner().invoke(app, ["serve", "--ocpp-security-profile", "2"])
    assert result.exit_code == 2
    assert "ocpp_security_profile = 2 (TLS) needs ocpp_tls_cert_path and ocpp_tls_key_path" in result.output
    assert "Traceback" not in result.output
