"""Bad input, tried on purpose: property tests (hypothesis) for the entry point, dataset files,
the run catalog, the report and ``src.rerun``.

Every case must end in a clear error (``ConfigError`` or one paragraph and exit code 2) or in a
run clearly marked ``unreadable``: never a traceback, and never a change to a file of a run that
was already complete. Most properties call the code in-process, so that they stay fast; a few
cases go through the command line, as a user types them (marked slow). Each property tries 20
examples; ``BAD_INPUT_EXAMPLES=500 pytest tests/test_bad_input.py`` tries more.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import string
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src.config import DatasetConfig
from src.data import from_csv, load
from src.errors import ConfigError
from src.jobs import to_config
from src.population import run_population
from src.report import make_report
from src.report.tables import STATUSES, ReportInputError, load_sweeps
from src.rerun import rerun
from src.runs import main as catalog_main
from src.user_errors import describe

from .conftest import CONF, REPO, make_config, run_cli

# Few examples by default, so that the suite stays fast; BAD_INPUT_EXAMPLES=500 hunts harder.
EXAMPLES = int(os.environ.get("BAD_INPUT_EXAMPLES", "20"))
QUICK = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def one_paragraph(text: str) -> bool:
    return bool(text.strip()) and "\n" not in text.strip() and "Traceback" not in text


# --------------------------------------------------------------------------- overrides

KEYS = [
    "lr", "hidden", "seed", "epochs", "model.activation", "model.bias", "init.low", "init.high", "init.scheme",
    "optimizer", "optimizer.beta1", "loss", "dataset", "dataset.bits", "train.batch_size", "log.every",
    "log.chunk_epochs", "objective", "resume", "nonexistent", "+extra", "~lr", "model", "model.hidden",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from([
        "", "abc", "-1", "0", "1e999", "nan", "inf", "-inf", "[", "[]", "[0]", "[8,-4]", "{a: 1}", "${nope}",
        "${lr}", "null", "true", "1.5", "2**40", "'quoted'", "\"half", "a=b", "range(0,3)", "1,2", "adam",
        "sigmoid", "4294967296", "-0.0", "1e-320",
    ]),
    st.text(alphabet=string.ascii_letters + string.digits + "[]{}(),.:=$+-_'\" ", max_size=12),
)  # fmt: skip


@st.composite
def override_lists(draw) -> list[str]:
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True))
    return [key if key.startswith("~") else f"{key}={draw(VALUES)}" for key in keys]


@QUICK
@given(overrides=override_lists())
def test_any_override_is_accepted_or_told_in_one_paragraph(overrides):
    """What the entry point does before training: compose, then type and check the config."""
    try:
        with initialize_config_dir(config_dir=CONF, version_base="1.3"):
            config = to_config(compose(config_name="config", overrides=overrides + ["epochs=1"]))
    except Exception as error:  # the entry point's ``cli`` prints describe(error), or a traceback when None
        paragraph = describe(error)
        assert paragraph is not None, f"{overrides}: {type(error).__name__}: {error}"
        assert one_paragraph(paragraph), paragraph
        return
    assert config.optimizer.lr > 0 and config.train.epochs >= 1


BAD_COMMAND_LINES = {
    "lr=": "lr",
    "hidden=[4,": "hidden=[4,",
    "seed=-1": "seed",
    "=3": "=3",
    "epochs=1e999": "epochs",
    "hidden=[]": "hidden",
    "model=": "model",
    "lr=${nope}": "nope",
    "optimizer=-1": "'optimizer'",  # a group given a value that is not a name: Hydra's bare ValueError
    "optimizer=[0]": "'optimizer'",  # ... or TypeError
    "dataset=null": "'dataset'",
}


@pytest.mark.slow
@pytest.mark.parametrize("override", BAD_COMMAND_LINES)
def test_malformed_override_at_the_entry_point(tmp_path, override):
    done = run_cli(override, f"hydra.run.dir={tmp_path}/run")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    [message] = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert BAD_COMMAND_LINES[override] in message


# --------------------------------------------------------------------------- dataset files

CELLS = st.one_of(
    st.sampled_from([
        "0", "1", "0.5", "-3", "1e308", "-1e308", "1e400", "nan", "NaN", "inf", "-inf", "infinity", "", " ",
        "abc", " 1 ", "1e-320", "0x10", "1_000", "+1", ".5", "1,5", '"2"', "٣", "\x00",
    ]),
    st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)  # fmt: skip


@st.composite
def csv_texts(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=40))
    width = draw(st.integers(0, 4))
    rows = draw(
        st.lists(
            st.lists(CELLS, min_size=max(0, width - 1), max_size=width + 1) if draw(st.booleans())
            else st.lists(CELLS, min_size=width, max_size=width),
            max_size=6,
        )
    )  # fmt: skip
    header = "a,b,y\n" if draw(st.booleans()) else ""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return (header + "".join(",".join(row) + newline for row in rows)).encode("utf-8", "surrogatepass")


def check_dataset_or_error(make) -> None:
    try:
        data = make()
    except ConfigError as error:
        assert one_paragraph(str(error)) and "dataset." in str(error), str(error)
        return
    assert data.X.dtype == data.y.dtype == np.float64 and len(data.X) == len(data.y) >= 1
    assert data.X.shape[1] >= 1 and data.y.shape[1] >= 1
    assert np.isfinite(data.X).all() and np.isfinite(data.y).all()


@QUICK
@given(content=csv_texts(), n_inputs=st.sampled_from([None, 1, 2, 3]), n_outputs=st.integers(1, 3))
def test_any_dataset_file_loads_or_is_told_in_one_paragraph(content, n_inputs, n_outputs):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        path.write_bytes(content)
        check_dataset_or_error(lambda: from_csv(str(path), n_inputs, n_outputs))
        dataset = DatasetConfig(name="csv", path=str(path), n_inputs=n_inputs, n_outputs=n_outputs)
        check_dataset_or_error(lambda: load(dataset))
        try:
            data = from_csv(str(path), n_inputs, n_outputs)
        except ConfigError:
            return
        assert n_inputs is None or data.X.shape[1] == n_inputs
        assert data.y.shape[1] == n_outputs


NUMBERS = st.one_of(st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3))


@QUICK
@given(
    inputs=st.one_of(st.none(), st.lists(st.one_of(NUMBERS, st.lists(NUMBERS, max_size=3)), max_size=4)),
    targets=st.one_of(st.none(), st.lists(st.one_of(NUMBERS, st.lists(NUMBERS, max_size=2)), max_size=4)),
    n_inputs=st.sampled_from([None, 1, 2]),
)
def test_any_inline_table_loads_or_is_told_in_one_paragraph(inputs, targets, n_inputs):
    config = DatasetConfig(name="table", inputs=inputs, targets=targets, n_inputs=n_inputs)
    check_dataset_or_error(lambda: load(config))


def test_missing_or_unreadable_dataset_paths(tmp_path):
    for path in (None, "", str(tmp_path / "absent.csv"), str(tmp_path)):
        with pytest.raises(ConfigError, match="dataset.path"):
            from_csv(path, None, 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "content, outcome",
    [
        ("0,0,0\n0,1,1\n1,0,1\n1,1,inf\n", "column 3 is 'inf'"),
        ("0,0\n0,1,1\n", "data row 2 has 3 cells"),
        ("1e308,1e308,0\n0,1,1\n", "completed"),  # huge inputs: sigmoid saturates, the run is told as it is
        ("0,0,1e308\n0,1,1\n", "diverged"),  # a huge target: the loss overflows at once
    ],
)
def test_dataset_files_through_the_entry_point(tmp_path, content, outcome):
    path = tmp_path / "table.csv"
    path.write_text(content)
    done = run_cli("dataset=csv", f"dataset.path={path}", "epochs=20", f"hydra.run.dir={tmp_path}/run")
    assert "Traceback" not in done.stderr
    if outcome in ("completed", "diverged"):
        assert done.returncode == 0, done.stderr
        assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == outcome
    else:
        assert done.returncode == 2 and outcome in done.stderr and "dataset.path" in done.stderr


# --------------------------------------------------------------------------- corrupted run directories

RUN_FILES = ["metrics.csv", "summary.json", "params.npz", ".hydra/config.yaml", ".hydra/overrides.yaml"]
SUMMARY_FIELDS = [
    "status", "final", "epochs_run", "seed", "started_at", "ended_at", "pid", "host", "predictions",
    "diverged_at_epoch", "epochs_planned", "error", "wall_time_s", "config_sha",
]  # fmt: skip
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=8),
              st.sampled_from(["completed", "running", "failed", "diverged", "interrupted", "unfinished"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)  # fmt: skip


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    """A sweep of two completed runs, each with all the files a launcher and training write."""
    sweep = tmp_path_factory.mktemp("finished") / "sweep"
    for job, seed in enumerate((0, 1)):
        overrides = ["epochs=30", f"seed={seed}", "lr=0.5"]
        with initialize_config_dir(config_dir=CONF, version_base="1.3"):
            cfg = compose(config_name="config", overrides=overrides)
        hydra_dir = sweep / str(job) / ".hydra"
        hydra_dir.mkdir(parents=True)
        from omegaconf import OmegaConf

        (hydra_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
        (hydra_dir / "overrides.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(overrides)))
        run_population([make_config(*overrides)], [sweep / str(job)])
    return sweep


@st.composite
def corruptions(draw):
    """(file, what is done to it, the new bytes or None for deleting it)."""
    name = draw(st.sampled_from(RUN_FILES))
    kind = draw(st.sampled_from(["truncate", "delete", "empty", "garbage", "flip", "append"]
                                + (["field"] * 3 if name == "summary.json" else [])))  # fmt: skip
    return name, kind, draw(st.data())


def corrupt(run_dir: Path, name: str, kind: str, data) -> None:
    path = run_dir / name
    original = path.read_bytes()
    if kind == "delete":
        path.unlink()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncate":
        path.write_bytes(original[: data.draw(st.integers(0, len(original) - 1), label="cut at")])
    elif kind == "garbage":
        path.write_bytes(data.draw(st.binary(min_size=1, max_size=60), label="garbage"))
    elif kind == "flip":
        at = data.draw(st.integers(0, len(original) - 1), label="flip at")
        path.write_bytes(original[:at] + bytes([original[at] ^ 0xFF]) + original[at + 1 :])
    elif kind == "append":
        path.write_bytes(original + data.draw(st.binary(min_size=1, max_size=20), label="appended"))
    else:
        summary = json.loads(original)
        summary[data.draw(st.sampled_from(SUMMARY_FIELDS), label="field")] = data.draw(JSON_VALUES, label="value")
        path.write_text(json.dumps(summary))


def hashes(run_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run_dir.rglob("*")) if p.is_file()}  # fmt: skip


@contextlib.contextmanager
def damaged_copy(finished_sweep: Path, name: str, kind: str, data):
    """A copy of the finished sweep whose run ``1`` was damaged; run ``0``'s file hashes alongside."""
    with tempfile.TemporaryDirectory() as folder:
        sweep = Path(folder) / "sweep"
        shutil.copytree(finished_sweep, sweep)
        corrupt(sweep / "1", name, kind, data)
        yield sweep, hashes(sweep / "0")


def quietly(function, *args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = function(*args)
    return code, out.getvalue(), err.getvalue()


@QUICK
@given(damage=corruptions())
def test_a_damaged_run_is_marked_unreadable_by_the_catalog_and_the_others_untouched(finished_sweep, damage):
    name, kind, data = damage
    with damaged_copy(finished_sweep, name, kind, data) as (sweep, intact):
        damaged_before = hashes(sweep / "1")
        for metrics in ((), ("loss",)):  # the catalog checks the last rows, the report parses them all
            runs = load_sweeps([sweep], metrics=metrics).runs
            statuses = dict(zip([Path(p).name for p in runs["path"]], runs["status"]))
            assert statuses["0"] == "completed", runs
            assert set(statuses.values()) <= set(STATUSES)
            damaged = statuses["1"]
            if name in ("metrics.csv", "summary.json") and kind in ("truncate", "delete", "empty", "garbage"):
                assert (
                    damaged != "completed"
                    or hashes(sweep / "1") == hashes(finished_sweep / "1")
                    or (
                        name == "summary.json"
                        and json.loads((sweep / "1" / name).read_bytes()).get("status") == "completed"
                    )
                ), (name, kind, runs.loc[runs["status"] != "completed"])
            if damaged == "unreadable":
                problem = runs.loc[runs["path"].str.endswith("/1"), "problem"].iloc[0]
                assert one_paragraph(str(problem)), problem
        code, out, err = quietly(catalog_main, [str(sweep)])
        assert code == 0 and "Traceback" not in err and out.splitlines()[-1].startswith("2 of 2 runs")
        code, out, err = quietly(catalog_main, [str(sweep), "--csv", "--sort", "final_loss"])
        assert code == 0 and out.startswith("path,status")
        assert hashes(sweep / "0") == intact and hashes(sweep / "1") == damaged_before  # reading changes nothing


@settings(max_examples=max(3, EXAMPLES // 8), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damage=corruptions())
def test_the_report_is_made_despite_a_damaged_run(finished_sweep, damage):
    name, kind, data = damage
    with damaged_copy(finished_sweep, name, kind, data) as (sweep, intact):
        damaged_before = hashes(sweep / "1")
        try:
            page = make_report([sweep], out_dir=sweep.parent / "report", metric="loss")
        except ReportInputError as error:
            assert one_paragraph(str(error))
        else:
            assert page.is_file() and str(sweep / "0") in page.read_text()
        assert hashes(sweep / "0") == intact and hashes(sweep / "1") == damaged_before


@QUICK
@given(damage=corruptions())
def test_a_damaged_run_is_not_rerun_but_told(finished_sweep, damage):
    """``src.rerun`` on a damaged run: it runs again (its config is intact) or says why not, in one paragraph."""
    name, kind, data = damage
    with damaged_copy(finished_sweep, name, kind, data) as (sweep, _):
        before = hashes(sweep / "1")
        try:
            out = rerun(sweep / "1", sweep.parent / "again")
        except ConfigError as error:
            assert one_paragraph(str(error)) and name.startswith(".hydra"), (name, kind, str(error))
        else:
            assert (out / "metrics.csv").read_bytes() == (finished_sweep / "1" / "metrics.csv").read_bytes()
        assert hashes(sweep / "1") == before


@pytest.mark.slow
def test_rerun_of_a_bad_directory_at_the_command_line(tmp_path):
    run = tmp_path / "run" / ".hydra"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("lr: [unclosed\n")
    for target in (tmp_path / "absent", tmp_path / "run"):
        done = subprocess.run(
            [sys.executable, "-m", "src.rerun", str(target)], cwd=tmp_path, capture_output=True, text=True,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.startswith("Error: ") and one_paragraph(done.stderr), done.stderr
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [".hydra"]


@pytest.mark.parametrize(
    "field, value", [("final", True), ("final", {"loss": "low"}), ("epochs_run", "many"), ("predictions", [1])]
)
def test_a_summary_field_of_the_wrong_type_makes_the_run_unreadable(finished_sweep, tmp_path, field, value):
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_sweep, sweep)
    summary = json.loads((sweep / "1" / "summary.json").read_text())
    (sweep / "1" / "summary.json").write_text(json.dumps({**summary, field: value}))
    runs = load_sweeps([sweep]).runs
    assert list(runs["status"]) == ["completed", "unreadable"]
    assert runs["problem"].iloc[1].startswith(f"summary.json has {'final ' if isinstance(value, dict) else ''}")
