"""Disaster mode of a town: switch it on (shelters, called cars), off, and read the hours of shelter supply left."""

from __future__ import annotations

from fastapi import APIRouter, Path, status

from chisan.service import disaster, schemas
from chisan.service.api.deps import AdminTown, NowDep, ReadTown, SessionDep

router = APIRouter(prefix="/towns/{town}/disaster", tags=["disaster"])

Town = Path(min_length=1, max_length=64, description="The town's slug (the town of the API key).")


@router.get("", response_model=schemas.DisasterOut)
def read_disaster(session: SessionDep, municipality: ReadTown, now: NowDep, town: str = Town):
    """Whether disaster mode is on, the called cars with their energy now, and the hours of shelter supply left."""
    disaster.check_town(municipality, town)
    return disaster.status(session, municipality=municipality, now=now)


@router.post("", response_model=schemas.DisasterOut)
def switch_on(session: SessionDep, municipality: AdminTown, now: NowDep, body: schemas.DisasterIn, town: str = Town):
    """Switch disaster mode on (or change it): the called cars are no longer booked and are charged to full."""
    disaster.check_town(municipality, town)
    disaster.switch_on(session, municipality=municipality, data=body, now=now)
    return disaster.status(session, municipality=municipality, now=now)


@router.delete("", response_model=schemas.DisasterOut, status_code=status.HTTP_200_OK)
def switch_off(session: SessionDep, municipality: AdminTown, now: NowDep, town: str = Town):
    """Switch disaster mode off: the called cars can be booked again."""
    disaster.check_town(municipality, town)
    disaster.switch_off(session, municipality=municipality, now=now)
    return disaster.status(session, municipality=municipality, now=now)
