"""chisan.batteries: pack ageing from state-of-charge series and the 4R lifecycle (reuse, resell, refabricate,
recycle) with the materials it recovers.

Modules: :mod:`~chisan.batteries.cycles` (rainflow cycles, stress factors), :mod:`~chisan.batteries.ageing`
(calendar + cycle fade models, health over time), :mod:`~chisan.batteries.lifecycle` (4R stock-flow),
:mod:`~chisan.batteries.materials` (material content, recovery by process, EU targets),
:mod:`~chisan.batteries.field` (car packs: field calibration, pack temperature) and
:mod:`~chisan.batteries.thermal` (pack temperature from LBNL V2G-Sim's cabin/pack thermal network).
"""

from chisan.batteries.ageing import (
    AGEING_MODELS,
    AgeingModel,
    HealthProjection,
    ageing_model,
    capacity_fade,
    project_health,
    simulate_capacity,
    simulate_fleet_capacity,
)
from chisan.batteries.cycles import count_cycles, equivalent_full_cycles, extract_cycles, stress_factors
from chisan.batteries.lifecycle import StockFlowResult, route_retired_packs, stock_flow
from chisan.batteries.materials import (
    CELL_PRODUCTION_KG_CO2E_PER_KWH,
    MATERIAL_CONTENT_KG_PER_KWH,
    RECOVERY_RATES,
    check_eu_recovery,
)

__all__ = [
    "AGEING_MODELS",
    "CELL_PRODUCTION_KG_CO2E_PER_KWH",
    "MATERIAL_CONTENT_KG_PER_KWH",
    "RECOVERY_RATES",
    "AgeingModel",
    "HealthProjection",
    "StockFlowResult",
    "ageing_model",
    "capacity_fade",
    "check_eu_recovery",
    "count_cycles",
    "equivalent_full_cycles",
    "extract_cycles",
    "project_health",
    "route_retired_packs",
    "simulate_capacity",
    "simulate_fleet_capacity",
    "stock_flow",
    "stress_factors",
]
