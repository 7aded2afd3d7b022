"""Sun and sky: the sun's position at each interval's middle, clear-sky irradiance, GHI from cloud cover and
its split into DNI and DHI.

Time convention (the one pvlib applies to EPW files): each stamp labels the *start* of its interval, and
irradiance is the mean over ``[t, t + Δt)``. Sun positions are therefore evaluated at the interval's middle,
``t + Δt/2`` (see :func:`solar_position`), so that, for hourly data, the sun of 11:30 lights the hour labelled
11:00 and solar noon stays at noon.

References
----------
.. [3] P. Ineichen and R. Perez, "A new airmass independent formulation for the Linke turbidity coefficient",
   Solar Energy 73(3), 151-157, 2002, :doi:`10.1016/S0038-092X(02)00045-2`.
.. [4] D. P. Larson, L. Nonnenmacher and C. F. M. Coimbra, "Day-ahead forecasting of solar power output from
   photovoltaic plants in the American Southwest", Renewable Energy 91, 11-20, 2016,
   :doi:`10.1016/j.renene.2016.01.039`.
.. [5] D. G. Erbs, S. A. Klein and J. A. Duffie, "Estimation of the diffuse radiation fraction for hourly,
   daily and monthly-average global radiation", Solar Energy 28(4), 293-302, 1982,
   :doi:`10.1016/0038-092X(82)90302-4`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib

from chisan.resources.time_index import dt_hours

CLOUD_COVER_GHI_OFFSET_PERCENT: float = 35.0
"""GHI under full (100 %) cloud cover as a share of clear-sky GHI [%], Larson et al. 2016 [4] (the default of
pvlib's former ``forecast`` module, ``cloud_cover_to_ghi_linear``)."""


def _interval_middles(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return index + pd.Timedelta(hours=dt_hours(index) / 2.0)


def solar_position(
    index: pd.DatetimeIndex,
    latitude: float,
    longitude: float,
    altitude: float = 0.0,
    temp_air: float | pd.Series = 12.0,
) -> pd.DataFrame:
    """Sun position at the middle of each interval, by pvlib's NREL SPA (``get_solarposition``).

    Stamps label the start of their interval (module docstring), so the position is evaluated at
    ``t + Δt/2``: for hourly data, at half past each hour.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware interval starts.
    latitude, longitude : float
        Site [°], north and east positive.
    altitude : float, default 0
        Site elevation [m].
    temp_air : float or pandas.Series, default 12
        Air temperature [°C], for the refraction correction.

    Returns
    -------
    pandas.DataFrame
        pvlib's columns (``apparent_zenith``, ``zenith``, ``azimuth``, ... [°]) on ``index``.
    """
    middles = _interval_middles(index)
    temperature = temp_air.to_numpy() if isinstance(temp_air, pd.Series) else temp_air
    position = pvlib.solarposition.get_solarposition(
        middles, latitude, longitude, altitude=altitude, temperature=temperature
    )
    position.index = index
    return position


def clear_sky_irradiance(
    index: pd.DatetimeIndex,
    latitude: float,
    longitude: float,
    altitude: float = 0.0,
    *,
    position: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Clear-sky irradiance by the Ineichen-Perez model [3] with pvlib's bundled Linke turbidity climatology.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware interval starts; the sky is evaluated at interval middles.
    latitude, longitude : float
        Site [°].
    altitude : float, default 0
        Site elevation [m].
    position : pandas.DataFrame, optional
        Output of :func:`solar_position` for the same index, to avoid computing it twice.

    Returns
    -------
    pandas.DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m²] on ``index``.
    """
    if position is None:
        position = solar_position(index, latitude, longitude, altitude)
    middles = _interval_middles(index)
    linke_turbidity = pvlib.clearsky.lookup_linke_turbidity(middles, latitude, longitude).to_numpy()
    airmass_relative = pvlib.atmosphere.get_relative_airmass(position["apparent_zenith"].to_numpy())
    airmass_absolute = pvlib.atmosphere.get_absolute_airmass(airmass_relative, pvlib.atmosphere.alt2pres(altitude))
    dni_extra = pvlib.irradiance.get_extra_radiation(middles).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):  # airmass is NaN/inf with the sun down
        clear = pvlib.clearsky.ineichen(
            position["apparent_zenith"].to_numpy(),
            airmass_absolute,
            linke_turbidity,
            altitude=altitude,
            dni_extra=dni_extra,
        )
    return pd.DataFrame({name: np.nan_to_num(clear[name]) for name in ("ghi", "dni", "dhi")}, index=index)


def ghi_from_cloud_cover(
    cloud_cover: pd.Series,
    ghi_clear: pd.Series,
    offset_percent: float = CLOUD_COVER_GHI_OFFSET_PERCENT,
) -> pd.Series:
    """GHI from total cloud cover by the linear model of Larson et al. 2016 [4].

    ``ghi = (offset + (1 - offset) * (1 - cloud_cover)) * ghi_clear`` with fractions: clear sky at 0 % cover,
    ``offset`` × clear sky at 100 % (as in pvlib's former ``forecast.cloud_cover_to_ghi_linear``).

    Parameters
    ----------
    cloud_cover : pandas.Series
        Total cloud cover [%], 0-100.
    ghi_clear : pandas.Series
        Clear-sky GHI [W/m²].
    offset_percent : float, default 35
        GHI at full cover as a share of clear-sky GHI [%].

    Returns
    -------
    pandas.Series
        GHI [W/m²], named ``ghi``.
    """
    offset = offset_percent / 100.0
    cover = cloud_cover / 100.0
    ghi = (offset + (1.0 - offset) * (1.0 - cover)) * ghi_clear  # linear model of [4]
    return ghi.rename("ghi")


def split_ghi(ghi: pd.Series, position: pd.DataFrame) -> pd.DataFrame:
    """Split GHI into DNI and DHI by the Erbs diffuse-fraction correlation [5] (``pvlib.irradiance.erbs``).

    Parameters
    ----------
    ghi : pandas.Series
        Global horizontal irradiance [W/m²] on interval starts.
    position : pandas.DataFrame
        Output of :func:`solar_position` on the same index (``zenith`` [°] at interval middles).

    Returns
    -------
    pandas.DataFrame
        ``dni``, ``dhi`` [W/m²].
    """
    day_of_year = _interval_middles(ghi.index).dayofyear.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):  # erbs divides by extraterrestrial GHI at night
        parts = pvlib.irradiance.erbs(ghi.to_numpy(), position["zenith"].to_numpy(), day_of_year)
    return pd.DataFrame(
        {"dni": np.asarray(parts["dni"], dtype=float), "dhi": np.asarray(parts["dhi"], dtype=float)},
        index=ghi.index,
    )
