"""The roadmap's pack register: every pack the town has bought, where it is (car, second life, gone) and its fade.

Used by :func:`chisan.roadmap.run.run_roadmap`: packs retired, routed, replaced and added at the start of each
year, aged through the year under the planned operation, projected beyond the roadmap, and tabled for
:func:`chisan.batteries.lifecycle.stock_flow`. SOH as a fraction, capacity in kWh, years in years.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chisan.batteries.ageing import FadeState, advance_state
from chisan.batteries.lifecycle import route_retired_packs
from chisan.roadmap import health
from chisan.roadmap.schema import ResolvedRoadmap

PROJECTION_YEARS = 60
"""How far beyond the roadmap packs are projected to find when they retire or end their second life [years]."""


_CAR, _SECOND, _GONE = 0, 1, 2


@dataclass
class _Slots:
    """The vehicles of the fleet: each one's name, the position of its pack, and the year it joined."""

    names: list[str] = field(default_factory=list)
    pack: list[int] = field(default_factory=list)
    since: list[int] = field(default_factory=list)


class _Packs:
    """Every pack the town has bought, with where it is and its fade (arrays grown as packs are added)."""

    def __init__(self, capacity_kwh: float) -> None:
        self.capacity_kwh = capacity_kwh
        self.ids: list[str] = []
        self.vehicle: list[str] = []
        self.slot = np.empty(0, dtype=int)
        self.where = np.empty(0, dtype=int)
        self.entry = np.empty(0, dtype=int)
        self.retire_year = np.empty(0)
        self.retire_age = np.empty(0)
        self.soh_retire = np.empty(0)
        self.end_year = np.empty(0)
        self.route = np.empty(0, dtype=object)
        self.reason = np.empty(0, dtype=object)
        self.fade = FadeState.new(0)
        self.sl_fade = FadeState.new(0)  # fade in second life, relative to the SOH it began with
        self.soh = np.empty(0)
        self.leave_projected = np.empty(0)
        self.last_stress: dict[str, np.ndarray] = {}
        self._count: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, slots: list[int], names: list[str], year: int) -> np.ndarray:
        """New packs in the given vehicle slots; returns their positions."""
        n = len(slots)
        first = len(self)
        for name in names:
            self._count[name] = self._count.get(name, 0) + 1
            self.ids.append(f"{name}-p{self._count[name]}")
            self.vehicle.append(name)
        self.slot = np.append(self.slot, np.asarray(slots, dtype=int))
        self.where = np.append(self.where, np.full(n, _CAR))
        self.entry = np.append(self.entry, np.full(n, year))
        for name in ("retire_year", "retire_age", "soh_retire", "end_year"):
            setattr(self, name, np.append(getattr(self, name), np.full(n, np.nan)))
        self.route = np.append(self.route, np.full(n, None, dtype=object))
        self.reason = np.append(self.reason, np.full(n, None, dtype=object))
        self.fade = FadeState(
            np.append(self.fade.calendar, np.zeros(n)),
            np.append(self.fade.cycle, np.zeros(n)),
            np.append(self.fade.lam, np.zeros(n)),
        )
        self.sl_fade = FadeState(
            np.append(self.sl_fade.calendar, np.zeros(n)),
            np.append(self.sl_fade.cycle, np.zeros(n)),
            np.append(self.sl_fade.lam, np.zeros(n)),
        )
        self.soh = np.append(self.soh, np.ones(n))
        self.leave_projected = np.append(self.leave_projected, np.full(n, np.nan))
        return np.arange(first, first + n)

    def state_of(self, rows: np.ndarray) -> FadeState:
        return FadeState(self.fade.calendar[rows], self.fade.cycle[rows], self.fade.lam[rows])

    def sl_state_of(self, rows: np.ndarray) -> FadeState:
        return FadeState(self.sl_fade.calendar[rows], self.sl_fade.cycle[rows], self.sl_fade.lam[rows])

    def set_sl_state(self, rows: np.ndarray, state: FadeState) -> None:
        self.sl_fade.calendar[rows] = state.calendar
        self.sl_fade.cycle[rows] = state.cycle
        self.sl_fade.lam[rows] = state.lam

    def set_state(self, rows: np.ndarray, state: FadeState) -> None:
        self.fade.calendar[rows] = state.calendar
        self.fade.cycle[rows] = state.cycle
        self.fade.lam[rows] = state.lam


def _start_of_year(packs: _Packs, slots: _Slots, y: int, n_y: int, cfg: ResolvedRoadmap) -> int:
    """Retire, route, replace and add packs at the start of year ``y``; returns the number of new packs."""

    def take_out(p: int, reason: str) -> None:
        if packs.where[p] == _CAR and np.isnan(packs.retire_year[p]):
            packs.retire_year[p] = y
            packs.soh_retire[p] = packs.soh[p]
            packs.retire_age[p] = y - packs.entry[p]
            packs.reason[p] = reason

    # Vehicles leaving the fleet take their packs out of the cars this year.
    while len(slots.pack) > n_y:
        slots.names.pop()
        slots.since.pop()
        take_out(slots.pack.pop(), "fleet_reduced")
    # Vehicles at the end of their service are replaced by new ones, packs and all.
    service = cfg.settings.vehicle_service_years
    if service is not None:
        for i, since in enumerate(slots.since):
            if y - since >= service - 1e-9:
                take_out(slots.pack[i], "vehicle_replaced")
                slots.since[i] = y
    _route(packs, y, cfg)
    # Recycled from second life at the start of the year.
    packs.where[(packs.where == _SECOND) & (packs.end_year <= y)] = _GONE
    # A new pack in every car whose pack left, and in every new car.
    replace = [i for i, p in enumerate(slots.pack) if packs.where[p] != _CAR]
    grow = list(range(len(slots.pack), n_y))
    for i in grow:
        slots.names.append(f"car{i + 1:03d}")
        slots.pack.append(-1)
        slots.since.append(y)
    filled = replace + grow
    if filled:
        positions = packs.add(filled, [slots.names[i] for i in filled], y)
        for i, p in zip(filled, positions, strict=True):
            slots.pack[i] = int(p)
    return len(filled)


def _route(packs: _Packs, year: int, cfg: ResolvedRoadmap) -> None:
    """Route the packs leaving their cars in ``year``: reuse stays in the town, the others leave it."""
    leaving = np.flatnonzero((packs.retire_year == year) & (packs.where == _CAR))
    if leaving.size == 0:
        return
    s = cfg.settings
    table = pd.DataFrame(
        {
            "year": year,
            "pack_id": [packs.ids[i] for i in leaving],
            "chemistry": cfg.chemistry,
            "capacity_kwh": packs.capacity_kwh,
            "soh": packs.soh_retire[leaving],
        },
        index=leaving,
    )
    routed = route_retired_packs(table, s.route_shares, end_soh=s.second_life_end_soh_fraction)
    packs.route[leaving] = routed["route"].to_numpy()
    reuse = leaving[routed["route"].to_numpy() == "reuse"]
    packs.where[leaving] = _GONE
    packs.where[reuse] = _SECOND
    recycle = leaving[routed["route"].to_numpy() == "recycle"]
    packs.end_year[recycle] = year


def _stress_groups(
    packs: _Packs, slot_pack: list[int], stress: health.YearStress, used_kwh: float, derate: float
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Positions of the packs in use, their stress rows, and which of them are in cars."""
    n_plan = next(iter(stress.vehicles.values())).shape[0]
    car_rows = np.asarray([p for p in slot_pack if packs.where[p] == _CAR], dtype=int)
    car_slots = np.asarray([i for i, p in enumerate(slot_pack) if packs.where[p] == _CAR], dtype=int)
    second = np.flatnonzero(packs.where == _SECOND)
    # Healthiest reused packs first, up to the storage the plan used; the rest idle.
    order = second[np.argsort(-packs.soh[second], kind="stable")]
    usable = packs.capacity_kwh * packs.soh[order] * derate
    before = np.cumsum(usable) - usable  # usable kWh of the healthier packs ahead of each one
    active = order[(before < used_kwh - 1e-9)] if stress.storage is not None else order[:0]
    idle = np.setdiff1d(order, active)
    parts = [health.take_rows(stress.vehicles, car_slots % n_plan)]
    if active.size:
        parts.append(health.take_rows(stress.storage, np.zeros(active.size, dtype=int)))
    parts.append(health.take_rows(stress.idle, np.zeros(idle.size, dtype=int)))
    rows = np.concatenate([car_rows, active, idle]).astype(int)
    in_car = np.zeros(rows.size, dtype=bool)
    in_car[: car_rows.size] = True
    return rows, health.stack(parts), in_car


def _age_one_year(
    packs: _Packs,
    slot_pack: list[int],
    y: int,
    stress: health.YearStress,
    used_kwh: float,
    model,
    cfg: ResolvedRoadmap,
    sl_model=None,
    sl_stress: health.YearStress | None = None,
) -> None:
    """Advance every pack in the town through year ``y``; mark retirements (cars) and ends (second life).

    With ``sl_model`` (the second-life ageing model) reused packs age on their own fade state, relative to the
    SOH they left the car with (SOH = SOH at retirement × the model's relative capacity), under ``sl_stress``.
    """
    s = cfg.settings
    rows, year_stress, in_car = _stress_groups(packs, slot_pack, stress, used_kwh, s.second_life_derate_fraction)
    if rows.size == 0:
        return
    before = packs.soh[rows].copy()
    if sl_model is None:
        state, capacity = advance_state(packs.state_of(rows), year_stress, model)
        packs.set_state(rows, state)
    else:
        capacity = np.empty((rows.size, next(iter(year_stress.values())).shape[1]))
        if in_car.any():
            car_stress = {k: v[in_car] for k, v in year_stress.items()}
            state, capacity[in_car] = advance_state(packs.state_of(rows[in_car]), car_stress, model)
            packs.set_state(rows[in_car], state)
        if (~in_car).any():
            _, sl_all, _ = _stress_groups(packs, slot_pack, sl_stress, used_kwh, s.second_life_derate_fraction)
            reused = rows[~in_car]
            state, relative = advance_state(
                packs.sl_state_of(reused), {k: v[~in_car] for k, v in sl_all.items()}, sl_model
            )
            packs.set_sl_state(reused, state)
            capacity[~in_car] = packs.soh_retire[reused][:, None] * relative
    packs.soh[rows] = capacity[:, -1]
    packs.last_stress = {"rows": rows, **year_stress}
    # Cars: reaching the retirement threshold during the year -> out of the car at the start of the next.
    car = rows[in_car]
    frac = health.first_crossing(capacity[in_car], s.retire_soh_fraction, before[in_car])
    crossed = car[~np.isnan(frac)]
    packs.retire_year[crossed] = y + 1
    packs.retire_age[crossed] = y - packs.entry[crossed] + frac[~np.isnan(frac)]
    packs.soh_retire[crossed] = packs.soh[crossed]
    packs.reason[crossed] = "soh_threshold"
    # Second life: reaching the end threshold -> recycled at the start of the next year.
    second = rows[~in_car]
    frac2 = health.first_crossing(capacity[~in_car], s.second_life_end_soh_fraction, before[~in_car])
    packs.end_year[second[~np.isnan(frac2)]] = y + 1


def _health_rows(packs: _Packs, y: int, model, factors, sl_model=None) -> pd.DataFrame:
    """SOH of the packs in use at the end of year ``y``, with the low/high band of the field calibration.

    The band packs age under the same stress with the low and high factors; since the calendar and cycling
    fades are homogeneous in the rate, their fade is the central fade × factor / central factor, exactly
    (:class:`chisan.batteries.ageing.AgeingModel`). With a second-life model the band of a reused pack is its
    band when it left the car × its central second-life relative capacity (the field calibration is of car use).
    """
    here = np.flatnonzero((packs.where == _CAR) | (packs.where == _SECOND))
    state = packs.state_of(here)
    band = {
        f"soh_{name}": state.relative_capacity(model, fade_scale=factors[name] / factors["central"])
        for name in ("low", "high")
    }
    if sl_model is not None:
        reused = packs.where[here] == _SECOND
        relative = packs.sl_state_of(here[reused]).relative_capacity(sl_model)
        for name in band:
            band[name][reused] = band[name][reused] * relative
    return pd.DataFrame(
        {
            "year": y,
            "pack_id": [packs.ids[i] for i in here],
            "vehicle": [packs.vehicle[i] for i in here],
            "state": np.where(packs.where[here] == _CAR, "in_car", "second_life"),
            "soh": packs.soh[here],
            # low fade -> high SOH: soh_low is the SOH of the low-fade band
            "soh_low_fade": band["soh_low"],
            "soh_high_fade": band["soh_high"],
        }
    )


def _project_beyond(
    packs: _Packs,
    slots: _Slots,
    last: int,
    stress: health.YearStress | None,
    used_kwh: float,
    model,
    cfg: ResolvedRoadmap,
    sl_model=None,
    sl_stress: health.YearStress | None = None,
) -> None:
    """Repeat the last year's stress to find when packs still in cars retire and reused packs end."""
    if stress is None or not packs.last_stress:
        return
    s = cfg.settings
    rows = packs.last_stress["rows"]
    year_stress = {k: v for k, v in packs.last_stress.items() if k != "rows"}
    position = {int(p): i for i, p in enumerate(rows)}
    # Packs still in a car: no retire year yet.
    car = np.asarray([p for p in rows if packs.where[p] == _CAR and np.isnan(packs.retire_year[p])], dtype=int)
    if car.size:
        sub = health.take_rows(year_stress, np.asarray([position[int(p)] for p in car]))
        _, crossing = health.project(packs.state_of(car), sub, model, PROJECTION_YEARS, s.retire_soh_fraction)
        packs.retire_age[car] = (last + 1 - packs.entry[car]) + crossing
        # The year it is expected to leave its car: after crossing the threshold, or with its vehicle.
        leave = packs.entry[car] + np.floor(packs.retire_age[car]) + 1
        service = s.vehicle_service_years
        if service is not None:
            since = {p: slots.since[i] for i, p in enumerate(slots.pack)}
            replaced = np.asarray([since[int(p)] + math.ceil(service - 1e-9) for p in car], dtype=float)
            leave = np.fmin(leave, replaced)
        packs.leave_projected[car] = leave
    # Reused packs without an end year (including those routed to reuse at the end of the roadmap).
    second = np.flatnonzero((packs.where == _SECOND) & np.isnan(packs.end_year))
    if second.size and sl_model is not None:  # SOH = SOH at retirement × the second-life model's capacity
        use = sl_stress.storage if (sl_stress.storage is not None and used_kwh > 0) else sl_stress.idle
        sub = health.take_rows(use, np.zeros(second.size, dtype=int))
        start = packs.soh_retire[second]
        state, current = packs.sl_state_of(second), packs.soh[second]
        crossing = np.full(second.size, np.nan)
        for k in range(PROJECTION_YEARS):
            state, relative = advance_state(state, sub, sl_model)
            soh = start[:, None] * relative
            frac = health.first_crossing(soh, s.second_life_end_soh_fraction, current)
            new = np.isnan(crossing) & ~np.isnan(frac)
            crossing[new] = k + frac[new]
            current = soh[:, -1]
            if not np.isnan(crossing).any():
                break
        packs.end_year[second] = np.where(np.isnan(crossing), np.inf, last + 1 + np.floor(crossing) + 1)
    elif second.size:
        use = stress.storage if (stress.storage is not None and used_kwh > 0) else stress.idle
        sub = health.take_rows(use, np.zeros(second.size, dtype=int))
        _, crossing = health.project(
            packs.state_of(second), sub, model, PROJECTION_YEARS, s.second_life_end_soh_fraction
        )
        packs.end_year[second] = np.where(np.isnan(crossing), np.inf, last + 1 + np.floor(crossing) + 1)
    # Packs leaving a car at the end of the roadmap start their second life only after it.
    late = np.flatnonzero((packs.where == _SECOND) & (packs.retire_year > last))
    packs.end_year[late] = np.maximum(packs.end_year[late], packs.retire_year[late] + 1)


def _pack_table(packs: _Packs, cfg: ResolvedRoadmap) -> pd.DataFrame:
    """The packs as :func:`chisan.batteries.lifecycle.stock_flow` takes them.

    Reused packs carry their modelled end year and their mean SOH decline per year in second life (to the end
    threshold when they reach it, else as observed up to the end of the roadmap).
    """
    reuse = packs.route == "reuse"
    end_soh = cfg.settings.second_life_end_soh_fraction
    finite = reuse & np.isfinite(packs.end_year)
    years_to_end = np.where(finite, packs.end_year - packs.retire_year, 1.0)
    years_seen = cfg.years[-1] + 1 - packs.retire_year
    observed = np.divide(
        packs.soh_retire - packs.soh, years_seen, out=np.full(len(packs), np.nan), where=years_seen > 0
    )
    fade = np.where(finite, (packs.soh_retire - end_soh) / np.maximum(years_to_end, 1.0), observed)
    fade = np.where(reuse & (fade > 0), fade, np.nan)
    return pd.DataFrame(
        {
            "pack_id": packs.ids,
            "vehicle": packs.vehicle,
            "chemistry": cfg.chemistry,
            "capacity_kwh": packs.capacity_kwh,
            "year_in_service": packs.entry,
            "retire_year": packs.retire_year,
            "retire_age_years": packs.retire_age,
            "retire_reason": packs.reason,
            "soh_at_retirement": packs.soh_retire,
            "route": packs.route,
            "end_year": np.where(reuse, packs.end_year, np.nan),
            "fade_per_year": fade,
        }
    )
