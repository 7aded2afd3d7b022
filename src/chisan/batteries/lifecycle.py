"""The 4R lifecycle of packs: reuse, resell, refabricate, recycle, as a yearly stock-flow.

A pack serves in a car until its state of health (SOH) reaches the retire threshold (70-80 %, default 0.8
[1]_ [2]_). It is then routed (:func:`route_retired_packs`):

* **Reuse**: stationary storage at the stations (the loop closes: it is storage capacity in later years of
  a roadmap). Usable capacity is derated to its SOH (times an optional extra factor). It ages by
  :data:`SECOND_LIFE_FADE_PER_YEAR` until the end threshold (default 0.6), then is recycled. NREL
  (Neubauer et al. [1]_ [2]_): about 10 more years stationary at 50 % daily DoD from 70-80 % SOH.
* **Resell**: sold as a replacement pack for an older car; it keeps ageing at the rate it aged in its first
  car until the end threshold, then is recycled.
* **Refabricate**: rebuilt from its healthy modules (a share ``good_module_share`` of the pack, 4R Energy's
  practice [3]_); the bad modules go to recycling at once, the rebuilt pack serves in a car like a resold one.
* **Recycle**: materials recovered by process (:mod:`chisan.batteries.materials`).

Every pack is in exactly one state at the end of every year (``in_car``, ``second_life``, ``resold``,
``refabricated``, ``recycled``), so the pack counts balance exactly, year by year:
``stock(y) = stock(y - 1) + inflows(y) - outflows(y)``; and every kilogram of material sent to recycling is
recovered or lost.

References
----------
.. [1] J. Neubauer, A. Pesaran, B. Williams, M. Ferry, J. Eyer (2012), A Techno-Economic Analysis of PEV
   Battery Second Use: Repurposed-Battery Selling Price and Commercial and Industrial End-User Value,
   SAE Technical Paper 2012-01-0349. doi:10.4271/2012-01-0349
.. [2] J. Neubauer, K. Smith, E. Wood, A. Pesaran (2015), Identifying and Overcoming Critical Barriers to
   Widespread Second Use of PEV Batteries, NREL/TP-5400-63332.
.. [3] 4R Energy Corporation / Nissan: Yumeshima (Osaka) 600 kW / 400 kWh system of 16 used Leaf packs (2014);
   refabricated 24 kWh Leaf pack at ¥300,000 against ¥650,000 new (DESIGN.md §7).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from chisan.batteries.ageing import check_threshold
from chisan.batteries.materials import (
    PROCESSES,
    check_chemistry,
    check_eu_recovery,
    check_process,
    pack_materials,
    recover_materials,
)
from chisan.exceptions import ScenarioError

ROUTES: tuple[str, ...] = ("resell", "reuse", "refabricate", "recycle")
"""The 4R routes, in the order packs are offered to them (healthiest first)."""

STATES: tuple[str, ...] = ("in_car", "second_life", "resold", "refabricated", "recycled")
"""Where a pack can be at the end of a year."""

ROUTE_STATE: Mapping[str, str] = MappingProxyType(
    {"resell": "resold", "reuse": "second_life", "refabricate": "refabricated", "recycle": "recycled"}
)
"""State a pack enters in its retirement year, by route."""

DEFAULT_RETIRE_SOH: float = 0.8
"""SOH at which a pack leaves a car [fraction]; 70-80 % in NREL's second-use studies [1]_ [2]_."""

DEFAULT_END_SOH: float = 0.6
"""SOH at which a second-life, resold or refabricated pack is recycled [fraction] ([1]_ [2]_, DESIGN §7)."""

SECOND_LIFE_FADE_PER_YEAR: float = (DEFAULT_RETIRE_SOH - DEFAULT_END_SOH) / 10.0
"""SOH lost per year in stationary second life [fraction/year]: from 0.8 to 0.6 in about 10 years at 50 %
daily DoD (NREL, Neubauer et al. [1]_ [2]_), i.e. 0.02 per year."""

DEFAULT_ROUTE_SHARES: Mapping[str, float] = MappingProxyType(
    {"resell": 0.1, "reuse": 0.5, "refabricate": 0.2, "recycle": 0.2}
)
"""Illustrative default split of retired packs [fraction]. Not a published figure (none is known to us):
set it from the operator's contracts."""

DEFAULT_GOOD_MODULE_SHARE: float = 0.8
"""Illustrative share of a refabricated pack's modules that are healthy enough to rebuild a pack [fraction];
not a published figure."""

MODULES_RECYCLED: str = "recycled_modules"
"""Flow target of the bad modules of refabricated packs: kWh sent to recycling, 0 packs (not a pack's state, so
pack counts and kWh are counted apart: the modules of a rebuilt pack are not "packs recycled")."""

STATE_CODE: Mapping[str, int] = MappingProxyType({"absent": -1, **{s: i for i, s in enumerate(STATES)}})


@dataclass(frozen=True)
class StockFlowResult:
    """Result of :func:`stock_flow`.

    Attributes
    ----------
    packs : pandas.DataFrame
        One row per pack: the input columns plus ``route``, ``end_year`` (year it is recycled; NaN if not
        within the horizon) and ``fade_per_year`` [fraction/year] after retirement.
    stocks : pandas.DataFrame
        Index ``year``; for each state ``{state}_packs`` [count] and ``{state}_kwh`` (nominal capacity [kWh] of
        those packs; a refabricated pack counts its good modules under ``refabricated_kwh``, and under
        ``recycled_kwh`` when it is recycled in the end), ``recycled_modules_kwh`` (the bad modules of
        refabricated packs, sent to recycling at the rebuild: kWh without packs),
        ``second_life_usable_kwh`` (capacity × SOH × derate [kWh], storage available at
        the stations) and ``total_packs``.
    flows : pandas.DataFrame
        Columns ``year, source, target, packs, capacity_kwh``: packs and nominal capacity [kWh] moving
        between states during the year (``source = "new"`` for packs entering service; the bad modules of a
        refabricated pack as ``in_car -> recycled_modules`` with 0 packs), ready for a Sankey diagram. Both packs
        and capacity balance the stocks exactly.
    materials : pandas.DataFrame
        Columns ``year, process, material, mass_in_kg, recovered_kg, lost_kg, recovery_fraction`` [kg].
    eu_targets : pandas.DataFrame
        :func:`chisan.batteries.materials.check_eu_recovery` of ``materials``: shortfalls are flagged with
        ``meets_target = False`` and a message.
    """

    packs: pd.DataFrame
    stocks: pd.DataFrame
    flows: pd.DataFrame
    materials: pd.DataFrame
    eu_targets: pd.DataFrame


def check_shares(shares: Mapping[str, float], names: Sequence[str], what: str) -> dict[str, float]:
    """Check shares: known names, each in [0, 1], summing to 1 (within 1e-9). Missing names count 0."""
    unknown = sorted(set(shares) - set(names))
    if unknown:
        raise ScenarioError(f"{what}: unknown name(s) {unknown}; valid: {', '.join(names)}.")
    out = {name: float(shares.get(name, 0.0)) for name in names}
    for name, value in out.items():
        if not (0.0 <= value <= 1.0):
            raise ScenarioError(f"{what}[{name!r}] = {value}; allowed: a fraction in [0, 1].")
    total = sum(out.values())
    if abs(total - 1.0) > 1e-9:
        raise ScenarioError(f"{what} must sum to 1, but they sum to {total:.6g} ({out}).")
    return out


def _check_columns(frame: pd.DataFrame, required: Sequence[str], what: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ScenarioError(f"{what} is missing column(s) {missing}; required: {list(required)}.")


def _check_packs_table(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Canonical chemistries, non-negative capacities, unique pack ids."""
    frame = frame.copy()
    frame["chemistry"] = [
        check_chemistry(c, where=f"{what}, pack {p!r}")
        for c, p in zip(frame["chemistry"], frame["pack_id"], strict=True)
    ]
    capacity = pd.to_numeric(frame["capacity_kwh"], errors="coerce").astype(float)
    bad = ~np.isfinite(capacity) | (capacity < 0)
    if bad.any():
        row = frame.index[np.flatnonzero(bad.to_numpy())[0]]
        raise ScenarioError(
            f"{what}, pack {frame.at[row, 'pack_id']!r}: capacity_kwh = {frame.at[row, 'capacity_kwh']}; "
            "allowed: a finite number >= 0 kWh."
        )
    duplicated = frame["pack_id"].duplicated()
    if duplicated.any():
        raise ScenarioError(f"{what}: pack_id {frame['pack_id'][duplicated].iloc[0]!r} appears more than once.")
    return frame


def _optional_column(table: pd.DataFrame, name: str, retiring: pd.Series, *, allow_inf: bool = False) -> np.ndarray:
    """Values of an optional override column for retiring packs (NaN where absent or not given)."""
    if name not in table.columns:
        return np.full(len(table), np.nan)
    values = pd.to_numeric(table[name], errors="coerce").astype(float).to_numpy()
    values = np.where(retiring.to_numpy(), values, np.nan)
    bad = (values < 0) | (np.isinf(values) if not allow_inf else np.isneginf(values))
    if bad.any():
        row = table.index[np.flatnonzero(bad)[0]]
        raise ScenarioError(
            f"packs, pack {table.at[row, 'pack_id']!r}: {name} = {table.at[row, name]}; allowed: a number >= 0"
            + (" (inf = not within the horizon)." if allow_inf else ".")
        )
    return values


def _check_given_end_years(table: pd.DataFrame, end_year: np.ndarray, retire: np.ndarray, route: np.ndarray) -> None:
    """A given end year is the retire year for recycled packs and after it for the other routes."""
    given = ~np.isnan(end_year)
    wrong = given & np.where(route == "recycle", end_year != retire, end_year <= retire)
    if wrong.any():
        i = np.flatnonzero(wrong)[0]
        raise ScenarioError(
            f"packs, pack {table.at[table.index[i], 'pack_id']!r}: end_year {end_year[i]:g} with route "
            f"{route[i]!r} and retire_year {retire[i]:g}; allowed: end_year = retire_year for 'recycle', "
            "end_year > retire_year for the other routes."
        )


def _states(
    years: np.ndarray, entry: np.ndarray, retire: np.ndarray, end_year: np.ndarray, route: np.ndarray
) -> np.ndarray:
    """State code of each pack (columns) at the end of each year (rows); ``absent`` before service."""
    y = years[:, None].astype(float)
    state = np.full((years.size, entry.size), STATE_CODE["absent"], dtype=np.int64)
    state[y >= entry] = STATE_CODE["in_car"]
    for r, s in ROUTE_STATE.items():
        state[(y >= retire) & (route == r)] = STATE_CODE[s]
    state[y >= end_year] = STATE_CODE["recycled"]
    return state


def _largest_remainder(n: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Whole pack counts per route that sum to ``n`` and are closest to ``n × share`` (Hamilton's method)."""
    quotas = {name: n * share for name, share in shares.items()}
    counts = {name: int(np.floor(q + 1e-9)) for name, q in quotas.items()}
    left = n - sum(counts.values())
    by_remainder = sorted(quotas, key=lambda name: (-(quotas[name] - counts[name]), ROUTES.index(name)))
    for name in by_remainder[:left]:
        counts[name] += 1
    return counts


def route_retired_packs(
    retirements: pd.DataFrame,
    shares: Mapping[str, float] | None = None,
    *,
    end_soh: float = DEFAULT_END_SOH,
) -> pd.DataFrame:
    """Route the packs retiring from cars to the 4Rs, year by year.

    In each year, packs whose SOH is above ``end_soh`` are ranked healthiest first and handed out in the order
    resell, reuse, refabricate, recycle, in whole numbers as close to ``shares`` as possible (largest
    remainder); packs at or below ``end_soh`` can only be recycled. The routing is deterministic.

    Parameters
    ----------
    retirements : pandas.DataFrame
        Columns ``year``, ``pack_id``, ``chemistry``, ``capacity_kwh`` [kWh] and ``soh`` [fraction] at
        retirement.
    shares : mapping, optional
        Share of eligible retired packs per route (:data:`ROUTES`), summing to 1; default
        :data:`DEFAULT_ROUTE_SHARES`.
    end_soh : float, default 0.6
        SOH [fraction] at or below which a pack is recycled.

    Returns
    -------
    pandas.DataFrame
        ``retirements`` with a ``route`` column.
    """
    shares = check_shares(DEFAULT_ROUTE_SHARES if shares is None else shares, ROUTES, "route shares")
    end_soh = check_threshold(end_soh, "end_soh")
    _check_columns(retirements, ["year", "pack_id", "chemistry", "capacity_kwh", "soh"], "retirements")
    routed = _check_packs_table(retirements, "retirements")
    soh = routed["soh"].astype(float)
    bad = ~np.isfinite(soh) | (soh < 0) | (soh > 1)
    if bad.any():
        row = routed.index[np.flatnonzero(bad.to_numpy())[0]]
        raise ScenarioError(
            f"retirements, pack {routed.at[row, 'pack_id']!r}: soh = {routed.at[row, 'soh']}; "
            "allowed: a fraction in [0, 1]."
        )
    routed["route"] = "recycle"
    for _, group in routed[soh > end_soh].groupby("year", sort=True):
        order = group.sort_values(["soh", "pack_id"], ascending=[False, True]).index
        counts = _largest_remainder(len(order), shares)
        start = 0
        for route in ROUTES:
            routed.loc[order[start : start + counts[route]], "route"] = route
            start += counts[route]
    return routed


def stock_flow(
    packs: pd.DataFrame,
    years: Sequence[int],
    *,
    shares: Mapping[str, float] | None = None,
    process: str | Mapping[str, float] = "hydrometallurgy",
    end_soh: float = DEFAULT_END_SOH,
    second_life_fade_per_year: float = SECOND_LIFE_FADE_PER_YEAR,
    second_life_derate: float = 1.0,
    good_module_share: float = DEFAULT_GOOD_MODULE_SHARE,
    recovery_rates: Mapping[str, Mapping[str, float]] | None = None,
) -> StockFlowResult:
    """Yearly stocks and flows of packs through cars and the 4Rs, with the materials recycled.

    Parameters
    ----------
    packs : pandas.DataFrame
        One row per pack: ``pack_id``, ``chemistry``, ``capacity_kwh`` [kWh] (nominal), ``year_in_service``
        (calendar year it enters a car), ``retire_year`` (calendar year it leaves the car, after
        ``year_in_service``; NaN if it does not retire within ``years``) and ``soh_at_retirement``
        [fraction]. An optional ``route`` column fixes the route; otherwise :func:`route_retired_packs`
        assigns it. Optional ``end_year`` (calendar year it is recycled; ``inf`` = beyond the horizon) and
        ``fade_per_year`` [fraction/year] columns override, pack by pack where given, the end of life and the
        SOH decline after retirement that are otherwise derived from ``second_life_fade_per_year`` and the
        fade in the car (e.g. from a second-life ageing model run on the storage's planned operation).
    years : sequence of int
        Consecutive calendar years to report.
    shares : mapping, optional
        Route shares (see :func:`route_retired_packs`).
    process : str or mapping, default ``"hydrometallurgy"``
        Recycling process, or shares of the recycled mass per process (summing to 1).
    end_soh : float, default 0.6
        SOH [fraction] at which reused, resold and refabricated packs are recycled.
    second_life_fade_per_year : float, default 0.02
        SOH lost per year in stationary use [fraction/year].
    second_life_derate : float, default 1.0
        Extra factor on the usable capacity of second-life packs (on top of SOH) [fraction].
    good_module_share : float, default 0.8
        Share of a refabricated pack's modules reused [fraction]; the rest is recycled when it is rebuilt.
    recovery_rates : mapping, optional
        ``{process: {material: fraction}}``; default :data:`chisan.batteries.materials.RECOVERY_RATES`.

    Returns
    -------
    StockFlowResult
    """
    years_arr = np.asarray(list(years), dtype=np.int64)
    if years_arr.size == 0 or np.any(np.diff(years_arr) != 1):
        raise ScenarioError(f"years must be consecutive calendar years, got {list(years)!r}.")
    end_soh = check_threshold(end_soh, "end_soh")
    good_module_share = check_threshold(good_module_share, "good_module_share")
    second_life_derate = check_threshold(second_life_derate, "second_life_derate")
    if not (0.0 < second_life_fade_per_year < 1.0):
        raise ScenarioError(
            f"second_life_fade_per_year = {second_life_fade_per_year}; allowed: a fraction per year in (0, 1)."
        )
    if isinstance(process, str):
        process_shares = {check_process(process): 1.0}
    else:
        process_shares = {
            k: v
            for k, v in check_shares(
                {check_process(p): s for p, s in process.items()},
                PROCESSES,
                "process shares",
            ).items()
            if v > 0
        }

    required = ["pack_id", "chemistry", "capacity_kwh", "year_in_service", "retire_year", "soh_at_retirement"]
    _check_columns(packs, required, "packs")
    table = _check_packs_table(packs.reset_index(drop=True), "packs")
    retiring = table["retire_year"].notna()
    if (table.loc[retiring, "retire_year"] <= table.loc[retiring, "year_in_service"]).any():
        row = table.index[retiring & (table["retire_year"] <= table["year_in_service"])][0]
        raise ScenarioError(
            f"packs, pack {table.at[row, 'pack_id']!r}: retire_year {table.at[row, 'retire_year']} must be "
            f"after year_in_service {table.at[row, 'year_in_service']}."
        )

    soh_given = table.loc[retiring, "soh_at_retirement"].astype(float)
    bad_soh = ~np.isfinite(soh_given) | (soh_given < 0) | (soh_given > 1)
    if bad_soh.any():
        row = soh_given.index[bad_soh.to_numpy()][0]
        raise ScenarioError(
            f"packs, pack {table.at[row, 'pack_id']!r}: soh_at_retirement = "
            f"{table.at[row, 'soh_at_retirement']}; allowed: a fraction in [0, 1] for a retiring pack."
        )

    # Routes of the retiring packs.
    if "route" in table.columns and table.loc[retiring, "route"].notna().all():
        bad_route = ~table.loc[retiring, "route"].isin(ROUTES)
        if bad_route.any():
            value = table.loc[retiring, "route"][bad_route].iloc[0]
            raise ScenarioError(f"packs: unknown route {value!r}; valid routes: {', '.join(ROUTES)}.")
    else:
        retirements = table.loc[retiring, ["retire_year", "pack_id", "chemistry", "capacity_kwh"]].rename(
            columns={"retire_year": "year"}
        )
        retirements["soh"] = table.loc[retiring, "soh_at_retirement"]
        table["route"] = None
        table.loc[retiring, "route"] = route_retired_packs(retirements, shares, end_soh=end_soh)["route"]
    table.loc[~retiring, "route"] = None

    # After retirement: fade per year and the year the pack is recycled.
    soh_ret = table["soh_at_retirement"].astype(float).to_numpy()
    entry = table["year_in_service"].astype(float).to_numpy()
    retire = table["retire_year"].astype(float).to_numpy()
    route = table["route"].to_numpy()
    car_fade = np.divide(1.0 - soh_ret, retire - entry, out=np.full(len(table), np.nan), where=retiring.to_numpy())
    fade = np.where(route == "reuse", second_life_fade_per_year, car_fade)
    given_fade = _optional_column(table, "fade_per_year", retiring)
    fade = np.where(np.isfinite(given_fade), given_fade, fade)
    years_left = np.ceil(np.divide(soh_ret - end_soh, fade, out=np.zeros(len(table)), where=fade > 0) - 1e-9)
    end_year = np.where(route == "recycle", retire, retire + np.maximum(years_left, 1.0))
    end_year = np.where(np.isin(route, ["reuse", "resell", "refabricate"]) & ~(fade > 0), np.inf, end_year)
    given_end = _optional_column(table, "end_year", retiring, allow_inf=True)
    _check_given_end_years(table, given_end, retire, route)
    end_year = np.where(~np.isnan(given_end), given_end, end_year)
    table["fade_per_year"] = np.where(retiring, fade, np.nan)
    table["end_year"] = np.where(retiring, end_year, np.nan)

    # State of every pack at the end of every year (years × packs), and at the end of the year before.
    state = _states(years_arr, entry, retire, end_year, route)
    previous = np.vstack([_states(years_arr[:1] - 1, entry, retire, end_year, route), state[:-1]])
    y = years_arr[:, None].astype(float)

    # Stocks. A refabricated pack keeps its good modules (share g of its capacity) in service, and is recycled
    # with them; the other (1 - g) counts as recycled modules from its rebuild on (kWh, no pack), so capacity
    # balances like the pack counts and "packs recycled" counts whole packs only.
    capacity = table["capacity_kwh"].astype(float).to_numpy()
    refab = route == "refabricate"
    kept_kwh = np.where(refab, capacity * good_module_share, capacity)
    modules_kwh = capacity - kept_kwh  # recycled at the rebuild (0 for other routes)
    stocks = pd.DataFrame(index=pd.Index(years_arr, name="year"))
    for s in STATES:
        here = state == STATE_CODE[s]
        stocks[f"{s}_packs"] = here.sum(axis=1)
        stocks[f"{s}_kwh"] = (here * (kept_kwh if s in ("refabricated", "recycled") else capacity)).sum(axis=1)
    rebuilt_by_now = (state == STATE_CODE["refabricated"]) | ((state == STATE_CODE["recycled"]) & refab[None, :])
    stocks["recycled_modules_kwh"] = (rebuilt_by_now * modules_kwh).sum(axis=1)
    soh_now = soh_ret - table["fade_per_year"].fillna(0.0).to_numpy() * (y - retire)
    second = state == STATE_CODE["second_life"]
    usable = np.where(second, capacity * soh_now * second_life_derate, 0.0)
    stocks["second_life_usable_kwh"] = usable.sum(axis=1)
    stocks["total_packs"] = (state >= 0).sum(axis=1)

    # Flows between states (state at the end of the previous year -> this year); the bad modules of a
    # rebuilt pack flow in_car -> recycled with 0 packs.
    names = {code: name for name, code in STATE_CODE.items()}
    flow_rows = []
    for i, year in enumerate(years_arr):
        moved = previous[i] != state[i]
        if not moved.any():
            continue
        source = np.array([names[c] if c >= 0 else "new" for c in previous[i][moved]], dtype=object)
        target = np.array([names[c] for c in state[i][moved]], dtype=object)
        touches_refab = (source == "refabricated") | (target == "refabricated")
        frame = pd.DataFrame(
            {
                "source": source,
                "target": target,
                "packs": 1,
                "capacity_kwh": np.where(touches_refab, kept_kwh[moved], capacity[moved]),
            }
        )
        into_refab = target == "refabricated"
        if into_refab.any():
            modules = pd.DataFrame(
                {
                    "source": source[into_refab],
                    "target": MODULES_RECYCLED,
                    "packs": 0,
                    "capacity_kwh": modules_kwh[moved][into_refab],
                }
            )
            frame = pd.concat([frame, modules], ignore_index=True)
        grouped = frame.groupby(["source", "target"], as_index=False, sort=True)[["packs", "capacity_kwh"]].sum()
        grouped.insert(0, "year", int(year))
        flow_rows.append(grouped)
    flows = (
        pd.concat(flow_rows, ignore_index=True)
        if flow_rows
        else pd.DataFrame(columns=["year", "source", "target", "packs", "capacity_kwh"])
    )

    # Material sent to recycling: whole packs when they enter "recycled", the bad modules of refabricated
    # packs in their retirement year.
    content = pack_materials(table["chemistry"], table["capacity_kwh"])
    recycled_now = (state == STATE_CODE["recycled"]) & (previous != STATE_CODE["recycled"])
    rebuilt_now = (state == STATE_CODE["refabricated"]) & (previous != STATE_CODE["refabricated"])
    fraction_in = np.where(recycled_now, np.where(route == "refabricate", good_module_share, 1.0), 0.0)
    fraction_in = fraction_in + np.where(rebuilt_now, 1.0 - good_module_share, 0.0)
    mass = fraction_in @ content.to_numpy()  # years × materials [kg]
    per_year = pd.DataFrame(mass, index=pd.Index(years_arr, name="year"), columns=content.columns)
    long = per_year.stack().rename("mass_in_kg").reset_index().rename(columns={"level_1": "material"})
    long = long[long["mass_in_kg"] > 0]
    parts = []
    for proc, share in process_shares.items():
        part = long.assign(process=proc, mass_in_kg=long["mass_in_kg"] * share)
        parts.append(part)
    mass_in = pd.concat(parts, ignore_index=True)[["year", "process", "material", "mass_in_kg"]]
    materials = recover_materials(mass_in, recovery_rates)
    materials = materials.sort_values(["year", "process", "material"]).reset_index(drop=True)
    eu = check_eu_recovery(materials, recovery_rates)
    return StockFlowResult(packs=table, stocks=stocks, flows=flows, materials=materials, eu_targets=eu)
