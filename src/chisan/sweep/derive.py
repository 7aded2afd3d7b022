"""From one municipality (a row of a table) and a template scenario to that municipality's scenario.

The template describes a reference town (the bundled example: 30,000 residents, 5 car-sharing bases, 30 shared
Nissan Sakura). Each municipality gets the template with these changes, and nothing else:

Location → weather and solar
    The municipality's town-hall latitude and longitude (altitude 0 m unless the table has one).
    ``weather="japan"`` (the default, :class:`DeriveOptions`) gives each municipality its own climate
    (``weather.source = "japan"``, :func:`chisan.resources.japan_climate.japan_weather_year`): its climate
    region's typical year (hourly files of ``data_dir``, else ``$CHISAN_DATA``, else the bundled monthly means
    driving the synthetic year) with temperature moved by latitude and irradiance scaled to the measured annual
    GHI nearby; the row says which (``weather_source``). ``weather="municipality"``, with a synthetic template
    climate (``weather.source = "synthetic"``), makes the template's year at the municipality
    (``weather.site = "municipality"``): the sun and clear sky of the town, the template climate's monthly
    clearness index, temperature and wind (:func:`chisan.resources.climate.climate_at_site`). The template's
    climate is Tokyo's, so this moves the sun, not the clouds: Hokkaido and Okinawa get the Tokyo (Hyakuri)
    monthly cloudiness, temperature and wind at their own latitude. ``weather="template"`` keeps the template's
    weather unchanged everywhere.
Population → members, bookings, fleet
    f = population / template population. Members = round(template members × f) (bookings follow the members
    at the template's rate per member). Stations: n = max(1, round(template stations × f)); station k is the
    template's station k mod S (repeated stations are numbered), member shares renormalised. Each station keeps
    the template's members per vehicle: with g = f · S / n (members per station relative to the template),
    vehicles = max(1, round(template vehicles × g)) and chargers in the template's ratio to vehicles (stations
    whose fleet the template leaves open stay open and are sized from the bookings). Site limits and fixed
    capacities of PV, wind and storage, grid and station connection limits and the policy caps scale with f
    (the roof, land and grid room of a town grow with its car-sharing).
Meters
    A national sweep screens each town behind one meter (``grid.topology = "single_meter"``): with a meter per
    base the plan of a town takes about 6 × longer (24.8 s against 3.9 s for a 7-base town, measured). A template
    that sets ``grid.topology`` (or declares ``[[sites]]``, links, or a tariff of a site or station) keeps its
    meters; ``chisan plan`` of a chosen town gives every base its own meter by default. A town whose meters have
    tariffs of their own is planned by ``chisan plan``'s two-stage method even in a reduced sweep
    (:mod:`chisan.sweep.run`): the reduced plan's one-bus LP cannot bill each meter on its own tariff.
Region → grid emission factor and prices
    Prefecture → the service area of its former general electricity utility (:data:`PREFECTURE_AREAS`);
    border municipalities served by a neighbouring utility (eastern Shizuoka by TEPCO, Reinan in Fukui by
    Kansai, …) take their prefecture's area unless ``area_by_code`` says otherwise. Grid factor = the area's
    factor of :data:`GRID_EMISSION_FACTORS` (``fy2013``), or of a registry set
    (:func:`chisan.carbon.factors.area_factor_set`: ``fy2016``, ``latest`` = each area's most recent basic
    factor, whose name the scenario then carries in ``grid.emission_factor``); the hourly factor file of the
    template, if any, is dropped: it describes one area. Prices, ``prices="tariff"``: the area's bundled
    business tariff (:func:`chisan.tariffs.areas.area_tariff`) — low voltage (低圧電力, contract fixed at the
    town's installed charging power, rounded up) when that power (Σ chargers × charger kW, capped by the
    grid connection limit) is below 50 kW, else high voltage (業務用電力, basic charge on the year's peak
    demand); the template's flat and time-of-use prices are replaced, export is the tariff's. A template that
    brings its own ``[grid.tariff]`` keeps it (as a template that sets its meters keeps them).
    ``prices="area"``: import prices (flat and time-of-use bands) = the template's × the area's price index
    (:data:`AREA_PRICE_INDEX`) relative to the template's own area; export price unchanged (a national
    post-FIT sale price).

References
----------
.. [1] Ministry of the Environment, Japan: electricity suppliers' emission factors for FY2013 (平成25年度の
   電気事業者別実排出係数), as listed in "環境省、電力会社・電気事業者の平成25年度CO2排出係数を公表",
   Kankyo Business, https://www.kankyo-business.jp/news/009330.php (DESIGN.md §7 quotes five of them).
.. [2] Residential energy charges of the ten former general utilities, second tier (121–300 kWh/month) of
   従量電灯B (従量電灯A for Kansai, Chugoku, Shikoku; 従量電灯 for Hokuriku and Okinawa), without fuel-cost
   adjustment and renewable levy: "日本各地の電気代を比較!", https://123a.jp/navi/archives/3115; the TEPCO,
   Tohoku, Chubu and Hokkaido figures agree with https://sfplan.jp/npc/elect-price/price2-comparison10.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from chisan.exceptions import DataError, ScenarioError
from chisan.scenario.load import scenario_from_dict
from chisan.scenario.schema import Scenario
from chisan.scenario.schema_sites import has_site_tariffs

AREAS = ("hokkaido", "tohoku", "tepco", "hokuriku", "chubu", "kansai", "chugoku", "shikoku", "kyushu", "okinawa")
"""Service areas of the ten former general electricity utilities (一般電気事業者), by their short names."""

PREFECTURE_AREAS: dict[str, tuple[str, str, str]] = {
    "01": ("Hokkaido", "北海道", "hokkaido"),
    "02": ("Aomori", "青森県", "tohoku"),
    "03": ("Iwate", "岩手県", "tohoku"),
    "04": ("Miyagi", "宮城県", "tohoku"),
    "05": ("Akita", "秋田県", "tohoku"),
    "06": ("Yamagata", "山形県", "tohoku"),
    "07": ("Fukushima", "福島県", "tohoku"),
    "08": ("Ibaraki", "茨城県", "tepco"),
    "09": ("Tochigi", "栃木県", "tepco"),
    "10": ("Gunma", "群馬県", "tepco"),
    "11": ("Saitama", "埼玉県", "tepco"),
    "12": ("Chiba", "千葉県", "tepco"),
    "13": ("Tokyo", "東京都", "tepco"),
    "14": ("Kanagawa", "神奈川県", "tepco"),
    "15": ("Niigata", "新潟県", "tohoku"),
    "16": ("Toyama", "富山県", "hokuriku"),
    "17": ("Ishikawa", "石川県", "hokuriku"),
    "18": ("Fukui", "福井県", "hokuriku"),
    "19": ("Yamanashi", "山梨県", "tepco"),
    "20": ("Nagano", "長野県", "chubu"),
    "21": ("Gifu", "岐阜県", "chubu"),
    "22": ("Shizuoka", "静岡県", "chubu"),
    "23": ("Aichi", "愛知県", "chubu"),
    "24": ("Mie", "三重県", "chubu"),
    "25": ("Shiga", "滋賀県", "kansai"),
    "26": ("Kyoto", "京都府", "kansai"),
    "27": ("Osaka", "大阪府", "kansai"),
    "28": ("Hyogo", "兵庫県", "kansai"),
    "29": ("Nara", "奈良県", "kansai"),
    "30": ("Wakayama", "和歌山県", "kansai"),
    "31": ("Tottori", "鳥取県", "chugoku"),
    "32": ("Shimane", "島根県", "chugoku"),
    "33": ("Okayama", "岡山県", "chugoku"),
    "34": ("Hiroshima", "広島県", "chugoku"),
    "35": ("Yamaguchi", "山口県", "chugoku"),
    "36": ("Tokushima", "徳島県", "shikoku"),
    "37": ("Kagawa", "香川県", "shikoku"),
    "38": ("Ehime", "愛媛県", "shikoku"),
    "39": ("Kochi", "高知県", "shikoku"),
    "40": ("Fukuoka", "福岡県", "kyushu"),
    "41": ("Saga", "佐賀県", "kyushu"),
    "42": ("Nagasaki", "長崎県", "kyushu"),
    "43": ("Kumamoto", "熊本県", "kyushu"),
    "44": ("Oita", "大分県", "kyushu"),
    "45": ("Miyazaki", "宮崎県", "kyushu"),
    "46": ("Kagoshima", "鹿児島県", "kyushu"),
    "47": ("Okinawa", "沖縄県", "okinawa"),
}
"""JIS prefecture code → (English name, Japanese name, service area of its former general utility)."""

GRID_EMISSION_FACTORS: dict[str, dict[str, float]] = {
    "fy2013": {
        "hokkaido": 0.678,
        "tohoku": 0.591,
        "tepco": 0.530,
        "hokuriku": 0.630,
        "chubu": 0.513,
        "kansai": 0.522,
        "chugoku": 0.719,
        "shikoku": 0.699,
        "kyushu": 0.613,
        "okinawa": 0.858,
    },
}
"""Named sets of grid emission factors by area [kg CO2/kWh].

``fy2013``: the basic (実排出係数) factors of the ten former general utilities for FY2013, the one year for which
all ten are at hand from one official list [1]. FY2013 was a high year (nuclear plants off after 2011); recent
factors are lower (e.g. Kyushu FY2022 0.399, Shikoku FY2023 0.464, DESIGN.md §7), so scope 2 is on the high side.
"""

AREA_PRICE_INDEX: dict[str, float] = {
    "hokkaido": 30.26,
    "tohoku": 25.33,
    "tepco": 26.48,
    "hokuriku": 21.73,
    "chubu": 25.51,
    "kansai": 25.71,
    "chugoku": 27.44,
    "shikoku": 26.99,
    "kyushu": 23.06,
    "okinawa": 28.49,
}
"""Residential energy charge of each area's former general utility, second tier [JPY/kWh] [2].

Used only as a relative index: an area's import prices are the template's × index(area) / index(template area).
"""

WardsMode = Literal["exclude", "only", "instead-of-city"]
WARDS_MODES: tuple[str, ...] = ("exclude", "only", "instead-of-city")
"""How the wards of designated cities are handled: ``exclude`` (the 1,741 municipalities, each designated city
as a whole), ``only`` (just the wards), ``instead-of-city`` (the wards replace their designated city)."""

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("lgcode6", "code", "lg_code", "municipality_code"),
    "name": ("name_en_wikipedia", "name_en", "name", "name_ja"),
    "name_ja": ("name_ja",),
    "prefecture": ("pref_en", "prefecture", "pref_ja"),
    "pref_code": ("pref_code",),
    "latitude_deg": ("lat", "latitude", "latitude_deg"),
    "longitude_deg": ("lon", "lng", "longitude", "longitude_deg"),
    "population": ("population_2022_01_01", "population"),
    "is_ward": ("is_designated_city_ward", "is_ward"),
    "altitude_m": ("altitude_m", "altitude"),
}
"""Canonical column → accepted column names of a municipalities table, first found wins."""

REQUIRED_COLUMNS = ("code", "name", "prefecture", "latitude_deg", "longitude_deg", "population")


def _find_column(frame: pd.DataFrame, canonical: str) -> str | None:
    return next((c for c in COLUMN_ALIASES[canonical] if c in frame.columns), None)


def read_municipalities(path: str | Path, *, wards: str = "exclude") -> pd.DataFrame:
    """Read a municipalities table (CSV) into canonical columns, one row per municipality to plan.

    Rows are kept as they are, even with missing or impossible values: :func:`derive_scenario` rejects such a row
    with a message, so that a sweep records it as failed and goes on with the others.

    Parameters
    ----------
    path : str or Path
        CSV with, under any of the names of :data:`COLUMN_ALIASES`: local-government code, name, prefecture,
        latitude [°], longitude [°], population [persons]; optionally a designated-city-ward flag (0/1), the
        Japanese name, the JIS prefecture code and the altitude [m].
    wards : {"exclude", "only", "instead-of-city"}
        See :data:`WARDS_MODES`. A ward's designated city is the non-ward row of the same prefecture and city
        block with the greatest 5-digit code not above the ward's (Sapporo 01100 for wards 01101–01110).

    Returns
    -------
    pandas.DataFrame
        Index ``code`` (str, unique); columns ``name``, ``name_ja``, ``prefecture``, ``pref_code``,
        ``latitude_deg``, ``longitude_deg``, ``altitude_m``, ``population``, ``is_ward`` (bool), ``parent_code``
        (the designated city of a ward, else empty).

    Raises
    ------
    DataError
        The file cannot be read, a required column is missing, codes repeat, or ``wards`` is unknown.
    """
    path = Path(path)
    if wards not in WARDS_MODES:
        raise DataError(f"wards = {wards!r}; allowed: {', '.join(WARDS_MODES)}")
    if not path.is_file():
        raise DataError(f"{path}: municipalities file not found")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path}: not a readable CSV file: {err}") from None
    cols = {c: _find_column(raw, c) for c in COLUMN_ALIASES}
    missing = [c for c in REQUIRED_COLUMNS if cols[c] is None]
    if missing:
        wanted = "; ".join(f"{c}: one of {', '.join(COLUMN_ALIASES[c])}" for c in missing)
        raise DataError(f"{path}: missing column(s) {wanted}. Columns found: {', '.join(raw.columns)}")
    out = pd.DataFrame(index=raw.index)
    out["code"] = raw[cols["code"]].astype(str).str.strip()
    names = raw[cols["name"]]
    if cols["name_ja"] is not None:
        out["name_ja"] = raw[cols["name_ja"]].fillna("")
        names = names.fillna(raw[cols["name_ja"]])
    else:
        out["name_ja"] = ""
    out["name"] = names.fillna(out["code"])
    out["prefecture"] = raw[cols["prefecture"]].fillna("")
    out["pref_code"] = raw[cols["pref_code"]].fillna("") if cols["pref_code"] else ""
    for canonical in ("latitude_deg", "longitude_deg", "population", "altitude_m"):
        source = cols[canonical]
        out[canonical] = pd.to_numeric(raw[source], errors="coerce") if source else 0.0
    ward_col = cols["is_ward"]
    out["is_ward"] = (
        raw[ward_col].fillna("0").astype(str).str.strip().isin(["1", "True", "true"]) if ward_col else False
    )
    dupes = sorted(set(out["code"][out["code"].duplicated()]))
    if dupes:
        raise DataError(
            f"{path}: column {cols['code']!r} repeats code(s) {', '.join(dupes[:10])}; every municipality needs "
            "its own code (the sweep stores and resumes by code)"
        )
    out["parent_code"] = _ward_parents(out)
    out = out.set_index("code")
    if wards == "exclude":
        out = out[~out["is_ward"]]
    elif wards == "only":
        out = out[out["is_ward"]]
    else:
        parents = set(out.loc[out["is_ward"], "parent_code"])
        out = out[out["is_ward"] | ~out.index.isin(parents)]
    return out


def _ward_parents(frame: pd.DataFrame) -> pd.Series:
    """Code of each ward's designated city (empty for non-wards and for wards whose city is not in the table)."""
    parents = pd.Series("", index=frame.index, dtype=object)
    codes5 = frame["code"].str[:5]
    cities = frame.loc[~frame["is_ward"], "code"]
    city5 = cities.str[:5]
    for i in frame.index[frame["is_ward"]]:
        c5 = codes5[i]
        candidates = cities[(city5.str[:3] == c5[:3]) & (city5 <= c5)]
        if len(candidates):
            parents[i] = candidates.loc[city5[candidates.index].idxmax()]
    return parents


def prefecture_code(prefecture: str | int) -> str:
    """The two-digit JIS code of a prefecture given by code (``1``, ``"01"``), English or Japanese name.

    Raises
    ------
    ScenarioError
        Unknown prefecture; the message lists the valid names.
    """
    key = str(prefecture).strip()
    if key.isdigit() and 1 <= int(key) <= 47:
        return f"{int(key):02d}"
    folded = key.casefold().removesuffix(" prefecture")
    for code, (en, ja, _) in PREFECTURE_AREAS.items():
        if folded == en.casefold() or key in (ja, ja[:-1]):
            return code
    names = ", ".join(v[0] for v in PREFECTURE_AREAS.values())
    raise ScenarioError(f"prefecture {prefecture!r} is not a Japanese prefecture; allowed: JIS codes 1–47 or {names}")


def grid_area(prefecture: str | int) -> str:
    """The electricity service area of a prefecture (:data:`PREFECTURE_AREAS`), given as :func:`prefecture_code`."""
    return PREFECTURE_AREAS[prefecture_code(prefecture)][2]


def grid_emission_factors(name: str) -> dict[str, float]:
    """A named set of grid emission factors by area [kg CO2/kWh] (:data:`GRID_EMISSION_FACTORS`, or a set of the
    factor registry, :func:`chisan.carbon.factors.area_factor_set`)."""
    key = str(name).strip().lower()
    if key in GRID_EMISSION_FACTORS:
        return GRID_EMISSION_FACTORS[key]
    from chisan.carbon.factors import area_factor_set

    return {area: f.kg_co2_per_kwh for area, f in area_factor_set(key).items()}


def registry_factor(name: str, area: str):
    """The registry factor (:class:`chisan.carbon.factors.GridFactor`) of ``area`` in a registry set, or None for
    :data:`GRID_EMISSION_FACTORS`' own sets."""
    key = str(name).strip().lower()
    if key in GRID_EMISSION_FACTORS:
        return None
    from chisan.carbon.factors import area_factor_set

    return area_factor_set(key)[area]


def charging_power_kw(scenario: Scenario) -> float | None:
    """Installed charging power of a town [kW]: Σ stations' chargers × charger kW (chargers default to one per
    vehicle), capped by ``grid.connection_limit_kw``; None when a station leaves its fleet open."""
    total = 0.0
    for st in scenario.stations:
        n = st.chargers if st.chargers is not None else st.vehicles
        if n is None:
            return None
        total += n * st.charger_kw
    limit = scenario.grid.connection_limit_kw
    return min(total, limit) if limit is not None else total


@dataclass(frozen=True)
class DeriveOptions:
    """How municipalities are derived from the template (see the module docstring).

    Attributes
    ----------
    weather : {"japan", "municipality", "template"}
        Build each municipality's own Japanese climate (default; :mod:`chisan.resources.japan_climate`: the
        hourly regional years of ``data_dir`` / ``$CHISAN_DATA`` when given, else the bundled monthly figures),
        make the template's synthetic (Tokyo) year at each municipality's sun, or keep the template's weather.
    data_dir : str, optional
        ``weather="japan"``: data folder with the regional hourly years; default ``$CHISAN_DATA``, else the
        bundled monthly figures.
    grid_factors : str
        A set of :data:`GRID_EMISSION_FACTORS` (``fy2013``) or of the factor registry (``fy2016``, ``latest``), or
        ``"template"`` to keep the template's grid factor everywhere (default ``latest``).
    prices : {"area", "tariff", "template"}
        Scale the template's import prices by the area price index, give each town its area's low- or
        high-voltage tariff (module docstring; the default), or keep them everywhere.
    template_area : str, optional
        The area whose prices the template's tariff is; default the area of the template's prefecture, else
        ``"tepco"`` (the bundled example lies in Ibaraki).
    area_by_code : dict[str, str]
        Area of particular municipalities (by code), overriding their prefecture's.
    """

    weather: Literal["municipality", "template", "japan"] = "japan"
    data_dir: str | None = None
    grid_factors: str = "latest"
    prices: Literal["area", "tariff", "template"] = "tariff"
    template_area: str | None = None
    area_by_code: Mapping[str, str] = field(default_factory=dict)

    def check(self, template: Scenario) -> None:
        """Raise ScenarioError when the options do not fit the template (once, before any municipality)."""
        if self.weather not in ("municipality", "template", "japan"):
            raise ScenarioError(f"weather = {self.weather!r}; allowed: municipality, template, japan")
        if self.data_dir is not None and self.weather != "japan":
            raise ScenarioError(
                f"data_dir = {self.data_dir!r} is read only with weather = 'japan' (got {self.weather!r})"
            )
        if self.weather == "japan":
            from chisan.resources.japan_climate import regional_climates, resolve_data_dir

            regional_climates(resolve_data_dir(self.data_dir))  # a bad folder fails once, before any municipality
        if self.prices not in ("area", "tariff", "template"):
            raise ScenarioError(f"prices = {self.prices!r}; allowed: area, tariff, template")
        if self.prices == "tariff" and template.finance.currency != "JPY":
            raise ScenarioError(
                f"prices = 'tariff' gives Japanese tariffs in JPY, but the template's finance.currency = "
                f"{template.finance.currency!r}; use prices = 'template'"
            )
        if self.grid_factors != "template":
            grid_emission_factors(self.grid_factors)
        if self.weather == "municipality" and template.weather.source != "synthetic":
            raise ScenarioError(
                f"the template's weather.source = {template.weather.source!r} is one place's file; a sweep can move "
                "only a synthetic climate to each municipality. Use weather = 'template' to use the file everywhere, "
                "or weather.source = 'synthetic' in the template"
            )
        if template.bookings.source != "generated":
            raise ScenarioError(
                "the template's bookings.source = 'csv': a sweep derives each municipality's bookings from its "
                "population, so the template needs bookings.source = 'generated'"
            )
        if template.municipality.population <= 0:
            raise ScenarioError("the template's municipality.population must be > 0 (the sweep scales by it)")
        for code, area in self.area_by_code.items():
            if area not in AREAS:
                raise ScenarioError(f"area_by_code[{code!r}] = {area!r}; allowed: {', '.join(AREAS)}")
        if self.template_area is not None and self.template_area not in AREAS:
            raise ScenarioError(f"template_area = {self.template_area!r}; allowed: {', '.join(AREAS)}")

    def reference_area(self, template: Scenario) -> str:
        """The area the template's prices belong to."""
        if self.template_area is not None:
            return self.template_area
        if template.municipality.prefecture:
            return grid_area(template.municipality.prefecture)
        return "tepco"


def price_rule(template: Scenario, options: DeriveOptions) -> str:
    """How a town's prices are derived: ``"tariff"`` (the area tariff), ``"area"`` (the template's × the area price
    index), ``"template"`` (unchanged) or ``"template-tariff"`` (the template's own ``[grid.tariff]``, kept).

    ``prices="tariff"`` gives the area tariff only behind one meter (the sweep's screening default): the reduced
    plan bills a basic charge on one meter (:func:`chisan.sweep.lp.solve_aggregate`), so a template that keeps a
    meter per base gets the price-index rule instead, and its rows say so.
    """
    if options.prices == "template":
        return "template"
    if template.grid.tariff is not None:
        return "template-tariff"
    if options.prices == "area":
        return "area"
    explicit = (
        "topology" in template.grid.model_fields_set
        or template.sites
        or template.grid.links
        or has_site_tariffs(template)  # a tariff per meter keeps the meters
    )
    one_meter = not explicit or (
        template.grid.topology == "single_meter" and not template.sites and not template.grid.links
    )
    return "tariff" if one_meter else "area"


def template_members(template: Scenario) -> int:
    """Members of the template town (given, or population × membership fraction)."""
    b = template.bookings
    return b.members if b.members is not None else round(template.municipality.population * b.membership_fraction)


def _value(row: Mapping[str, Any], key: str) -> Any:
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def municipality_area(code: str, row: Mapping[str, Any], options: DeriveOptions) -> str:
    """Service area of a municipality: the override for its code, else its prefecture's."""
    if code in options.area_by_code:
        return options.area_by_code[code]
    pref = _value(row, "pref_code") or _value(row, "prefecture")
    if pref is None:
        raise ScenarioError(f"municipality {code}: the prefecture is missing")
    return grid_area(pref)


def derive_scenario(
    template: Scenario, code: str, row: Mapping[str, Any], options: DeriveOptions | None = None
) -> Scenario:
    """The scenario of one municipality: the template changed as the module docstring documents.

    Parameters
    ----------
    template : Scenario
        The reference town.
    code : str
        The municipality's local-government code.
    row : mapping
        ``name``, ``prefecture`` (and/or ``pref_code``), ``latitude_deg``, ``longitude_deg``, ``population``,
        optionally ``altitude_m`` (a row of :func:`read_municipalities`).
    options : DeriveOptions, optional

    Raises
    ------
    ScenarioError
        A value of the row is missing or impossible, or the derived scenario breaks the schema.
    """
    options = options or DeriveOptions()
    where = f"municipality {code} ({row.get('name', '?')})"
    lat, lon, pop = (_value(row, k) for k in ("latitude_deg", "longitude_deg", "population"))
    for key, value, lo, hi in (("latitude_deg", lat, -90, 90), ("longitude_deg", lon, -180, 180)):
        if value is None or not lo <= float(value) <= hi:
            raise ScenarioError(f"{where}: {key} = {value!r}; allowed: a number from {lo} to {hi} [°]")
    if pop is None or float(pop) < 0 or float(pop) != round(float(pop)):
        raise ScenarioError(f"{where}: population = {pop!r}; allowed: a whole number ≥ 0 [persons]")
    population = int(pop)
    altitude = float(_value(row, "altitude_m") or 0.0)
    area = municipality_area(code, row, options)

    t_pop = template.municipality.population
    t_members = template_members(template)
    members = round(t_members * population / t_pop)
    if members < 1:
        raise ScenarioError(
            f"{where}: population {population:,} at the template's {t_members / t_pop:.3%} membership gives "
            f"{t_members * population / t_pop:.2f} members, which rounds to 0: there is no car-sharing to plan"
        )
    f = members / t_members  # scale of demand: the members relative to the template's
    data = template.model_dump(mode="python", exclude={"base_dir"})

    data["municipality"].update(
        name=str(row.get("name") or code),
        latitude_deg=float(lat),
        longitude_deg=float(lon),
        altitude_m=altitude,
        population=population,
        code=str(code),
        prefecture=str(row.get("prefecture") or "") or None,
    )
    data["bookings"]["members"] = members
    data["stations"] = _derived_stations(template, f)

    tech = data["technologies"]
    for name in ("pv", "wind"):
        for key in ("min_kw", "max_kw", "fixed_kw"):
            if tech[name].get(key) is not None:
                tech[name][key] = tech[name][key] * f
    for key in ("max_kwh", "max_kw", "fixed_kwh", "fixed_kw"):
        if tech["storage"].get(key) is not None:
            tech["storage"][key] = tech["storage"][key] * f
    if data["grid"].get("connection_limit_kw") is not None:
        data["grid"]["connection_limit_kw"] *= f
    for key in ("max_grid_import_kwh_per_year", "max_emissions_kg_per_year"):
        if data["policy"].get(key) is not None:
            data["policy"][key] *= f

    if options.grid_factors != "template":
        registered = registry_factor(options.grid_factors, area)
        data["grid"]["emission_factor_kg_per_kwh"] = grid_emission_factors(options.grid_factors)[area]
        data["grid"]["emission_factor"] = registered.name if registered is not None else None
        data["grid"]["emission_factor_path"] = None
    rule = price_rule(template, options)
    if rule == "area":
        index = AREA_PRICE_INDEX[area] / AREA_PRICE_INDEX[options.reference_area(template)]
        data["grid"]["import_price_per_kwh"] *= index
        for band in data["grid"]["import_tou"]:
            band["price_per_kwh"] *= index
    if rule == "tariff":  # the area's low- or high-voltage tariff (module docstring, "Region")
        from chisan.tariffs.areas import LOW_VOLTAGE_LIMIT_KW, area_tariff

        power = charging_power_kw(scenario_from_dict(data, source=f"{where} (fleet)", base_dir=template.base_dir))
        tariff = area_tariff(area, power if power is not None else LOW_VOLTAGE_LIMIT_KW)
        data["grid"]["tariff"] = tariff.model_dump(mode="python")
        data["grid"]["import_tou"] = []
    explicit = (
        "topology" in template.grid.model_fields_set
        or template.sites
        or template.grid.links
        or has_site_tariffs(template)  # a tariff per meter keeps the meters
    )
    if not explicit:  # screening: the town behind one meter (module docstring, "Meters")
        data["grid"]["topology"] = "single_meter"
    if options.weather == "municipality":
        data["weather"]["site"] = "municipality"
    elif options.weather == "japan":
        data["weather"].update(source="japan", path=None, data_dir=options.data_dir)
    return scenario_from_dict(data, source=f"{where}, derived from the template", base_dir=template.base_dir)


def _derived_stations(template: Scenario, f: float) -> list[dict[str, Any]]:
    """The template's stations repeated for a town f times the template's demand (module docstring)."""
    base = template.stations
    s = len(base)
    n = max(1, round(s * f))
    g = f * s / n  # members per station relative to the template's
    shares = [st.member_share_fraction for st in base]
    chosen = [base[k % s] for k in range(n)]
    total_share = sum(shares[k % s] for k in range(n)) if shares[0] is not None else None
    stations = []
    for k, st in enumerate(chosen):
        d = st.model_dump(mode="python")
        d["latitude_deg"] = d["longitude_deg"] = None  # the template's sites are not in this town
        if n > s:
            d["name"] = f"{st.name} {k // s + 1}"
        if st.vehicles is not None:
            d["vehicles"] = max(1, round(st.vehicles * g))
            if st.chargers is not None:
                d["chargers"] = max(1, round(st.chargers * d["vehicles"] / st.vehicles)) if st.vehicles else st.chargers
        if st.connection_limit_kw is not None:
            d["connection_limit_kw"] = st.connection_limit_kw * g
        if total_share is not None:
            d["member_share_fraction"] = shares[k % s] / total_share
        stations.append(d)
    return stations


def derivation_facts(template: Scenario, scenario: Scenario, options: DeriveOptions) -> dict[str, Any]:
    """What the derivation chose for a municipality, for the sweep's table (area, factor, price index, …)."""
    area = municipality_area(scenario.municipality.code or "", scenario.municipality.model_dump(), options)
    m = scenario.municipality
    if options.weather == "japan":
        from chisan.resources.japan_climate import japan_climate_description

        weather_source = japan_climate_description(
            m.latitude_deg, m.longitude_deg, scenario.resolve(scenario.weather.data_dir), seed=scenario.weather.seed
        )
    elif options.weather == "municipality":
        weather_source = (
            f"the template's synthetic {template.weather.climate} climate (monthly clearness, temperature, wind) "
            f"moved to the town's sun at {m.latitude_deg:.2f} N {m.longitude_deg:.2f} E: not the local climate"
        )
    else:
        weather_source = f"the template's weather unchanged ({template.weather.source})"
    rule = price_rule(template, options)
    index = AREA_PRICE_INDEX[area] / AREA_PRICE_INDEX[options.reference_area(template)] if rule == "area" else 1.0
    return {
        "weather_source": weather_source,
        "area": area,
        "members": int(scenario.bookings.members or 0),
        "stations": len(scenario.stations),
        "grid_emission_factor_kg_per_kwh": float(scenario.grid.emission_factor_kg_per_kwh),
        "grid_factor_source": _factor_source(scenario, options, area),
        "import_price_index": index,
        "tariff_source": _tariff_source(scenario, options, area, index, rule=rule),
        **_tariff_facts(scenario, options),
    }


def _factor_source(scenario: Scenario, options: DeriveOptions, area: str) -> str:
    """The grid emission factor of a derived scenario, in words."""
    factor = float(scenario.grid.emission_factor_kg_per_kwh)
    if options.grid_factors == "template":
        if scenario.grid.emission_factor_path is not None:
            return f"the template's hourly factor file {scenario.grid.emission_factor_path}"
        return f"the template's factor {factor:.3f} kg CO2/kWh"
    registered = registry_factor(options.grid_factors, area)
    if registered is not None:
        return f"{options.grid_factors} factor of the {area} area: {registered.source}"
    return f"{options.grid_factors} basic factor of the {area} area: {factor:.3f} kg CO2/kWh"


def _tariff_facts(scenario: Scenario, options: DeriveOptions) -> dict[str, Any]:
    """Tariff name, voltage, provenance and contract of a derived scenario (empty without a tariff)."""
    tariff = scenario.grid.tariff
    if tariff is None:
        return {}
    if isinstance(tariff, str):
        from chisan.tariffs.library import load_tariff

        tariff = load_tariff(tariff)
    return {
        "tariff": tariff.name,
        "tariff_voltage": tariff.voltage,
        "tariff_provenance": tariff.provenance,
        "charging_power_kw": charging_power_kw(scenario),
    }


def _tariff_source(scenario: Scenario, options: DeriveOptions, area: str, index: float, *, rule: str) -> str:
    """The import price of a derived scenario, in words (what :func:`derive_scenario` did to it under ``rule``,
    :func:`price_rule`)."""
    grid = scenario.grid
    if rule == "tariff" and grid.tariff is not None and not isinstance(grid.tariff, str):
        t = grid.tariff
        power = charging_power_kw(scenario)
        shown = "open fleet" if power is None else f"{power:.0f} kW"
        contract = (
            f"contract fixed at {t.contract.contract_kw:.0f} kW"
            if t.contract.kind == "fixed"
            else "basic charge on the year's peak 30-minute demand"
        )
        return (
            f"{area} area {t.voltage}-voltage tariff {t.name} ({t.provenance}; installed charging {shown} "
            f"{'<' if t.voltage == 'low' else '≥'} 50 kW; {contract}; basic {t.basic_charge_jpy_per_kw_month:,.2f} "
            f"JPY/kW/month; source {t.source})"
        )
    if grid.tariff is not None and options.prices == "tariff":
        name = grid.tariff if isinstance(grid.tariff, str) else grid.tariff.name
        return f"the template's tariff {name}, kept (a template's [grid.tariff] is not replaced by the {area} tariff)"
    fallback = (
        "; the template keeps a meter per base, and the reduced plan bills a basic charge behind one meter only, "
        "so the area price index stands in for the area tariff"
        if options.prices == "tariff" and rule == "area"
        else ""
    )
    if grid.tariff is not None:
        name = grid.tariff if isinstance(grid.tariff, str) else grid.tariff.name
        return (
            f"the template's tariff {name}, unchanged (the area price index {index:.3f} of {area} is not applied "
            "to a [grid.tariff])"
        )
    scaled = "" if rule != "area" else f" (template × {area} price index {index:.3f}{fallback})"
    bands = ", ".join(f"{b.start_hour:02d}–{b.end_hour:02d} h {b.price_per_kwh:.2f}" for b in grid.import_tou)
    tou = f"; time-of-use {bands}" if bands else ""
    unit = f"{scenario.finance.currency}/kWh"
    return f"import {grid.import_price_per_kwh:.2f} {unit}{tou}{scaled}; export {grid.export_price_per_kwh:.2f} {unit}"
