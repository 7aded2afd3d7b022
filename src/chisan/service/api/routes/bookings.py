"""Bookings: create (charge-aware), change, cancel, list; late and on-time returns."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from chisan.service import crud, models, schemas
from chisan.service.api.deps import NowDep, OperateTown, OperateTownDetached, ReadTown, SessionDep, SettingsDep
from chisan.service.core.db import Database
from chisan.service.errors import BookingRefusedError

router = APIRouter(prefix="/bookings", tags=["bookings"])

REFUSED = {
    status.HTTP_409_CONFLICT: {
        "model": schemas.RefusalOut | schemas.ErrorOut,
        "description": "Refused: the car is taken or cannot charge enough; the body offers the earliest feasible "
        "start and the other cars of the station that fit.",
    }
}


@router.get("", response_model=list[schemas.BookingOut])
def list_bookings(
    session: SessionDep,
    municipality: ReadTown,
    start_from: Annotated[schemas.Time | None, Query(description="Bookings starting at or after this time.")] = None,
    start_to: Annotated[schemas.Time | None, Query(description="Bookings starting before this time.")] = None,
    vehicle_id: schemas.IdQuery = None,
    station_id: schemas.IdQuery = None,
    status_: Annotated[
        str | None, Query(alias="status", max_length=20, pattern="^(confirmed|completed|cancelled)$")
    ] = None,
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
async def create_booking(
    request: Request,
    town: OperateTownDetached,
    body: schemas.BookingCreate,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=200,
            pattern=r"^[\x21-\x7e]+$",
            description="A key of the client's choice (e.g. a UUID): the same request repeated with it gets the same "
            "answer and books once; the key with another body is refused (422).",
        ),
    ] = None,
) -> Response:
    """Book a car (or any car of a station) if it can charge enough for this and its other bookings.

    Starts at most ``booking_horizon_days`` ahead and lasts at most ``booking_max_hours`` (settings); an admission
    that takes longer than ``request_budget_s`` is answered 503 and stores nothing."""
    # the service's hot path: one trip to the thread pool, where a session lives and ends, and the answer
    # serialised once from the model it is built as (FastAPI would validate a returned object once more)
    now = request.app.state.clock()
    limits = crud.BookingLimits.of(request.app.state.settings, budget=True)
    code, text = await run_in_threadpool(
        _create_booking, request.app.state.database, town, body, now, limits, idempotency_key
    )
    return Response(text, status_code=code, media_type="application/json")


def _create_booking(
    database: Database,
    town: models.Municipality,
    body: schemas.BookingCreate,
    now: dt.datetime,
    limits: crud.BookingLimits,
    idempotency_key: str | None,
) -> tuple[int, str]:
    with database.sessionmaker() as session:
        if idempotency_key is None:
            out = crud.create_booking(session, municipality=town, data=body, now=now, limits=limits)
            return status.HTTP_201_CREATED, out.model_dump_json()
        digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        stored = crud.idempotent_answer(session, municipality_id=town.id, key=idempotency_key, request_sha256=digest)
        if stored is not None:
            return stored
        try:
            out = crud.create_booking(
                session, municipality=town, data=body, now=now, limits=limits, idempotency=(idempotency_key, digest)
            )
        except (crud.IdempotentReplayError, BookingRefusedError):
            # the same request admitted meanwhile (by another worker) took the car: answer as it was answered
            stored = crud.idempotent_answer(
                session, municipality_id=town.id, key=idempotency_key, request_sha256=digest
            )
            if stored is None:
                raise
            return stored
        return status.HTTP_201_CREATED, out.model_dump_json()


@router.get("/{booking_id}", response_model=schemas.BookingOut)
def read_booking(session: SessionDep, municipality: ReadTown, booking_id: schemas.IdPath):
    return crud.get_booking(session, municipality_id=municipality.id, booking_id=booking_id)


@router.patch("/{booking_id}", response_model=schemas.BookingOut, responses=REFUSED)
def update_booking(
    session: SessionDep,
    municipality: OperateTown,
    booking_id: schemas.IdPath,
    body: schemas.BookingUpdate,
    now: NowDep,
    settings: SettingsDep,
):
    """Change times, distance, car or member; admitted like a new booking."""
    booking, energy = crud.update_booking(
        session,
        municipality=municipality,
        booking_id=booking_id,
        data=body,
        now=now,
        limits=crud.BookingLimits.of(settings),
    )
    return crud.booking_out(booking, energy)


@router.post("/{booking_id}/cancel", response_model=schemas.BookingOut)
def cancel_booking(session: SessionDep, municipality: OperateTown, booking_id: schemas.IdPath):
    return crud.cancel_booking(session, municipality_id=municipality.id, booking_id=booking_id)


@router.post("/{booking_id}/late-return", response_model=schemas.LateReturnOut)
def report_late_return(
    session: SessionDep,
    municipality: OperateTown,
    booking_id: schemas.IdPath,
    body: schemas.LateReturnIn,
    now: NowDep,
    settings: SettingsDep,
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
        limits=crud.BookingLimits.of(settings),
    )


@router.post("/{booking_id}/return", response_model=schemas.BookingOut)
def complete_booking(
    session: SessionDep,
    municipality: OperateTown,
    booking_id: schemas.IdPath,
    body: schemas.ReturnIn,
):
    """The car is back (with its state of charge, if known); a return before the start is refused."""
    return crud.complete_booking(
        session,
        municipality_id=municipality.id,
        booking_id=booking_id,
        returned_at=body.returned_at,
        soc_fraction=body.soc_fraction,
    )
