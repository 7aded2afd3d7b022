"""The zone rebalancing LP (Pavone et al. 2012) against a three-zone case solved by hand."""

from __future__ import annotations

import numpy as np

from chisan.autonomous.rebalancing import RebalancingLP, desired_vehicles


def test_three_zones_on_a_line_match_the_hand_solution():
    # zones at 0, 1, 2 km; cost = distance. Zone 0 has 4 idle cars, zone 1 none, zone 2 none and a waiting rider:
    # excess v_e = (4, 0, −1), Σ = 3, desired = ⌊3/3⌋ = 1 each (Pavone's even rule).
    # Zone 1 needs 1 car, zone 2 needs 2; only zone 0 has cars (supply row), so the only solution is
    # 1 car 0→1 (cost 1) and 2 cars 0→2 (cost 2 each): total 5.
    pos = np.array([0.0, 1.0, 2.0])
    lp = RebalancingLP(np.abs(pos[:, None] - pos[None, :]))
    excess = np.array([4.0, 0.0, -1.0])
    desired = desired_vehicles(excess, np.ones(3))
    np.testing.assert_array_equal(desired, [1, 1, 1])
    flows = lp.solve(excess, desired, idle=np.array([4.0, 0.0, 0.0]))
    np.testing.assert_array_equal(flows, [[0, 1, 2], [0, 0, 0], [0, 0, 0]])
    # re-solved in place with new right-hand sides: zone 2 now has the cars; cheapest is 2→1 (1) and 2→0 (2)
    flows = lp.solve(np.array([0.0, 0.0, 3.0]), np.array([1.0, 1.0, 1.0]), idle=np.array([0.0, 0.0, 3.0]))
    np.testing.assert_array_equal(flows, [[0, 0, 0], [0, 0, 0], [1, 1, 0]])
    lp.close()


def test_desired_follows_the_demand_share_and_never_exceeds_the_excess():
    d = desired_vehicles(np.array([5.0, 3.0, 2.0]), np.array([0.5, 0.3, 0.2]))
    np.testing.assert_array_equal(d, [5, 3, 2])
    assert desired_vehicles(np.array([-2.0, 1.0]), np.array([1.0, 1.0])).sum() == 0
