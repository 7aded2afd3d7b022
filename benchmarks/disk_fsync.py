"""How long the disk takes to make a write durable: 8 kB writes + fdatasync, as PostgreSQL's WAL does per commit.

Every booking the service admits on PostgreSQL is acknowledged only once its commit record is on the disk
(``fsync = on``, ``synchronous_commit = on``): the booking's latency can never be shorter than one flush of the
disk holding the write-ahead log, and a flush that stalls delays every commit waiting for it. Run this on the
disk of a PostgreSQL server (or of ``bench_service.py``'s throwaway cluster, under the system's temporary folder)
to know what the booking benchmark's p99 can be at best; it prints one table.

Run: ``python benchmarks/disk_fsync.py [--folder /tmp] [--seconds 60] [--rate 300]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

BLOCK_BYTES = 8192
"""One WAL page [bytes]."""
FILE_BYTES = 16 << 20
"""Size of the file written in turn, as one WAL segment [bytes]."""


def flush_latencies_ms(folder: str, seconds: float, rate_per_s: float) -> np.ndarray:
    """Latency of each fdatasync after an 8 kB write, at ``rate_per_s`` for ``seconds`` [ms]."""
    fd, path = tempfile.mkstemp(prefix="chisan-fsync-", dir=folder)
    try:
        os.ftruncate(fd, FILE_BYTES)
        os.fsync(fd)
        block = os.urandom(BLOCK_BYTES)
        latencies = []
        start = time.perf_counter()
        k = 0
        while (now := time.perf_counter()) - start < seconds:
            due = start + k / rate_per_s
            if due > now:
                time.sleep(due - now)
            os.pwrite(fd, block, (k * BLOCK_BYTES) % FILE_BYTES)
            t = time.perf_counter()
            os.fdatasync(fd)
            latencies.append((time.perf_counter() - t) * 1000.0)
            k += 1
        return np.array(latencies)
    finally:
        os.close(fd)
        os.unlink(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=tempfile.gettempdir(), help="a folder on the disk to test")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration [s]")
    parser.add_argument("--rate", type=float, default=300.0, help="flushes per second (commits per second)")
    args = parser.parse_args()
    lat = flush_latencies_ms(args.folder, args.seconds, args.rate)
    rows = [
        ("flushes", f"{len(lat)} in {args.seconds:.0f} s"),
        ("p50", f"{np.percentile(lat, 50):.2f} ms"),
        ("p99", f"{np.percentile(lat, 99):.2f} ms"),
        ("p99.9", f"{np.percentile(lat, 99.9):.1f} ms"),
        ("max", f"{lat.max():.1f} ms"),
        ("> 50 ms", f"{int((lat > 50).sum())}"),
        ("> 100 ms", f"{int((lat > 100).sum())}"),
    ]
    print(f"8 kB write + fdatasync on {args.folder} at {args.rate:.0f}/s")
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:{width}}  {value}")


if __name__ == "__main__":
    main()
