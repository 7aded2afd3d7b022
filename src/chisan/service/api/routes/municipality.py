"""The caller's municipality and its API keys."""

from __future__ import annotations

from fastapi import APIRouter, status

from chisan.service import crud, schemas
from chisan.service.api.deps import KeyCacheDep, MunicipalityDep, NowDep, SessionDep

router = APIRouter(tags=["municipality"])


@router.get("/municipality", response_model=schemas.MunicipalityOut)
def read_municipality(municipality: MunicipalityDep):
    return municipality


@router.patch("/municipality", response_model=schemas.MunicipalityOut)
def update_municipality(
    session: SessionDep, municipality: MunicipalityDep, body: schemas.MunicipalityUpdate, keys: KeyCacheDep
):
    updated = crud.update_municipality(session, municipality=municipality, data=body)
    keys.clear()
    return updated


@router.get("/api-keys", response_model=list[schemas.ApiKeyOut])
def list_api_keys(session: SessionDep, municipality: MunicipalityDep):
    return crud.list_api_keys(session, municipality_id=municipality.id)


@router.post("/api-keys", response_model=schemas.ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_api_key(session: SessionDep, municipality: MunicipalityDep, body: schemas.ApiKeyCreate):
    """A new key (shown once; only its hash is stored)."""
    key, secret = crud.create_api_key(session, municipality_id=municipality.id, name=body.name)
    return schemas.ApiKeyCreated(**schemas.ApiKeyOut.model_validate(key).model_dump(), key=secret)


@router.delete("/api-keys/{key_id}", response_model=schemas.ApiKeyOut)
def revoke_api_key(
    session: SessionDep, municipality: MunicipalityDep, key_id: schemas.IdPath, now: NowDep, keys: KeyCacheDep
):
    revoked = crud.revoke_api_key(session, municipality_id=municipality.id, key_id=key_id, now=now)
    keys.clear()
    return revoked
