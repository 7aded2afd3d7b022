"""Grid tariffs as they are billed: schema, bundled library, and compilation to price series for the plan."""

from chisan.tariffs.compile import CompiledTariff, compile_tariff, day_types
from chisan.tariffs.library import load_tariff, tariff_names
from chisan.tariffs.schema import Contract, EnergyBand, EnergyTier, Export, Season, Tariff

__all__ = [
    "CompiledTariff",
    "Contract",
    "EnergyBand",
    "EnergyTier",
    "Export",
    "Season",
    "Tariff",
    "compile_tariff",
    "day_types",
    "load_tariff",
    "tariff_names",
]
