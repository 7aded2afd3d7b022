"""Authorization keys of the chargers (OCPP security profiles 1 and 2): set or rotate a charger's key.

The key is made by the service (or given, for a charger with a key provisioned at the factory), shown once in the
answer and stored only as its scrypt hash (:mod:`chisan.service.charger_keys`). Setting a new key replaces the
old one at once: the charger's next connection must use the new key (in OCPP 1.6 it is the configuration key
``AuthorizationKey``, in 2.0.1 ``SecurityCtrlr.BasicAuthPassword``).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from chisan.service import charger_keys, crud
from chisan.service.api.deps import AdminTown, NowDep, SessionDep

router = APIRouter(tags=["stations"])


class AuthorizationKeySet(BaseModel):
    """A key to set; without one the service makes a random one (recommended)."""

    model_config = ConfigDict(extra="forbid")

    authorization_key: str | None = Field(
        default=None,
        min_length=16,
        max_length=40,
        pattern=r"^[A-Za-z0-9._~!$&'()*+,;=-]+$",
        description="16–40 printable characters without ':' or spaces (OCPP 2.0.1 BasicAuthPassword).",
    )


class AuthorizationKeyOut(BaseModel):
    """A charger's new authorization key: shown once, never again (the service keeps only its hash)."""

    charger_id: int
    ocpp_id: str = Field(description="The HTTP Basic user name of the charger (its identity).")
    authorization_key: str = Field(description="The HTTP Basic password of the charger. Store it now.")
    set_at: dt.datetime


@router.post("/chargers/{charger_id}/authorization-key", response_model=AuthorizationKeyOut)
def set_authorization_key(
    session: SessionDep, town: AdminTown, now: NowDep, charger_id: int, body: AuthorizationKeySet | None = None
):
    """Set or rotate the charger's authorization key (HTTP Basic password of its OCPP connection)."""
    charger = crud.get_charger(session, municipality_id=town.id, charger_id=charger_id)
    key = body.authorization_key if body is not None and body.authorization_key else charger_keys.new_key()
    charger.auth_key_hash = charger_keys.hash_key(key)
    charger.auth_key_set_at = now
    session.commit()
    return AuthorizationKeyOut(charger_id=charger.id, ocpp_id=charger.ocpp_id, authorization_key=key, set_at=now)
