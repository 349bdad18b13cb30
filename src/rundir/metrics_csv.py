"""``metrics.csv``: rows written losslessly and appended whole; read back with the same rules.

The file is a header ``epoch,<metric>,...`` and one row per logged epoch. A float is written
with at most 17 significant digits, which reads back as exactly the same float. At 10,000
rows a run, formatting is the cost that matters, so a chunk's rows for the whole population
are formatted together by array operations (``decimal_text``). Each run's rows of a chunk go
to its file in a single ``os.write`` on an ``O_APPEND`` descriptor, so a file holds whole
lines only, whatever stops the process short of kill -9 (or a power loss): Linux copies a
large write page by page and gives up at a fatal signal, so a run killed during a write may
end in part of a line. Readers drop such a last part (``whole_lines``), and a resumed run
writes its file from the start.

For a large population the formatting runs in worker processes ("lanes") while the main
process trains the next chunk. Run ``p`` always goes to lane ``p % lanes``, and a lane does
its work in order, so every file still grows chunk after chunk. ``RowWriter.write`` is told
what to call once a chunk is on disk, so a run's summary never counts rows still in flight.

Readers take the columns from the header: a run written before a metric was added reads
as a run without that metric, never as a damaged one.
"""

from __future__ import annotations

import os
import resource
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..decimal_text import join_rows, table_rows
from .files import read_first_and_last_lines
from .layout import METRICS_FILE, Unreadable
from .signals import signals_held


@dataclass
class ChunkRows:
    """One chunk's rows for a population: network ``p`` appends a row ``epochs[e], values[:, e, p]``
    for every ``e`` with ``kept[p, e]``."""

    epochs: np.ndarray
    values: np.ndarray  # values[c, e, p]
    kept: np.ndarray  # kept[p, e]

    def members(self, lane: int, lanes: int) -> ChunkRows:
        """The part of this chunk that lane ``lane`` of ``lanes`` writes: networks ``p % lanes == lane``."""
        return ChunkRows(self.epochs, self.values[:, :, lane::lanes], self.kept[lane::lanes])


ROWS_PER_BLOCK = 16384  # rows formatted together: large enough to amortise, small enough for the cache
FLUSH_BYTES = 32 << 20  # rows held in memory before they go to disk, per writer ...
FLUSH_SECONDS = 0.25  # ... or for this long at most, so a file grows while its run trains


def formatted_rows(chunk: ChunkRows):
    """``(p, text)`` for every network with rows in ``chunk``: its lines, formatted together."""
    kept = chunk.kept
    counts = kept.sum(axis=1)
    per_block = max(1, ROWS_PER_BLOCK // max(1, len(chunk.epochs)))
    for first in range(0, len(kept), per_block):
        members = slice(first, first + per_block)
        network, epoch = np.nonzero(kept[members])  # row by row, network after network
        if not len(epoch):
            continue
        values = chunk.values[:, epoch, network + first]  # values[c, row]
        text, ends = join_rows(table_rows(chunk.epochs[epoch], list(values)))
        start = 0
        for p, last_row in zip(range(first, first + per_block), np.cumsum(counts[members])):
            stop = int(ends[last_row - 1]) if last_row else 0
            if stop > start:
                yield p, text[start:stop]
            start = stop


def write_whole(descriptor: int, data: bytes) -> None:
    """Append ``data`` in one ``write`` call: whole lines, unless kill -9 cuts the call short."""
    written = os.write(descriptor, data)
    while written < len(data):  # a regular file takes it all at once; this is for the odd one
        written += os.write(descriptor, data[written:])


def descriptors_to_spare() -> int:
    """How many files this process may keep open for rows, leaving room for everything else."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(0, soft // 2 - 64)


class RunFiles:
    """The ``metrics.csv`` of some runs, written through memory: each chunk's rows are added to
    the runs' buffers, which go to disk together once they hold ``FLUSH_BYTES`` or have waited
    ``FLUSH_SECONDS`` (or on ``flush``), one ``write`` per run, through files kept open when
    there are few enough of them.

    ``add`` and ``flush`` return the number of the last chunk whose rows are all on disk.
    """

    def __init__(self, paths: list[Path]):
        self.paths = paths
        self.buffers = [bytearray() for _ in paths]
        self.buffered = 0
        self.keep_open = len(paths) <= descriptors_to_spare()
        self.descriptors: dict[int, int] = {}
        self.added_through = self.on_disk_through = -1
        self.flushed_at = time.monotonic()

    def add(self, number: int, chunk: ChunkRows) -> int:
        for p, text in formatted_rows(chunk):
            self.buffers[p] += text
            self.buffered += len(text)
        self.added_through = number
        due = self.buffered >= FLUSH_BYTES or time.monotonic() - self.flushed_at >= FLUSH_SECONDS
        return self.flush() if due else self.on_disk_through

    def flush(self) -> int:
        with signals_held():  # a buffer written is a buffer emptied: never written twice
            for p, buffer in enumerate(self.buffers):
                if buffer:
                    self._write(p, buffer)
                    buffer.clear()
            self.buffered = 0
            self.on_disk_through = self.added_through
            self.flushed_at = time.monotonic()
        return self.on_disk_through

    def _write(self, p: int, data: bytearray) -> None:
        descriptor = self.descriptors.get(p)
        if descriptor is None:
            descriptor = os.open(self.paths[p], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            write_whole(descriptor, data)
        finally:
            if self.keep_open:
                self.descriptors[p] = descriptor
            else:
                os.close(descriptor)

    def close(self) -> int:
        try:
            return self.flush()
        finally:
            for descriptor in self.descriptors.values():
                os.close(descriptor)
            self.descriptors.clear()


_lane: RunFiles | None = None  # in a lane's process: the files of its runs, given once


def _start_lane(paths: list[Path]) -> None:
    """A lane finishes the rows it was given; the main process decides when to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    global _lane
    _lane = RunFiles(paths)


def _lane_add(number: int, chunk: ChunkRows) -> int:
    return _lane.add(number, chunk)


def _lane_flush() -> int:
    return _lane.flush()


def _lane_close() -> int:
    return _lane.close()


def _lane_process(paths: list[Path]):
    """A worker process that writes the rows of ``paths`` (imported here: a single run needs none)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    lane = ProcessPoolExecutor(1, mp_context=context, initializer=_start_lane, initargs=(paths,))
    with signals_held():  # started now, deaf to Ctrl-C from its first instant (it inherits the held signals)
        lane.submit(int).result()
    return lane


class RowWriter:
    """Appends each chunk's rows to the runs' ``metrics.csv``, inline or in ``lanes`` worker processes.

    Run ``p`` of ``paths`` is written by lane ``p % lanes``; each lane is given its paths once.
    ``write(chunk, written)`` calls ``written()`` once every row of the chunk is on disk, and
    never before: rows wait in memory (``RunFiles``), and with lanes one chunk is in flight
    while the next one trains. ``wait`` and ``close`` put everything handed over on disk.
    """

    def __init__(self, paths: list[Path], lanes: int = 0):
        self.inline = RunFiles(list(paths)) if not lanes else None
        self.lanes = [_lane_process(list(paths[lane::lanes])) for lane in range(lanes)]
        self.count = 0  # chunks handed over
        self.uncounted: list[Callable[[], None]] = []  # written() of the chunks not yet known to be on disk
        self.in_flight: list = []  # the lanes' answers to the last request (futures)

    def write(self, chunk: ChunkRows, written: Callable[[], None]) -> None:
        """Hand over one chunk's rows; with lanes, first waits for the previous chunk (one in flight)."""
        number, self.count = self.count, self.count + 1
        self.uncounted.append(written)
        if self.inline is not None:
            self._count_through(self.inline.add(number, chunk))
            return
        self._collect()
        lanes = len(self.lanes)
        self.in_flight = [
            lane.submit(_lane_add, number, chunk.members(index, lanes)) for index, lane in enumerate(self.lanes)
        ]

    def _collect(self) -> None:
        """Wait for the lanes' answers to the last request, and count the chunks all of them have on disk.

        A wait cut short by a signal leaves the answers to the next ``wait`` (or uncounted)."""
        if self.in_flight:
            through = min(future.result() for future in self.in_flight)
            self.in_flight = []
            self._count_through(through)

    def _count_through(self, number: int) -> None:
        first_uncounted = self.count - len(self.uncounted)
        while self.uncounted and first_uncounted <= number:
            self.uncounted.pop(0)()
            first_uncounted += 1

    def _on_disk(self, lane_task: Callable[[], int], inline_task: Callable[[], int]) -> None:
        """Every row handed over to disk, by ``lane_task`` in each lane (or ``inline_task``), then counted."""
        self._collect()
        if self.inline is not None:
            self._count_through(inline_task())
            return
        self.in_flight = [lane.submit(lane_task) for lane in self.lanes]
        self._collect()

    def wait(self) -> None:
        """Block until every row handed over so far is on disk (re-raising a lane's error)."""
        self._on_disk(_lane_flush, self.inline.flush if self.inline else None)

    def close(self) -> None:
        try:
            self._on_disk(_lane_close, self.inline.close if self.inline else None)
        finally:
            for lane in self.lanes:
                lane.shutdown(wait=True)
            self.lanes = []


# --------------------------------------------------------------------------- reading


def header_line(columns) -> bytes:
    """The first line of ``metrics.csv``: ``epoch,<metric>,...``."""
    return ("epoch," + ",".join(columns) + "\n").encode("ascii")


def whole_lines(data: bytes, running: bool) -> bytes:
    """The bytes of ``metrics.csv`` up to its last newline.

    A last line without its newline was cut off while being written: dropped when the run
    may still be (or was killed while) writing, a sign of a truncated file otherwise.
    """
    if data.endswith(b"\n"):
        return data
    if not data and not running:
        raise Unreadable(f"{METRICS_FILE} is empty")
    if not running:
        raise Unreadable(f"{METRICS_FILE} is truncated (its last line is incomplete)")
    return data[: data.rfind(b"\n") + 1]


ENDS_BYTES = 64 << 10  # bytes read from each end of a long ``metrics.csv`` when only its ends matter


def read_ends(path: Path) -> bytes:
    """The header line and the last whole lines of ``metrics.csv`` (and a cut-off line after them, if
    any), as ``whole_lines`` and ``parse_last_row`` read them: what checking its end needs, without
    reading the rows between (a run of 10,000 epochs has 800 KB of them). A short file is read whole."""
    return read_first_and_last_lines(path, ENDS_BYTES)


def columns_of(data: bytes) -> list[str]:
    """The header's column names: ``epoch`` first, then the metrics the run recorded."""
    columns = data[: data.find(b"\n")].decode("ascii", "replace").strip().split(",")
    if columns[0] != "epoch" or len(columns) < 2 or not all(name.isidentifier() for name in columns):
        raise Unreadable(f"{METRICS_FILE} has the header {','.join(columns)[:80]!r}, not 'epoch,<metric>,...'")
    return columns


def _checked(values: np.ndarray) -> np.ndarray:
    if not np.isfinite(values).all():
        raise Unreadable(f"{METRICS_FILE} has empty, missing or non-finite values")
    if len(values) > 1 and not (np.diff(values[:, 0]) > 0).all():
        raise Unreadable(f"{METRICS_FILE} has epochs out of order")
    return values


SMALL_FILE = 64 << 10  # bytes: below this, NumPy's own parser beats pandas' set-up cost


def parse_rows(data: bytes, wanted: list[str]) -> np.ndarray:
    """Every row of ``metrics.csv`` (whole lines) as floats, one column per name of ``wanted``
    (``epoch`` first); a metric the run did not record is a column of NaN.

    Both parsers give the exact float of every 17-digit text (they round correctly)."""
    columns = columns_of(data)
    present = [name for name in wanted if name in columns]
    end_of_header = data.find(b"\n") + 1
    if len(data) - end_of_header <= SMALL_FILE:
        table = _parse_small(data[end_of_header:], len(columns))[:, [columns.index(name) for name in present]]
    else:
        table = _parse_large(data, columns, present)
    _checked(table)
    return np.column_stack(
        [table[:, present.index(name)] if name in present else np.full(len(table), np.nan) for name in wanted]
    )


def _parse_small(body: bytes, width: int) -> np.ndarray:
    """Rows of ``width`` comma-separated numbers, one per line, parsed by NumPy in one call."""
    text = np.frombuffer(body, dtype=np.uint8)
    line_ends = np.flatnonzero(text == ord("\n"))
    commas = np.concatenate([[0], np.cumsum(text == ord(","))[line_ends]])
    if len(line_ends) and (np.diff(commas) != width - 1).any():
        raise Unreadable(f"{METRICS_FILE} has a malformed row (a row of other than {width} values)")
    with warnings.catch_warnings():  # text that is not a number ends the parse early: told below
        warnings.simplefilter("ignore", DeprecationWarning)
        values = np.fromstring(body.replace(b"\n", b","), dtype=np.float64, sep=",")
    if len(values) != len(line_ends) * width:
        raise Unreadable(f"{METRICS_FILE} has a malformed row (a value that is not a number)")
    return values.reshape(len(line_ends), width)


def _parse_large(data: bytes, columns: list[str], present: list[str]) -> np.ndarray:
    """The columns ``present`` of every row, by pandas' C parser (fast on long files), in that order.

    Only those columns are converted (1.9 ms for 10,000 rows here, 2.6 ms for all five), so a
    malformed value in another column, or a row with more values than the header, is not seen
    here: what is read is checked (numbers, finite, epochs rising), and the last row whole
    (``parse_last_row``)."""
    if not present:
        return np.empty((data.count(b"\n") - 1, 0))
    try:
        return _columns_by_pandas(data, columns, present)
    except ValueError as error:  # pandas' ParserError is one too
        raise Unreadable(f"{METRICS_FILE} has a malformed row ({str(error).splitlines()[0]})") from None


def _columns_by_pandas(text: bytes, columns: list[str], present: list[str]) -> np.ndarray:
    """The columns ``present`` (of the header's ``columns``) of every row of ``text``, in that order, converted
    by pandas' C parser, and no other column. Raises ``ValueError`` for a value that is not a number."""
    import io

    import pandas as pd  # only readers of long or many curves need it

    converted = sorted(columns.index(name) for name in present)  # pandas gives them in the file's order
    table = pd.read_csv(io.BytesIO(text), engine="c", dtype="float64", usecols=converted).to_numpy()
    return table[:, [converted.index(columns.index(name)) for name in present]]


def parse_last_row(data: bytes) -> dict[str, float] | None:
    """The last row of ``metrics.csv`` (whole lines) by column name; ``None`` when only the header is there."""
    columns = columns_of(data)
    end_of_header = data.find(b"\n") + 1
    if len(data) == end_of_header:
        return None
    last = data[data.rfind(b"\n", end_of_header - 1, len(data) - 1) + 1 :]
    fields = last.decode("ascii", "replace").strip().split(",")
    try:
        values = np.array([[float(x) for x in fields]])
    except ValueError:
        raise Unreadable(f"{METRICS_FILE} has a malformed last row: {last[:80]!r}") from None
    if values.shape[1] != len(columns):
        raise Unreadable(f"{METRICS_FILE} has a last row of {values.shape[1]} values, not {len(columns)}")
    return dict(zip(columns, _checked(values)[0].tolist()))


# Many files at once. A report reads thousands of curves. A small file parsed alone costs a call of
# NumPy's parser (about 0.4 ms for 200 rows of 5 values), while pandas' C parser reads a few MB of
# joined rows in one call, faster per row: 1,000 such files in 0.12 s instead of 0.5 s. Only small
# files are joined (a long one is a single call of pandas already), and only when their text is
# plainly rows of numbers (``plain_rows``); any other file is read alone by ``parse_rows``, whose
# messages say what is wrong with it.

NUMBER_BYTES = b"0123456789.eE+-"  # every byte a number of metrics.csv can hold (``6.8e-01``, ``5e-01``, ``10``)
BATCH_BYTES = 8 << 20  # rows joined for one call of the parser: a few MB, so memory stays small


def plain_rows(body: bytes, width: int, rows: int) -> bool:
    """Are the ``rows`` lines of ``body`` nothing but ``width`` fields made of number bytes each?

    Deleting the number bytes must leave exactly ``width - 1`` commas and a newline per line: that
    one pass (about 10 us for 200 rows) rules out any other byte (letters, spaces, ``nan``), rows of
    another length and blank lines. It does not prove that each field is a number (``1.2.3``, or
    an empty field): the parser judges that, in the columns it converts.
    """
    return body.translate(None, NUMBER_BYTES) == (b"," * (width - 1) + b"\n") * rows


def parse_many(datas: list[bytes], wanted: list[str]) -> list[np.ndarray | Exception]:
    """``parse_rows(data, wanted)`` for each of ``datas`` (each the whole lines of one ``metrics.csv``):
    the table of each file, or the error that ``parse_rows`` raises for it (``Unreadable``, mostly).

    The small files with the same header whose rows are plain (``plain_rows``) are joined, a batch of
    ``BATCH_BYTES`` at a time, parsed in one call, checked (finite values, epochs in order) and cut
    back into one table per file; pandas' parser gives the same floats as NumPy's (both round
    correctly). Only the columns of ``wanted`` are converted. Every other file, and every file of a
    batch that fails, goes through ``parse_rows`` alone.
    """
    results: list = [None] * len(datas)
    groups: dict[bytes, list[tuple[int, int]]] = {}  # header line -> (file, its rows) to join
    for i, data in enumerate(datas):
        end_of_header = data.find(b"\n") + 1
        try:
            width = len(columns_of(data))
        except Unreadable as error:
            results[i] = error
            continue
        if len(data) - end_of_header > SMALL_FILE:
            continue  # a long file is parsed by pandas alone, in one call already
        rows = data.count(b"\n") - 1
        if rows and plain_rows(data[end_of_header:], width, rows):
            groups.setdefault(data[:end_of_header], []).append((i, rows))
    for header, members in groups.items():
        batch, size = [], 0
        for i, rows in members:
            batch.append((i, rows))
            size += len(datas[i])
            if size >= BATCH_BYTES or i == members[-1][0]:
                _parse_batch(header, batch, datas, wanted, results)
                batch, size = [], 0
    for i, data in enumerate(datas):  # the files not joined, or whose batch failed: one by one
        if results[i] is None:
            try:
                results[i] = parse_rows(data, wanted)
            except Exception as error:  # Unreadable, or whatever else a damaged file makes a parser raise
                results[i] = error
    return results


def _parse_batch(header: bytes, batch: list[tuple[int, int]], datas: list[bytes], wanted: list[str], results) -> None:
    """Parse the files ``batch`` ``(i, rows)`` of ``datas`` (same ``header``, plain rows) in one call; fill ``results``
    for those whose rows are all finite with epochs in order (the others are left for ``parse_rows``)."""
    columns = columns_of(header)
    present = [name for name in wanted if name in columns]
    if not present:
        return  # nothing to convert: parse_rows says what that means
    text = header + b"".join(memoryview(datas[i])[len(header) :] for i, _ in batch)
    try:
        table = _columns_by_pandas(text, columns, present)  # in the order of ``wanted``
    except ValueError:
        return  # a field that is not a number: each file alone says which
    del text
    lengths = np.array([rows for _, rows in batch])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    good = np.isfinite(table).all(axis=1)  # as ``_checked``: finite values, first column rising within a file
    first_of_file = np.zeros(len(table), dtype=bool)
    first_of_file[starts] = True
    good[1:] &= (np.diff(table[:, 0]) > 0) | first_of_file[1:]
    whole = np.logical_and.reduceat(good, starts)  # per file (each has one row at least)
    for (i, _), start, length, ok in zip(batch, starts, lengths, whole):
        if not ok:
            continue  # left for parse_rows, which says what is wrong
        rows = table[start : start + length]
        results[i] = np.column_stack(  # a table of its own, so the batch's is freed once cut
            [rows[:, present.index(name)] if name in present else np.full(length, np.nan) for name in wanted]
        )
