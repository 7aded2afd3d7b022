"""Routers of the REST API (thin: each calls one crud or service function)."""

from chisan.service.api.routes import (
    admin,
    bookings,
    chargers,
    disaster,
    fleet,
    municipality,
    operations,
    schedules,
    stations,
)

API_PREFIX = "/api/v1"
API_ROUTERS = (
    bookings.router,
    stations.router,
    chargers.router,
    fleet.router,
    schedules.router,
    operations.router,
    municipality.router,
    disaster.router,
    admin.router,
)
"""Routers mounted under :data:`API_PREFIX`, most used first (requests are matched in this order)."""
