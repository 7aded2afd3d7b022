"""From a :class:`~chisan.service.schedule_state.FleetState` to the planning model's inputs on the schedule's steps.

Step 2 of the pipeline of :mod:`chisan.service.scheduler`, which re-exports these names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.mobility.availability import vehicle_timeseries
from chisan.mobility.fleet import FleetAssignment
from chisan.plan.dispatch import minimum_energy_kwh
from chisan.plan.inputs import Capacity, PlanInputs
from chisan.service.schedule_state import LOOKAHEAD_HOURS, FleetState
from chisan.service.schedule_verify import TOLERANCE_KWH

# --- from the state to the model's inputs


def booking_series(state: FleetState, snapshots: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plug-in mask and trip energy of every car on ``snapshots`` (the mobility code's own availability rules).

    Bookings under way (started before the first step) keep their car away until they end; their energy has
    already left the battery (it is in the car's energy now).
    """
    b = state.bookings.copy()
    for column in ("start", "end"):  # also gives an empty frame datetime columns
        b[column] = pd.to_datetime(b[column], utc=True).dt.tz_convert(snapshots.tz)
    b["trip_energy_kwh"] = b["trip_energy_kwh"].astype(float)
    under_way = b["start"] < snapshots[0]
    b.loc[under_way, "trip_energy_kwh"] = 0.0
    b.loc[under_way, "start"] = snapshots[0]
    b = b[b["end"] > snapshots[0]]
    assignment = FleetAssignment(
        bookings=b.rename(columns={"vehicle": "vehicle_id"}),
        vehicles=pd.DataFrame({"vehicle_id": state.vehicles.index, "station": state.vehicles["station"].to_numpy()}),
        usable_kwh=np.nan,
        reserve_kwh=np.nan,
        charge_power_kw=np.nan,
        charge_efficiency=np.nan,
        turnaround_min=0.0,
        dt_hours=state.dt_hours,
    )
    series = vehicle_timeseries(assignment, snapshots, state.dt_hours)
    return series.plugged.reindex(columns=state.vehicles.index), series.trip_energy_kwh.reindex(
        columns=state.vehicles.index
    )


def _min_inputs(state: FleetState, snapshots, vehicles, plugged, trips) -> PlanInputs:
    zeros = pd.Series(0.0, index=snapshots)
    return PlanInputs(
        snapshots=snapshots,
        dt_hours=state.dt_hours,
        pv_kw_per_kw=zeros,
        wind_kw_per_kw=zeros,
        import_price_per_kwh=zeros,
        export_price_per_kwh=zeros,
        emission_factor_kg_per_kwh=zeros,
        stations=state.stations,
        vehicles=vehicles,
        plugged=plugged,
        trip_energy_kwh=trips,
        capacities={},
        annualise=False,
    )


def terminal_need_kwh(state: FleetState) -> pd.Series:
    """Energy each car must hold after the horizon so that the next day's bookings can start [kWh].

    The least-energy recursion (:func:`minimum_energy_kwh`, non-cyclic) over the horizon and
    :data:`LOOKAHEAD_HOURS` after it, read at the last step of the horizon.
    """
    n = state.n_steps
    extra = round(LOOKAHEAD_HOURS / state.dt_hours)
    longer = pd.date_range(state.snapshots[0], periods=n + extra, freq=pd.Timedelta(hours=state.dt_hours))
    plugged, trips = booking_series(state, longer)
    need = minimum_energy_kwh(_min_inputs(state, longer, state.vehicles, plugged, trips), cyclic=False)
    return need.iloc[n - 1]


def attainable_trips(
    state: FleetState, plugged: pd.DataFrame, trips: pd.DataFrame, terminal_kwh: pd.Series
) -> tuple[pd.DataFrame, pd.Series, pd.Series, dict[int, float]]:
    """Trips, reserves and terminal energies that each car can meet on its own, and the bookings it cannot.

    Each car charges as soon as possible at its full power (the most energy it can have at every step); a
    trip that would leave less than the reserve is cut to what is there, and its booking is returned with the
    missing energy. A car below its reserve now keeps its present energy as reserve. The result makes the
    model feasible for each car alone; only shared limits can still make it infeasible.

    Returns
    -------
    trips, reserve_kwh, terminal_kwh : the attainable values
    unavoidable : dict[int, float]
        Booking id → missing energy [kWh].
    """
    veh = state.vehicles
    usable = veh["usable_kwh"].to_numpy(float)
    e = np.clip(veh["energy_kwh"].to_numpy(float), 0.0, usable)
    reserve = np.minimum(veh["reserve_kwh"].to_numpy(float), e)
    gain = plugged.to_numpy(float) * (veh["charge_efficiency"] * veh["max_charge_kw"]).to_numpy(float) * state.dt_hours
    trip = trips.to_numpy(float)
    served = trip.copy()
    for t in range(len(trip)):
        e = np.minimum(usable, e + gain[t])
        served[t] = np.minimum(trip[t], np.maximum(0.0, e - reserve))
        e = e - served[t]
    short = trip - served
    unavoidable: dict[int, float] = {}
    if (short > TOLERANCE_KWH).any():
        steps, cars = np.nonzero(short > TOLERANCE_KWH)
        b = state.bookings
        for t, v in zip(steps, cars, strict=True):
            vid = veh.index[v]
            start = state.snapshots[t]
            hit = b[
                (b["vehicle"] == vid)
                & (b["start"] >= start)
                & (b["start"] < start + pd.Timedelta(hours=state.dt_hours))
            ]
            for bid in hit["booking_id"]:
                unavoidable[int(bid)] = float(short[t, v])
    terminal = np.minimum(np.maximum(terminal_kwh.to_numpy(float), reserve), e)
    return (
        pd.DataFrame(served, index=trips.index, columns=trips.columns),
        pd.Series(reserve, index=veh.index),
        pd.Series(terminal, index=veh.index),
        unavoidable,
    )


def plan_inputs(state: FleetState) -> tuple[PlanInputs, dict[int, float]]:
    """The planning model's inputs for the schedule, and the bookings no schedule can serve."""
    plugged, trips = booking_series(state, state.snapshots)
    terminal = terminal_need_kwh(state)
    if state.called_vehicles:
        # disaster mode: the called cars end the horizon full (capped below at what they can reach on their own),
        # ahead of the other cars' needs through the terminal shortfall cost
        called = terminal.index.isin(list(state.called_vehicles))
        terminal = terminal.where(~called, state.vehicles["usable_kwh"].reindex(terminal.index))
    trips, reserve, terminal, unavoidable = attainable_trips(state, plugged, trips, terminal)
    vehicles = state.vehicles[["station", "usable_kwh", "reserve_kwh", "max_charge_kw", "charge_efficiency"]].copy()
    vehicles["reserve_kwh"] = reserve
    pv_cap = float(state.pv_kw.max())
    capacities = {"pv_kw": Capacity(fixed_units=pv_cap) if pv_cap > 0 else Capacity(enabled=False)}
    storage = state.storage_kwh > 0 and state.storage_kw > 0
    if storage:
        capacities["storage_kwh"] = Capacity(fixed_units=state.storage_kwh)
        capacities["storage_kw"] = Capacity(fixed_units=state.storage_kw)
    zeros = pd.Series(0.0, index=state.snapshots)
    energy0 = state.vehicles["energy_kwh"].clip(lower=0.0, upper=state.vehicles["usable_kwh"])
    inputs = PlanInputs(
        snapshots=state.snapshots,
        dt_hours=state.dt_hours,
        pv_kw_per_kw=(state.pv_kw / pv_cap) if pv_cap > 0 else zeros,
        wind_kw_per_kw=zeros,
        import_price_per_kwh=state.import_price_per_kwh,
        export_price_per_kwh=zeros,
        emission_factor_kg_per_kwh=state.emission_factor_kg_per_kwh,
        stations=state.stations,
        vehicles=vehicles,
        plugged=plugged,
        trip_energy_kwh=trips,
        capacities=capacities,
        initial_energy_kwh=energy0,
        initial_storage_kwh=0.5 * state.storage_kwh if storage else None,
        terminal_energy_kwh=terminal,
        terminal_storage_target_kwh=0.5 * state.storage_kwh if storage else None,
        terminal_shortfall_cost_per_kwh=float(state.import_price_per_kwh.max()) + 1.0,
        grid_connection_limit_kw=state.grid_connection_limit_kw,
        allow_export=False,
        carbon_price_per_kg=state.carbon_price_per_kg,
        renewable_credit_per_kwh=state.pv_credit_per_kwh,
        annualise=False,
        mask_unplugged=True,
    )
    return inputs, unavoidable
