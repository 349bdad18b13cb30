"""The report: loader, measures against values worked out by hand, figures, HTML, robustness.

Most tests write small synthetic sweeps into ``tmp_path`` with ``write_run`` (the disk format
of ``src.rundir``, written by hand), so every number in them is known. The slow ones run a
real sweep as a subprocess.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from src.report import make_report
from src.report.__main__ import main as report_main
from src.report.article import ARTICLE_MAE, ARTICLE_PREDICTIONS, article_runs, article_table
from src.report.measures import (
    bands,
    column_quantiles,
    epochs_to_target,
    is_solved,
    run_measures,
    setting_measures,
)
from src.report.surfaces import network_output
from src.report.tables import ReportInputError, load_sweeps

from .conftest import run_cli

XOR_INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_TARGETS = [[0.0], [1.0], [1.0], [0.0]]
SOLVING = (0.1, 0.9, 0.9, 0.1)
NOT_SOLVING = (0.4, 0.6, 0.6, 0.6)
BASE_CONFIG = {
    "lr": 0.1, "hidden": 4, "seed": 42, "epochs": 4,
    "model": {"hidden": "${hidden}", "activation": "sigmoid", "output_activation": "sigmoid", "bias": False},
    "init": {"scheme": "uniform", "generator": "legacy", "seed": "${seed}", "low": 0.0, "high": 1.0},
    "optimizer": {"name": "sgd", "lr": "${lr}"},
    "loss": {"name": "half_squared_error", "reduction": "sum"},
    "dataset": {"name": "xor", "path": None},
    "train": {"epochs": "${epochs}", "batch_size": None, "shuffle_seed": "${seed}"},
    "log": {"every": 1, "print_every": 1000},
    "report": {"auto": True},
}  # fmt: skip


def dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_run(
    run_dir: Path,
    *,
    values: dict | None = None,
    status: str = "completed",
    loss: list[float] | None = None,
    outputs: tuple | None = SOLVING,
    epochs_planned: int = 4,
    **summary,
) -> Path:
    """A run directory as the harness writes it: ``.hydra/config.yaml``, ``metrics.csv`` (unless
    ``loss`` is None), ``summary.json``. ``values`` sets config keys by dotted name."""
    config = copy.deepcopy(BASE_CONFIG)
    config["epochs"] = epochs_planned
    for key, value in (values or {}).items():
        *parents, last = key.split(".")
        node = config
        for parent in parents:
            node = node[parent]
        node[last] = value
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    final = None
    if loss is not None:
        rows = [(e, v, v / 2, v / 4, 1.0 if v < 0.05 else 0.5) for e, v in enumerate(map(float, loss))]
        lines = "".join(f"{e},{a!r},{b!r},{c!r},{d!r}\n" for e, a, b, c, d in rows)
        (run_dir / "metrics.csv").write_text("epoch,loss,mae,mse,accuracy\n" + lines)
        final = dict(zip(("loss", "mae", "mse", "accuracy"), rows[-1][1:])) if rows else None
    data = {
        "status": status,
        "pid": 1,
        "host": "elsewhere",
        "started_at": "2026-01-01T00:00:00+00:00",
        "seed": config["seed"],
        "epochs_run": len(loss) if loss is not None else 0,
        "epochs_planned": epochs_planned,
        "diverged_at_epoch": None,
        "final": final,
        "predictions": {
            "inputs": XOR_INPUTS,
            "outputs": None if outputs is None else [[o] for o in outputs],
            "targets": XOR_TARGETS,
        },
        "wall_time_s": 0.01,
        **summary,
    }
    if status == "running":
        data.pop("final")
        data.pop("epochs_run")
    (run_dir / "summary.json").write_text(json.dumps(data))
    return run_dir


def two_settings(root: Path) -> Path:
    """Seven runs over lr = 0.5 and 5.0, whose measures are worked out by hand in the tests.

    lr=0.5: three completed runs (finals 0.02, 0.1, 0.01; at loss < 0.05 on epochs 2, never, 1).
    lr=5.0: diverged (at epoch 2), failed, completed (final 0.03, reached on epoch 2) and
    unfinished (marked running, its process gone, two epochs of four).
    """
    write_run(root / "0", values={"lr": 0.5, "seed": 0}, loss=[0.6, 0.3, 0.04, 0.02])
    write_run(root / "1", values={"lr": 0.5, "seed": 1}, loss=[0.6, 0.5, 0.2, 0.1], outputs=NOT_SOLVING)
    write_run(root / "2", values={"lr": 0.5, "seed": 2}, loss=[0.6, 0.04, 0.03, 0.01])
    write_run(root / "3", values={"lr": 5.0, "seed": 0}, status="diverged", loss=[0.6, 0.9], outputs=None,
              diverged_at_epoch=2)  # fmt: skip
    write_run(root / "4", values={"lr": 5.0, "seed": 1}, status="failed", loss=None, outputs=None,
              error="RuntimeError: boom")  # fmt: skip
    write_run(root / "5", values={"lr": 5.0, "seed": 2}, loss=[0.6, 0.2, 0.04, 0.03])
    write_run(root / "6", values={"lr": 5.0, "seed": 3}, status="running", loss=[0.6, 0.5],
              pid=dead_pid(), host=socket.gethostname())  # fmt: skip
    return root


@pytest.fixture
def sweep_dir(tmp_path) -> Path:
    return two_settings(tmp_path / "sweep")


# --------------------------------------------------------------------------- loading


def test_loader_finds_runs_at_any_depth_and_builds_tidy_tables(tmp_path):
    write_run(tmp_path / "a" / "day1" / "0", values={"lr": 0.5, "seed": 0}, loss=[0.6, 0.3, 0.2, 0.1])
    write_run(tmp_path / "b" / "deeper" / "still" / "x", values={"lr": 1.0, "seed": 0}, loss=[0.5, 0.4, 0.3, 0.2])
    sweep = load_sweeps([tmp_path / "a", tmp_path / "b"])
    assert sweep.varying == ["lr"]  # optimizer.lr follows lr (${lr}) and is not repeated
    assert list(sweep.runs["setting"]) == ["lr=0.5", "lr=1.0"]
    assert list(sweep.runs["status"]) == ["completed", "completed"]
    assert sweep.config.loc[0, "model.hidden"] == 4  # ${hidden} resolved
    curves = sweep.curves
    assert list(curves.columns) == ["run", "epoch", "metric", "value"]
    assert len(curves) == 2 * 4 * 4  # runs x epochs x metrics
    loss_of_run_1 = curves[(curves["metric"] == "loss") & (curves["run"] == 1)]
    assert list(loss_of_run_1["epoch"]) == [0, 1, 2, 3]
    assert list(loss_of_run_1["value"]) == [0.5, 0.4, 0.3, 0.2]
    mae = curves[(curves["metric"] == "mae") & (curves["run"] == 0)]["value"]
    assert list(mae) == [0.3, 0.15, 0.1, 0.05]


def test_statuses_including_unfinished_and_running(sweep_dir, tmp_path):
    write_run(tmp_path / "live" / "0", status="running", loss=[0.6], pid=os.getpid(), host=socket.gethostname(),
              started_at="2999-01-01T00:00:00+00:00")  # fmt: skip
    write_run(tmp_path / "live" / "1", status="running", loss=[0.6], pid=os.getpid(), host="another-host")
    runs = load_sweeps([sweep_dir, tmp_path / "live"]).runs
    assert list(runs["status"]) == [
        "completed", "completed", "completed", "diverged", "failed", "completed", "unfinished", "running", "unfinished",
    ]  # fmt: skip
    assert runs.loc[4, "problem"] == "RuntimeError: boom"
    assert runs.loc[6, "final_loss"] == 0.5  # last row on disk, as the summary has no final yet
    assert runs.loc[6, "epochs_run"] == 2


def test_missing_or_empty_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ReportInputError, match="No such directory"):
        load_sweeps([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportInputError, match="is empty"):
        load_sweeps([tmp_path / "empty"])
    (tmp_path / "other" / "sub").mkdir(parents=True)
    with pytest.raises(ReportInputError, match="holds no run directories"):
        load_sweeps([tmp_path / "other"])


CORRUPTIONS = {
    "truncated line": lambda d: (d / "metrics.csv").write_bytes((d / "metrics.csv").read_bytes()[:-3]),
    "rows cut off": lambda d: (d / "metrics.csv").write_text("epoch,loss,mae,mse,accuracy\n0,0.6,0.3,0.15,0.5\n"),
    "garbage row": lambda d: (d / "metrics.csv").write_text("epoch,loss,mae,mse,accuracy\n0,zz,1,1,1\n"),
    "wrong header": lambda d: (d / "metrics.csv").write_text("a,b\n1,2\n"),
    "bad json": lambda d: (d / "summary.json").write_text('{"status": "compl'),
    "no summary": lambda d: (d / "summary.json").unlink(),
    "no metrics": lambda d: (d / "metrics.csv").unlink(),
    "bad yaml": lambda d: (d / ".hydra" / "config.yaml").write_text("lr: [unclosed\n"),
    "binary csv": lambda d: (d / "metrics.csv").write_bytes(b"\x00\xff\xfe" * 50),
}


def test_corrupt_runs_are_unreadable_with_their_reason_and_the_report_still_made(sweep_dir):
    corrupted = {}
    for k, (name, corrupt) in enumerate(CORRUPTIONS.items()):
        run = write_run(sweep_dir / "corrupt" / str(k), values={"lr": 0.5, "seed": 10 + k}, loss=[0.6, 0.5, 0.4, 0.3])
        corrupt(run)
        corrupted[str(run)] = name
    runs = load_sweeps([sweep_dir]).runs
    unreadable = runs[runs["status"] == "unreadable"]
    assert sorted(unreadable["path"]) == sorted(corrupted)
    for problem in unreadable["problem"]:
        assert re.search(r"metrics\.csv|summary\.json|config\.yaml", problem), problem
    assert (runs["status"] != "unreadable").sum() == 7  # the others are read as before
    page = make_report([sweep_dir], metric="loss", target=0.05).read_text()
    assert (
        f"Unreadable runs (files corrupt, truncated or missing; left out of every measure): {len(CORRUPTIONS)}" in page
    )
    assert all(path in page for path in corrupted)


def test_a_cut_off_last_line_of_a_killed_run_is_dropped(tmp_path):
    run = write_run(tmp_path / "0", status="running", loss=[0.6, 0.5, 0.4], pid=dead_pid(), host=socket.gethostname())
    (run / "metrics.csv").write_text((run / "metrics.csv").read_text() + "3,0.3")
    sweep = load_sweeps([tmp_path])
    assert sweep.runs.loc[0, "status"] == "unfinished"
    assert sweep.runs.loc[0, "epochs_run"] == 3


# --------------------------------------------------------------------------- measures


def test_epochs_to_target_on_crafted_curves(tmp_path):
    write_run(tmp_path / "0", values={"seed": 0}, loss=[0.5, 0.3, 0.1, 0.04, 0.2, 0.01], epochs_planned=6)
    write_run(tmp_path / "1", values={"seed": 1}, loss=[0.5, 0.05, 0.05, 0.05, 0.05, 0.05], epochs_planned=6)
    write_run(tmp_path / "2", values={"seed": 2}, loss=[0.01, 0.5, 0.5, 0.5, 0.5, 0.5], epochs_planned=6)
    curves = load_sweeps([tmp_path]).curves
    loss = epochs_to_target(curves, "loss", 0.05)
    assert loss.to_dict() == {0: 3, 2: 0}  # the first epoch strictly below; exactly 0.05 is not below
    accuracy = epochs_to_target(curves, "accuracy", 1.0)  # higher is better: the first epoch at or above
    assert accuracy.to_dict() == {0: 3, 2: 0}


@pytest.mark.parametrize(
    "outputs, solved",
    [(SOLVING, True), ((0.49, 0.51, 0.99, 0.0), True), ((0.1, 0.5, 0.9, 0.1), False), ((0.6, 0.9, 0.9, 0.1), False),
     (None, False)],
)  # fmt: skip
def test_solved_means_every_prediction_on_the_right_side_of_one_half(outputs, solved):
    predictions = {"inputs": XOR_INPUTS, "outputs": None if outputs is None else [[o] for o in outputs],
                   "targets": XOR_TARGETS}  # fmt: skip
    assert is_solved(predictions) is solved


def test_setting_measures_match_values_worked_out_by_hand(sweep_dir):
    sweep = load_sweeps([sweep_dir])
    runs = run_measures(sweep, "loss", 0.05)
    np.testing.assert_array_equal(runs["final"], [0.02, 0.1, 0.01, math.inf, np.nan, 0.03, np.nan])
    np.testing.assert_array_equal(runs["epochs_to_target"].astype(float), [2, np.nan, 1, np.nan, np.nan, 2, np.nan])
    assert list(runs["solved"]) == [True, False, True, False, False, True, True]
    settings = setting_measures(runs, sweep.setting_keys, "loss")
    slow, fast = settings.loc["lr=0.5"], settings.loc["lr=5.0"]
    assert (slow["runs"], slow["completed"], slow["diverged"], slow["failed"]) == (3, 3, 0, 0)
    assert slow["success_rate"] == pytest.approx(2 / 3)
    assert (slow["final_loss_median"], slow["final_loss_min"], slow["final_loss_max"]) == (0.02, 0.01, 0.1)
    assert slow["reached"] == 2
    assert (slow["epochs_to_target_median"], slow["epochs_to_target_q1"], slow["epochs_to_target_q3"]) == (
        1.5, 1.25, 1.75,
    )  # fmt: skip
    counts = [fast[s] for s in ("runs", "completed", "diverged", "failed", "unfinished", "finished")]
    assert counts == [4, 1, 1, 1, 1, 2]
    assert fast["success_rate"] == 0.5  # one solved of two finished; failed and unfinished are only counted
    assert fast["final_loss_median"] == math.inf  # the diverged run counts as inf
    assert (fast["final_loss_min"], fast["final_loss_max"]) == (0.03, math.inf)
    assert (fast["reached"], fast["epochs_to_target_median"]) == (1, 2.0)
    assert list(settings.index) == ["lr=0.5", "lr=5.0"]


def test_bands_count_a_diverged_run_as_infinite_and_skip_missing_epochs(sweep_dir):
    sweep = load_sweeps([sweep_dir], metrics=("loss",))
    runs = run_measures(sweep, "loss", 0.05)
    band = bands(sweep, runs, "loss")["lr=5.0"]
    # epoch 2: diverged (inf), completed 0.04, unfinished (not there yet): two values
    assert list(band.epochs) == [0, 1, 2, 3]
    assert band.quantiles[0.0][2] == 0.04 and band.quantiles[1.0][2] == math.inf
    assert band.quantiles[0.5][1] == pytest.approx(np.median([0.9, 0.2, 0.5]))
    slow = bands(sweep, runs, "loss")["lr=0.5"]
    np.testing.assert_allclose(slow.quantiles[0.5], [0.6, 0.3, 0.04, 0.02])


def test_column_quantiles_agree_with_numpy():
    rng = np.random.default_rng(0)
    matrix = rng.random((7, 5))
    matrix[2, 1] = matrix[5, 3] = np.nan
    ours = column_quantiles(matrix)
    for q, values in ours.items():
        np.testing.assert_allclose(values, np.nanquantile(matrix, q, axis=0))
    assert column_quantiles(np.array([[1.0], [np.inf], [2.0]]))[0.5][0] == 2.0


def test_decision_surface_network_matches_a_hand_computed_forward_pass(tmp_path):
    W1, W2 = np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([[2.0], [-1.0]])
    np.savez(tmp_path / "params.npz", W1_final=W1, W2_final=W2, W1_initial=W1, W2_initial=W2)
    from src.rundir.reader import read_params

    X = np.array([[0.0, 1.0], [2.0, -1.0]])
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    expected = sigmoid(np.tanh(X @ W1) @ W2)
    config = {"model.activation": "tanh", "model.output_activation": "sigmoid"}
    np.testing.assert_allclose(network_output(read_params(tmp_path), config, X), expected)


# --------------------------------------------------------------------------- the report


def test_report_writes_every_file_and_a_self_contained_page(sweep_dir):
    params = {"W1_final": np.ones((2, 4)), "W2_final": np.ones((4, 1))}
    for run in ("0", "1", "2", "5"):
        np.savez(sweep_dir / run / "params.npz", **params)
    path = make_report([sweep_dir], metric="loss", target=0.05)
    out = sweep_dir / "report"
    assert path == out / "report.html"
    for name in ("convergence.png", "epochs_to_target.png", "decision_surfaces.png", "runs.csv", "settings.csv"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "heatmaps.png").exists()  # one swept value only
    page = path.read_text()
    assert page.count("data:image/png;base64,") == 3
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", page)  # nothing fetched from anywhere
    assert "lr=5.0" in page and "RuntimeError: boom" in page and "unfinished" in page
    summary = page.split('id="summary"', 1)[1].split("</section>", 1)[0]
    assert "1 run(s) failed (the first: RuntimeError: boom)" in summary and "1 run(s) unfinished" in summary
    only_failed = write_run(sweep_dir.parent / "failed" / "0", status="failed", loss=None, outputs=None, error="E: x")
    page = make_report([only_failed.parent]).read_text()
    assert "1 run(s) failed (the first: E: x)" in page and "data:image/png" not in page  # nothing to draw


def test_heatmaps_for_a_sweep_over_two_values(tmp_path):
    for k, (lr, hidden) in enumerate([(0.5, 2), (0.5, 4), (1.0, 2), (1.0, 4)]):
        for seed in (0, 1):
            write_run(tmp_path / f"{k}-{seed}", values={"lr": lr, "hidden": hidden, "seed": seed},
                      loss=[0.6, 0.1 * lr, 0.01 * hidden])  # fmt: skip
    make_report([tmp_path], target=0.05)
    assert (tmp_path / "report" / "heatmaps.png").stat().st_size > 0
    settings = pd.read_csv(tmp_path / "report" / "settings.csv")
    assert list(settings["setting"]) == ["lr=0.5, hidden=2", "lr=0.5, hidden=4", "lr=1.0, hidden=2", "lr=1.0, hidden=4"]
    assert list(settings["success_rate"]) == [1.0, 1.0, 1.0, 1.0]


def test_a_sweep_over_three_values_gets_a_row_of_heatmaps_per_value_of_the_third(tmp_path):
    from src.report.make import heatmap_panels

    for k, (lr, hidden, optimizer) in enumerate(
        (lr, hidden, optimizer) for optimizer in ("sgd", "adam") for lr in (0.1, 0.5, 1.0) for hidden in (2, 4, 8)
    ):
        solved = optimizer == "adam" or lr == 1.0
        write_run(tmp_path / str(k), values={"lr": lr, "hidden": hidden, "optimizer.name": optimizer, "seed": 0},
                  loss=[0.6, 0.01 if solved else 0.3], outputs=SOLVING if solved else (0.6,) * 4)  # fmt: skip
    make_report([tmp_path], target=0.05)
    assert (tmp_path / "report" / "heatmaps.png").stat().st_size > 0

    settings = pd.read_csv(tmp_path / "report" / "settings.csv", index_col="setting")
    facets, rows, columns, spanning = heatmap_panels(settings, ["lr", "hidden", "optimizer.name"], "loss", "loss 0.05")
    assert spanning == ["lr", "hidden"] and rows == [0.1, 0.5, 1.0] and columns == [2, 4, 8]
    assert [label for label, _ in facets] == ["optimizer.name=adam", "optimizer.name=sgd"]
    success = {label: panels[2][2] for label, panels in facets}
    np.testing.assert_array_equal(success["optimizer.name=adam"], np.ones((3, 3)))
    np.testing.assert_array_equal(success["optimizer.name=sgd"], [[0, 0, 0], [0, 0, 0], [1, 1, 1]])


def test_no_heatmaps_when_a_swept_value_takes_more_values_than_a_grid_can_show(tmp_path):
    for k, lr in enumerate(np.geomspace(0.01, 10, 13)):
        for hidden in (2, 4):
            write_run(tmp_path / f"{k}-{hidden}", values={"lr": float(lr), "hidden": hidden}, loss=[0.6, 0.1])
    make_report([tmp_path])
    assert (tmp_path / "report" / "convergence.png").is_file()
    assert not (tmp_path / "report" / "heatmaps.png").exists()


@pytest.mark.parametrize("n_settings, panels", [(8, 1), (9, 9), (13, 13)])
def test_many_settings_get_a_convergence_panel_each(n_settings, panels):
    from src.report.figures import convergence_figure
    from src.report.measures import Bands

    epochs = np.arange(5)
    curves = {
        f"lr={k}": Bands(epochs, {q: 0.5 / (1 + k * epochs) for q in (0.0, 0.25, 0.5, 0.75, 1.0)}, np.arange(3), [])
        for k in range(n_settings)
    }
    figure = convergence_figure(curves, "loss")
    shown = [axes for axes in figure.axes if axes.get_visible()]
    assert len(shown) == panels
    if panels > 1:  # each panel names its setting; the others' medians are drawn in it too
        assert [axes.get_title().split("  (median")[0] for axes in shown] == list(curves)
        assert all(len(axes.get_lines()) == n_settings for axes in shown)


def test_config_values_are_escaped_in_the_page(tmp_path):
    write_run(tmp_path / "0", values={"dataset.path": "<script>alert(1)</script>"}, loss=[0.6, 0.5])
    write_run(tmp_path / "1", values={"dataset.path": "<b>x</b>&"}, loss=[0.6, 0.5])
    write_run(tmp_path / "2", values={"dataset.path": "<b>x</b>&", "model.activation": "<script>"}, loss=[0.6, 0.5])
    page = make_report([tmp_path]).read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;&amp;" in page


def test_article_run_is_compared_with_the_published_numbers(tmp_path):
    epochs = 10000
    mae = np.linspace(0.5, 0.08, epochs)
    mae[[0, 1000, 9000]] = [0.4965, 0.4948, 0.0864]
    run = write_run(tmp_path / "0", loss=list(mae * 2), outputs=tuple(ARTICLE_PREDICTIONS), epochs_planned=epochs)
    config = load_sweeps([tmp_path], metrics=()).config
    assert list(article_runs(config)) == [0]
    table = article_table(run, json.loads((run / "summary.json").read_text())["predictions"])
    assert list(table["article"]) == [*ARTICLE_MAE.values(), *ARTICLE_PREDICTIONS]
    np.testing.assert_allclose(table["difference"], 0, atol=1e-12)
    assert "The article" in make_report([tmp_path]).read_text()
    write_run(tmp_path / "1", values={"lr": 0.5}, loss=[0.5, 0.4])
    assert list(article_runs(load_sweeps([tmp_path], metrics=()).config)) == [0]


def test_cli_help_and_bad_directories_end_without_traceback(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        report_main(["--help"])
    assert done.value.code == 0 and "--metric" in capsys.readouterr().out
    assert report_main([str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.startswith("Error: No such directory")
    (tmp_path / "empty").mkdir()
    assert report_main([str(tmp_path / "empty")]) == 2
    assert "is empty" in capsys.readouterr().err


def test_cli_reports_with_metric_target_and_out(sweep_dir, tmp_path, capsys):
    assert report_main([str(sweep_dir), "--metric", "mae", "--target", "0.02", "--out", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out.strip() == f"Report: {tmp_path / 'r' / 'report.html'}"
    settings = (tmp_path / "r" / "settings.csv").read_text()
    assert "final_mae_median" in settings


# --------------------------------------------------------------------------- the automatic report


@pytest.mark.slow
def test_the_automatic_report_appears_after_a_real_sweep(tmp_path):
    done = run_cli("-m", "lr=0.5,1.0", "hidden=2,4", "seed=0,1", "epochs=300", f"hydra.sweep.dir={tmp_path}/s")
    assert done.returncode == 0, done.stderr
    assert f"Report: {tmp_path}/s/report/report.html" in done.stdout
    for name in ("report.html", "convergence.png", "heatmaps.png", "decision_surfaces.png", "runs.csv"):
        assert (tmp_path / "s" / "report" / name).exists()


@pytest.mark.slow
def test_a_sweep_with_a_failed_job_still_gets_its_report_and_auto_false_turns_it_off(tmp_path):
    done = run_cli("-m", "lr=0.5,-1", "epochs=50", f"hydra.sweep.dir={tmp_path}/bad")
    assert done.returncode != 0
    assert f"Report: {tmp_path}/bad/report/report.html" in done.stdout
    runs = load_sweeps([tmp_path / "bad"], metrics=()).runs
    assert sorted(runs["status"]) == ["completed", "failed"]
    done = run_cli("-m", "lr=0.5", "epochs=50", "report.auto=false", f"hydra.sweep.dir={tmp_path}/off")
    assert done.returncode == 0 and "Report:" not in done.stdout
    assert not (tmp_path / "off" / "report").exists()


# --------------------------------------------------------------------------- every statement true


def shared_section(page: str) -> str:
    return page.split('id="configuration-shared-by-every-run"', 1)[1].split("</section>", 1)[0]


def test_a_swept_key_is_never_shared_configuration(tmp_path):
    from src.report.make import shared_configuration

    for k, (lr, hidden) in enumerate([(0.1, 2), (0.1, 4), (0.5, 2), (0.5, 4)]):
        write_run(tmp_path / str(k), values={"lr": lr, "hidden": hidden, "seed": k}, loss=[0.6, 0.1])
    sweep = load_sweeps([tmp_path], metrics=())
    shared = shared_configuration(sweep.config)
    for key in ("lr", "hidden", "seed", "model.hidden", "optimizer.lr", "init.seed", "train.shuffle_seed"):
        assert key not in shared, key  # each differs between runs, though only lr, hidden, seed were named
    assert shared["model.activation"] == "sigmoid" and shared["loss.name"] == "half_squared_error"
    section = shared_section(make_report([tmp_path]).read_text())
    assert "model.activation" in section and "optimizer.lr" not in section and "model.hidden" not in section


@pytest.mark.parametrize(
    "k, n, text",
    [(997, 1000, "997/1000 (99.7%)"), (999_999, 1_000_000, "999999/1000000 (99.9999%)"), (1, 1000, "1/1000 (0.1%)"),
     (1000, 1000, "1000/1000 (100%)"), (0, 7, "0/7 (0%)"), (2, 3, "2/3 (67%)"), (17, 1000, "17/1000 (1.7%)")],
)  # fmt: skip
def test_a_rate_is_never_rounded_to_100_or_0_percent_unless_exact(k, n, text):
    from src.report.measures import rate_text

    assert rate_text(k, n) == text


def test_199_of_200_solved_shows_as_such_in_the_summary_the_table_and_the_heatmap(tmp_path):
    from src.report.make import heatmap_panels

    for seed in range(200):
        write_run(tmp_path / f"a{seed}", values={"lr": 0.5, "hidden": 2, "seed": seed}, loss=[0.6, 0.01],
                  outputs=NOT_SOLVING if seed == 7 else SOLVING)  # fmt: skip
    for k, (lr, hidden) in enumerate([(0.5, 4), (1.0, 2), (1.0, 4)]):
        for seed in range(2):
            write_run(tmp_path / f"b{k}-{seed}", values={"lr": lr, "hidden": hidden, "seed": seed}, loss=[0.6, 0.3],
                      outputs=NOT_SOLVING)  # fmt: skip
    page = make_report([tmp_path]).read_text()
    summary = page.split('id="summary"', 1)[1].split("</section>", 1)[0]
    assert "Most reliable: lr=0.5, hidden=2, 199/200 (99.5%) of its finished runs solved" in summary
    assert "100%" not in page.split('id="settings"', 1)[1].split("</section>", 1)[0]
    settings = pd.read_csv(tmp_path / "report" / "settings.csv", index_col="setting")
    facets, *_ = heatmap_panels(settings, ["lr", "hidden"], "loss", "loss < 0.05")
    cells = facets[0][1][2][4]
    assert cells[0][0] == "199/200\n99.5%" and cells[0][1] == "0/2\n0%"


def test_one_seed_settings_are_not_ranked_on_reliability(tmp_path):
    from src.report.figures import convergence_figure
    from src.report.measures import bands

    for k, lr in enumerate((0.1, 0.5, 1.0)):
        write_run(tmp_path / "one" / str(k), values={"lr": lr}, loss=[0.6, 0.1 / (k + 1)])
    page = make_report([tmp_path / "one"]).read_text()
    assert "Most reliable" not in page and "none is ranked on reliability" in page
    sweep = load_sweeps([tmp_path / "one"], metrics=("loss",))
    figure = convergence_figure(bands(sweep, run_measures(sweep, "loss", 0.05), "loss"), "loss")
    assert "across seeds" not in figure.get_suptitle() and "one seed per setting" in figure.get_suptitle()
    # beside settings of several seeds, a lucky single seed (1/1) is still not the most reliable
    write_run(tmp_path / "mixed" / "single", values={"lr": 2.0}, loss=[0.6, 0.01])
    for seed in range(3):
        write_run(tmp_path / "mixed" / f"m{seed}", values={"lr": 0.5, "seed": seed}, loss=[0.6, 0.02],
                  outputs=NOT_SOLVING if seed == 0 else SOLVING)  # fmt: skip
    page = make_report([tmp_path / "mixed"]).read_text()
    assert "Most reliable: lr=0.5, 2/3 (67%)" in page
    assert "1 setting(s) have one finished run only and are not ranked on reliability" in page


DAMAGED_PREDICTIONS = {
    "no targets": {"inputs": XOR_INPUTS, "outputs": [[o] for o in SOLVING]},
    "targets null": {"inputs": XOR_INPUTS, "outputs": [[o] for o in SOLVING], "targets": None},
    "strings": {"inputs": XOR_INPUTS, "outputs": [["high"], ["low"], ["x"], ["y"]], "targets": XOR_TARGETS},
    "ragged": {"inputs": [[0, 0], [1]], "outputs": [[0.1], [0.9, 0.2], [0.9], [0.1]], "targets": XOR_TARGETS},
    "shapes differ": {"inputs": XOR_INPUTS, "outputs": [0.1, 0.9], "targets": XOR_TARGETS},
    "nested mapping": {"inputs": XOR_INPUTS, "outputs": {"a": 1}, "targets": XOR_TARGETS},
}


@pytest.mark.parametrize("case", DAMAGED_PREDICTIONS)
def test_a_damaged_summary_leaves_a_report_and_is_named_in_a_warning(tmp_path, case, capsys):
    params = {"W1_final": np.ones((2, 4)), "W2_final": np.ones((4, 1))}
    for seed in range(3):
        run = write_run(tmp_path / str(seed), values={"seed": seed}, loss=[0.6, 0.01])
        np.savez(run / "params.npz", **params)
    damaged = tmp_path / "1"
    summary = json.loads((damaged / "summary.json").read_text())
    summary["predictions"] = DAMAGED_PREDICTIONS[case]
    (damaged / "summary.json").write_text(json.dumps(summary))
    page = make_report([tmp_path]).read_text()
    assert f"Run {damaged}: summary.json: its predictions" in page
    assert f"Run {damaged}" in capsys.readouterr().err
    settings = pd.read_csv(tmp_path / "report" / "settings.csv")
    assert (settings.loc[0, "solved"], settings.loc[0, "checked"]) == (2, 2)  # the damaged run is left out
    assert "2/2 (100%) of the finished runs solved the task" in page
    assert (tmp_path / "report" / "convergence.png").is_file()


def test_figures_say_what_they_show_in_the_space_they_need():
    from src.report.figures import cell_text, epochs_to_target_figure

    assert [cell_text(v, "value") for v in (0.021, 0.00939, 0.149, 1.0)] == ["0.0210", "0.00939", "0.149", "1.00"]
    one_seed = {f"lr={k}": np.array([100.0 * (k + 1)]) for k in range(9)}
    figure = epochs_to_target_figure(one_seed, dict.fromkeys(one_seed, 1), "loss < 0.05")
    assert figure.axes[0].get_xlabel() == "epochs to reach loss < 0.05"  # "(epochs)" not said twice
    assert figure.get_figheight() < 4  # nine single seeds: a row each, not a tall figure of ticks


@pytest.mark.slow
def test_an_interrupted_sweep_still_gets_its_report(tmp_path):
    """Ctrl-C: Hydra skips on_multirun_end, and the report is made at interpreter exit, where pandas and
    matplotlib are imported for the first time (the sweep's start imports neither)."""
    import signal
    import time

    from .conftest import REPO

    environment = {key: value for key, value in os.environ.items() if key != "HYDRA_FULL_ERROR"}
    sweep = subprocess.Popen(
        [sys.executable, "-m", "src.run", "-m", "lr=0.1,0.5", "epochs=2000000", "log.every=1000",
         f"hydra.sweep.dir={tmp_path}/s"],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal's Ctrl-C reaches it
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list((tmp_path / "s").glob("*/metrics.csv")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    sweep.send_signal(signal.SIGINT)
    out, err = sweep.communicate(timeout=300)
    assert sweep.returncode != 0
    assert f"Report: {tmp_path}/s/report/report.html" in out, err
    assert "interrupted" in (tmp_path / "s" / "report" / "report.html").read_text()


@pytest.mark.parametrize("settings", [["all runs"], ["lr=0.1, hidden=2", "lr=1.0, hidden=16"]])
def test_the_epochs_to_target_figure_keeps_every_text_inside_its_canvas(settings):
    """Its counts ``9790/10000 reached`` sit right of the axes: they must fit, not be cut at the edge."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from src.report import figures

    rng = np.random.default_rng(0)
    epochs = {s: rng.uniform(4000, 10000, 9790) for s in settings}
    figure = figures.epochs_to_target_figure(epochs, {s: 10000 for s in settings}, "loss < 0.05")
    FigureCanvasAgg(figure).draw()
    canvas = figure.bbox
    for text in figure.findobj(lambda artist: hasattr(artist, "get_text") and artist.get_text()):
        box = text.get_window_extent()
        assert canvas.x0 <= box.x0 and box.x1 <= canvas.x1 and canvas.y0 <= box.y0 and box.y1 <= canvas.y1, text


@pytest.mark.parametrize("signal_name, code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_an_interrupted_report_ends_in_one_line_with_the_signals_code(sweep_dir, monkeypatch, capsys, signal_name, code):
    import src.report as report_package

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt(f"signal {signal_name}")  # what the harness's handler raises for either signal

    monkeypatch.setattr(report_package, "make_report", interrupted)
    assert report_main([str(sweep_dir)]) == code
    err = capsys.readouterr().err
    assert f"Interrupted ({signal_name})" in err and "Traceback" not in err
