"""Autonomous shared electric cars: door-to-door requests served by a fleet that drives itself (DESIGN.md §13).

Pipeline: requests (:mod:`.requests`) on a zone grid (:mod:`.zones`) with a travel model (:mod:`.travel`) →
a per-minute fleet simulation vectorised over cars (:mod:`.simulate`) with batch dispatch by assignment
(:mod:`.dispatch`), the zone rebalancing LP of Pavone et al. (2012) (:mod:`.rebalancing`) and PV- and
price-aware charging (:mod:`.charging`) → figures for a planner (:mod:`.metrics`, :mod:`.figures`) and each
car's energy use and charging windows in the plan's vehicle-availability shape (:mod:`.export`), laid on the plan's
steps for ``fleet.kind = "autonomous"`` in ``chisan plan`` (:mod:`.plan_inputs`).
"""

from chisan.autonomous.export import away_periods, charging_windows, vehicle_series
from chisan.autonomous.requests import Requests, read_requests_csv, requests_from_bookings
from chisan.autonomous.simulate import FleetConfig, SimulationResult, simulate
from chisan.autonomous.travel import TravelModel
from chisan.autonomous.zones import ZoneGrid, zone_grid

__all__ = [
    "FleetConfig",
    "Requests",
    "SimulationResult",
    "TravelModel",
    "ZoneGrid",
    "away_periods",
    "charging_windows",
    "read_requests_csv",
    "requests_from_bookings",
    "simulate",
    "vehicle_series",
    "zone_grid",
]
