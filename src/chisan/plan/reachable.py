"""Charging needs the plan can meet: bookings no plan could serve are given back before planning, and a simulated
autonomous fleet whose windows cannot keep a car charged is refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError
from chisan.mobility.availability import vehicle_timeseries
from chisan.mobility.fleet import FleetAssignment
from chisan.plan.inputs import PlanInputs

UNREACHABLE_REPAIR_PASSES = 20
"""Most bookings taken back from over-committed cars (each pass takes back one booking per such car)."""


def unserve_unreachable_bookings(
    inputs: PlanInputs, assignment: FleetAssignment, snapshots: pd.DatetimeIndex, dt: float
) -> tuple[PlanInputs, FleetAssignment]:
    """Take back the bookings a car cannot serve on the plan's charging, and count them unserved.

    The fleet assignment charges each car as soon as it is back; the plan's per-vehicle model counts a car's
    charging in whole steps, so a tight chain of bookings may need more energy than the battery holds
    (:func:`chisan.plan.dispatch.minimum_energy_kwh` above ``usable_kwh``): no plan could serve it, and the
    dispatch would stop. For each such car the first booking that departs at or after the step where the need
    first exceeds the battery is given back (``unserved_reason = "not_enough_time_to_charge"``), and the car's
    series are rebuilt; repeated until every need fits (at most :data:`UNREACHABLE_REPAIR_PASSES` passes).
    """
    from chisan.plan.dispatch import minimum_energy_kwh

    if inputs.fleet_mode != "vehicle" or not len(inputs.vehicles):
        return inputs, assignment
    bookings = assignment.bookings
    for _ in range(UNREACHABLE_REPAIR_PASSES):
        need = minimum_energy_kwh(inputs, cyclic=True)
        usable = inputs.vehicles["usable_kwh"].reindex(need.columns).to_numpy(float)
        over = need.to_numpy(float) > usable[None, :] + 1e-6
        cars = np.flatnonzero(over.any(axis=0))
        if not len(cars):
            break
        start_step = snapshots.searchsorted(pd.DatetimeIndex(bookings["start"]).tz_convert(snapshots.tz))
        vid = bookings["vehicle_id"].astype(object).where(bookings["vehicle_id"].notna(), None).astype(str)
        bookings = bookings.copy()
        for j in cars:  # a few cars at most: one booking each per pass
            first = int(np.argmax(over[:, j]))
            car = (vid == str(need.columns[j])).to_numpy(bool)
            mine = np.flatnonzero(car & (start_step >= first))
            if not len(mine):
                mine = np.flatnonzero(car)
            if not len(mine):
                continue
            k = bookings.index[mine[np.argmin(start_step[mine])]]
            bookings.loc[k, "vehicle_id"] = pd.NA
            bookings.loc[k, "unserved_reason"] = "not_enough_time_to_charge"
            if "energy_at_start_kwh" in bookings:
                bookings.loc[k, "energy_at_start_kwh"] = np.nan
        assignment = dataclasses.replace(assignment, bookings=bookings)
        series = vehicle_timeseries(assignment, snapshots, dt)
        inputs = dataclasses.replace(
            inputs,
            plugged=series.plugged.reindex(columns=inputs.vehicles.index),
            trip_energy_kwh=series.trip_energy_kwh.reindex(columns=inputs.vehicles.index),
        )
    return inputs, assignment


def check_autonomous_reachable(inputs: PlanInputs, autonomous) -> None:
    """Raise ScenarioError naming the first simulated car the plan's windows cannot keep charged."""
    from chisan.plan.dispatch import minimum_energy_kwh, unreachable_needs

    need = minimum_energy_kwh(inputs, cyclic=True)
    problem = unreachable_needs(inputs, need)
    if problem is not None:
        days = len(inputs.snapshots) * inputs.dt_hours / 24
        raise ScenarioError(
            f"fleet.kind = 'autonomous': {problem}. The plan may charge a simulated car only in the steps it is "
            f"parked at its charger for the whole step; over fleet.autonomous.simulated_days = "
            f"{autonomous.simulated_days} repeated over the {days:g} planned days these windows do not give it back "
            "what it drives. Try simulated_days dividing the planned days, horizon.step_minutes = 15, another "
            "fleet.autonomous.seed, or more fleet.autonomous.cars"
        )
