"""Mistakes that explain themselves, typed as a user types them: one paragraph naming the key, the value
and what is allowed, exit code 2, no traceback; in a sweep, that job is recorded failed with the reason."""

from __future__ import annotations

import json

import pytest

from src.choices import GROUPS, options

from .conftest import run_cli

MISTAKES = {  # the command line: fragments its one paragraph must contain (key, value, what is allowed)
    "train.batch_size=2 train.shuffle_seed=-1": ["'train.shuffle_seed'", "-1", "from 0 to 2**32 - 1"],
    "dataset=table dataset.inputs=5 dataset.targets=1": ["'dataset.inputs'", "5", "a non-empty list"],
    "dataset=table dataset.targets=1": ["'dataset.targets'", "1", "a non-empty list"],
    "init.low=-1e308 init.high=1e308": ["'init.low'", "-1e+308", "from -1e+100 to 1e+100"],
    "init=xavier init.gain=1e308": ["'init.gain'", "1e+308", "from -1e+100 to 1e+100"],
    "log.decimals=100000000000": ["'log.decimals'", "100000000000", "from 0 to 17"],
    "hidden=300000000": ["hidden", "300000000", "at most 4096"],
    "hidden=[8,300000000]": ["hidden", "300000000", "at most 4096"],
    "dataset=parity dataset.bits=40": ["'dataset.bits'", "40", "from 1 to 16", "65,536 rows"],
    "epochs=18446744073709551616": ["epochs", "18446744073709551616", "at most 1,000,000,000"],
    "lrr=0.1": ["Unknown key 'lrr'", "Did you mean `lr`?"],
    "optimizer.betta1=0.5": ["Unknown key 'optimizer.betta1'", "Did you mean `optimizer.beta1`?"],
    "momentum=0.5": ["Unknown key 'momentum'", "Did you mean `optimizer.momentum`?"],
    "optimizer.momentum=0.5": ["'optimizer.momentum'", "0.5", "optimizer 'sgd' does not read", "momentum"],
    "optimizer=adam optimizer.rho=0.5": ["'optimizer.rho'", "optimizer 'adam' does not read", "rmsprop"],
    "init=xavier init.low=-1": ["'init.low'", "init scheme 'xavier' does not read", "uniform"],
    "dataset.bits=3": ["'dataset.bits'", "dataset 'xor' does not read", "parity"],
    "optimizer.name=adagrad": ["'optimizer.name'", "adagrad", "sgd, momentum, rmsprop, adam"],
    "loss.reduction=avg": ["'loss.reduction'", "avg", "sum, mean"],
    "objective=${lr}": ["'objective'", "0.1", "objective.metric, objective.target", "not a value for the whole group"],
    "hydra.run.dir=/proc/x": ["'/proc/x'", "No such file or directory", "hydra.run.dir="],
    "hydra.run.dir=/dev/null/x": ["'/dev/null/x'", "Not a directory", "hydra.run.dir="],
    "-m hydra.sweep.dir=/proc/x seed=1,2": ["'/proc/x'", "hydra.sweep.dir="],
    "-m lr=range(0,1,0)": ["Cannot expand a sweep", "must not be zero"],
    "-m seed=1,2 --cfg job": ["-m (--multirun) runs a sweep, --cfg prints a config"],
    "-m seed=1,2 hydra.launcher.workers=0": ["hydra.launcher.workers=0", "null", "a positive integer"],
    "-m seed=1,2 hydra.launcher.shard_size=-3": ["hydra.launcher.shard_size=-3", "a positive integer"],
}


@pytest.mark.parametrize("command", MISTAKES)
def test_a_mistake_ends_in_one_paragraph_and_exit_code_2(tmp_path, command):
    own_place = "hydra." in command or command.startswith("-m")  # it names its own directory, or fails first
    done = run_cli(*command.split(), *([] if own_place else [f"hydra.run.dir={tmp_path}/run"]))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert not done.stdout.strip(), done.stdout  # nothing trained, nothing printed but the paragraph
    [paragraph] = done.stderr.strip().splitlines()
    assert paragraph.startswith("Error: ")
    for fragment in MISTAKES[command]:
        assert fragment in paragraph, (fragment, paragraph)
    assert "+lrr" not in paragraph  # no advice to add the mistyped key


def test_in_a_sweep_the_mistaken_job_fails_with_its_reason_and_the_others_train(tmp_path):
    done = run_cli(
        "-m", "optimizer=sgd,momentum", "optimizer.momentum=0.5", "epochs=5",
        f"hydra.sweep.dir={tmp_path}", "report.auto=false",
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    summaries = [json.loads((tmp_path / str(job) / "summary.json").read_text()) for job in (0, 1)]
    assert summaries[0]["status"] == "failed" and "optimizer 'sgd' does not read" in summaries[0]["error"]
    assert summaries[1]["status"] == "completed"


def test_help_explains_the_harness_in_one_screen():
    done = run_cli("--help")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.rstrip().splitlines()
    assert len(lines) <= 40 and max(map(len, lines)) <= 110
    text = done.stdout
    for words in ("-m (multirun)", "experiment=NAME", "Launchers", "batched", "basic", "outputs/runs/", "outputs/sweeps/"):
        assert words in text, words
    for group in GROUPS:
        assert f"{group}:" in text
        for option in options(group):
            assert option in text, (group, option)
    assert "(lr, momentum, nesterov)" in text  # the keys each option reads, from the registry
    assert "powered by Hydra" not in text  # not Hydra's stock page
