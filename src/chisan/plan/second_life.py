"""Second-life storage: the town's retired car packs offered back to the plan (``SecondLife-*``).

A family of its own, beside the new stationary storage (``Storage-*``): an offer of ``offered_kwh`` usable kWh at
``price_per_kwh`` (up front, annualised over ``lifetime_years``), placed at one named site or at any site with the
plan choosing, with a round-trip efficiency η_rt (η_c = η_d = √η_rt) and a power limit c · E. Index ``j`` runs over
the sites the offer may go to (one ``town`` entry with one town meter)::

    Σ_j E_j ≤ offered                                         (SecondLife-offer)
    soc_{j,t} = soc_{j,t−1} + η_c ch_{j,t} Δt − dis_{j,t} Δt / η_d   (SecondLife-energy_balance, cyclic)
    soc_{j,t} ≤ E_j ;  ch_{j,t}, dis_{j,t} ≤ c E_j       (SecondLife-energy_limit, -charge_limit, -discharge_limit)

and dis − ch joins the balance of site j (``Site-balance``; the town ``Bus-balance`` with one meter). E_j costs
a = price × CRF(r, lifetime) + fixed O&M per kWh and year in the objective.

**Why it is used or not: the break-even price.** Let π_{j,t} be the dual of the balance row of site j at step t
(d objective / d load [currency/year per kW], linopy's sign: ≥ 0 when more load costs more; it carries the step's
weight, the annualisation and, at the peak hours, the basic charge's share of ``Tariff-peak_demand``). The value
of the first kWh of second-life storage at site j is the most a 1-kWh store earns against these prices::

    V_j = max Σ_t π_{j,t} (dis_t − ch_t)   over 0 ≤ soc_t ≤ 1, 0 ≤ ch_t, dis_t ≤ c, the cyclic balance above

[currency/kWh/year], the right derivative of the plan's cost with respect to the store's capacity at the
solution (LP sensitivity: the prices hold for a small enough store). The plan uses second life exactly when
max_j V_j ≥ a; the break-even price per kWh (up front) is (max_j V_j − O&M) / CRF, compared with the offered
price. When the offer is used to its limit the dual λ of ``SecondLife-offer`` adds the value above the price.

**Degenerate duals.** When the balance rows have several optimal duals (a kink: e.g. the grid import at 0 and the
new storage at its power limit in the same hours, so one more kW of load costs the grid price and one less saves
only the storage's energy), V_j above is one of a range of values: each optimal π gives an upper bound of the true
value of the first kWh (a Lagrangian bound: φ(δ) ≥ φ(0) + δ (a − V_j(π)) for the plan's cost φ with δ kWh forced
in), and the true value is the low end of the range. The duals HiGHS returns may sit anywhere in it, and, rounded,
just above a while the plan leaves the offer unused (issue 12 point 4: ¥1,809 against ¥1,781 measured), or far
above the truth (a day whose PV exactly meets the load prices the midday kWh anywhere between 0 and the grid's).
So when the offer is unused, the value is measured on the primal: the same model is solved again with
δ = :data:`FORCED_KWH` forced in at a place, and V_j = a − (φ(δ) − φ(0)) / δ, the saving of that kWh — at most
the true right derivative (φ is convex in δ), so never above a when the plan leaves the offer unused, and exact
while the value stays the same over the first δ. Places are measured from the highest dual V_j down, until the
next one's dual bound cannot beat the best measured; the others keep their dual V_j (an upper bound).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from chisan.exceptions import ScenarioError
from chisan.plan.highs import quiet_highs
from chisan.plan.inputs import PlanInputs

SNAPSHOT = "snapshot"
SITE = "site"
PLACE = "second_life_site"
TOWN = "town"
KEY = "second_life"
VARIABLES = ("SecondLife-energy_kwh", "SecondLife-charge_kw", "SecondLife-discharge_kw")
"""Per-step variables of the family (snapshots × places)."""

FORCED_KWH = 1.0
"""Second-life energy forced in to measure the value of the first kWh on the primal [kWh] (less if less is
offered)."""


@dataclass(frozen=True)
class SecondLifeOffer:
    """Retired packs offered to the plan as stationary storage.

    Attributes
    ----------
    offered_kwh : float
        Usable energy offered [kWh] (nominal × SOH × derate of the packs).
    price_per_kwh : float
        Price of one usable kWh, up front [currency/kWh].
    lifetime_years : float
        Years the second life lasts in the annuity [years].
    crf_per_year : float
        Capital recovery factor of the price [1/year].
    fixed_om_per_kwh_year : float
        Fixed O&M [currency/kWh/year].
    site : str
        ``"any"`` (the plan chooses among the sites) or a site name.
    round_trip_efficiency : float
        Battery in → battery out [fraction]; charge and discharge each √ of it.
    max_c_rate_per_h : float
        Power ≤ c-rate × energy [1/h].
    fixed_kwh : dict[str, float] or None
        Capacity fixed per place (the per-vehicle dispatch after sizing); None = chosen by the plan.
    """

    offered_kwh: float
    price_per_kwh: float
    lifetime_years: float
    crf_per_year: float
    fixed_om_per_kwh_year: float = 0.0
    site: str = "any"
    round_trip_efficiency: float = 0.85
    max_c_rate_per_h: float = 0.5
    fixed_kwh: dict[str, float] | None = None

    @property
    def annual_cost_per_kwh(self) -> float:
        """a = price × CRF + fixed O&M [currency/kWh/year]."""
        return self.price_per_kwh * self.crf_per_year + self.fixed_om_per_kwh_year

    @property
    def efficiency(self) -> float:
        """Charge (= discharge) efficiency √η_rt [fraction]."""
        return math.sqrt(self.round_trip_efficiency)


def offer_of(inputs: PlanInputs) -> SecondLifeOffer | None:
    """The second-life offer the inputs carry (``inputs.extra["second_life"]``), or None."""
    offer = inputs.extra.get(KEY)
    return offer if offer is not None and offer.offered_kwh > 1e-9 else None


def with_offer(inputs: PlanInputs, offer: SecondLifeOffer | None) -> PlanInputs:
    """A copy of ``inputs`` carrying ``offer`` (None removes it)."""
    extra = {k: v for k, v in inputs.extra.items() if k != KEY}
    if offer is not None:
        extra[KEY] = offer
    return dataclasses.replace(inputs, extra=extra)


def with_fixed_capacity(inputs: PlanInputs, kwh_by_place: dict[str, float]) -> PlanInputs:
    """A copy of ``inputs`` whose offer is fixed at ``kwh_by_place`` [kWh] (a sizing's choice); unchanged without."""
    offer = offer_of(inputs)
    if offer is None:
        return inputs
    return with_offer(inputs, dataclasses.replace(offer, fixed_kwh=dict(kwh_by_place)))


def places(inputs: PlanInputs, offer: SecondLifeOffer) -> list[str]:
    """Where the offer may go: the named site, every site (``any``), or the town bus with one meter."""
    if not inputs.per_site:
        return [TOWN]
    sites = [str(s) for s in inputs.sites.index]
    if offer.site == "any":
        return sites
    if offer.site not in sites:
        raise ScenarioError(f"second_life.site = {offer.site!r} is not a site; the sites are {', '.join(sites)}")
    return [offer.site]


def _place_index(inputs: PlanInputs, offer: SecondLifeOffer) -> pd.Index:
    return pd.Index(places(inputs, offer), name=PLACE)


def define_second_life_constraints(m: linopy.Model, inputs: PlanInputs) -> None:
    """Second-life storage: offer, energy balance, energy and power limits (``SecondLife-*``; module docstring)."""
    from chisan.plan.model import _previous, _t, define_inter_period_linking

    offer = offer_of(inputs)
    if offer is None:
        return
    t = _t(inputs)
    pi = _place_index(inputs, offer)
    dt = inputs.dt_hours
    if offer.fixed_kwh is not None:
        fixed = xr.DataArray([float(offer.fixed_kwh.get(p, 0.0)) for p in pi], coords=[pi])
        cap = m.add_variables(lower=fixed, upper=fixed, coords=[pi], name="SecondLife-kwh")
    else:
        cap = m.add_variables(lower=0, coords=[pi], name="SecondLife-kwh")
        m.add_constraints(cap.sum(PLACE) <= float(offer.offered_kwh), name="SecondLife-offer")
    linked = inputs.period_order is not None
    soc = m.add_variables(lower=-np.inf if linked else 0, coords=[t, pi], name="SecondLife-energy_kwh")
    ch = m.add_variables(lower=0, coords=[t, pi], name="SecondLife-charge_kw")
    dis = m.add_variables(lower=0, coords=[t, pi], name="SecondLife-discharge_kw")
    if not linked:
        m.add_constraints(soc - cap <= 0, name="SecondLife-energy_limit")
    c = float(offer.max_c_rate_per_h)
    m.add_constraints(ch - c * cap <= 0, name="SecondLife-charge_limit")
    m.add_constraints(dis - c * cap <= 0, name="SecondLife-discharge_limit")
    eta = offer.efficiency
    lhs = soc - _previous(soc, inputs, True) - (eta * dt) * ch + (dt / eta) * dis
    m.add_constraints(lhs == 0, name="SecondLife-energy_balance")
    if linked:
        define_inter_period_linking(m, inputs, "SecondLife", 0.0, cap)


def net_output(m: linopy.Model, inputs: PlanInputs) -> linopy.LinearExpression | None:
    """Second-life discharge − charge [kW]: (snapshot, site) with metered sites, (snapshot) on the town bus."""
    if "SecondLife-charge_kw" not in m.variables:
        return None
    net = m.variables["SecondLife-discharge_kw"] - m.variables["SecondLife-charge_kw"]
    if not inputs.per_site:
        return net.sum(PLACE)
    from chisan.plan.model import _on_sites

    pi = m.variables["SecondLife-kwh"].indexes[PLACE]
    groups = xr.DataArray(np.asarray(pi, dtype=object), coords=[pi], name=SITE)
    return _on_sites(net, groups, inputs)


def objective_costs(m: linopy.Model, inputs: PlanInputs) -> dict[str, np.ndarray]:
    """Objective coefficient of ``SecondLife-kwh``: a [currency/kWh/year] (empty without an offer)."""
    offer = offer_of(inputs)
    if offer is None or "SecondLife-kwh" not in m.variables:
        return {}
    return {"SecondLife-kwh": np.array(offer.annual_cost_per_kwh)}


def values_of(m: linopy.Model) -> dict[str, np.ndarray]:
    """Per-step values of the family in a solved model (snapshots × places)."""
    return {n: np.nan_to_num(m.variables[n].solution.to_numpy()) for n in VARIABLES if n in m.variables}


def capacity_of(m: linopy.Model) -> dict[str, float]:
    """Second-life kWh at each place in a solved model [kWh] (empty when not in the model)."""
    if "SecondLife-kwh" not in m.variables:
        return {}
    sol = m.variables["SecondLife-kwh"].solution
    return {str(p): max(0.0, float(v)) for p, v in zip(sol.indexes[PLACE], sol.to_numpy(), strict=True)}


# --- the break-even price --------------------------------------------------------------------------------------


def balance_prices(m: linopy.Model, inputs: PlanInputs, where: list[str]) -> pd.DataFrame:
    """π_{j,t}: duals of the balance rows at the offer's places [currency/year per kW of load], steps × places."""
    if inputs.per_site:
        dual = m.constraints["Site-balance"].dual
        frame = pd.DataFrame(dual.to_numpy(), columns=[str(s) for s in dual.indexes[SITE]])
        return frame[where]
    return pd.DataFrame({TOWN: m.constraints["Bus-balance"].dual.to_numpy()})


def unit_store_value(prices: pd.DataFrame, inputs: PlanInputs, offer: SecondLifeOffer) -> pd.Series:
    """V_j = max Σ_t π_{j,t} (dis − ch) of a 1-kWh store at each place [currency/kWh/year] (module docstring).

    Cyclic over each period of ``inputs`` (the year, or each typical day: on linked typical days this keeps the
    unit store within a day, so V is then a lower bound of the value the sizing sees).
    """
    from chisan.plan.model import previous_step

    t = pd.Index(np.arange(len(prices)), name=SNAPSHOT)
    pi = pd.Index(prices.columns, name=PLACE)
    price = xr.DataArray(prices.to_numpy(float), coords=[t, pi])
    m = linopy.Model(force_dim_names=True)
    c = float(offer.max_c_rate_per_h)
    soc = m.add_variables(lower=0, upper=1.0, coords=[t, pi], name="soc")
    ch = m.add_variables(lower=0, upper=c, coords=[t, pi], name="ch")
    dis = m.add_variables(lower=0, upper=c, coords=[t, pi], name="dis")
    prev = xr.DataArray(previous_step(inputs.period), dims=SNAPSHOT)
    before = soc.isel({SNAPSHOT: prev}).assign_coords({SNAPSHOT: t})
    eta, dt = offer.efficiency, inputs.dt_hours
    m.add_constraints(soc - before - (eta * dt) * ch + (dt / eta) * dis == 0, name="balance")
    m.add_objective((price * (ch - dis)).sum())
    with quiet_highs():
        m.solve(solver_name="highs", io_api="direct", output_flag=False)
    earned = price * (dis.solution - ch.solution)
    return pd.Series(earned.sum(SNAPSHOT).to_numpy(), index=list(pi), name="value_per_kwh_year")


def forced_value(m: linopy.Model, inputs: PlanInputs, place: str, kwh: float = FORCED_KWH) -> float:
    """Value of the first ``kwh`` of second life at ``place`` measured on the primal [currency/kWh/year].

    ``m`` is the solved model of ``inputs`` (``build_model(inputs)``, as the plan solves it); the same model is
    built again with ``kwh`` [kWh] fixed at ``place`` (0 elsewhere) and solved: the value is
    a − (φ(kwh) − φ(0)) / kwh, the offer's annual cost less the cost the kWh adds (module docstring, degenerate
    duals). NaN when that model does not solve to optimality.
    """
    from chisan.plan.model import build_model

    offer = offer_of(inputs)
    forced = with_fixed_capacity(inputs, {p: (kwh if p == place else 0.0) for p in places(inputs, offer)})
    mf = build_model(forced)
    with quiet_highs():
        _, condition = mf.solve(solver_name="highs", io_api="direct", output_flag=False)
    if str(condition) != "optimal":
        return math.nan
    added = (float(mf.objective.value) - float(m.objective.value)) / kwh
    return offer.annual_cost_per_kwh - added


def break_even(m: linopy.Model, inputs: PlanInputs) -> dict | None:
    """Why the plan uses the offer or not, from the duals of a solved model ``m`` (module docstring).

    ``m`` must be ``build_model(inputs)`` solved: an unused offer is valued again on the primal
    (:func:`forced_value`), with that model built and solved once more per place measured (module docstring).

    Returns
    -------
    dict or None
        ``offered_kwh``, ``used_kwh``, ``used_kwh_by_site``, ``price_per_kwh`` (offered, up front),
        ``annual_cost_per_kwh`` (a), ``value_per_kwh_year_by_site`` (V_j), ``best_site``,
        ``value_per_kwh_year`` (max V_j), ``break_even_price_per_kwh`` ((max V − O&M) / CRF),
        ``offer_dual_per_kwh_year`` (λ ≥ 0), ``dual_value_per_kwh_year_by_site`` (V_j from the duals),
        ``value_method`` (``"duals"``, or ``"1 kWh forced in at …"``: the places valued by the primal re-solve),
        ``used`` (bool), ``reason`` (one sentence); None without an offer.
    """
    offer = offer_of(inputs)
    if offer is None or "SecondLife-kwh" not in m.variables:
        return None
    where = places(inputs, offer)
    dual_value = unit_store_value(balance_prices(m, inputs, where), inputs, offer)
    value = dual_value.copy()
    used = capacity_of(m)
    total = float(sum(used.values()))
    lam = 0.0
    if "SecondLife-offer" in m.constraints:
        lam = max(0.0, -float(m.constraints["SecondLife-offer"].dual))
    method = "duals"
    measured: dict[str, float] = {}
    if total <= 1e-3:  # unused: the primal says what the first kWh saves (module docstring, degenerate duals)
        kwh = min(FORCED_KWH, float(offer.offered_kwh))
        for p in dual_value.sort_values(ascending=False).index:
            # V_j from the duals bounds the value at j from above: a place that cannot beat the best found is skipped
            if dual_value[p] <= 1e-9 * max(1.0, offer.annual_cost_per_kwh) or dual_value[p] <= max(
                measured.values(), default=-math.inf
            ):
                break
            primal = forced_value(m, inputs, str(p), kwh)
            if math.isfinite(primal):
                measured[str(p)] = max(0.0, min(float(dual_value[p]), primal))
        if measured:
            method = f"{kwh:g} kWh forced in at {', '.join(measured)}"
            for p, x in measured.items():
                value[p] = x
    best = max(measured, key=measured.get) if measured else str(value.idxmax())
    v = float(value[best])
    breakeven = (v - offer.fixed_om_per_kwh_year) / offer.crf_per_year
    is_used = total > 1e-3
    if is_used and lam > 1e-9 * max(1.0, offer.annual_cost_per_kwh):
        reason = (
            f"used in full: {total:,.1f} of {offer.offered_kwh:,.1f} kWh offered; one more kWh would be worth "
            f"{offer.annual_cost_per_kwh + lam:,.0f} /kWh/year against its cost of {offer.annual_cost_per_kwh:,.0f}"
        )
    elif is_used and abs(v - offer.annual_cost_per_kwh) <= 0.01 * max(1.0, offer.annual_cost_per_kwh):
        reason = (
            f"used in part: {total:,.1f} of {offer.offered_kwh:,.1f} kWh offered, up to where one more kWh is worth "
            f"its cost of {offer.annual_cost_per_kwh:,.0f} /kWh/year (V = {v:,.0f}: break-even price = the offered "
            f"{offer.price_per_kwh:,.0f} /kWh)"
        )
    elif is_used:  # a size chosen elsewhere (the typical-day sizing of a two-stage plan), valued on this year
        side = "more" if v > offer.annual_cost_per_kwh else "less"
        reason = (
            f"used in part: {total:,.1f} of {offer.offered_kwh:,.1f} kWh offered (the size chosen on typical days); "
            f"on the full year one more kWh would be worth {v:,.0f} /kWh/year, {side} than its cost of "
            f"{offer.annual_cost_per_kwh:,.0f} (break-even price {breakeven:,.0f} /kWh against "
            f"{offer.price_per_kwh:,.0f} offered)"
        )
    else:
        reason = (
            f"not used: the first kWh of second-life storage would save {v:,.0f} /kWh/year at {best} "
            f"(break-even price {breakeven:,.0f} /kWh up front), less than its cost of "
            f"{offer.annual_cost_per_kwh:,.0f} /kWh/year (offered at {offer.price_per_kwh:,.0f} /kWh over "
            f"{offer.lifetime_years:g} years)"
        )
        if best in measured and v < float(dual_value[best]) - 1e-6 * max(1.0, offer.annual_cost_per_kwh):
            reason += (
                f"; measured with {min(FORCED_KWH, float(offer.offered_kwh)):g} kWh forced in, as the duals are "
                f"degenerate there (they gave {float(dual_value[best]):,.0f})"
            )
    return {
        "offered_kwh": float(offer.offered_kwh),
        "used_kwh": total,
        "used_kwh_by_site": used,
        "price_per_kwh": float(offer.price_per_kwh),
        "annual_cost_per_kwh": float(offer.annual_cost_per_kwh),
        "value_per_kwh_year_by_site": {str(k): float(x) for k, x in value.items()},
        "best_site": best,
        "value_per_kwh_year": v,
        "break_even_price_per_kwh": float(breakeven),
        "offer_dual_per_kwh_year": lam,
        "dual_value_per_kwh_year_by_site": {str(k): float(x) for k, x in dual_value.items()},
        "value_method": method,
        "round_trip_efficiency": float(offer.round_trip_efficiency),
        "used": is_used,
        "reason": reason,
    }


# --- two-stage plans: the store's year from the aggregate year, as a fixed load of the per-vehicle dispatch -----


def fold_into_load(inputs: PlanInputs, m: linopy.Model) -> tuple[PlanInputs, dict[str, np.ndarray]]:
    """The inputs of the per-vehicle dispatch with the second-life store's schedule of ``m`` as a fixed load.

    The year-long aggregate dispatch (``m``) decides the store's charge and discharge; the per-vehicle windows
    then see dis − ch as negative other load at its site, and the schedule joins the solution's values so the
    after-solve check rebuilds every balance with it.
    """
    offer = offer_of(inputs)
    if offer is None or "SecondLife-kwh" not in m.variables:
        return inputs, {}
    values = values_of(m)
    where = [str(p) for p in m.variables["SecondLife-kwh"].indexes[PLACE]]
    net = values["SecondLife-discharge_kw"] - values["SecondLife-charge_kw"]
    out = with_offer(inputs, None)
    if inputs.per_site:
        unknown = [p for p in where if p not in set(map(str, inputs.sites.index))]
        if unknown:
            raise ScenarioError(
                "second-life storage needs the sizing on the real sites; the town's sites were grouped for sizing "
                f"({', '.join(unknown)}): use at most 8 metered sites or solver.method = 'full'"
            )
        load = inputs.site_other_load_kw.copy()
        for j, p in enumerate(where):
            load[p] = load[p].to_numpy(float) - net[:, j]
        out = dataclasses.replace(out, site_other_load_kw=load, other_load_kw=inputs.other_load_kw - net.sum(axis=1))
    else:
        out = dataclasses.replace(out, other_load_kw=inputs.other_load_kw - net.sum(axis=1))
    values["_second_life_kwh"] = capacity_of(m)
    return out, values


def site_terms(inputs: PlanInputs, values: dict[str, np.ndarray]) -> np.ndarray | None:
    """dis − ch of the solution at each metered site [kW], steps × sites (None without second life)."""
    if "SecondLife-charge_kw" not in values or not inputs.per_site:
        return None
    offer = offer_of(inputs)
    where = places(inputs, offer) if offer is not None else [str(s) for s in inputs.sites.index]
    net = values["SecondLife-discharge_kw"] - values["SecondLife-charge_kw"]
    sites = [str(s) for s in inputs.sites.index]
    out = np.zeros((net.shape[0], len(sites)))
    for j, p in enumerate(where[: net.shape[1]]):
        out[:, sites.index(p)] += net[:, j]
    return out


def town_net_output(values: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Σ over places of dis − ch [kW] per step (zeros without second life)."""
    if "SecondLife-charge_kw" not in values:
        return np.zeros(n)
    return (values["SecondLife-discharge_kw"] - values["SecondLife-charge_kw"]).sum(axis=1)


def energy_error_kwh(inputs: PlanInputs, values: dict[str, np.ndarray], capacity_kwh: dict[str, float]) -> float:
    """Largest error of the store's energy rebuilt step by step (cyclic) or above its capacity [kWh]."""
    offer = offer_of(inputs)
    if offer is None or "SecondLife-energy_kwh" not in values:
        return 0.0
    soc = values["SecondLife-energy_kwh"]
    prev = np.roll(soc, 1, axis=0)
    eta, dt = offer.efficiency, inputs.dt_hours
    rebuilt = prev + eta * values["SecondLife-charge_kw"] * dt - values["SecondLife-discharge_kw"] * dt / eta
    where = places(inputs, offer)
    cap = np.array([capacity_kwh.get(p, 0.0) for p in where])[None, : soc.shape[1]]
    over = max(float((soc - cap).max(initial=0.0)), 0.0)
    power = np.maximum(values["SecondLife-charge_kw"], values["SecondLife-discharge_kw"])
    over_kw = float((power - offer.max_c_rate_per_h * cap).max(initial=0.0)) * dt
    return max(float(np.abs(rebuilt - soc).max(initial=0.0)), over, over_kw)
