"""A square zone grid over the town, in kilometres east and north of its south-west corner.

Coordinates are projected with the equirectangular approximation ``x = R·Δλ·cos φ0``, ``y = R·Δφ`` (R = 6,371 km,
the mean Earth radius); over a town of a few kilometres its error against the great-circle distance is far below
the uncertainty of the detour factor (:mod:`chisan.autonomous.travel`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from chisan.exceptions import ScenarioError

EARTH_RADIUS_KM: float = 6371.0
"""Mean Earth radius [km] (IUGG)."""

DID_DENSITY_PERSONS_PER_KM2: float = 4000.0
"""Population density of a Japanese densely inhabited district (DID, 人口集中地区) [persons/km²]: the census
defines a DID by contiguous basic units of at least 4,000 persons/km² (Statistics Bureau of Japan). Used only to
size the default service area of a town from its population."""

DEFAULT_CELL_KM: float = 0.5
"""Default zone edge [km]: a 500 m cell is about a 6-minute walk across, the scale of a pick-up point."""


@dataclass(frozen=True)
class ZoneGrid:
    """Square cells of ``cell_km`` over ``n_x × n_y``; zone ``k = iy · n_x + ix``.

    Attributes
    ----------
    lat0_deg, lon0_deg : float
        South-west corner [degrees].
    cell_km : float
        Edge of a cell [km].
    n_x, n_y : int
        Cells east and north.
    """

    lat0_deg: float
    lon0_deg: float
    cell_km: float
    n_x: int
    n_y: int

    @property
    def n_zones(self) -> int:
        """Number of zones."""
        return self.n_x * self.n_y

    @property
    def width_km(self) -> float:
        """East-west extent [km]."""
        return self.n_x * self.cell_km

    @property
    def height_km(self) -> float:
        """North-south extent [km]."""
        return self.n_y * self.cell_km

    def centres_km(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every zone's centre [km], zone order."""
        k = np.arange(self.n_zones)
        return (k % self.n_x + 0.5) * self.cell_km, (k // self.n_x + 0.5) * self.cell_km

    def to_km(self, lat_deg: np.ndarray, lon_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project latitude/longitude [degrees] to x, y [km] (equirectangular, see the module docstring)."""
        lat = np.asarray(lat_deg, dtype=float)
        lon = np.asarray(lon_deg, dtype=float)
        cos0 = math.cos(math.radians(self.lat0_deg + 0.5 * self.height_km / EARTH_RADIUS_KM * 180 / math.pi))
        x = EARTH_RADIUS_KM * np.radians(lon - self.lon0_deg) * cos0
        y = EARTH_RADIUS_KM * np.radians(lat - self.lat0_deg)
        return x, y

    def inside(self, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
        """True where a point lies on the grid."""
        return (x_km >= 0) & (x_km <= self.width_km) & (y_km >= 0) & (y_km <= self.height_km)

    def zone_of(self, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
        """Zone of each point [-]; points on the outer edge belong to the border cell."""
        ix = np.clip(np.floor(np.asarray(x_km) / self.cell_km).astype(np.int64), 0, self.n_x - 1)
        iy = np.clip(np.floor(np.asarray(y_km) / self.cell_km).astype(np.int64), 0, self.n_y - 1)
        return iy * self.n_x + ix


def town_radius_km(population: int) -> float:
    """Radius [km] of a disc holding ``population`` at the DID density (≥ 1 km).

    ``r = √(population / (π · 4,000 /km²))``: a 30,000-person town gives 1.5 km, i.e. 1 km at least.
    """
    return max(1.0, math.sqrt(max(population, 0) / (math.pi * DID_DENSITY_PERSONS_PER_KM2)))


def zone_grid(
    centre_lat_deg: float, centre_lon_deg: float, *, radius_km: float, cell_km: float = DEFAULT_CELL_KM
) -> ZoneGrid:
    """A square grid of cells of ``cell_km`` covering a disc of ``radius_km`` around the centre.

    Parameters
    ----------
    centre_lat_deg, centre_lon_deg : float
        Centre of the town [degrees].
    radius_km : float
        Half the grid's edge [km], > 0.
    cell_km : float
        Cell edge [km], > 0.

    Raises
    ------
    ScenarioError
        A size is not positive, or the grid would exceed 10,000 zones.
    """
    for name, value in (("radius_km", radius_km), ("cell_km", cell_km)):
        if not (math.isfinite(value) and value > 0):
            raise ScenarioError(f"zone grid: {name} = {value} must be a number > 0 [km]")
    n = max(1, math.ceil(2 * radius_km / cell_km))
    if n * n > 10_000:
        raise ScenarioError(
            f"zone grid: radius_km = {radius_km} with cell_km = {cell_km} gives {n * n:,} zones; at most 10,000 "
            "are allowed (use larger cells)"
        )
    half = n * cell_km / 2
    dlat = math.degrees(half / EARTH_RADIUS_KM)
    dlon = math.degrees(half / (EARTH_RADIUS_KM * math.cos(math.radians(centre_lat_deg))))
    return ZoneGrid(centre_lat_deg - dlat, centre_lon_deg - dlon, float(cell_km), n, n)
