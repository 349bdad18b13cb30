"""Read run directories from disk into two tidy tables: ``runs`` and ``curves``.

This is the one loader behind the report (``python -m src.report``) and the run catalog
(``python -m src.runs``). It knows only the disk format, not who wrote it, so it reads
sweeps from any launcher, at any depth, interrupted or merged from several days:

    <any directory>/.../<run>/.hydra/config.yaml   the composed config of the run
                              summary.json         status, final metrics, predictions, ...
                              metrics.csv          epoch,loss,mae,mse,accuracy per epoch

A directory is a run when it holds one of these three files. Two tables come out:

* ``runs``: one row per run (index ``run``): its path, status, the config values that vary
  between the runs, its seed, final metrics, epochs run and planned, wall time, and for a
  run that cannot be read, ``problem`` (what is wrong, with the file's name).
* ``curves``: long format, one row per (metric, run, epoch): columns ``run, epoch,
  metric, value``, sorted in that order of metric, run, epoch.

A *setting* is a group of runs that differ only in their seed: every run gets a ``setting``
label such as ``lr=0.5, hidden=4`` made of the varying values other than the seed.

Status is the summary's, except that a run still marked ``running`` whose process is gone
(its pid is not alive on this host, or it ran on another host and never wrote its end)
is ``unfinished``, and so is a job with a config but neither summary nor metrics (its sweep
stopped before it started); a run whose files cannot be read is ``unreadable``.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import socket
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..tracking import METRICS_FILE, SUMMARY_FILE
from ..train import METRICS

CONFIG_FILE = Path(".hydra") / "config.yaml"
HEADER = ["epoch", *METRICS]
ENDED = ("completed", "diverged", "failed", "interrupted")
STATUSES = ("completed", "diverged", "failed", "interrupted", "unfinished", "running", "unreadable")
SEED_KEYS = ("seed", "init.seed", "train.shuffle_seed")
# Keys that change what is printed or when it is written, never what is learned.
NOT_RESULT_KEYS = ("report.auto", "log.print_every", "log.print_metric", "log.decimals", "log.chunk_epochs")

try:  # libyaml parses a config about ten times faster than the pure-Python loader
    from yaml import CSafeLoader as YamlLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as YamlLoader


class ReportInputError(Exception):
    """The directories given hold nothing to read: told in one paragraph, no traceback."""


class Unreadable(Exception):
    """One file of one run cannot be read; the message names the file and what is wrong."""


# --------------------------------------------------------------------------- finding runs


def is_run_dir(path: Path) -> bool:
    return (path / SUMMARY_FILE).is_file() or (path / METRICS_FILE).is_file() or (path / CONFIG_FILE).is_file()


def natural_key(path: Path) -> list:
    """Sort ``2`` before ``10``: digits compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def find_run_dirs(roots: list[Path]) -> list[Path]:
    """Every run directory at any depth below ``roots``, root by root, each in natural order.

    Raises ``ReportInputError`` when a root is missing or holds no run.
    """
    found: list[Path] = []
    for root in roots:
        root = Path(root)
        if not root.exists():
            raise ReportInputError(f"No such directory: {root}. Give the directory of a sweep or of a run.")
        if not root.is_dir():
            raise ReportInputError(f"{root} is a file, not a directory. Give the directory of a sweep or of a run.")
        below = []
        for directory, subdirs, _ in os.walk(root):
            if is_run_dir(Path(directory)):
                below.append(Path(directory))
                subdirs.clear()  # a run holds no runs
        if not below:
            what = "is empty" if not any(root.iterdir()) else "holds no run directories"
            raise ReportInputError(
                f"{root} {what}: no directory below it has a summary.json, a metrics.csv or a "
                f".hydra/config.yaml. Run a sweep first (python -m src.run -m lr=0.1,0.5 hidden=2,4) "
                f"and give its directory."
            )
        found += sorted(below, key=natural_key)
    return list(dict.fromkeys(found))  # a run below two of the roots counts once


def latest_sweep(base: Path = Path("outputs/sweeps")) -> Path:
    """The sweep under ``base`` whose ``multirun.yaml`` was written last (the most recently started)."""
    candidates = list(Path(base).rglob("multirun.yaml")) if Path(base).is_dir() else []
    if not candidates:
        raise ReportInputError(
            f"No sweep found under {Path(base).resolve()} (no multirun.yaml). Run one first, such as "
            f"python -m src.run -m lr=0.1,0.5 hidden=2,4, or name a directory: python -m src.report DIR."
        )
    return max(candidates, key=lambda path: path.stat().st_mtime).parent


# --------------------------------------------------------------------------- one run's files


def flatten(tree: dict, prefix: str = "") -> dict:
    """``{"model": {"hidden": 4}}`` -> ``{"model.hidden": 4}``; lists stay values."""
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


REFERENCE = re.compile(r"^\$\{([A-Za-z_][\w.]*)\}$")  # a whole value that is ``${other.key}``


def resolve(flat: dict, tree: dict) -> dict:
    """Replace ``${key}`` values by the value of ``key``; anything subtler is left to OmegaConf."""
    resolved = dict(flat)
    for key, value in flat.items():
        seen = 0
        while isinstance(value, str) and (match := REFERENCE.match(value)) and seen < 20:
            value, seen = flat.get(match.group(1), value), seen + 1
        if isinstance(value, str) and "${" in value:
            from omegaconf import OmegaConf  # slow, so only for the rare resolver or string template

            return flatten(OmegaConf.to_container(OmegaConf.create(tree), resolve=True))
        resolved[key] = value
    return resolved


def hashable(value):
    """Config values as table cells: lists (``hidden: [8, 4]``) become their text ``[8, 4]``."""
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def read_config(run_dir: Path) -> dict:
    """The run's composed config, flattened to dotted keys and resolved."""
    path = run_dir / CONFIG_FILE
    try:
        tree = yaml.load(path.read_bytes(), Loader=YamlLoader)
    except FileNotFoundError:
        raise Unreadable(f"{CONFIG_FILE} is missing") from None
    except (OSError, yaml.YAMLError) as error:
        raise Unreadable(f"{CONFIG_FILE} is not valid YAML ({type(error).__name__})") from None
    if not isinstance(tree, dict):
        raise Unreadable(f"{CONFIG_FILE} does not hold a mapping of keys to values")
    try:
        flat = resolve(flatten(tree), tree)
    except Exception as error:  # an interpolation OmegaConf cannot resolve
        raise Unreadable(f"{CONFIG_FILE}: {str(error).splitlines()[0]}") from None
    return {key: hashable(value) for key, value in flat.items()}


def read_summary(run_dir: Path) -> dict:
    try:
        summary = json.loads((run_dir / SUMMARY_FILE).read_bytes())
    except FileNotFoundError:
        raise Unreadable(f"{SUMMARY_FILE} is missing") from None
    except (OSError, ValueError) as error:
        raise Unreadable(f"{SUMMARY_FILE} is not valid JSON ({str(error).splitlines()[0]})") from None
    if not isinstance(summary, dict) or summary.get("status") not in (*ENDED, "running"):
        raise Unreadable(f"{SUMMARY_FILE} has no known status (one of {', '.join((*ENDED, 'running'))})")
    for key, (kinds, what) in SUMMARY_FIELDS.items():
        if summary.get(key) is not None and not (
            isinstance(summary[key], kinds) and not isinstance(summary[key], bool)
        ):
            raise Unreadable(f"{SUMMARY_FILE} has {key!r} = {_short(summary[key])}, not {what}")
    final = summary.get("final") or {}
    bad = [name for name, value in final.items() if value is not None and not _is_number(value)]
    if bad:
        raise Unreadable(f"{SUMMARY_FILE} has final {bad[0]!r} = {_short(final[bad[0]])}, not a number")
    return summary


# The fields of summary.json the loader uses, each of its type when present (null is allowed).
SUMMARY_FIELDS = {
    "final": (dict, "a mapping of metric names to numbers"),
    "predictions": (dict, "a mapping of inputs, outputs and targets"),
    "epochs_run": (int, "an integer"),
    "epochs_planned": (int, "an integer"),
    "diverged_at_epoch": (int, "an integer"),
    "seed": (int, "an integer"),
    "pid": (int, "an integer"),
    "wall_time_s": ((int, float), "a number"),
    "started_at": (str, "a time"),
    "host": (str, "a host name"),
    "error": (str, "an error message"),
}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def whole_lines(data: bytes, running: bool) -> bytes:
    """The bytes of ``metrics.csv`` up to its last newline.

    A last line without its newline was cut off while being written: dropped when the run
    may still be (or was killed while) writing, a sign of a truncated file otherwise.
    """
    if data.endswith(b"\n"):
        return data
    if not data and not running:
        raise Unreadable(f"{METRICS_FILE} is empty")
    if not running:
        raise Unreadable(f"{METRICS_FILE} is truncated (its last line is incomplete)")
    return data[: data.rfind(b"\n") + 1]


def check_header(data: bytes) -> None:
    header = data[: data.find(b"\n")].decode("ascii", "replace").strip().split(",")
    if header != HEADER:
        raise Unreadable(f"{METRICS_FILE} has the header {','.join(header)!r}, not {','.join(HEADER)!r}")


def check_rows(values: np.ndarray) -> np.ndarray:
    if not np.isfinite(values).all():
        raise Unreadable(f"{METRICS_FILE} has empty, missing or non-finite values")
    if len(values) > 1 and not (np.diff(values[:, 0]) > 0).all():
        raise Unreadable(f"{METRICS_FILE} has epochs out of order")
    return values


def parse_metrics(data: bytes, columns: list[str]) -> np.ndarray:
    """Every row of ``metrics.csv`` (whole lines) as a float array of ``columns``, ``epoch`` first."""
    check_header(data)
    positions = [HEADER.index(name) for name in columns]
    try:  # pandas' C parser reads the columns in file order; put them in the order asked for after
        table = pd.read_csv(io.BytesIO(data), engine="c", usecols=sorted(positions), dtype="float64")
    except (ValueError, pd.errors.ParserError) as error:
        raise Unreadable(f"{METRICS_FILE} has a malformed row ({str(error).splitlines()[0]})") from None
    values = table.to_numpy()[:, np.argsort(np.argsort(positions))]
    return check_rows(values)


def parse_last_row(data: bytes) -> np.ndarray | None:
    """The last row of ``metrics.csv`` (whole lines), every column; ``None`` when only the header is there."""
    check_header(data)
    end_of_header = data.find(b"\n") + 1
    if len(data) == end_of_header:
        return None
    last = data[data.rfind(b"\n", end_of_header - 1, len(data) - 1) + 1 :]
    fields = last.decode("ascii", "replace").strip().split(",")
    try:
        values = np.array([[float(x) for x in fields]])
    except ValueError:
        raise Unreadable(f"{METRICS_FILE} has a malformed last row: {last[:80]!r}") from None
    if values.shape[1] != len(HEADER):
        raise Unreadable(f"{METRICS_FILE} has a last row of {values.shape[1]} values, not {len(HEADER)}")
    return check_rows(values)[0]


def process_is_alive(pid: int, started_at: str | None) -> bool:
    """Is process ``pid`` on this host the one that started the run (not a later one given the same pid)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists but belongs to someone else
    try:  # on Linux, a process that started after the run did cannot be the run's
        ticks = os.sysconf("SC_CLK_TCK")
        since_boot = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
        boot = next(
            int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
        return boot + since_boot <= datetime.fromisoformat(started_at).timestamp() + 2.0
    except (OSError, ValueError, TypeError, StopIteration, IndexError):
        return True


def status_of(summary: dict, host: str) -> str:
    """The run's status as it is now: ``running`` only while its process lives."""
    status = summary["status"]
    if status != "running":
        return status
    pid = summary.get("pid")
    if summary.get("host") == host and isinstance(pid, int) and process_is_alive(pid, summary.get("started_at")):
        return "running"
    return "unfinished"


@dataclass
class RunRecord:
    """What one run directory says, before the runs are put side by side."""

    path: Path
    status: str = "unreadable"
    problem: str | None = None
    config: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    curve: np.ndarray | None = None  # rows of (epoch, metric...) when curves were asked for
    last: np.ndarray | None = None  # the last row of metrics.csv (epoch, loss, mae, mse, accuracy)


NOT_STARTED = f"not started: no {SUMMARY_FILE} or {METRICS_FILE} (its sweep stopped, or has yet to reach it)"


def never_started(run_dir: Path) -> bool:
    """A job whose config was written (by Hydra or the batched launcher) but whose training never began."""
    return not (run_dir / SUMMARY_FILE).exists() and not (run_dir / METRICS_FILE).exists()


def read_run(run_dir: Path, metrics: tuple[str, ...], host: str) -> RunRecord:
    """Read one run directory; a file that cannot be read makes it ``unreadable`` with the reason."""
    record = RunRecord(run_dir)
    try:
        record.config = read_config(run_dir)
    except Unreadable as error:
        record.problem = str(error)
    if record.problem is None and never_started(run_dir):
        record.status, record.problem = "unfinished", NOT_STARTED
        return record
    try:
        record.summary = read_summary(run_dir)
        if record.problem is not None:
            return record
        record.status = status_of(record.summary, host)
        read_metrics_of(record, metrics)
    except Unreadable as error:
        record.status, record.problem = "unreadable", str(error)
    except Exception as error:  # whatever else a damaged file can do, it must not stop the others
        record.status, record.problem = "unreadable", f"cannot be read: {type(error).__name__}: {error}"
    if record.status == "failed":
        record.problem = record.summary.get("error")
    return record


def read_metrics_of(record: RunRecord, metrics: tuple[str, ...]) -> None:
    """Fill ``record.curve`` (when ``metrics`` are asked for) and ``record.last``; check they agree with the summary."""
    path = record.path / METRICS_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if record.status in ("completed", "diverged"):
            raise Unreadable(f"{METRICS_FILE} is missing") from None
        return
    except OSError as error:
        raise Unreadable(f"{METRICS_FILE} cannot be read ({error.strerror})") from None
    data = whole_lines(data, running=record.status in ("running", "unfinished"))
    if not data:
        return  # created, but nothing written yet
    record.last = parse_last_row(data)
    if metrics:
        record.curve = parse_metrics(data, ["epoch", *metrics])
    epochs_run = record.summary.get("epochs_run")
    last_epoch = None if record.last is None else int(record.last[0])
    if record.status == "completed" and isinstance(epochs_run, int) and last_epoch != epochs_run - 1:
        raise Unreadable(
            f"{METRICS_FILE} ends at epoch {last_epoch} but {SUMMARY_FILE} says {epochs_run} epochs ran (truncated)"
        )


# --------------------------------------------------------------------------- all runs together


@dataclass
class Sweep:
    """The runs found below ``roots``, as tables (see the module's docstring)."""

    roots: list[Path]
    runs: pd.DataFrame
    curves: pd.DataFrame
    config: pd.DataFrame  # every config key, one row per run (same index as ``runs``)
    varying: list[str]  # config keys whose values differ between runs, seed keys included
    setting_keys: list[str]  # the varying keys that make a setting: all but the seeds

    def run_dir(self, run: int) -> Path:
        return Path(self.runs.at[run, "path"])

    def values_of(self, run: int) -> dict:
        """The full config of one run, as a flat dict."""
        return {key: value for key, value in self.config.loc[run].items() if not _missing(value)}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def varying_keys(config: pd.DataFrame) -> list[str]:
    """Config keys whose value is not the same in every run, without duplicates.

    A key whose column equals an earlier one's (``optimizer.lr`` follows ``lr``) adds
    nothing and is left out; top-level shorthands come first, so they are the ones kept.
    """
    keys: list[str] = []
    columns = sorted(config.columns, key=lambda key: (key.count("."), list(config.columns).index(key)))
    for key in columns:
        if key in NOT_RESULT_KEYS:
            continue
        column = config[key].astype(str)
        if column.nunique(dropna=False) > 1 and not any(column.equals(config[k].astype(str)) for k in keys):
            keys.append(key)
    return keys


def format_value(value) -> str:
    if _missing(value):
        return "null"
    return str(value)


def sort_key(value) -> tuple:
    """Order numbers by value, then text, with missing values last."""
    if _missing(value):
        return (2, 0, "")
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0, str(value))


def setting_labels(config: pd.DataFrame, keys: list[str]) -> pd.Series:
    """``lr=0.5, hidden=4`` per run; ``all runs`` when the runs differ only in seed."""
    if not keys:
        return pd.Series("all runs", index=config.index)
    parts = [key + "=" + config[key].map(format_value) for key in keys]
    label = parts[0]
    for part in parts[1:]:
        label = label + ", " + part
    return label


def ordered_settings(runs: pd.DataFrame, keys: list[str]) -> list[str]:
    """Setting labels in the order of their values (numbers numerically)."""
    first = runs.drop_duplicates("setting")
    order = sorted(first.index, key=lambda run: [sort_key(first.at[run, key]) for key in keys])
    return [first.at[run, "setting"] for run in order]


def load_sweeps(roots: list[Path], metrics: tuple[str, ...] = METRICS) -> Sweep:
    """Read every run below ``roots``; ``curves`` holds ``metrics`` (none: only the last rows are checked)."""
    roots = [Path(root) for root in roots]
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ReportInputError(f"Unknown metric {unknown[0]!r}. Allowed: {', '.join(METRICS)}.")
    host = socket.gethostname()
    records = [read_run(run_dir, tuple(metrics), host) for run_dir in find_run_dirs(roots)]
    config = pd.DataFrame([r.config for r in records])
    config.index.name = "run"
    varying = varying_keys(config[config.notna().any(axis=1)])  # runs whose config could be read
    setting_keys = [key for key in varying if key not in SEED_KEYS]
    runs = runs_table(records, config, varying, setting_keys)
    return Sweep(roots, runs, curves_table(records, metrics), config, varying, setting_keys)


def runs_table(records: list[RunRecord], config: pd.DataFrame, varying, setting_keys) -> pd.DataFrame:
    def final(record: RunRecord, name: str) -> float:
        value = (record.summary.get("final") or {}).get(name)
        if value is None and record.last is not None and record.status in ("running", "unfinished"):
            value = record.last[HEADER.index(name)]  # not yet written to the summary: the last row on disk
        return np.nan if value is None else float(value)

    def epochs_run(record: RunRecord):
        value = record.summary.get("epochs_run")
        if value is None and record.last is not None:
            value = int(record.last[0]) + 1
        return value

    rows = []
    for record in records:
        s = record.summary
        rows.append(
            {
                "path": str(record.path),
                "status": record.status,
                "seed": s.get("seed", record.config.get("seed")),
                **{f"final_{name}": final(record, name) for name in METRICS},
                "epochs_run": epochs_run(record),
                "epochs_planned": s.get("epochs_planned", record.config.get("train.epochs")),
                "diverged_at_epoch": s.get("diverged_at_epoch"),
                "wall_time_s": s.get("wall_time_s"),
                "started_at": s.get("started_at"),
                "host": s.get("host"),
                "problem": record.problem,
                "predictions": s.get("predictions"),
            }
        )
    runs = pd.DataFrame(rows, index=config.index)
    for name in ("epochs_run", "epochs_planned", "diverged_at_epoch", "seed"):
        runs[name] = pd.to_numeric(runs[name], errors="coerce").astype("Int64")
    for key in reversed([k for k in varying if k != "seed"]):
        runs.insert(2, key, config[key])
    labels = setting_labels(config, setting_keys).where(config.notna().any(axis=1), "(config unreadable)")
    runs.insert(2, "setting", labels)
    return runs


def curves_table(records: list[RunRecord], metrics: tuple[str, ...]) -> pd.DataFrame:
    """The long table ``run, epoch, metric, value``, sorted by metric, run, epoch; built in one piece."""
    with_curves = [(run, r.curve) for run, r in enumerate(records) if r.curve is not None and len(r.curve)]
    if not with_curves or not metrics:
        return pd.DataFrame(
            {
                "run": pd.Series(dtype="int32"),
                "epoch": pd.Series(dtype="int32"),
                "metric": pd.Categorical([], categories=list(metrics)),
                "value": pd.Series(dtype="float64"),
            }
        )
    lengths = np.array([len(curve) for _, curve in with_curves])
    rows = np.concatenate([curve for _, curve in with_curves])  # (total, 1 + len(metrics))
    run = np.repeat(np.array([run for run, _ in with_curves], dtype=np.int32), lengths)
    k = len(metrics)
    return pd.DataFrame(
        {
            "run": np.tile(run, k),
            "epoch": np.tile(rows[:, 0].astype(np.int32), k),
            "metric": pd.Categorical.from_codes(np.repeat(np.arange(k, dtype=np.int8), len(rows)), list(metrics)),
            "value": rows[:, 1:].T.ravel(),
        }
    )
