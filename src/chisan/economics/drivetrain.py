"""Choosing a depot fleet's drivetrain: the cheapest mix of battery-electric, fuel-cell and diesel within a carbon
target (``[drivetrain_choice]``).

Candidates. The depot runs ``V`` vehicle-days per working day (``vehicle_days_per_day``, or all of its duty file's).
A candidate gives each of ``drivetrains`` a share in steps of ``step_fraction`` (shares sum to 1); it runs
``k_b = round(s_b V)`` vehicle-days battery-electric, ``k_f = round(s_f V)`` fuel-cell, ``k_d = V - k_b - k_f`` diesel.
The battery-electric part is the depot with ``vehicle_days_per_day = k_b`` planned by the same pipeline as
``chisan plan`` and ``chisan compare`` (:func:`chisan.plan.pipeline.plan_scenario`, no business-as-usual solve); with
``k_b < V`` its vehicles and chargers are sized from the duties. The day's draw is a seeded permutation of the
vehicle-days whose first ``k`` are run (:func:`chisan.depots.schedule.lay_vehicle_days`), so the battery-electric
vehicle-days are the first ``k_b`` of the all-vehicle-day draw and the others run the rest: their distance is the
depot's whole distance less the planned battery-electric one, split between fuel-cell and diesel by ``k_f : k_d``.
Candidates with the same ``k_b`` share one plan.

Cost per candidate and year [currency/year] (the depot fleet only; ``crf`` = capital recovery factor)::

    battery-electric = n_b x capex x crf(r, L) + km_b x maintenance + electricity + chargers
    fuel-cell        = k_f x fc capex x crf(r, L_fc) + km_f x fc maintenance + km_f x kg/100 km / 100 x H2 price
    diesel           = k_d x diesel capex x crf(r, L) + km_d x diesel maintenance + km_d x l/100 km / 100 x price

with ``n_b`` the planned vehicles, electricity the depot's share of its site (:func:`chisan.economics.diesel.depot_tco`)
and chargers the annuity and O&M of the depot's chargers (``[technologies.chargers]``). One fuel-cell or diesel
vehicle per vehicle-day (no charging time to cover). CO2 per year [kg CO2/year]::

    battery-electric = depot share of its site's grid import x the step's grid factor
    fuel-cell        = kg H2 x hydrogen_co2_kg_per_kg
    diesel           = litres x DIESEL_CO2_KG_PER_L

The chosen candidate is the cheapest whose CO2 ≤ ``max_co2_kg_per_year``. Money is in the scenario's
``finance.currency``: the vehicle prices and the diesel price (with its per-currency default) are those of the depot
comparison (:func:`chisan.economics.diesel.vehicle_prices`, :func:`chisan.economics.diesel.diesel_price_per_l`); the
fuel-cell figures ``fuel_cell_capex`` [currency per vehicle], ``fuel_cell_maintenance_per_km`` [currency/km] and
``hydrogen_price_per_kg`` [currency/kg] are the scenario's own (chisan has no default in any currency).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chisan.catalogue.fuel_cell_classes import fuel_cell_class
from chisan.catalogue.vehicle_classes import vehicle_class
from chisan.depots.duties import read_nrel_vehicle_days
from chisan.depots.schedule import lay_vehicle_days, read_shift_csv, working_days
from chisan.economics.diesel import DIESEL_CO2_KG_PER_L, depot_tco, diesel_price_per_l, vehicle_prices
from chisan.exceptions import ScenarioError
from chisan.scenario.schema import Scenario
from chisan.units import capital_recovery_factor

DRIVETRAINS = ("battery_electric", "fuel_cell", "diesel")


@dataclass
class DrivetrainChoiceResult:
    """Every candidate costed and the one chosen.

    Attributes
    ----------
    candidates : pandas.DataFrame
        One row per candidate (index ``candidate``, e.g. ``"BEV 50 % / diesel 50 %"``): shares ``*_share`` [-],
        vehicle-days per day ``*_vehicle_days``, ``km_per_year`` [km], costs ``*_<cur>_per_year`` and
        ``total_<cur>_per_year`` (``<cur>`` the currency in lower case, e.g. ``jpy``, ``cny``),
        ``co2_kg_per_year`` [kg CO2/year], ``meets_target`` (bool), ``chosen`` (bool).
    chosen : str
        The chosen candidate's name.
    why : str
        One sentence: why it was chosen.
    runs : dict[int, PlanRun]
        The plans by battery-electric vehicle-days a day (0: the scenario without the depot).
    currency : str
        The scenario's ``finance.currency``, of every money column.
    """

    candidates: pd.DataFrame
    chosen: str
    why: str
    runs: dict = field(default_factory=dict)
    currency: str = "JPY"


def candidate_shares(drivetrains: list[str], step: float) -> list[dict[str, float]]:
    """Every mix of ``drivetrains`` in steps of ``step`` whose shares sum to 1 (each share a multiple of ``step``)."""
    n = round(1.0 / step)
    mixes = []
    for parts in itertools.product(range(n + 1), repeat=len(drivetrains)):
        if sum(parts) == n:
            mixes.append({d: p / n for d, p in zip(drivetrains, parts, strict=True)})
    return mixes


def _name(shares: dict[str, float]) -> str:
    label = {"battery_electric": "BEV", "fuel_cell": "FCEV", "diesel": "diesel"}
    return " / ".join(f"{label[d]} {s * 100:.0f} %" for d, s in shares.items() if s > 0)


def choose_drivetrain(scenario: Scenario, *, method: str | None = None) -> DrivetrainChoiceResult:
    """Plan and cost every candidate of ``scenario.drivetrain_choice`` and choose the cheapest within the target.

    Parameters
    ----------
    scenario : Scenario
        With a ``[drivetrain_choice]`` table naming one of its depots.
    method : str, optional
        Planning method (default: the scenario's).

    Returns
    -------
    DrivetrainChoiceResult

    Raises
    ------
    ScenarioError
        No ``[drivetrain_choice]``; its depot is not one of [[depots]]; or no candidate meets
        ``drivetrain_choice.max_co2_kg_per_year`` (the message gives the lowest CO2 of the candidates).
    """
    from chisan.plan.pipeline import plan_scenario

    choice = scenario.drivetrain_choice
    if choice is None:
        raise ScenarioError("the scenario has no [drivetrain_choice] table; add one naming a depot of [[depots]]")
    names = [d.name for d in scenario.depots]
    if choice.depot not in names:
        raise ScenarioError(
            f"drivetrain_choice.depot = {choice.depot!r} is not a depot; the depots are {', '.join(names) or '(none)'}"
        )
    i = names.index(choice.depot)
    depot = scenario.depots[i]
    cls = vehicle_class(depot.vehicle_class, field=f"depots[{i}].vehicle_class")
    cur = scenario.finance.currency
    c = cur.lower()
    prices = vehicle_prices(depot.vehicle_class, cur, field=f"depots[{i}].vehicle_class")
    diesel_price = diesel_price_per_l(depot.diesel_price_per_l, cur, field=f"depots[{i}].diesel_price_per_l")
    shifts = (
        read_nrel_vehicle_days(scenario.resolve(depot.path))
        if depot.duties == "nrel"
        else read_shift_csv(scenario.resolve(depot.path))
    )
    total_days = int(pd.unique(shifts["vehicle_day_id"].astype(str)).size)
    v = depot.vehicle_days_per_day or total_days
    r = scenario.finance.discount_rate_fraction

    plans: dict[int, dict] = {}
    runs: dict = {}

    def electric(k_b: int) -> dict:
        """The plan of the depot with ``k_b`` battery-electric vehicle-days a day: its costs, km and CO2."""
        if k_b in plans:
            return plans[k_b]
        depots = list(scenario.depots)
        if k_b == 0:
            depots.pop(i)
        else:
            sized = {"vehicles": None, "chargers": None} if k_b < v else {}
            depots[i] = depot.model_copy(update={"vehicle_days_per_day": k_b, **sized})
        variant = scenario.model_copy(update={"depots": depots, "drivetrain_choice": None})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = plan_scenario(variant, method=method, business_as_usual=False)
        runs[k_b] = run
        inputs = run.prepared.inputs
        days = working_days(inputs.snapshots, depot.working_days)
        everyone = lay_vehicle_days(shifts, days, per_day=v, seed=depot.seed, station=depot.name)
        out = {"km_all": float(everyone["distance_km"].sum()) * inputs.opex_scale, "km": 0.0, "n": 0}
        out.update(vehicles=0.0, electricity=0.0, maintenance=0.0, chargers=0.0, co2=0.0)
        if k_b > 0:
            tco = depot_tco(variant, inputs, run.results, run.prepared.assignment).loc[depot.name]
            ch = variant.technologies.chargers
            n_ch = int(run.results.stations.loc[depot.name, "chargers"])
            out.update(
                n=int(tco["vehicles"]),
                km=float(tco["km_per_year"]),
                vehicles=float(tco[f"bev_capex_{c}_per_year"]),
                maintenance=float(tco[f"bev_maintenance_{c}_per_year"]),
                electricity=float(tco[f"electricity_{c}_per_year"]),
                chargers=n_ch
                * (ch.capex_per_charger * capital_recovery_factor(r, ch.lifetime_years) + ch.fixed_om_per_charger_year),
                co2=_depot_grid_co2_kg(depot.site or depot.name, depot.name, inputs, run.results),
            )
        plans[k_b] = out
        return out

    rows = {}
    for shares in candidate_shares(list(choice.drivetrains), choice.step_fraction):
        s_b, s_f = shares.get("battery_electric", 0.0), shares.get("fuel_cell", 0.0)
        k_b = round(s_b * v)
        k_f = min(round(s_f * v), v - k_b)
        k_d = v - k_b - k_f
        bev = electric(k_b)
        rest_km = max(bev["km_all"] - bev["km"], 0.0)  # [km/year] run by fuel-cell and diesel vehicles
        km_f = rest_km * k_f / (k_f + k_d) if k_f + k_d else 0.0
        km_d = rest_km - km_f
        row = {
            "battery_electric_share": s_b,
            "fuel_cell_share": s_f,
            "diesel_share": shares.get("diesel", 0.0),
            "battery_electric_vehicle_days": k_b,
            "fuel_cell_vehicle_days": k_f,
            "diesel_vehicle_days": k_d,
            "battery_electric_vehicles": bev["n"],
            "km_per_year": bev["km"] + rest_km,
            "battery_electric_km_per_year": bev["km"],
            "fuel_cell_km_per_year": km_f,
            "diesel_km_per_year": km_d,
        }
        bev_total = bev["vehicles"] + bev["maintenance"] + bev["electricity"] + bev["chargers"]
        fc_total, fc_co2 = 0.0, 0.0
        if k_f:
            fc = fuel_cell_class(choice.fuel_cell_class, field="drivetrain_choice.fuel_cell_class")
            kg = km_f * fc.kg_per_100km / 100.0  # [kg] = [km] x [kg/100 km] / 100
            crf_fc = capital_recovery_factor(r, choice.fuel_cell_lifetime_years)
            fc_total = (
                k_f * choice.fuel_cell_capex * crf_fc  # [currency/year] = [vehicles] x [currency] x [1/year]
                + km_f * choice.fuel_cell_maintenance_per_km  # [km] x [currency/km]
                + kg * choice.hydrogen_price_per_kg  # [kg] x [currency/kg]
            )
            fc_co2 = kg * choice.hydrogen_co2_kg_per_kg
        litres = km_d * cls.diesel_l_per_100km / 100.0  # [l] = [km] x [l/100 km] / 100
        diesel_total = (
            k_d * prices.diesel_capex * capital_recovery_factor(r, cls.lifetime_years)
            + km_d * prices.diesel_maintenance_per_km
            + litres * diesel_price
        )
        row.update(
            **{
                f"battery_electric_{c}_per_year": bev_total,
                f"fuel_cell_{c}_per_year": fc_total,
                f"diesel_{c}_per_year": diesel_total,
                f"total_{c}_per_year": bev_total + fc_total + diesel_total,
            },
            battery_electric_co2_kg_per_year=bev["co2"],
            fuel_cell_co2_kg_per_year=fc_co2,
            diesel_co2_kg_per_year=litres * DIESEL_CO2_KG_PER_L,
            co2_kg_per_year=bev["co2"] + fc_co2 + litres * DIESEL_CO2_KG_PER_L,
        )
        rows[_name(shares)] = row
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("candidate")
    result = pick_candidate(table, choice.max_co2_kg_per_year, cur)
    result.runs = runs
    return result


def pick_candidate(table: pd.DataFrame, target: float | None, currency: str = "JPY") -> DrivetrainChoiceResult:
    """The cheapest candidate of ``table`` whose ``co2_kg_per_year`` ≤ ``target`` [kg CO2/year] (None: any);
    costs in ``total_<currency>_per_year``.

    Raises
    ------
    ScenarioError
        No candidate meets the target; names ``drivetrain_choice.max_co2_kg_per_year`` and the lowest CO2.
    """
    table = table.copy()
    total = f"total_{currency.lower()}_per_year"
    table["meets_target"] = True if target is None else table["co2_kg_per_year"] <= target
    if not table["meets_target"].any():
        low = table["co2_kg_per_year"].idxmin()
        raise ScenarioError(
            f"drivetrain_choice.max_co2_kg_per_year = {target:,.0f} is met by no candidate; the lowest CO2 is "
            f"{table.loc[low, 'co2_kg_per_year']:,.0f} kg/year ({low}): raise the target, or add drivetrains"
        )
    ok = table[table["meets_target"]]
    chosen = str(ok[total].idxmin())
    table["chosen"] = table.index == chosen
    cheapest = str(table[total].idxmin())
    cost = table.loc[chosen, total]
    if cheapest == chosen:
        why = f"{chosen} is the cheapest of the {len(table)} candidates ({cost:,.0f} {currency}/year)"
        if target is not None:
            why += f" and meets the target of {target:,.0f} kg CO2/year"
    else:
        why = (
            f"{chosen} is the cheapest of the {len(ok)} candidates meeting {target:,.0f} kg CO2/year "
            f"({cost:,.0f} {currency}/year); the cheapest overall, {cheapest} ({table.loc[cheapest, total]:,.0f} "
            f"{currency}/year), emits {table.loc[cheapest, 'co2_kg_per_year']:,.0f} kg CO2/year"
        )
    return DrivetrainChoiceResult(table, chosen, why, currency=currency)


def _depot_grid_co2_kg(site: str, depot: str, inputs, results) -> float:
    """The depot's share of its site's grid-import CO2 [kg CO2/year] (share as in economics.diesel)."""
    dispatch = results.dispatch
    weight = dispatch["weight"].to_numpy(float) if "weight" in dispatch else np.ones(len(dispatch))
    ef = dispatch["emission_factor_kg_per_kwh"].to_numpy(float)
    scale = inputs.dt_hours * inputs.opex_scale
    sites = results.sites
    charging = float(results.stations.loc[depot, "charging_kwh_per_year"])
    if sites is None or site not in sites.index:  # one town meter: the depot's charging at the mean factor
        return charging * float(np.average(ef, weights=weight))
    imp = dispatch[f"site_import_kw:{site}"].to_numpy(float) * weight
    site_charging = float(sites.loc[site, "charging_kwh_per_year"])
    share = charging / site_charging if site_charging > 0 else 1.0
    return float((imp * ef).sum() * scale * share)


def choice_markdown(result: DrivetrainChoiceResult) -> str:
    """The candidates as a Markdown table (cost, CO2, target met, chosen) and the reason of the choice."""
    t = result.candidates
    total = f"total_{result.currency.lower()}_per_year"
    lines = [
        f"| candidate | BEV vehicles | km/year | cost [{result.currency}/year] | CO2 [kg/year] | meets target "
        "| chosen |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for name, row in t.iterrows():
        lines.append(
            f"| {name} | {row['battery_electric_vehicles']} | {row['km_per_year']:,.0f} | "
            f"{row[total]:,.0f} | {row['co2_kg_per_year']:,.0f} | "
            f"{'yes' if row['meets_target'] else 'no'} | {'**chosen**' if row['chosen'] else ''} |"
        )
    return "\n".join(lines) + f"\n\nChosen: {result.why}.\n"


def shares_in_year(path: dict[int, dict[str, float]], year: int) -> dict[str, float]:
    """The drivetrain shares of ``year`` on a yearly ``path`` (roadmap ``depot_drivetrain_shares``).

    A year's shares hold until the next year given (a step path); years before the first given take the first.
    Every drivetrain of :data:`DRIVETRAINS` is in the answer (0 when not given).
    """
    given = sorted(path)
    key = max((y for y in given if y <= year), default=given[0])
    return {d: float(path[key].get(d, 0.0)) for d in DRIVETRAINS}


def depot_year_scenario(scenario: Scenario, shares: dict[str, float]) -> Scenario:
    """The scenario with each depot running only its battery-electric share of its vehicle-days [-].

    Each depot of ``V`` vehicle-days a day runs ``round(battery_electric x V)`` of them on the plan (vehicles and
    chargers sized from the duties when fewer than ``V``); a depot with none is left out. The fuel-cell and
    diesel vehicle-days run off the electricity system.
    """
    depots = []
    for d in scenario.depots:
        path = scenario.resolve(d.path)
        shifts = read_nrel_vehicle_days(path) if d.duties == "nrel" else read_shift_csv(path)
        v = d.vehicle_days_per_day or int(pd.unique(shifts["vehicle_day_id"].astype(str)).size)
        k_b = round(shares["battery_electric"] * v)
        if k_b == v:
            depots.append(d)
        elif k_b > 0:
            depots.append(d.model_copy(update={"vehicle_days_per_day": k_b, "vehicles": None, "chargers": None}))
    return scenario.model_copy(update={"depots": depots})
