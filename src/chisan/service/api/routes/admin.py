"""Admin routes: creating municipalities (tenants). Need the service's admin token."""

from __future__ import annotations

from fastapi import APIRouter, status

from chisan.service import crud, schemas
from chisan.service.api.deps import AdminDep, SessionDep

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/municipalities", response_model=schemas.MunicipalityCreated, status_code=status.HTTP_201_CREATED)
def create_municipality(session: SessionDep, _admin: AdminDep, body: schemas.MunicipalityCreate):
    """Create a town and its first API key (the key is shown once)."""
    municipality, key, secret = crud.create_municipality(session, data=body)
    return schemas.MunicipalityCreated(
        municipality=schemas.MunicipalityOut.model_validate(municipality),
        api_key=schemas.ApiKeyCreated(**schemas.ApiKeyOut.model_validate(key).model_dump(), key=secret),
    )
