"""Ctrl-C and SIGTERM stop the harness as ``KeyboardInterrupt``, even where Python would drop it.

A signal's handler runs between two steps of whatever Python code runs at that moment. When
that code is a weak reference's callback or a ``__del__`` (the garbage collector's work, at any
moment), the ``KeyboardInterrupt`` it raises cannot propagate: Python prints "Exception ignored
in ..." and goes on, as if the signal never came. So the handler also remembers the signal, and
the loops that run for long (a population's chunks, the wait for a sweep's shards, the end of
the command) call ``stop_if_signalled``, which raises it again: a signal is never lost, only late.
Python's report of the dropped exception (a traceback on stderr) is not printed.
"""

import signal
import sys

_signalled: str | None = None  # the name of the signal that asked this process to stop


def on_signal(signum, frame) -> None:
    """The handler for SIGINT and SIGTERM: remember the signal, and stop with ``KeyboardInterrupt``."""
    global _signalled
    _signalled = signal.Signals(signum).name
    raise KeyboardInterrupt(f"signal {_signalled}")


def signalled() -> str | None:
    """The name of the signal that asked this process to stop, if one did."""
    return _signalled


def signal_name_and_exit_code(interruption: KeyboardInterrupt) -> tuple[str, int]:
    """The signal that stopped the process (``on_signal``'s, or Ctrl-C's when Python raised it itself)
    and the exit code a shell gives it: 128 + its number (130 for SIGINT, 143 for SIGTERM)."""
    name = str(interruption).removeprefix("signal ") or "SIGINT"
    return name, 128 + int(getattr(signal, name, signal.SIGINT))


def stop_if_signalled() -> None:
    """Raise the ``KeyboardInterrupt`` of a signal that came, in case it was dropped where it arrived."""
    if _signalled is not None:
        raise KeyboardInterrupt(f"signal {_signalled}")


def _unraisable(report) -> None:
    """Python's hook for an exception it has to drop: silent for a signal's (``stop_if_signalled``
    raises it again), Python's own report for anything else."""
    if not isinstance(report.exc_value, KeyboardInterrupt) or _signalled is None:
        sys.__unraisablehook__(report)


def install() -> None:
    """SIGTERM, and SIGINT unless it is ignored (a background job), stop this process through ``on_signal``."""
    signal.signal(signal.SIGTERM, on_signal)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, on_signal)
    sys.unraisablehook = _unraisable
