"""Admin routes: creating municipalities (tenants), listing them and their API keys. Need the service's admin
token."""

from __future__ import annotations

from fastapi import APIRouter, status

from chisan.service import api_keys, crud, schemas
from chisan.service.api.deps import AdminDep, NowDep, SessionDep

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/municipalities", response_model=schemas.MunicipalityCreated, status_code=status.HTTP_201_CREATED)
def create_municipality(session: SessionDep, _admin: AdminDep, body: schemas.MunicipalityCreate):
    """Create a town and its first API key (scopes read, operate and town_admin; the key is shown once)."""
    municipality, key, secret = crud.create_municipality(session, data=body)
    return schemas.MunicipalityCreated(
        municipality=schemas.MunicipalityOut.model_validate(municipality),
        api_key=schemas.ApiKeyCreated(**schemas.ApiKeyOut.model_validate(key).model_dump(), key=secret),
    )


@router.get("/municipalities", response_model=list[api_keys.TownKeys])
def list_municipalities(session: SessionDep, _admin: AdminDep, now: NowDep):
    """Every town with its API keys (prefix, scopes, created, expires, revoked, last used; never the secrets)."""
    return api_keys.towns_with_keys(session, now=now)


@router.get("/municipalities/{municipality_id}/api-keys", response_model=list[api_keys.ApiKeyOut])
def list_municipality_keys(session: SessionDep, _admin: AdminDep, municipality_id: int, now: NowDep):
    """One town's API keys (404 when there is no such town)."""
    return api_keys.towns_with_keys(session, now=now, municipality_id=municipality_id)[0].keys
