"""The per-vehicle dispatch of a metered town in blocks of sites (plan/site_dispatch.py): how sites are dealt into
blocks and processes, and that a dispatch in blocks is the joint dispatch up to the split of the soft fleet target."""

from __future__ import annotations

import os

import pandas as pd
import pytest

import chisan.plan.site_dispatch as site_dispatch
from chisan.plan.pipeline import plan_scenario
from chisan.plan.prepare import prepare_inputs
from tests.factories import small_scenario

STATIONS = [
    {"name": f"Base {i}", "vehicles": n, "chargers": n, "charger_kw": 6.0, "member_share_fraction": 1 / 6}
    for i, n in enumerate([4, 3, 2, 1, 1, 1], start=1)
]


def test_sites_are_dealt_into_blocks_of_about_the_block_size_and_onto_processes(monkeypatch):
    inputs = prepare_inputs(small_scenario(stations=STATIONS)).inputs
    fleet = pd.DataFrame(0.0, index=inputs.snapshots, columns=inputs.sites.index.astype(str))
    monkeypatch.setattr(site_dispatch, "MIN_VEHICLES_PER_PART", 1)
    procs = site_dispatch.dispatch_parts(inputs, fleet, workers=2, block_vehicles=4)
    blocks = [b for proc in procs for b in proc]
    # 12 cars in blocks of about 4 → 3 blocks; largest site first onto the lightest block: {4}, {3, 1}, {2, 1, 1}
    assert len(procs) == 2 and len(blocks) == 3
    assert sorted(s for b in blocks for s in b) == sorted(inputs.sites.index.astype(str))  # each site once
    cars = inputs.vehicles["station"].map(inputs.stations["site"].astype(str)).value_counts()
    assert sorted(int(cars[b].sum()) for b in blocks) == [4, 4, 4]
    # the processes get whole blocks of about equal car counts: 4 + 4 against 4
    assert sorted(sum(int(cars[b].sum()) for b in proc) for proc in procs) == [4, 8]
    # no aggregate target per site (or a line between sites): one joint dispatch
    assert site_dispatch.dispatch_parts(inputs, None, workers=2, block_vehicles=4) == [[list(fleet.columns)]]


def test_a_dispatch_in_blocks_in_one_process_equals_the_joint_dispatch(march_joint, march_blocks_in_one):
    # 6 cars at 2 metered sites: one process (fewer than MIN_VEHICLES_PER_PART cars), blocks of 3 cars → one block
    # per site, dispatched one after the other. Costs within 0.5 % of the joint dispatch (the split of the soft
    # end-of-window fleet target is the only difference), every after-solve check passing on the whole town.
    # Both plans (March, two stages, 8 typical days; BLOCK_VEHICLES = 3 for the blocks) are tests/plan/conftest.py's.
    joint, blocks = march_joint, march_blocks_in_one
    assert joint.results.method["shadow_prices"]["dispatch_parts"] == 1
    assert blocks.results.method["shadow_prices"]["dispatch_parts"] == 2
    assert blocks.checks.passed, blocks.checks.table()
    total = {n: float(r.results.costs["total_per_year"].sum()) for n, r in (("joint", joint), ("blocks", blocks))}
    assert total["blocks"] == pytest.approx(total["joint"], rel=5e-3)
    assert list(blocks.results.vehicle_charge_kw.columns) == list(blocks.prepared.inputs.vehicles.index)


def test_blocks_on_two_processes_equal_the_blocks_in_one_and_report_progress_block_by_block(
    monkeypatch, march_blocks_in_one
):
    # 2 metered sites × 3 cars, blocks of 3 cars → one block per site. On two processes each block is its own
    # task (the heavier first); the results must land on their own cars (the same per-block LPs as in one
    # process, so the same charging to solver precision) and the progress must move as each block finishes:
    # 0.1 + 0.9 × 1/2 = 0.55 after the first block, 1.0 after the second (solve.py's on_window scale).
    sc = small_scenario(horizon={"months": 1, "start_month": 3})
    one = march_blocks_in_one  # sc with BLOCK_VEHICLES = 3, two stages, 8 typical days (tests/plan/conftest.py)
    monkeypatch.setattr(site_dispatch, "BLOCK_VEHICLES", 3)
    monkeypatch.setattr(site_dispatch, "MIN_VEHICLES_PER_PART", 1)
    seen: list[tuple[str, float]] = []
    two = plan_scenario(sc, method="two-stage", n_typical_days=8, progress=lambda msg, frac: seen.append((msg, frac)))
    assert two.results.method["shadow_prices"]["dispatch_parts"] == 2
    assert two.checks.passed, two.checks.table()
    pd.testing.assert_frame_equal(two.results.vehicle_charge_kw, one.results.vehicle_charge_kw, atol=1e-6, rtol=0)
    passes: dict[str, list[float]] = {}
    for msg, frac in seen:
        if msg.startswith("dispatching every vehicle") and "window" in msg:  # "(pass 1, window 5/10)"
            passes.setdefault(msg.split(",")[0], []).append(frac)
    assert passes and all(fracs == pytest.approx([0.55, 1.0]) for fracs in passes.values()), passes


def test_workers_started_before_the_sizing_are_the_ones_the_dispatch_takes(monkeypatch):
    # 12 cars at 6 metered sites, one part per car allowed: two processes, started and warmed up at once
    # (each answers with its own process id), then handed to the dispatch; with 60 cars a part, none is started.
    inputs = prepare_inputs(small_scenario(stations=STATIONS)).inputs
    monkeypatch.setattr(site_dispatch, "MIN_VEHICLES_PER_PART", 1)
    site_dispatch.start_workers(inputs, workers=2)
    pool, n, warming = site_dispatch._WARM["pool"]
    try:
        pids = {f.result(timeout=300) for f in warming}
        assert n == 2 and len(pids) == 2 and os.getpid() not in pids
        assert site_dispatch._take_pool(2) is pool and "pool" not in site_dispatch._WARM
    finally:
        pool.shutdown()
    monkeypatch.setattr(site_dispatch, "MIN_VEHICLES_PER_PART", 60)
    site_dispatch.start_workers(inputs, workers=2)
    assert "pool" not in site_dispatch._WARM
