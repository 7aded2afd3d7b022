"""NPV, IRR and payback of a two-component project derived by hand in closed form.

The project: PV ¥1,000,000 with a 20-year life and a battery ¥500,000 with a 10-year life, constant savings
S = ¥150,000/year, discount rate r = 5 %, no O&M, no PV ageing. With v = 1/(1 + r) and the annuity factor
a(N) = (1 − v^N)/r (Short, Packey & Holt 1995, NREL/TP-462-5173, Eq. 4-2):

- N = 20: the battery is bought again in year 10, nothing is left at the end (PV 20 − 20 = 0 years, battery
  10 + 10 − 20 = 0 years): NPV = −1,500,000 + S a(20) − 500,000 v^10.
- N = 25: PV again in year 20, the battery in 10 and 20; at the end the PV has 15 of 20 years left (¥750,000)
  and the battery 5 of 10 (¥250,000): NPV = −1,500,000 + S a(25) − 500,000 v^10 − 1,500,000 v^20
  + 1,000,000 v^25.
"""

from __future__ import annotations

import numpy as np
import pytest

from chisan.economics.cashflows import Component, project_cash_flows, pv_output_factor, salvage_fraction
from chisan.economics.metrics import irr, levelised_cost, npv, payback_years

R = 0.05
S = 150_000.0
PV = Component("PV", 1_000_000.0, 20.0)
BATTERY = Component("Storage", 500_000.0, 10.0)


def flows(life: int, salvage: bool = True):
    return project_cash_flows([PV, BATTERY], {"energy": S}, life_years=life, discount_rate=R, salvage=salvage)


def annuity(n: int) -> float:
    return (1 - (1 + R) ** -n) / R


def test_cash_flow_table_by_hand():
    cf = flows(25)
    assert cf.loc[0, "investment_jpy"] == -1_500_000
    assert cf.loc[10, "replacements_jpy"] == -500_000
    assert cf.loc[20, "replacements_jpy"] == -1_500_000
    assert cf["replacements_jpy"].drop([10, 20]).eq(0).all()
    assert cf.loc[25, "salvage_jpy"] == pytest.approx(750_000 + 250_000)
    assert cf.loc[1:, "energy_savings_jpy"].eq(S).all() and cf.loc[0, "energy_savings_jpy"] == 0
    assert salvage_fraction(20, 25) == 0.75 and salvage_fraction(10, 25) == 0.5 and salvage_fraction(10, 20) == 0


def test_npv_closed_form_twenty_years():
    v = 1 / (1 + R)
    expected = -1_500_000 + S * annuity(20) - 500_000 * v**10
    net = flows(20)["net_jpy"].to_numpy()
    assert npv(R, net) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(-1_500_000 + 1_869_331.5 - 306_956.6, abs=1.0)  # a(20) = 12.46221
    assert flows(20)["cumulative_discounted_jpy"].iloc[-1] == pytest.approx(expected, rel=1e-12)


def test_npv_closed_form_with_salvage():
    v = 1 / (1 + R)
    expected = -1_500_000 + S * annuity(25) - 500_000 * v**10 - 1_500_000 * v**20 + 1_000_000 * v**25
    assert npv(R, flows(25)["net_jpy"].to_numpy()) == pytest.approx(expected, rel=1e-12)
    without = -1_500_000 + S * annuity(25) - 500_000 * v**10 - 1_500_000 * v**20
    assert npv(R, flows(25, salvage=False)["net_jpy"].to_numpy()) == pytest.approx(without, rel=1e-12)


def test_irr_zeroes_the_npv_and_matches_a_hand_bisection():
    net = flows(20)["net_jpy"].to_numpy()
    rate = irr(net)
    assert npv(rate, net) == pytest.approx(0.0, abs=1e-6 * 1_500_000)

    def f(x: float) -> float:  # NPV of the same project written out: −I + S a_x(20) − 500,000 (1 + x)^−10
        return -1_500_000 + S * (1 - (1 + x) ** -20) / x - 500_000 * (1 + x) ** -10

    lo, hi = 0.001, 0.5  # f(lo) > 0 > f(hi)
    assert f(lo) > 0 > f(hi)
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    assert rate == pytest.approx(lo, abs=1e-9)
    assert 0.05 < rate < 0.10  # the NPV at 5 % is positive (≈ ¥62k), so the IRR is above 5 %


def test_irr_is_nan_when_the_project_never_earns():
    assert np.isnan(irr(np.array([-100.0, -5.0, -5.0])))


def test_simple_payback_by_hand():
    # cumulative: −1.5 M + 150 k y, less 500 k in year 10: −50 k after year 13, +100 k after 14 → 13 + 50/150
    net = flows(20)["net_jpy"].to_numpy()
    assert payback_years(net) == pytest.approx(13 + 50_000 / 150_000, rel=1e-12)
    assert payback_years(np.array([-100.0, 10.0])) == float("inf")
    assert payback_years(np.array([0.0, 10.0])) == 0.0


def test_discounted_payback_by_hand():
    # discounted cumulative after y years (y ≥ 10): −1.5 M − 500 k v^10 + S a(y); the first y where it is ≥ 0
    v = 1 / (1 + R)
    debt = 1_500_000 + 500_000 * v**10
    y = next(n for n in range(10, 21) if S * annuity(n) >= debt)
    assert y == 19  # S a(18) = 1,753,449 < 1,806,957 ≤ S a(19) = 1,812,808
    expected = y - 1 + (debt - S * annuity(y - 1)) / (S * v**y)
    assert payback_years(flows(20)["net_jpy"].to_numpy(), R) == pytest.approx(expected, rel=1e-12)


def test_pv_degradation_restarts_at_replacement_and_scales_pv_savings():
    f = pv_output_factor(25, 0.01, 20)
    assert (
        f[0] == 0 and f[1] == 1 and f[20] == pytest.approx(0.99**19) and f[21] == 1 and f[25] == pytest.approx(0.99**4)
    )
    cf = project_cash_flows(
        [PV], {"energy": S}, life_years=25, discount_rate=R, pv_degradation_per_year=0.01, pv_savings_share=0.8
    )
    # year 3: 20 % of the savings do not depend on the PV, 80 % fall with its output 0.99²
    assert cf.loc[3, "energy_savings_jpy"] == pytest.approx(S * (0.2 + 0.8 * 0.99**2))


def test_levelised_cost_by_hand():
    # ¥1,000 now and 100 kWh in each of years 1 and 2 at 10 %: 1000 / (100/1.1 + 100/1.21) = ¥5.762/kWh
    assert levelised_cost(0.1, np.array([1000.0, 0, 0]), np.array([0, 100.0, 100.0])) == pytest.approx(
        1000 / (100 / 1.1 + 100 / 1.21), rel=1e-12
    )
    assert 5.76 < levelised_cost(0.1, np.array([1000.0, 0, 0]), np.array([0, 100.0, 100.0])) < 5.77
