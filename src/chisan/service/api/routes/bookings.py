"""Bookings: create (charge-aware), change, cancel, list; late and on-time returns."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from chisan.service import crud, models, schemas
from chisan.service.api.deps import NowDep, OperateTown, OperateTownDetached, ReadTown, SessionDep
from chisan.service.core.db import Database

router = APIRouter(prefix="/bookings", tags=["bookings"])

REFUSED = {
    status.HTTP_409_CONFLICT: {
        "model": dict[str, schemas.BookingRefusal],
        "description": "Refused: the car is taken or cannot charge enough; the body offers the earliest feasible "
        "start and the other cars of the station that fit.",
    }
}


@router.get("", response_model=list[schemas.BookingOut])
def list_bookings(
    session: SessionDep,
    municipality: ReadTown,
    start_from: Annotated[AwareDatetime | None, Query(description="Bookings starting at or after this time.")] = None,
    start_to: Annotated[AwareDatetime | None, Query(description="Bookings starting before this time.")] = None,
    vehicle_id: int | None = None,
    station_id: int | None = None,
    status_: Annotated[str | None, Query(alias="status", pattern="^(confirmed|completed|cancelled)$")] = None,
):
    return crud.list_bookings(
        session,
        municipality_id=municipality.id,
        start_from=start_from,
        start_to=start_to,
        vehicle_id=vehicle_id,
        station_id=station_id,
        status=status_,
    )


@router.post("", response_model=schemas.BookingOut, status_code=status.HTTP_201_CREATED, responses=REFUSED)
async def create_booking(request: Request, town: OperateTownDetached, body: schemas.BookingCreate) -> Response:
    """Book a car (or any car of a station) if it can charge enough for this and its other bookings."""
    # the service's hot path: one trip to the thread pool, where a session lives and ends, and the answer
    # serialised once from the model it is built as (FastAPI would validate a returned object once more)
    now = request.app.state.clock()
    out = await run_in_threadpool(_create_booking, request.app.state.database, town, body, now)
    return Response(out.model_dump_json(), status_code=status.HTTP_201_CREATED, media_type="application/json")


def _create_booking(
    database: Database, town: models.Municipality, body: schemas.BookingCreate, now: dt.datetime
) -> schemas.BookingOut:
    with database.sessionmaker() as session:
        return crud.create_booking(session, municipality=town, data=body, now=now)


@router.get("/{booking_id}", response_model=schemas.BookingOut)
def read_booking(session: SessionDep, municipality: ReadTown, booking_id: int):
    return crud.get_booking(session, municipality_id=municipality.id, booking_id=booking_id)


@router.patch("/{booking_id}", response_model=schemas.BookingOut, responses=REFUSED)
def update_booking(
    session: SessionDep, municipality: OperateTown, booking_id: int, body: schemas.BookingUpdate, now: NowDep
):
    """Change times, distance, car or member; admitted like a new booking."""
    booking, energy = crud.update_booking(session, municipality=municipality, booking_id=booking_id, data=body, now=now)
    return crud.booking_out(booking, energy)


@router.post("/{booking_id}/cancel", response_model=schemas.BookingOut)
def cancel_booking(session: SessionDep, municipality: OperateTown, booking_id: int):
    return crud.cancel_booking(session, municipality_id=municipality.id, booking_id=booking_id)


@router.post("/{booking_id}/late-return", response_model=schemas.LateReturnOut)
def report_late_return(
    session: SessionDep, municipality: OperateTown, booking_id: int, body: schemas.LateReturnIn, now: NowDep
):
    """The car will be back late: its following bookings are moved to other cars where possible; the rest are
    reported at risk."""
    return crud.report_late_return(
        session,
        municipality=municipality,
        booking_id=booking_id,
        expected_return_at=body.expected_return_at,
        soc_fraction=body.soc_fraction,
        now=now,
    )


@router.post("/{booking_id}/return", response_model=schemas.BookingOut)
def complete_booking(session: SessionDep, municipality: OperateTown, booking_id: int, body: schemas.ReturnIn):
    """The car is back (with its state of charge, if known)."""
    return crud.complete_booking(
        session,
        municipality_id=municipality.id,
        booking_id=booking_id,
        returned_at=body.returned_at,
        soc_fraction=body.soc_fraction,
    )
