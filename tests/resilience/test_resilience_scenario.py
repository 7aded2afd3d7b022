"""The [resilience] table: clear errors, and the outage simulation on a solved plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chisan.exceptions import DataError, ScenarioError
from chisan.plan.pipeline import plan_scenario
from chisan.resilience.plan import critical_load_kw, outage_sources, simulate_plan
from tests.factories import small_scenario

SHELTER = {"name": "Town Hall gym", "station": "Town Hall", "critical_load_kw": 3.0}


def resilience(**kw) -> dict:
    return {"resilience": {"shelters": [SHELTER], **kw}}


def test_a_shelter_needs_exactly_one_load():
    with pytest.raises(ScenarioError, match=r"exactly one of critical_load_kw .* not neither"):
        small_scenario(resilience={"shelters": [{"name": "School"}]})
    with pytest.raises(ScenarioError, match="not both"):
        small_scenario(resilience={"shelters": [{"name": "School", "critical_load_kw": 1, "critical_load_csv": "x"}]})


def test_unknown_station_is_named_with_the_allowed_ones():
    with pytest.raises(ScenarioError, match="'Station X' is not a station; the stations are Town Hall, Hospital"):
        small_scenario(**resilience(called_stations=["Station X"]))
    with pytest.raises(ScenarioError, match="outage_h"):
        small_scenario(**resilience(outage_h=0))


def test_profile_csv_24_hours_and_bad_files(tmp_path):
    sc = small_scenario(tmp_path)
    idx = pd.date_range("2025-06-01", periods=48, freq="h", tz="Asia/Tokyo")
    (tmp_path / "load.csv").write_text("critical_load_kw\n" + "\n".join(str(h) for h in range(24)))
    shelter = small_scenario(
        tmp_path, resilience={"shelters": [{"name": "S", "critical_load_csv": "load.csv"}]}
    ).resilience.shelters[0]
    assert list(critical_load_kw(sc, shelter, idx)) == list(range(24)) * 2
    (tmp_path / "load.csv").write_text("kw\n1\n")
    with pytest.raises(DataError, match="needs a column 'critical_load_kw'"):
        critical_load_kw(sc, shelter, idx)
    (tmp_path / "load.csv").write_text("critical_load_kw\n1\n2\n")
    with pytest.raises(DataError, match=r"has 2 rows; give 24 .* or 48"):
        critical_load_kw(sc, shelter, idx)
    (tmp_path / "load.csv").write_text("critical_load_kw\n" + "1\n" * 23 + "-1\n")
    with pytest.raises(DataError, match="row 25 is '-1'; loads are numbers"):
        critical_load_kw(sc, shelter, idx)


@pytest.fixture(scope="module")
def run():
    return plan_scenario(
        small_scenario(**resilience(outage_h=24, called_stations="all", call_delay_h=1)), method="full"
    )


def test_sources_follow_from_the_plan_tables(run):
    sc, inp, res = run.prepared.scenario, run.prepared.inputs, run.results
    src = outage_sources(sc, inp, res)
    # second implementation of the parked cars' energy: a plain loop over one start step
    s = 100
    veh = inp.vehicles
    expected_kwh, expected_cars = 0.0, 0
    for v in res.vehicle_energy_kwh.columns:
        if veh.loc[v, "station"] == "Town Hall" and bool(inp.plugged[v].iloc[s]):
            expected_cars += 1
            expected_kwh += max(res.vehicle_energy_kwh[v].iloc[s - 1] - 0.2 * veh.loc[v, "usable_kwh"], 0.0)
    assert src.parked_cars[s] == expected_cars
    assert src.parked_kwh[s] == pytest.approx(expected_kwh)
    # every car is either parked at the shelter or may be called (called_stations = "all")
    assert np.all(src.parked_cars + src.called_cars == len(res.vehicle_energy_kwh.columns))
    assert src.pv_kw == pytest.approx(res.dispatch["pv_available_kw"].to_numpy())


def test_plan_reports_survival_of_every_start_hour(run):
    out = run.resilience
    assert len(out.survival) == len(run.results.dispatch)
    h = out.survival["hours_survived_h"]
    assert h.between(0, 24).all()
    assert out.full_outage_probability_fraction == pytest.approx((h == 24).mean())
    # more load can only shorten the supply: the same plan with 10× the shelter load survives no longer anywhere
    sc = run.prepared.scenario
    heavy = sc.model_copy(
        update={
            "resilience": sc.resilience.model_copy(
                update={"shelters": [sc.resilience.shelters[0].model_copy(update={"critical_load_kw": 30.0})]}
            )
        }
    )
    heavier = simulate_plan(heavy, run.prepared.inputs, run.results).survival["hours_survived_h"]
    assert (heavier <= h).all() and (heavier < h).any()


def test_report_section_and_tables(run, tmp_path):
    from chisan.report.render import write_outputs

    out = write_outputs(
        tmp_path / "out",
        run.prepared,
        run.results,
        run.checks,
        scenario_text="",
        scenario_name="small",
        solve_seconds=0.0,
        resilience=run.resilience,
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Emergency power at the shelters" in html
    pct = f"{run.resilience.full_outage_probability_fraction * 100:.1f} % of the start steps"
    assert pct in html
    survival = pd.read_csv(out / "outage_survival.csv", index_col=0)
    np.testing.assert_allclose(survival["hours_survived_h"], run.resilience.survival["hours_survived_h"])
    probs = pd.read_csv(out / "outage_probabilities.csv")
    assert probs["duration_h"].iloc[-1] == 24.0


def test_second_life_packs_are_their_own_store_with_their_own_efficiency_and_power(run):
    """The solved plan with 20 kWh of second-life packs added (round trip 0.81, c-rate 0.5, holding 12 kWh all year):
    the new storage keeps its own figures, the packs come as a second store at √0.81 = 0.9 each way and
    0.5 × 20 = 10 kW, both × the storage share (0.5 here); no longer pooled at the new storage's efficiencies."""
    import dataclasses

    from chisan.scenario.schema import SecondLife

    sc, inp, res = run.prepared.scenario, run.prepared.inputs, run.results
    sc = sc.model_copy(
        update={
            "second_life": SecondLife(
                offered_kwh=20.0,
                price_per_kwh=0.0,
                lifetime_years=10.0,
                round_trip_efficiency_fraction=0.81,
                max_c_rate_per_h=0.5,
            ),
            "resilience": sc.resilience.model_copy(update={"storage_share_fraction": 0.5}),
        }
    )
    without = outage_sources(sc, inp, res)
    dispatch = res.dispatch.assign(second_life_energy_kwh=12.0)
    packs = dataclasses.replace(res, dispatch=dispatch, method={**res.method, "second_life": {"used_kwh": 20.0}})
    src = outage_sources(sc, inp, packs)
    assert (src.storage_kwh, src.storage_kw) == (without.storage_kwh, without.storage_kw)
    np.testing.assert_array_equal(src.storage_start_kwh, without.storage_start_kwh)
    assert src.second_life_efficiency_fraction == pytest.approx(0.9)
    assert (src.second_life_kwh, src.second_life_kw) == pytest.approx((10.0, 5.0))
    assert np.asarray(src.second_life_start_kwh) == pytest.approx(np.full(len(dispatch), 6.0))
    # with no other source left, 6 kWh × 0.9 = 5.4 kWh against the 3 kW shelter: one whole hour from every start
    bare = dataclasses.replace(
        src,
        pv_kw=np.zeros(len(dispatch)),
        storage_start_kwh=np.zeros(len(dispatch)),
        parked_kwh=np.zeros(len(dispatch)),
        called_kwh=np.zeros(len(dispatch)),
    )
    from chisan.resilience.outage import simulate_outages

    assert set(simulate_outages(bare, outage_h=24)) == {1.0}
