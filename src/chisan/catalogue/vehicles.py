"""Shared-EV models: battery, consumption and charging limits, from the makers' spec sheets.

The table is ``vehicles.csv`` next to this module; every row names its sources in the ``source`` column and
says which figures are inferred rather than published.

Consumption
-----------
Japanese and European spec sheets give the WLTC *AC electricity consumption* (交流電力量消費率,
``consumption_ac_kwh_per_km``): the energy drawn **at the plug** to recharge after the test cycle, divided by
the distance driven. It therefore includes the charging losses. The energy that leaves the battery per km is
smaller::

    consumption_battery_kwh_per_km = consumption_ac_kwh_per_km × charge_efficiency

Consistency check on the Nissan Sakura spec sheet: 0.124 kWh/km × 0.9 = 0.112 kWh/km, and 0.112 kWh/km × 180
km = 20.1 kWh, the 20 kWh battery. :func:`implied_charge_efficiency` gives this ratio for any model.
"""

from __future__ import annotations

import difflib
import functools
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from chisan.exceptions import DataError, ScenarioError

CHEMISTRIES: tuple[str, ...] = ("NMC111", "NMC622", "NMC811", "LFP")
"""Cell chemistries the battery and materials modules know (Argonne BatPaC 5.1 material sets, DESIGN §7)."""

VEHICLE_COLUMNS: tuple[str, ...] = (
    "model",
    "name",
    "battery_kwh",
    "usable_kwh",
    "consumption_ac_kwh_per_km",
    "range_wltc_km",
    "max_ac_charge_kw",
    "chemistry",
    "pack_chemistry",
    "pack_chemistry_source",
    "source",
)
"""Columns of ``vehicles.csv``; ``model`` is the key."""

PACK_CHEMISTRIES: tuple[str, ...] = (*CHEMISTRIES, "NCA", "LMO")
"""Cell chemistries a pack may name in ``pack_chemistry`` (those of :data:`CHEMISTRIES` and of the ageing models)."""

DEFAULT_CHARGE_EFFICIENCY: float = 0.9
"""Plug-to-battery efficiency of AC charging [-].

Assumption, checked against the Nissan Sakura spec sheet: 20 kWh / (0.124 kWh/km × 180 km) = 0.896, i.e. the
battery energy divided by the AC energy the WLTC range test draws (see :func:`implied_charge_efficiency`).
"""

_NUMERIC_COLUMNS = (
    "battery_kwh",
    "usable_kwh",
    "consumption_ac_kwh_per_km",
    "range_wltc_km",
    "max_ac_charge_kw",
)


@dataclass(frozen=True)
class VehicleModel:
    """One EV model.

    Attributes
    ----------
    model : str
        Catalogue key, e.g. ``"nissan_sakura"``.
    name : str
        Human-readable name.
    battery_kwh : float
        Gross (total) battery energy [kWh].
    usable_kwh : float
        Energy that can be drawn between the car's own limits [kWh]; ≤ ``battery_kwh``.
    consumption_ac_kwh_per_km : float
        WLTC AC electricity consumption, measured at the plug, including charging losses [kWh/km].
    range_wltc_km : float
        WLTC range [km]; NaN when unknown (custom vehicles).
    max_ac_charge_kw : float
        On-board charger limit for AC charging [kW at the plug].
    chemistry : str
        Cell chemistry, one of :data:`CHEMISTRIES`: the material set of the pack (Argonne BatPaC).
    pack_chemistry : str
        Cell chemistry of the pack, one of :data:`PACK_CHEMISTRIES`; it selects the default ageing model
        (:data:`chisan.roadmap.schema.DEFAULT_AGEING_MODEL_BY_CHEMISTRY`).
    pack_chemistry_source : str
        What the manufacturer publishes about the cells, and what is assumed.
    source : str
        Where the figures come from, and which are inferred.
    """

    model: str
    name: str
    battery_kwh: float
    usable_kwh: float
    consumption_ac_kwh_per_km: float
    range_wltc_km: float
    max_ac_charge_kw: float
    chemistry: str
    source: str
    pack_chemistry: str = ""
    pack_chemistry_source: str = ""

    def __post_init__(self) -> None:
        if not self.pack_chemistry:  # custom vehicles: the pack is the material set
            object.__setattr__(self, "pack_chemistry", self.chemistry)
        if not self.pack_chemistry_source:
            object.__setattr__(self, "pack_chemistry_source", self.source)

    def consumption_battery_kwh_per_km(self, charge_efficiency: float = DEFAULT_CHARGE_EFFICIENCY) -> float:
        """Energy leaving the battery per km [kWh/km]; see :func:`battery_consumption_kwh_per_km`."""
        return float(battery_consumption_kwh_per_km(self.consumption_ac_kwh_per_km, charge_efficiency))


def battery_consumption_kwh_per_km(consumption_ac_kwh_per_km, charge_efficiency=DEFAULT_CHARGE_EFFICIENCY):
    """Energy leaving the battery per km from the AC (plug) consumption of a spec sheet.

    Parameters
    ----------
    consumption_ac_kwh_per_km : float or array-like
        WLTC AC electricity consumption (at the plug, charging losses included) [kWh/km].
    charge_efficiency : float
        Plug-to-battery efficiency [-], in (0, 1].

    Returns
    -------
    float or array-like
        Battery-side consumption [kWh/km] = AC consumption × charge efficiency.
    """
    if not 0 < charge_efficiency <= 1:
        raise ScenarioError(f"charge_efficiency must be in (0, 1], got {charge_efficiency}")
    return consumption_ac_kwh_per_km * charge_efficiency


def implied_charge_efficiency(battery_kwh: float, consumption_ac_kwh_per_km: float, range_km: float) -> float:
    """Ratio of battery energy to the AC energy a full-range test draws [-].

    ``battery_kwh / (consumption_ac_kwh_per_km × range_km)``. With the gross battery energy of a spec sheet
    this is an estimate of the plug-to-battery efficiency (Nissan Sakura: 20 / (0.124 × 180) = 0.896); with
    the usable energy it is lower.

    Parameters
    ----------
    battery_kwh : float
        Battery energy [kWh].
    consumption_ac_kwh_per_km : float
        WLTC AC consumption [kWh/km].
    range_km : float
        WLTC range [km].
    """
    return battery_kwh / (consumption_ac_kwh_per_km * range_km)


def catalogue_path() -> Path:
    """Path of ``vehicles.csv`` (shipped inside the package)."""
    return Path(str(resources.files("chisan.catalogue").joinpath("vehicles.csv")))


@functools.cache
def _load_table() -> pd.DataFrame:
    path = catalogue_path()
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in VEHICLE_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; the table needs {list(VEHICLE_COLUMNS)}")
    for row, record in enumerate(table.to_dict("records"), start=1):
        where = f"{path}: row {row} (model {record['model']!r})"
        for column in _NUMERIC_COLUMNS:
            try:
                value = float(record[column])
            except ValueError:
                raise DataError(f"{where}: column {column!r}: {record[column]!r} is not a number") from None
            if not value > 0:
                raise DataError(f"{where}: column {column!r}: {value} must be > 0")
        if float(record["usable_kwh"]) > float(record["battery_kwh"]):
            raise DataError(f"{where}: usable_kwh {record['usable_kwh']} exceeds battery_kwh {record['battery_kwh']}")
        if record["chemistry"] not in CHEMISTRIES:
            raise DataError(f"{where}: column 'chemistry': {record['chemistry']!r} is not one of {CHEMISTRIES}")
        if record["pack_chemistry"] not in PACK_CHEMISTRIES:
            raise DataError(
                f"{where}: column 'pack_chemistry': {record['pack_chemistry']!r} is not one of {PACK_CHEMISTRIES}"
            )
        if not record["pack_chemistry_source"].strip():
            raise DataError(f"{where}: column 'pack_chemistry_source' is empty; name where the chemistry comes from")
    if table["model"].duplicated().any():
        raise DataError(f"{path}: duplicate model keys {sorted(table.loc[table['model'].duplicated(), 'model'])}")
    for column in _NUMERIC_COLUMNS:
        table[column] = table[column].astype(float)
    return table.set_index("model", drop=False)


def vehicle_models() -> pd.DataFrame:
    """The vehicle catalogue as a DataFrame indexed by ``model`` (a copy; columns :data:`VEHICLE_COLUMNS`)."""
    return _load_table().copy()


def vehicle_model(name: str) -> VehicleModel:
    """Look up a vehicle model by its catalogue key.

    Parameters
    ----------
    name : str
        Catalogue key, e.g. ``"nissan_sakura"`` (see :func:`vehicle_models`).

    Raises
    ------
    ScenarioError
        The name is not in the catalogue; the message lists the valid names and the closest match.
    """
    table = _load_table()
    if name not in table.index:
        valid = sorted(table.index)
        close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.4)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ScenarioError(
            f"Unknown vehicle model {name!r}. Valid names: {', '.join(valid)}; or 'custom' with "
            f"battery_kwh and consumption_ac_kwh_per_km.{hint}"
        )
    record = table.loc[name]
    values = {c: (float(record[c]) if c in _NUMERIC_COLUMNS else str(record[c])) for c in VEHICLE_COLUMNS}
    return VehicleModel(**values)


def custom_vehicle(
    *,
    battery_kwh: float,
    consumption_ac_kwh_per_km: float,
    usable_kwh: float | None = None,
    max_ac_charge_kw: float = 6.0,
    chemistry: str = "NMC622",
    range_wltc_km: float | None = None,
    model: str = "custom",
    name: str = "custom vehicle",
    source: str = "given by the user",
) -> VehicleModel:
    """A vehicle model from figures given by the user.

    Parameters
    ----------
    battery_kwh : float
        Gross battery energy [kWh], > 0.
    consumption_ac_kwh_per_km : float
        WLTC AC consumption at the plug [kWh/km], > 0 (typically 0.10–0.25).
    usable_kwh : float, optional
        Usable energy [kWh], ≤ ``battery_kwh``. Default: ``battery_kwh`` (state it if you know better).
    max_ac_charge_kw : float
        On-board charger limit [kW], > 0. Default 6.0 (a Japanese 200 V / 30 A normal charger).
    chemistry : str
        One of :data:`CHEMISTRIES`.
    range_wltc_km : float, optional
        WLTC range [km]; NaN when not given.
    model, name, source : str
        Key, display name and provenance.

    Raises
    ------
    ScenarioError
        A figure is out of range; the message names the field, the value and what is allowed.
    """
    usable = battery_kwh if usable_kwh is None else usable_kwh
    checks = {
        "battery_kwh": battery_kwh,
        "consumption_ac_kwh_per_km": consumption_ac_kwh_per_km,
        "usable_kwh": usable,
        "max_ac_charge_kw": max_ac_charge_kw,
    }
    for field, value in checks.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ScenarioError(f"custom vehicle: {field} = {value!r} is not allowed; it must be a number > 0")
    if usable > battery_kwh:
        raise ScenarioError(
            f"custom vehicle: usable_kwh = {usable} exceeds battery_kwh = {battery_kwh}; usable must be ≤ gross"
        )
    if consumption_ac_kwh_per_km > 1.0:
        raise ScenarioError(
            f"custom vehicle: consumption_ac_kwh_per_km = {consumption_ac_kwh_per_km} is not plausible "
            "for a car; give kWh per km (e.g. 0.124 for 124 Wh/km)"
        )
    if chemistry not in CHEMISTRIES:
        raise ScenarioError(f"custom vehicle: chemistry = {chemistry!r} is not one of {', '.join(CHEMISTRIES)}")
    if range_wltc_km is not None and not range_wltc_km > 0:
        raise ScenarioError(f"custom vehicle: range_wltc_km = {range_wltc_km!r} must be > 0 when given")
    return VehicleModel(
        model=model,
        name=name,
        battery_kwh=float(battery_kwh),
        usable_kwh=float(usable),
        consumption_ac_kwh_per_km=float(consumption_ac_kwh_per_km),
        range_wltc_km=float("nan") if range_wltc_km is None else float(range_wltc_km),
        max_ac_charge_kw=float(max_ac_charge_kw),
        chemistry=chemistry,
        source=source,
    )
