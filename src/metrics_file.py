"""``metrics.csv``: rows formatted losslessly and appended whole, in the background for big populations.

A float is written with at most 17 significant digits, which reads back as exactly the same
float. At 10,000 rows a run, formatting is the cost that matters, so a chunk's rows for the
whole population are formatted together by array operations (``decimal_text``). Each run's rows of a chunk go to its file
in a single ``os.write`` on an ``O_APPEND`` descriptor, so a file holds whole lines only,
whatever stops the process short of kill -9 (or a power loss): Linux copies a large write
page by page and gives up at a fatal signal, so a run killed during a write may end in part
of a line. The loader drops such a last part (``src.report.load.whole_lines``), and a
resumed run writes its file from the start.

For a large population the formatting runs in worker processes ("lanes") while the main
process trains the next chunk. Run ``p`` always goes to lane ``p % lanes``, and a lane does
its work in order, so every file still grows chunk after chunk.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .decimal_text import PAD, join_rows, table_rows


@dataclass
class ChunkRows:
    """One chunk's rows for a population: network ``p`` appends to ``paths[p]`` a row
    ``epochs[e], values[:, e, p]`` for every ``e`` with ``kept[p, e]``."""

    paths: list[Path]
    epochs: np.ndarray
    values: np.ndarray  # values[c, e, p]
    kept: np.ndarray  # kept[p, e]

    def members(self, lane: int, lanes: int) -> ChunkRows:
        """The part of this chunk that lane ``lane`` of ``lanes`` writes: networks ``p % lanes == lane``."""
        return ChunkRows(
            self.paths[lane::lanes],
            self.epochs,
            self.values[:, :, lane::lanes],
            self.kept[lane::lanes],
        )


def append_bytes(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path`` in one ``write`` call: whole lines, unless kill -9 cuts the call short."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(descriptor, data)
        while written < len(data):  # a regular file takes it all at once; this is for the odd one
            written += os.write(descriptor, data[written:])
    finally:
        os.close(descriptor)


ROWS_PER_BLOCK = 16384  # rows formatted together: large enough to amortise, small enough for the cache


def append_rows(chunk: ChunkRows) -> None:
    """Append each network's rows of ``chunk`` to its ``metrics.csv``."""
    kept = chunk.kept
    counts = kept.sum(axis=1)
    per_block = max(1, ROWS_PER_BLOCK // max(1, len(chunk.epochs)))
    for first in range(0, len(chunk.paths), per_block):
        members = slice(first, first + per_block)
        network, epoch = np.nonzero(kept[members])  # row by row, network after network
        network += first
        values = chunk.values[:, epoch, network]  # values[c, row]
        if not len(epoch):
            continue
        rows = table_rows(chunk.epochs[epoch], list(values))
        ends = np.cumsum((rows != PAD).sum(axis=1))  # where each row's text ends
        text = join_rows(rows)
        start = 0
        for p, last_row in zip(range(first, first + per_block), np.cumsum(counts[members])):
            stop = int(ends[last_row - 1]) if last_row else 0
            if stop > start:
                append_bytes(chunk.paths[p], text[start:stop])
            start = stop


def _ignore_interrupts() -> None:
    """Lanes finish the rows they were given; the main process decides when to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class RowWriter:
    """Appends each chunk's rows to the runs' ``metrics.csv``, inline or in ``lanes`` worker processes."""

    def __init__(self, lanes: int = 0):
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        self.lanes = [ProcessPoolExecutor(1, mp_context=context, initializer=_ignore_interrupts) for _ in range(lanes)]
        self.in_flight: list[Future] = []

    def write(self, chunk: ChunkRows) -> None:
        """Append one chunk's rows; with lanes, waits for the previous chunk first (one chunk in flight)."""
        if not self.lanes:
            append_rows(chunk)
            return
        self.wait()
        for lane, executor in enumerate(self.lanes):
            self.in_flight.append(executor.submit(append_rows, chunk.members(lane, len(self.lanes))))

    def wait(self) -> None:
        """Block until every row handed over so far is on disk (re-raising a lane's error)."""
        in_flight, self.in_flight = self.in_flight, []
        for future in in_flight:
            future.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            for executor in self.lanes:
                executor.shutdown(wait=True)
