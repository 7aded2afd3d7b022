"""Classes of fuel-cell vehicles (car, city bus, rigid truck): hydrogen per 100 km, tank and fill rate.

The table is ``fuel_cell_classes.csv`` next to this module; every row names its sources in the ``source`` column and
marks which figures are chisan's assumptions. ``kg_per_100km`` is hydrogen leaving the tank per 100 km driven;
``max_fill_kg_per_h`` the fastest the vehicle takes hydrogen from a dispenser.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import pandas as pd

from chisan.exceptions import DataError, ScenarioError

FUEL_CELL_COLUMNS: tuple[str, ...] = ("vehicle_class", "name", "kg_per_100km", "tank_kg", "max_fill_kg_per_h", "source")
"""Columns of ``fuel_cell_classes.csv``; ``vehicle_class`` is the key."""

_NUMERIC = FUEL_CELL_COLUMNS[2:-1]


@dataclass(frozen=True)
class FuelCellClass:
    """One class of fuel-cell vehicle.

    Attributes
    ----------
    vehicle_class, name : str
        Catalogue key (e.g. ``"fc_bus_12m"``) and a readable name.
    kg_per_100km : float
        Hydrogen per 100 km driven [kg/100 km].
    tank_kg : float
        Usable hydrogen in the tank [kg].
    max_fill_kg_per_h : float
        Fastest refuelling [kg/h].
    source : str
        Where the figures come from, and which are assumptions.
    """

    vehicle_class: str
    name: str
    kg_per_100km: float
    tank_kg: float
    max_fill_kg_per_h: float
    source: str


@functools.cache
def fuel_cell_class_table() -> pd.DataFrame:
    """The catalogue as a DataFrame indexed by ``vehicle_class`` (checked: columns present, figures > 0)."""
    with resources.files("chisan.catalogue").joinpath("fuel_cell_classes.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh)
    missing = [c for c in FUEL_CELL_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"fuel_cell_classes.csv: column {missing[0]!r} is missing; expected {', '.join(FUEL_CELL_COLUMNS)}"
        )
    values = table[list(_NUMERIC)].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() | (values <= 0)
    if bad.to_numpy().any():
        row, col = (int(x[0]) for x in bad.to_numpy().nonzero())
        raise DataError(
            f"fuel_cell_classes.csv: class {table['vehicle_class'].iloc[row]!r}, column {_NUMERIC[col]!r}: "
            f"value {table[_NUMERIC[col]].iloc[row]!r} is not allowed; allowed: a number > 0"
        )
    table[list(_NUMERIC)] = values.astype(float)
    return table.set_index("vehicle_class")


def fuel_cell_classes() -> list[str]:
    """Keys of the catalogue, in file order."""
    return list(fuel_cell_class_table().index)


def fuel_cell_class(key: str, *, field: str = "vehicle_class") -> FuelCellClass:
    """One catalogue entry; a ScenarioError naming ``field`` and listing the classes when ``key`` is unknown."""
    table = fuel_cell_class_table()
    if key not in table.index:
        raise ScenarioError(f"{field} = {key!r} is not a fuel-cell class; the classes are {', '.join(table.index)}")
    row = table.loc[key]
    return FuelCellClass(
        vehicle_class=key, **{c: float(row[c]) if c in _NUMERIC else str(row[c]) for c in FUEL_CELL_COLUMNS[1:]}
    )
