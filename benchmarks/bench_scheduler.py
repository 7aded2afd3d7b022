"""The scheduler under pressure on real sessions: a week of JPL workplace charging with an 80 kW site limit.

Data: Caltech ACN-Data, JPL site, the 324 sessions arriving Monday 2019-09-09 to Sunday 2019-09-15 (America/
Los_Angeles) — /work/shared/data/ev_charging/acn/jpl_2019-09-01_2019-12-31.csv.gz (see /work/shared/data/SOURCES.md;
Lee, Li & Low, ACM e-Energy 2019). Each session is one car at its own 32 A / 208 V charging point (6.656 kW) from its
arrival to its departure, asking its requested energy; ``claimed`` sessions (a user who entered a request in the
app) count as bookings, the others as sessions without booking. The whole site imports at most 80 kW (= 384.6 A at
208 V); 15-minute steps; a car charges in the steps [ceil(arrival), floor(departure)).

Methods, on the same sessions, steps and limits:

* ``chisan optimal``: :func:`chisan.service.scheduler.compute_schedule` (the LP with weighted shortfall, bookings
  first);
* ``chisan fallback``: the service's own least-laxity-first (:mod:`chisan.service.fallback`);
* ``acnportal LLF`` and ``acnportal EDF``: acnportal's ``SortedSchedulingAlgo`` with its ``least_laxity_first``
  and ``earliest_deadline_first`` sort functions, run in acnportal's own simulator (``acnsim.Simulator``, ideal
  batteries, the site limit as an aggregate current constraint), i.e. acnportal's implementations unchanged.

Prints one table: median wall time of ``--repeats`` runs, delivered energy [kWh], sessions fully served (delivered ≥
requested − 0.01 kWh), and the same for bookings.

With ``--towns``, a second table: the 36 h / 15 min schedule of synthetic towns
(:func:`chisan.service.testing.synthetic_state`, seed 1) of 1,000 cars / 100 stations and 2,000 cars / 200
stations, with the town's shared PV (one LP) and without it (one LP per station, on the process pool), median
of ``--repeats`` runs after one warm-up (the pool's start), with a 4 s budget as ``chisan serve`` uses it.

Run: ``PYTHONPATH=src python benchmarks/bench_scheduler.py [--repeats 3] [--towns]``
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from chisan.service.scheduler import FleetState, compute_schedule

DATA = Path("/work/shared/data/ev_charging/acn/jpl_2019-09-01_2019-12-31.csv.gz")
TIMEZONE = "America/Los_Angeles"
WEEK_START = pd.Timestamp("2019-09-09", tz=TIMEZONE)
SITE_LIMIT_KW = 80.0
VOLTAGE_V = 208.0  # acnportal's JPL/Caltech networks: 208 V
EVSE_MAX_A = 32.0
CHARGER_KW = EVSE_MAX_A * VOLTAGE_V / 1000.0  # 6.656 kW
STEP_MINUTES = 15
SERVED_TOLERANCE_KWH = 0.01


def week_sessions() -> pd.DataFrame:
    """The week's sessions with arrival and departure step numbers from the week's start."""
    d = pd.read_csv(DATA)
    for c in ("arrival", "departure"):
        d[c] = pd.to_datetime(d[c], utc=True).dt.tz_convert(TIMEZONE)
    d = d[(d["arrival"] >= WEEK_START) & (d["arrival"] < WEEK_START + pd.Timedelta(days=7))].copy()
    step = pd.Timedelta(minutes=STEP_MINUTES)
    d["arrival_step"] = np.ceil((d["arrival"] - WEEK_START) / step).astype(int)
    d["departure_step"] = np.floor((d["departure"] - WEEK_START) / step).astype(int)
    d["requested_kwh"] = d["requested_energy (kWh)"].astype(float)
    d["is_booking"] = d["claimed"].astype(bool)
    return d.reset_index(drop=True)


def fleet_state(sessions: pd.DataFrame) -> FleetState:
    """The sessions as a :class:`FleetState`: car i is away (a booking under way, no energy) until its arrival and
    leaves at its departure with its requested energy as the trip."""
    n = int(sessions["departure_step"].max()) + 1
    step = pd.Timedelta(minutes=STEP_MINUTES)
    snapshots = pd.date_range(WEEK_START, periods=n, freq=step)
    ids = pd.Index([str(i) for i in range(len(sessions))], name="vehicle")
    rows = []
    end = snapshots[-1] + step + pd.Timedelta(days=2)
    for i, s in sessions.iterrows():
        arrival = WEEK_START + step * int(s["arrival_step"])
        departure = WEEK_START + step * int(max(s["departure_step"], s["arrival_step"]))
        rows.append(
            {
                "booking_id": 2 * i + 1,
                "vehicle": str(i),
                "start": snapshots[0] - step,
                "end": arrival,
                "trip_energy_kwh": 0.0,
                "is_booking": bool(s["is_booking"]),
            }
        )
        rows.append(
            {
                "booking_id": 2 * i + 2,
                "vehicle": str(i),
                "start": departure,
                "end": end,
                "trip_energy_kwh": float(s["requested_kwh"]),
                "is_booking": bool(s["is_booking"]),
            }
        )
    return FleetState(
        snapshots=snapshots,
        dt_hours=STEP_MINUTES / 60.0,
        stations=pd.DataFrame(
            {"chargers": 1, "charger_kw": CHARGER_KW, "connection_limit_kw": np.nan},
            index=pd.Index(ids.to_list(), name="station"),
        ),
        vehicles=pd.DataFrame(
            {
                "station": ids.to_list(),
                "usable_kwh": sessions["requested_kwh"].to_numpy(float),
                "reserve_kwh": 0.0,
                "max_charge_kw": CHARGER_KW,
                "charge_efficiency": 1.0,
                "energy_kwh": 0.0,
            },
            index=ids,
        ),
        bookings=pd.DataFrame(rows),
        pv_kw=pd.Series(0.0, index=snapshots),
        import_price_per_kwh=pd.Series(0.2, index=snapshots),
        emission_factor_kg_per_kwh=pd.Series(0.0, index=snapshots),
        grid_connection_limit_kw=SITE_LIMIT_KW,
        pv_credit_per_kwh=0.0,
    )


def chisan_delivered(sessions: pd.DataFrame, method: str) -> tuple[float, np.ndarray, str]:
    state = fleet_state(sessions)
    t = time.perf_counter()
    r = compute_schedule(state, time_limit_s=600.0, force_fallback="benchmark" if method == "fallback" else None)
    seconds = time.perf_counter() - t
    assert r.verification.limits_ok, r.verification.violations
    assert r.grid_import_kw.max() <= SITE_LIMIT_KW + 1e-6
    delivered = r.charge_kw.to_numpy().sum(axis=0) * state.dt_hours
    return seconds, delivered, f"{r.method} ({r.solver_status})"


def acnportal_delivered(sessions: pd.DataFrame, sort: str) -> tuple[float, np.ndarray, str]:
    """acnportal's sorted scheduler in acnportal's simulator, on the same steps (period = 15 min)."""
    from acnportal import acnsim, algorithms

    ids = [f"EVSE-{i}" for i in range(len(sessions))]
    network = acnsim.ChargingNetwork()
    for evse in ids:
        network.register_evse(acnsim.EVSE(evse, max_rate=EVSE_MAX_A), VOLTAGE_V, 0.0)
    network.add_constraint(acnsim.Current(ids), SITE_LIMIT_KW * 1000.0 / VOLTAGE_V, name="site")
    events = acnsim.EventQueue()
    evs = []
    for i, s in sessions.iterrows():
        a, d = int(s["arrival_step"]), int(max(s["departure_step"], s["arrival_step"]))
        battery = acnsim.Battery(capacity=1e6, init_charge=0.0, max_power=CHARGER_KW)
        ev = acnsim.EV(a, d, float(s["requested_kwh"]), ids[i], str(s["session_id"]), battery)
        evs.append(ev)
        events.add_event(acnsim.PluginEvent(a, ev))
    sort_fn = {"LLF": algorithms.least_laxity_first, "EDF": algorithms.earliest_deadline_first}[sort]
    scheduler = algorithms.SortedSchedulingAlgo(sort_fn)
    sim = acnsim.Simulator(network, scheduler, events, WEEK_START.to_pydatetime(), period=STEP_MINUTES, verbose=False)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim.run()
    seconds = time.perf_counter() - t
    # the site limit as acnportal recorded it: Σ pilot [A] × 208 V
    site_kw = sim.charging_rates.sum(axis=0) * VOLTAGE_V / 1000.0
    assert site_kw.max() <= SITE_LIMIT_KW + 1e-6
    delivered = np.array([ev.energy_delivered for ev in evs])
    return seconds, delivered, "acnsim.Simulator"


def towns_table(repeats: int, budget_s: float = 4.0) -> None:
    from chisan.service.testing import synthetic_state

    header = f"{'town':<34}{'median s':>10}{'method':>10}{'verified':>10}{'LPs':>6}  status"
    print(header)
    print("-" * len(header))
    for cars, stations in ((1000, 100), (2000, 200)):
        for pv_kw in (0.0, 200.0):
            state = synthetic_state(n_vehicles=cars, n_stations=stations, seed=1, pv_kw=pv_kw)
            compute_schedule(state, time_limit_s=budget_s)  # warm-up: the process pool starts once per process
            times, r = [], None
            for _ in range(repeats):
                t = time.perf_counter()
                r = compute_schedule(state, time_limit_s=budget_s)
                times.append(time.perf_counter() - t)
            name = f"{cars} cars / {stations} st., PV {pv_kw:.0f} kW"
            print(
                f"{name:<34}{statistics.median(times):>10.2f}{r.method:>10}{r.verified!s:>10}{r.groups:>6}"
                f"  {r.solver_status}"
            )
    print()


def main() -> None:
    global STEP_MINUTES
    try:
        import acnportal  # noqa: F401
    except ImportError:
        raise SystemExit(
            "bench_scheduler.py needs acnportal (the baselines): pip install '.[bench]' in a virtual environment "
            "of its own (acnportal installs a top-level 'tests' package that hides this repository's tests)"
        ) from None
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per method; the table shows the median time")
    parser.add_argument(
        "--step-minutes", type=int, default=STEP_MINUTES, help="step of every method [min]; default 15 (acnportal: 5)"
    )
    parser.add_argument("--towns", action="store_true", help="also time synthetic towns of 1,000 and 2,000 cars")
    args = parser.parse_args()
    STEP_MINUTES = args.step_minutes
    if args.towns:
        towns_table(args.repeats)
    sessions = week_sessions()
    requested = sessions["requested_kwh"].to_numpy(float)
    booking = sessions["is_booking"].to_numpy(bool)
    print(
        f"JPL {WEEK_START.date()} + 7 days: {len(sessions)} sessions ({int(booking.sum())} claimed = bookings), "
        f"{requested.sum():.1f} kWh requested, site limit {SITE_LIMIT_KW:.0f} kW, {STEP_MINUTES}-min steps"
    )
    methods = {
        "chisan optimal": lambda: chisan_delivered(sessions, "optimal"),
        "chisan fallback (LLF)": lambda: chisan_delivered(sessions, "fallback"),
        "acnportal LLF": lambda: acnportal_delivered(sessions, "LLF"),
        "acnportal EDF": lambda: acnportal_delivered(sessions, "EDF"),
    }
    header = f"{'method':<24}{'median s':>10}{'delivered kWh':>15}{'served':>8}{'bookings served':>17}  how"
    print(header)
    print("-" * len(header))
    for name, run in methods.items():
        times, delivered, how = [], None, ""
        for _ in range(args.repeats):
            seconds, delivered, how = run()
            times.append(seconds)
        full = delivered >= requested - SERVED_TOLERANCE_KWH
        print(
            f"{name:<24}{statistics.median(times):>10.2f}{delivered.sum():>15.1f}{int(full.sum()):>8}"
            f"{int((full & booking).sum()):>10} / {int(booking.sum())}  {how}"
        )


if __name__ == "__main__":
    main()
