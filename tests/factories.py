"""Small scenarios and hand-made model inputs for the tests (fast to solve, easy to reason about)."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from chisan.plan.inputs import Capacity, PlanInputs
from chisan.scenario.load import example_path, scenario_from_dict
from chisan.scenario.schema import Scenario


def example_dict() -> dict:
    """The bundled example scenario as a dictionary (a fresh copy)."""
    return tomllib.loads(example_path().read_text(encoding="utf-8"))


def _merge(base: dict, changes: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def small_scenario_dict(**changes) -> dict:
    """The example town cut down: one month, 2 stations × 3 vehicles, fewer members. Overrides merge in."""
    data = example_dict()
    data["horizon"] = {"year": 2025, "start_month": 6, "months": 1, "step_minutes": 60}
    data["stations"] = [
        {"name": "Town Hall", "vehicles": 3, "chargers": 3, "charger_kw": 6.0, "member_share_fraction": 0.6},
        {"name": "Hospital", "vehicles": 3, "chargers": 3, "charger_kw": 6.0, "member_share_fraction": 0.4},
    ]
    data["bookings"]["membership_fraction"] = 0.003
    return _merge(data, changes)


def small_scenario(tmp_path: Path | None = None, **changes) -> Scenario:
    """A validated small scenario (relative paths resolve against ``tmp_path``)."""
    return scenario_from_dict(small_scenario_dict(**changes), source="small.toml", base_dir=tmp_path or Path("."))


def hand_inputs(
    *,
    hours: int = 24,
    pv_kw_per_kw: np.ndarray | None = None,
    import_price: float | np.ndarray = 30.0,
    export_price: float = 0.0,
    plugged: np.ndarray | None = None,
    trip_energy_kwh: np.ndarray | None = None,
    usable_kwh: float = 20.0,
    reserve_kwh: float = 2.0,
    max_charge_kw: float = 3.0,
    efficiency: float = 0.9,
    capacities: dict[str, Capacity] | None = None,
    other_load_kw: np.ndarray | None = None,
    **fields,
) -> PlanInputs:
    """PlanInputs for one vehicle at one station, built by hand (every number visible in the test)."""
    idx = pd.date_range("2025-06-01", periods=hours, freq="h", tz="Asia/Tokyo")
    s = lambda a: pd.Series(np.broadcast_to(np.asarray(a, dtype=float), (hours,)).copy(), index=idx)  # noqa: E731
    plugged = np.ones(hours, bool) if plugged is None else plugged
    trip = np.zeros(hours) if trip_energy_kwh is None else trip_energy_kwh
    vehicles = pd.DataFrame(
        {
            "station": ["A"],
            "usable_kwh": [usable_kwh],
            "reserve_kwh": [reserve_kwh],
            "max_charge_kw": [max_charge_kw],
            "charge_efficiency": [efficiency],
        },
        index=pd.Index(["car"], name="vehicle"),
    )
    stations = pd.DataFrame(
        {"chargers": [1], "charger_kw": [max_charge_kw], "connection_limit_kw": [np.nan]},
        index=pd.Index(["A"], name="station"),
    )
    return PlanInputs(
        snapshots=idx,
        dt_hours=1.0,
        pv_kw_per_kw=s(np.zeros(hours) if pv_kw_per_kw is None else pv_kw_per_kw),
        wind_kw_per_kw=s(0.0),
        import_price_per_kwh=s(import_price),
        export_price_per_kwh=s(export_price),
        emission_factor_kg_per_kwh=s(0.5),
        stations=stations,
        vehicles=vehicles,
        plugged=pd.DataFrame({"car": plugged}, index=idx),
        trip_energy_kwh=pd.DataFrame({"car": trip}, index=idx),
        capacities=capacities or {},
        other_load_kw=None if other_load_kw is None else s(other_load_kw),
        **fields,
    )


def write_run(run, out: Path, *, scenario_text: str = "# test", scenario_name: str = "small.toml") -> Path:
    """Write a plan run's report and tables into ``out`` (chisan.report.render.write_outputs), with its economics
    and business as usual when the run has them; returns ``out``."""
    from chisan.report.render import write_outputs

    return write_outputs(
        out,
        run.prepared,
        run.results,
        run.checks,
        scenario_text=scenario_text,
        scenario_name=scenario_name,
        solve_seconds=run.seconds["solve"],
        economics=run.economics,
        bau=run.bau,
    )
