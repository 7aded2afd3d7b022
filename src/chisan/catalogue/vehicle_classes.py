"""Classes of depot vehicles (e-van to tractor): consumption, battery, charger limit, and the diesel counterpart.

The table is ``vehicle_classes.csv`` next to this module; every row names its sources in the ``source`` column and
marks which figures are chisan's assumptions. ``kwh_per_km`` is battery-side (energy leaving the battery per km);
costs are in Japanese yen (``_jpy``) at the price level of the scenario year.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import pandas as pd

from chisan.exceptions import DataError, ScenarioError

CLASS_COLUMNS: tuple[str, ...] = (
    "vehicle_class",
    "name",
    "kwh_per_km",
    "payload_kg",
    "usable_kwh",
    "max_charge_kw",
    "capex_jpy",
    "maintenance_jpy_per_km",
    "lifetime_years",
    "diesel_l_per_100km",
    "diesel_capex_jpy",
    "diesel_maintenance_jpy_per_km",
    "source",
)
"""Columns of ``vehicle_classes.csv``; ``vehicle_class`` is the key."""

_NUMERIC = CLASS_COLUMNS[2:-1]


@dataclass(frozen=True)
class VehicleClass:
    """One class of depot vehicle and its diesel counterpart.

    Attributes
    ----------
    vehicle_class, name : str
        Catalogue key (e.g. ``"rigid_26t"``) and a readable name.
    kwh_per_km : float
        Energy leaving the battery per km driven [kWh/km].
    payload_kg : float
        Payload [kg].
    usable_kwh : float
        Usable battery energy [kWh].
    max_charge_kw : float
        The vehicle's charging limit [kW at the plug].
    capex_jpy, diesel_capex_jpy : float
        Purchase price of the battery-electric vehicle and of its diesel counterpart [JPY].
    maintenance_jpy_per_km, diesel_maintenance_jpy_per_km : float
        Maintenance [JPY/km].
    lifetime_years : float
        Years of service for the annuity (both drivetrains) [years].
    diesel_l_per_100km : float
        Diesel consumption of the counterpart [l/100 km].
    source : str
        Where the figures come from, and which are assumptions.
    """

    vehicle_class: str
    name: str
    kwh_per_km: float
    payload_kg: float
    usable_kwh: float
    max_charge_kw: float
    capex_jpy: float
    maintenance_jpy_per_km: float
    lifetime_years: float
    diesel_l_per_100km: float
    diesel_capex_jpy: float
    diesel_maintenance_jpy_per_km: float
    source: str


@functools.cache
def vehicle_class_table() -> pd.DataFrame:
    """The catalogue as a DataFrame indexed by ``vehicle_class`` (checked: columns present, figures > 0)."""
    with resources.files("chisan.catalogue").joinpath("vehicle_classes.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh)
    missing = [c for c in CLASS_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"vehicle_classes.csv: column {missing[0]!r} is missing; expected {', '.join(CLASS_COLUMNS)}")
    values = table[list(_NUMERIC)].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() | (values <= 0)
    if bad.to_numpy().any():
        row, col = (int(x[0]) for x in bad.to_numpy().nonzero())
        raise DataError(
            f"vehicle_classes.csv: class {table['vehicle_class'].iloc[row]!r}, column {_NUMERIC[col]!r}: "
            f"value {table[_NUMERIC[col]].iloc[row]!r} is not allowed; allowed: a number > 0"
        )
    table[list(_NUMERIC)] = values.astype(float)
    return table.set_index("vehicle_class")


def vehicle_classes() -> list[str]:
    """Keys of the catalogue, in file order."""
    return list(vehicle_class_table().index)


def vehicle_class(key: str, *, field: str = "vehicle_class") -> VehicleClass:
    """One catalogue entry.

    Parameters
    ----------
    key : str
        A key of :func:`vehicle_classes`.
    field : str
        The scenario field that named it, for the error message.

    Raises
    ------
    ScenarioError
        When ``key`` is not in the catalogue; the message lists the classes.
    """
    table = vehicle_class_table()
    if key not in table.index:
        raise ScenarioError(f"{field} = {key!r} is not a vehicle class; the classes are {', '.join(table.index)}")
    row = table.loc[key]
    return VehicleClass(
        vehicle_class=key, **{c: float(row[c]) if c in _NUMERIC else str(row[c]) for c in CLASS_COLUMNS[1:]}
    )
