"""Compile a tariff to the plan's time grid: price series [JPY/kWh] and the basic-charge rate [JPY/kW/month].

As REopt's ``ElectricTariff`` (``urdb.jl``) compiles a rate to arrays on the model's time steps before the LP,
so the model sees only series and one rate, never the tariff's rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import chinese_calendar
import jpholiday
import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError

if TYPE_CHECKING:
    from chisan.tariffs.schema import Tariff

DAY_TYPES = ("weekday", "saturday", "holiday")


def _hour_ranges(hours: np.ndarray) -> str:
    """'13:00–16:00, 22:00–24:00' for the hours [h] 13, 14, 15, 22, 23."""
    hours = np.sort(np.asarray(hours, dtype=int))
    breaks = np.flatnonzero(np.diff(hours) != 1)
    starts = np.r_[hours[0], hours[breaks + 1]]
    ends = np.r_[hours[breaks], hours[-1]] + 1
    return ", ".join(f"{a:02d}:00–{b:02d}:00" for a, b in zip(starts, ends, strict=True))


def check_bands(tariff: Tariff) -> None:
    """Refuse overlapping bands, months in two seasons, and (with ``full_day_coverage``) uncovered hours.

    Raises
    ------
    ValueError
        One message naming the tariff, the season, the day type, the bands and the hours.
    """
    if not tariff.seasons:
        return
    seen: dict[int, str] = {}
    for season in tariff.seasons:
        for month in season.months:
            if month in seen:
                raise ValueError(
                    f"tariff {tariff.name!r}: month {month} is in seasons {seen[month]!r} and {season.name!r}; "
                    "each month belongs to one season"
                )
            seen[month] = season.name
    missing = sorted(set(range(1, 13)) - set(seen))
    if missing and tariff.full_day_coverage:
        raise ValueError(
            f"tariff {tariff.name!r}: months {missing} are in no season; add them to a season "
            "or set full_day_coverage = false with a base_price_jpy_per_kwh"
        )
    hours = np.arange(24)
    from chisan.tariffs.schema import CALENDAR_DAY_TYPES

    for season in tariff.seasons:
        for day in CALENDAR_DAY_TYPES[tariff.calendar]:
            bands = [b for b in season.bands if day in b.day_types]
            inside = np.array([(hours >= b.start_hour) & (hours < b.end_hour) for b in bands]).reshape(-1, 24)
            for i in range(len(bands)):
                for j in range(i + 1, len(bands)):
                    both = hours[inside[i] & inside[j]]
                    if len(both):
                        a, b = bands[i], bands[j]
                        raise ValueError(
                            f"tariff {tariff.name!r}, season {season.name!r}, {day}: bands {a.name!r} "
                            f"({a.start_hour}–{a.end_hour} h) and {b.name!r} ({b.start_hour}–{b.end_hour} h) "
                            f"overlap at {_hour_ranges(both)}; each hour must have one price"
                        )
            uncovered = hours[~inside.any(axis=0)] if len(bands) else hours
            if len(uncovered) and tariff.full_day_coverage:
                raise ValueError(
                    f"tariff {tariff.name!r}, season {season.name!r}, {day}: no band covers {_hour_ranges(uncovered)}; "
                    "add a band or set full_day_coverage = false with a base_price_jpy_per_kwh"
                )


def _chinese_rest_days(first: dt.date, last: dt.date) -> set[dt.date]:
    """China's rest days from ``first`` to ``last``: weekends not made working days, and statutory holidays."""
    try:
        return set(chinese_calendar.get_holidays(first, last, include_weekends=True))
    except NotImplementedError as err:
        years = sorted({d.year for d in chinese_calendar.constants.holidays})
        raise ScenarioError(
            f"the Chinese holiday calendar (chinese-calendar {chinese_calendar.__version__}) covers {years[0]}–"
            f"{years[-1]}, not {first.year}–{last.year}; plan a covered year or update chinese-calendar"
        ) from err


def day_types(
    snapshots: pd.DatetimeIndex, extra_holidays: list[str] | tuple[str, ...] = (), calendar: str = "JP"
) -> pd.Series:
    """Day type of every snapshot on its local clock: 'weekday', 'saturday' or 'holiday'.

    ``calendar="JP"``: holidays are Sundays, Japan's national holidays including substitute holidays (振替休日)
    and citizens' holidays (国民の休日), as ``jpholiday`` lists them (Act on National Holidays,
    国民の祝日に関する法律); Saturdays are 'saturday'. ``calendar="CN"``: 'holiday' is a rest day of China's
    working calendar (weekends, statutory holidays and their bridge days, as ``chinese-calendar`` lists them
    from the State Council's yearly notices), 'weekday' a working day, including a weekend day made a working
    day (调休); there is no 'saturday'. Both add the ``extra_holidays`` ('MM-DD') of the tariff.

    Raises
    ------
    ScenarioError
        ``calendar="CN"`` for a year ``chinese-calendar`` does not cover.
    """
    dates = snapshots.normalize().tz_localize(None) if snapshots.tz is not None else snapshots.normalize()
    first, last = dates.min().date(), dates.max().date()
    holidays = _chinese_rest_days(first, last) if calendar == "CN" else {d for d, _ in jpholiday.between(first, last)}
    for year in range(first.year, last.year + 1):
        holidays.update(dt.date.fromisoformat(f"{year}-{md}") for md in extra_holidays)
    holiday_index = pd.DatetimeIndex(sorted(pd.Timestamp(d) for d in holidays))
    if calendar == "CN":
        kind = np.where(dates.isin(holiday_index), "holiday", "weekday")
    else:
        is_holiday = dates.isin(holiday_index) | (snapshots.dayofweek == 6)
        kind = np.where(is_holiday, "holiday", np.where(snapshots.dayofweek == 5, "saturday", "weekday"))
    return pd.Series(kind, index=snapshots, name="day_type")


@dataclass(frozen=True)
class CompiledTariff:
    """A tariff on a plan's snapshots.

    Attributes
    ----------
    energy_price_jpy_per_kwh : pd.Series
        Energy charge at each step [JPY/kWh] (the band's price, or the last tier's).
    import_price_jpy_per_kwh : pd.Series
        Energy charge + per-kWh levies [JPY/kWh]: what one more imported kWh costs.
    export_price_jpy_per_kwh : pd.Series
        Remuneration of one exported kWh [JPY/kWh].
    day_type : pd.Series
        'weekday', 'saturday' or 'holiday'.
    basic_charge_jpy_per_kw_month : float
        Basic charge [JPY/kW/month].
    contract_kw_fixed : float or None
        The fixed contract [kW] of a low-voltage tariff; None when the contract is the peak demand (LP variable).
    """

    name: str
    energy_price_jpy_per_kwh: pd.Series
    import_price_jpy_per_kwh: pd.Series
    export_price_jpy_per_kwh: pd.Series
    day_type: pd.Series
    basic_charge_jpy_per_kw_month: float
    contract_kw_fixed: float | None


def compile_tariff(tariff: Tariff, snapshots: pd.DatetimeIndex) -> CompiledTariff:
    """Prices of ``tariff`` at every snapshot (tz-aware; seasons, day types and bands on its local clock).

    Parameters
    ----------
    tariff : Tariff
    snapshots : pd.DatetimeIndex
        Start of each step; a step is priced by the band its start hour lies in.
    """
    n = len(snapshots)
    kind = day_types(snapshots, tariff.extra_holidays, tariff.calendar)
    if tariff.tiers:
        # LP approximation: every kWh at the open (last) block, the marginal price of a base above the thresholds.
        energy = np.full(n, float(tariff.tiers[-1].price_jpy_per_kwh))
    else:
        base = np.nan if tariff.base_price_jpy_per_kwh is None else float(tariff.base_price_jpy_per_kwh)
        energy = np.full(n, base)
        month = snapshots.month.to_numpy()
        hour = snapshots.hour.to_numpy()
        day = kind.to_numpy()
        for season in tariff.seasons:  # a handful of seasons × bands: vectorised over the steps
            in_season = np.isin(month, season.months)
            for band in season.bands:
                inside = in_season & (hour >= band.start_hour) & (hour < band.end_hour) & np.isin(day, band.day_types)
                energy[inside] = float(band.price_jpy_per_kwh)
        if np.isnan(energy).any():
            first = snapshots[int(np.flatnonzero(np.isnan(energy))[0])]
            raise ValueError(f"tariff {tariff.name!r} has no price at {first} ({kind.loc[first]})")
    energy_s = pd.Series(energy, index=snapshots, name="energy_price_jpy_per_kwh")
    contract_fixed = tariff.contract.contract_kw if tariff.contract.kind == "fixed" else None
    return CompiledTariff(
        name=tariff.name,
        energy_price_jpy_per_kwh=energy_s,
        import_price_jpy_per_kwh=(energy_s + tariff.levies_jpy_per_kwh).rename("import_price_per_kwh"),
        export_price_jpy_per_kwh=pd.Series(tariff.export.price, index=snapshots, name="export_price_per_kwh"),
        day_type=kind,
        basic_charge_jpy_per_kw_month=float(tariff.basic_charge_jpy_per_kw_month),
        contract_kw_fixed=contract_fixed,
    )
