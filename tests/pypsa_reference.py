"""The second implementation the plan is checked against: a PlanInputs solved as a PyPSA network with HiGHS."""

from __future__ import annotations

import warnings

import pypsa  # noqa: F401  (in the test extra: a missing PyPSA must fail the suite, not skip it)

from chisan.plan.pypsa_network import pypsa_extra_functionality, to_pypsa


def solve_pypsa(inputs):
    """Build ``inputs`` as a PyPSA network (:func:`chisan.plan.pypsa_network.to_pypsa`), with chisan's policy rows
    as extra functionality, and solve it with HiGHS; the network, solved to "optimal" (asserted)."""
    n = to_pypsa(inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, condition = n.optimize(
            solver_name="highs",
            extra_functionality=pypsa_extra_functionality(inputs),
            log_to_console=False,
            solver_options={"output_flag": False},
        )
    assert condition == "optimal", condition
    return n
