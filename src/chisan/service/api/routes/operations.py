"""Operations: alerts, charging sessions, metrics per station and day, the dashboard's data."""

from __future__ import annotations

import zoneinfo
from typing import Annotated

from fastapi import APIRouter, Query

from chisan.service import crud, disaster, metrics, schemas
from chisan.service.api.deps import NowDep, ReadTown, SessionDep
from chisan.service.api.routes.schedules import schedule_out

router = APIRouter(tags=["operations"])


@router.get("/alerts", response_model=list[schemas.AlertOut])
def list_alerts(
    session: SessionDep,
    municipality: ReadTown,
    kind: Annotated[
        str | None, Query(max_length=50, description="overdraw, booking_at_risk, schedule_fallback")
    ] = None,
):
    return crud.list_alerts(session, municipality_id=municipality.id, kind=kind)


@router.get("/charging-sessions", response_model=list[schemas.ChargingSessionOut])
def list_sessions(
    session: SessionDep,
    municipality: ReadTown,
    status: Annotated[str | None, Query(max_length=20, pattern="^(active|stopped)$")] = None,
):
    return crud.list_sessions(session, municipality_id=municipality.id, status=status)


@router.get("/metrics/stations", response_model=list[schemas.StationDayMetrics])
def station_metrics(session: SessionDep, municipality: ReadTown, now: NowDep, day: schemas.Day | None = None):
    """Per station, for one day (default today on the town's clock): bookings ready on time, energy delivered
    vs needed, PV share, grid kWh and cost, peak vs limit."""
    day = day or now.astimezone(zoneinfo.ZoneInfo(municipality.timezone)).date()
    return metrics.station_day_metrics(session, municipality=municipality, day=day)


@router.get("/dashboard", response_model=schemas.DashboardOut)
def dashboard(session: SessionDep, municipality: ReadTown, now: NowDep):
    """Everything the operator's page shows: stations, chargers, cars with SOC, today's bookings, the plan, and
    the disaster mode (hours of shelter supply left when it is on)."""
    start, end = metrics.day_window(
        now.astimezone(zoneinfo.ZoneInfo(municipality.timezone)).date(), municipality.timezone
    )
    vehicles = []
    energies = crud.energies_now_kwh(session, municipality_id=municipality.id, now=now)
    for v in crud.list_vehicles(session, municipality_id=municipality.id):
        out = schemas.VehicleOut.model_validate(v)
        energy = energies[v.id]
        out.energy_kwh, out.soc_fraction = round(energy, 3), round(energy / v.usable_kwh, 4)
        vehicles.append(out)
    schedule = crud.latest_schedule(session, municipality_id=municipality.id)
    return schemas.DashboardOut(
        municipality=schemas.MunicipalityOut.model_validate(municipality),
        now=now,
        stations=[
            schemas.StationOut.model_validate(s) for s in crud.list_stations(session, municipality_id=municipality.id)
        ],
        chargers=[
            schemas.ChargerOut.model_validate(c) for c in crud.list_chargers(session, municipality_id=municipality.id)
        ],
        vehicles=vehicles,
        bookings_today=[
            schemas.BookingOut.model_validate(b)
            for b in crud.list_bookings(session, municipality_id=municipality.id, start_from=start, start_to=end)
            if b.status != "cancelled"
        ],
        schedule=None if schedule is None else schedule_out(schedule),
        alerts=[
            schemas.AlertOut.model_validate(a)
            for a in crud.list_alerts(session, municipality_id=municipality.id, limit=20)
        ],
        disaster=disaster.status(session, municipality=municipality, now=now),
    )
