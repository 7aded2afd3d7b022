"""Speed and memory of the autonomous fleet simulation (issue 15, point 6).

Cases: one day of 20,000 requests with 1,000 cars (target ≤ 30 s), a week of a 50,000-person town's requests
(target ≤ 60 s), and the growth of the run time with requests and with cars (fitted exponent b of t ∝ n^b).
Requests come from the booking generator over a 6 km × 6 km grid (0.5 km zones) with 5 charger sites.
Peak memory: tracemalloc's peak of Python allocations (numpy arrays included) during the run.

Run:  PYTHONPATH=src python benchmarks/bench_autonomous.py  [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd

from chisan.autonomous import FleetConfig, requests_from_bookings, simulate, zone_grid
from chisan.autonomous.metrics import service_level, summary
from chisan.mobility.bookings import DAYS_PER_MONTH, generate_bookings

TZ = "Asia/Tokyo"
ORIGIN = pd.Timestamp("2025-06-02", tz=TZ)  # a Monday
STATIONS = ["S1", "S2", "S3", "S4", "S5"]
TRIPS_PER_PERSON_PER_DAY = 0.2
"""Requests per resident per day in the town case [requests/person/day]. Assumption: about a tenth of the ~2
trips a resident makes a day (the order of Japanese person-trip surveys) go by the door-to-door fleet."""


def _requests(n_per_day: float, days: int, seed: int = 1):
    """Exactly ``n_per_day × days`` requests: bookings generated over one more day at a generous rate, their
    requests inside the period, then a seeded random subset of the right size (keeps the hour profile)."""
    grid = zone_grid(36.18, 140.42, radius_km=3.0)
    pos = {s: (1.0 + 1.0 * i, 3.0 + (-1) ** i * 1.0) for i, s in enumerate(STATIONS)}
    # each booking gives two requests; 1.5 × the rate covers weekdays (7/8 of the mean) and cut-off returns
    rate = 1.5 * n_per_day / 2 / 1000 * DAYS_PER_MONTH
    b = generate_bookings(
        stations=STATIONS, members=1000, bookings_per_member_per_month=rate, start=ORIGIN,
        end=ORIGIN + pd.Timedelta(days=days + 1), seed=seed,
    )  # fmt: skip
    req = requests_from_bookings(b, grid, pos, origin=ORIGIN, seed=seed)
    inside = np.flatnonzero(req.time_min < days * 1440)
    want = round(n_per_day * days)
    keep = np.zeros(len(req), dtype=bool)
    keep[np.random.default_rng(seed).choice(inside, size=min(want, len(inside)), replace=False)] = True
    sites = pd.DataFrame({"x_km": [p[0] for p in pos.values()], "y_km": [p[1] for p in pos.values()]}, index=STATIONS)
    return grid, sites, req.subset(keep)


def _pv(days: int) -> np.ndarray:
    minute = np.arange(days * 1440) % 1440
    return np.clip(np.sin((minute / 1440 - 0.25) * 2 * np.pi), 0, None) * 300.0


def _run(grid, sites, req, cars: int, days: int, repeat: int, memory: bool = True):
    """Median wall time of ``repeat`` runs [s], and tracemalloc's peak of one more run [MiB] (traced apart:
    tracing slows every allocation)."""
    price = np.where((np.arange(days * 1440) // 60) % 24 < 7, 15.0, 30.0)

    def once():
        return simulate(
            req, grid, sites, FleetConfig(cars=cars), horizon_min=days * 1440, seed=0, pv_kw=_pv(days),
            price_per_kwh=price,
        )  # fmt: skip

    times, res = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        res = once()
        times.append(time.perf_counter() - t)
    peak = float("nan")
    if memory:
        tracemalloc.start()
        once()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return statistics.median(times), peak, res


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--week-cars", type=int, default=800)
    args = parser.parse_args()
    rows = []

    grid, sites, req = _requests(20_000, 1)
    t, mem, res = _run(grid, sites, req, 1000, 1, args.repeat)
    s = summary(res)
    rows.append(("1 day, 20,000 requests/day, 1,000 cars", len(req), 1000, t, 30.0, mem,
                 service_level(res, 10), float(s.loc["empty_distance_fraction", "value"])))  # fmt: skip

    per_day = 50_000 * TRIPS_PER_PERSON_PER_DAY
    grid, sites, req = _requests(per_day, 7)
    t, mem, res = _run(grid, sites, req, args.week_cars, 7, args.repeat)
    s = summary(res)
    rows.append((f"1 week, 50,000 persons × {TRIPS_PER_PERSON_PER_DAY}/day, {args.week_cars} cars", len(req),
                 args.week_cars, t, 60.0, mem, service_level(res, 10),
                 float(s.loc["empty_distance_fraction", "value"])))  # fmt: skip

    growth = {}
    for label, cases in (
        ("requests", [(5_000, 1000), (10_000, 1000), (20_000, 1000), (40_000, 1000)]),
        ("cars", [(20_000, 250), (20_000, 500), (20_000, 1000), (20_000, 2000)]),
    ):
        xs, ts = [], []
        for n_req, cars in cases:
            g, si, r = _requests(n_req, 1)
            t, _, _ = _run(g, si, r, cars, 1, 1, memory=False)
            xs.append(len(r) if label == "requests" else cars)
            ts.append(t)
        growth[label] = (float(np.polyfit(np.log(xs), np.log(ts), 1)[0]), xs, ts)

    header = (f"{'case':50s} {'requests':>9s} {'cars':>6s} {'median s':>9s} {'target s':>9s} {'ratio':>6s} "
              f"{'peak MiB':>9s} {'≤10 min':>8s} {'empty':>6s}")  # fmt: skip
    print(header)
    for name, n, cars, t, target, mem, sl, empty in rows:
        print(
            f"{name:50s} {n:9,d} {cars:6,d} {t:9.2f} {target:9.0f} {t / target:6.2f} {mem:9.0f} {sl:8.1%} {empty:6.1%}"
        )
    for label, (b, xs, ts) in growth.items():
        pts = ", ".join(f"{x:,}: {t:.2f} s" for x, t in zip(xs, ts, strict=True))
        print(f"growth with {label:8s}: t ∝ n^{b:.2f}  ({pts})")


if __name__ == "__main__":
    main()
