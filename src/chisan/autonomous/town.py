"""From a scenario to the inputs of an autonomous-fleet simulation: service area, charger sites, requests, the
vehicle, PV at the chargers and the grid price.

- **Service area**: a zone grid centred on the municipality's point, of radius the larger of
  :func:`~chisan.autonomous.zones.town_radius_km` (the population at the DID density) and the farthest station
  plus 0.5 km.
- **Charger sites**: the scenario's stations (they must have positions).
- **Requests**: the scenario's bookings (generated or its CSV, as the plan reads them) over the simulated days,
  turned into door-to-door requests (:func:`~chisan.autonomous.requests.requests_from_bookings`), or a requests CSV.
- **Vehicle**: the scenario's model (usable energy, battery-side consumption, on-board charger capped by the
  smallest station charger), reserve and charging efficiency as the plan uses them.
- **PV at the chargers**: the scenario's weather through pvlib (:func:`chisan.resources.solar.pv_output_per_kw`)
  × ``pv_kw``; by default the scenario's ``technologies.pv.fixed_kw``, else 10 kWp per station (assumption: a
  carport roof over a few parking spaces).
- **Price**: the scenario's grid import price on the simulated hours (flat, time-of-use or tariff).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from chisan.autonomous.requests import Requests, read_requests_csv, requests_from_bookings
from chisan.autonomous.simulate import FleetConfig
from chisan.autonomous.zones import ZoneGrid, town_radius_km, zone_grid
from chisan.exceptions import ScenarioError
from chisan.scenario.schema import Scenario

DEFAULT_PV_KW_PER_SITE: float = 10.0
"""PV at each charger site when the scenario fixes none [kWp] (assumption: a carport roof)."""


@dataclass
class TownInputs:
    """Everything a town's simulation needs (see the module docstring)."""

    grid: ZoneGrid
    sites: pd.DataFrame
    requests: Requests
    bookings: pd.DataFrame | None
    base_config: FleetConfig
    pv_kw: np.ndarray
    price_per_kwh: np.ndarray
    horizon_min: float
    pv_kwp: float
    vehicle_cost_per_year: float
    currency: str
    consumption_kwh_per_km: float


def town_inputs(
    scenario: Scenario,
    *,
    days: int = 7,
    requests_csv: Path | None = None,
    seed: int = 0,
    pv_kwp: float | None = None,
    step_min: float = 1.0,
    names: tuple[str, str] = ("--days", "--pv-kw"),
) -> TownInputs:
    """Build a town's simulation inputs from its scenario (see the module docstring).

    Parameters
    ----------
    scenario : Scenario
    days : int
        Days simulated from the first day of the planned period, 1-31.
    requests_csv : Path, optional
        Requests file; None = from the scenario's bookings.
    seed : int
        Seed for turning bookings into requests.
    pv_kwp : float, optional
        PV at the chargers [kWp]; see the module docstring for the default.
    step_min : float
        Batch length [min].
    names : tuple of str
        What the caller calls ``days`` and ``pv_kwp`` in its error messages (the CLI's options, or the
        scenario's fields).

    Raises
    ------
    ScenarioError
        No station has a position, or ``days`` is out of range.
    """
    from chisan.plan.prepare import load_bookings, load_weather, resolve_vehicle
    from chisan.plan.tariffs import grid_prices
    from chisan.resources.solar import pv_output_per_kw

    if not (isinstance(days, int) and 1 <= days <= 31):
        raise ScenarioError(f"{names[0]} = {days!r} must be a whole number of days from 1 to 31")
    muni = scenario.municipality
    tz = muni.timezone
    placed = [s for s in scenario.stations if s.latitude_deg is not None and s.longitude_deg is not None]
    if not placed:
        raise ScenarioError(
            "stations: no station has latitude_deg and longitude_deg; the autonomous fleet charges at the "
            "stations, so give their positions"
        )
    probe = zone_grid(muni.latitude_deg, muni.longitude_deg, radius_km=1.0)
    px, py = probe.to_km(np.array([s.latitude_deg for s in placed]), np.array([s.longitude_deg for s in placed]))
    centre_x, centre_y = probe.width_km / 2, probe.height_km / 2
    far = float(np.max(np.hypot(px - centre_x, py - centre_y)))
    radius = max(town_radius_km(muni.population), far + 0.5)
    grid = zone_grid(muni.latitude_deg, muni.longitude_deg, radius_km=radius)
    sx, sy = grid.to_km(np.array([s.latitude_deg for s in placed]), np.array([s.longitude_deg for s in placed]))
    sites = pd.DataFrame({"x_km": sx, "y_km": sy}, index=pd.Index([s.name for s in placed], name="site"))

    h = scenario.horizon
    origin = pd.Timestamp(year=h.year, month=h.start_month, day=1, tz=tz)
    hours = pd.date_range(origin, periods=24 * days, freq="h")
    horizon_min = days * 1440.0
    bookings = None
    if requests_csv is not None:
        requests = read_requests_csv(requests_csv, grid, timezone=tz, origin=origin)
    else:
        bookings = load_bookings(scenario, hours, 1.0)
        bookings = bookings[bookings["station"].isin(sites.index)].reset_index(drop=True)
        station_km = {name: (float(r.x_km), float(r.y_km)) for name, r in sites.iterrows()}
        requests = requests_from_bookings(bookings, grid, station_km, origin=origin, seed=seed)

    vehicle = resolve_vehicle(scenario)
    f = scenario.fleet
    charger_kw = min(s.charger_kw for s in placed)
    config = FleetConfig(
        cars=1,
        usable_kwh=vehicle.usable_kwh,
        reserve_kwh=f.reserve_fraction * vehicle.usable_kwh,
        consumption_kwh_per_km=vehicle.consumption_battery_kwh_per_km(f.charge_efficiency_fraction),
        charge_power_kw=min(vehicle.max_ac_charge_kw, charger_kw),
        charge_efficiency=f.charge_efficiency_fraction,
        step_min=step_min,
    )
    tech = scenario.technologies
    if pv_kwp is None:
        pv_kwp = tech.pv.fixed_kw if tech.pv.fixed_kw is not None else DEFAULT_PV_KW_PER_SITE * len(placed)
    if not (math.isfinite(pv_kwp) and pv_kwp >= 0):
        raise ScenarioError(f"{names[1]} = {pv_kwp} must be a number ≥ 0 [kWp]")
    per_hour = round(60 / step_min)
    if pv_kwp > 0:
        weather, _ = load_weather(scenario)
        pv_hourly = pv_output_per_kw(
            weather, muni.latitude_deg, muni.longitude_deg, muni.altitude_m, tilt_deg=tech.pv.tilt_deg,
            azimuth_deg=tech.pv.azimuth_deg, dc_ac_ratio=tech.pv.dc_ac_ratio, losses_percent=tech.pv.losses_percent,
        ).clip(lower=0)  # fmt: skip
        pv_per_kw = pv_hourly.reindex(hours).fillna(0.0).to_numpy(float)
    else:
        pv_per_kw = np.zeros(len(hours))
    prices = grid_prices(scenario.grid, hours, scenario.finance.currency)
    price = np.asarray(prices.import_price_per_kwh, dtype=float)
    steps = math.ceil(horizon_min / step_min)
    pv_kw = np.repeat(pv_per_kw * pv_kwp, per_hour)[:steps] if per_hour >= 1 else pv_per_kw * pv_kwp
    return TownInputs(
        grid=grid,
        sites=sites,
        requests=requests,
        bookings=bookings,
        base_config=config,
        pv_kw=pv_kw,
        price_per_kwh=np.repeat(price, per_hour)[:steps],
        horizon_min=horizon_min,
        pv_kwp=float(pv_kwp),
        vehicle_cost_per_year=f.lease_per_vehicle_year,
        currency=scenario.finance.currency,
        consumption_kwh_per_km=config.consumption_kwh_per_km,
    )
