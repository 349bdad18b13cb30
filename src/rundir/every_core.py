"""Reading many run directories on every core.

A report over 1,000 runs of 10,000 epochs parses 800 MB of ``metrics.csv``: about 1.3 ms of
pandas' C parser per file, most of the report's time, and one core's work. So the runs are
cut into as many consecutive parts as there are cores; this process reads the first part,
forked processes read the others (``reader.read_runs`` each), and the records come back in
the order of ``run_dirs``: the same records as ``read_runs`` alone gives, sooner.

A few runs are read here alone: a process costs more to start than it saves on them.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from ..heap import keep_freed_memory
from .reader import CurveFilter, RunRecord, read_runs

RUNS_PER_PROCESS = 100  # at least this many runs for each process that reads


def usable_cores() -> int:
    """The cores this process may run on (a job scheduler may give it fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _leave_signals_to_parent() -> None:
    """A reading process ignores Ctrl-C and ends at SIGTERM without a word: this process, told of either,
    stops them (``Pool.terminate``, on leaving its ``with``) and says what happened."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def read_runs_on_every_core(
    run_dirs: list[Path], metrics: tuple[str, ...], host: str, keep: CurveFilter | None = None, workers: int = 0
) -> list[RunRecord]:
    """``read_runs(run_dirs, metrics, host, keep)``, its parts read side by side by ``workers`` processes
    (``0``: one per usable core). ``keep`` goes to the other processes by pickle."""
    workers = min(workers or usable_cores(), len(run_dirs) // RUNS_PER_PROCESS)
    keep_freed_memory()  # the parser's buffers reused from file to file (see ``heap``)
    if workers <= 1:
        return read_runs(run_dirs, metrics, host, keep)
    return _read_side_by_side(run_dirs, metrics, host, keep, workers)


def _read_side_by_side(
    run_dirs: list[Path], metrics: tuple[str, ...], host: str, keep: CurveFilter | None, workers: int
) -> list[RunRecord]:
    from multiprocessing import get_context

    bounds = [len(run_dirs) * k // workers for k in range(workers + 1)]
    parts = [run_dirs[start:stop] for start, stop in zip(bounds, bounds[1:])]
    with get_context("fork").Pool(workers - 1, _leave_signals_to_parent) as others:
        pending = [others.apply_async(read_runs, (part, metrics, host, keep)) for part in parts[1:]]
        records = read_runs(parts[0], metrics, host, keep)
        for part in pending:
            records += part.get()
    return records
