"""Live progress of a sweep: lines with an ETA while it trains, a short launch line, a summary at the end."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from src.progress import SweepProgress, duration, job_ranges, population_line

from .conftest import REPO


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def chunk(last_epoch: int):
    return np.arange(last_epoch - 999, last_epoch + 1), {}


def test_plain_lines_once_in_a_while_with_eta_and_one_line_at_the_end(monkeypatch):
    out = io.StringIO()
    clock = iter([0.0, 0.0, 1.0, 2.0, 12.0, 13.0, 14.0, 15.0])
    monkeypatch.setattr("src.progress.time.perf_counter", lambda: next(clock))
    progress = SweepProgress(populations=2, stream=out, every_s=10)
    progress.start(networks=1000, epochs=5000)
    for last in (999, 1999, 2999, 3999, 4999):
        progress.on_chunk(*chunk(last))
    lines = out.getvalue().splitlines()
    assert lines == [
        "population 1/2, 1000 networks: epoch 1000/5000, 1,000 epochs/s (1.0 M network-epochs/s), ETA 4.0 s",
        "population 1/2, 1000 networks: epoch 3000/5000, 250 epochs/s (250,000 network-epochs/s), ETA 8.0 s",
        "population 1/2, 1000 networks: 5000 epochs in 14 s",
    ]  # epochs 2000 and 4000 came less than 10 s after the line before


def test_on_a_terminal_the_line_is_rewritten_in_place():
    out = Terminal()
    progress = SweepProgress(populations=1, stream=out, every_s=10)
    progress.start(networks=4, epochs=3000)
    progress.on_chunk(*chunk(999))
    progress.on_chunk(*chunk(2999))
    text = out.getvalue()
    assert text.startswith("\r\x1b[Kpopulation 1/1, 4 networks: epoch 1000/3000") and "ETA" in text
    assert text.count("\n") == 1 and text.endswith("3000 epochs in " + text.rsplit("in ", 1)[1])
    assert "\r\x1b[Kpopulation 1/1, 4 networks: 3000 epochs in" in text


def test_summary_counts_statuses_kept_and_trained():
    progress = SweepProgress(populations=1, stream=io.StringIO())
    progress.start(networks=3, epochs=10)
    line = progress.summary(["completed", "completed", "diverged", None, "completed"], kept=1)
    assert line.startswith("Sweep of 5 jobs: 3 completed, 1 diverged, 1 failed; 1 kept by resume, 3 trained, in ")


def test_launch_line_and_durations():
    assert population_line(list(range(1000))) == "population of 1000: jobs #0-#999"
    assert job_ranges(list(range(1, 2000, 2))) == "#1, #3, ..., #1999"
    assert job_ranges([0, 1, 2, 5, 7, 8]) == "#0-#2, #5, #7-#8"
    assert job_ranges([i * i for i in range(100)]) == "#0-#1, #4, #9, #16, #25, ... (94 more ranges)"
    assert [duration(s) for s in (0.42, 42, 200, 7500)] == ["0.4 s", "42 s", "3 min 20 s", "2 h 05 min"]


@pytest.mark.slow
def test_progress_lines_appear_while_a_sweep_runs_and_the_launch_line_is_short(tmp_path):
    sweep = tmp_path / "sweep"
    command = [sys.executable, "-m", "src.run", "-m", "seed=range(0,30)", "epochs=20000", "report.auto=false",
               f"hydra.sweep.dir={sweep}"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, while_running = [], None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if "ETA" in line and while_running is None:  # the runs' summaries still say they are running
            while_running = [json.loads((sweep / str(i) / "summary.json").read_text())["status"] for i in range(30)]
    assert process.wait(timeout=300) == 0
    assert while_running is not None, "\n".join(lines)
    assert "running" in while_running
    launch = [line for line in lines if "population of" in line]
    assert len(launch) == 1 and launch[0].endswith("population of 30: jobs #0-#29") and len(launch[0]) < 100
    progress = next(line for line in lines if "ETA" in line)
    assert progress.startswith("population 1/1, 30 networks: epoch ") and "epochs/s" in progress
    assert lines[-1].startswith("Sweep of 30 jobs: 30 completed; 0 kept by resume, 30 trained, in ")
