"""Memory of a process tree over time, sampled from Linux's ``/proc`` in a thread (for the benchmarks).

A plan runs in a parent process and several worker processes (the dispatch's blocks, business as usual and its own
dispatch workers). The figure that matters for a memory target is the peak of their *simultaneous* sum, not the sum
of each one's peak. Every ``interval_s`` the sampler walks the tree below a root process (``/proc/<pid>/stat``
gives each process's parent) and reads for each process

* ``VmRSS`` and ``VmHWM`` of ``/proc/<pid>/status`` (resident set size now, and its high-water mark: the exact
  peak of that process, read once more at every sample) [kB], and
* ``Pss`` of ``/proc/<pid>/smaps_rollup`` (proportional set size: each shared page divided among the processes
  mapping it, so that PSS adds up over processes where RSS counts shared pages once per process) [kB].

The kernel's fields are documented in ``Documentation/filesystems/proc.rst`` (sections 1.1 "status" and
"smaps_rollup"). The sum over the tree is taken at each sample, so a peak shorter than the interval can be missed;
each process's own peak (``VmHWM``) is exact. ``interval_s`` is the pause between samples, which take time
themselves (a scan of ``/proc``, and ``smaps_rollup`` walks each process's page tables): on a machine at load 5–18
a 300- or 1,000-car plan's tree gave 1–3.7 samples a second at 0.2 s, so the benchmarks print the count.
Off Linux nothing is sampled and the figures are NaN.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import subprocess
import threading
import time
from pathlib import Path

PROC = Path("/proc")


@dataclasses.dataclass
class ProcessMemory:
    """What the sampler saw of one process of the tree ([MB] = 2**20 bytes)."""

    pid: int
    ppid: int
    command: str
    first_s: float
    last_s: float
    peak_rss_mb: float = 0.0
    hwm_rss_mb: float = 0.0
    peak_pss_mb: float = float("nan")
    role: str = ""

    def row(self) -> str:
        """One line of a per-process table."""
        return (
            f"{self.role or '?':<30} {self.pid:>8} {self.ppid:>8} {self.first_s:>8.1f} {self.last_s:>8.1f} "
            f"{self.hwm_rss_mb:>9.0f} {self.peak_rss_mb:>9.0f} {self.peak_pss_mb:>9.0f}"
        )


HEADER = (
    f"{'process':<30} {'pid':>8} {'ppid':>8} {'from [s]':>8} {'to [s]':>8} "
    f"{'HWM [MB]':>9} {'RSS [MB]':>9} {'PSS [MB]':>9}"
)
"""Header of :meth:`ProcessMemory.row`: HWM is the kernel's exact peak RSS of the process, RSS and PSS the largest
sampled."""


@dataclasses.dataclass
class TreeMemory:
    """The peaks of a process tree's memory [MB]: per process and of the sum over the tree at one instant."""

    root_pid: int
    processes: dict[int, ProcessMemory]
    peak_sum_rss_mb: float
    peak_sum_rss_at_s: float
    peak_sum_pss_mb: float
    peak_sum_pss_at_s: float
    live_at_peak_pss: dict[int, float]
    samples: int
    interval_s: float

    def summary(self) -> dict:
        """The figures as a JSON-friendly dictionary."""
        return {
            "root_pid": self.root_pid,
            "peak_sum_rss_mb": self.peak_sum_rss_mb,
            "peak_sum_rss_at_s": self.peak_sum_rss_at_s,
            "peak_sum_pss_mb": self.peak_sum_pss_mb,
            "peak_sum_pss_at_s": self.peak_sum_pss_at_s,
            "sum_of_hwm_mb": sum(p.hwm_rss_mb for p in self.processes.values()),
            "samples": self.samples,
            "interval_s": self.interval_s,
            "processes": [dataclasses.asdict(p) for p in self.processes.values()],
            "live_at_peak_pss": {str(k): v for k, v in self.live_at_peak_pss.items()},
        }


def _kb_fields(path: Path, names: tuple[str, ...]) -> dict[str, float]:
    """The named ``Name:   123 kB`` fields of a ``/proc`` file [kB]; empty if the process is gone."""
    out: dict[str, float] = {}
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:  # the process ended between the listing and the read, or smaps_rollup is not allowed
        return out
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in names:
            out[key] = float(rest.split()[0])
    return out


def _parents() -> dict[int, int]:
    """Parent pid of every process on the machine (``/proc/<pid>/stat``, field 4, after the command in brackets)."""
    parents: dict[int, int] = {}
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        try:
            stat = (PROC / entry.name / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents


def _command(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


class TreeSampler:
    """Sample the memory of the process tree below ``root_pid`` every ``interval_s`` seconds in a thread.

    Use as a context manager, or :meth:`start` then :meth:`stop` (which returns the :class:`TreeMemory`). The
    sampler runs in the process that starts it; sampling a tree from outside (the benchmark's driver sampling its
    subprocess) adds nothing to the measured processes but the kernel's time to fill in ``/proc``.
    """

    def __init__(self, root_pid: int, interval_s: float = 0.2, pss: bool = True) -> None:
        self.root_pid = root_pid
        self.interval_s = interval_s
        self.pss = pss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._procs: dict[int, ProcessMemory] = {}
        self._peak_rss = (0.0, float("nan"))
        self._peak_pss = (0.0, float("nan"))
        self._live_at_peak_pss: dict[int, float] = {}
        self._samples = 0
        self._t0 = time.perf_counter()

    def __enter__(self) -> TreeSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start sampling (the clock of ``first_s``/``last_s`` starts now)."""
        self._t0 = time.perf_counter()
        self._thread.start()

    def stop(self) -> TreeMemory:
        """Stop sampling and return the peaks."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        return self.result()

    def result(self) -> TreeMemory:
        """The peaks seen so far."""
        return TreeMemory(
            root_pid=self.root_pid,
            processes=dict(self._procs),
            peak_sum_rss_mb=self._peak_rss[0],
            peak_sum_rss_at_s=self._peak_rss[1],
            peak_sum_pss_mb=self._peak_pss[0] if self.pss else float("nan"),
            peak_sum_pss_at_s=self._peak_pss[1],
            live_at_peak_pss=dict(self._live_at_peak_pss),
            samples=self._samples,
            interval_s=self.interval_s,
        )

    def _run(self) -> None:
        if not PROC.is_dir():
            return
        while True:
            self.sample()
            if self._stop.wait(self.interval_s):
                return

    def sample(self) -> None:
        """Read the tree's memory once and update the peaks."""
        now = time.perf_counter() - self._t0
        parents = _parents()
        children: dict[int, list[int]] = {}
        for pid, ppid in parents.items():
            children.setdefault(ppid, []).append(pid)
        todo = [self.root_pid] if self.root_pid in parents else []
        sum_rss = sum_pss = 0.0
        pss_now: dict[int, float] = {}
        while todo:
            pid = todo.pop()
            todo.extend(children.get(pid, []))
            status = _kb_fields(PROC / str(pid) / "status", ("VmRSS", "VmHWM"))
            if "VmRSS" not in status:  # gone, or a zombie (no memory left)
                continue
            rss, hwm = status["VmRSS"] / 1024, status.get("VmHWM", 0.0) / 1024
            pss = float("nan")
            if self.pss:
                pss = _kb_fields(PROC / str(pid) / "smaps_rollup", ("Pss",)).get("Pss", float("nan")) / 1024
            p = self._procs.get(pid)
            if p is None:
                p = self._procs[pid] = ProcessMemory(pid, parents.get(pid, 0), _command(pid), now, now)
            elif not p.command:
                p.command = _command(pid)
            p.last_s = now
            p.peak_rss_mb = max(p.peak_rss_mb, rss)
            p.hwm_rss_mb = max(p.hwm_rss_mb, hwm)
            if pss == pss:  # not NaN
                p.peak_pss_mb = pss if p.peak_pss_mb != p.peak_pss_mb else max(p.peak_pss_mb, pss)
                sum_pss += pss
                pss_now[pid] = pss
            sum_rss += rss
        self._samples += 1
        if sum_rss > self._peak_rss[0]:
            self._peak_rss = (sum_rss, now)
        if sum_pss > self._peak_pss[0]:
            self._peak_pss = (sum_pss, now)
            self._live_at_peak_pss = pss_now


def label_roles(memory: TreeMemory, named: dict[int, str] | None = None) -> None:
    """Name each process of ``memory`` by its place in the tree: ``named`` pids first (e.g. the business-as-usual
    worker, as the measured program reports it), their children as "<name>: worker", the root "parent", the
    multiprocessing resource tracker by its command, any other child of the root "worker" (the rolling dispatch's
    blocks, or the business-as-usual year's sites, :mod:`chisan.plan.site_year`)."""
    named = dict(named or {})
    for pid in sorted(memory.processes, key=lambda q: memory.processes[q].first_s):
        p = memory.processes[pid]
        if pid == memory.root_pid:
            p.role = "parent"
        elif pid in named:
            p.role = named[pid]
        elif "resource_tracker" in p.command:
            p.role = "resource tracker"
        elif p.ppid in named:
            p.role = f"{named[p.ppid]}: worker"
        elif p.ppid == memory.root_pid:
            p.role = "worker"
        else:
            p.role = f"child of {p.ppid}"


def loadavg() -> str:
    """``/proc/loadavg``: the 1-, 5- and 15-minute load averages (then runnable/total tasks, last pid); "" off Linux."""
    try:
        return (PROC / "loadavg").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def load_1min(text: str) -> float:
    """The 1-minute load average of a :func:`loadavg` text, NaN if there is none."""
    try:
        return float(text.split()[0])
    except (IndexError, ValueError):
        return float("nan")


@dataclasses.dataclass
class Measured:
    """One command run under :func:`run_sampled`."""

    wall_s: float
    cpu_s: float
    returncode: int
    stdout: str
    stderr: str
    memory: TreeMemory
    load_before: str
    load_after: str

    @property
    def load(self) -> float:
        """The larger 1-minute load average of before and after."""
        return max(load_1min(self.load_before), load_1min(self.load_after))


def _children_cpu_s() -> float:
    """CPU seconds [s] (user + system) of this process's waited-for descendants."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def run_sampled(cmd: list[str], cwd: Path | str | None = None, interval_s: float = 0.2) -> Measured:
    """Run ``cmd`` with its process tree's memory sampled from here every ``interval_s`` [s].

    CPU time is the growth of this process's ``RUSAGE_CHILDREN`` (user + system of the command and every worker it
    waited for), so run one command at a time.
    """
    load_before = loadavg()
    cpu0 = _children_cpu_s()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid, interval_s=interval_s)
    sampler.start()
    try:
        stdout, stderr = proc.communicate()
    finally:
        memory = sampler.stop()
    wall = time.perf_counter() - t0
    return Measured(
        wall_s=wall,
        cpu_s=_children_cpu_s() - cpu0,
        returncode=proc.returncode,
        stdout=stdout,
        stderr=stderr,
        memory=memory,
        load_before=load_before,
        load_after=loadavg(),
    )
