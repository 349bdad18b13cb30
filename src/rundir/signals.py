"""Ctrl-C and SIGTERM held back while a run directory's files are written.

Python raises ``KeyboardInterrupt`` between any two steps of a program, so a signal could land
between writing a run's rows and noting that they are written (and the rows would be written
twice), or between marking a run and writing its summary. Such steps run inside
``signals_held()``: the signals wait at the operating system's door and arrive when it ends.
"""

from __future__ import annotations

import contextlib
import signal


@contextlib.contextmanager
def signals_held():
    """Hold Ctrl-C and SIGTERM back while the block runs; they are delivered when it ends."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
