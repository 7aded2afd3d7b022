"""Hydrogen as a second carrier of the plan: electrolyser, compressor, store, dispenser and fuel-cell vehicles.

Formulation (DESIGN.md §11 and §14; PyPSA's Link and Store are the reference, :func:`add_hydrogen_to_pypsa`
builds the same problem there). Hydrogen is counted in kWh of its lower heating value inside the model, so every
``_kw``/``_kwh`` name holds (1 kg = :data:`LHV_KWH_PER_KG` kWh); reports convert to kg.

One hydrogen station at one site (``HydrogenInputs.site``; the town bus with one meter). Per step t:

- ``Hydrogen-electrolyser_limit``: p_t ≤ P (electric input [kW]); ``Hydrogen-electrolyser_min_load``:
  p_t ≥ m · P — the minimum load is a *linear* fraction of the capacity (no on/off decision, as PyPSA's
  ``p_min_pu`` of an extendable Link): with m > 0 the stack never stops.
- hydrogen made: η p_t with η = LHV / (kWh per kg) [kW H2 per kW electric]; the compressor takes c / (kWh per kg)
  kW electric per kW electric of the electrolyser (c = compressor kWh/kg; delivered hydrogen arrives compressed).
- ``Hydrogen-store_balance``: e_t = e_{t−1} + (ch_t − dis_t) Δt, 0 ≤ e_t ≤ E, cyclic (no standing loss).
- fuel-cell vehicles: each duty's hydrogen is dispensed at the site in the steps the vehicle stands there before
  that duty (since its previous duty left; the "refuelling window"). Written as a tank balance
  ``Hydrogen-tank_balance``: h_{v,t} = h_{v,t−1} + f_{v,t} Δt − draw_{v,t}, 0 ≤ h ≤ tank, with h = 0 after every
  departure step, so that Σ_{t∈window} f Δt = the duty's need exactly; f ≤ the vehicle's fill rate and f = 0 away.
- ``Hydrogen-dispenser_limit``: Σ_v f_{v,t} ≤ D (dispenser capacity [kW H2]).
- ``Hydrogen-balance``: η p_t + bought_t + dis_t − ch_t − Σ_v f_{v,t} = 0.
- the electricity of electrolyser and compressor, (1 + c / kWh per kg) p_t, is a load on the site's meter
  (``Site-balance``) or the town bus (``Bus-balance``).

Objective terms: annualised electrolyser (with stack replacements), store and dispenser capacity; bought hydrogen
at its price per kWh.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import SimpleNamespace

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from chisan.exceptions import ScenarioError
from chisan.plan.inputs import Capacity

LHV_KWH_PER_KG = 33.33
"""Lower heating value of hydrogen [kWh/kg]: 120 MJ/kg / 3.6 MJ/kWh. Consistent with the US DOE Hydrogen and Fuel
Cell Technologies Office's technical targets for liquid alkaline electrolysis, which state 55 kWh/kg as 61 % LHV
(https://www.energy.gov/eere/fuelcells/technical-targets-liquid-alkaline-electrolysis)."""

SNAPSHOT = "snapshot"
FCV = "fcv"
SITE = "site"

HYDROGEN_CAPACITIES = ("electrolyser_kw", "h2_storage_kwh", "h2_dispenser_kw")
"""Sizable hydrogen capacities: electrolyser [kW electric in], store [kWh LHV], dispenser [kW LHV]."""

HYDROGEN_VARIABLES = (
    "Hydrogen-electrolyser_kw",
    "Hydrogen-bought_kw",
    "Hydrogen-store_energy_kwh",
    "Hydrogen-store_charge_kw",
    "Hydrogen-store_discharge_kw",
    "Hydrogen-dispense_kw",
    "Hydrogen-tank_kwh",
)
"""Per-step hydrogen variables kept in a solution's values (kW or kWh of LHV; the electrolyser in kW electric)."""

ELECTRICITY_PRICE = "Hydrogen-electricity_value"
"""Key of the dual of the hydrogen site's electricity balance in a solution's values [currency/year per kW]."""


@dataclass
class HydrogenInputs:
    """Everything the hydrogen part of the model needs, on the plan's snapshots.

    Attributes
    ----------
    site : str or None
        Site whose meter the electrolyser and compressor are behind (metered sites); None with one town meter.
    capacities : dict[str, Capacity]
        ``electrolyser_kw`` [kW electric], ``h2_storage_kwh`` [kWh LHV], ``h2_dispenser_kw`` [kW LHV].
    electrolyser_kwh_per_kg : float
        Electricity per kg of hydrogen made by the electrolyser system [kWh/kg].
    compressor_kwh_per_kg : float
        Electricity to compress one kg made on site [kWh/kg].
    min_load_fraction : float
        Least electrolyser load as a fraction of its capacity [-] (linear: the stack never stops when > 0).
    bought_price_per_kwh : float or None
        Price of hydrogen delivered [currency/kWh LHV]; None = none can be bought.
    vehicles : pandas.DataFrame
        Index fuel-cell vehicle id; ``fleet``, ``tank_kwh`` [kWh LHV], ``max_fill_kw`` [kW LHV].
    at_site : pandas.DataFrame
        True where the vehicle stands at the site for the whole step (may refuel), snapshots × vehicles.
    draw_kwh : pandas.DataFrame
        Hydrogen each duty takes from the tank in the step it starts [kWh LHV], snapshots × vehicles.
    duties : pandas.DataFrame or None
        One row per duty (``vehicle``, ``start``, ``end``, ``distance_km``, ``hydrogen_kg``), for reports.
    demand_kw : pandas.Series or None
        Hydrogen dispensed per step [kW LHV] when the vehicles are not modelled one by one (the typical days of
        the two-stage sizing, :mod:`chisan.plan.hydrogen_stages`); None = the vehicles' tanks decide it.
    """

    site: str | None
    capacities: dict[str, Capacity]
    electrolyser_kwh_per_kg: float
    compressor_kwh_per_kg: float
    min_load_fraction: float
    bought_price_per_kwh: float | None
    vehicles: pd.DataFrame
    at_site: pd.DataFrame
    draw_kwh: pd.DataFrame
    duties: pd.DataFrame | None = None
    demand_kw: pd.Series | None = None

    def __post_init__(self) -> None:
        for name in HYDROGEN_CAPACITIES:
            self.capacities.setdefault(name, Capacity(enabled=False))
        ids = list(self.vehicles.index.astype(str))
        for name in ("at_site", "draw_kwh"):
            frame = getattr(self, name)
            if [str(c) for c in frame.columns] != ids:
                raise ScenarioError(f"HydrogenInputs.{name} must have one column per fuel-cell vehicle, in order")
        if self.electrolyser_kwh_per_kg < LHV_KWH_PER_KG:
            raise ScenarioError(
                f"technologies.electrolyser.kwh_per_kg = {self.electrolyser_kwh_per_kg:g} is not allowed; it must "
                f"be ≥ the lower heating value {LHV_KWH_PER_KG} kWh/kg (an efficiency above 100 % LHV)"
            )

    @property
    def efficiency(self) -> float:
        """Hydrogen made per electricity into the electrolyser [kW LHV / kW] = LHV / kWh per kg."""
        return LHV_KWH_PER_KG / self.electrolyser_kwh_per_kg

    @property
    def electricity_per_kw(self) -> float:
        """Electricity drawn per kW into the electrolyser, compressor included [-] = 1 + c / kWh per kg."""
        return 1.0 + self.compressor_kwh_per_kg / self.electrolyser_kwh_per_kg

    def with_capacities_fixed(self, values: dict[str, float]) -> HydrogenInputs:
        """A copy with the given hydrogen capacities fixed (others unchanged)."""
        caps = {k: (c.fixed_at(values[k]) if k in values and c.enabled else c) for k, c in self.capacities.items()}
        return dataclasses.replace(self, capacities=caps)


def stack_replacement_factor(discount_rate: float, lifetime_years: float, stack_lifetime_years: float) -> float:
    """Present value of the stack replacements within the system's life, per unit of replacement cost [-].

    Σ_k (1 + r)^(−k·S) over k = 1, 2, … with k·S < N (S = stack life, N = system life): a replacement due in the
    system's last year or later is not made. Multiply by the stack's share of the capital cost and the capital
    recovery factor of the system to annualise (the replacement-cost treatment of NREL's H2A production model,
    DOE Hydrogen Program Record 19009, 2020).
    """
    if stack_lifetime_years <= 0 or stack_lifetime_years >= lifetime_years:
        return 0.0
    k = np.arange(1, int(np.ceil(lifetime_years / stack_lifetime_years)) + 1)
    k = k[k * stack_lifetime_years < lifetime_years - 1e-9]
    return float(np.sum((1.0 + discount_rate) ** (-k * stack_lifetime_years)))


# --- duties of fuel-cell vehicles -------------------------------------------------------------------------------


def duty_series(
    duties: pd.DataFrame, vehicle_ids: list[str], snapshots: pd.DatetimeIndex, dt_hours: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """At-site mask and hydrogen drawn per step of each fuel-cell vehicle, from its duties.

    Parameters
    ----------
    duties : pandas.DataFrame
        ``vehicle``, ``start``, ``end`` (tz-aware), ``hydrogen_kwh`` [kWh LHV].
    vehicle_ids : list of str
        The vehicles, in column order.

    Returns
    -------
    at_site, draw_kwh : pandas.DataFrame
        Snapshots × vehicles: True where the vehicle is at the site for the whole step; the duty's hydrogen in the
        step it starts [kWh LHV] (the same rules as the battery vehicles' bookings,
        :func:`chisan.mobility.availability.vehicle_timeseries`).
    """
    from chisan.mobility.availability import vehicle_timeseries

    bookings = pd.DataFrame(
        {
            "vehicle_id": duties["vehicle"].astype(str).to_numpy(),
            "start": duties["start"].to_numpy(),
            "end": duties["end"].to_numpy(),
            "trip_energy_kwh": duties["hydrogen_kwh"].to_numpy(float),
        }
    )
    bookings["start"] = pd.DatetimeIndex(duties["start"])
    bookings["end"] = pd.DatetimeIndex(duties["end"])
    fleet = SimpleNamespace(bookings=bookings, vehicles=pd.DataFrame({"vehicle_id": vehicle_ids}))
    series = vehicle_timeseries(fleet, snapshots, dt_hours)
    return series.plugged, series.trip_energy_kwh


def refuelling_windows(h: HydrogenInputs, dt_hours: float) -> pd.DataFrame:
    """Each duty's refuelling window: the hydrogen it needs and the most that can be dispensed before it.

    The window of a duty is the set of steps the vehicle stands at the site after its previous duty's departure
    step (cyclic over the horizon, like the vehicles' energy) and before the duty's own departure step.

    Returns
    -------
    pandas.DataFrame
        One row per departure step with a draw: ``vehicle``, ``step``, ``need_kwh`` [kWh LHV], ``window_h`` [h],
        ``possible_kwh`` = min(tank, fill rate × window) [kWh LHV].
    """
    at = h.at_site.to_numpy(bool)
    draw = h.draw_kwh.to_numpy(float)
    cum = np.cumsum(at, axis=0)  # at-site steps up to and including each step
    rows = []
    for j, vid in enumerate(h.vehicles.index.astype(str)):  # vehicles, not time: each vehicle's departures at once
        steps = np.flatnonzero(draw[:, j] > 0)
        if not len(steps):
            continue
        prev = np.roll(steps, 1)
        count = cum[steps, j] - cum[prev, j]
        count[0] = cum[steps[0], j] + cum[-1, j] - cum[steps[-1], j]  # the first window wraps around the horizon
        window_h = count * dt_hours
        tank = float(h.vehicles.at[vid, "tank_kwh"])
        fill = float(h.vehicles.at[vid, "max_fill_kw"])
        rows.append(
            pd.DataFrame(
                {
                    "vehicle": vid,
                    "step": steps,
                    "need_kwh": draw[steps, j],
                    "window_h": window_h,
                    "possible_kwh": np.minimum(tank, fill * window_h),
                }
            )
        )
    cols = ["vehicle", "step", "need_kwh", "window_h", "possible_kwh"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def check_refuelling_windows(h: HydrogenInputs, snapshots: pd.DatetimeIndex, dt_hours: float) -> None:
    """Raise a ScenarioError naming the vehicle and the day of the first duty its refuelling window cannot fill.

    A duty is infeasible when its hydrogen exceeds the tank or the fill rate × the hours at the site before it.
    """
    windows = refuelling_windows(h, dt_hours)
    if windows.empty:
        return
    bad = windows[windows["need_kwh"] > windows["possible_kwh"] + 1e-9]
    if bad.empty:
        return
    row = bad.sort_values(["step", "vehicle"], kind="stable").iloc[0]
    vid = str(row["vehicle"])
    when = snapshots[int(row["step"])]
    if h.duties is not None and len(h.duties):  # the duty's own departure time, not its step's start
        starts = pd.DatetimeIndex(h.duties["start"]).tz_convert(snapshots.tz)
        mine = (h.duties["vehicle"].astype(str).to_numpy() == vid) & (starts >= when)
        mine &= starts < when + pd.Timedelta(hours=dt_hours)
        if mine.any():
            when = starts[mine].min()
    tank_kg = float(h.vehicles.at[vid, "tank_kwh"]) / LHV_KWH_PER_KG
    fill_kg_h = float(h.vehicles.at[vid, "max_fill_kw"]) / LHV_KWH_PER_KG
    need_kg = float(row["need_kwh"]) / LHV_KWH_PER_KG
    hours = float(row["window_h"])
    if need_kg > tank_kg + 1e-9:
        why = f"more than its tank holds ({tank_kg:.1f} kg)"
    else:
        why = (
            f"but it stands at the hydrogen station for only {hours:g} h of whole steps before it, which fills at "
            f"most {fill_kg_h * hours:.1f} kg at {fill_kg_h:g} kg/h"
        )
    raise ScenarioError(
        f"fuel-cell vehicle {vid!r}: its duty leaving on {when:%Y-%m-%d} at {when:%H:%M} needs {need_kg:.1f} kg of "
        f"hydrogen, {why}; {len(bad)} duties cannot be refuelled in all. Allowed: a duty's hydrogen within the tank "
        "and within what the fill rate dispenses in the hours the vehicle is at the site before it: give the "
        "vehicle a longer stop before that duty, or split the duty"
    )


# --- the model ----------------------------------------------------------------------------------------------------


def _t(inputs) -> pd.Index:
    return pd.Index(np.arange(len(inputs.snapshots)), name=SNAPSHOT)


def _fcv_frame(inputs, frame: pd.DataFrame, dtype=float) -> xr.DataArray:
    vi = pd.Index(frame.columns.astype(str), name=FCV)
    return xr.DataArray(frame.to_numpy(dtype=dtype), coords=[_t(inputs), vi])


def _cap(m: linopy.Model, name: str):
    var = f"Capacity-{name}"
    return m.variables[var] if var in m.variables else None  # noqa: SIM401 (Variables has no .get)


def define_hydrogen_capacity_variables(m: linopy.Model, inputs) -> None:
    """Electrolyser, store and dispenser capacities with their bounds (``Capacity-<name>``)."""
    for name, cap in inputs.hydrogen.capacities.items():
        if cap.enabled:
            m.add_variables(lower=cap.lower, upper=cap.upper, name=f"Capacity-{name}")


def define_electrolyser_constraints(m: linopy.Model, inputs) -> None:
    """Electrolyser load within its capacity and above its minimum load (``Hydrogen-electrolyser_*``)."""
    cap = _cap(m, "electrolyser_kw")
    if cap is None:
        return
    h = inputs.hydrogen
    p = m.add_variables(lower=0, coords=[_t(inputs)], name="Hydrogen-electrolyser_kw")
    m.add_constraints(p - cap <= 0, name="Hydrogen-electrolyser_limit")
    if h.min_load_fraction > 0:
        m.add_constraints(p - h.min_load_fraction * cap >= 0, name="Hydrogen-electrolyser_min_load")


def define_hydrogen_store_constraints(m: linopy.Model, inputs) -> None:
    """Hydrogen store: e_t = e_{t−1} + (ch − dis) Δt, e ≤ E, cyclic (``Hydrogen-store_*``)."""
    from chisan.plan.model import _previous

    cap = _cap(m, "h2_storage_kwh")
    if cap is None:
        return
    from chisan.plan.model_parts import define_inter_period_linking

    t = _t(inputs)
    dt = inputs.dt_hours
    linked = inputs.period_order is not None  # typical days linked across the calendar (e = change since the day)
    e = m.add_variables(lower=-np.inf if linked else 0, coords=[t], name="Hydrogen-store_energy_kwh")
    ch = m.add_variables(lower=0, coords=[t], name="Hydrogen-store_charge_kw")
    dis = m.add_variables(lower=0, coords=[t], name="Hydrogen-store_discharge_kw")
    if not linked:
        m.add_constraints(e - cap <= 0, name="Hydrogen-store_limit")
    m.add_constraints(e - _previous(e, inputs, True) - dt * ch + dt * dis == 0, name="Hydrogen-store_balance")
    if linked:  # Kotzur et al. 2018 (doi:10.1016/j.apenergy.2018.01.023), as the battery storage
        define_inter_period_linking(m, inputs, "Hydrogen-store", 0.0, cap, "Hydrogen-store_")


def tank_upper_kwh(inputs) -> xr.DataArray:
    """Upper bound of each tank after each step [kWh LHV]: the tank, 0 after a departure (window model)."""
    h = inputs.hydrogen
    vi = pd.Index(h.vehicles.index.astype(str), name=FCV)
    tank = xr.DataArray(h.vehicles["tank_kwh"].to_numpy(float), coords=[vi])
    departs = _fcv_frame(inputs, h.draw_kwh) > 0
    return tank.where(~departs, 0.0).transpose(SNAPSHOT, FCV)


def define_fuel_cell_vehicle_constraints(m: linopy.Model, inputs) -> None:
    """Each fuel-cell vehicle's refuelling before each duty, as a tank balance (``Hydrogen-tank_balance``)."""
    from chisan.plan.model import _previous

    h = inputs.hydrogen
    if h.vehicles.empty:
        return
    t = _t(inputs)
    vi = pd.Index(h.vehicles.index.astype(str), name=FCV)
    at = _fcv_frame(inputs, h.at_site, dtype=bool)
    fill_kw = xr.DataArray(h.vehicles["max_fill_kw"].to_numpy(float), coords=[vi])
    tank = m.add_variables(lower=0, upper=tank_upper_kwh(inputs), coords=[t, vi], name="Hydrogen-tank_kwh")
    fill = m.add_variables(lower=0, upper=fill_kw, coords=[t, vi], name="Hydrogen-dispense_kw", mask=at)
    lhs = tank - _previous(tank, inputs, True) - inputs.dt_hours * fill.fillna(0)
    m.add_constraints(lhs == -_fcv_frame(inputs, h.draw_kwh), name="Hydrogen-tank_balance")


def define_dispenser_constraints(m: linopy.Model, inputs) -> None:
    """Hydrogen dispensed per step within the dispenser's capacity (``Hydrogen-dispenser_limit``)."""
    cap = _cap(m, "h2_dispenser_kw")
    demand = inputs.hydrogen.demand_kw
    if demand is not None:  # typical days: a fixed demand, the dispenser at least its peak
        if cap is not None:
            peak_kw = float(np.max(demand.to_numpy(float), initial=0.0))
            m.add_constraints(cap >= peak_kw, name="Hydrogen-dispenser_limit")
        return
    if "Hydrogen-dispense_kw" not in m.variables:
        return
    total = m.variables["Hydrogen-dispense_kw"].fillna(0).sum(FCV)
    if cap is None:
        m.add_constraints(total <= 0, name="Hydrogen-dispenser_limit")
    else:
        m.add_constraints(total - cap <= 0, name="Hydrogen-dispenser_limit")


def define_hydrogen_balance(m: linopy.Model, inputs) -> None:
    """Hydrogen made + bought + from the store = to the store + dispensed, every step (``Hydrogen-balance``)."""
    h = inputs.hydrogen
    t = _t(inputs)
    terms = []
    if "Hydrogen-electrolyser_kw" in m.variables:
        terms.append(h.efficiency * m.variables["Hydrogen-electrolyser_kw"])
    if h.bought_price_per_kwh is not None:
        terms.append(1.0 * m.add_variables(lower=0, coords=[t], name="Hydrogen-bought_kw"))
    if "Hydrogen-store_energy_kwh" in m.variables:
        terms.append(1.0 * m.variables["Hydrogen-store_discharge_kw"])
        terms.append(-1.0 * m.variables["Hydrogen-store_charge_kw"])
    if "Hydrogen-dispense_kw" in m.variables:
        terms.append(-1.0 * m.variables["Hydrogen-dispense_kw"].fillna(0).sum(FCV))
    if not terms:
        return
    lhs = terms[0]
    for term in terms[1:]:
        lhs = lhs + term
    demand = 0.0 if h.demand_kw is None else xr.DataArray(h.demand_kw.to_numpy(float), coords=[t])
    m.add_constraints(lhs == demand, name="Hydrogen-balance")


def define_hydrogen_constraints(m: linopy.Model, inputs) -> None:
    """All hydrogen families, in order; nothing when ``inputs.hydrogen`` is None."""
    if getattr(inputs, "hydrogen", None) is None:
        return
    define_hydrogen_capacity_variables(m, inputs)
    define_electrolyser_constraints(m, inputs)
    define_hydrogen_store_constraints(m, inputs)
    define_fuel_cell_vehicle_constraints(m, inputs)
    define_dispenser_constraints(m, inputs)
    define_hydrogen_balance(m, inputs)


def hydrogen_electricity_kw(m: linopy.Model, inputs) -> linopy.LinearExpression | None:
    """Electricity drawn by electrolyser and compressor [kW] per step; None without an electrolyser."""
    if getattr(inputs, "hydrogen", None) is None or "Hydrogen-electrolyser_kw" not in m.variables:
        return None
    return inputs.hydrogen.electricity_per_kw * m.variables["Hydrogen-electrolyser_kw"]


def hydrogen_site_electricity_kw(m: linopy.Model, inputs, sites: pd.Index) -> linopy.LinearExpression | None:
    """Electricity drawn by electrolyser and compressor [kW] placed at the hydrogen site, (snapshot, site)."""
    expr = hydrogen_electricity_kw(m, inputs)
    if expr is None:
        return None
    onehot = xr.DataArray((sites.astype(str) == str(inputs.hydrogen.site)).astype(float), coords=[sites])
    return expr * onehot


def hydrogen_objective_costs(m: linopy.Model, inputs) -> dict[str, np.ndarray]:
    """Cost per unit of the hydrogen variables [currency/year per kW or kWh], as in ``objective_costs``."""
    h = getattr(inputs, "hydrogen", None)
    if h is None:
        return {}
    costs: dict[str, np.ndarray] = {}
    for name, cap in h.capacities.items():
        if f"Capacity-{name}" in m.variables and cap.annual_cost_per_unit:
            costs[f"Capacity-{name}"] = np.array(cap.annual_cost_per_unit, dtype=float)
    if "Hydrogen-bought_kw" in m.variables and h.bought_price_per_kwh:
        wdt = inputs.weight.to_numpy(float) * inputs.dt_hours * inputs.opex_scale
        costs["Hydrogen-bought_kw"] = wdt * h.bought_price_per_kwh
    return costs


def hydrogen_capacities_of(m: linopy.Model) -> dict[str, float]:
    """Hydrogen capacities of a solved model [kW or kWh] (0 for those not in the model)."""
    out = {}
    for name in HYDROGEN_CAPACITIES:
        var = f"Capacity-{name}"
        out[name] = max(0.0, float(m.variables[var].solution)) if var in m.variables else 0.0
    return out


def hydrogen_values_of(m: linopy.Model, inputs) -> dict[str, np.ndarray]:
    """Hourly hydrogen values of a solved model, and the marginal value of electricity at the hydrogen site.

    ``Hydrogen-electricity_value`` is the dual of the site's (or town's) electricity balance [currency/year per kW
    in that step]: d(objective)/d(load). Σ_t dual_t × electricity_t is what the hydrogen's electricity is worth.
    """
    if getattr(inputs, "hydrogen", None) is None:
        return {}
    out = {
        name: np.nan_to_num(m.variables[name].solution.to_numpy()) for name in HYDROGEN_VARIABLES if name in m.variables
    }
    h = inputs.hydrogen
    for name in ("Site-balance", "Bus-balance"):
        if name in m.constraints:
            dual = m.constraints[name].dual
            if name == "Site-balance":
                dual = dual.sel({SITE: str(h.site)})
            out[ELECTRICITY_PRICE] = np.nan_to_num(dual.to_numpy())
            break
    return out


def hydrogen_cost(inputs, capacities: dict[str, float], values: dict[str, np.ndarray]) -> float:
    """The hydrogen terms of the objective evaluated on a solution [currency/year]."""
    h = getattr(inputs, "hydrogen", None)
    if h is None:
        return 0.0
    total = sum(h.capacities[k].annual_cost_per_unit * capacities.get(k, 0.0) for k in HYDROGEN_CAPACITIES)
    if "Hydrogen-bought_kw" in values and h.bought_price_per_kwh:
        wdt = inputs.weight.to_numpy(float) * inputs.dt_hours * inputs.opex_scale
        total += float((wdt * values["Hydrogen-bought_kw"]).sum() * h.bought_price_per_kwh)
    return float(total)


def electricity_drawn_kw(inputs, values: dict[str, np.ndarray]) -> np.ndarray:
    """Electricity of electrolyser and compressor per step [kW] from a solution's values (zeros without)."""
    n = len(inputs.snapshots)
    h = getattr(inputs, "hydrogen", None)
    if h is None or "Hydrogen-electrolyser_kw" not in values:
        return np.zeros(n)
    return h.electricity_per_kw * np.asarray(values["Hydrogen-electrolyser_kw"], dtype=float)


def hydrogen_balance_residual_kw(inputs, values: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rebuilt hydrogen balance per step: (made + bought + from store − to store − dispensed, largest flow) [kW]."""
    h = inputs.hydrogen
    n = len(inputs.snapshots)
    zeros = np.zeros(n)
    made = h.efficiency * values.get("Hydrogen-electrolyser_kw", zeros)
    bought = values.get("Hydrogen-bought_kw", zeros)
    dis = values.get("Hydrogen-store_discharge_kw", zeros)
    ch = values.get("Hydrogen-store_charge_kw", zeros)
    dispensed = values["Hydrogen-dispense_kw"].sum(axis=1) if "Hydrogen-dispense_kw" in values else zeros
    supply, demand = made + bought + dis, ch + dispensed
    return supply - demand, np.maximum(supply, demand)


# --- the same problem in PyPSA ------------------------------------------------------------------------------------


def add_hydrogen_to_pypsa(n, inputs, electricity_bus: str) -> None:
    """Add the hydrogen station and its fuel-cell vehicles to a PyPSA network built by ``to_pypsa``.

    Mapping: bus ``h2`` (carrier H2); electrolyser = extendable ``Link`` ``electricity_bus → h2`` with efficiency
    η, ``p_min_pu`` = minimum load, and the compressor as its ``bus2`` = ``electricity_bus`` with ``efficiency2``
    = −c / kWh per kg (electricity taken); store = extendable cyclic ``Store`` on ``h2``; dispenser = extendable
    ``Link`` ``h2 → h2_dispenser``; each vehicle: bus ``fcv:<id>``, a fill ``Link`` from ``h2_dispenser`` with
    ``p_max_pu`` = at-site mask, a cyclic ``Store`` with ``e_max_pu`` = 0 after departures, and a ``Load`` of its
    draws; bought hydrogen = ``Generator`` on ``h2`` at its price.
    """
    h = inputs.hydrogen
    snaps = n.snapshots
    dt = inputs.dt_hours

    def series(values) -> pd.Series:
        return pd.Series(np.asarray(values, dtype=float), index=snaps)

    def ext(cap: Capacity) -> dict:
        return dict(
            p_nom_extendable=cap.lower != cap.upper,
            p_nom=cap.lower,
            p_nom_min=cap.lower,
            p_nom_max=cap.upper,
            capital_cost=cap.annual_cost_per_unit,
        )

    n.add("Carrier", "H2")
    n.add("Bus", "h2", carrier="H2")
    n.add("Bus", "h2_dispenser", carrier="H2")
    el = h.capacities["electrolyser_kw"]
    if el.enabled:
        n.add(
            "Link",
            "electrolyser",
            bus0=electricity_bus,
            bus1="h2",
            bus2=electricity_bus,
            efficiency=h.efficiency,
            efficiency2=-h.compressor_kwh_per_kg / h.electrolyser_kwh_per_kg,
            p_min_pu=h.min_load_fraction,
            **ext(el),
        )
    st = h.capacities["h2_storage_kwh"]
    if st.enabled:
        n.add(
            "Store",
            "h2_store",
            bus="h2",
            e_cyclic=True,
            e_nom_extendable=st.lower != st.upper,
            e_nom=st.lower,
            e_nom_min=st.lower,
            e_nom_max=st.upper,
            capital_cost=st.annual_cost_per_unit,
        )
    dp = h.capacities["h2_dispenser_kw"]
    n.add("Link", "dispenser", bus0="h2", bus1="h2_dispenser", **(ext(dp) if dp.enabled else {"p_nom": 0.0}))
    if h.bought_price_per_kwh is not None:
        n.add("Generator", "h2_bought", bus="h2", p_nom=1e7, marginal_cost=h.bought_price_per_kwh)
    at = h.at_site.to_numpy(float)
    draw = h.draw_kwh.to_numpy(float)
    for j, vid in enumerate(h.vehicles.index.astype(str)):
        bus = f"fcv:{vid}"
        n.add("Bus", bus, carrier="H2")
        n.add(
            "Link",
            f"fill:{vid}",
            bus0="h2_dispenser",
            bus1=bus,
            p_nom=float(h.vehicles.at[vid, "max_fill_kw"]),
            p_max_pu=series(at[:, j]),
        )
        n.add(
            "Store",
            f"tank:{vid}",
            bus=bus,
            e_nom=float(h.vehicles.at[vid, "tank_kwh"]),
            e_cyclic=True,
            e_max_pu=series(np.where(draw[:, j] > 0, 0.0, 1.0)),
        )
        n.add("Load", f"duties:{vid}", bus=bus, p_set=series(draw[:, j] / dt))


def build_hydrogen_inputs(
    duties: pd.DataFrame,
    vehicles: pd.DataFrame,
    snapshots: pd.DatetimeIndex,
    dt_hours: float,
    *,
    site: str | None,
    capacities: dict[str, Capacity],
    electrolyser_kwh_per_kg: float,
    compressor_kwh_per_kg: float = 0.0,
    min_load_fraction: float = 0.0,
    bought_price_per_kg: float | None = None,
) -> HydrogenInputs:
    """HydrogenInputs from fuel-cell duties, checked: a duty its window cannot refuel raises a ScenarioError.

    Parameters
    ----------
    duties : pandas.DataFrame
        ``vehicle``, ``start``, ``end`` (tz-aware), ``hydrogen_kg`` [kg]; optional ``distance_km`` [km].
    vehicles : pandas.DataFrame
        Index vehicle id; ``fleet``, ``tank_kg`` [kg], ``max_fill_kg_per_h`` [kg/h].
    bought_price_per_kg : float or None
        Price of delivered hydrogen [currency/kg]; None = none bought.
    """
    ids = [str(x) for x in vehicles.index]
    table = duties.assign(hydrogen_kwh=duties["hydrogen_kg"].to_numpy(float) * LHV_KWH_PER_KG)  # [kWh] = [kg] × LHV
    at_site, draw = duty_series(table, ids, snapshots, dt_hours)
    fcv = pd.DataFrame(
        {
            "fleet": vehicles["fleet"].astype(str).to_numpy() if "fleet" in vehicles else "",
            "tank_kwh": vehicles["tank_kg"].to_numpy(float) * LHV_KWH_PER_KG,
            "max_fill_kw": vehicles["max_fill_kg_per_h"].to_numpy(float) * LHV_KWH_PER_KG,
        },
        index=pd.Index(ids, name=FCV),
    )
    h = HydrogenInputs(
        site=site,
        capacities=dict(capacities),
        electrolyser_kwh_per_kg=float(electrolyser_kwh_per_kg),
        compressor_kwh_per_kg=float(compressor_kwh_per_kg),
        min_load_fraction=float(min_load_fraction),
        bought_price_per_kwh=None if bought_price_per_kg is None else float(bought_price_per_kg) / LHV_KWH_PER_KG,
        vehicles=fcv,
        at_site=at_site,
        draw_kwh=draw,
        duties=table,
    )
    check_refuelling_windows(h, snapshots, dt_hours)
    el = h.capacities["electrolyser_kw"]
    if h.draw_kwh.to_numpy().any() and (not el.enabled or el.upper <= 0) and h.bought_price_per_kwh is None:
        raise ScenarioError(
            "the fuel-cell fleets need hydrogen but the station has no source: technologies.electrolyser is disabled "
            "or limited to 0 kW and hydrogen.bought_price_per_kg is not given; allowed: enable the electrolyser "
            "(max_kw > 0) or give a price for delivered hydrogen"
        )
    return h


# --- from the scenario --------------------------------------------------------------------------------------------


def hydrogen_capacities(scenario) -> dict[str, Capacity]:
    """Annualised cost and bounds of electrolyser [kW], store [kWh LHV] and dispenser [kW LHV] of a scenario.

    Electrolyser: capex × (1 + stack share × :func:`stack_replacement_factor`) × CRF(r, life) + fixed O&M [per kW];
    store and dispenser: capex × CRF + O&M, per kg or kg/h turned into per kWh or kW of LHV (÷ 33.33).
    """
    from chisan.units import capital_recovery_factor

    r = scenario.finance.discount_rate_fraction
    tech = scenario.technologies
    el, st, dp = tech.electrolyser, tech.hydrogen_storage, tech.hydrogen_dispenser

    def bound(value, per_kg: bool) -> float | None:
        return None if value is None else float(value) * (LHV_KWH_PER_KG if per_kg else 1.0)

    def cap(annual: float, lo: float, hi: float | None, fixed: float | None, enabled: bool) -> Capacity:
        return Capacity(
            annual_cost_per_unit=annual,
            min_units=lo,
            max_units=np.inf if hi is None else hi,
            fixed_units=fixed,
            enabled=enabled,
        )

    stack = el.stack_cost_fraction * stack_replacement_factor(r, el.lifetime_years, el.stack_lifetime_years)
    el_annual = (
        el.capex_per_kw * (1.0 + stack) * capital_recovery_factor(r, el.lifetime_years) + el.fixed_om_per_kw_year
    )
    st_annual = (
        st.capex_per_kg * capital_recovery_factor(r, st.lifetime_years) + st.fixed_om_per_kg_year
    ) / LHV_KWH_PER_KG
    dp_annual = (
        dp.capex_per_kg_per_h * capital_recovery_factor(r, dp.lifetime_years) + dp.fixed_om_per_kg_per_h_year
    ) / LHV_KWH_PER_KG
    return {
        "electrolyser_kw": cap(el_annual, el.min_kw, el.max_kw, el.fixed_kw, el.enabled),
        "h2_storage_kwh": cap(st_annual, 0.0, bound(st.max_kg, True), bound(st.fixed_kg, True), st.enabled),
        "h2_dispenser_kw": cap(dp_annual, 0.0, bound(dp.max_kg_per_h, True), bound(dp.fixed_kg_per_h, True), True),
    }


def fuel_cell_duties(scenario, snapshots: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Duties and vehicles of the scenario's fuel-cell fleets.

    Each vehicle-day of a fleet's duty file is one vehicle (``<fleet>:<vehicle_day_id>``) that runs its shifts on
    every working day of the period; a shift's hydrogen [kg] = distance [km] × kg/100 km / 100.

    Returns
    -------
    duties, vehicles : pandas.DataFrame
        Duties: ``vehicle``, ``start``, ``end``, ``distance_km``, ``hydrogen_kg``; vehicles (index id):
        ``fleet``, ``vehicle_class``, ``tank_kg``, ``max_fill_kg_per_h``.
    """
    from chisan.catalogue.fuel_cell_classes import fuel_cell_class
    from chisan.depots.duties import read_nrel_vehicle_days
    from chisan.depots.schedule import lay_vehicle_days, read_shift_csv, working_days

    duty_rows, vehicle_rows = [], []
    for i, fleet in enumerate(scenario.hydrogen.fleets):
        cls = fuel_cell_class(fleet.vehicle_class, field=f"hydrogen.fleets[{i}].vehicle_class")
        path = scenario.resolve(fleet.path)
        shifts = read_nrel_vehicle_days(path) if fleet.duties == "nrel" else read_shift_csv(path)
        laid = lay_vehicle_days(
            shifts, working_days(snapshots, fleet.working_days), per_day=None, seed=0, station=fleet.name
        )
        vehicle = fleet.name + ":" + laid["vehicle_day_id"].astype(str)
        duty_rows.append(
            pd.DataFrame(
                {
                    "vehicle": vehicle.to_numpy(),
                    "start": laid["start"].to_numpy(),
                    "end": laid["end"].to_numpy(),
                    "distance_km": laid["distance_km"].to_numpy(float),
                    "hydrogen_kg": laid["distance_km"].to_numpy(float) * cls.kg_per_100km / 100.0,  # [kg]
                }
            )
        )
        ids = pd.unique(fleet.name + ":" + shifts["vehicle_day_id"].astype(str))
        vehicle_rows.append(
            pd.DataFrame(
                {
                    "fleet": fleet.name,
                    "vehicle_class": cls.vehicle_class,
                    "tank_kg": cls.tank_kg,
                    "max_fill_kg_per_h": cls.max_fill_kg_per_h,
                },
                index=pd.Index(ids, name="vehicle"),
            )
        )
    duties = pd.concat(duty_rows, ignore_index=True)
    duties["start"] = pd.DatetimeIndex(duties["start"]).tz_convert(snapshots.tz)
    duties["end"] = pd.DatetimeIndex(duties["end"]).tz_convert(snapshots.tz)
    return duties, pd.concat(vehicle_rows)


def hydrogen_inputs(
    scenario, snapshots: pd.DatetimeIndex, dt_hours: float, sites: pd.DataFrame | None
) -> HydrogenInputs | None:
    """The :class:`HydrogenInputs` of a scenario's ``[hydrogen]`` table (None without one).

    Raises
    ------
    ScenarioError
        ``hydrogen.site`` is not a site, or a duty cannot be refuelled in its window (names vehicle and day).
    """
    if scenario.hydrogen is None:
        return None
    h2 = scenario.hydrogen
    site = None
    if sites is not None:
        names = [str(x) for x in sites.index]
        site = h2.site or names[0]
        if site not in names:
            raise ScenarioError(f"hydrogen.site = {site!r} is not a site; the sites are {', '.join(names)}")
    duties, vehicles = fuel_cell_duties(scenario, snapshots)
    tech = scenario.technologies
    return build_hydrogen_inputs(
        duties,
        vehicles,
        snapshots,
        dt_hours,
        site=site,
        capacities=hydrogen_capacities(scenario),
        electrolyser_kwh_per_kg=tech.electrolyser.kwh_per_kg,
        compressor_kwh_per_kg=tech.compressor.kwh_per_kg,
        min_load_fraction=tech.electrolyser.min_load_fraction,
        bought_price_per_kg=h2.bought_price_per_kg,
    )
