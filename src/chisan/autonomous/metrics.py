"""What a simulation answers for a planner, the fleet size for a service level, the station-based comparison and
the published ranges to read them against.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from chisan.autonomous.simulate import CHARGING, SimulationResult
from chisan.exceptions import ScenarioError
from chisan.mobility.fleet import UnservedBookingsWarning, assign_bookings

EMPTY_KINDS: tuple[str, ...] = ("pickup", "reposition", "to_charger")
"""Leg kinds driven without a rider."""


def service_level(result: SimulationResult, max_wait_min: float) -> float:
    """Share of requests picked up within ``max_wait_min`` [-] (unserved requests count as not picked up)."""
    n = len(result.wait_min)
    if n == 0:
        return 1.0
    return float(np.sum(result.wait_min <= max_wait_min + 1e-9) / n)


def pv_used_kw(result: SimulationResult) -> np.ndarray:
    """PV power that feeds the chargers in each step [kW]: ``min(PV, charging)``."""
    return np.minimum(result.pv_kw, result.charging_kw.sum(axis=1))


def chargers_needed(result: SimulationResult) -> pd.Series:
    """Peak number of cars charging at once at each site [chargers]."""
    charging = result.state == CHARGING
    peak = [int(charging[:, result.car_site == s].sum(axis=1).max(initial=0)) for s in range(len(result.sites))]
    return pd.Series(peak, index=result.sites.index.astype(str), name="chargers")


def summary(
    result: SimulationResult,
    *,
    max_wait_min: float = 10.0,
    vehicle_cost_per_year: float = 0.0,
    currency: str = "JPY",
) -> pd.DataFrame:
    """The figures of a run.

    Cost per km = (cars × ``vehicle_cost_per_year`` × days / 365 + grid energy × price) / rider km; PV energy
    is counted at no running cost (its investment is the plan's).

    Returns
    -------
    pd.DataFrame
        Index ``figure``; columns ``value``, ``unit``.
    """
    legs = result.legs
    km = legs.groupby("kind", observed=False)["distance_km"].sum()
    total_km = float(km.sum())
    empty_km = float(sum(km.get(k, 0.0) for k in EMPTY_KINDS))
    rider_km = float(km.get("ride", 0.0))
    dt_h = result.step_min / 60.0
    charge_kwh = float(result.charging_kw.sum() * dt_h)
    pv_kwh = float(pv_used_kw(result).sum() * dt_h)
    grid_kwh_step = (result.charging_kw.sum(axis=1) - pv_used_kw(result)) * dt_h
    energy_cost = float(np.sum(grid_kwh_step * result.price_per_kwh))
    days = result.n_steps * result.step_min / 1440.0
    vehicle_cost = result.config.cars * vehicle_cost_per_year * days / 365.0
    wait = result.wait_min
    served = np.isfinite(wait)
    pct = np.nanpercentile(wait, [50, 90, 95]) if served.any() else [math.nan] * 3
    battery_kwh = float(legs["energy_kwh"].sum())
    rows = [
        ("fleet_cars", result.config.cars, "cars"),
        ("requests", len(wait), "requests"),
        ("served_fraction", float(served.mean()) if len(wait) else 1.0, "-"),
        ("picked_up_within_max_wait_fraction", service_level(result, max_wait_min), "-"),
        ("max_wait_min", max_wait_min, "min"),
        ("wait_p50_min", pct[0], "min"),
        ("wait_p90_min", pct[1], "min"),
        ("wait_p95_min", pct[2], "min"),
        ("distance_km", total_km, "km"),
        ("rider_distance_km", rider_km, "km"),
        ("empty_distance_km", empty_km, "km"),
        ("empty_distance_fraction", empty_km / total_km if total_km else 0.0, "-"),
        ("repositioning_distance_km", float(km.get("reposition", 0.0)), "km"),
        ("energy_battery_kwh", battery_kwh, "kWh"),
        ("energy_per_km_kwh_per_km", battery_kwh / total_km if total_km else math.nan, "kWh/km"),
        ("charging_energy_kwh", charge_kwh, "kWh"),
        ("charging_pv_kwh", pv_kwh, "kWh"),
        ("charging_pv_fraction", pv_kwh / charge_kwh if charge_kwh else 0.0, "-"),
        ("chargers_needed", int(chargers_needed(result).sum()), "chargers"),
        ("peak_charging_kw", float(result.charging_kw.sum(axis=1).max(initial=0.0)), "kW"),
        ("energy_cost", energy_cost, currency),
        ("cost_per_rider_km", (vehicle_cost + energy_cost) / rider_km if rider_km else math.nan, f"{currency}/km"),
        ("min_battery_energy_kwh", result.min_energy_kwh, "kWh"),
    ]
    return pd.DataFrame(rows, columns=["figure", "value", "unit"]).set_index("figure")


def fleet_size_for_service(
    run: Callable[[int], SimulationResult],
    *,
    level: float,
    max_wait_min: float,
    low: int = 1,
    high: int | None = None,
    on_try: Callable[[int, float], None] | None = None,
) -> tuple[int, SimulationResult, pd.DataFrame]:
    """The smallest fleet that picks up ``level`` of the requests within ``max_wait_min``.

    Doubles from ``low`` until the level is met (or ``high`` is reached), then bisects; assumes the service
    level does not fall when cars are added (true of the averages; a single run may wobble by a request or two).

    Parameters
    ----------
    run : callable
        Simulates with the given number of cars.
    level : float
        Target share in (0, 1].
    max_wait_min : float
        Wait limit [min].
    low, high : int
        Search range [cars]; ``high`` None = 100,000.
    on_try : callable, optional
        Called with each fleet size tried and its service level.

    Returns
    -------
    cars : int
    result : SimulationResult
        The run with ``cars``.
    tried : pd.DataFrame
        ``cars``, ``service_level`` of every run, in order.

    Raises
    ------
    ScenarioError
        Not even ``high`` cars reach the level (the message gives the level reached).
    """
    if not 0 < level <= 1:
        raise ScenarioError(f"service level = {level} must be in (0, 1]")
    high = high or 100_000
    tried: list[tuple[int, float]] = []
    results: dict[int, SimulationResult] = {}

    def attempt(cars: int) -> bool:
        res = run(cars)
        results[cars] = res
        value = service_level(res, max_wait_min)
        tried.append((cars, value))
        if on_try is not None:
            on_try(cars, value)
        return value >= level - 1e-12

    lo, hi = max(1, low), max(1, low)
    while not attempt(hi):
        if hi >= high:
            raise ScenarioError(
                f"even {hi:,} cars pick up only {tried[-1][1]:.1%} of the requests within {max_wait_min:g} min; "
                f"the service level asked is {level:.1%} (lower it, or allow a longer wait)"
            )
        lo, hi = hi, min(high, hi * 2)
    if hi == lo:
        return hi, results[hi], pd.DataFrame(tried, columns=["cars", "service_level"])
    lo_fail = lo
    while hi - lo_fail > 1:
        mid = (lo_fail + hi) // 2
        if attempt(mid):
            hi = mid
        else:
            lo_fail = mid
    return hi, results[hi], pd.DataFrame(tried, columns=["cars", "service_level"])


def station_comparison(
    result: SimulationResult,
    bookings: pd.DataFrame,
    *,
    consumption_kwh_per_km: float,
    max_vehicles_per_station: int | None = None,
) -> pd.DataFrame:
    """Today's station-based round-trip car-sharing serving the same outings, against the autonomous fleet.

    The station fleet is sized by :func:`chisan.mobility.fleet.assign_bookings` (the plan's rule: the fewest cars
    per station that serve every booking; energy-aware with the same battery and charging power). Two distances:
    ``distance_km`` is the bookings' own ``distance_km`` (it includes driving outside the service area, which
    the door-to-door requests leave out: their destinations are kept inside it, see
    :mod:`chisan.autonomous.requests`); ``distance_same_rides_km`` compares like with like: a member driving the
    simulated rides in a station car drives exactly the ride kilometres, the autonomous fleet drives them plus
    its empty legs.

    Returns
    -------
    pd.DataFrame
        Index ``figure``; columns ``station_based``, ``autonomous``, ``unit``.
    """
    cfg = result.config
    trips = bookings["distance_km"].to_numpy(float) * consumption_kwh_per_km
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnservedBookingsWarning)
        sized = assign_bookings(
            bookings,
            pd.Series(trips, index=bookings.index),
            vehicles_per_station=None,
            max_vehicles_per_station=max_vehicles_per_station,
            usable_kwh=cfg.usable_kwh,
            reserve_kwh=cfg.reserve_kwh,
            charge_power_kw=cfg.charge_power_kw,
            charge_efficiency=cfg.charge_efficiency,
        )
    station_cars = len(sized.vehicles)
    station_km = float(bookings["distance_km"].sum())
    legs = result.legs
    av_km = float(legs["distance_km"].sum())
    rider_km = float(legs.loc[legs["kind"] == "ride", "distance_km"].sum())
    rows = [
        ("fleet_cars", station_cars, cfg.cars, "cars"),
        ("cars_replaced_per_autonomous_car", math.nan, station_cars / cfg.cars if cfg.cars else math.nan, "-"),
        ("distance_km", station_km, av_km, "km"),
        ("distance_same_rides_km", rider_km, av_km, "km"),
        ("energy_battery_kwh", station_km * consumption_kwh_per_km, float(legs["energy_kwh"].sum()), "kWh"),
        ("energy_same_rides_kwh", rider_km * consumption_kwh_per_km, float(legs["energy_kwh"].sum()), "kWh"),
        ("unserved_bookings", sized.unserved_count, int(np.sum(result.car_of_request < 0)), "-"),
    ]
    return pd.DataFrame(rows, columns=["figure", "station_based", "autonomous", "unit"]).set_index("figure")


LITERATURE: tuple[dict[str, object], ...] = (
    {
        "study": "Fagnant & Kockelman 2014, Austin (grid-based agent model)",
        "cars_replaced_per_shared_car": 11.0,
        "extra_distance_fraction": 0.10,
        # Fagnant, D.J., Kockelman, K.M. (2014) "The travel and environmental implications of shared autonomous
        # vehicles, using agent-based model scenarios", Transportation Research Part C 40, 1-13, abstract: "each
        # SAV can replace around eleven conventional vehicles, but adds up to 10% more travel distance than
        # comparable non-SAV trips".
        "source": "Transp. Res. C 40 (2014) 1-13, abstract",
    },
    {
        "study": "Spieser et al. 2014, Singapore (all personal transport)",
        "cars_replaced_per_shared_car": 3.0,
        "extra_distance_fraction": math.nan,
        # Spieser, Treleaven, Zhang, Frazzoli, Morton, Pavone (2014) "Toward a systematic approach to the design
        # and evaluation of automated mobility-on-demand systems: a case study in Singapore", in Road Vehicle
        # Automation (Lecture Notes in Mobility), Springer, 229-245, abstract: a fleet "approximately 1/3 of the
        # total number of passenger vehicles currently in operation".
        "source": "Road Vehicle Automation, Springer 2014, 229-245, abstract",
    },
    {
        "study": "Zhang & Pavone 2016, Manhattan (taxi demand)",
        "cars_replaced_per_shared_car": 1.0 / 0.70,
        "extra_distance_fraction": math.nan,
        # Zhang, R., Pavone, M. (2016) "Control of robotic mobility-on-demand systems: a queueing-theoretical
        # perspective", Int. J. Robotics Research 35(1-3) 186-203, doi:10.1177/0278364915581863, abstract: "about
        # 8,000 robotic vehicles (roughly 70% of the size of the current taxi fleet operating in Manhattan)".
        "source": "IJRR 35(1-3) (2016) 186-203, abstract",
    },
)
"""Published fleet ratios and extra distance of shared autonomous fleets (citations at each entry)."""

TOWN_DIFFERENCES: str = (
    "A small Japanese town differs: demand is thin (tens to hundreds of requests a day rather than a city's "
    "hundreds of thousands), so a car often drives empty to a rider and fewer trips chain; today's baseline is "
    "round-trip station car-sharing, whose cars stand parked through the rider's whole errand (hours), not "
    "private cars or taxis; the service area is a few kilometres across; and charging at a few town sites "
    "adds empty trips to the charger. Replacement ratios against station car-sharing are therefore not the "
    "ratios against private cars of Austin or Singapore."
)


def literature_table(summary_frame: pd.DataFrame, comparison: pd.DataFrame | None) -> pd.DataFrame:
    """This run's empty-distance share and cars-replaced ratio next to the published values.

    The published "extra distance" is empty distance per rider distance; this run's is computed the same way
    (``empty / rider``), and also shown as the empty share of all distance.
    """
    empty = float(summary_frame.loc["empty_distance_km", "value"])
    rider = float(summary_frame.loc["rider_distance_km", "value"])
    ratio = math.nan
    if comparison is not None:
        ratio = float(comparison.loc["cars_replaced_per_autonomous_car", "autonomous"])
    rows = [
        {
            "study": "this run (vs station-based car-sharing)",
            "cars_replaced_per_shared_car": ratio,
            "extra_distance_fraction": empty / rider if rider else math.nan,
            "source": "simulated",
        },
        *LITERATURE,
    ]
    return pd.DataFrame(rows).set_index("study")
