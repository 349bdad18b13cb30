"""A sweep never mixes or loses runs: a bad job fails alone, and directories are never shared.

Each case as a user meets it, through ``python -m src.run -m ...`` with the batched launcher:

* jobs whose config fails among good ones: only they are failed, with their reason; the others
  train as one population and write what they write without them; ``resume=true`` completes
  the rest; and a network whose own set-up fails past the checks (its weights cannot be drawn)
  fails alone inside its population;
* ``hydra.sweep.subdir`` built from job values: each job in its own directory;
* two jobs given one directory: the sweep stops before training, naming them;
* ``resume=true`` with another config: the sweep stops naming the difference, no file changed;
* a second sweep into a directory another sweep is writing: it stops; the first is unharmed;
  and a claim left by a killed process does not block.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from src.population import run_population
from src.rundir.claim import CLAIM_FILE, SweepDirectoryBusy, claim_sweep_dir

from .conftest import REPO, make_config, run_cli

QUICK = ("epochs=30", "report.auto=false")
BAD_LOW = ("init.low=0,-1e308",)  # -1e308: beyond the harness's limit on a starting weight's scale


def status(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def snapshot(sweep_dir: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of a sweep (the claim file aside): its bytes and modification time."""
    return {
        str(p.relative_to(sweep_dir)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(sweep_dir.rglob("*"))
        if p.is_file() and p.name != CLAIM_FILE
    }


def test_a_job_whose_config_fails_fails_alone_and_resume_completes_the_rest(tmp_path):
    sweep = tmp_path / "mixed"
    done = run_cli("-m", "seed=1,2", *BAD_LOW, *QUICK, f"hydra.sweep.dir={sweep}")
    assert done.returncode == 1, done.stderr
    assert "population of 2" in done.stdout  # the good jobs still train together
    assert [status(sweep / str(job))["status"] for job in range(4)] == ["completed", "failed", "completed", "failed"]
    for job in (1, 3):
        assert "init.low" in status(sweep / str(job))["error"]
        assert not (sweep / str(job) / "metrics.csv").exists()
    alone = tmp_path / "good_only"  # the good jobs without the bad ones: the same files
    assert run_cli("-m", "seed=1,2", "init.low=0", *QUICK, f"hydra.sweep.dir={alone}").returncode == 0
    for job, same in ((0, 0), (2, 1)):
        for name in ("metrics.csv", "params.npz"):
            assert (sweep / str(job) / name).read_bytes() == (alone / str(same) / name).read_bytes(), (job, name)

    # job 2 stopped before its end (no summary of its end, no params): resume finishes it alone
    expected = (sweep / "2" / "metrics.csv").read_bytes()
    (sweep / "2" / "params.npz").unlink()
    (sweep / "2" / "summary.json").write_text(json.dumps({**status(sweep / "2"), "status": "running"}))
    kept = (sweep / "0" / "metrics.csv").stat().st_mtime_ns
    resumed = run_cli("-m", "seed=1,2", *BAD_LOW, *QUICK, f"hydra.sweep.dir={sweep}", "resume=true")
    assert resumed.returncode == 1  # the bad jobs fail again, alone
    assert [status(sweep / str(job))["status"] for job in range(4)] == ["completed", "failed", "completed", "failed"]
    assert (sweep / "2" / "metrics.csv").read_bytes() == expected
    assert (sweep / "0" / "metrics.csv").stat().st_mtime_ns == kept


def test_a_network_whose_weights_cannot_be_drawn_fails_alone_in_its_population(tmp_path):
    """Past the config's checks, a network's own set-up can still fail (here its ``init.low`` is set
    beyond what a generator can draw after validation): only its run fails, with its reason."""
    configs = [
        make_config("seed=1", "epochs=30"),
        make_config("seed=2", "epochs=30"),
        make_config("seed=3", "epochs=30"),
    ]
    configs[1].init.low, configs[1].init.high = -1e308, 1e308  # wider than a generator can draw
    results = run_population(configs, [tmp_path / "together" / str(p) for p in range(3)])
    assert [r.summary["status"] for r in results] == ["completed", "failed", "completed"]
    assert isinstance(results[1].error, OverflowError)
    assert status(tmp_path / "together" / "1")["error"] == "OverflowError: Range exceeds valid bounds"
    alone = run_population([configs[0], configs[2]], [tmp_path / "alone" / str(p) for p in range(2)])
    assert [r.summary["status"] for r in alone] == ["completed", "completed"]
    for p, same in ((0, 0), (2, 1)):
        for name in ("metrics.csv", "params.npz"):
            together = (tmp_path / "together" / str(p) / name).read_bytes()
            assert together == (tmp_path / "alone" / str(same) / name).read_bytes(), (p, name)


def test_a_subdir_made_of_job_values_gives_each_job_its_directory(tmp_path):
    done = run_cli(
        "-m", "lr=0.1,0.5", "seed=0,1", *QUICK, f"hydra.sweep.dir={tmp_path}", "hydra.sweep.subdir=lr${lr}_s${seed}"
    )
    assert done.returncode == 0, done.stderr
    runs = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert runs == ["lr0.1_s0", "lr0.1_s1", "lr0.5_s0", "lr0.5_s1"]
    for name in runs:
        lr, seed = name.removeprefix("lr").split("_s")
        assert status(tmp_path / name)["overrides"][:2] == [f"lr={lr}", f"seed={seed}"]
        assert len((tmp_path / name / "metrics.csv").read_text().splitlines()) == 31  # one run's rows: header + 30
        assert f"lr: {lr}\n" in (tmp_path / name / ".hydra" / "config.yaml").read_text()


def test_two_jobs_given_one_directory_stop_the_sweep_before_training(tmp_path):
    done = run_cli("-m", "lr=0.1,0.5", "seed=0,1", *QUICK, f"hydra.sweep.dir={tmp_path}", "hydra.sweep.subdir=lr${lr}")
    assert done.returncode == 2
    [paragraph] = [line for line in done.stderr.splitlines() if line.strip()]
    assert paragraph.startswith("Error: hydra.sweep.subdir 'lr${lr}' gives several jobs the same run directory")
    assert f"{tmp_path / 'lr0.1'}: #0 (lr=0.1 seed=0" in paragraph and "#1 (lr=0.1 seed=1" in paragraph
    assert "Traceback" not in done.stderr
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # nothing trained, nothing written


def test_resume_with_another_config_stops_naming_the_difference_and_changes_nothing(tmp_path):
    assert run_cli("-m", "seed=0,1", *QUICK, f"hydra.sweep.dir={tmp_path}").returncode == 0
    before = snapshot(tmp_path)
    done = run_cli("-m", "seed=0,1", *QUICK, "lr=0.5", f"hydra.sweep.dir={tmp_path}", "resume=true")
    assert done.returncode == 2
    assert "holds a run made with another config: its config differs: lr: 0.1 -> 0.5. " in done.stderr
    assert "Traceback" not in done.stderr
    after = snapshot(tmp_path)
    after.pop("multirun.yaml"), before.pop("multirun.yaml")  # Hydra's record of the command, written first
    assert after == before
    same = run_cli("-m", "seed=0,1", *QUICK, f"hydra.sweep.dir={tmp_path}", "resume=true")  # the same config resumes
    assert same.returncode == 0 and {k: v for k, v in snapshot(tmp_path).items() if k.endswith(".csv")} == {
        k: v for k, v in before.items() if k.endswith(".csv")
    }


def hold_a_claim(sweep_dir: Path) -> subprocess.Popen:
    """Another process that claims ``sweep_dir`` and sleeps."""
    code = (
        "import sys, time; from src.rundir.claim import claim_sweep_dir\n"
        f"with claim_sweep_dir({str(sweep_dir)!r}):\n    print('claimed', flush=True); time.sleep(600)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "claimed"
    return holder


def test_a_claimed_sweep_directory_stops_a_second_sweep_and_a_dead_claim_blocks_nothing(tmp_path):
    holder = hold_a_claim(tmp_path)
    try:
        with pytest.raises(SweepDirectoryBusy, match=f"in use by another sweep: process {holder.pid} on "):
            with claim_sweep_dir(tmp_path):
                pass
        done = run_cli("-m", "seed=0,1", *QUICK, f"hydra.sweep.dir={tmp_path}")
        assert done.returncode == 2 and "is in use by another sweep" in done.stderr
        assert not [p for p in tmp_path.iterdir() if p.is_dir()]
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with claim_sweep_dir(tmp_path):  # its holder is gone: the claim went with it
        pass
    assert run_cli("-m", "seed=0,1", *QUICK, f"hydra.sweep.dir={tmp_path}").returncode == 0


@pytest.mark.slow
def test_two_sweeps_into_one_directory_do_not_mix(tmp_path):
    first = subprocess.Popen(
        [sys.executable, "-m", "src.run", "-m", "seed=range(0,40)", "epochs=20000", "report.auto=false",
         f"hydra.sweep.dir={tmp_path}"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "0" / "metrics.csv").exists():  # training has begun
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        second = run_cli("-m", "seed=range(0,40)", "epochs=20000", "report.auto=false", f"hydra.sweep.dir={tmp_path}")
        assert second.returncode == 2 and "is in use by another sweep: process " in second.stderr
        assert first.wait(timeout=300) == 0
    finally:
        first.kill()
        first.wait()
    for job in range(40):
        assert status(tmp_path / str(job))["status"] == "completed"
        assert len((tmp_path / str(job) / "metrics.csv").read_bytes().splitlines()) == 20001


@pytest.mark.parametrize("chdir", ["false", "true"])
def test_job_callbacks_fire_for_every_population_member_in_its_own_directory(tmp_path, chdir):
    record = tmp_path / "record.jsonl"
    done = run_cli(
        "-m", "lr=0.1,0.5,abc", *QUICK, f"hydra.sweep.dir={tmp_path / 'sweep'}", f"hydra.job.chdir={chdir}",
        "+hydra.job.env_set.PROBE_ENV=set", "+hydra.callbacks.probe._target_=tests.job_probe.JobProbe",
        f"+hydra.callbacks.probe.record={record}",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # lr=abc is a failed job; the others trained as one population
    assert "population of 2" in done.stdout
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(line["event"], line["num"]) for line in lines] == [("start", 0), ("start", 1), ("start", 2)] + [
        ("end", 0),
        ("end", 1),
        ("end", 2),
    ]
    for line in lines:
        run_dir = str(tmp_path / "sweep" / str(line["num"]))
        assert line["hydra_config_num"] == line["num"] and line["output_dir"] == run_dir
        assert line["cwd"] == (run_dir if chdir == "true" else str(REPO))
    assert all(line["env"] == "set" for line in lines[:3])  # hydra.job.env_set, set around on_job_start
    ends = lines[3:]
    assert [line["lr"] for line in ends[:2]] == [0.1, 0.5]
    assert [line["status"] for line in ends] == ["COMPLETED"] * 3 and ends[2]["value"] == float("inf")
    assert [line["overrides"][0] for line in ends] == ["lr=0.1", "lr=0.5", "lr=abc"]
    assert ends[0]["working_dir"] == (str(tmp_path / "sweep" / "0") if chdir == "true" else str(REPO))
    assert ends[0]["value"] == status(tmp_path / "sweep" / "0")["final"]["loss"]


@pytest.mark.slow
def test_a_refused_sweep_writes_no_report_into_the_directory(tmp_path):
    first = run_cli("-m", "seed=0,1", "epochs=50", "report.auto=false", f"hydra.sweep.dir={tmp_path}")
    assert first.returncode == 0, first.stderr
    refused = run_cli("-m", "seed=0,1", "lr=0.5", "epochs=50", "resume=true", f"hydra.sweep.dir={tmp_path}")
    assert refused.returncode == 2 and "Report:" not in refused.stdout, refused.stdout
    assert not (tmp_path / "report").exists()
