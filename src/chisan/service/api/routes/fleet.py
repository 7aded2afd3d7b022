"""Vehicles (with their state of charge) and members."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from chisan.service import crud, schemas
from chisan.service.api.deps import AdminTown, NowDep, OperateTown, ReadTown, SessionDep, SettingsDep

router = APIRouter(tags=["fleet"])


@router.get("/vehicles", response_model=list[schemas.VehicleOut])
def list_vehicles(session: SessionDep, municipality: ReadTown, station_id: schemas.IdQuery = None):
    return crud.list_vehicles(session, municipality_id=municipality.id, station_id=station_id)


@router.post("/vehicles", response_model=schemas.VehicleOut, status_code=status.HTTP_201_CREATED)
def create_vehicle(session: SessionDep, municipality: AdminTown, body: schemas.VehicleCreate, now: NowDep):
    """A car; battery, charging limit and consumption default to the catalogue entry of ``model``."""
    return crud.create_vehicle(session, municipality_id=municipality.id, data=body, now=now)


@router.get("/vehicles/{vehicle_id}", response_model=schemas.VehicleOut)
def read_vehicle(session: SessionDep, municipality: ReadTown, vehicle_id: schemas.IdPath):
    return crud.get_vehicle(session, municipality_id=municipality.id, vehicle_id=vehicle_id)


@router.patch("/vehicles/{vehicle_id}", response_model=schemas.VehicleOut)
def update_vehicle(
    session: SessionDep, municipality: AdminTown, vehicle_id: schemas.IdPath, body: schemas.VehicleUpdate
):
    return crud.update_vehicle(session, municipality_id=municipality.id, vehicle_id=vehicle_id, data=body)


@router.delete("/vehicles/{vehicle_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_vehicle(session: SessionDep, municipality: AdminTown, vehicle_id: schemas.IdPath):
    crud.delete_vehicle(session, municipality_id=municipality.id, vehicle_id=vehicle_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/vehicles/{vehicle_id}/telemetry", response_model=schemas.VehicleOut)
def record_telemetry(
    session: SessionDep,
    municipality: OperateTown,
    vehicle_id: schemas.IdPath,
    body: schemas.TelemetryIn,
    now: NowDep,
    settings: SettingsDep,
):
    """A state-of-charge reading from the car (kept unless a newer one is stored; one from the future is
    refused)."""
    return crud.record_soc(
        session,
        municipality_id=municipality.id,
        vehicle_id=vehicle_id,
        soc_fraction=body.soc_fraction,
        measured_at=body.measured_at,
        now=now,
        limits=crud.BookingLimits.of(settings),
    )


@router.get("/members", response_model=list[schemas.MemberOut])
def list_members(session: SessionDep, municipality: ReadTown):
    return crud.list_members(session, municipality_id=municipality.id)


@router.post("/members", response_model=schemas.MemberOut, status_code=status.HTTP_201_CREATED)
def create_member(session: SessionDep, municipality: OperateTown, body: schemas.MemberCreate):
    return crud.create_member(session, municipality_id=municipality.id, data=body)


@router.get("/members/{member_id}", response_model=schemas.MemberOut)
def read_member(session: SessionDep, municipality: ReadTown, member_id: schemas.IdPath):
    return crud.get_member(session, municipality_id=municipality.id, member_id=member_id)


@router.patch("/members/{member_id}", response_model=schemas.MemberOut)
def update_member(
    session: SessionDep, municipality: OperateTown, member_id: schemas.IdPath, body: schemas.MemberUpdate
):
    return crud.update_member(session, municipality_id=municipality.id, member_id=member_id, data=body)


@router.delete("/members/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_member(session: SessionDep, municipality: OperateTown, member_id: schemas.IdPath):
    crud.delete_member(session, municipality_id=municipality.id, member_id=member_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
