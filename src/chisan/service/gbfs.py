"""Open data: the town's car-sharing as GBFS v3.0 feeds (https://github.com/MobilityData/gbfs/blob/v3.0/gbfs.md).

Published: ``gbfs`` (auto-discovery), ``system_information``, ``vehicle_types``, ``station_information``,
``station_status`` and ``vehicle_status``. Cars are station-based (round trips), so ``vehicle_status`` gives each
car's station and no coordinates; ``current_fuel_percent`` is the state of charge and ``current_range_meters``
the energy above the reserve divided by the consumption. Nothing about members or bookings is published beyond
whether a car is held for a booking about to start (``is_reserved``).

Privacy, as GBFS v3.0 requires (gbfs.md, vehicle_status.json):

- "The vehicle_id identifier MUST be rotated to a random string after each trip to protect user privacy":
  :func:`public_vehicle_id` is an HMAC-SHA256 of the car and its number of trips under a secret salt
  (``Settings.gbfs_secret``), so it changes when a trip starts, cannot be linked to the permanent id or to the
  previous one without the salt, and stays the same between trips.
- "Vehicles that are part of an active rental MUST NOT appear in this feed": a car is on a trip from its
  booking's start until its return is recorded (``POST /api/v1/bookings/{id}/return``); a car not back at its
  booking's end is still out (the dashboard flags it) and is not listed.
- ``is_reserved``: a car whose next booking starts within :data:`RESERVATION_HOLD` is held for it: listed with
  ``is_reserved: true`` and not counted as available at its station.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from chisan.catalogue.vehicles import vehicle_model
from chisan.exceptions import ScenarioError
from chisan.service import crud, models

GBFS_VERSION = "3.0"
FEEDS = ("system_information", "vehicle_types", "station_information", "station_status", "vehicle_status")
"""Feeds published besides the auto-discovery file ``gbfs``."""

TTL_S = {
    "gbfs": 3600,
    "system_information": 3600,
    "vehicle_types": 3600,
    "station_information": 3600,
    "station_status": 60,
    "vehicle_status": 60,
}
"""Seconds before each feed may change."""

RESERVATION_HOLD = dt.timedelta(minutes=30)
"""A car whose booking starts within this is held for it (``is_reserved``, not available) [min]."""

PUBLIC_ID_HEX_CHARS = 24
"""Length of a public vehicle id (96 bits of the HMAC) [hex characters]."""

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET",
    "Access-Control-Max-Age": "86400",
}
"""Any web page may read the public feeds (GET only); the authenticated API sends no such headers."""


def rfc3339(t: dt.datetime) -> str:
    """A time in RFC 3339 with its offset, whole seconds (GBFS v3.0 ``Timestamp``)."""
    return t.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _envelope(name: str, data: dict, now: dt.datetime) -> dict:
    return {"last_updated": rfc3339(now), "ttl": TTL_S[name], "version": GBFS_VERSION, "data": data}


def _text(text: str, language: str = "ja") -> list[dict]:
    return [{"text": text, "language": language}]


def gbfs_discovery(municipality: models.Municipality, *, base_url: str, now: dt.datetime) -> dict:
    """``gbfs.json``: the URL of every feed."""
    feeds = [{"name": n, "url": f"{base_url}/{n}.json"} for n in FEEDS]
    return _envelope("gbfs", {"feeds": feeds}, now)


def system_information(municipality: models.Municipality, *, now: dt.datetime) -> dict:
    data = {
        "system_id": f"chisan-{municipality.slug}",
        "languages": ["ja"],
        "name": _text(f"{municipality.name} EV car-sharing"),
        "opening_hours": "24/7",
        "feed_contact_email": municipality.feed_contact_email,
        "timezone": municipality.timezone,
    }
    return _envelope("system_information", data, now)


def _type_id(model: str) -> str:
    return model


def vehicle_types(session: Session, municipality: models.Municipality, *, now: dt.datetime) -> dict:
    """One vehicle type per car model: electric cars, range from the usable energy and the consumption."""
    cars = crud.list_vehicles(session, municipality_id=municipality.id)
    types = {}
    for v in cars:
        if v.model in types:
            continue
        try:
            spec = vehicle_model(v.model)
            name = spec.name
        except ScenarioError:
            name = v.model
        types[v.model] = {
            "vehicle_type_id": _type_id(v.model),
            "form_factor": "car",
            "propulsion_type": "electric",
            "max_range_meters": round(v.usable_kwh / v.consumption_kwh_per_km * 1000.0),
            "name": _text(name, "en"),
            "rider_capacity": 4,
        }
    return _envelope("vehicle_types", {"vehicle_types": list(types.values())}, now)


def station_information(session: Session, municipality: models.Municipality, *, now: dt.datetime) -> dict:
    stations = []
    for s in crud.list_stations(session, municipality_id=municipality.id):
        item = {
            "station_id": str(s.id),
            "name": _text(s.name),
            "lat": s.latitude_deg,
            "lon": s.longitude_deg,
            "is_charging_station": True,
        }
        if s.address:
            item["address"] = s.address
        if s.parking_spaces is not None:
            item["capacity"] = s.parking_spaces
        stations.append(item)
    return _envelope("station_information", {"stations": stations}, now)


@dataclass(frozen=True)
class FleetNow:
    """Where each car of a town is in its trips at one instant.

    Attributes
    ----------
    on_trip : set of int
        Cars out on a booking (started, return not recorded): not listed in ``vehicle_status``.
    reserved : set of int
        Cars at their station held for a booking starting within :data:`RESERVATION_HOLD`.
    trips : dict of int to int
        Trips each car has started so far (bookings not cancelled whose start is ≤ now) [-].
    """

    on_trip: set[int]
    reserved: set[int]
    trips: dict[int, int]


def fleet_now(session: Session, municipality_id: int, now: dt.datetime) -> FleetNow:
    """Cars on a trip, cars held for a booking, and the number of trips of each car at ``now``."""
    b = models.Booking
    started = sa.and_(b.municipality_id == municipality_id, b.status != "cancelled", b.start_at <= now)
    trips = dict(session.execute(sa.select(b.vehicle_id, sa.func.count()).where(started).group_by(b.vehicle_id)).all())
    on_trip = set(
        session.scalars(sa.select(b.vehicle_id).where(started, b.status == "confirmed", b.returned_at.is_(None))).all()
    )
    reserved = set(
        session.scalars(
            sa.select(b.vehicle_id).where(
                b.municipality_id == municipality_id,
                b.status == "confirmed",
                b.start_at > now,
                b.start_at <= now + RESERVATION_HOLD,
            )
        ).all()
    )
    return FleetNow(on_trip=on_trip, reserved=reserved - on_trip, trips={int(k): int(n) for k, n in trips.items()})


def public_vehicle_id(secret: str, *, municipality_id: int, vehicle_id: int, trips: int) -> str:
    """The car's ``vehicle_id`` in the feed: HMAC-SHA256(secret, town:car:trips) (RFC 2104), 96 bits in hex.

    It changes with every trip started and reveals neither the car's permanent id nor its previous public id.
    """
    message = f"{municipality_id}:{vehicle_id}:{trips}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:PUBLIC_ID_HEX_CHARS]


def station_status(session: Session, municipality: models.Municipality, *, now: dt.datetime) -> dict:
    """Cars available at each station now (at the station, not disabled, not held for a booking)."""
    fleet = fleet_now(session, municipality.id, now)
    cars = crud.list_vehicles(session, municipality_id=municipality.id)
    available: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    disabled: dict[int, int] = defaultdict(int)
    for v in cars:
        if v.id in fleet.on_trip:
            continue
        if v.is_disabled:
            disabled[v.station_id] += 1
        elif v.id not in fleet.reserved:
            available[v.station_id][_type_id(v.model)] += 1
    last_seen = dict(
        session.execute(
            sa.select(models.Charger.station_id, sa.func.max(models.Charger.last_seen_at))
            .where(models.Charger.municipality_id == municipality.id)
            .group_by(models.Charger.station_id)
        ).all()
    )
    stations = []
    for s in crud.list_stations(session, municipality_id=municipality.id):
        counts = available.get(s.id, {})
        reported = last_seen.get(s.id)
        stations.append(
            {
                "station_id": str(s.id),
                "num_vehicles_available": int(sum(counts.values())),
                "vehicle_types_available": [{"vehicle_type_id": k, "count": int(n)} for k, n in sorted(counts.items())],
                "num_vehicles_disabled": int(disabled.get(s.id, 0)),
                "is_installed": True,
                "is_renting": True,
                "is_returning": True,
                "last_reported": rfc3339(reported or now),
            }
        )
    return _envelope("station_status", {"stations": stations}, now)


def vehicle_status(session: Session, municipality: models.Municipality, *, now: dt.datetime, secret: str) -> dict:
    """The cars at their stations (not those on a trip), under their rotating public ids."""
    fleet = fleet_now(session, municipality.id, now)
    vehicles = []
    energies = crud.energies_now_kwh(session, municipality_id=municipality.id, now=now)
    for v in crud.list_vehicles(session, municipality_id=municipality.id):
        if v.id in fleet.on_trip:
            continue
        energy = energies[v.id]
        range_m = max(0.0, energy - v.reserve_kwh) / v.consumption_kwh_per_km * 1000.0
        public_id = public_vehicle_id(
            secret, municipality_id=municipality.id, vehicle_id=v.id, trips=fleet.trips.get(v.id, 0)
        )
        vehicles.append(
            {
                "vehicle_id": public_id,
                "station_id": str(v.station_id),
                "vehicle_type_id": _type_id(v.model),
                "is_reserved": v.id in fleet.reserved,
                "is_disabled": bool(v.is_disabled),
                "last_reported": rfc3339(v.soc_measured_at),
                "current_fuel_percent": round(min(1.0, max(0.0, energy / v.usable_kwh)), 4),
                "current_range_meters": float(math.floor(range_m)),
            }
        )
    return _envelope("vehicle_status", {"vehicles": vehicles}, now)
