"""Energy a trip takes from the battery: distance × consumption × a temperature factor (heating, cooling).

The consumption is the battery-side figure [kWh/km] (the spec sheet's AC consumption × charging efficiency,
see :mod:`chisan.catalogue.vehicles`); the temperature factor is 1 in a neutral band of air temperature and
rises linearly below (cabin heating, cold battery) and above it (air conditioning).

References
----------
.. [1] AAA (American Automobile Association) and Automobile Club of Southern California Automotive Research
   Center, "AAA Electric Vehicle Range Testing", February 2019. Five 2017–2018 EVs on a dynamometer (combined
   city/highway), range relative to 75 °F (23.9 °C): at 20 °F (−6.7 °C) with the heater on, 59 % (−41 %); at
   95 °F (35 °C) with air conditioning, 83 % (−17 %). Reported e.g. at
   https://www.colorado.aaa.com/news/study-icy-temps-kill-electric-vehicle-range
.. [2] Geotab, "To what degree does temperature impact EV range?", 2020: 5.2 million trips of 4,200 EVs
   (102 models); about 54 % of rated range at −15 °C, ≥ 100 % between 10 °C and 30 °C, best (115 %) at
   21.5 °C. Reported at https://electricautonomy.ca/2020/05/26/affect-of-temperature-on-ev-range/
.. [3] T. Yuksel and J. J. Michalek, "Effects of regional temperature on electric vehicle efficiency, range,
   and emissions in the United States", Environ. Sci. Technol. 49 (2015) 3974–3980,
   :doi:`10.1021/es505621s` (Nissan Leaf fleet data; range on the coldest days down by up to 36 %).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.exceptions import DataError, ScenarioError
from chisan.units import fahrenheit_to_celsius

HEATING_THRESHOLD_C: float = 15.0
"""Air temperature below which heating raises consumption [°C]."""

COOLING_THRESHOLD_C: float = 25.0
"""Air temperature above which air conditioning raises consumption [°C]."""

# [1]: range at 20 °F with heater = 59 % of range at 75 °F → consumption × 1/0.59; spread linearly over the
# degrees between 20 °F and the heating threshold (75 °F lies in the neutral band, factor 1).
HEATING_INCREASE_PER_C: float = (1.0 / 0.59 - 1.0) / (HEATING_THRESHOLD_C - fahrenheit_to_celsius(20.0))
"""Consumption increase per °C below the heating threshold [1/°C] = 0.0321, from AAA 2019 [1].

Cross-check with Geotab's fleet data [2]: at −15 °C the factor is 1 + 0.0321 × 30 = 1.96, against 1 / 0.54 =
1.85 from 54 % of rated range (6 % apart). At 5–8 °C (a Tokyo winter day) the factor is 1.22–1.32, the 20–30 %
of DESIGN §4.
"""

# [1]: range at 95 °F with air conditioning = 83 % of range at 75 °F → consumption × 1/0.83, over 95 °F −
# threshold.
COOLING_INCREASE_PER_C: float = (1.0 / 0.83 - 1.0) / (fahrenheit_to_celsius(95.0) - COOLING_THRESHOLD_C)
"""Consumption increase per °C above the cooling threshold [1/°C] = 0.0205, from AAA 2019 [1]."""


def temperature_factor(
    temp_air_c,
    *,
    heating_threshold_c: float = HEATING_THRESHOLD_C,
    heating_increase_per_c: float = HEATING_INCREASE_PER_C,
    cooling_threshold_c: float = COOLING_THRESHOLD_C,
    cooling_increase_per_c: float = COOLING_INCREASE_PER_C,
):
    """Multiplier on consumption for heating and cooling [-].

    ``1 + a_h · max(0, T_h − T) + a_c · max(0, T − T_c)``: 1 in the neutral band [T_h, T_c], linear outside
    it.

    Parameters
    ----------
    temp_air_c : float, array-like or pd.Series
        Air temperature during the trip [°C].
    heating_threshold_c, cooling_threshold_c : float
        Edges of the neutral band [°C]; ``heating_threshold_c ≤ cooling_threshold_c``.
    heating_increase_per_c, cooling_increase_per_c : float
        Slopes [1/°C], ≥ 0; defaults from AAA 2019 (see the module references).

    Returns
    -------
    float, array or pd.Series
        The factor, of the same shape (and index) as ``temp_air_c``.
    """
    if heating_threshold_c > cooling_threshold_c:
        raise ScenarioError(
            f"heating_threshold_c = {heating_threshold_c} must be ≤ cooling_threshold_c = {cooling_threshold_c}"
        )
    if heating_increase_per_c < 0 or cooling_increase_per_c < 0:
        raise ScenarioError(
            f"heating_increase_per_c = {heating_increase_per_c} and cooling_increase_per_c = "
            f"{cooling_increase_per_c} must be ≥ 0 [1/°C]"
        )
    t = temp_air_c
    heating = np.maximum(heating_threshold_c - t, 0.0)
    cooling = np.maximum(t - cooling_threshold_c, 0.0)
    return 1.0 + heating_increase_per_c * heating + cooling_increase_per_c * cooling


def trip_energy_kwh(
    distance_km,
    consumption_kwh_per_km,
    temp_air_c,
    *,
    heating_threshold_c: float = HEATING_THRESHOLD_C,
    heating_increase_per_c: float = HEATING_INCREASE_PER_C,
    cooling_threshold_c: float = COOLING_THRESHOLD_C,
    cooling_increase_per_c: float = COOLING_INCREASE_PER_C,
):
    """Energy a trip takes from the battery [kWh].

    ``distance_km × consumption_kwh_per_km × temperature_factor(temp_air_c)`` (see
    :func:`temperature_factor`).

    Parameters
    ----------
    distance_km : float, array-like or pd.Series
        Distance driven [km].
    consumption_kwh_per_km : float or array-like
        Battery-side consumption at neutral temperature [kWh/km] (AC consumption × charging efficiency).
    temp_air_c : float, array-like or pd.Series
        Mean air temperature during the trip [°C], e.g. from :func:`booking_temperature_c`.
    heating_threshold_c, heating_increase_per_c, cooling_threshold_c, cooling_increase_per_c : float
        See :func:`temperature_factor`.

    Returns
    -------
    float, array or pd.Series
        Trip energy [kWh].
    """
    factor = temperature_factor(
        temp_air_c,
        heating_threshold_c=heating_threshold_c,
        heating_increase_per_c=heating_increase_per_c,
        cooling_threshold_c=cooling_threshold_c,
        cooling_increase_per_c=cooling_increase_per_c,
    )
    energy = distance_km * consumption_kwh_per_km * factor
    if isinstance(energy, pd.Series):
        energy = energy.rename("trip_energy_kwh")
    return energy


def booking_temperature_c(bookings: pd.DataFrame, temp_air: pd.Series) -> pd.Series:
    """Mean air temperature over each booking's time steps [°C].

    The mean of ``temp_air`` over the steps a booking overlaps: from the step containing its start to the step
    containing its end (a step [t, t + Δt) belongs to the booking when it overlaps [start, end)).

    Parameters
    ----------
    bookings : pd.DataFrame
        With tz-aware ``start`` and ``end`` (and ``booking_id`` for messages).
    temp_air : pd.Series
        Air temperature [°C] on a regular tz-aware DatetimeIndex (each value stands for the step it starts).

    Returns
    -------
    pd.Series
        ``temp_air_c`` [°C], indexed like ``bookings``.

    Raises
    ------
    DataError
        ``temp_air`` is not regular, has gaps (NaN), or does not cover a booking.
    """
    index = temp_air.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None or len(index) < 2:
        raise DataError("temp_air must be indexed by a tz-aware DatetimeIndex of at least 2 steps")
    step = index[1] - index[0]
    gaps = (index[1:] - index[:-1]) / step
    if not np.allclose(np.asarray(gaps, dtype=float), 1.0):
        raise DataError(f"temp_air must be regular (steps of {step}); found irregular steps")
    values = temp_air.to_numpy(dtype=float)
    if np.isnan(values).any():
        raise DataError(f"temp_air has {int(np.isnan(values).sum())} missing values (NaN); fill them first")
    if bookings.empty:
        return pd.Series(np.zeros(0), index=bookings.index, name="temp_air_c")
    first = np.floor(np.asarray((bookings["start"] - index[0]) / step, dtype=float) + 1e-9).astype(np.int64)
    last = np.ceil(np.asarray((bookings["end"] - index[0]) / step, dtype=float) - 1e-9).astype(np.int64)
    last = np.maximum(last, first + 1)
    outside = (first < 0) | (last > len(values))
    if outside.any():
        where = np.flatnonzero(outside)[0]
        booking = bookings.iloc[where]
        raise DataError(
            f"temp_air covers [{index[0]}, {index[-1] + step}) but booking "
            f"{booking.get('booking_id', where)!r} runs {booking['start']} to {booking['end']}; "
            "give weather for the whole planning period"
        )
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    mean = (cumulative[last] - cumulative[first]) / (last - first)
    return pd.Series(mean, index=bookings.index, name="temp_air_c")
