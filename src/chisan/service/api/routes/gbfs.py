"""GBFS v3.0 open data feeds of each town (public, no key: they publish only what riders may see).

Every feed answers with ``Access-Control-Allow-Origin: *`` so that any web page (a journey planner, a map) may
read it, for GET only; a CORS preflight (``OPTIONS``) of a feed answers 204 with the same headers. The
authenticated ``/api/v1`` routes send no CORS headers: browsers of other origins cannot use an operator's key.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from chisan.service import crud, gbfs
from chisan.service.api.deps import NowDep, SessionDep, SettingsDep


class PublicFeedRoute(APIRoute):
    """A route whose answers carry :data:`chisan.service.gbfs.CORS_HEADERS`, errors too (a 404 for an unknown
    town is readable by the page that asked)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as err:
                render = next(
                    (
                        request.app.exception_handlers[c]
                        for c in type(err).__mro__
                        if c in request.app.exception_handlers
                    ),
                    None,
                )
                if render is None:
                    raise
                response = await render(request, err)
            response.headers.update(gbfs.CORS_HEADERS)
            return response

        return with_cors


router = APIRouter(prefix="/gbfs/{slug}", tags=["gbfs"], route_class=PublicFeedRoute)


def preflight(request: Request) -> Response:
    """CORS preflight of a feed: GET from any origin."""
    return Response(status_code=204, headers=gbfs.CORS_HEADERS)


router.add_route(f"{router.prefix}/{{feed}}.json", preflight, methods=["OPTIONS"], include_in_schema=False)


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
def vehicle_status(session: SessionDep, slug: str, now: NowDep, settings: SettingsDep) -> dict:
    municipality = crud.get_municipality_by_slug(session, slug=slug)
    return gbfs.vehicle_status(session, municipality, now=now, secret=settings.gbfs_secret)
