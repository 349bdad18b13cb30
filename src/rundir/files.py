"""Small files written and read whole, the cheap way: a sweep of thousands of jobs writes several
for each, and a report reads them back.

``Path.write_text`` opens a buffered text file object around the descriptor, which costs about as
much again as creating the file itself (about 85 us to create a file here, 160 us through
``open``); these files are written whole, so a descriptor and one ``write`` are enough. Reading,
likewise, is sized by the file's length (``read_at_most``).
"""

import os
from pathlib import Path


def write_file(path: Path, data: bytes, truncate: bool = True) -> None:
    """``path`` created with ``data`` (its old content dropped first, unless ``truncate=False``)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else 0), 0o644)
    try:
        written = 0
        while written < len(data):
            written += os.write(descriptor, data[written:])
    finally:
        os.close(descriptor)


def replace_file(path: Path, data: bytes) -> None:
    """``path`` holds ``data`` or, until ``data`` is all written, what it held before: never a part of it
    (written beside it, then renamed over it: an interrupted or failed write leaves no half file; two
    processes writing it at once each write a file of their own, and the last rename wins)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write_file(partial, data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def read_at_most(path: Path, limit: int | None = None) -> bytes:
    """The bytes of a file, at most ``limit + 1`` of them (one more than allowed says it is too large);
    without a limit, the whole file as long as it was when opened.

    The read is sized by the file's length, in four system calls: ``file.read(limit + 1)`` allocates
    a buffer of ``limit`` bytes first (for 1 MB, 50 us, five times the read of a config of a few KB),
    and ``Path.read_bytes`` makes seven calls, each of which costs on this machine's file system.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        return _read_from(fd, os.fstat(fd).st_size, limit)
    finally:
        os.close(fd)


def read_first_and_last_lines(path: Path, each: int) -> bytes:
    """A file's first line and its last whole lines, with the cut-off line after them if there is one,
    joined: its first and last ``each`` bytes are read, not the lines between. A file of at most
    ``2 * each`` bytes, or whose ends hold no newline, is read whole."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if size > 2 * each:
            head, tail = os.pread(fd, each, 0), os.pread(fd, each, size - each)
            if b"\n" in head and b"\n" in tail:
                return head[: head.find(b"\n") + 1] + tail[tail.find(b"\n") + 1 :]
        return _read_from(fd, size, None)  # pread leaves the offset at the start
    finally:
        os.close(fd)


def _read_from(fd: int, size: int, limit: int | None) -> bytes:
    """``read_at_most``'s read of the open file ``fd`` of ``size`` bytes."""
    if size == 0:  # empty, or a file that does not know its size (in /proc): read until it ends
        with open(fd, "rb", closefd=False) as file:
            return file.read() if limit is None else file.read(limit + 1)
    wanted = size if limit is None else min(size, limit) + 1
    data = os.read(fd, wanted)
    while len(data) < min(size, wanted) and (more := os.read(fd, wanted - len(data))):  # a short read
        data += more
    return data
