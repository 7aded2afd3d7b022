"""The roadmap loop with a stand-in planner: hand-derived paths, ageing, retirement, the closed loop, balances."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from roadmap_fakes import FakePlanner, naumann_k_per_sqrt_day, town

from chisan.batteries.lifecycle import STATES
from chisan.batteries.materials import pack_materials
from chisan.roadmap.run import fleet_path, largest_remainder, run_roadmap, trajectory_summary
from chisan.roadmap.schema import roadmap_from_dict

LFP_CALENDAR_ONLY = {"chemistry": "LFP", "ageing_model": "lfp_naumann"}


def _settings(**values):
    return roadmap_from_dict(LFP_CALENDAR_ONLY | values)


def test_constant_factors_give_the_hand_derived_path() -> None:
    # 4 Sakura (20 kWh) that never cycle (SOC 0.5, 25 °C): Naumann calendar fade k √t with
    # k = 1.2571e-5 · 0.60225 · √86400 = 2.2254e-3 /√day, so 80 % SOH at (0.2 / k)^2 = 8077 days = 22.1 years:
    # no pack leaves a car in 2026-2036, and each is expected to leave in its 23rd year (2026 + 22 + 1 = 2049).
    # Grid factor 0.5 kg/kWh in 2026 falling linearly to 0 in 2036: f(y) = 0.5 (2036 - y) / 10.
    # Every year: import 10,000 kWh -> scope 2 = 5,000 (2036 - y) / 10 kg; PV 50 kW × 1,000 kg/kW / 25 years
    # = 2,000 kg; packs 4 × 20 kWh × 83.5 kg/kWh / 23 years = 290.43 kg (annualised over their 23 years in a car).
    scenario = town(technologies={"pv": {"embodied_kg_per_kw": 1000.0, "lifetime_years": 25}})
    settings = _settings(
        start_year=2026,
        end_year=2036,
        plan_years=3,
        grid_emission_factor_kg_per_kwh={"2026": 0.5, "2036": 0.0},
        cell_production_kg_co2e_per_kwh=83.5,
    )
    result = run_roadmap(scenario, settings, planner=FakePlanner())
    years = np.arange(2026, 2037)
    table = result.years
    assert table["planned"].tolist() == [y in (2026, 2031, 2036) for y in years]
    assert np.allclose(table["grid_factor_kg_per_kwh"], 0.5 * (2036 - years) / 10, rtol=0, atol=1e-15)
    assert np.allclose(table["scope2_kg"], 10_000 * 0.5 * (2036 - years) / 10, rtol=1e-12)
    assert np.allclose(table["embodied_pv_kg"], 2000.0, rtol=1e-12)
    assert np.allclose(table["embodied_battery_kg"], 4 * 20 * 83.5 / 23, rtol=1e-12)
    net = 5000 * (2036 - years) / 10 + 2000 + 4 * 20 * 83.5 / 23
    assert np.allclose(table["net_kg"], net, rtol=1e-12)
    # Exports are not netted by default; with export_credit the 4,000 kWh × f(y) come off.
    assert np.allclose(table["export_credit_kg"], 4000 * 0.5 * (2036 - years) / 10, rtol=1e-12)
    s = result.summary
    assert (s["peak_year"], s["net_zero_year"], s["reaches_target"]) == (2026, None, False)
    assert s["gap_at_target_kg"] == pytest.approx(2000 + 4 * 20 * 83.5 / 23, rel=1e-12)
    assert (result.packs["retire_year"].isna()).all()
    expected_age = (0.2 / naumann_k_per_sqrt_day(25.0)) ** 2 / 365  # 22.13 years
    assert result.packs["retire_age_years"].to_numpy() == pytest.approx(np.full(4, expected_age), abs=1 / 365)

    # Without embodied emissions, net = scope 2 reaches 0 exactly in 2036, the target year.
    clean = run_roadmap(
        town(),
        _settings(
            start_year=2026,
            end_year=2036,
            plan_years=2,
            grid_emission_factor_kg_per_kwh={"2026": 0.5, "2036": 0.0},
            cell_production_kg_co2e_per_kwh=0.0,
        ),
        planner=FakePlanner(),
    )
    assert clean.summary["net_zero_year"] == 2036
    assert clean.summary["reaches_target"]
    assert clean.summary["peak_year"] == 2026
    upfront = run_roadmap(
        scenario,
        _settings(start_year=2026, end_year=2036, plan_years=2, embodied_accounting="upfront"),
        planner=FakePlanner(),
    ).years
    # Up front: 50 kW × 1,000 kg and 4 × 20 × 83.5 = 6,680 kg, all in 2026; nothing after.
    assert upfront.loc[2026, "embodied_kg"] == pytest.approx(50_000 + 6_680, rel=1e-12)
    assert (upfront.loc[2027:, "embodied_kg"] == 0).all()


def test_years_between_plans_are_interpolated() -> None:
    # Fleet 10 growing 10 %/year: round(10 · 1.1^k) = 10, 11, 12, 13, 15 in 2026-2030; planned 2026 and 2030.
    # Import 1,000 kWh per vehicle in the planned years: 10,000 and 15,000; between them linear in the year:
    # 11,250, 12,500, 13,750 (not 11,000, 12,000, 13,000: the plans are not repeated for the derived years).
    result = run_roadmap(
        town((5, 5)),
        _settings(start_year=2026, end_year=2030, plan_years=2, fleet_growth_per_year_fraction=0.1),
        planner=FakePlanner(import_kwh=0.0, import_kwh_per_vehicle=1000.0),
    )
    table = result.years
    assert table["vehicles"].tolist() == [10, 11, 12, 13, 15]
    assert table["grid_import_kwh"].tolist() == pytest.approx([10_000, 11_250, 12_500, 13_750, 15_000])
    # Every car holds exactly one pack every year; new packs = the cars added.
    stocks = result.lifecycle.stocks
    assert (stocks["in_car_packs"] == table["vehicles"]).all()
    assert table["new_packs"].tolist() == [10, 1, 1, 1, 2]


def test_fleet_split_by_largest_remainder() -> None:
    # 31 vehicles over stations weighted 6:6:6:6:6 -> 6.2 each: floors 6, remainders equal -> the first gets 7.
    assert largest_remainder(31, [6, 6, 6, 6, 6]) == [7, 6, 6, 6, 6]
    # 1 %/year from 30: round(30 · 1.01^k) for k = 0..3 = 30, 30, 31, 31.
    path = fleet_path([2026, 2027, 2028, 2029], {"a": 20, "b": 10}, 0.01)
    assert path.sum(axis=1).tolist() == [30, 30, 31, 31]
    assert path.loc[2028].tolist() == [21, 10]  # 31 · 2/3 = 20.67, 31 · 1/3 = 10.33


def test_a_pack_that_never_cycles_ages_by_calendar_alone() -> None:
    # SOC 0.5 all year at 25 °C: the SOH at the end of year n is 1 - k √(365 n) with the Naumann k by hand.
    result = run_roadmap(town((1,)), _settings(start_year=2026, end_year=2035, plan_years=2), planner=FakePlanner())
    soh = result.health[result.health["pack_id"] == "car001-p1"].set_index("year")["soh"]
    n = np.arange(1, 11)
    k = naumann_k_per_sqrt_day(25.0)
    # Tolerance 1e-12: the same closed form, up to rounding of 3,650 daily updates.
    assert np.allclose(soh.to_numpy(), 1 - k * np.sqrt(365.0 * n), rtol=0, atol=1e-12)


def test_packs_retire_at_the_threshold_are_replaced_and_come_back_as_storage() -> None:
    # At 45 °C, SOC 0.5: k45 = k25 · exp(17126/R (1/298.15 - 1/318.15)) = 3.44e-3 /√day, so a pack reaches
    # 80 % after (0.2 / k45)^2 days = 9.28 years: during its 10th year. The 2026 packs leave their cars at the
    # start of 2036, their replacements (new in 2036) at the start of 2046.
    k45 = naumann_k_per_sqrt_day(45.0)
    t80_years = (0.2 / k45) ** 2 / 365
    assert 9 < t80_years < 10
    planner = FakePlanner(temp_c=45.0)
    settings = _settings(
        start_year=2026,
        end_year=2050,
        plan_years=[2036, 2040, 2046],
        route_shares={"reuse": 1.0},
        second_life_derate_fraction=0.9,
        second_life_ageing_model="car",  # the car's model runs on in second life (virtual time)
    )
    result = run_roadmap(town((2, 1)), settings, planner=planner)
    packs = result.packs.set_index("pack_id")
    first = packs.loc[["car001-p1", "car002-p1", "car003-p1"]]
    assert (first["retire_year"] == 2036).all()
    assert first["retire_reason"].eq("soh_threshold").all()
    assert first["retire_age_years"].to_numpy() == pytest.approx(np.full(3, t80_years), abs=1 / 365)
    second = packs.loc[["car001-p2", "car002-p2", "car003-p2"]]
    assert (second["year_in_service"] == 2036).all()
    assert (second["retire_year"] == 2046).all()
    # SOH when they leave: at the end of their 10th year, 1 - k45 √3650.
    assert first["soh_at_retirement"].to_numpy() == pytest.approx(np.full(3, 1 - k45 * math.sqrt(3650)), rel=1e-12)

    # The loop closes: in 2036 the plan is offered the reused packs, 3 × 20 kWh × SOH × 0.9 derate.
    offered_2036 = 3 * 20 * (1 - k45 * math.sqrt(3650)) * 0.9
    year_2036 = next(sc for sc in planner.seen if sc.second_life is not None)
    assert not year_2036.technologies.storage.enabled  # reused packs are the second-life family, not new storage
    assert year_2036.second_life.offered_kwh == pytest.approx(offered_2036, rel=1e-12)
    assert result.years.loc[2036, "second_life_offered_kwh"] == pytest.approx(offered_2036, rel=1e-12)
    assert result.years.loc[2036, "storage_kwh"] == pytest.approx(offered_2036, rel=1e-12)
    assert year_2036.second_life.price_per_kwh == 12_500  # 4R Energy: ¥300,000 / 24 kWh
    # Second life at the storage's SOC 0.5 and 45 °C continues the same √t law (virtual time), so a pack
    # reaches the 60 % end threshold at total age (0.4 / k45)^2 days = 37.1 years -> recycled in 2026 + 38.
    t60_years = (0.4 / k45) ** 2 / 365
    assert first["end_year"].to_numpy() == pytest.approx(np.full(3, 2026 + math.floor(t60_years) + 1))
    # Before 2036 nothing is offered and the plan gets no storage at all.
    assert not planner.seen[0].technologies.storage.enabled and planner.seen[0].second_life is None
    # Health table: in 2040 the first packs are in second life, the second ones in cars.
    h = result.health[result.health["year"] == 2040].set_index("pack_id")
    assert h.loc["car001-p1", "state"] == "second_life"
    assert h.loc["car001-p2", "state"] == "in_car"
    assert h.loc["car001-p1", "soh"] == pytest.approx(1 - k45 * math.sqrt(365 * 15), rel=1e-12)


def _balances(result) -> None:
    stocks, flows, packs = result.lifecycle.stocks, result.lifecycle.flows, result.packs
    years = list(stocks.index)
    entered = np.array([(packs["year_in_service"] <= y).sum() for y in years])
    assert (sum(stocks[f"{s}_packs"] for s in STATES).to_numpy() == entered).all()
    for state in STATES:
        inflow = flows[flows["target"] == state].groupby("year")["packs"].sum().reindex(years, fill_value=0)
        outflow = flows[flows["source"] == state].groupby("year")["packs"].sum().reindex(years, fill_value=0)
        assert (stocks[f"{state}_packs"] == stocks[f"{state}_packs"].shift(1, fill_value=0) + inflow - outflow).all()
    materials = result.lifecycle.materials
    assert np.allclose(materials["recovered_kg"] + materials["lost_kg"], materials["mass_in_kg"], rtol=1e-15)
    # Every kg bought is in a car, in the town's storage, sold on (resold, refabricated) or sent to recycling.
    content = pack_materials(packs["chemistry"], packs["capacity_kwh"]).sum()
    sent = materials.groupby("material")["mass_in_kg"].sum().reindex(content.index, fill_value=0.0)
    kwh_outside_recycling = stocks.iloc[-1][[f"{s}_kwh" for s in STATES if s != "recycled"]].sum()
    # kWh balance: every pack's capacity is in a state, or recycled as a whole pack or as bad modules
    total_kwh = stocks.iloc[-1][[f"{s}_kwh" for s in STATES]].sum() + stocks.iloc[-1]["recycled_modules_kwh"]
    assert total_kwh == pytest.approx(packs["capacity_kwh"].sum(), rel=1e-12)
    per_kwh = content / packs["capacity_kwh"].sum()
    assert np.allclose(sent + per_kwh * kwh_outside_recycling, content, rtol=1e-12)


@pytest.mark.parametrize(("service_years", "growth"), [(None, 0.05), (6.0, 0.05), (None, -0.05)])
def test_pack_and_mass_balances_with_every_route(service_years: float | None, growth: float) -> None:
    # Mixed routes, vehicles replaced every 6 years (their packs go to the 4Rs whatever their SOH), a growing
    # or a shrinking fleet (the packs of the cars that go leave with them, to the 4Rs).
    settings = _settings(
        start_year=2026,
        end_year=2050,
        plan_years=4,
        fleet_growth_per_year_fraction=growth,
        route_shares={"reuse": 0.4, "resell": 0.2, "refabricate": 0.2, "recycle": 0.2},
        vehicle_service_years=service_years,
        recycling_process={"hydrometallurgy": 0.7, "pyrometallurgy": 0.3},
    )
    result = run_roadmap(town((3, 3)), settings, planner=FakePlanner(temp_c=45.0))
    _balances(result)
    assert (result.lifecycle.stocks["in_car_packs"] == result.years["vehicles"]).all()
    routes = result.packs["route"].value_counts()
    assert {"reuse", "resell", "refabricate", "recycle"} <= set(routes.index)
    if service_years:
        replaced = result.packs[result.packs["retire_reason"] == "vehicle_replaced"]
        assert (replaced["retire_year"] - replaced["year_in_service"] == 6).all()
        assert len(replaced) > 0
    if growth < 0:
        # round(6 · 0.95^24) = 2 cars in 2050: four packs left with their cars.
        assert result.years["vehicles"].iloc[-1] == 2
        assert (result.packs["retire_reason"] == "fleet_reduced").sum() == 4


def test_trajectory_summary_by_hand() -> None:
    net = pd.Series([5.0, 7.0, 7.0, 3.0, 0.0, -1.0], index=range(2030, 2036))
    s = trajectory_summary(net, 2033)
    # Peak 7 first in 2031; first year <= 0 is 2034, after the target 2033 where 3 kg are left.
    assert (s["peak_year"], s["peak_kg"], s["net_zero_year"]) == (2031, 7.0, 2034)
    assert (s["net_at_target_kg"], s["gap_at_target_kg"], s["reaches_target"]) == (3.0, 3.0, False)
    assert trajectory_summary(net, 2035)["reaches_target"]
    assert trajectory_summary(net, 2035)["gap_at_target_kg"] == 0.0


def test_a_pack_named_by_ageing_model_ages_with_that_blast_lite_fit() -> None:
    # [roadmap] ageing_model = "nmc811_lgmj1" (BLAST-Lite's LG MJ1 fit, NREL/BLAST-Lite 039b74d,
    # Nmc811_GrSi_LGMJ1_4Ah_Battery._params_life): a car that never cycles (SOC 0.5, 25 °C) ages by calendar
    # alone, q = 0.0353 exp(-1030/T) exp(57.7 · 0.5/T) (365 n)^0.743 at T = 298.15 K: 1.2288e-3 /day^0.743, so
    # 0.0985 after one year and 0.1648 after two (80 % is reached after (0.2/k)^(1/0.743) = 947 days).
    settings = roadmap_from_dict({"chemistry": "NMC811", "ageing_model": "nmc811_lgmj1", "start_year": 2026})
    settings = settings.model_copy(update={"end_year": 2027, "plan_years": 2})
    result = run_roadmap(town((1,)), settings, planner=FakePlanner())
    soh = result.health[result.health["pack_id"] == "car001-p1"].set_index("year")["soh"]
    k = 0.0353 * math.exp(-1030 / 298.15) * math.exp(57.7 * 0.5 / 298.15)
    assert k == pytest.approx(1.2288e-3, rel=1e-4)
    assert np.allclose(soh.to_numpy()[:2], 1 - k * (365.0 * np.arange(1, 3)) ** 0.743, rtol=0, atol=1e-12)


def test_reused_packs_age_with_the_second_life_leaf_model_from_their_retirement_soh() -> None:
    # As above (45 °C, SOC 0.5, the 2026 packs leave their cars at the start of 2036 with SOH
    # s_r = 1 - k45 √3650), but in second life they age with NREL's fit to used Nissan Leaf modules (the
    # default): SOH = s_r (1 - k_cal t^p), k_cal = A exp(B/T) exp(C SOC/T) (BLAST-Lite), and the constant SOC
    # adds no cycling. At 45 °C k_cal = 0.0188 /day^0.464, so after 365 days the modules keep 70.9 % of their
    # capacity: SOH 0.79 × 0.709 = 0.56 < 0.6 -> recycled at the start of 2037.
    from chisan.batteries.ageing import LMO_NISSAN_LEAF_PARAMETERS, blast_soc_calendar_rate

    k45 = naumann_k_per_sqrt_day(45.0)
    s_r = 1 - k45 * math.sqrt(3650)
    p = LMO_NISSAN_LEAF_PARAMETERS
    k_cal = float(blast_soc_calendar_rate(45.0, 0.5, p))
    settings = _settings(start_year=2026, end_year=2040, plan_years=[2036, 2040], route_shares={"reuse": 1.0})
    result = run_roadmap(town((2, 1)), settings, planner=FakePlanner(temp_c=45.0))
    h = result.health[(result.health["year"] == 2036) & (result.health["state"] == "second_life")]
    assert len(h) == 3
    expected = s_r * (1 - k_cal * 365.0 ** p["qcal_p"])
    assert h["soh"].to_numpy() == pytest.approx(np.full(3, expected), rel=1e-9)
    first = result.packs.set_index("pack_id").loc[["car001-p1", "car002-p1", "car003-p1"]]
    assert (first["end_year"] == 2037).all()
