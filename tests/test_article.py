"""The defaults reproduce the article: its seven published numbers and the recovered raw values."""

import csv

import pytest

from .conftest import run_cli, train_into

PUBLISHED_LOSS = {0: 0.4965, 1000: 0.4948, 9000: 0.0864}
PUBLISHED_PREDICTIONS = [0.1013, 0.9269, 0.9201, 0.0593]
RAW_LOSS = {0: 0.49651669, 1000: 0.49480025, 9000: 0.08637317}
RAW_PREDICTIONS = [0.10125271, 0.92688325, 0.92005246, 0.05933504]


@pytest.fixture(scope="module")
def article_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("article")
    summary = train_into(run_dir)
    with open(run_dir / "metrics.csv") as handle:
        rows = {int(row["epoch"]): row for row in csv.DictReader(handle)}
    return summary, rows


def test_published_numbers_to_four_decimals(article_run):
    summary, rows = article_run
    for epoch, published in PUBLISHED_LOSS.items():
        assert f"{float(rows[epoch]['mae']):.4f}" == f"{published:.4f}"
    predictions = [o[0] for o in summary["predictions"]["outputs"]]
    assert [f"{p:.4f}" for p in predictions] == [f"{p:.4f}" for p in PUBLISHED_PREDICTIONS]


def test_recovered_raw_values_to_1e8(article_run):
    summary, rows = article_run
    for epoch, raw in RAW_LOSS.items():
        assert abs(float(rows[epoch]["mae"]) - raw) < 1e-8
    for prediction, raw in zip(summary["predictions"]["outputs"], RAW_PREDICTIONS):
        assert abs(prediction[0] - raw) < 1e-8
    assert summary["status"] == "completed" and summary["epochs_run"] == 10000 and len(rows) == 10000


def test_default_command_prints_like_the_article(tmp_path):
    done = run_cli(f"hydra.run.dir={tmp_path}/run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["Epoch 0: Loss = 0.4965", "Epoch 1000: Loss = 0.4948"]
    assert "Epoch 9000: Loss = 0.0864" in lines
    assert sum(line.startswith("Epoch ") for line in lines) == 10
    for row, (inputs, prediction, target) in zip(
        [line for line in lines if line.startswith("| [")],
        [("[0,0]", "0.1013", "0"), ("[0,1]", "0.9269", "1"), ("[1,0]", "0.9201", "1"), ("[1,1]", "0.0593", "0")],
    ):
        assert row == f"| {inputs} | {prediction} | {target} |"
    assert (tmp_path / "run" / "metrics.csv").is_file()
    assert lines[-1] == f"Run directory: {tmp_path}/run"  # outside the working directory: in full


def test_the_run_directory_is_shown_relative_to_where_the_command_ran(tmp_path):
    done = run_cli("epochs=10", "hydra.run.dir=runs/first", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "Run directory: runs/first"
    assert (tmp_path / "runs" / "first" / "metrics.csv").is_file()


def test_the_article_experiment_is_the_defaults(tmp_path):
    from .conftest import make_config

    assert make_config("experiment=article") == make_config()
