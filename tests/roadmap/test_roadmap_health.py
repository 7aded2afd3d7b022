"""Health from a plan: SOC from the planned energies, projected for every vehicle and the storage."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from chisan.batteries.ageing import project_health
from chisan.roadmap.health import first_crossing, plan_health, soc_from_energy


def _plan_like(seed: int = 4) -> SimpleNamespace:
    """What plan_health reads of a PlanRun: a year of hourly vehicle and storage energy, air temperature."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-01-01", periods=8760, freq="h", tz="Asia/Tokyo")
    hours = np.arange(8760)
    usable = pd.Series([19.0, 19.0, 38.0], index=["a", "b", "c"])
    # Cars: a daily swing of 20-60 % of usable energy around 60 %, a little noise.
    swing = rng.uniform(0.2, 0.6, 3)
    soc = 0.6 + 0.5 * swing[None, :] * np.sin(2 * np.pi * hours / 24)[:, None] + rng.normal(0, 0.01, (8760, 3))
    energy = pd.DataFrame(np.clip(soc, 0, 1) * usable.to_numpy(), index=index, columns=usable.index)
    storage = pd.Series(50.0 * (0.5 + 0.4 * np.sin(2 * np.pi * (hours - 6) / 24)), index=index)
    temp = pd.Series(15 + 10 * np.sin(2 * np.pi * (hours / 8760 - 0.25)), index=index)
    return SimpleNamespace(
        results=SimpleNamespace(
            vehicle_energy_kwh=energy,
            capacities=pd.Series({"storage_kwh": 50.0}),
            dispatch=pd.DataFrame({"storage_energy_kwh": storage}),
        ),
        prepared=SimpleNamespace(
            inputs=SimpleNamespace(vehicles=pd.DataFrame({"usable_kwh": usable}), dt_hours=1.0),
            weather=pd.DataFrame({"temp_air": temp}),
        ),
    )


@pytest.mark.parametrize("model", ["nmc111_kokam", "lfp_250ah"])
def test_plan_health_equals_the_library_projection(model: str) -> None:
    # plan_health = SOC (energy / usable) projected year after year; the library's project_health does the
    # same from the SOC series directly (it repeats the year's stress): they must agree.
    run = _plan_like()
    health = plan_health(run, model=model, years=40, retire_soh=0.95, storage_end_soh=0.9, temp_offset_c=5.0)
    energy = run.results.vehicle_energy_kwh
    soc = energy / pd.Series({"a": 19.0, "b": 19.0, "c": 38.0})  # usable energy of each car
    temp = run.prepared.weather["temp_air"] + 5.0
    cars = project_health(soc, temp, model, 40, dt_hours=1.0, retire_at=0.95)
    storage_soc = run.results.dispatch["storage_energy_kwh"] / 50.0
    storage = project_health(storage_soc, temp, model, 40, dt_hours=1.0, retire_at=0.9)
    for column in soc.columns:
        assert np.allclose(health.soh[column], cars.soh[column], rtol=1e-12)
        assert health.retire_years[column] == pytest.approx(cars.retire_year[column], rel=1e-9)
    assert np.allclose(health.soh["storage"], storage.soh, rtol=1e-12)
    assert health.retire_years["storage"] == pytest.approx(storage.retire_year, rel=1e-9)
    assert health.thresholds.to_dict() == {"a": 0.95, "b": 0.95, "c": 0.95, "storage": 0.9}
    # The packs do reach those (high) thresholds within 40 years, and SOH only falls.
    assert health.retire_years.notna().all()
    assert (health.soh.diff().iloc[1:] <= 0).all().all()


def test_soc_and_crossing_by_hand() -> None:
    energy = pd.DataFrame({"a": [0.0, 9.5, 19.0, 19.2]})
    assert soc_from_energy(energy, pd.Series({"a": 19.0}))["a"].tolist() == [0.0, 0.5, 1.0, 1.0]  # clipped
    # Capacity 0.9, 0.85, 0.79 after three steps from 0.95: crosses 0.8 in the third step, 5/6 of the way from
    # 0.85 to 0.79 -> (2 + 5/6) / 3 of the period.
    frac = first_crossing(np.array([[0.9, 0.85, 0.79], [0.99, 0.98, 0.97]]), 0.8, np.array([0.95, 1.0]))
    assert frac[0] == pytest.approx((2 + 5 / 6) / 3, rel=1e-12)
    assert np.isnan(frac[1])
