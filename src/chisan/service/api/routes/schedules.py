"""Charging schedules and the PV forecast they use."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, status

from chisan.service import crud, models, schemas
from chisan.service.api.deps import NowDep, OperateTown, OperationsDep, ReadTown, SessionDep

router = APIRouter(tags=["schedules"])


def schedule_out(schedule: models.Schedule) -> schemas.ScheduleOut:
    return schemas.ScheduleOut(
        **schemas.ScheduleSummary.model_validate(schedule).model_dump(),
        pv_kw=schedule.pv_kw,
        import_price_per_kwh=schedule.import_price_per_kwh,
        grid_import_kw=schedule.grid_import_kw,
        vehicles=[schemas.ScheduleVehicleOut.model_validate(v) for v in schedule.vehicles],
        stations=[schemas.ScheduleStationOut.model_validate(s) for s in schedule.stations],
    )


@router.post("/schedules", response_model=schemas.ScheduleOut, status_code=status.HTTP_201_CREATED)
async def run_schedule(municipality: OperateTown, operations: OperationsDep):
    """Compute, verify and store a schedule now (linopy/HiGHS, or the least-laxity-first fallback), and send its
    charging profiles to the connected chargers."""
    schedule_id, _answers = await operations.run_schedule(municipality.id)
    with operations.database.sessionmaker() as session:
        return schedule_out(crud.get_schedule(session, municipality_id=municipality.id, schedule_id=schedule_id))


@router.get("/schedules", response_model=list[schemas.ScheduleSummary])
def list_schedules(session: SessionDep, municipality: ReadTown, limit: Annotated[int, Query(ge=1, le=500)] = 50):
    return crud.list_schedules(session, municipality_id=municipality.id, limit=limit)


@router.get("/schedules/latest", response_model=schemas.ScheduleOut | None)
def latest_schedule(session: SessionDep, municipality: ReadTown):
    schedule = crud.latest_schedule(session, municipality_id=municipality.id)
    return None if schedule is None else schedule_out(schedule)


@router.get("/schedules/{schedule_id}", response_model=schemas.ScheduleOut)
def read_schedule(session: SessionDep, municipality: ReadTown, schedule_id: schemas.IdPath):
    return schedule_out(crud.get_schedule(session, municipality_id=municipality.id, schedule_id=schedule_id))


@router.put("/forecast/pv", response_model=schemas.PvForecastOut)
def set_pv_forecast(session: SessionDep, municipality: OperateTown, body: schemas.PvForecastIn):
    """Supply the town's PV output forecast [kW] per step (it overrides the scenario's weather there)."""
    crud.set_pv_forecast(session, municipality_id=municipality.id, data=body)
    end = body.start_at + dt.timedelta(minutes=body.step_minutes * len(body.pv_kw))
    series = crud.get_pv_forecast(session, municipality_id=municipality.id, start=body.start_at, end=end)
    return schemas.PvForecastOut(start_at=list(series.index.to_pydatetime()), pv_kw=series.tolist())


@router.get("/forecast/pv", response_model=schemas.PvForecastOut)
def get_pv_forecast(
    session: SessionDep,
    municipality: ReadTown,
    now: NowDep,
    start_at: schemas.Time | None = None,
    hours: Annotated[float, Query(gt=0, le=168)] = 36.0,
):
    start = start_at or now
    series = crud.get_pv_forecast(
        session, municipality_id=municipality.id, start=start, end=start + dt.timedelta(hours=hours)
    )
    return schemas.PvForecastOut(start_at=list(series.index.to_pydatetime()), pv_kw=series.tolist())
