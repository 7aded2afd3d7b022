"""Routers of the REST API (thin: each calls one crud or service function)."""

from fastapi import APIRouter

from chisan.service.api.routes import admin, bookings, fleet, municipality, operations, schedules, stations

api_router = APIRouter(prefix="/api/v1")
for _module in (admin, municipality, stations, fleet, bookings, schedules, operations):
    api_router.include_router(_module.router)
