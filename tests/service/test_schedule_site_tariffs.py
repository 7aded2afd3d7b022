"""The rolling schedule prices each station at its site's own tariff (plans since stop 20; issue 11).

A town of three stations, one Nissan Sakura each on one 3 kW charger, all its own site (grid.topology
"per_site"), started from its scenario. The town's price is ¥30/kWh with a time-of-use band of ¥10/kWh from 09:00
to 11:00; station "North" has its own inline tariff (¥12/kWh 00:00–06:00, else ¥30), station "South" another
(¥14/kWh 12:00–16:00, else ¥30), station "Centre" none (the town's). Each car is at 20 % and is booked for 40 km
at 20:00 the next day, inside the 36-hour schedule from 09:00 JST. No PV, no storage, no town-wide limit: each
station's LP is its own and its charging costs its own meter's price.

By hand: each Sakura (19 kWh usable, reserve 1.9 kWh, 0.1116 kWh/km, charging at 90 %) holds 0.2 × 19 = 3.8 kWh and
leaves with 40 km × 0.1116 = 4.464 kWh of trip above its reserve: it needs 4.464 + 1.9 − 3.8 = 2.564 kWh in the
battery, 2.564 / 0.9 = 2.8489 kWh from the plug. That is far less than a cheap window holds (3 kW × 6 h at North,
2 × 3 kW × 4 h at South, 2 × 3 kW × 2 h at the Centre), so the cheapest schedule puts all of each station's charging
inside its own band: North ¥12 × 2.8489 = ¥34.19, South ¥14 × 2.8489 = ¥39.88, the Centre ¥10 × 2.8489 = ¥28.49;
priced at the town's tariff alone, North and South would charge from 09:00 to 11:00 like the Centre.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from service_helpers import NOW, jst, make_client

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _tariff(name: str, start: int, end: int, cheap: float) -> str:
    bands = [(0, start, 30.0), (start, end, cheap), (end, 24, 30.0)]
    rows = ", ".join(
        f'{{ name = "{name}-{a}", start_hour = {a}, end_hour = {b}, price_jpy_per_kwh = {p} }}'
        for a, b, p in bands
        if b > a
    )
    return f'tariff = {{ name = "{name}", seasons = [{{ bands = [{rows}] }}] }}\n'


SCENARIO = (
    '[municipality]\nname = "Tariffville"\nlatitude_deg = 35.7\nlongitude_deg = 139.7\npopulation = 5000\n\n'
    '[grid]\ntopology = "per_site"\nimport_price_per_kwh = 30.0\n'
    "import_tou = [{ start_hour = 9, end_hour = 11, price_per_kwh = 10.0 }]\n\n"
    '[[stations]]\nname = "North"\nlatitude_deg = 35.71\nlongitude_deg = 139.70\nvehicles = 1\nchargers = 1\n'
    "charger_kw = 3.0\n" + _tariff("north_night", 0, 6, 12.0) + "\n"
    '[[stations]]\nname = "South"\nlatitude_deg = 35.69\nlongitude_deg = 139.70\nvehicles = 1\nchargers = 1\n'
    "charger_kw = 3.0\n" + _tariff("south_midday", 12, 16, 14.0) + "\n"
    '[[stations]]\nname = "Centre"\nlatitude_deg = 35.70\nlongitude_deg = 139.71\nvehicles = 1\nchargers = 1\n'
    "charger_kw = 3.0\n"
)
CHEAP = {"North": ((0, 6), 12.0), "South": ((12, 16), 14.0), "Centre": ((9, 11), 10.0)}
"""Each station's cheap band on the local clock [h, h) and its price [JPY/kWh]."""


def _schedule(folder, url: str, text: str, town: dict | None = None) -> tuple[dict, dict[int, str]]:
    """The town of ``text`` started from its scenario, each car at 20 % and booked (module docstring), scheduled;
    ``town`` changes the town's configuration first (PATCH /api/v1/municipality)."""
    path = folder / "tariffville.toml"
    path.write_text(text, encoding="utf-8")
    with make_client(url, scenario_path=path) as client:
        headers = {"X-API-Key": client.app.state.scenario_key}
        if town:
            assert client.patch("/api/v1/municipality", json=town, headers=headers).status_code == 200
        stations = {s["id"]: s["name"] for s in client.get("/api/v1/stations", headers=headers).json()}
        for car in client.get("/api/v1/vehicles", headers=headers).json():
            r = client.post(
                f"/api/v1/vehicles/{car['id']}/telemetry",
                json={"soc_fraction": 0.2, "measured_at": NOW.isoformat()},
                headers=headers,
            )
            assert r.status_code == 200, r.text
            start = jst(20) + pd.Timedelta(days=1)
            body = {
                "vehicle_id": car["id"],
                "start_at": start.isoformat(),
                "end_at": (start + pd.Timedelta(hours=2)).isoformat(),
                "distance_km": 40,
            }
            r = client.post("/api/v1/bookings", json=body, headers=headers)
            assert r.status_code == 201, r.text
        r = client.post("/api/v1/schedules", headers=headers)
        assert r.status_code == 201, r.text
    schedule = r.json()
    assert schedule["method"] == "optimal" and schedule["verified"], schedule["message"]
    return schedule, stations


def _local_hours(schedule: dict) -> np.ndarray:
    steps = pd.date_range(schedule["start_at"], periods=schedule["n_steps"], freq="15min")
    return steps.tz_convert("Asia/Tokyo").hour.to_numpy()


def test_each_station_charges_in_its_own_sites_cheap_hours(tmp_path, sqlite_url):
    schedule, stations = _schedule(tmp_path, sqlite_url, SCENARIO)
    assert "each station priced at its site's tariff" in schedule["message"]
    hours = _local_hours(schedule)
    dt_h = schedule["step_minutes"] / 60
    for row in schedule["stations"]:
        name = stations[row["station_id"]]
        (a, b), price = CHEAP[name]
        charge = np.array(row["charge_kw"])
        inside = (hours >= a) & (hours < b)
        assert charge.sum() * dt_h == pytest.approx((4.464 + 1.9 - 3.8) / 0.9, abs=1e-3), name  # module docstring
        assert np.abs(charge[~inside]).max() == pytest.approx(0.0, abs=1e-6), name  # none outside its cheap band
        assert charge[inside].sum() * dt_h * price == pytest.approx(2.8489 * price, abs=1e-2), name
    # the town's price series is still the town's: ¥10 from 09:00 to 11:00, else ¥30
    assert set(schedule["import_price_per_kwh"]) == {10.0, 30.0}


def test_without_site_tariffs_every_station_charges_in_the_towns_cheap_hours(tmp_path, sqlite_url):
    """The same town without the two tariffs: all three stations on the town's ¥10 band, 09:00–11:00."""
    text = "".join(line + "\n" for line in SCENARIO.splitlines() if not line.startswith("tariff = "))
    schedule, _stations = _schedule(tmp_path, sqlite_url, text)
    assert "tariff" not in schedule["message"]
    inside = (_local_hours(schedule) >= 9) & (_local_hours(schedule) < 11)
    for row in schedule["stations"]:
        charge = np.array(row["charge_kw"])
        assert charge.sum() * schedule["step_minutes"] / 60 == pytest.approx(2.8489, abs=1e-3)
        assert np.abs(charge[~inside]).max() == pytest.approx(0.0, abs=1e-6)


def test_stations_on_one_bus_with_the_towns_storage_say_they_are_on_the_towns_tariff(tmp_path, sqlite_url):
    """With the town's storage the stations share one bus and one grid import (the service does not know which
    meter the storage is behind): the schedule says it prices them at the town's tariff, and the town's grid
    import falls only in the town's ¥10 band (09:00–11:00), not in North's or South's own cheap hours."""
    schedule, _stations = _schedule(tmp_path, sqlite_url, SCENARIO, town={"storage_kwh": 10.0, "storage_kw": 5.0})
    assert "priced at the town's tariff, not their sites'" in schedule["message"]
    grid = np.array(schedule["grid_import_kw"])
    inside = (_local_hours(schedule) >= 9) & (_local_hours(schedule) < 11)
    assert grid.sum() > 0 and np.abs(grid[~inside]).max() == pytest.approx(0.0, abs=1e-6)
