"""Stations (car-sharing bases) and their chargers."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from chisan.service import crud, schemas
from chisan.service.api.deps import AdminTown, ReadTown, SessionDep

router = APIRouter(tags=["stations"])


@router.get("/stations", response_model=list[schemas.StationOut])
def list_stations(session: SessionDep, municipality: ReadTown):
    return crud.list_stations(session, municipality_id=municipality.id)


@router.post("/stations", response_model=schemas.StationOut, status_code=status.HTTP_201_CREATED)
def create_station(session: SessionDep, municipality: AdminTown, body: schemas.StationCreate):
    return crud.create_station(session, municipality_id=municipality.id, data=body)


@router.get("/stations/{station_id}", response_model=schemas.StationOut)
def read_station(session: SessionDep, municipality: ReadTown, station_id: schemas.IdPath):
    return crud.get_station(session, municipality_id=municipality.id, station_id=station_id)


@router.patch("/stations/{station_id}", response_model=schemas.StationOut)
def update_station(
    session: SessionDep, municipality: AdminTown, station_id: schemas.IdPath, body: schemas.StationUpdate
):
    return crud.update_station(session, municipality_id=municipality.id, station_id=station_id, data=body)


@router.delete("/stations/{station_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_station(session: SessionDep, municipality: AdminTown, station_id: schemas.IdPath):
    crud.delete_station(session, municipality_id=municipality.id, station_id=station_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/chargers", response_model=list[schemas.ChargerOut])
def list_chargers(session: SessionDep, municipality: ReadTown):
    return crud.list_chargers(session, municipality_id=municipality.id)


@router.post("/chargers", response_model=schemas.ChargerOut, status_code=status.HTTP_201_CREATED)
def create_charger(session: SessionDep, municipality: AdminTown, body: schemas.ChargerCreate):
    """Register a charge point; it connects to the OCPP endpoint as ``ws://<host>:<ocpp port>/<ocpp_id>``."""
    return crud.create_charger(session, municipality_id=municipality.id, data=body)


@router.get("/chargers/{charger_id}", response_model=schemas.ChargerOut)
def read_charger(session: SessionDep, municipality: ReadTown, charger_id: schemas.IdPath):
    return crud.get_charger(session, municipality_id=municipality.id, charger_id=charger_id)


@router.patch("/chargers/{charger_id}", response_model=schemas.ChargerOut)
def update_charger(
    session: SessionDep, municipality: AdminTown, charger_id: schemas.IdPath, body: schemas.ChargerUpdate
):
    return crud.update_charger(session, municipality_id=municipality.id, charger_id=charger_id, data=body)


@router.delete("/chargers/{charger_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_charger(session: SessionDep, municipality: AdminTown, charger_id: schemas.IdPath):
    crud.delete_charger(session, municipality_id=municipality.id, charger_id=charger_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
