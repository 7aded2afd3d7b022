"""Check a solved plan instead of trusting it: rebuild energies and balances from the dispatch alone.

Every solution — full LP or two-stage — goes through :func:`check_solution` before results are written:

1. each vehicle's energy is rebuilt from its charging and the trip energies (starting from the initial energy,
   or from the last step's for a cyclic horizon), and compared with the plan's energy;
2. every served booking starts with at least its trip energy plus the reserve (rebuilt energy);
3. vehicles charge only while plugged in, within their power, and stations within their chargers and connection;
4. the bus balance closes at every step to 1e-6 of the largest flow;
5. the storage energy is rebuilt from its charge and discharge;
6. renewable output never exceeds capacity × availability;
7. the policy targets hold on the year;
8. with hydrogen (:func:`check_hydrogen`): the hydrogen balance closes at every step to 1e-6, store and tanks
   rebuilt, every fuel-cell duty leaves with its hydrogen, fills only at the station within the dispenser.

Tolerances: HiGHS solves to a primal feasibility tolerance of 1e-7 (absolute, per row); a rebuilt energy sums
up to 8,760 such errors, so energies are compared to 1e-3 kWh (1 Wh) and balances to 1e-6 relative.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chisan.exceptions import CheckError
from chisan.plan import second_life
from chisan.plan.hydrogen import (
    LHV_KWH_PER_KG,
    electricity_drawn_kw,
    hydrogen_balance_residual_kw,
    refuelling_windows,
)
from chisan.plan.inputs import PlanInputs
from chisan.plan.solve import Solution

ENERGY_TOL_KWH = 1e-3
"""Tolerance of rebuilt energies [kWh] (1 Wh)."""

BALANCE_TOL_REL = 1e-6
"""Tolerance of balances, relative to the largest flow of the step [-]."""

POWER_TOL_KW = 1e-5
"""Tolerance of power limits [kW]."""


@dataclass
class CheckReport:
    """Results of the after-solve checks: one row per check with the worst violation and its tolerance."""

    rows: list[dict] = field(default_factory=list)

    def add(self, name: str, worst: float, tolerance: float, unit: str, detail: str = "") -> None:
        """Record one check."""
        self.rows.append(
            {
                "check": name,
                "worst": float(worst),
                "tolerance": float(tolerance),
                "unit": unit,
                "passed": bool(worst <= tolerance),
                "detail": detail,
            }
        )

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(r["passed"] for r in self.rows)

    def table(self) -> pd.DataFrame:
        """The checks as a table."""
        return pd.DataFrame(self.rows)

    def raise_if_failed(self) -> None:
        """Raise CheckError listing the failed checks."""
        failed = [r for r in self.rows if not r["passed"]]
        if failed:
            lines = "; ".join(
                f"{r['check']}: worst {r['worst']:.3g} {r['unit']} > {r['tolerance']:.3g}"
                f"{' (' + r['detail'] + ')' if r['detail'] else ''}"
                for r in failed
            )
            raise CheckError(f"the solved plan failed its checks: {lines}")


def rebuild_vehicle_energy(inputs: PlanInputs, solution: Solution) -> np.ndarray:
    """Vehicle energy after each step rebuilt from charging, V2G and trips [kWh], steps × vehicles.

    e_t = e_{t−1} + η · ch_t · Δt − dis_t · Δt / η − trip_t, from the initial energy (or, for a cyclic horizon,
    from the plan's energy after the last step).
    """
    veh = inputs.vehicles
    eta = veh["charge_efficiency"].to_numpy(float)[None, :]
    dt = inputs.dt_hours
    ch = solution.values["Vehicle-charge_kw"]
    dis = solution.values.get("Vehicle-discharge_kw", np.zeros_like(ch))
    delta = eta * ch * dt - dis * dt / eta - inputs.trip_energy_kwh.to_numpy(float)
    if solution.initial_energy_kwh is not None:
        e0 = solution.initial_energy_kwh.reindex(veh.index).to_numpy(float)
    else:
        e0 = solution.values["Vehicle-energy_kwh"][-1]
    return e0[None, :] + np.cumsum(delta, axis=0)


def check_solution(inputs: PlanInputs, solution: Solution, assignment=None) -> CheckReport:
    """Run every check on a solution; return the report (see :meth:`CheckReport.raise_if_failed`)."""
    report = CheckReport()
    v = solution.values
    dt = inputs.dt_hours
    veh = inputs.vehicles
    if "Vehicle-charge_kw" in v and len(veh):
        rebuilt = rebuild_vehicle_energy(inputs, solution)
        planned = v["Vehicle-energy_kwh"]
        report.add(
            "vehicle energy rebuilt from the dispatch = planned", np.abs(rebuilt - planned).max(), ENERGY_TOL_KWH, "kWh"
        )
        reserve = veh["reserve_kwh"].to_numpy(float)[None, :]
        usable = veh["usable_kwh"].to_numpy(float)[None, :]
        report.add("vehicle energy ≥ reserve at every step", (reserve - rebuilt).max(), ENERGY_TOL_KWH, "kWh")
        report.add("vehicle energy ≤ usable at every step", (rebuilt - usable).max(), ENERGY_TOL_KWH, "kWh")
        # every booking: energy just before its departure step ≥ trip + reserve
        trips = inputs.trip_energy_kwh.to_numpy(float)
        t_idx, v_idx = np.nonzero(trips > 0)
        before = np.where(
            t_idx > 0,
            rebuilt[np.maximum(t_idx - 1, 0), v_idx],
            rebuilt[-1, v_idx]
            if solution.initial_energy_kwh is None
            else solution.initial_energy_kwh.reindex(veh.index).to_numpy(float)[v_idx],
        )
        short = trips[t_idx, v_idx] + reserve[0, v_idx] - before
        worst = float(short.max()) if short.size else 0.0
        detail = ""
        if short.size and worst > ENERGY_TOL_KWH:
            k = int(short.argmax())
            detail = f"vehicle {veh.index[v_idx[k]]} at {inputs.snapshots[t_idx[k]]}"
        report.add(
            f"no booking starts short of trip + reserve ({short.size:,} departures)",
            worst,
            ENERGY_TOL_KWH,
            "kWh",
            detail,
        )
        ch = v["Vehicle-charge_kw"]
        plugged = inputs.plugged.to_numpy(bool)
        report.add("no charging while unplugged", np.abs(ch[~plugged]).max(initial=0.0), POWER_TOL_KW, "kW")
        pmax = veh["max_charge_kw"].to_numpy(float)[None, :]
        report.add("charging ≤ vehicle limit", (ch - pmax).max(initial=0.0), POWER_TOL_KW, "kW")
        net = ch - v.get("Vehicle-discharge_kw", np.zeros_like(ch))
        station = veh["station"].to_numpy()
        worst_station = 0.0
        for s, row in inputs.stations.iterrows():
            cols = station == s
            if not cols.any():
                continue
            total = ch[:, cols].sum(axis=1)
            worst_station = max(worst_station, float((total - row["chargers"] * row["charger_kw"]).max()))
            if pd.notna(row["connection_limit_kw"]):
                worst_station = max(
                    worst_station, float((np.abs(net[:, cols].sum(axis=1)) - row["connection_limit_kw"]).max())
                )
        report.add("stations within chargers and connection", worst_station, POWER_TOL_KW, "kW")
    n = len(inputs.snapshots)
    zeros = np.zeros(n)
    get = lambda name: v.get(name, zeros)  # noqa: E731
    charging = v["Vehicle-charge_kw"].sum(axis=1) if "Vehicle-charge_kw" in v else zeros
    v2g = v["Vehicle-discharge_kw"].sum(axis=1) if "Vehicle-discharge_kw" in v else zeros
    supply = get("PV-output_kw") + get("Wind-output_kw") + get("Storage-discharge_kw") + get("Grid-import_kw") + v2g
    supply = supply + second_life.town_net_output(v, n)  # second-life storage (dis − ch), plan/second_life.py
    demand = charging + get("Storage-charge_kw") + get("Grid-export_kw") + inputs.other_load_kw.to_numpy(float)
    demand = demand + electricity_drawn_kw(inputs, v)  # electrolyser and compressor (chisan.plan.hydrogen)
    scale = np.maximum(1.0, np.maximum(supply, demand))
    report.add("bus balance closes at every step", (np.abs(supply - demand) / scale).max(), BALANCE_TOL_REL, "relative")
    if inputs.per_site and "Site-import_kw" in v:
        _check_sites(report, inputs, solution, charging_by_vehicle=v.get("Vehicle-charge_kw"))
    caps = solution.capacities
    for name, cap, cf in (("PV", caps["pv_kw"], inputs.pv_kw_per_kw), ("wind", caps["wind_kw"], inputs.wind_kw_per_kw)):
        out = get(f"{'PV' if name == 'PV' else 'Wind'}-output_kw")
        report.add(
            f"{name} output ≤ capacity × availability",
            (out - cap * cf.to_numpy(float)).max(initial=0.0),
            POWER_TOL_KW,
            "kW",
        )
    if "SecondLife-energy_kwh" in v:
        used = (solution.details.get("second_life") or {}).get("used_kwh_by_site", {})
        err = second_life.energy_error_kwh(inputs, v, used)
        report.add("second-life storage rebuilt step by step, within its energy and power", err, ENERGY_TOL_KWH, "kWh")
    if "Storage-energy_kwh" in v:
        keep = (1.0 - inputs.storage_self_discharge_per_hour) ** dt
        soc = v["Storage-energy_kwh"]
        initial = solution.initial_storage_kwh
        start = soc[-1] if initial is None else float(np.sum(initial))  # a Series per site: the town's sum
        prev = np.r_[start, soc[:-1]]
        rebuilt = (
            keep * prev
            + inputs.storage_charge_efficiency * v["Storage-charge_kw"] * dt
            - v["Storage-discharge_kw"] * dt / inputs.storage_discharge_efficiency
        )
        report.add("storage energy rebuilt step by step", np.abs(rebuilt - soc).max(), ENERGY_TOL_KWH, "kWh")
        report.add("storage within its capacity", (soc - caps["storage_kwh"]).max(initial=0.0), ENERGY_TOL_KWH, "kWh")
        pw = np.maximum(v["Storage-charge_kw"], v["Storage-discharge_kw"])
        report.add("storage within its power", (pw - caps["storage_kw"]).max(initial=0.0), POWER_TOL_KW, "kW")
    load_kwh = float((charging + inputs.other_load_kw.to_numpy(float) + electricity_drawn_kw(inputs, v)).sum() * dt)
    if inputs.renewable_share_min:
        target = inputs.renewable_share_min
        if inputs.renewable_share_basis == "annual":
            res = float((get("PV-output_kw") + get("Wind-output_kw")).sum() * dt)
            achieved = res / load_kwh if load_kwh else np.inf
        else:
            achieved = 1.0 - float(get("Grid-import_kw").sum() * dt) / load_kwh if load_kwh else 1.0
        report.add(
            f"{inputs.renewable_share_basis} renewable share ≥ target {target:.1%}",
            target - achieved,
            BALANCE_TOL_REL,
            "fraction",
            f"achieved {achieved:.4%}",
        )
    if inputs.max_grid_import_kwh is not None:
        imp = float(get("Grid-import_kw").sum() * dt * inputs.opex_scale)
        report.add(
            "grid import ≤ cap",
            imp - inputs.max_grid_import_kwh,
            BALANCE_TOL_REL * max(1.0, inputs.max_grid_import_kwh),
            "kWh",
        )
    if inputs.max_emissions_kg is not None:
        kg = float(
            (get("Grid-import_kw") * inputs.emission_factor_kg_per_kwh.to_numpy(float)).sum() * dt * inputs.opex_scale
        )
        report.add(
            "emissions ≤ cap",
            kg - inputs.max_emissions_kg,
            BALANCE_TOL_REL * max(1.0, inputs.max_emissions_kg),
            "kg CO2e",
        )
    if inputs.hydrogen is not None:
        check_hydrogen(report, inputs, solution)
    return report


def check_hydrogen(report: CheckReport, inputs: PlanInputs, solution: Solution) -> None:
    """The hydrogen station and its fuel-cell vehicles, rebuilt from the dispatch alone.

    1. the hydrogen balance closes at every step to 1e-6 of the step's largest flow (made + bought + from the store
       = to the store + dispensed);
    2. the store's energy rebuilt step by step (cyclic) equals the plan's, within its capacity;
    3. each tank rebuilt from its fills and draws, never below 0 or above the tank; every duty leaves with its
       hydrogen: the fills in its refuelling window sum to its need (to 1 Wh);
    4. no vehicle is filled away from the site or above its fill rate, the dispenser within its capacity, the
       electrolyser within its capacity and above its minimum load.
    """
    h = inputs.hydrogen
    v = solution.values
    dt = inputs.dt_hours
    n = len(inputs.snapshots)
    caps = solution.hydrogen_capacities or {}
    residual, scale = hydrogen_balance_residual_kw(inputs, v)
    worst = np.abs(residual) / np.maximum(1.0, scale)
    k = int(worst.argmax()) if n else 0
    detail = f"at {inputs.snapshots[k]}" if n and worst[k] > BALANCE_TOL_REL else ""
    report.add("hydrogen balance closes at every step", worst.max(initial=0.0), BALANCE_TOL_REL, "relative", detail)
    if "Hydrogen-store_energy_kwh" in v:
        e = v["Hydrogen-store_energy_kwh"]
        rebuilt = np.r_[e[-1], e[:-1]] + dt * (v["Hydrogen-store_charge_kw"] - v["Hydrogen-store_discharge_kw"])
        report.add("hydrogen store rebuilt step by step", np.abs(rebuilt - e).max(), ENERGY_TOL_KWH, "kWh")
        over = (e - caps.get("h2_storage_kwh", 0.0)).max(initial=0.0)
        report.add("hydrogen store within its capacity", over, ENERGY_TOL_KWH, "kWh")
    if "Hydrogen-dispense_kw" in v and len(h.vehicles):
        fill = v["Hydrogen-dispense_kw"]
        draw = h.draw_kwh.to_numpy(float)
        tank = v["Hydrogen-tank_kwh"]
        rebuilt = tank[-1][None, :] + np.cumsum(fill * dt - draw, axis=0)
        report.add("fuel-cell tanks rebuilt from fills and duties", np.abs(rebuilt - tank).max(), ENERGY_TOL_KWH, "kWh")
        size = h.vehicles["tank_kwh"].to_numpy(float)[None, :]
        worst_tank = max(float((-rebuilt).max()), float((rebuilt - size).max()))
        report.add("fuel-cell tanks within 0 and their size", worst_tank, ENERGY_TOL_KWH, "kWh")
        # every duty: the tank just before its departure step holds its need (and is empty after it)
        windows = refuelling_windows(h, dt)
        cols = h.vehicles.index.astype(str).get_indexer(windows["vehicle"].astype(str))
        steps = windows["step"].to_numpy(int)
        before = rebuilt[(steps - 1) % n, cols] + fill[steps, cols] * dt
        short = np.abs(before - windows["need_kwh"].to_numpy(float))
        detail = ""
        if short.size and short.max() > ENERGY_TOL_KWH:
            j = int(short.argmax())
            detail = f"vehicle {windows['vehicle'].iloc[j]} leaving {inputs.snapshots[steps[j]]}"
        report.add(
            f"every fuel-cell duty leaves with its hydrogen ({len(windows):,} duties, "
            f"{windows['need_kwh'].sum() / LHV_KWH_PER_KG:,.1f} kg)",
            short.max(initial=0.0),
            ENERGY_TOL_KWH,
            "kWh",
            detail,
        )
        at = h.at_site.to_numpy(bool)
        rate = h.vehicles["max_fill_kw"].to_numpy(float)[None, :]
        report.add("no refuelling away from the station", np.abs(fill[~at]).max(initial=0.0), POWER_TOL_KW, "kW")
        report.add("refuelling ≤ vehicle fill rate", (fill - rate).max(initial=0.0), POWER_TOL_KW, "kW")
        over = (fill.sum(axis=1) - caps.get("h2_dispenser_kw", 0.0)).max(initial=0.0)
        report.add("dispenser within its capacity", over, POWER_TOL_KW, "kW")
    if "Hydrogen-electrolyser_kw" in v:
        p = v["Hydrogen-electrolyser_kw"]
        cap = caps.get("electrolyser_kw", 0.0)
        worst_el = max(float((p - cap).max(initial=0.0)), float((h.min_load_fraction * cap - p).max(initial=0.0)))
        report.add("electrolyser within its capacity and minimum load", worst_el, POWER_TOL_KW, "kW")


def _check_sites(report: CheckReport, inputs: PlanInputs, solution: Solution, charging_by_vehicle) -> None:
    """Every site's meter balances on its own, and its PV and import stay within the site's limits.

    Rebuilt from the solution's values with the site of each vehicle (its station's), not from the model's rows:
    a car that charged from another site's PV would leave its own site short here.
    """
    v = solution.values
    n = len(inputs.snapshots)
    sites = inputs.sites.index.astype(str).to_numpy()
    zeros = np.zeros((n, len(sites)))

    def at(name: str, site: str) -> np.ndarray:
        out = zeros.copy()
        if name == "_h2":  # electricity of electrolyser and compressor
            out[:, sites == str(site)] = electricity_drawn_kw(inputs, v).reshape(n, 1)
        elif name in v:
            out[:, sites == site] = np.asarray(v[name]).reshape(n, 1)
        return out

    veh_site = inputs.stations["site"].astype(str).reindex(inputs.vehicles["station"].to_numpy()).to_numpy()
    onehot = (veh_site[:, None] == sites[None, :]).astype(float)
    net = zeros.copy()
    if charging_by_vehicle is not None and len(inputs.vehicles):
        ch = charging_by_vehicle - v.get("Vehicle-discharge_kw", np.zeros_like(charging_by_vehicle))
        net = ch @ onehot
    supply = v["Site-import_kw"] + v.get("Site-pv_output_kw", zeros) + at("Wind-output_kw", inputs.wind_site)
    stored = inputs.sites.index.astype(str).get_indexer(inputs.storage_sites)
    site_dis, site_ch = zeros.copy(), zeros.copy()
    if "Site-storage_discharge_kw" in v:
        site_dis[:, stored] = v["Site-storage_discharge_kw"]
        site_ch[:, stored] = v["Site-storage_charge_kw"]
    supply = supply + site_dis
    if (reused := second_life.site_terms(inputs, v)) is not None:
        supply = supply + reused
    demand = net + v.get("Site-export_kw", zeros) + site_ch
    demand = demand + inputs.site_other_load_kw.to_numpy(float)
    if inputs.hydrogen is not None:
        demand = demand + at("_h2", inputs.hydrogen.site)
    if "Link-forward_kw" in v and inputs.links is not None:
        to = (inputs.links["site1"].astype(str).to_numpy()[:, None] == sites[None, :]).astype(float)
        frm = (inputs.links["site0"].astype(str).to_numpy()[:, None] == sites[None, :]).astype(float)
        fwd, bwd = v["Link-forward_kw"], v["Link-backward_kw"]
        supply = supply + fwd @ to + bwd @ frm
        demand = demand + fwd @ frm + bwd @ to
    scale = np.maximum(1.0, np.maximum(np.abs(supply), np.abs(demand)))
    worst = np.abs(supply - demand) / scale
    k = np.unravel_index(int(worst.argmax()), worst.shape)
    detail = f"site {sites[k[1]]} at {inputs.snapshots[k[0]]}" if worst.max() > BALANCE_TOL_REL else ""
    report.add(
        f"every site's meter balances at every step ({len(sites)} sites)",
        worst.max(),
        BALANCE_TOL_REL,
        "relative",
        detail,
    )
    if "Site-pv_output_kw" in v and solution.site_pv_kw is not None:
        cap = solution.site_pv_kw.reindex(sites).fillna(0.0).to_numpy(float)[None, :]
        over = v["Site-pv_output_kw"] - cap * inputs.pv_kw_per_kw.to_numpy(float)[:, None]
        roof = (solution.site_pv_kw.reindex(sites).fillna(0.0) - inputs.sites["pv_max_kw"]).max()
        report.add(
            "each site's PV ≤ its capacity × availability, within its roof",
            max(over.max(initial=0.0), roof),
            POWER_TOL_KW,
            "kW",
        )
    if "Site-storage_energy_kwh" in v and solution.site_storage is not None:
        _check_site_storage(report, inputs, solution, stored)
    limit = inputs.sites["connection_limit_kw"].astype(float).fillna(np.inf).to_numpy()[None, :]
    flow = np.maximum(v["Site-import_kw"], v.get("Site-export_kw", zeros))
    report.add("each site within its meter's limit", (flow - limit).max(initial=0.0), POWER_TOL_KW, "kW")


def _check_site_storage(report: CheckReport, inputs: PlanInputs, solution: Solution, stored: np.ndarray) -> None:
    """Each site's storage rebuilt step by step from its own flows, within its energy, power and site limit."""
    v = solution.values
    dt = inputs.dt_hours
    soc = v["Site-storage_energy_kwh"]
    names = inputs.storage_sites
    initial = solution.initial_storage_kwh
    if initial is None:
        start = soc[-1]
    elif isinstance(initial, pd.Series):
        start = initial.reindex(names).fillna(0.0).to_numpy(float)
    else:
        start = np.full(len(names), float(initial) / max(1, len(names)))
    keep = (1.0 - inputs.storage_self_discharge_per_hour) ** dt
    rebuilt = (
        keep * np.vstack([start, soc[:-1]])
        + inputs.storage_charge_efficiency * v["Site-storage_charge_kw"] * dt
        - v["Site-storage_discharge_kw"] * dt / inputs.storage_discharge_efficiency
    )
    report.add("each site's storage rebuilt step by step", np.abs(rebuilt - soc).max(), ENERGY_TOL_KWH, "kWh")
    split = solution.site_storage.reindex(names).fillna(0.0)
    over_e = (soc - split["storage_kwh"].to_numpy(float)[None, :]).max(initial=0.0)
    room = (split["storage_kwh"] - inputs.sites["storage_max_kwh"].reindex(names)).max()
    report.add("each site's storage within its capacity and site limit", max(over_e, room), ENERGY_TOL_KWH, "kWh")
    pw = np.maximum(v["Site-storage_charge_kw"], v["Site-storage_discharge_kw"])
    report.add(
        "each site's storage within its power",
        (pw - split["storage_kw"].to_numpy(float)[None, :]).max(initial=0.0),
        POWER_TOL_KW,
        "kW",
    )
