"""A sweep directory is claimed while a sweep writes into it: one sweep at a time.

Two sweeps started into one ``hydra.sweep.dir`` would write the same run directories at once
(every ``metrics.csv`` holding the rows of both). So a sweep holds ``<sweep dir>/.sweep.lock``
locked (``fcntl.flock``, exclusive) while it writes, and a second sweep that finds it locked
stops before writing anything, naming the holder (pid, host, command, since when), which the
file records. The lock belongs to the open file, so the kernel releases it when the holding
process ends, however it ends (kill -9, a crash): a claim left by a dead sweep never blocks.

``flock`` is honoured between processes of one machine; on a network filesystem shared by
several machines it may not be (NFS emulates it with byte-range locks, which most servers honour).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from hydra.errors import HydraException

from .layout import CLAIM_FILE


class SweepRefused(HydraException):
    """A sweep stopped before writing anything (its directory is busy, two jobs share a directory,
    a resume would overwrite other runs). Raising one notes it (``refused``), so that nothing that
    runs at exit (the report) writes into a directory that was not this sweep's to write."""

    def __init__(self, *args):
        super().__init__(*args)
        global refused
        refused = True


refused = False  # this process refused its sweep


class SweepDirectoryBusy(SweepRefused):
    """Another live sweep holds the sweep directory."""


def _holder(text: str) -> str:
    try:
        holder = json.loads(text)
        return f"process {holder['pid']} on {holder['host']} since {holder['since']} ({holder['command']})"
    except (ValueError, KeyError, TypeError):
        return "another process"


@contextmanager
def claim_sweep_dir(sweep_dir: Path) -> Iterator[None]:
    """Hold ``sweep_dir`` for this process while the block runs; raise ``SweepDirectoryBusy`` if a live sweep holds it."""
    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    path = sweep_dir / CLAIM_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path.read_text(errors="replace"))
            raise SweepDirectoryBusy(
                f"The sweep directory {sweep_dir} is in use by another sweep: {holder}. Two sweeps writing "
                f"into one directory would mix their runs, so this one stopped before writing anything. Wait "
                f"for that sweep to end (or stop it), or choose another directory with hydra.sweep.dir=..."
            ) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
        }
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, (json.dumps(holder) + "\n").encode(), 0)
        yield
    finally:
        os.close(descriptor)  # releases the lock
