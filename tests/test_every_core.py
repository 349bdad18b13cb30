"""Reading many run directories on every core gives what reading them here gives; freed memory is reused."""

from __future__ import annotations

import resource
import socket

import numpy as np
import pytest

from src.heap import _glibc, keep_freed_memory
from src.report.tables import CurveKeeper
from src.rundir import every_core
from src.rundir.every_core import read_runs_on_every_core
from src.rundir.reader import find_run_dirs, read_runs

from .conftest import run_cli


def test_runs_read_by_several_processes_are_the_runs_read_here(tmp_path, monkeypatch):
    sweep = tmp_path / "sweep"
    done = run_cli("-m", "seed=range(0,7)", "epochs=300", f"hydra.sweep.dir={sweep}", "report.auto=false")
    assert done.returncode == 0, done.stderr
    (sweep / "3" / "metrics.csv").write_text("epoch,loss\n0,abc\n")  # a damaged run among them
    run_dirs, host = find_run_dirs([sweep]), socket.gethostname()
    keep = CurveKeeper(["loss"], 100, ("loss", 0.6, False))
    here = read_runs(run_dirs, ("loss",), host, keep)
    monkeypatch.setattr(every_core, "RUNS_PER_PROCESS", 2)
    side_by_side = read_runs_on_every_core(run_dirs, ("loss",), host, keep, workers=3)
    assert [r.path for r in side_by_side] == [r.path for r in here] == run_dirs
    for a, b in zip(side_by_side, here):
        assert (a.status, a.problem, a.config, a.summary, a.last, a.seen) == (
            b.status,
            b.problem,
            b.config,
            b.summary,
            b.last,
            b.seen,
        )
        assert (a.curve is None and b.curve is None) or np.array_equal(a.curve, b.curve)
    assert here[3].status == "unreadable" and "metrics.csv" in here[3].problem
    assert any(r.seen.get("reached_target_at") for r in here) and len(here[0].curve) <= 101


def test_a_reading_process_that_dies_costs_only_time(tmp_path, monkeypatch):
    """Its stretches are read again by the report's own process: the same records, nothing missing."""
    import os

    sweep = tmp_path / "sweep"
    done = run_cli("-m", "seed=range(0,6)", "epochs=100", f"hydra.sweep.dir={sweep}", "report.auto=false")
    assert done.returncode == 0, done.stderr
    run_dirs, host = find_run_dirs([sweep]), socket.gethostname()
    here = read_runs(run_dirs, ("loss",), host)
    parent, real_read_runs = os.getpid(), every_core.read_runs

    def dies_elsewhere(*args, **kwargs):
        if os.getpid() != parent:
            os._exit(9)  # as the kernel's out-of-memory killer would end it
        return real_read_runs(*args, **kwargs)

    monkeypatch.setattr(every_core, "read_runs", dies_elsewhere)
    monkeypatch.setattr(every_core, "RUNS_PER_PROCESS", 2)
    again = read_runs_on_every_core(run_dirs, ("loss",), host, workers=2)
    assert [r.path for r in again] == run_dirs
    assert all(np.array_equal(a.curve, b.curve) and a.status == b.status for a, b in zip(again, here))


@pytest.mark.skipif(_glibc() is None, reason="the thresholds are glibc's: elsewhere keep_freed_memory changes nothing")
def test_memory_freed_is_reused_without_new_page_faults():
    """After ``keep_freed_memory``, a buffer of 600 KB freed and allocated again costs no fresh pages."""
    keep_freed_memory()

    def churn() -> int:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for i in range(200):
            buffer = bytearray(600_000 + 1000 * i)  # sizes that grow, as the parser's buffers do
            buffer[::4096] = b"\x01" * len(buffer[::4096])
            del buffer
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    churn()
    assert churn() < 1000  # given back each time, the same loop takes about 30,000


def test_a_report_file_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    from src.rundir import files

    path = tmp_path / "report.html"
    files.replace_file(path, b"earlier report")
    real_write = files.write_file

    def write_then_fail(target, data, truncate=True):
        real_write(target, data[:3])  # part of the new file written, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_file", write_then_fail)
    try:
        files.replace_file(path, b"new report")
    except OSError:
        pass
    assert path.read_bytes() == b"earlier report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no partial file left behind
