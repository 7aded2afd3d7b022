"""The caller's municipality and its API keys."""

from __future__ import annotations

from fastapi import APIRouter, status

from chisan.service import api_keys, crud, schemas
from chisan.service.api.deps import AdminTown, KeyCacheDep, NowDep, ReadTown, SessionDep

router = APIRouter(tags=["municipality"])


@router.get("/municipality", response_model=schemas.MunicipalityOut)
def read_municipality(municipality: ReadTown):
    return municipality


@router.patch("/municipality", response_model=schemas.MunicipalityOut)
def update_municipality(
    session: SessionDep, municipality: AdminTown, body: schemas.MunicipalityUpdate, keys: KeyCacheDep
):
    updated = crud.update_municipality(session, municipality=municipality, data=body)
    keys.clear()
    return updated


KEY_ERRORS = {
    status.HTTP_409_CONFLICT: {
        "model": dict,
        "description": "Refused: the town's last active town_admin key can be neither revoked nor downgraded.",
    }
}


@router.get("/api-keys", response_model=list[api_keys.ApiKeyOut])
def list_api_keys(session: SessionDep, municipality: AdminTown):
    """The town's keys, revoked and expired ones too (never their secrets)."""
    return api_keys.list_keys(session, municipality_id=municipality.id)


@router.post("/api-keys", response_model=api_keys.ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_api_key(session: SessionDep, municipality: AdminTown, body: api_keys.ApiKeyCreate, now: NowDep):
    """A new key with the scopes asked for (default `read`), shown once; only its hash is stored."""
    key, secret = api_keys.create_key(
        session,
        municipality_id=municipality.id,
        name=body.name,
        scopes=body.scopes,
        expires_at=body.expires_at,
        now=now,
    )
    return api_keys.ApiKeyCreated(**api_keys.ApiKeyOut.model_validate(key).model_dump(), key=secret)


@router.patch("/api-keys/{key_id}", response_model=api_keys.ApiKeyOut, responses=KEY_ERRORS)
def update_api_key(
    session: SessionDep,
    municipality: AdminTown,
    key_id: schemas.IdPath,
    body: api_keys.ApiKeyUpdate,
    now: NowDep,
    keys: KeyCacheDep,
):
    """Rename a key or change its scopes."""
    updated = api_keys.update_key(session, municipality_id=municipality.id, key_id=key_id, data=body, now=now)
    keys.clear()
    return updated


@router.delete("/api-keys/{key_id}", response_model=api_keys.ApiKeyOut, responses=KEY_ERRORS)
def revoke_api_key(
    session: SessionDep, municipality: AdminTown, key_id: schemas.IdPath, now: NowDep, keys: KeyCacheDep
):
    """Revoke a key (at once in this process, within seconds in the service's other processes)."""
    revoked = api_keys.revoke_key(session, municipality_id=municipality.id, key_id=key_id, now=now)
    keys.clear()
    return revoked
