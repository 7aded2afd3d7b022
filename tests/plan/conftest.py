"""Plans shared by several test files of tests/plan: each is solved once per session and only read by the tests.

The small town in March (2 metered stations × 3 cars, two stages, 8 typical days) is the reference of the
dispatch-in-parts tests (test_sites.py, test_dispatch_blocks.py): the same scenario, the same settings, hence the
same plan wherever it is solved; the tests compare other ways of dispatching it against this one.
"""

from __future__ import annotations

import pytest

from chisan.plan.pipeline import plan_scenario
from tests.factories import small_scenario


def march_town():
    """The small town planned for March (one month)."""
    return small_scenario(horizon={"months": 1, "start_month": 3})


@pytest.fixture(scope="session")
def march_joint():
    """The March plan, its per-vehicle dispatch as one joint part (6 cars: fewer than a part's minimum)."""
    return plan_scenario(march_town(), method="two-stage", n_typical_days=8)


@pytest.fixture(scope="session")
def march_blocks_in_one():
    """The March plan dispatched in blocks of 3 cars (one block per site), one after the other in this process."""
    import chisan.plan.site_dispatch as site_dispatch

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(site_dispatch, "BLOCK_VEHICLES", 3)
        return plan_scenario(march_town(), method="two-stage", n_typical_days=8)


@pytest.fixture(scope="session")
def june_single_meter():
    """The small town (June) behind one meter, two stages, 8 typical days: test_pipeline.py's hourly plan and
    test_sites.py's single-meter plan are this same plan."""
    return plan_scenario(small_scenario(grid={"topology": "single_meter"}), method="two-stage", n_typical_days=8)
