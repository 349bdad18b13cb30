"""Reading many run directories on every core.

A report over 1,000 runs of 10,000 epochs parses 800 MB of ``metrics.csv``: about 1.1 ms of
pandas' C parser per file, most of the report's time, and one core's work. So the runs are
cut into short stretches of consecutive runs; forked processes (one per other core) and this
one take the next stretch not yet taken, read it (``reader.read_runs``) and take another,
until none is left; the records are then put back in the order of ``run_dirs``: the same
records as ``read_runs`` alone gives, sooner. Taking stretches as they come, rather than a
half each, keeps every core busy to the end whatever the files' sizes, and lets this process
do something else first (``meanwhile``: the report imports matplotlib) while the others read.
A process that dies (killed, out of memory) costs only time: the stretches it took are read
again here.

A few runs are read here alone: a process costs more to start than it saves on them.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from ..heap import keep_freed_memory
from .reader import CurveFilter, RunRecord, read_runs

RUNS_PER_PROCESS = 100  # at least this many runs for each process that reads
STRETCHES_PER_PROCESS = 20  # stretches of runs per process: short enough to share the end well


def usable_cores() -> int:
    """The cores this process may run on (a job scheduler may give it fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def read_runs_on_every_core(
    run_dirs: list[Path],
    metrics: tuple[str, ...],
    host: str,
    keep: CurveFilter | None = None,
    workers: int = 0,
    meanwhile: Callable[[], object] | None = None,
) -> list[RunRecord]:
    """``read_runs(run_dirs, metrics, host, keep)``, read by ``workers`` processes side by side (``0``: one
    per usable core); ``meanwhile()``, when given, runs here first, while the others have begun."""
    workers = min(workers or usable_cores(), len(run_dirs) // RUNS_PER_PROCESS)
    keep_freed_memory()  # the parser's buffers reused from file to file (see ``heap``)
    if workers <= 1:
        if meanwhile is not None:
            meanwhile()
        return read_runs(run_dirs, metrics, host, keep)
    from multiprocessing import get_context

    context = get_context("fork")
    size = max(1, len(run_dirs) // (workers * STRETCHES_PER_PROCESS))
    stretches = [run_dirs[start : start + size] for start in range(0, len(run_dirs), size)]
    global _job  # the other processes inherit it when forked (a shared counter cannot go by pickle)
    _job = (stretches, context.Value("l", 0), metrics, host, keep)
    others = []
    try:
        for _ in range(workers - 1):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_read_and_send, args=(sender,), daemon=True)
            process.start()
            sender.close()
            others.append((process, receiver))
        if meanwhile is not None:
            meanwhile()
        read = _read_stretches()
        for _, receiver in others:
            try:
                read.update(receiver.recv())
            except EOFError:  # it died (killed, out of memory): what it took is read again below
                pass
    finally:  # on an error or Ctrl-C here too: the others stop now
        _job = None
        for process, receiver in others:
            if process.is_alive():
                process.terminate()
            process.join()
            receiver.close()
    for number, stretch in enumerate(stretches):
        if number not in read:
            read[number] = read_runs(stretch, metrics, host, keep)
    return [record for number in range(len(stretches)) for record in read[number]]


_job: tuple | None = None  # (stretches, how many are taken, metrics, host, keep) while they are read


def _read_stretches() -> dict[int, list[RunRecord]]:
    """Take the next stretch not yet taken and read it, until none is left: ``{stretch number: its records}``."""
    stretches, taken, metrics, host, keep = _job
    read = {}
    while True:
        with taken.get_lock():
            number = taken.value
            taken.value += 1
        if number >= len(stretches):
            return read
        read[number] = read_runs(stretches[number], metrics, host, keep)


def _read_and_send(sender) -> None:
    """In another process: read stretches, send their records. Ctrl-C is left to the parent (which ends
    this process with SIGTERM, silently); on any error this process just ends, and the parent reads
    what it took again (and, should that fail there too, tells why)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        sender.send(_read_stretches())
    except BaseException:
        os._exit(1)
    sender.close()
