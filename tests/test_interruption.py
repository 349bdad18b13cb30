"""Interruption for real: a sweep run as a subprocess is stopped part-way, then resumed.

Each test starts ``python -m src.run -m ...`` in its own session (so that the batched
launcher's writer lanes are in its process group, as they are in a terminal's), waits until
some jobs have completed and others are training, and sends SIGINT, SIGTERM or SIGKILL to
the whole group. Then:

* every status on disk is truthful: ``completed`` for the finished jobs, ``interrupted`` (or,
  after SIGKILL, ``running`` on disk, which the catalog shows as ``unfinished``), never
  ``running`` or ``completed`` in the catalog for a run that did not finish;
* every ``metrics.csv`` parses and ends with a whole line;
* the exit code is not zero;
* the same sweep run again into its directory with ``resume=true`` completes, and its
  ``metrics.csv`` and ``params.npz`` are byte-identical to those of a sweep that was never
  interrupted (and each summary's status and final metrics equal).

All of it with the default batched launcher and with Hydra's basic one.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from src.runs import main as catalog_main

from .conftest import REPO

pytestmark = pytest.mark.slow

# Sized so that a sweep takes a few seconds: the batched launcher trains two populations of
# 40 (large enough for writer lanes), the basic one six jobs one after the other.
SWEEPS = {
    "batched": ["seed=range(0,40)", "hidden=2,4", "epochs=20000"],
    "basic": ["seed=range(0,3)", "hidden=2,4", "epochs=20000", "hydra/launcher=basic", "log.chunk_epochs=100"],
}
INTERRUPTED = {"SIGINT": "interrupted", "SIGTERM": "interrupted", "SIGKILL": "unfinished"}


def sweep_command(launcher: str, sweep_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "src.run", "-m", *SWEEPS[launcher], f"hydra.sweep.dir={sweep_dir}",
            "report.auto=false", *extra]  # fmt: skip


def environment() -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("HYDRA_FULL_ERROR", None)
    return env


def run_sweep(launcher: str, sweep_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        sweep_command(launcher, sweep_dir, *extra), cwd=REPO, env=environment(), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def statuses_on_disk(sweep_dir: Path) -> dict[str, str]:
    """Job number -> the status its summary.json says now (``None`` when there is none yet)."""
    found = {}
    for summary in sweep_dir.glob("*/summary.json"):
        try:
            found[summary.parent.name] = json.loads(summary.read_text())["status"]
        except (OSError, ValueError, KeyError):
            continue  # replaced while we read it: look again next time
    return found


FULL_METRICS = 1_600_000  # bytes of a metrics.csv of 20,000 rows, about


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # a run writes its summary first, then creates its metrics.csv
        return 0


def training_part_way(sweep_dir: Path) -> bool:
    """Some job has completed and another is training, some of its rows on disk and more to come.

    (Not yet all of them: a population writes its summaries one run after the other once
    trained, and a signal then is the case of ``test_tracking``'s interrupted-while-finishing test.
    Rows reach the disk every 0.25 s: a job of the basic sweep trains in about 0.4 s here, so its
    first rows on disk are already past half of them.)
    """
    statuses = statuses_on_disk(sweep_dir)
    training = [
        job for job, status in statuses.items()
        if status == "running" and 20_000 < size_of(sweep_dir / job / "metrics.csv") < FULL_METRICS * 9 // 10
    ]  # fmt: skip
    return "completed" in statuses.values() and bool(training)


def hear_ctrl_c() -> None:
    """In the sweep's process: SIGINT as a terminal delivers it. A shell without job control (CI,
    a command run with &) starts background commands with SIGINT ignored, and they inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def signal_when(command: list[str], signal_name: str, ready: Callable[[], bool]) -> subprocess.CompletedProcess:
    """Start ``command`` in a session of its own, send ``signal_name`` to its process group once
    ``ready()`` (unless it has ended by then), and wait for it to end."""
    process = subprocess.Popen(
        command, cwd=REPO, env=environment(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=hear_ctrl_c,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not ready():
            if process.poll() is not None:
                break
            assert time.monotonic() < deadline, "the command never got ready to be signalled"
            time.sleep(0.01)
        if process.poll() is None:
            os.killpg(process.pid, getattr(signal, signal_name))
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def interrupt_part_way(launcher: str, sweep_dir: Path, signal_name: str) -> subprocess.CompletedProcess:
    """Start the sweep, wait until it is part-way, send ``signal_name`` to its process group."""
    stopped = signal_when(sweep_command(launcher, sweep_dir), signal_name, lambda: training_part_way(sweep_dir))
    assert stopped.returncode != 0, f"the sweep ended before it could be interrupted: {stopped.stdout}"
    return stopped


def catalog(sweep_dir: Path, capsys) -> pd.DataFrame:
    """The run catalog's CSV export of ``sweep_dir``, as a table indexed by job number."""
    capsys.readouterr()
    assert catalog_main([str(sweep_dir), "--csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    table.index = [Path(path).name for path in table["path"]]
    return table


def assert_every_metrics_file_parses(sweep_dir: Path, killed: bool = False) -> None:
    """Every metrics.csv ends with a whole line, and parses.

    After kill -9 a file may end in part of a line: Linux copies a large ``write`` page by page
    and stops at a fatal signal, so even one ``os.write`` per chunk is not all-or-nothing then.
    The loader drops such a last part (``src.rundir.metrics_csv.whole_lines``) and a resumed run
    starts its file again, so there everything up to the last newline must parse.
    """
    for path in sweep_dir.glob("*/metrics.csv"):
        data = path.read_bytes()
        if killed:
            data = data[: data.rfind(b"\n") + 1]
        assert data.endswith(b"\n"), f"{path} ends in half a line"
        rows = pd.read_csv(io.BytesIO(data))
        assert list(rows.columns) == ["epoch", "loss", "mae", "mse", "accuracy"]
        assert rows.notna().all().all() and (rows["epoch"].diff().dropna() == 1).all(), path


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Per launcher, the sweep run to its end without interruption (made once, on demand)."""
    made = {}

    def sweep(launcher: str) -> Path:
        if launcher not in made:
            sweep_dir = tmp_path_factory.mktemp(f"uninterrupted-{launcher}") / "sweep"
            done = run_sweep(launcher, sweep_dir)
            assert done.returncode == 0, done.stderr
            made[launcher] = sweep_dir
        return made[launcher]

    return sweep


def assert_same_as_uninterrupted(resumed: Path, reference: Path) -> None:
    jobs = sorted(p.name for p in reference.iterdir() if (p / "summary.json").is_file())
    assert sorted(p.name for p in resumed.iterdir() if (p / "summary.json").is_file()) == jobs
    for job in jobs:
        for name in ("metrics.csv", "params.npz"):
            assert (resumed / job / name).read_bytes() == (reference / job / name).read_bytes(), f"{job}/{name}"
        ours, theirs = (json.loads((d / job / "summary.json").read_text()) for d in (resumed, reference))
        assert ours["status"] == theirs["status"] == "completed"
        assert ours["final"] == theirs["final"] and ours["epochs_run"] == theirs["epochs_run"]
        assert ours["config_sha"] == theirs["config_sha"]
        assert not (resumed / job / "traceback.txt").exists(), "a resumed run keeps an earlier attempt's traceback"


@pytest.mark.parametrize("launcher", ["batched", "basic"])
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGKILL"])
def test_interrupted_sweep_is_truthful_and_resumes_to_the_same_files(
    tmp_path, capsys, uninterrupted, launcher, signal_name
):
    sweep_dir = tmp_path / "sweep"
    stopped = interrupt_part_way(launcher, sweep_dir, signal_name)
    assert stopped.returncode != 0
    if signal_name == "SIGINT":
        assert stopped.returncode == 130 and "Traceback" not in stopped.stderr
        assert "Interrupted (SIGINT)" in stopped.stderr and "resume=true" in stopped.stderr

    on_disk = statuses_on_disk(sweep_dir)
    expected_stop = {"SIGINT": "interrupted", "SIGKILL": "running"}[signal_name]  # kill -9 cannot write its end
    assert set(on_disk.values()) == {"completed", expected_stop}, on_disk
    assert_every_metrics_file_parses(sweep_dir, killed=signal_name == "SIGKILL")
    for job, status in on_disk.items():
        if status == "interrupted":
            summary = json.loads((sweep_dir / job / "summary.json").read_text())
            assert summary["ended_at"] and "KeyboardInterrupt" in summary["error"]
            assert (sweep_dir / job / "traceback.txt").is_file()
            assert not (sweep_dir / job / "params.npz").exists()

    table = catalog(sweep_dir, capsys)
    jobs = len(list(sweep_dir.glob("*/.hydra/config.yaml")))
    assert len(table) == jobs and (launcher != "batched" or jobs == 80)  # basic: only jobs begun have a directory
    assert set(table["status"]) == {"completed", INTERRUPTED[signal_name]} | (
        {"unfinished"} if len(on_disk) < jobs else set()  # jobs not started: config written, nothing else
    )
    for job, status in on_disk.items():
        shown = table.at[job, "status"]
        assert shown == ("completed" if status == "completed" else INTERRUPTED[signal_name]), (job, shown)
    not_started = table[~table.index.isin(list(on_disk))]
    assert (not_started["status"] == "unfinished").all()
    assert all(str(problem).startswith("not started") for problem in not_started["problem"])
    completed_before = {job: (sweep_dir / job / "metrics.csv").stat().st_mtime_ns for job in on_disk
                        if on_disk[job] == "completed"}  # fmt: skip

    resumed = run_sweep(launcher, sweep_dir, "resume=true")
    assert resumed.returncode == 0, resumed.stderr
    for job, mtime in completed_before.items():  # kept and skipped, not trained again
        assert (sweep_dir / job / "metrics.csv").stat().st_mtime_ns == mtime, job
    assert set(catalog(sweep_dir, capsys)["status"]) == {"completed"}
    assert_same_as_uninterrupted(sweep_dir, uninterrupted(launcher))


@pytest.mark.parametrize("launcher", ["batched", "basic"])
def test_sigterm_marks_the_runs_interrupted(tmp_path, capsys, launcher):
    sweep_dir = tmp_path / "sweep"
    stopped = interrupt_part_way(launcher, sweep_dir, "SIGTERM")
    assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr
    assert "Traceback" not in stopped.stderr and "Interrupted (SIGTERM)" in stopped.stderr
    assert set(statuses_on_disk(sweep_dir).values()) == {"completed", "interrupted"}
    assert_every_metrics_file_parses(sweep_dir)
    assert set(catalog(sweep_dir, capsys)["status"]) <= {"completed", "interrupted", "unfinished"}


def assert_summaries_agree_with_metrics(sweep_dir: Path) -> None:
    """Every ended run's summary claims exactly the rows its metrics.csv holds: the row count,
    the last epoch, and the final values of that last row."""
    for path in sweep_dir.glob("*/summary.json"):
        summary = json.loads(path.read_text())
        if summary["status"] == "running" or "metrics_rows" not in summary:
            continue
        rows = pd.read_csv(path.parent / "metrics.csv")
        assert len(rows) == summary["metrics_rows"], (path, summary["status"])
        if len(rows):
            assert rows["epoch"].iloc[-1] == summary["epochs_run"] - 1, path
            assert summary["final"]["loss"] == rows["loss"].iloc[-1], path
        else:
            assert summary["epochs_run"] == 0 and summary["final"] == {}, path


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("after", [0.4, 1.2, 2.0, 2.8, 3.6])
def test_a_signal_at_any_moment_leaves_summaries_that_agree_with_their_metrics(tmp_path, signal_name, after):
    """Stopped at several moments (starting, training, writing summaries, writing the report): no run
    is left ``running``, and no summary claims a row that is not in its metrics.csv."""
    sweep_dir = tmp_path / "sweep"
    command = [sys.executable, "-m", "src.run", "-m", "seed=range(0,40)", "hidden=2,4", "epochs=3000",
               f"hydra.sweep.dir={sweep_dir}"]  # fmt: skip
    started = time.monotonic()
    err = signal_when(command, signal_name, lambda: time.monotonic() > started + after).stderr
    assert "Traceback" not in err, err
    assert "running" not in statuses_on_disk(sweep_dir).values()
    assert_every_metrics_file_parses(sweep_dir)
    assert_summaries_agree_with_metrics(sweep_dir)


def test_an_error_that_a_signal_caused_on_its_way_out_ends_as_the_interruption():
    """A signal during Hydra's composition once surfaced as OmegaConf's AttributeError (its state left
    half-updated by the KeyboardInterrupt) and a traceback: the command ends as interrupted instead."""
    code = (
        "import os, signal, time\n"
        "from src.user_errors import cli\n"
        "def entry_point():\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(5)\n"
        "    except KeyboardInterrupt:\n"
        "        raise AttributeError(\"'NoneType' object has no attribute '_invalidate_flags_cache'\")\n"
        "cli(entry_point)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 143, done
    assert "Interrupted (SIGTERM)" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_signal_that_arrives_inside_a_weakref_callback_is_not_lost():
    """Python drops an exception raised in a weak reference's callback; the signal still stops the
    process at the next check, and Python's "Exception ignored" traceback is not printed."""
    code = (
        "import os, signal, weakref\n"
        "from src import interruption\n"
        "interruption.install()\n"
        "class Thing: pass\n"
        "thing = Thing()\n"
        "keep = weakref.ref(thing, lambda ref: (os.kill(os.getpid(), signal.SIGTERM), sum(range(100))))\n"
        "del thing\n"
        "print('went on', flush=True)\n"
        "try:\n"
        "    interruption.stop_if_signalled()\n"
        "except KeyboardInterrupt as stopped:\n"
        "    print('stopped:', stopped)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.stdout.splitlines() == ["went on", "stopped: signal SIGTERM"], done
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
