"""Grid emission factors: a registry of published yearly factors, or hourly from a file (Electricity Maps).

Factors are in [kg CO2e/kWh]. The registry (:func:`grid_factor`, data in ``grid_factors.csv`` next to this
module, one row per factor with its publisher, document, page and date) is keyed by jurisdiction × year ×
calibre:

- jurisdiction: ``JP-<area>`` for the former general utility of a Japanese area (``JP-tepco``, ``JP-kansai`` …,
  the short names of :data:`chisan.sweep.derive.AREAS`), ``CN`` (national grid), the seven Chinese grid regions
  ``CN-North``, ``CN-Northeast``, ``CN-East``, ``CN-Central``, ``CN-Northwest``, ``CN-South``, ``CN-Southwest``
  (华北, 东北, 华东, 华中, 西北, 南方, 西南), ``CN-SH`` (Shanghai);
- year: Japanese fiscal year (April–March) for ``JP-*``, calendar year for ``CN*``;
- calibre: ``location`` (grid average), ``basic`` (基礎排出係数, before 2016 実排出係数) and ``adjusted``
  (調整後排出係数) of Japan's mandatory reporting scheme, ``market`` (a supplier's contractual factor),
  ``carbon_market`` (a carbon market's default factor, e.g. Shanghai's 0.42 or the national ETS's 0.5703) and
  ``green`` (certified green power, 0 under the market-based method of the GHG Protocol Scope 2 Guidance).

A factor is named ``"JURISDICTION:YEAR:CALIBRE"`` (``"JP-shikoku:2023:basic"``) or ``"JURISDICTION:CALIBRE"``
for the latest year in the registry. Only factors read in a source are listed; the registry does not fill gaps
(e.g. it has no FY2023 factor for TEPCO EP, and no 2023 provincial factor for Shanghai: ``CN-SH:location`` is
2022 while ``CN:location`` is 2023; ``CN-SH:carbon_market`` and ``CN-SH:green`` are Shanghai's 2023 notice; see
the module's CSV for what exists). A factor read only in a copy of someone else's table or quotation (a public
repository, a paper, a news report rather than the publisher's document) says so in its note: ``SECOND-HAND`` with
both the copy (``url``) and the publisher's document, e.g. all Chinese location factors (no annex table of the
announcements was in the search corpus), and its report line (:attr:`GridFactor.source`) says "second-hand". A
publisher's full text read in a reprint says "reprinted" in its note, with the reprint as ``url`` (the Shanghai
notices).
Electricity Maps publishes hourly carbon intensity [g CO2e/kWh], direct and life-cycle (LCA).
"""

from __future__ import annotations

import csv
import difflib
import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from chisan.exceptions import DataError, ScenarioError
from chisan.units import G_PER_KG

CALIBRES: tuple[str, ...] = ("location", "basic", "adjusted", "market", "carbon_market", "green")
"""Kinds of factor in the registry (see the module docstring)."""

FACTOR_SETS: dict[str, tuple[int, str]] = {"fy2013": (2013, "basic"), "fy2016": (2016, "adjusted")}
"""Named sets of the ten Japanese areas' factors → (fiscal year, calibre), each complete for all ten areas.

``fy2013``: the official FY2013 list (basic). ``fy2016``: a secondary copy of the FY2016 list (adjusted, see the
rows' notes). ``latest`` and ``latest-adjusted`` (:data:`LATEST_SETS`, not a fixed year): each area's most recent
basic (adjusted) factor in the registry, whatever its year (:func:`latest_area_factors`); ``latest`` is the
sweep's default."""

SECOND_HAND = "SECOND-HAND"
"""The mark that opens the note of a factor read only in a copy (see the module docstring)."""

LATEST_SET = "latest"
"""Name of the set of each area's most recent basic factor (:func:`latest_area_factors`)."""

LATEST_SETS: dict[str, str] = {LATEST_SET: "basic", "latest-adjusted": "adjusted"}
"""Sets of each area's most recent factor of a calibre, whatever its year → calibre."""


@dataclass(frozen=True)
class GridFactor:
    """One published grid emission factor of the registry.

    Attributes
    ----------
    jurisdiction : str
        ``JP-<area>``, ``CN``, ``CN-East``, ``CN-SH`` …
    year : int
        Year the factor describes (Japanese fiscal year for ``JP-*``).
    calibre : str
        One of :data:`CALIBRES`.
    kg_co2_per_kwh : float
        The factor [kg CO2/kWh].
    publisher, document, url, published, note : str
        Who published it, in which document, where it was read (may be empty when the page was not found), when,
        and how it was read (copies, menus, provisional values).
    """

    jurisdiction: str
    year: int
    calibre: str
    kg_co2_per_kwh: float
    publisher: str
    document: str
    url: str
    published: str
    note: str

    @property
    def name(self) -> str:
        """The registry name, ``"JURISDICTION:YEAR:CALIBRE"``."""
        return f"{self.jurisdiction}:{self.year}:{self.calibre}"

    @property
    def second_hand(self) -> bool:
        """Whether the value was read only in a copy of someone else's table or quotation (the note's mark)."""
        return self.note.startswith(SECOND_HAND)

    @property
    def source(self) -> str:
        """One line naming the factor and its source, for reports (saying so when it was read second-hand)."""
        where = f", {self.url}" if self.url else ""
        value = f"{self.name} = {self.kg_co2_per_kwh:g} kg CO2/kWh"
        copy = "; second-hand: read in the copy named, not in the publisher's table" if self.second_hand else ""
        return f"{value} — {self.publisher}, {self.document}{where} ({self.published}{copy})"


@functools.cache
def factor_registry() -> tuple[GridFactor, ...]:
    """All factors of the bundled registry (``grid_factors.csv``), in file order (see :func:`parse_factor_table`)."""
    text = resources.files("chisan.carbon").joinpath("grid_factors.csv").read_text(encoding="utf-8")
    return parse_factor_table(text)


def parse_factor_table(text: str, *, name: str = "grid_factors.csv") -> tuple[GridFactor, ...]:
    """The factors of a registry table in the layout of ``grid_factors.csv`` (its CSV text), in file order.

    Raises
    ------
    DataError
        A row with more or fewer fields than the header (an unquoted comma), an unknown calibre, a negative
        factor or a duplicate key (a broken package).
    """
    rows = list(csv.DictReader(text.splitlines()))
    for i, r in enumerate(rows):
        if None in r or None in r.values():  # an unquoted comma shifts every later field of the row
            raise DataError(
                f"{name} row {i + 2} ({r.get('jurisdiction')}:{r.get('year')}:{r.get('calibre')}) has more or "
                "fewer fields than the header; quote a field that contains a comma"
            )
    factors = tuple(
        GridFactor(
            jurisdiction=r["jurisdiction"],
            year=int(r["year"]),
            calibre=r["calibre"],
            kg_co2_per_kwh=float(r["kg_co2_per_kwh"]),
            publisher=r["publisher"],
            document=r["document"],
            url=r["url"],
            published=r["published"],
            note=r["note"],
        )
        for r in rows
    )
    seen: set[str] = set()
    for i, f in enumerate(factors):
        if f.calibre not in CALIBRES or f.kg_co2_per_kwh < 0 or f.name in seen:
            raise DataError(f"{name} row {i + 2}: {f.name} = {f.kg_co2_per_kwh} is not a valid new entry")
        seen.add(f.name)
    return factors


def grid_factor_names() -> list[str]:
    """Names of all registry factors, ``"JURISDICTION:YEAR:CALIBRE"``."""
    return [f.name for f in factor_registry()]


def grid_factor(name: str) -> GridFactor:
    """Look a factor up by ``"JURISDICTION:YEAR:CALIBRE"`` or ``"JURISDICTION:CALIBRE"`` (latest year).

    Jurisdiction and calibre are matched without regard to case.

    Raises
    ------
    ScenarioError
        An unknown name; the message lists the names that exist.
    """
    parts = [p.strip() for p in str(name).split(":")]
    found: list[GridFactor] = []
    if len(parts) in (2, 3):
        jur, cal = parts[0].casefold(), parts[-1].casefold()
        found = [f for f in factor_registry() if f.jurisdiction.casefold() == jur and f.calibre == cal]
        if len(parts) == 3:
            found = [f for f in found if str(f.year) == parts[1]]
    if not found:
        raise ScenarioError(f"grid emission factor {name!r}: {unknown_factor_reason(name)}")
    return max(found, key=lambda f: f.year)


def unknown_factor_reason(name: str) -> str:
    """Why ``name`` is refused, for a message that already names the field and value: the closest registry names,
    the form of a name, and where to find them all."""
    close = closest_factor_names(str(name))
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ";"
    registry = resources.files("chisan.carbon").joinpath("grid_factors.csv")
    return (
        f"not in the registry{hint} Write JURISDICTION:YEAR:CALIBRE or JURISDICTION:CALIBRE (latest year). All "
        f"{len(grid_factor_names())} names: chisan.carbon.factors.grid_factor_names(), or the jurisdiction, year "
        f"and calibre columns of {registry}"
    )


def closest_factor_names(name: str, n: int = 3) -> list[str]:
    """Up to ``n`` registry names most like ``name``: those it begins, then by difflib's ratio (case ignored).

    Candidates are the full names and the ``JURISDICTION:CALIBRE`` (latest year) forms.
    """
    names = grid_factor_names()
    short = [f"{f.jurisdiction}:{f.calibre}" for f in factor_registry()]
    by_fold = {c.casefold(): c for c in dict.fromkeys([*names, *short])}
    given = str(name).strip().casefold()
    ratio = {c: difflib.SequenceMatcher(None, given, c).ratio() for c in by_fold}
    begun = sorted((c for c in by_fold if given and c.startswith(given)), key=lambda c: -ratio[c])
    close = difflib.get_close_matches(given, list(by_fold), n=n, cutoff=0.6)
    return [by_fold[c] for c in dict.fromkeys([*begun, *close])][:n]


def area_factors(year: int, calibre: str = "basic") -> dict[str, GridFactor]:
    """The registry's factors of the Japanese areas for one fiscal year and calibre, by area short name.

    Areas without a sourced factor for that year are absent (the registry does not fill gaps).
    """
    return {
        f.jurisdiction.removeprefix("JP-"): f
        for f in factor_registry()
        if f.jurisdiction.startswith("JP-") and f.year == year and f.calibre == calibre
    }


def latest_area_factors(calibre: str = "basic") -> dict[str, GridFactor]:
    """Each Japanese area's most recent factor of one calibre in the registry, by area short name.

    The years differ between areas (e.g. Shikoku FY2024, Kyushu FY2022, Kansai FY2018, Tohoku FY2013 for the basic
    factor): every factor names its year, so a report can say which one a town used.
    """
    latest: dict[str, GridFactor] = {}
    for f in factor_registry():
        if f.jurisdiction.startswith("JP-") and f.calibre == calibre:
            area = f.jurisdiction.removeprefix("JP-")
            if area not in latest or f.year > latest[area].year:
                latest[area] = f
    return latest


def area_factor_set(name: str) -> dict[str, GridFactor]:
    """A named set (:data:`FACTOR_SETS` or ``latest``) as area → registry factor.

    Raises
    ------
    ScenarioError
        An unknown set name, listing the allowed ones.
    """
    key = str(name).strip().lower()
    if key in LATEST_SETS:
        return latest_area_factors(LATEST_SETS[key])
    if key not in FACTOR_SETS:
        allowed = sorted([*FACTOR_SETS, *LATEST_SETS])
        raise ScenarioError(f"unknown grid emission factor set {name!r}; allowed: {allowed}")
    year, calibre = FACTOR_SETS[key]
    return area_factors(year, calibre)


def factor_set(name: str) -> dict[str, float]:
    """A named set (:func:`area_factor_set`) as area → factor [kg CO2/kWh] (every set covers all ten areas).

    Raises
    ------
    ScenarioError
        An unknown set name, listing the allowed ones.
    """
    return {area: f.kg_co2_per_kwh for area, f in area_factor_set(name).items()}


ELECTRICITYMAPS_TIME_COLUMN = "Datetime (UTC)"
"""Time column of an Electricity Maps hourly export (UTC, hour starting)."""

ELECTRICITYMAPS_COLUMNS = {
    "carbon_intensity_gco2eq_per_kwh": "Carbon Intensity gCO₂eq/kWh (LCA)",
    "carbon_intensity_direct_gco2eq_per_kwh": "Carbon Intensity gCO₂eq/kWh (direct)",
}
"""Glossary names of the Electricity Maps carbon-intensity columns [g CO2e/kWh]."""


def read_hourly_emission_factors(
    path: str | Path, *, column: str = "carbon_intensity_direct_gco2eq_per_kwh", time_column: str | None = None
) -> pd.Series:
    """Read hourly grid carbon intensity and return it in [kg CO2e/kWh] on a UTC index.

    Parameters
    ----------
    path : str or Path
        CSV file. An Electricity Maps export is recognised by its columns; otherwise ``time_column`` (UTC
        or with an offset) and ``column`` [g CO2e/kWh] name the columns.
    column : str
        Glossary name — ``carbon_intensity_direct_gco2eq_per_kwh`` (default: combustion at the power plants, the
        basis of location-based scope 2 in the GHG Protocol) or ``carbon_intensity_gco2eq_per_kwh`` (life cycle,
        including upstream, which the GHG Protocol counts in scope 3) — or the file's own column name,
        in [g CO2e/kWh].
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: emission-factor file not found")
    frame = pd.read_csv(path)
    source_col = ELECTRICITYMAPS_COLUMNS.get(column, column)
    tcol = time_column or (ELECTRICITYMAPS_TIME_COLUMN if ELECTRICITYMAPS_TIME_COLUMN in frame else "time")
    for c in (tcol, source_col):
        if c not in frame:
            raise DataError(f"{path}: column {c!r} not found; columns are {', '.join(map(str, frame.columns))}")
    times = pd.to_datetime(frame[tcol], utc=True, errors="coerce")
    if times.isna().any():
        row = int(times.isna().to_numpy().argmax())
        raise DataError(f"{path}: row {row + 2}, column {tcol!r}: unreadable time {frame[tcol].iloc[row]!r}")
    values = pd.to_numeric(frame[source_col], errors="coerce")
    if values.isna().any() or (values < 0).any():
        row = int((values.isna() | (values < 0)).to_numpy().argmax())
        raise DataError(
            f"{path}: row {row + 2}, column {source_col!r}: value {frame[source_col].iloc[row]!r} is not a "
            "carbon intensity ≥ 0 g CO2e/kWh"
        )
    series = pd.Series(values.to_numpy(float) / G_PER_KG, index=pd.DatetimeIndex(times), name="kg_co2e_per_kwh")
    return series[~series.index.duplicated()].sort_index()


def factors_on_index(factors: pd.Series, snapshots: pd.DatetimeIndex) -> pd.Series:
    """Map hourly factors onto the plan's snapshots [kg CO2e/kWh].

    When the file covers the snapshots' year, each snapshot takes the value of its hour. Otherwise (a file of
    another year) values are matched by month, day and hour of the local clock, so that a typical profile can be
    reused: the daily and seasonal shape is kept, the calendar year is not.
    """
    local = factors.tz_convert(snapshots.tz)
    hourly = snapshots.floor("h")
    direct = local.reindex(hourly)
    if direct.notna().all():
        return pd.Series(direct.to_numpy(float), index=snapshots, name="emission_factor_kg_per_kwh")
    key = pd.Series(
        local.to_numpy(float),
        index=pd.MultiIndex.from_arrays([local.index.month, local.index.day, local.index.hour]),
    )
    key = key[~key.index.duplicated()]
    wanted = pd.MultiIndex.from_arrays([hourly.month, hourly.day, hourly.hour])
    mapped = key.reindex(wanted).to_numpy(float)
    if np.isnan(mapped).any():
        # a missing hour (e.g. 29 February absent in the file): fill from the neighbouring hours
        mapped = pd.Series(mapped).interpolate(limit_direction="both").to_numpy()
    return pd.Series(mapped, index=snapshots, name="emission_factor_kg_per_kwh")
