"""The per-vehicle dispatch of a metered town in blocks of sites (plan/site_dispatch.py): how sites are dealt into
blocks and processes, and that a dispatch in blocks is the joint dispatch up to the split of the soft fleet target."""

from __future__ import annotations

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


def test_a_dispatch_in_blocks_in_one_process_equals_the_joint_dispatch(monkeypatch):
    # 6 cars at 2 metered sites: one process (fewer than MIN_VEHICLES_PER_PART cars), blocks of 3 cars → one block
    # per site, dispatched one after the other. Costs within 0.5 % of the joint dispatch (the split of the soft
    # end-of-window fleet target is the only difference), every after-solve check passing on the whole town.
    sc = small_scenario(horizon={"months": 1, "start_month": 3})
    joint = plan_scenario(sc, method="two-stage", n_typical_days=8)
    monkeypatch.setattr(site_dispatch, "BLOCK_VEHICLES", 3)
    blocks = plan_scenario(sc, method="two-stage", n_typical_days=8)
    assert joint.results.method["shadow_prices"]["dispatch_parts"] == 1
    assert blocks.results.method["shadow_prices"]["dispatch_parts"] == 2
    assert blocks.checks.passed, blocks.checks.table()
    total = {n: float(r.results.costs["total_per_year"].sum()) for n, r in (("joint", joint), ("blocks", blocks))}
    assert total["blocks"] == pytest.approx(total["joint"], rel=5e-3)
    assert list(blocks.results.vehicle_charge_kw.columns) == list(blocks.prepared.inputs.vehicles.index)
