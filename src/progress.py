"""Live progress of a sweep: per population, its networks, epochs done, rate and ETA.

    population 1/2, 1000 networks: epoch 4000/10000, 1,150 epochs/s (1.2 M network-epochs/s), ETA 5 s

On a terminal the line is rewritten in place (``\\r``) as chunks finish; otherwise (a log
file, a pipe, a cluster's output) a plain line is printed after the first chunk and then at
most every ``every_s`` seconds, so a long sweep's log shows where it is without growing by
a line per chunk. A population that ends gets one line with its time. At the end of the
sweep, one line counts its runs by status and says how many were kept by ``resume=true``
and how many were trained.

With ``E`` epochs planned, ``e`` done after ``t`` seconds, the rate is ``e / t`` epochs per
second (``P * e / t`` network-epochs for ``P`` networks) and ``ETA = (E - e) * t / e``.

Used as ``run_population(..., on_chunk=progress.on_chunk)``: ``on_chunk(epochs, metrics)``
sees the epochs of each chunk the population finished.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from typing import TextIO

import numpy as np

ENDED = ("completed", "diverged", "failed", "interrupted")


def job_ranges(nums: list[int], most: int = 6) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``#0-#2, #5, #7-#8``; past ``most`` ranges, the first ones and a count.

    Every k-th job (a sweep whose other values make k populations): ``#1, #3, ..., #999``.
    """
    nums = sorted(nums)
    steps = set(np.diff(nums).tolist())
    if len(nums) > 3 and len(steps) == 1 and steps != {1}:
        return f"#{nums[0]}, #{nums[1]}, ..., #{nums[-1]}"
    ranges: list[list[int]] = []
    for num in sorted(nums):
        if ranges and num == ranges[-1][1] + 1:
            ranges[-1][1] = num
        else:
            ranges.append([num, num])
    parts = [f"#{a}" if a == b else f"#{a}-#{b}" for a, b in ranges]
    if len(parts) > most:
        parts = [*parts[: most - 1], f"... ({len(parts) - most + 1} more ranges)"]
    return ", ".join(parts)


def population_line(nums: list[int]) -> str:
    """The announcement of a population: ``population of 1000: jobs #0-#999``."""
    return f"population of {len(nums)}: jobs {job_ranges(nums)}"


def duration(seconds: float) -> str:
    """``0.4 s``, ``42 s``, ``3 min 20 s``, ``2 h 05 min``."""
    if seconds < 10:
        return f"{max(seconds, 0):.1f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def amount(value: float) -> str:
    """``1,150`` or ``1.2 M``."""
    return f"{value / 1e6:.1f} M" if value >= 1e6 else f"{value:,.0f}"


class SweepProgress:
    """Progress lines for the populations of one sweep; see the module's docstring."""

    def __init__(self, populations: int, stream: TextIO | None = None, every_s: float = 10.0):
        self.populations = populations
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty()
        self.every_s = every_s
        self.number = 0
        self.started_sweep = time.perf_counter()
        self.open_line = False
        self.trained = 0

    def start(self, networks: int, epochs: int) -> None:
        """A population of ``networks`` begins ``epochs`` epochs of training."""
        self._close_line()
        self.number += 1
        self.trained += networks
        self.networks, self.epochs = networks, epochs
        self.started = self.last_shown = time.perf_counter()
        self.shown = False

    def on_chunk(self, epochs: np.ndarray, metrics: dict) -> None:
        """``run_population``'s callback: the population finished the epochs ``epochs``."""
        done = int(epochs[-1]) + 1
        now = time.perf_counter()
        elapsed = max(now - self.started, 1e-9)
        if done >= self.epochs:
            self._write(
                f"population {self.number}/{self.populations}, {self.networks} networks: "
                f"{self.epochs} epochs in {duration(elapsed)}",
                end=True,
            )
            return
        due = self.every_s if not self.live else 0.1
        if self.shown and now - self.last_shown < due:
            return
        rate = done / elapsed
        self._write(
            f"population {self.number}/{self.populations}, {self.networks} networks: epoch {done}/"
            f"{self.epochs}, {amount(rate)} epochs/s ({amount(rate * self.networks)} network-epochs/s), "
            f"ETA {duration((self.epochs - done) / rate)}"
        )
        self.shown, self.last_shown = True, now

    def summary(self, statuses: list[str | None], kept: int) -> str:
        """The sweep's last line: its runs by status (``None``: a job that never ran), kept and trained."""
        self._close_line()
        counts = Counter(status or "failed" for status in statuses)
        known = [f"{counts[s]} {s}" for s in ENDED if counts[s]]
        other = [f"{n} {s}" for s, n in counts.items() if s not in ENDED]
        return (
            f"Sweep of {len(statuses)} jobs: {', '.join(known + other)}; {kept} kept by resume, "
            f"{self.trained} trained, in {duration(time.perf_counter() - self.started_sweep)}."
        )

    def _write(self, line: str, end: bool = False) -> None:
        try:
            if self.live:
                self.stream.write(f"\r\x1b[K{line}" + ("\n" if end else ""))
                self.open_line = not end
            else:
                self.stream.write(line + "\n")
            self.stream.flush()
        except BrokenPipeError:  # the reader went away (``| head``): the sweep trains on, unprinted
            self.stream = open(os.devnull, "w")  # noqa: SIM115  (kept for the rest of the sweep)

    def _close_line(self) -> None:
        if self.open_line:
            self.stream.write("\n")
            self.stream.flush()
            self.open_line = False
