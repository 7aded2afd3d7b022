"""Disaster mode of a town (issue 12): called cars stay at the shelters, charged, and are not booked.

An operator switches the mode on for a town with its shelters (critical load [kW]) and the cars called to them
(all cars of some bases, and/or cars by id). While it is on:

- a booking (new or changed) of a called car is refused (409, reason ``disaster_mode``, naming the car and the
  shelters); a booking of "any car of a station" skips the called cars;
- the rolling schedule charges the called cars to full (:func:`chisan.service.scheduler.plan_inputs`);
- the status, and the dashboard, give the hours the shelters would stay supplied by the called cars from now.

The hours are REopt's outage simulation as chisan implements it (:func:`chisan.resilience.outage.simulate_outages`),
run for one start (now) in 1-minute steps, with the called cars connected at once, the town's stationary storage,
its second-life storage (the retired car packs a plan put at its sites, :mod:`chisan.plan.second_life`), and no PV
(the outage is assumed to have cut the grid, and the service does not forecast PV for an island). Each store
counts with :data:`STORAGE_STATE_FRACTION` of its energy, the state every rolling schedule starts and ends at (the
service has no storage telemetry; the schedules do not run the second-life packs, which are taken at the same
state), the share of it at the shelters (the town's scenario's ``[resilience] storage_share_fraction``, else all
of it) and its own discharge efficiency: the schedules' for the stationary storage, √η_rt for the second-life packs
(as the planner splits their round trip, :attr:`chisan.plan.second_life.SecondLifeOffer.efficiency`). They
discharge in order, each within its power: the stationary storage, the second-life packs, then the cars (the plan's
outage simulation puts storage before the cars). For a constant load within the power of each this is
(Σ store energy × its discharge efficiency + energy above reserve × V2H efficiency) / load, rounded down to the
minute (REopt's rule: a step counts only when fully supplied). :func:`supply_steps` runs the same step rule as
``simulate_outages`` for one start with any number of stores, from one change of dispatch to the next (a store
running empty or down to its last step) instead of minute by minute.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from chisan.plan.inputs import PlanInputs
from chisan.service import models, schemas
from chisan.service.errors import BookingRefusedError, FieldError, NotFoundError
from chisan.service.vehicles import energies_now_kwh

STEP_HOURS = 1.0 / 60.0
"""Step of the supply simulation [h] (hours left are whole minutes)."""

HORIZON_HOURS = 168.0
"""Longest supply the status looks at [h] (a week; ``hours_of_supply_left_h`` is capped there)."""

STORAGE_STATE_FRACTION = 0.5
"""Energy the town's stationary storage holds now, as the service assumes it [fraction of its energy]: every rolling
schedule starts and ends with half of it (:func:`chisan.service.scheduler.charging_problem`,
``storage_initial_kwh`` and ``storage_target_kwh``), as the service has no storage telemetry."""

STORAGE_DISCHARGE_EFFICIENCY_FRACTION: float = PlanInputs.__dataclass_fields__["storage_discharge_efficiency"].default
"""Discharge efficiency of the town's storage: the one the service's schedules use (``PlanInputs``' default)."""


@dataclass(frozen=True)
class CalledCars:
    """The cars a town's active disaster mode holds: vehicle id → name, and the shelters' names."""

    names: dict[int, str]
    shelters: tuple[str, ...]
    started_at: dt.datetime

    def refusal(self, vehicle_id: int) -> BookingRefusedError:
        """The 409 refusal of a booking of the called car ``vehicle_id``."""
        which = ", ".join(f"'{s}'" for s in self.shelters)
        noun = "shelter" if len(self.shelters) == 1 else "shelters"
        return BookingRefusedError(
            schemas.BookingRefusal(
                message=f"vehicle_id: vehicle {vehicle_id} ({self.names[vehicle_id]}) is called to the {noun} "
                f"{which} by the town's disaster mode (on since {self.started_at.isoformat()}); it cannot be "
                "booked until the mode is switched off",
                field="vehicle_id",
                reason="disaster_mode",
            )
        )


def _row(session: Session, municipality_id: int) -> models.DisasterMode | None:
    return session.scalar(sa.select(models.DisasterMode).where(models.DisasterMode.municipality_id == municipality_id))


def _called_vehicles(session: Session, row: models.DisasterMode) -> list[models.Vehicle]:
    """The called cars of ``row`` (by base or by id), in service, by id."""
    stations, ids = list(row.called_station_ids), list(row.called_vehicle_ids)
    if not stations and not ids:
        return []
    return session.scalars(
        sa.select(models.Vehicle)
        .where(
            models.Vehicle.municipality_id == row.municipality_id,
            models.Vehicle.is_disabled.is_(False),
            sa.or_(models.Vehicle.station_id.in_(stations), models.Vehicle.id.in_(ids)),
        )
        .order_by(models.Vehicle.id)
    ).all()


def called_cars(session: Session, *, municipality_id: int) -> CalledCars | None:
    """The cars held by the town's disaster mode, or None when the mode is off (one query when off)."""
    row = _row(session, municipality_id)
    if row is None or not row.active:
        return None
    names = {v.id: v.name for v in _called_vehicles(session, row)}
    return CalledCars(names=names, shelters=tuple(s["name"] for s in row.shelters), started_at=row.started_at)


def check_booking(session: Session, *, municipality_id: int, vehicle_id: int) -> None:
    """Refuse (409) a booking of ``vehicle_id`` when the town's disaster mode calls it."""
    held = called_cars(session, municipality_id=municipality_id)
    if held is not None and vehicle_id in held.names:
        raise held.refusal(vehicle_id)


def switch_on(
    session: Session, *, municipality: models.Municipality, data: schemas.DisasterIn, now: dt.datetime
) -> models.DisasterMode:
    """Switch the mode on (or change it while on: ``started_at`` is kept).

    Raises
    ------
    FieldError
        A called station or car is not the town's.
    """
    mid = municipality.id
    for i, sid in enumerate(data.called_station_ids):
        if (
            session.scalar(
                sa.select(models.Station.id).where(models.Station.municipality_id == mid, models.Station.id == sid)
            )
            is None
        ):
            raise FieldError(
                f"called_station_ids.{i}: station {sid} is not a station of this town", field=f"called_station_ids.{i}"
            )
    for i, vid in enumerate(data.called_vehicle_ids):
        if (
            session.scalar(
                sa.select(models.Vehicle.id).where(models.Vehicle.municipality_id == mid, models.Vehicle.id == vid)
            )
            is None
        ):
            raise FieldError(
                f"called_vehicle_ids.{i}: vehicle {vid} is not a vehicle of this town", field=f"called_vehicle_ids.{i}"
            )
    row = _row(session, mid)
    if row is None:
        row = models.DisasterMode(municipality_id=mid)
        session.add(row)
    if not row.active:
        row.started_at = now
    row.active, row.ended_at = True, None
    row.shelters = [s.model_dump() for s in data.shelters]
    row.called_station_ids = sorted(set(data.called_station_ids))
    row.called_vehicle_ids = sorted(set(data.called_vehicle_ids))
    row.v2h_kw_per_car = data.v2h_kw_per_car
    row.v2h_efficiency_fraction = data.v2h_efficiency_fraction
    row.reserve_soc_fraction = data.reserve_soc_fraction
    session.commit()
    return row


def switch_off(session: Session, *, municipality: models.Municipality, now: dt.datetime) -> None:
    """Switch the mode off (nothing to do when it is off; the last activation stays on record)."""
    row = _row(session, municipality.id)
    if row is not None and row.active:
        row.active, row.ended_at = False, now
        session.commit()


def check_town(municipality: models.Municipality, town: str) -> None:
    """The path's town must be the key's (another town is not found, as another town's objects are not)."""
    if town != municipality.slug:
        raise NotFoundError(f"town: '{town}' is not the town of this API key ('{municipality.slug}')", field="town")


TOLERANCE_KW = 1e-6
"""Unmet load below this counts as met [kW] (``chisan.resilience.outage``'s round-off tolerance, REopt's
``round(load_kw, digits=5) > 0``)."""


def supply_steps(load_kw: float, deliverable_kwh: np.ndarray, power_kw: np.ndarray, dt_hours: float, n_max: int) -> int:
    """Whole steps a constant load [kW] is met by sources discharged in order, at most ``n_max``.

    The step rule of :func:`chisan.resilience.outage.simulate_outages` for one start and no PV: in each step source
    i gives min(the load left, its power, its energy left / Δt); a step counts only when the load is met in full
    (to :data:`TOLERANCE_KW`), and the first that is not ends the supply. ``deliverable_kwh`` is each source's
    energy as the load receives it (energy held × discharge efficiency) [kWh], ``power_kw`` its power at the load
    [kW]. The dispatch stays the same from step to step until a source's energy runs below one more step of its
    share, so the loop is over those changes (at most two per source), not over the steps.
    """
    left = np.array(deliverable_kwh, float)
    power = np.array(power_kw, float)
    steps = 0
    while steps < n_max:
        avail_kw = np.minimum(power, np.clip(left, 0.0, None) / dt_hours)
        before_kw = np.concatenate(([0.0], np.cumsum(avail_kw)[:-1]))
        give_kw = np.clip(np.minimum(avail_kw, load_kw - before_kw), 0.0, None)  # in order: storage first
        if load_kw - float(give_kw.sum()) > TOLERANCE_KW:
            break
        used = give_kw > 0
        if not used.any():  # no load: met to the end
            return n_max
        # steps this dispatch repeats: while every source used holds its share of one more step
        repeat = np.floor(left[used] / (give_kw[used] * dt_hours) + 1e-9).min()
        k = int(min(max(1.0, repeat), n_max - steps))
        left[used] = left[used] - k * give_kw[used] * dt_hours
        steps += k
    return steps


def hours_left_h(
    critical_load_kw: float,
    above_reserve_kwh: np.ndarray,
    v2h_kw_per_car: float,
    v2h_efficiency_fraction: float,
    *,
    storage_start_kwh: float = 0.0,
    storage_kw: float = 0.0,
    storage_discharge_efficiency_fraction: float = STORAGE_DISCHARGE_EFFICIENCY_FRACTION,
    second_life_start_kwh: float = 0.0,
    second_life_kw: float = 0.0,
    second_life_discharge_efficiency_fraction: float = 1.0,
) -> float:
    """Hours the shelters stay supplied by the storage, the second-life packs and the called cars from now [h], at
    most :data:`HORIZON_HOURS`.

    One start of the outage simulation (:func:`supply_steps`): the stationary storage holding ``storage_start_kwh``
    [kWh] within ``storage_kw`` [kW], then the second-life packs holding ``second_life_start_kwh`` [kWh] within
    ``second_life_kw`` [kW] (neither is recharged: there is no PV), then the cars, connected at once with their
    energy above reserve [kWh], each within ``v2h_kw_per_car`` [kW]; a constant load [kW].
    """
    above = np.asarray(above_reserve_kwh, float)
    deliverable = np.array(
        [
            storage_start_kwh * storage_discharge_efficiency_fraction,
            second_life_start_kwh * second_life_discharge_efficiency_fraction,
            float(above.sum()) * v2h_efficiency_fraction,
        ]
    )
    power = np.array([storage_kw, second_life_kw, len(above) * v2h_kw_per_car])
    n_max = round(HORIZON_HOURS / STEP_HOURS)
    return supply_steps(critical_load_kw, deliverable, power, STEP_HOURS, n_max) * STEP_HOURS


def storage_share_fraction(municipality: models.Municipality) -> float:
    """Share of the town's storage that feeds the shelters: its scenario's ``[resilience]``, else 1 (all of it)."""
    if not municipality.scenario_path:
        return 1.0
    from chisan.scenario.load import load_scenario

    resilience = load_scenario(municipality.scenario_path).resilience
    return 1.0 if resilience is None else float(resilience.storage_share_fraction)


def storage_now(municipality: models.Municipality) -> tuple[float, float]:
    """The town's stationary storage for the shelters now: energy held [kWh] and power [kW].

    :data:`STORAGE_STATE_FRACTION` of its energy, times the share at the shelters (:func:`storage_share_fraction`);
    none when the town has no storage energy or no storage power (as the schedules, which then leave it out).
    """
    if municipality.storage_kwh <= 0 or municipality.storage_kw <= 0:
        return 0.0, 0.0
    share = storage_share_fraction(municipality)
    return STORAGE_STATE_FRACTION * municipality.storage_kwh * share, municipality.storage_kw * share


def second_life_discharge_efficiency_fraction(municipality: models.Municipality) -> float:
    """Discharge efficiency of the town's second-life packs: √η_rt (the planner's split of the round trip,
    :attr:`chisan.plan.second_life.SecondLifeOffer.efficiency`)."""
    eta = municipality.second_life_round_trip_efficiency_fraction
    return math.sqrt(0.85 if eta is None else eta)  # None: not yet stored (the server default)


def second_life_now(municipality: models.Municipality) -> tuple[float, float]:
    """The town's second-life storage for the shelters now: energy held [kWh] and power [kW].

    As :func:`storage_now`: :data:`STORAGE_STATE_FRACTION` of its energy and the share at the shelters; none when
    the town has no second-life energy or no second-life power.
    """
    kwh, kw = municipality.second_life_kwh or 0.0, municipality.second_life_kw or 0.0  # None: not yet stored
    if kwh <= 0 or kw <= 0:
        return 0.0, 0.0
    share = storage_share_fraction(municipality)
    return STORAGE_STATE_FRACTION * kwh * share, kw * share


def status(session: Session, *, municipality: models.Municipality, now: dt.datetime) -> schemas.DisasterOut:
    """The town's disaster mode, its called cars with their energy now, its storage, and the hours of shelter supply
    left."""
    row = _row(session, municipality.id)
    if row is None:
        return schemas.DisasterOut(town=municipality.slug, active=False, horizon_h=HORIZON_HOURS)
    out = schemas.DisasterOut(
        town=municipality.slug,
        active=row.active,
        started_at=row.started_at,
        ended_at=row.ended_at,
        shelters=[schemas.DisasterShelterIn(**s) for s in row.shelters],
        called_station_ids=row.called_station_ids,
        called_vehicle_ids=row.called_vehicle_ids,
        v2h_kw_per_car=row.v2h_kw_per_car,
        v2h_efficiency_fraction=row.v2h_efficiency_fraction,
        reserve_soc_fraction=row.reserve_soc_fraction,
        critical_load_kw=sum(s["critical_load_kw"] for s in row.shelters),
        horizon_h=HORIZON_HOURS,
    )
    if not row.active:
        return out
    cars = _called_vehicles(session, row)
    energies = energies_now_kwh(session, municipality_id=municipality.id, now=now)
    energy = np.array([energies[v.id] for v in cars], float)
    usable = np.array([v.usable_kwh for v in cars], float)
    above = np.clip(energy - row.reserve_soc_fraction * usable, 0.0, None)  # as chisan.resilience.plan
    out.cars = [
        schemas.DisasterCarOut(
            vehicle_id=v.id, name=v.name, station_id=v.station_id, energy_kwh=round(e, 3), above_reserve_kwh=round(a, 3)
        )
        for v, e, a in zip(cars, energy, above, strict=True)
    ]
    out.usable_energy_kwh = round(float(above.sum()) * row.v2h_efficiency_fraction, 3)
    storage_kwh, storage_kw = storage_now(municipality)
    out.storage_energy_kwh = round(storage_kwh * STORAGE_DISCHARGE_EFFICIENCY_FRACTION, 3)
    second_kwh, second_kw = second_life_now(municipality)
    eta_second = second_life_discharge_efficiency_fraction(municipality)
    out.second_life_energy_kwh = round(second_kwh * eta_second, 3)
    out.hours_of_supply_left_h = round(
        hours_left_h(
            out.critical_load_kw,
            above,
            row.v2h_kw_per_car,
            row.v2h_efficiency_fraction,
            storage_start_kwh=storage_kwh,
            storage_kw=storage_kw,
            second_life_start_kwh=second_kwh,
            second_life_kw=second_kw,
            second_life_discharge_efficiency_fraction=eta_second,
        ),
        4,
    )
    ids = [v.id for v in cars]
    if ids:
        out.conflicting_booking_ids = list(
            session.scalars(
                sa.select(models.Booking.id)
                .where(
                    models.Booking.vehicle_id.in_(ids),
                    models.Booking.status == "confirmed",
                    sa.or_(models.Booking.end_at > now, models.Booking.expected_return_at > now),
                )
                .order_by(models.Booking.id)
            )
        )
    return out
