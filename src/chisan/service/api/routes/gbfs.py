"""GBFS v3.0 open data feeds of each town (public, no key: they publish only what riders may see)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from chisan.service import crud, gbfs
from chisan.service.api.deps import NowDep, SessionDep

router = APIRouter(prefix="/gbfs/{slug}", tags=["gbfs"])


@router.get("/gbfs.json")
def discovery(session: SessionDep, slug: str, now: NowDep, request: Request) -> dict:
    municipality = crud.get_municipality_by_slug(session, slug=slug)
    base = str(request.url_for("discovery", slug=slug)).rsplit("/", 1)[0]
    return gbfs.gbfs_discovery(municipality, base_url=base, now=now)


@router.get("/system_information.json")
def system_information(session: SessionDep, slug: str, now: NowDep) -> dict:
    return gbfs.system_information(crud.get_municipality_by_slug(session, slug=slug), now=now)


@router.get("/vehicle_types.json")
def vehicle_types(session: SessionDep, slug: str, now: NowDep) -> dict:
    return gbfs.vehicle_types(session, crud.get_municipality_by_slug(session, slug=slug), now=now)


@router.get("/station_information.json")
def station_information(session: SessionDep, slug: str, now: NowDep) -> dict:
    return gbfs.station_information(session, crud.get_municipality_by_slug(session, slug=slug), now=now)


@router.get("/station_status.json")
def station_status(session: SessionDep, slug: str, now: NowDep) -> dict:
    return gbfs.station_status(session, crud.get_municipality_by_slug(session, slug=slug), now=now)


@router.get("/vehicle_status.json")
def vehicle_status(session: SessionDep, slug: str, now: NowDep) -> dict:
    return gbfs.vehicle_status(session, crud.get_municipality_by_slug(session, slug=slug), now=now)
