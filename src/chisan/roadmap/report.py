"""The roadmap report (one self-contained HTML page, in the style of the plan report) and its tables.

Outputs are written into a temporary folder next to the target and moved into place only when everything has
been written, so a failure never leaves a half-written result folder behind.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import plotly.offline

from chisan import __version__
from chisan.batteries.ageing import AGEING_MODELS
from chisan.batteries.field import pack_temperature_note
from chisan.report.output import atomic_folder, fig_html, jsonable, num
from chisan.roadmap import figures
from chisan.roadmap.run import RoadmapResult
from chisan.scenario.schema import Scenario

FILES = {
    "roadmap.html": "this page",
    "years.csv": "one row per year: fleet, capacities, energy flows, grid factor, emissions by source, pack counts",
    "packs.csv": "one row per pack: vehicle, years in service, retirement (year, age, reason, SOH), route, end",
    "health.csv": "SOH of every pack at the end of every year, in a car or in second-life storage",
    "stocks.csv": "packs and kWh in each state at the end of each year (4R stock)",
    "flows.csv": "packs and kWh moving between states each year (4R flows)",
    "materials.csv": "kg sent to recycling, recovered and lost, by year, process and material",
    "eu_targets.csv": "recovery achieved against Regulation (EU) 2023/1542, shortfalls flagged",
    "roadmap.json": "summary, settings and timings",
    "scenario.toml": "the input, for reproducing",
}


def _t(kg: float, digits: int = 1) -> str:
    return num(kg / 1000.0, digits)


def _summary_text(result: RoadmapResult, town: str) -> str:
    s = result.summary
    y = result.years
    first, last = y.index[0], y.index[-1]
    text = (
        f"The net emissions of {town}'s car-sharing system (grid electricity, and the embodied emissions of its PV, "
        f"wind and new battery packs) peak in {s['peak_year']} at {_t(s['peak_kg'])} t CO2e"
    )
    if s.get("peak_by_year") is not None:
        text += f" ({'in time for' if s['peaks_in_time'] else 'after'} the peak target of {s['peak_by_year']})"
    if s["net_zero_year"] is not None:
        text += f" and reach net zero in {s['net_zero_year']}"
        text += ", in time for the target." if s["reaches_target"] else f", after the {s['target_year']} target."
    else:
        text += (
            f" and do not reach net zero by {last}: {_t(s['net_at_target_kg'])} t CO2e are left in the target year "
            f"{s['target_year']}."
        )
    packs = result.packs
    left = packs[packs["retire_year"] <= last]
    routes = left["route"].value_counts()
    text += (
        f" From {first} to {last} the fleet goes from {int(y['vehicles'].iloc[0])} to {int(y['vehicles'].iloc[-1])} "
        f"vehicles; the town buys {len(packs)} packs and {len(left)} leave their cars"
    )
    if len(left):
        parts = [
            f"{int(routes.get(r, 0))} {w}"
            for r, w in (
                ("reuse", "reused as storage at the bases"),
                ("resell", "resold"),
                ("refabricate", "refabricated"),
                ("recycle", "recycled at once"),
            )
        ]
        text += ": " + ", ".join(parts)
    recovered = result.lifecycle.materials["recovered_kg"].sum()
    return text + f". Recycling recovers {num(recovered)} kg of materials within the roadmap."


def _cards(result: RoadmapResult) -> list[dict]:
    s = result.summary
    y = result.years
    zero = (
        {"value": str(s["net_zero_year"]), "label": "net-zero year"}
        if s["net_zero_year"] is not None
        else {"value": f"{_t(s['gap_at_target_kg'])} t", "label": f"left in {s['target_year']} (not net zero)"}
    )
    last = y.index[-1]
    left = int((result.packs["retire_year"] <= last).sum())
    return [
        {
            "value": str(s["peak_year"]),
            "label": f"peak year ({_t(s['peak_kg'])} t CO2e)"
            + (f"; peak target {s['peak_by_year']}" if s.get("peak_by_year") is not None else ""),
        },
        zero,
        {"value": f"{num(y['pv_kw'].iloc[-1], 1)} kW", "label": f"PV built by {last}"},
        {"value": str(left), "label": "packs leaving cars"},
        {"value": f"{num(y['second_life_offered_kwh'].max())} kWh", "label": "second-life storage offered (peak)"},
        {"value": f"{num(y['storage_kwh'].max())} kWh", "label": "second-life storage used (peak)"},
        {"value": f"{num(result.lifecycle.materials['recovered_kg'].sum())} kg", "label": "materials recovered"},
    ]


def _year_rows(y: pd.DataFrame) -> list[dict]:
    return [
        {
            "year": year,
            "mark": "*" if r.planned else "",
            "cls": "" if r.planned else "derived",
            "vehicles": int(r.vehicles),
            "pv": num(r.pv_kw, 1),
            "storage": f"{num(r.second_life_offered_kwh)} / {num(r.storage_kwh)}",
            "imp": num(r.grid_import_kwh / 1000.0, 1),
            "factor": num(r.grid_factor_kg_per_kwh * 1000.0),
            "scope2": _t(r.scope2_kg),
            "embodied": _t(r.embodied_kg),
            "credit": _t(r.export_credit_kg),
            "net": _t(r.net_kg),
        }
        for year, r in y.iterrows()
    ]


def _retired_rows(result: RoadmapResult) -> list[dict]:
    """Every pack that left a car within the roadmap, with the year it is recycled (from the stock-flow)."""
    last = result.years.index[-1]
    packs = result.lifecycle.packs
    packs = packs[packs["retire_year"] <= last]

    def end(value: float) -> str:
        return str(int(value)) if np.isfinite(value) and value <= last else "after the roadmap"

    return [
        {
            "pack": r.pack_id,
            "entry": int(r.year_in_service),
            "retire": int(r.retire_year),
            "reason": str(r.retire_reason).replace("_", " "),
            "soh": f"{r.soh_at_retirement * 100:.1f} %",
            "route": r.route,
            "end": end(r.end_year),
        }
        for r in packs.itertuples()
    ]


def _eu_rows(result: RoadmapResult) -> list[dict]:
    eu = result.lifecycle.eu_targets
    eu = eu[eu["target_fraction"].notna()] if len(eu) else eu
    return [
        {
            "year": int(r.year),
            "process": r.process,
            "material": r.material,
            "achieved": f"{r.recovery_fraction:.1%}",
            "target": f"{r.target_fraction:.0%}",
            "ok": bool(r.meets_target),
            "message": r.message,
        }
        for r in eu.itertuples()
    ]


def _method_html(result: RoadmapResult, scenario: Scenario) -> str:
    cfg = result.config
    s = cfg.settings
    model = AGEING_MODELS[cfg.ageing_model]
    bat, ff = scenario.batteries, cfg.field_factors
    band = scenario.batteries.field_fade_band_per_year_fraction
    planned = ", ".join(str(y) for y in cfg.planned_years)
    plans = {k.removeprefix("plan_"): v for k, v in result.timings.items() if k.startswith("plan_")}
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in plans.items())
    return "\n".join(
        [
            f"<p><b>Planned and derived years.</b> Each of the years {planned} was planned in full with "
            "<code>chisan plan</code>'s method (capacities, then every vehicle's charging over the whole year, checked "
            "after solving), with the town of that year: the fleet grown by "
            f"{s.fleet_growth_per_year_fraction:.1%} a year (members and bookings with it), the PV and wind already "
            "built as a lower bound, and as its only stationary storage the town's own reused packs, offered up to "
            "their usable capacity (nominal × state of health × "
            f"{s.second_life_derate_fraction:g} derate) at {num(cfg.second_life_price_per_kwh)} "
            f"{scenario.finance.currency}/kWh over {s.second_life_lifetime_years:g} years. The other years take "
            "their energy flows, capacities and cost on straight lines between the planned years around them; their "
            "fleet, packs, grid factor and emissions are computed for the year itself. Every plan uses the weather "
            f"of {scenario.horizon.year}. Time per plan: {timing}; ageing and the 4R stock-flow "
            f"{result.timings.get('ageing', 0):.2f} s.</p>",
            f"<p><b>Ageing.</b> {model.description} ({cfg.chemistry} packs; model <code>{cfg.ageing_model}</code>): "
            "calendar fade from time, state of charge and temperature, plus cycle fade from the rainflow cycles of "
            "the planned state of charge (equivalent full cycles, depth of discharge, "
            + (
                "C-rate while cycling, i.e. over the hours charging or discharging (the default; BLAST-Lite's "
                'time average over the day is selectable as [batteries] c_rate_definition = "time_average")'
                if bat.c_rate_definition == "while_cycling"
                else "C-rate as BLAST-Lite's time average over the day, rests included ([batteries] "
                "c_rate_definition; the default is the C-rate while cycling)"
            )
            + ", mean SOC), evaluated day by day and advanced with the virtual-time state update of NREL's "
            "BLAST-Lite so that changing stress is not double-counted. A car pack is not a lab cell: the model's "
            f"calendar and cycle fade are multiplied by a field calibration factor of {ff['central']:.3g} "
            f"(band {ff['low']:.3g}–{ff['high']:.3g}; {bat.field_calibration_source}; "
            + (
                "set in [batteries] field_calibration_factor"
                if bat.field_calibration_factor is not None
                else "the model's default, which brings the bundled example fleet's mean fade over 8 years to "
                f"{band[1]:.1%} a year"
            )
            + f"; the band's ends are scaled to {band[0]:.1%} and {band[2]:.1%} a year); the health table gives "
            "the band's SOH beside the central one. Cars follow the state of charge of a vehicle of the latest "
            "planned year, "
            + pack_temperature_note(
                bat.pack_thermal_model, bat.sun_offset_c, bat.charging_offset_c, bat.cabin_solar_rise_c
            )
            + (f", + {s.battery_temperature_offset_c:g} °C" if s.battery_temperature_offset_c else "")
            + "; reused packs, healthiest first, the storage's state of charge up to the storage the plan used, the "
            f"rest idle at {s.second_life_idle_soc_fraction:.0%}. A pack leaves its car when it reaches "
            f"{s.retire_soh_fraction:.0%} of its nominal capacity"
            + (
                f" or when its vehicle is replaced after {s.vehicle_service_years:g} years"
                if s.vehicle_service_years
                else ""
            )
            + f"; a reused pack is recycled at {s.second_life_end_soh_fraction:.0%}.</p>",
            "<p><b>4R.</b> Packs leaving the cars in a year are ranked healthiest first and handed out to resell, "
            "reuse, refabricate and recycle in the shares "
            + ", ".join(f"{k} {v:.0%}" for k, v in s.route_shares.items())
            + " (whole packs, largest remainder). Resold and refabricated packs leave the town; refabricated ones "
            f"keep {s.good_module_share_fraction:.0%} of their modules, the rest is recycled at once. Materials: "
            "Argonne BatPaC 5.1 content per kWh, recovery by process from Argonne EverBatt, checked against the "
            "targets of Regulation (EU) 2023/1542 for the year. Pack counts and kilograms balance exactly.</p>",
            "<p><b>Emissions.</b> Scope 2 = grid import × the year's location-based grid factor (× the hourly "
            "shape of the plan's imports when the factor is hourly). Embodied: PV and wind capacity × the "
            "scenario's kg CO2e/kW, and new packs × battery kWh × "
            f"{s.cell_production_kg_co2e_per_kwh:g} kg CO2e/kWh (IVL 2019: 61–106), "
            + (
                "spread over each asset's service life (PV and wind: their lifetime; packs: their years in a car)"
                if s.embodied_accounting == "annualised"
                else "counted in the year the asset is made"
            )
            + "; reused packs carry no new footprint and no recycling credit is taken. The export credit (export × "
            "grid factor) is "
            + ("subtracted from" if s.export_credit else "shown beside, not subtracted from")
            + " the net emissions (GHG Protocol scope 2 does not net exports).</p>",
        ]
    )


def _settings_rows(result: RoadmapResult, scenario: Scenario) -> list[dict]:
    cfg = result.config
    s = cfg.settings
    path = cfg.grid_factor_kg_per_kwh
    rows = [
        ("Years", f"{cfg.years[0]}–{cfg.years[-1]}; target {cfg.target_year}; planned {cfg.planned_years}"),
        ("Fleet growth", f"{s.fleet_growth_per_year_fraction:.1%} per year"),
        (
            "Grid factor",
            f"{path.iloc[0] * 1000:.0f} g/kWh in {path.index[0]} → {path.iloc[-1] * 1000:.0f} g/kWh in "
            f"{path.index[-1]}"
            + (f" (points {s.grid_emission_factor_kg_per_kwh})" if s.grid_emission_factor_kg_per_kwh else ""),
        ),
        ("Chemistry, ageing model", f"{cfg.chemistry}, {cfg.ageing_model}"),
        (
            "Car pack",
            f"field calibration × {cfg.field_factors['central']:.3g} (band {cfg.field_factors['low']:.3g}–"
            f"{cfg.field_factors['high']:.3g}; {scenario.batteries.field_calibration_source}); C-rate "
            f"{scenario.batteries.c_rate_definition.replace('_', ' ')}; "
            + (
                f"pack + {scenario.batteries.sun_offset_c:g} °C in full sun, + "
                f"{scenario.batteries.charging_offset_c:g} °C charging"
                if scenario.batteries.pack_thermal_model == "offsets"
                else f"pack by V2G-Sim's thermal network (cabin + {scenario.batteries.cabin_solar_rise_c:g} °C "
                "in full sun)"
            ),
        ),
        (
            "Thresholds",
            f"leave the car at {s.retire_soh_fraction:.0%}; end of second life {s.second_life_end_soh_fraction:.0%}",
        ),
        (
            "Vehicle service",
            f"{s.vehicle_service_years:g} years" if s.vehicle_service_years else "kept until packs retire",
        ),
        ("Route shares", ", ".join(f"{k} {v:.0%}" for k, v in s.route_shares.items())),
        ("Recycling process", str(s.recycling_process)),
        (
            "Second life",
            f"{num(cfg.second_life_price_per_kwh)} {scenario.finance.currency}/kWh over "
            f"{s.second_life_lifetime_years:g} years; derate {s.second_life_derate_fraction:g}; idle SOC "
            f"{s.second_life_idle_soc_fraction:.0%}",
        ),
        ("Cell production", f"{s.cell_production_kg_co2e_per_kwh:g} kg CO2e/kWh ({s.embodied_accounting})"),
        ("Export credit", "netted" if s.export_credit else "not netted"),
    ]
    return [{"name": k, "value": v} for k, v in rows]


def render_roadmap(result: RoadmapResult, scenario: Scenario, *, scenario_name: str) -> str:
    """The roadmap report as one HTML string (plotly.js embedded, so it opens offline)."""
    cfg = result.config
    s = cfg.settings
    y = result.years
    town = scenario.municipality.name
    health_text = (
        f"Each line is one pack: red while it is in a car, purple while it serves as storage at the bases. A pack "
        f"leaves its car at {s.retire_soh_fraction:.0%} of nominal capacity"
        + (f" or with its vehicle after {s.vehicle_service_years:g} years" if s.vehicle_service_years else "")
        + f"; a reused pack is recycled at {s.second_life_end_soh_fraction:.0%}. "
    )
    still = result.packs[result.packs["retire_year"].isna()]["retire_age_years"]
    if len(still) and still.notna().any():
        health_text += (
            f"The packs still in cars at the end would reach the threshold at a median age of "
            f"{still.median():.1f} years (projected by repeating the last planned year)."
        )
    elif len(still):
        health_text += "The packs still in cars at the end do not reach the threshold within 60 more years."
    stocks = result.lifecycle.stocks
    sankey_text = (
        "Capacity [kWh] of the packs moving between states over the whole roadmap (hover for pack counts); "
        f"at the end of {y.index[-1]}: "
        + ", ".join(
            f"{int(stocks[f'{st}_packs'].iloc[-1])} {figures.STATE_LABELS[st].split(':')[0].lower()}"
            for st in ("in_car", "second_life", "resold", "refabricated", "recycled")
        )
        + f" ({num(stocks['recycled_kwh'].iloc[-1])} kWh of whole packs)"
        + f"; and {num(stocks['recycled_modules_kwh'].iloc[-1])} kWh of bad modules of refabricated packs "
        "recycled at their rebuild (kWh, not packs: counted apart from the packs recycled)."
    )
    eu = result.lifecycle.eu_targets
    short = eu[~eu["meets_target"].astype(bool)] if len(eu) else eu
    materials_text = (
        "Kilograms of each material recovered from the packs sent to recycling, and the mass lost (below zero). "
        + (
            f"{len(short)} recovery figures fall short of the EU 2023/1542 targets of their year (flagged below)."
            if len(short)
            else "Every regulated material meets the EU 2023/1542 target of its year."
            if len(eu)
            else "No regulated material was recycled within the roadmap."
        )
    )
    emissions_text = (
        "Stacked: the year's emissions by source [t CO2e]; line: net emissions; diamonds: the planned years; "
        f"dashed: the target year {cfg.target_year}. Avoided emissions against private gasoline cars "
        f"({_t(y['avoided_kg'].iloc[0])} t in {y.index[0]}, {_t(y['avoided_kg'].iloc[-1])} t in {y.index[-1]}) are "
        "reported in years.csv, not netted."
    )
    capacity_text = (
        "PV and wind in service (a plan may add capacity, never remove it), the second-life storage offered to "
        "each plan and the part it chose to use, and the fleet. Storage is used when the value of shifting local "
        "energy exceeds the second-life price: the plan's break-even price is (V − O&M) / CRF, with V the most one "
        "kWh of second-life storage earns a year against the duals of the sites' balances (chisan.plan.second_life)."
    )
    if "second_life_reason" in y:
        reasons = y["second_life_reason"].dropna()
        capacity_text += "".join(
            f" {year}: {reason} (break-even {num(y.loc[year, 'second_life_break_even_price_per_kwh'])} "
            f"{scenario.finance.currency}/kWh against {num(cfg.second_life_price_per_kwh)} offered)."
            for year, reason in reasons.items()
        )
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("chisan.report", "templates"), autoescape=False, undefined=jinja2.StrictUndefined
    )
    return env.get_template("roadmap.html.j2").render(
        plotly_js=plotly.offline.get_plotlyjs(),
        town=town,
        start=cfg.years[0],
        end=cfg.years[-1],
        target=cfg.target_year,
        version=__version__,
        scenario_name=scenario_name,
        generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        n_planned=len(cfg.planned_years),
        n_years=len(cfg.years),
        planned_list=", ".join(str(p) for p in cfg.planned_years),
        total_seconds=result.timings.get("total", 0.0),
        summary=_summary_text(result, town),
        cards=_cards(result),
        fig_emissions=fig_html(figures.emissions_path(y, result.summary, export_credit=s.export_credit)),
        emissions_text=emissions_text,
        year_rows=_year_rows(y),
        fig_capacity=fig_html(figures.capacity_path(y)),
        capacity_text=capacity_text,
        fig_health=fig_html(
            figures.health_curves(
                result.health, retire_soh=s.retire_soh_fraction, end_soh=s.second_life_end_soh_fraction
            )
        ),
        health_text=health_text,
        retired_rows=_retired_rows(result),
        fig_sankey=fig_html(figures.lifecycle_sankey(result.lifecycle.flows)),
        sankey_text=sankey_text,
        fig_materials=fig_html(figures.materials_recovered(result.lifecycle.materials)),
        materials_text=materials_text,
        eu_rows=_eu_rows(result),
        method_html=_method_html(result, scenario),
        settings=_settings_rows(result, scenario),
        files_text="; ".join(f"<code>{k}</code>: {v}" for k, v in FILES.items()) + ".",
    )


def write_roadmap_outputs(
    out_dir: str | Path,
    result: RoadmapResult,
    scenario: Scenario,
    *,
    scenario_text: str,
    scenario_name: str,
) -> Path:
    """Write the roadmap report and tables into ``out_dir`` atomically (temporary folder, then renamed).

    Returns
    -------
    Path
        The output folder.
    """
    out_dir = Path(out_dir).resolve()
    with atomic_folder(out_dir) as tmp:
        html = render_roadmap(result, scenario, scenario_name=scenario_name)
        (tmp / "roadmap.html").write_text(html, encoding="utf-8")
        result.years.to_csv(tmp / "years.csv")
        result.packs.to_csv(tmp / "packs.csv", index=False)
        result.health.to_csv(tmp / "health.csv", index=False)
        result.lifecycle.stocks.to_csv(tmp / "stocks.csv")
        result.lifecycle.flows.to_csv(tmp / "flows.csv", index=False)
        result.lifecycle.materials.to_csv(tmp / "materials.csv", index=False)
        result.lifecycle.eu_targets.to_csv(tmp / "eu_targets.csv", index=False)
        meta = {
            "chisan": __version__,
            "scenario": scenario_name,
            "summary": result.summary,
            "planned_years": result.config.planned_years,
            "settings": result.config.settings.model_dump(),
            "ageing_model": result.config.ageing_model,
            "chemistry": result.config.chemistry,
            "field_calibration_factors": dict(result.config.field_factors),
            "second_life_price_per_kwh": result.config.second_life_price_per_kwh,
            "timings_s": result.timings,
        }
        (tmp / "roadmap.json").write_text(json.dumps(jsonable(meta), indent=2, default=str), encoding="utf-8")
        (tmp / "scenario.toml").write_text(scenario_text, encoding="utf-8")
    return out_dir
