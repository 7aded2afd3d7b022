"""OCPP 2.0.1: the central system's side of one charging station connection (one ``ocpp.v201.ChargePoint`` subclass).

Handled: BootNotification, Heartbeat, StatusNotification, Authorize, TransactionEvent (Started, Updated, Ended —
2.0.1's start, meter values and stop of a transaction), MeterValues; sent: SetChargingProfile (a TxProfile with the
car's planned power in W). Transactions keep the station's own id (``transactionId``, a string); the EVSE id plays
the part of 1.6's connector id. Every time sent is UTC with a ``Z``.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from ocpp.exceptions import FormatViolationError
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    ChargingProfileKindEnumType,
    ChargingProfilePurposeEnumType,
    ChargingRateUnitEnumType,
    RegistrationStatusEnumType,
    TransactionEventEnumType,
)

from chisan.service.ocpp import store
from chisan.service.ocpp.v16 import iso_z

if TYPE_CHECKING:
    from chisan.service.ocpp.central_system import CentralSystem

PROTOCOL = "ocpp2.0.1"


def _status(ok: bool) -> dict:
    return {"status": AuthorizationStatusEnumType.accepted if ok else AuthorizationStatusEnumType.invalid}


class ChargePoint201(ChargePoint):
    """A connected OCPP 2.0.1 charging station, as the central system sees it (calls numbered 1, 2, …)."""

    def __init__(self, charge_point_id: str, connection, central: CentralSystem) -> None:
        super().__init__(charge_point_id, connection, response_timeout=central.response_timeout_s)
        self.central = central
        self._unique_id_generator = itertools.count(1).__next__

    def _refused(self, action: str, err: store.FrameError):
        """The CALLERROR of a refused frame (FormatViolation or PropertyConstraintViolation), logged."""
        return self.central.refuse(self.id, action, err, formation_error=FormatViolationError)

    @on(Action.boot_notification)
    async def on_boot_notification(self, charging_station: dict, reason: str, **kwargs):
        now = self.central.now()
        known = await self.central.db(
            store.boot,
            ocpp_id=self.id,
            vendor=charging_station.get("vendor_name", ""),
            model=charging_station.get("model", ""),
            firmware=charging_station.get("firmware_version"),
            protocol=PROTOCOL,
            now=now,
        )
        return call_result.BootNotification(
            current_time=iso_z(now),
            interval=self.central.heartbeat_interval_s,
            status=RegistrationStatusEnumType.accepted if known else RegistrationStatusEnumType.rejected,
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self, **kwargs):
        now = self.central.now()
        await self.central.db(store.seen, ocpp_id=self.id, now=now)
        return call_result.Heartbeat(current_time=iso_z(now))

    @on(Action.status_notification)
    async def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **kwargs
    ):
        await self.central.db(
            store.status,
            ocpp_id=self.id,
            connector_id=connector_id,
            status=connector_status,
            error_code="NoError",
            now=self.central.now(),
        )
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_token: dict, **kwargs):
        ok = await self.central.db(store.authorize, ocpp_id=self.id, id_tag=id_token["id_token"])
        return call_result.Authorize(id_token_info=_status(ok))

    @on(Action.transaction_event)
    async def on_transaction_event(
        self, event_type: str, timestamp: str, trigger_reason: str, seq_no: int, transaction_info: dict, **kwargs
    ):
        now = self.central.now()
        try:
            return await self._transaction_event(event_type, timestamp, transaction_info, now, kwargs)
        except store.FrameError as err:
            raise self._refused(Action.transaction_event, err) from None

    async def _transaction_event(self, event_type: str, timestamp: str, transaction_info: dict, now, kwargs: dict):
        ref = transaction_info["transaction_id"]
        at = store.parse_time(timestamp, now)
        samples = store.parse_meter_values_201(kwargs.get("meter_value") or [], at)
        evse = (kwargs.get("evse") or {}).get("id", 1)
        id_token = (kwargs.get("id_token") or {}).get("id_token")
        answer = call_result.TransactionEvent()
        if event_type == TransactionEventEnumType.started:
            energy = [s.energy_wh for s in samples if s.energy_wh is not None]
            _sid, ok, _vehicle = await self.central.db(
                store.start_transaction,
                ocpp_id=self.id,
                connector_id=evse,
                id_tag=id_token or "",
                meter_start_wh=energy[0] if energy else 0.0,
                started_at=at,
                transaction_ref=ref,
            )
            if id_token is not None:
                answer = call_result.TransactionEvent(id_token_info=_status(ok))
        if samples:
            await self.central.db(
                store.meter_values,
                ocpp_id=self.id,
                connector_id=evse,
                transaction_id=None,
                transaction_ref=ref,
                samples=samples,
                overdraw_fraction=self.central.overdraw_tolerance_fraction,
                overdraw_w=self.central.overdraw_tolerance_w,
                bounds=self.central.bounds(now),
            )
        if event_type == TransactionEventEnumType.ended:
            energy = [s.energy_wh for s in samples if s.energy_wh is not None]
            await self.central.db(
                store.stop_transaction,
                ocpp_id=self.id,
                transaction_id=None,
                transaction_ref=ref,
                meter_stop_wh=energy[-1] if energy else None,
                stopped_at=at,
                reason=transaction_info.get("stopped_reason"),
                bounds=self.central.bounds(now),
            )
        return answer

    @after(Action.transaction_event)
    async def after_transaction_event(self, event_type: str, **kwargs):
        if event_type == TransactionEventEnumType.started:
            await self.central.push_profiles(ocpp_id=self.id)

    @on(Action.meter_values)
    async def on_meter_values(self, evse_id: int, meter_value: list, **kwargs):
        now = self.central.now()
        try:
            samples = store.parse_meter_values_201(meter_value, now)
            await self.central.db(
                store.meter_values,
                ocpp_id=self.id,
                connector_id=evse_id,
                transaction_id=None,
                samples=samples,
                overdraw_fraction=self.central.overdraw_tolerance_fraction,
                overdraw_w=self.central.overdraw_tolerance_w,
                bounds=self.central.bounds(now),
            )
        except store.FrameError as err:
            raise self._refused(Action.meter_values, err) from None
        return call_result.MeterValues()

    async def set_charging_profile(self, plan: store.ProfilePlan) -> str:
        """Send a TxProfile for the plan's transaction; returns the station's answer."""
        periods = []
        for k, limit in enumerate(plan.limits_w):
            if not periods or periods[-1]["limit"] != limit:
                periods.append({"start_period": k * plan.step_seconds, "limit": limit})
        profile = {
            "id": plan.schedule_id,
            "stack_level": 0,
            "charging_profile_purpose": ChargingProfilePurposeEnumType.tx_profile,
            "charging_profile_kind": ChargingProfileKindEnumType.absolute,
            "transaction_id": plan.transaction_ref,
            "charging_schedule": [
                {
                    "id": plan.schedule_id,
                    "start_schedule": iso_z(plan.start_at),
                    "duration": len(plan.limits_w) * plan.step_seconds,
                    "charging_rate_unit": ChargingRateUnitEnumType.watts,
                    "charging_schedule_period": periods,
                }
            ],
        }
        response = await self.call(call.SetChargingProfile(evse_id=plan.connector_id, charging_profile=profile))
        if response is None:
            return "CallError"
        return str(response.status)
