"""Travel distance and time between points: straight line × detour factor, at a speed that depends on the hour.

- **Distance** ``d = circuity × √(Δx² + Δy²)``. Default circuity 1.3: Newell (1980, *Traffic Flow on
  Transportation Networks*, MIT Press) finds network distances between random urban points about 1.2 times the
  straight line; Kim, Shin, Lee & Suh (2015, "Calculation of regional circuity factors using road network
  distance in South Korea", J. Korean Soc. Agric. Eng. 57(4) 39-49) report a national factor of 1.26 for
  South Korea and a higher one for Japan. 1.3 sits between them; give a town's own value when known.
- **Speed** by hour of day [km/h]. Assumption, not fitted to data: 25 km/h on a small town's streets off-peak and
  18 km/h in the morning (07-09) and evening (17-19) peaks, of the order of the peak-hour travel speeds on
  urban general roads in MLIT's Road Traffic Census (道路交通センサス). Give measured speeds where they exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from chisan.exceptions import ScenarioError

DEFAULT_CIRCUITY: float = 1.3
"""Road distance per straight-line distance [-] (see the module docstring)."""

DEFAULT_SPEED_KMH_BY_HOUR: tuple[float, ...] = (
    25, 25, 25, 25, 25, 25, 25, 18, 18, 25, 25, 25,
    25, 25, 25, 25, 25, 18, 18, 25, 25, 25, 25, 25,
)  # fmt: skip
"""Door-to-door speed per hour of day [km/h], 00:00 first (assumption; see the module docstring)."""


@dataclass(frozen=True)
class TravelModel:
    """Distance and time of a drive.

    Attributes
    ----------
    circuity : float
        Road per straight-line distance [-], ≥ 1.
    speed_kmh_by_hour : tuple of 24 float
        Mean speed in each hour of day [km/h].
    """

    circuity: float = DEFAULT_CIRCUITY
    speed_kmh_by_hour: Sequence[float] = field(default=DEFAULT_SPEED_KMH_BY_HOUR)

    def __post_init__(self) -> None:
        speeds = np.asarray(self.speed_kmh_by_hour, dtype=float)
        if not (np.isfinite(self.circuity) and self.circuity >= 1.0):
            raise ScenarioError(f"travel: circuity = {self.circuity} must be a number ≥ 1 (road ≥ straight line)")
        if speeds.shape != (24,) or not np.all(np.isfinite(speeds)) or np.any(speeds <= 0):
            raise ScenarioError(
                f"travel: speed_kmh_by_hour = {list(self.speed_kmh_by_hour)} must be 24 speeds > 0 [km/h], 00:00 first"
            )
        object.__setattr__(self, "speed_kmh_by_hour", tuple(float(s) for s in speeds))

    def distance_km(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
        """Road distance [km] = circuity × straight line (broadcasts)."""
        return self.circuity * np.hypot(np.subtract(x1, x0), np.subtract(y1, y0))

    def minutes(self, distance_km: np.ndarray, minute_of_day: float | np.ndarray) -> np.ndarray:
        """Driving time [min] of ``distance_km`` at the speed of the hour the drive starts in."""
        hour = (np.asarray(minute_of_day, dtype=float) // 60).astype(np.int64) % 24
        return np.asarray(distance_km, dtype=float) / np.asarray(self.speed_kmh_by_hour)[hour] * 60.0
