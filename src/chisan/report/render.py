"""Render the plan report (one self-contained HTML file that opens offline) and write the result tables.

Outputs are written into a temporary folder next to the target and moved into place only when everything has
been written, so a failure never leaves a half-written result folder behind.
"""

from __future__ import annotations

import datetime as _dt
import json
from importlib import resources
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import plotly.offline

from chisan import __version__
from chisan.carbon.factors import grid_factor
from chisan.economics.appraisal import Economics
from chisan.economics.diesel import depot_tco
from chisan.plan.check import CheckReport
from chisan.plan.prepare import PreparedPlan
from chisan.plan.results import PlanResults
from chisan.report import figures
from chisan.report.depot import depot_figures_html
from chisan.report.hydrogen import hydrogen_context
from chisan.report.labels import FIGURE_LABELS, KPI_LABELS, label, value_text
from chisan.report.output import atomic_folder, fig_html, jsonable, num
from chisan.report.wording import (
    NOT_STATED,
    basis_with_currency,
    bookings_text,
    check_row,
    co2_sentence,
    co2_split,
    location_factor_text,
    market_factor_text,
    money_units,
    reconcile_savings,
    renewable_balance_sentence,
    scope2_location_definition,
    week_text,
)
from chisan.resilience.outage import OutageResult
from chisan.resilience.report import resilience_context
from chisan.tariffs.library import load_tariff


def _method_html(prepared: PreparedPlan, results: PlanResults) -> str:
    m = results.method
    energy_cost = float(m.get("objective_evaluated", float("nan")))
    cur = prepared.inputs.currency
    total = results.kpi("total_cost_per_year")
    fixed = total - energy_cost
    one_total = (
        f"<p>The objective is the sum of the cost-table lines marked “optimised”; with the chargers and vehicle "
        f"leases ({num(fixed)} {cur}/year, fixed by the stations and the fleet) it makes the plan's one total, "
        f"{num(total)} {cur}/year, used everywhere in this report.</p>"
    )
    n_veh = len(prepared.inputs.vehicles)
    n_steps = len(prepared.inputs.snapshots)
    parts = []
    if m["method"] == "full":
        parts.append(
            f"<p><b>Full co-optimisation.</b> One linear programme chooses the capacities and the operation of "
            f"every vehicle, the storage and the grid connection for all {n_steps:,} steps at once "
            f"({m.get('variables', 0):,} variables, {m.get('constraints', 0):,} constraints; linopy "
            f"{_lib_version('linopy')}, HiGHS {_lib_version('highspy')}). HiGHS reported an optimal solution "
            f"(objective {num(m.get('objective', float('nan')))} {cur}/year), so this plan is the cost-optimal "
            "plan of the model; there is no gap to report.</p>" + one_total
        )
    else:
        lb = m.get("aggregate_lower_bound", float("nan"))
        gap = (energy_cost - lb) / abs(lb) * 100 if lb and np.isfinite(lb) else float("nan")
        resized = any(p.get("supply_resized") for p in m.get("dispatch_passes", []))
        parts.append(
            "<p><b>Two-stage method.</b> A year of every vehicle is too large to co-optimise with the capacities "
            f"in one linear programme on a small machine ({n_veh} vehicles × {n_steps:,} steps), so:</p><ol>"
            f"<li><b>Sizing</b> on {m.get('typical_days')} typical days of the year (tsam, medoid days, annual "
            "means preserved) with the town's fleet as one battery whose energy is carried from day to day across "
            "the calendar (Kotzur et al. 2018). This chooses the capacities (its cost on typical days is an "
            "estimate used only for sizing, not a cost of this plan).</li>"
            "<li><b>Year-long aggregate dispatch</b>: the fleet as one battery over all steps at those capacities, "
            "with the policy targets. Because any per-vehicle schedule is also a schedule of the aggregate, its "
            f"cost, {num(lb)} {cur}/year, is a lower bound of any dispatch at these capacities; its hourly energy "
            "is the target each week of step 3 must end at.</li>"
            f"<li><b>Per-vehicle dispatch</b> of the whole year in {m.get('windows')} windows of "
            f"{m.get('commit_hours'):g} h kept plus {m.get('lookahead_hours'):g} h look-ahead, each a "
            "linopy/HiGHS LP updated in place and warm-started. Each window ends with at least the energy every "
            "later booking needs.</li></ol>"
            + (
                f"<p>The per-vehicle year missed the hourly target or a cap at the sized capacities (the fleet as one "
                f"battery is more flexible than the cars are one by one), so every vehicle's charging was kept and "
                f"the supply side — PV, wind, storage, only upwards — was re-sized against it over the whole year in "
                f"one LP with the targets as rows. The plan's objective is {num(energy_cost)} {cur}/year; the bound "
                f"of step 2 was for the first capacities and does not apply. Run <code>chisan plan --bound</code> "
                f"for a certified gap.</p>"
                if resized
                else f"<p>The plan's objective — energy-system annuities and fixed O&amp;M, grid import − export, "
                f"carbon price, V2G wear and battery holding cost — is {num(energy_cost)} {cur}/year: "
                f"<b>{gap:.2f} % above the lower bound</b> of step 2 — "
                "the per-vehicle dispatch is at most that far from the best dispatch at these capacities. The choice "
                "of capacities on typical days adds an error that only the full co-optimisation can measure: run "
                "<code>chisan plan --method full</code> (minutes) to solve it exactly, or "
                "<code>chisan plan --bound</code> to certify the whole gap with the year-long aggregate "
                "co-optimisation, a lower bound of the full one.</p>"
            )
        )
        parts.append(one_total)
        if m.get("full_lower_bound") is not None:
            full_lb = m["full_lower_bound"]
            cert = (energy_cost - full_lb) / abs(full_lb) * 100
            parts.append(
                f"<p class='note'><b>Certified gap:</b> the year-long co-optimisation with the fleet as one "
                f"battery (a relaxation of the full problem) costs {num(full_lb)} {cur}/year, so this plan is at "
                f"most <b>{cert:.2f} %</b> more expensive than the full co-optimisation.</p>"
            )
        passes = m.get("sizing_passes", [])
        if len(passes) > 1:
            parts.append(
                f"<p>The sizing was repeated {len(passes)} times with tightened targets because the "
                "typical days under-estimated what the full year needs.</p>"
            )
    timings = {k: v for k, v in m.items() if k.endswith("_s") and isinstance(v, int | float)}
    timings.update({f"prepare {k}": v for k, v in prepared.timings.items()})
    if timings:
        parts.append(
            "<p>Time spent: " + ", ".join(f"{k.removesuffix('_s')} {v:.2f} s" for k, v in timings.items()) + ".</p>"
        )
    return "\n".join(parts)


def _economics_context(economics: Economics | None, bau: PlanResults | None, currency: str) -> dict:
    """Template values of the economics section (empty when business as usual was skipped)."""
    if economics is None or bau is None:
        return {"economics": None}
    f = economics.figures
    c = currency.lower()
    figs = []
    for name, row in f.iterrows():
        value, unit = value_text(row["value"], row["unit"])
        figs.append({"name": label(name, FIGURE_LABELS), "value": value, "unit": unit, "definition": row.definition})
    v = f["value"]
    payback = value_text(v["simple_payback_years"], "years")
    dpayback = value_text(v["discounted_payback_years"], "years")
    irr = value_text(v["irr"], "fraction")
    text = (
        f"Business as usual is the same town — the same cars, bookings, chargers and tariff — charging from the "
        f"grid only, solved and checked the same way: it costs {num(v['bau_total_cost_per_year'])} {currency} a year "
        f"against the plan's {num(v['total_cost_per_year'])} {currency}. The plan invests "
        f"{num(v['investment'])} {currency} in year 0 and saves {num(v['annual_savings_first_year'])} {currency} in "
        f"its first year (net of the new fixed O&amp;M): simple payback {' '.join(payback)}, discounted "
        f"{' '.join(dpayback)}; over {int(v['project_life_years'])} years at {v['discount_rate']:.1%} the net present "
        f"value is <b>{num(v['npv'])} {currency}</b> and the internal rate of return {' '.join(irr).strip()}."
    )
    investment = [
        {
            "name": name,
            "basis": r.basis,
            "capex": num(r[f"capex_{c}"]),
            "lifetime": f"{r.lifetime_years:g}",
            "replacements": r.replacement_years,
            "om": num(r[f"fixed_om_{c}_per_year"]),
            "salvage": num(r[f"salvage_{c}"]),
        }
        for name, r in economics.investment.iterrows()
    ]
    comparison = [
        {
            "name": name,
            "plan": num(r[f"plan_{c}_per_year"]),
            "bau": num(r[f"bau_{c}_per_year"]),
            "saving": num(r[f"saving_{c}_per_year"]),
        }
        for name, r in economics.comparison.iterrows()
    ]
    return {
        "economics": {
            "text": text,
            "cautions": list(economics.cautions),
            "figures": figs,
            "investment": investment,
            "comparison": comparison,
            "comparison_total": {
                "plan": num(economics.comparison[f"plan_{c}_per_year"].sum()),
                "bau": num(economics.comparison[f"bau_{c}_per_year"].sum()),
                "saving": num(economics.comparison[f"saving_{c}_per_year"].sum()),
            },
            "reconcile": reconcile_savings(economics, currency),
            "fig": fig_html(figures.cash_flow_chart(economics.cash_flows, currency)),
        }
    }


def _lib_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _inputs_rows(prepared: PreparedPlan, results: PlanResults) -> list[dict]:
    sc = prepared.scenario
    inp = prepared.inputs
    w = prepared.weather
    dt = inp.dt_hours
    ghi = float(w["ghi"].sum() * dt / 1000.0) if "ghi" in w else float("nan")
    pv_yield = float(inp.pv_kw_per_kw.sum() * dt)
    wind_cf = float(inp.wind_kw_per_kw.mean())
    v = prepared.vehicle
    bk = prepared.assignment.bookings
    tech = sc.technologies
    ef = inp.emission_factor_kg_per_kwh
    p = sc.policy
    months = sc.horizon.months
    # sums over the snapshots: the horizon's, said so when it is shorter than a year
    per = "/year" if months >= 12 else f" over the horizon ({months} month{'s' if months > 1 else ''})"

    target = (
        (
            f"net {'annual ' if months >= 12 else ''}renewable balance ≥ {p.renewable_share_min_fraction:.0%}"
            if p.renewable_share_basis == "annual"
            else f"local renewable share ≥ {p.renewable_share_min_fraction:.0%}, hour by hour"
        )
        if p.renewable_share_min_fraction
        else "no renewable-share target"
    )
    tou = ", ".join(f"{b.start_hour:02d}–{b.end_hour:02d} h: {b.price_per_kwh}" for b in sc.grid.import_tou)
    rows = [
        (
            "Location",
            f"{sc.municipality.latitude_deg:.3f}° N, {sc.municipality.longitude_deg:.3f}° E, "
            f"{sc.municipality.timezone}; population {sc.municipality.population:,}",
        ),
        (
            "Weather",
            f"{prepared.weather_source}; GHI {ghi:,.1f} kWh/m²{per}; mean air temperature "
            f"{w['temp_air'].mean():.1f} °C; mean wind {w['wind_speed'].mean():.2f} m/s",
        ),
        (
            "PV",
            f"pvlib (Perez sky, SAPM cell temperature, PVWatts DC and inverter); tilt {tech.pv.tilt_deg}°, "
            f"azimuth {tech.pv.azimuth_deg}°, DC/AC {tech.pv.dc_ac_ratio}, losses {tech.pv.losses_percent} %: "
            f"specific yield {pv_yield:,.0f} kWh/kWp{per}",
        ),
        (
            "Wind",
            f"windpowerlib, {tech.wind.turbine_type}, roughness {tech.wind.roughness_length_m} m: capacity "
            f"factor {wind_cf:.1%}"
            if tech.wind.enabled
            else "not considered",
        ),
        (
            "Vehicle",
            f"{v.name}: {v.usable_kwh:g} kWh usable, {v.consumption_ac_kwh_per_km * 1000:.0f} Wh/km at "
            f"the plug (WLTC), on-board charger {v.max_ac_charge_kw:g} kW; source: {v.source}",
        ),
        (
            "Trip energy",
            "distance × consumption × plug-to-battery efficiency "
            f"{sc.fleet.charge_efficiency_fraction} × temperature factor (heating below "
            f"{sc.fleet.heating_threshold_c} °C, cooling above {sc.fleet.cooling_threshold_c} °C); "
            f"{bk['trip_energy_kwh'].sum():,.0f} kWh over {len(bk):,} bookings",
        ),
        ("Grid tariff", _tariff_text(sc, inp, tou) + _site_tariffs_text(inp)),
        ("Grid emission factor", location_factor_text(sc.grid, ef)),
        ("Policy", f"{target}; carbon price {sc.policy.carbon_price_per_t:,.0f} {inp.currency}/t"),
        (
            "Battery holding cost",
            f"{sc.fleet.battery_holding_cost_per_kwh_h:g} {inp.currency}/kWh/h (calendar ageing "
            "of energy kept in the cars)",
        ),
        (
            "Finance",
            f"discount rate {sc.finance.discount_rate_fraction:.1%}; lifetimes PV {tech.pv.lifetime_years:g}, "
            f"wind {tech.wind.lifetime_years:g}, storage {tech.storage.lifetime_years:g}, chargers "
            f"{tech.chargers.lifetime_years:g} years; appraisal over {sc.finance.project_life_years} years, PV "
            f"output −{sc.finance.pv_degradation_per_year_fraction:.1%}/year, salvage value "
            f"{'credited' if sc.finance.salvage_value else 'not counted'} at the end",
        ),
        (
            "Baseline",
            f"private gasoline car {sc.baseline.ice_emission_g_per_km:g} g CO2/km (2.32 kg/L ÷ 15 km/L); "
            f"substitution factor {sc.baseline.substitution_factor:g} private cars per shared car",
        ),
    ]
    return [{"name": k, "value": val} for k, val in rows]


def _depot_charging_kw(prepared: PreparedPlan, results: PlanResults, index: pd.Index) -> pd.Series | None:
    """The depots' vehicles' charging in the steps ``index`` [kW] (the vehicles of the stations that are depots),
    or None when the scenario has no depot."""
    names = {d.name for d in prepared.scenario.depots}
    if not names:
        return None
    ids = prepared.inputs.vehicles.index[prepared.inputs.vehicles["station"].isin(names)]
    return results.vehicle_charge_kw.reindex(index=index, columns=ids, fill_value=0.0).sum(axis=1)


def _depot_rows(prepared: PreparedPlan, results: PlanResults) -> list[dict]:
    """Rows of the report's depot section: peak, energy, cost per km and the yearly cost against diesel."""
    tco = depot_tco(prepared.scenario, prepared.inputs, results, prepared.assignment)
    c = prepared.inputs.currency.lower()  # money columns carry the scenario's currency (economics.diesel)
    return [
        {
            "name": name,
            "cls": r.vehicle_class,
            "vehicles": int(r.vehicles),
            "km": num(r.km_per_year),
            "charging": num(r.charging_kwh_per_year),
            "peak": num(r.peak_charging_kw, 1),
            "electricity": num(r[f"electricity_{c}_per_year"]),
            "bev": num(r[f"bev_total_{c}_per_year"]),
            "bev_km": num(r[f"bev_{c}_per_km"], 1),
            "diesel": num(r[f"diesel_total_{c}_per_year"]),
            "diesel_km": num(r[f"diesel_{c}_per_km"], 1),
            "price": f"{r[f'diesel_price_{c}_per_l']:g}",
            "saving": num(r[f"saving_{c}_per_year"]),
        }
        for name, r in tco.iterrows()
    ]


def autonomous_table(prepared: PreparedPlan, results: PlanResults) -> pd.DataFrame | None:
    """The autonomous fleet's figures in the plan (:func:`chisan.autonomous.plan_inputs.plan_summary`), or None."""
    if prepared.autonomous is None:
        return None
    from chisan.autonomous.plan_inputs import plan_summary

    return plan_summary(
        prepared.autonomous, prepared.inputs, results.vehicle_charge_kw, float(results.capacities["pv_kw"])
    )


def _autonomous_html(prepared: PreparedPlan, results: PlanResults) -> str:
    """The report's paragraph on an autonomous fleet ('' for station-based car-sharing)."""
    t = autonomous_table(prepared, results)
    if t is None:
        return ""
    v = t["value"]
    cur = prepared.inputs.currency
    sized = (
        f"the fewest cars that pick up {v['service_level_target_fraction']:.0%} of the requests within "
        f"{v['max_wait_min']:g} min ({v['picked_up_within_max_wait_fraction']:.1%} reached)"
        if v["fleet_size_from"] == "service level"
        else f"fixed by fleet.autonomous.cars ({v['picked_up_within_max_wait_fraction']:.1%} of the requests picked "
        f"up within {v['max_wait_min']:g} min)"
    )
    return (
        '<h2>Autonomous fleet</h2><p>The shared cars drive themselves (<code>fleet.kind = "autonomous"</code>): '
        f"{int(v['fleet_cars'])} cars, {sized}, simulated minute by minute over {int(v['simulated_days'])} days "
        f"(days {v['repeated_days']} of the days run in a row repeated over the planned period); "
        f"{v['empty_distance_fraction']:.0%} of their kilometres are driven empty; {int(v['chargers'])} chargers "
        "(the most cars the simulation had parked at each base at once). The plan re-optimised the cars' charging "
        f"within the windows they stand at their chargers: {num(v['charging_reoptimised_kwh'])} kWh "
        f"({v['charging_reoptimised_fraction']:.0%}) scheduled by the plan, {num(v['charging_kept_kwh'])} kWh kept "
        "as simulated (charging in steps the car is parked for only part of), for "
        f"{num(v['energy_driven_kwh'])} kWh driven. Against the plan's {num(results.capacities['pv_kw'], 1)} kW of "
        f"PV, the planned charging could take {v['charging_planned_pv_fraction']:.0%} from the PV and costs "
        f"{num(v['charging_planned_grid_cost'])} {cur} at the grid price for the rest "
        f"({v['charging_planned_grid_cost_per_kwh']:.1f} {cur}/kWh); the simulation's own charging "
        f"({num(v['charging_simulated_kwh'])} kWh) {v['charging_simulated_pv_fraction']:.0%} and "
        f"{num(v['charging_simulated_grid_cost'])} {cur} ({v['charging_simulated_grid_cost_per_kwh']:.1f} "
        f"{cur}/kWh). Table: <code>autonomous.csv</code>.</p>"
    )


def render_report(
    prepared: PreparedPlan,
    results: PlanResults,
    checks: CheckReport,
    *,
    scenario_name: str,
    solve_seconds: float,
    economics: Economics | None = None,
    bau: PlanResults | None = None,
    resilience: OutageResult | None = None,
) -> str:
    """The plan report as one HTML string (plotly.js embedded, so it opens offline); with ``economics`` and
    ``bau`` it has a section comparing the plan with business as usual."""
    inp = prepared.inputs
    sc = prepared.scenario
    cur = inp.currency
    d = results.dispatch
    k = results.kpis["value"]
    usable = inp.vehicles["usable_kwh"]
    (first_title, first_week), (second_title, second_week) = figures.report_weeks(d)
    figs = {
        "fig_summer": fig_html(figures.dispatch_week(first_week, first_title)),
        "fig_winter": fig_html(figures.dispatch_week(second_week, second_title)),
        "fig_monthly": fig_html(figures.monthly_energy(d, inp.dt_hours)),
        "fig_heatmap": fig_html(figures.vehicle_energy_heatmap(results.vehicle_energy_kwh, usable)),
        "fig_fleet": fig_html(figures.fleet_soc_by_hour(results.vehicle_energy_kwh, usable)),
        "fig_cost": fig_html(figures.cost_breakdown(results.costs, cur)),
        "fig_carbon": fig_html(figures.carbon_breakdown(results.emissions)),
        "fig_duration": fig_html(figures.duration_curve(d)),
    }
    week_texts = {
        "summer_text": week_text(first_week, inp.dt_hours, _depot_charging_kw(prepared, results, first_week.index)),
        "winter_text": week_text(second_week, inp.dt_hours, _depot_charging_kw(prepared, results, second_week.index)),
        "first_week_title": first_title,
        "second_week_title": second_title,
        "weeks_heading": "A summer week and a winter week"
        if (first_title, second_title) == tuple(t for t, _ in figures.SEASON_WEEKS)
        else "Two weeks of the plan",
    }
    months = sc.horizon.months
    scaled = f" (per horizon of {months} month{'s' if months > 1 else ''}, scaled to a year)" if months < 12 else ""
    caps = results.capacities
    built = [f"{caps['pv_kw']:,.1f} kW of PV"]
    if caps["wind_kw"] > 0.05:
        built.append(f"{caps['wind_kw']:,.1f} kW of wind")
    if caps["storage_kwh"] > 0.05:
        built.append(f"{caps['storage_kwh']:,.1f} kWh / {caps['storage_kw']:,.1f} kW of storage")
    depot_sites = {d.name for d in sc.depots}
    n_bases = int((~inp.stations.index.astype(str).isin(depot_sites)).sum())
    depot_chargers = int(k.get("depot_chargers", 0))
    depot_part = (
        f" ({depot_chargers} more at {len(depot_sites)} depot{'s' if len(depot_sites) > 1 else ''} for their own "
        f"{int(k.get('depot_vehicles', 0))} vehicles)"
        if depot_chargers
        else ""
    )
    summary = (
        f"{sc.municipality.name} needs {int(k['vehicles'])} shared EVs and {int(k['chargers']) - depot_chargers} "
        f"chargers at {n_bases} car-sharing bases{depot_part}, and {', '.join(built)}. Local renewables meet "
        f"{k['local_renewable_share_of_charging'] * 100:.1f} % of the cars' charging hour by hour; "
        f"{renewable_balance_sentence(k, results.energy_balance, bool(scaled))}. "
        f"Everything costs {num(k['total_cost_per_year'])} {cur} a year "
        f"({num(k['cost_per_km'], 1)} {cur}/km; {num(k['energy_cost_per_km'], 1)} {cur}/km without the vehicle "
        f"leases)"
        + (
            f" and {co2_sentence(k, results.emissions)}"
            if k["co2_avoided_kg"] >= 0
            else f". <span class='warn'>This plan {co2_sentence(k, results.emissions)}</span>"
        )
        + (
            f" The plan covers {months} month{'s' if months > 1 else ''}; annual figures are scaled to a year."
            if scaled
            else ""
        )
    )
    if (reused := results.method.get("second_life")) is not None:  # chisan.plan.second_life
        summary += (
            f" Second-life storage ({num(reused['offered_kwh'])} kWh of retired packs offered at "
            f"{num(reused['price_per_kwh'])} {cur}/kWh): {money_units(reused['reason'], cur)}. Break-even price = "
            f"(V − O&amp;M) / capital recovery factor, where V [{cur}/kWh/year] is the most one kWh of it earns in a "
            "year, valued at the marginal value of electricity at the sites."
        )
    bk = prepared.assignment.bookings
    depot_names = {d.name for d in sc.depots}
    is_cs = ~bk["station"].isin(depot_names)
    served = prepared.assignment.served_count
    # the key figure counts depot shifts too; the car-sharing share of it, at the same scaling to a year
    cs_served_per_year = (
        float(k["bookings_served"]) * int(bk.loc[is_cs, "vehicle_id"].notna().sum()) / served if served else 0.0
    )
    cards = [
        {"value": f"{caps['pv_kw']:,.1f} kW", "label": "PV to build"},
        {
            "value": f"{k['local_renewable_share_of_charging'] * 100:.1f} %",
            "label": "local renewable share of charging (hour by hour)",
        },
        {
            "value": f"{k['renewable_share_annual'] * 100:.1f} %",
            "label": f"net renewable balance over the horizon ({months} month{'s' if months > 1 else ''})"
            if scaled
            else "net annual renewable balance",
        },
        {"value": f"{num(k['cost_per_km'], 1)} {cur}", "label": "cost per km (all in)"},
        {"value": f"{k['co2_avoided_kg'] / 1000:,.1f} t", "label": "CO2e avoided per year"}
        if k["co2_avoided_kg"] >= 0
        else {
            "value": f"+{-k['co2_avoided_kg'] / 1000:,.1f} t",
            "label": "CO2e a year more than without the plan",
            "warn": True,
        },
        {"value": f"{cs_served_per_year:,.0f}", "label": "car-sharing bookings served per year"},
    ]
    kpis = []
    for name, row in results.kpis.iterrows():
        value, unit = value_text(row.value, row.unit)
        definition = row.definition
        if not sc.grid.emission_factor_path:  # a constant factor: the key figures' "hourly grid factor" is one number
            definition = definition.replace("hourly grid factor", "the grid's constant factor")
        kpis.append({"name": label(name, KPI_LABELS), "value": value, "unit": unit, "definition": definition})
    stations = [
        {
            "name": name,
            "vehicles": int(r.vehicles),
            "chargers": int(r.chargers),
            "charger_kw": f"{r.charger_kw:g}",
            "charging": num(r.charging_kwh_per_year),
            "peak": num(r.peak_charging_kw, 1),
        }
        for name, r in results.stations.iterrows()
        if str(name) not in depot_sites  # a depot's vehicles and chargers are in the depot section, not a base
    ]
    depots_elsewhere = sorted(str(name) for name in results.stations.index if str(name) in depot_sites)
    sites = []
    if results.sites is not None:
        for name, r in results.sites.iterrows():
            sites.append(
                {
                    "name": name,
                    # a tariff's name may break after its underscores (tariff names are [a-z0-9_], no markup)
                    "tariff": str(getattr(r, "tariff", "")).replace("_", "_<wbr>"),
                    "stations": r.stations or "(no station)",
                    "vehicles": int(r.vehicles),
                    "roof": "no limit" if not np.isfinite(r.pv_max_kw) else num(r.pv_max_kw, 1),
                    "pv": num(r.pv_kw, 2),
                    "storage": f"{num(r.storage_kwh, 1)} / {num(r.storage_kw, 1)}",
                    "pv_kwh": num(r.pv_kwh_per_year),
                    "charging": num(r.charging_kwh_per_year),
                    "imp": num(r.import_kwh_per_year),
                    "exp": num(r.export_kwh_per_year),
                    "peak": num(r.peak_demand_kw, 1),
                    "contract": num(r.contract_kw, 1) if "contract_kw" in results.sites else "no basic charge",
                    "energy_charge": num(getattr(r, "energy_charge_per_year", float("nan"))),
                    "basic_charge": num(getattr(r, "basic_charge_per_year", float("nan"))),
                    "export_revenue": num(getattr(r, "export_revenue_per_year", float("nan"))),
                }
            )
    depots = _depot_rows(prepared, results)
    links = inp.links if inp.per_site else None
    links_text = (
        "; ".join(
            f"{name}: {row.site0} ↔ {row.site1}, "
            + (f"fee {row.fee_per_kwh:g}/kWh" if row.fee_per_kwh else "private line")
            for name, row in links.iterrows()
        )
        if links is not None and len(links)
        else "none in this scenario"
    )
    costs = [
        {
            "name": name,
            "inv": num(r.investment_per_year),
            "om": num(r.fixed_om_per_year),
            "op": num(r.operation_per_year),
            "total": num(r.total_per_year),
            "basis": basis_with_currency(r.basis, cur),
            "optimised": "optimised" if r.in_objective else "fixed",
        }
        for name, r in results.costs.iterrows()
    ]
    bookings_line = bookings_text(bk, depot_names, sc.bookings.source)
    e = results.emissions
    carbon_text = (
        f"Location-based scope 2 = {scope2_location_definition(sc.grid)}: "
        f"{e['scope2_location_based_kg'] / 1000:,.2f} t CO2e/year; "
        f"{market_factor_text(sc.grid, inp.market_emission_factor_kg_per_kwh)}: "
        f"{e['scope2_market_based_kg'] / 1000:,.2f} t. "
        f"Without the plan, private gasoline cars at {sc.baseline.ice_emission_g_per_km:g} g/km would emit "
        f"{e['baseline_private_car_kg'] / 1000:,.1f} t"
        + "".join(
            f"; {what} {e[key] / 1000:,.1f} t"
            for key, what in (
                ("baseline_depot_diesel_kg", "the depots' km on diesel"),
                ("baseline_delivered_hydrogen_kg", "the hydrogen made here, delivered instead,"),
                ("baseline_other_load_grid_kg", "the other load from the grid"),
            )
            if e.get(key, 0.0)
        )
        + (
            f"; less the plan's location-based scope 2, {e['avoided_kg'] / 1000:,.1f} t is avoided: {co2_split(k)}. "
            if e["avoided_kg"] >= 0
            else f"; the plan's location-based scope 2 is {-e['avoided_kg'] / 1000:,.1f} t more than that: "
            f"{co2_split(k)}. "
        )
        + "Each line compares like with like: the "
        "private cars against the shared cars' own charging from the grid, the depots' diesel against their "
        "charging from the grid, delivered hydrogen against the electrolyser's grid power, and local renewables "
        "by the grid import they avoid. Each shared car also replaces about "
        f"{sc.baseline.substitution_factor:g} private cars "
        f"({k['private_cars_replaced']:,.0f} in all; Martin, Shaheen & Lidicker 2010), whose manufacture is not "
        "counted here. Embodied emissions of PV, storage and the cars' batteries are in the roadmap."
    )
    files = (
        "report.html (this page), kpis.csv, capacities.csv, costs.csv, stations.csv, sites.csv, dispatch.csv and "
        "dispatch.parquet (every step, units in the column names), vehicle_energy_kwh.parquet and "
        "vehicle_charge_kw.parquet (step × vehicle), bookings.csv (every booking with its vehicle or the "
        "reason it was not served), checks.csv, scenario.toml (the input, for reproducing) and run.json."
    )
    if economics is not None:
        files += (
            " Against business as usual: economics.csv (the figures), investment.csv, cash_flows.csv and "
            "cash_flows.parquet (year by year), cost_comparison.csv (plan and business as usual by component), "
            "bau_kpis.csv and bau_costs.csv."
        )
    if sc.resilience is not None:
        files += " Emergency power: outage_survival.csv, outage_probabilities.csv and outage_kpis.csv."
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("chisan.report", "templates"), autoescape=False, undefined=jinja2.StrictUndefined
    )
    template = env.get_template("plan.html.j2")
    return template.render(
        plotly_js=plotly.offline.get_plotlyjs(),
        town=sc.municipality.name,
        year=sc.horizon.year,
        version=__version__,
        scenario_name=scenario_name,
        generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        method_name=results.method["method"],
        solve_seconds=solve_seconds,
        checks_passed=checks.passed,
        summary=summary,
        cards=cards,
        kpis=kpis,
        stations=stations,
        depots_elsewhere=depots_elsewhere,
        sites=sites,
        depots=depots,
        depot_figures=depot_figures_html(prepared, results),
        autonomous_html=_autonomous_html(prepared, results),
        links_text=links_text,
        bookings_text=bookings_line,
        reserve_pct=f"{sc.fleet.reserve_fraction * 100:.0f}",
        costs=costs,
        currency=cur,
        discount=f"{sc.finance.discount_rate_fraction:.1%}",
        carbon_text=carbon_text,
        peak_import=num(k["peak_grid_import_kw"], 1),
        method_html=_method_html(prepared, results),
        checks=[check_row(row) for row in checks.rows],
        inputs=_inputs_rows(prepared, results),
        files_text=files,
        total_cost=num(k["total_cost_per_year"]),
        scaled=scaled,
        **_economics_context(economics, bau, cur),
        **resilience_context(resilience, sc.resilience, survival=results.method.get("survival")),
        **hydrogen_context(results, inp),
        **figs,
        **week_texts,
    )


def write_outputs(
    out_dir: str | Path,
    prepared: PreparedPlan,
    results: PlanResults,
    checks: CheckReport,
    *,
    scenario_text: str,
    scenario_name: str,
    solve_seconds: float,
    economics: Economics | None = None,
    bau: PlanResults | None = None,
    resilience: OutageResult | None = None,
) -> Path:
    """Write the report and tables into ``out_dir`` atomically (temporary folder, then renamed into place).

    Returns
    -------
    Path
        The output folder.
    """
    out_dir = Path(out_dir).resolve()
    with atomic_folder(out_dir) as tmp:
        html = render_report(
            prepared,
            results,
            checks,
            scenario_name=scenario_name,
            solve_seconds=solve_seconds,
            economics=economics,
            bau=bau,
            resilience=resilience,
        )
        (tmp / "report.html").write_text(html, encoding="utf-8")
        results.kpis.to_csv(tmp / "kpis.csv")
        results.capacities.rename_axis("capacity").to_frame("value").assign(unit=["kW", "kW", "kWh", "kW"]).to_csv(
            tmp / "capacities.csv"
        )
        results.costs.to_csv(tmp / "costs.csv")
        results.stations.to_csv(tmp / "stations.csv")
        if results.sites is not None:
            results.sites.to_csv(tmp / "sites.csv")
        if prepared.scenario.depots:
            depot_tco(prepared.scenario, prepared.inputs, results, prepared.assignment).to_csv(tmp / "depots.csv")
        write_plan_workbook(tmp / "plan.xlsx", results, economics if bau is not None else None)
        results.dispatch.to_csv(tmp / "dispatch.csv")
        if results.hydrogen is not None:  # chisan.plan.hydrogen_results
            results.hydrogen.hourly.to_csv(tmp / "hydrogen.csv")
            results.hydrogen.figures.to_csv(tmp / "hydrogen_kpis.csv")
            results.hydrogen.vehicles.to_csv(tmp / "fuel_cell_vehicles.csv")
        results.dispatch.to_parquet(tmp / "dispatch.parquet")
        results.vehicle_energy_kwh.to_parquet(tmp / "vehicle_energy_kwh.parquet")
        results.vehicle_charge_kw.to_parquet(tmp / "vehicle_charge_kw.parquet")
        prepared.assignment.bookings.to_csv(tmp / "bookings.csv", index=False)
        if prepared.autonomous is not None:
            autonomous_table(prepared, results).to_csv(tmp / "autonomous.csv")
        checks.table().to_csv(tmp / "checks.csv", index=False)
        if economics is not None and bau is not None:
            economics.figures.to_csv(tmp / "economics.csv")
            economics.investment.to_csv(tmp / "investment.csv")
            economics.cash_flows.to_csv(tmp / "cash_flows.csv")
            economics.cash_flows.to_parquet(tmp / "cash_flows.parquet")
            economics.comparison.to_csv(tmp / "cost_comparison.csv")
            bau.kpis.to_csv(tmp / "bau_kpis.csv")
            bau.costs.to_csv(tmp / "bau_costs.csv")
        if resilience is not None:
            resilience.survival.to_csv(tmp / "outage_survival.csv")
            resilience.probabilities.to_csv(tmp / "outage_probabilities.csv", index=False)
            resilience.summary().to_csv(tmp / "outage_kpis.csv")
        (tmp / "scenario.toml").write_text(scenario_text, encoding="utf-8")
        meta = {
            "chisan": __version__,
            "scenario": scenario_name,
            "method": results.method["method"],
            "solve_seconds": solve_seconds,
            "checks_passed": checks.passed,
            "energy_balance_kwh": results.energy_balance.to_dict(),
            "emissions_kg": results.emissions.to_dict(),
            "details": jsonable(results.method),
        }
        (tmp / "run.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return out_dir


def package_template_exists() -> bool:
    """True when the report template ships with the package (used by tests of the wheel)."""
    return resources.files("chisan.report").joinpath("templates", "plan.html.j2").is_file()


def factor_source_text(grid) -> str:
    """How the location-based grid factor of a scenario's ``[grid]`` was chosen, with the registry source."""
    if grid.emission_factor_path:
        return f"hourly file {grid.emission_factor_path}"
    if grid.emission_factor:
        return f"constant, registry factor {grid_factor(grid.emission_factor).source}"
    return "constant"


def _tariff_text(sc, inp, tou: str) -> str:
    """The tariff row of the inputs table: the billed tariff with its prices as compiled, or the flat prices."""
    tariff = sc.grid.tariff
    if tariff is None:
        return (
            f"import {sc.grid.import_price_per_kwh} {inp.currency}/kWh"
            + (f" ({tou})" if tou else "")
            + f"; export {sc.grid.export_price_per_kwh} {inp.currency}/kWh ({NOT_STATED}: grid.import_price_per_kwh"
            + (", grid.import_tou" if tou else "")
            + ", grid.export_price_per_kwh)"
        )
    if isinstance(tariff, str):
        tariff = load_tariff(tariff)
    imp, exp = inp.import_price_per_kwh, inp.export_price_per_kwh
    dated = f", from {tariff.effective_from.isoformat()}" if tariff.effective_from else ""
    levies = tariff.levies_jpy_per_kwh
    basic = (
        f"; basic charge {tariff.basic_charge_jpy_per_kw_month:,.2f} {inp.currency}/kW/month on the contract kW "
        f"({tariff.contract.kind.replace('_', ' ')})"
        if tariff.basic_charge_jpy_per_kw_month
        else ""
    )
    source = f"; source: {tariff.source}" if tariff.source else "; source not stated in the tariff file"
    return (
        f"{tariff.title or tariff.name} ({tariff.name}{dated}): import {imp.min():.2f}–{imp.max():.2f} "
        f"{inp.currency}/kWh by season, day type and hour (mean {imp.mean():.2f}), levies {levies:.2f} "
        f"{inp.currency}/kWh included; export {exp.min():.2f}–{exp.max():.2f} {inp.currency}/kWh{basic}{source}"
    )


def _site_tariffs_text(inp) -> str:
    """The sites on tariffs of their own, for the tariff row: '; per site: Base tepco_low_voltage_power, …'."""
    if not inp.site_priced:
        return ""
    own = inp.site_tariffs["tariff"].astype(str)
    listed = ", ".join(f"{site}: {name}" for site, name in own.items())
    return f"; each meter on its own tariff ({listed}; the table of sites gives each one's bill)"


def write_plan_workbook(path: Path, results, economics=None) -> None:
    """The plan's tables in one Excel workbook (XlsxWriter): key figures, costs, stations, sites, cash flows."""
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": {"nan_inf_to_errors": True}}) as xl:
        results.kpis.to_excel(xl, sheet_name="key figures")
        if economics is not None:
            economics.figures.to_excel(xl, sheet_name="economics")
            economics.investment.to_excel(xl, sheet_name="investment")
            economics.cash_flows.to_excel(xl, sheet_name="cash flows")
        results.costs.to_excel(xl, sheet_name="costs per year")
        results.stations.to_excel(xl, sheet_name="stations")
        if results.sites is not None:
            results.sites.to_excel(xl, sheet_name="sites")
        for sheet in xl.sheets.values():
            sheet.set_column(0, 0, 36)
            sheet.set_column(1, 40, 16)
