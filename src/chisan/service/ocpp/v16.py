"""OCPP 1.6J: the central system's side of one charge point connection (one ``ocpp.v16.ChargePoint`` subclass).

Handled: BootNotification, Heartbeat, StatusNotification, Authorize, StartTransaction, StopTransaction,
MeterValues; sent: SetChargingProfile (a TxProfile with the car's planned power in W). Every time sent is UTC
with a ``Z``; every database write runs in a worker thread (:meth:`CentralSystem.db`).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from ocpp.exceptions import FormationViolationError
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.datatypes import ChargingProfile, ChargingSchedule, ChargingSchedulePeriod, IdTagInfo
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    RegistrationStatus,
)

from chisan.service.ocpp import store

if TYPE_CHECKING:
    from chisan.service.ocpp.central_system import CentralSystem

PROTOCOL = "ocpp1.6"


def iso_z(t) -> str:
    """A UTC time as OCPP writes it: ``2025-06-02T06:00:00Z`` (whole seconds)."""
    return t.astimezone(store.dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def schedule_periods(limits_w: list[float], step_seconds: int) -> list[ChargingSchedulePeriod]:
    """Charging schedule periods from limits per step [W]: a period starts where the limit changes."""
    periods = []
    for k, limit in enumerate(limits_w):
        if not periods or periods[-1].limit != limit:
            periods.append(ChargingSchedulePeriod(start_period=k * step_seconds, limit=limit))
    return periods


class ChargePoint16(ChargePoint):
    """A connected OCPP 1.6J charge point, as the central system sees it.

    Calls the central system sends are numbered 1, 2, … per connection (predictable unique ids).
    """

    def __init__(self, charge_point_id: str, connection, central: CentralSystem) -> None:
        super().__init__(charge_point_id, connection, response_timeout=central.response_timeout_s)
        self.central = central
        self._unique_id_generator = itertools.count(1).__next__

    def _refused(self, action: str, err: store.FrameError):
        """The CALLERROR of a refused frame (FormationViolation or PropertyConstraintViolation), logged."""
        return self.central.refuse(self.id, action, err, formation_error=FormationViolationError)

    # --- calls from the charge point

    @on(Action.boot_notification)
    async def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kwargs):
        now = self.central.now()
        known = await self.central.db(
            store.boot,
            ocpp_id=self.id,
            vendor=charge_point_vendor,
            model=charge_point_model,
            firmware=kwargs.get("firmware_version"),
            protocol=PROTOCOL,
            now=now,
        )
        return call_result.BootNotification(
            current_time=iso_z(now),
            interval=self.central.heartbeat_interval_s,
            status=RegistrationStatus.accepted if known else RegistrationStatus.rejected,
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self):
        now = self.central.now()
        await self.central.db(store.seen, ocpp_id=self.id, now=now)
        return call_result.Heartbeat(current_time=iso_z(now))

    @on(Action.status_notification)
    async def on_status_notification(self, connector_id: int, error_code: str, status: str, **kwargs):
        await self.central.db(
            store.status,
            ocpp_id=self.id,
            connector_id=connector_id,
            status=status,
            error_code=error_code,
            now=self.central.now(),
        )
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str):
        ok = await self.central.db(store.authorize, ocpp_id=self.id, id_tag=id_tag)
        return call_result.Authorize(
            id_tag_info=IdTagInfo(status=AuthorizationStatus.accepted if ok else AuthorizationStatus.invalid)
        )

    @on(Action.start_transaction)
    async def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kwargs):
        try:
            tx, ok, _vehicle = await self.central.db(
                store.start_transaction,
                ocpp_id=self.id,
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start_wh=float(meter_start),
                started_at=store.parse_time(timestamp, self.central.now()),
            )
        except store.FrameError as err:
            raise self._refused(Action.start_transaction, err) from None
        return call_result.StartTransaction(
            transaction_id=tx,
            id_tag_info=IdTagInfo(status=AuthorizationStatus.accepted if ok else AuthorizationStatus.invalid),
        )

    @after(Action.start_transaction)
    async def after_start_transaction(self, **kwargs):
        # the profile goes out once the charge point has its transaction id
        await self.central.push_profiles(ocpp_id=self.id)

    @on(Action.meter_values)
    async def on_meter_values(self, connector_id: int, meter_value: list, transaction_id: int | None = None):
        now = self.central.now()
        try:
            samples = store.parse_meter_values(meter_value, now)
            await self.central.db(
                store.meter_values,
                ocpp_id=self.id,
                connector_id=connector_id,
                transaction_id=transaction_id,
                samples=samples,
                overdraw_fraction=self.central.overdraw_tolerance_fraction,
                overdraw_w=self.central.overdraw_tolerance_w,
                bounds=self.central.bounds(now),
            )
        except store.FrameError as err:
            raise self._refused(Action.meter_values, err) from None
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    async def on_stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int, **kwargs):
        now = self.central.now()
        if kwargs.get("transaction_data"):
            try:  # the transaction is closed even when its data are refused (the charger would repeat the stop)
                samples = store.parse_meter_values(kwargs["transaction_data"], now)
                await self.central.db(
                    store.meter_values,
                    ocpp_id=self.id,
                    connector_id=0,
                    transaction_id=transaction_id,
                    samples=samples,
                    overdraw_fraction=self.central.overdraw_tolerance_fraction,
                    overdraw_w=self.central.overdraw_tolerance_w,
                    bounds=self.central.bounds(now),
                )
            except store.FrameError as err:
                self._refused(Action.stop_transaction, err)
        await self.central.db(
            store.stop_transaction,
            ocpp_id=self.id,
            transaction_id=transaction_id,
            meter_stop_wh=float(meter_stop),
            stopped_at=store.parse_time(timestamp, now),
            reason=kwargs.get("reason"),
            bounds=self.central.bounds(now),
        )
        return call_result.StopTransaction(id_tag_info=IdTagInfo(status=AuthorizationStatus.accepted))

    # --- calls to the charge point

    async def set_charging_profile(self, plan: store.ProfilePlan) -> str:
        """Send a TxProfile for the plan's transaction; returns the charge point's answer (or why it failed)."""
        profile = ChargingProfile(
            charging_profile_id=plan.schedule_id,
            stack_level=0,
            charging_profile_purpose=ChargingProfilePurposeType.tx_profile,
            charging_profile_kind=ChargingProfileKindType.absolute,
            transaction_id=plan.session_id,
            charging_schedule=ChargingSchedule(
                charging_rate_unit=ChargingRateUnitType.watts,
                duration=len(plan.limits_w) * plan.step_seconds,
                start_schedule=iso_z(plan.start_at),
                charging_schedule_period=schedule_periods(plan.limits_w, plan.step_seconds),
            ),
        )
        response = await self.call(
            call.SetChargingProfile(connector_id=plan.connector_id, cs_charging_profiles=profile)
        )
        if response is None:
            return "CallError"
        return ChargingProfileStatus(response.status).value
