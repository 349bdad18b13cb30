"""Reading run directories: find them, read one, say its status, tell a complete run for resume.

It knows only the disk format, not who wrote it, so it reads runs from any launcher, at any
depth, interrupted or merged from several days. A directory is a run when it holds a
``summary.json``, a ``metrics.csv`` or a ``.hydra/config.yaml``.

Everything read is treated as untrusted: a config is YAML without anchors or aliases, read
without resolving anything (only a whole value ``${other.key}`` is replaced, by that key's
value in the same file; resolvers such as ``${oc.env:NAME}`` stay as text); every file has
a size limit; a damaged file makes that run ``unreadable``, with the reason, and nothing else.

Status is the summary's, except that a run still marked ``running`` whose process is gone
(its pid is not alive on this host, or it ran on another host and never wrote its end)
is ``unfinished``, and so is a job with a config but neither summary nor metrics (its sweep
stopped before it started). A run whose config could not be composed (``lr=abc`` in a sweep)
has an empty config and a ``failed`` summary: it reads as ``failed``, with its message.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import yaml

from .block_yaml import read_block_yaml
from .files import read_at_most
from .layout import (
    CONFIG_FILE,
    ENDED,
    METRICS_FILE,
    PARAMS_FILE,
    PREDICTIONS_FILE,
    SUMMARY_FIELDS,
    SUMMARY_FILE,
    SWEEP_FILE,
    Unreadable,
)
from .metrics_csv import BATCH_BYTES, columns_of, parse_last_row, parse_many, parse_rows, read_ends, whole_lines

try:  # libyaml parses a config about ten times faster than the pure-Python loader
    from yaml import CSafeLoader as YamlLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as YamlLoader

CONFIG_LIMIT = 1 << 20  # bytes; Hydra writes a run's config in a few KB
SUMMARY_LIMIT = 16 << 20  # bytes; a summary is a few KB (large predictions have their own file)


class NothingToRead(Exception):
    """The directories given hold no run: told in one paragraph, no traceback."""


# --------------------------------------------------------------------------- finding runs


def is_run_dir(path: Path) -> bool:
    return (path / SUMMARY_FILE).is_file() or (path / METRICS_FILE).is_file() or (path / CONFIG_FILE).is_file()


def natural_key(path: Path) -> list:
    """Sort ``2`` before ``10``: digits compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def runs_below(root: Path):
    """The run directories at any depth below ``root``, in no particular order (a run holds no runs).

    A run directory is recognised without listing it (a study has thousands; ``os.walk`` would list
    each); directories that cannot be listed and symbolic links are passed over, as ``os.walk`` does.
    """
    pending = [Path(root)]
    while pending:
        directory = pending.pop()
        if is_run_dir(directory):
            yield directory
            continue
        try:
            with os.scandir(directory) as entries:
                pending += [Path(entry.path) for entry in entries if entry.is_dir(follow_symlinks=False)]
        except OSError:
            continue


def find_run_dirs(roots: list[Path]) -> list[Path]:
    """Every run directory at any depth below ``roots``, root by root, each in natural order.

    Raises ``NothingToRead`` when a root is missing or holds no run.
    """
    found: list[Path] = []
    for root in roots:
        root = Path(root)
        if not root.exists():
            raise NothingToRead(f"No such directory: {root}. Give the directory of a sweep or of a run.")
        if not root.is_dir():
            raise NothingToRead(f"{root} is a file, not a directory. Give the directory of a sweep or of a run.")
        below = sorted(runs_below(root), key=natural_key)
        if not below:
            what = "is empty" if not any(root.iterdir()) else "holds no run directories"
            raise NothingToRead(
                f"{root} {what}: no directory below it has a {SUMMARY_FILE}, a {METRICS_FILE} or a "
                f"{CONFIG_FILE}. Run a sweep first (python -m src.run -m lr=0.1,0.5 hidden=2,4) "
                f"and give its directory."
            )
        found += below
    return list(dict.fromkeys(found))  # a run below two of the roots counts once


def latest_sweep(base: Path = Path("outputs/sweeps")) -> Path:
    """The sweep under ``base`` started last (its ``multirun.yaml`` written last) that holds a run.

    A sweep stopped before its first job leaves only ``multirun.yaml``: it is passed over.
    """
    candidates = list(Path(base).rglob(SWEEP_FILE)) if Path(base).is_dir() else []
    for path in sorted(candidates, key=lambda path: path.stat().st_mtime, reverse=True):
        if next(runs_below(path.parent), None) is not None:
            return path.parent
    stubs = f" ({len(candidates)} held no run: stopped before their first job)" if candidates else ""
    raise NothingToRead(
        f"No sweep with runs found under {Path(base).resolve()}{stubs}. Run one first, such as "
        f"python -m src.run -m lr=0.1,0.5 hidden=2,4, or name a directory of runs."
    )


# --------------------------------------------------------------------------- one run's config


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
MAY_HOLD_ALIAS = re.compile(rb"(^|[\s\[{,:-])[&*][^\s]", re.MULTILINE)


def resolve_references(flat: dict) -> dict:
    """Replace each value ``${key}`` by the value of ``key`` in the same config; nothing else."""
    resolved = {}
    for key, value in flat.items():
        seen = 0
        while isinstance(value, str) and (match := REFERENCE.match(value)) and seen < 20:
            value, seen = flat.get(match.group(1), value), seen + 1
        resolved[key] = value
    return resolved


def has_alias(text: bytes) -> bool:
    """Does the YAML use anchors or aliases (which Hydra never writes, and which can make a
    small file expand without end)? Only texts that may hold one are parsed to see."""
    if not MAY_HOLD_ALIAS.search(text):
        return False
    return any(isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) for event in yaml.parse(text))


def yaml_mapping(run_dir: Path, name: Path, limit: int) -> dict:
    """The mapping in a YAML file of the run, read as plain data."""
    path = run_dir / name
    try:
        text = read_at_most(path, limit)
    except FileNotFoundError:
        raise Unreadable(f"{name} is missing") from None
    except OSError as error:
        raise Unreadable(f"{name} cannot be read ({error.strerror})") from None
    if len(text) > limit:
        raise Unreadable(f"{name} is larger than {limit >> 20} MB; a run's config is a few KB")
    try:
        tree = read_block_yaml(text.decode("utf-8"))  # the shape Hydra writes, read fast
    except UnicodeDecodeError:
        raise Unreadable(f"{name} is not UTF-8 text") from None
    if tree is not None:
        return tree
    try:
        if has_alias(text):
            raise Unreadable(f"{name} uses YAML anchors or aliases, which a run's config never holds")
        tree = yaml.load(text, Loader=YamlLoader)
    except yaml.YAMLError as error:
        raise Unreadable(f"{name} is not valid YAML ({type(error).__name__})") from None
    if not isinstance(tree, dict):
        raise Unreadable(f"{name} does not hold a mapping of keys to values")
    return tree


def hashable(value):
    """Config values as table cells: lists (``hidden: [8, 4]``) become their text ``[8, 4]``."""
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def read_config_tree(run_dir: Path) -> dict:
    """The run's composed config as saved: nested mappings, nothing resolved."""
    return yaml_mapping(run_dir, CONFIG_FILE, CONFIG_LIMIT)


def read_config(run_dir: Path) -> dict:
    """The run's composed config, flattened to dotted keys, its plain references replaced."""
    flat = resolve_references(flatten(read_config_tree(run_dir)))
    return {key: hashable(value) for key, value in flat.items()}


# --------------------------------------------------------------------------- one run's summary


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _of_kind(value, kinds) -> bool:
    """``isinstance``, except that ``true`` is not an integer unless booleans are asked for."""
    return isinstance(value, kinds) and (kinds is bool or not isinstance(value, bool))


def read_summary(run_dir: Path) -> dict:
    """``summary.json`` checked against the schema (``layout.SUMMARY_FIELDS``)."""
    try:
        data = read_at_most(run_dir / SUMMARY_FILE, SUMMARY_LIMIT)
        if len(data) > SUMMARY_LIMIT:
            raise Unreadable(f"{SUMMARY_FILE} is larger than {SUMMARY_LIMIT >> 20} MB")
        summary = json.loads(data)
    except FileNotFoundError:
        raise Unreadable(f"{SUMMARY_FILE} is missing") from None
    except (OSError, ValueError, RecursionError) as error:
        raise Unreadable(f"{SUMMARY_FILE} is not valid JSON ({str(error).splitlines()[0]})") from None
    if not isinstance(summary, dict) or summary.get("status") not in (*ENDED, "running"):
        raise Unreadable(f"{SUMMARY_FILE} has no known status (one of {', '.join((*ENDED, 'running'))})")
    for key, (kinds, what) in SUMMARY_FIELDS.items():
        if summary.get(key) is not None and not _of_kind(summary[key], kinds):
            raise Unreadable(f"{SUMMARY_FILE} has {key!r} = {_short(summary[key])}, not {what}")
    final = summary.get("final") or {}
    bad = [name for name, value in final.items() if value is not None and not _of_kind(value, (int, float))]
    if bad:
        raise Unreadable(f"{SUMMARY_FILE} has final {bad[0]!r} = {_short(final[bad[0]])}, not a number")
    return summary


def read_predictions(run_dir: Path, summary: dict) -> dict | None:
    """The final predictions as arrays (``inputs``, ``outputs``, ``targets``), from the summary
    or ``predictions.npz``; ``None`` when there are none or they do not make a table."""
    table = summary.get("predictions")
    try:
        if table is None and summary.get("predictions_file") == PREDICTIONS_FILE:
            with np.load(run_dir / PREDICTIONS_FILE) as saved:
                table = {name: saved[name] for name in saved.files}
        if not isinstance(table, dict):
            return None
        arrays = {name: np.asarray(table[name], dtype=float) for name in ("inputs", "targets")}
        outputs = table.get("outputs")
        arrays["outputs"] = None if outputs is None else np.asarray(outputs, dtype=float)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    inputs, targets, outputs = arrays["inputs"], arrays["targets"], arrays["outputs"]
    if inputs.ndim != 2 or targets.ndim != 2 or len(inputs) != len(targets):
        return None
    if outputs is not None and outputs.shape != targets.shape:
        return None
    return arrays


# --------------------------------------------------------------------------- status


def process_is_alive(pid: int, started_at: str | None) -> bool:
    """Is process ``pid`` on this host the one that started the run (not a later one given the same pid)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists but belongs to someone else
    try:  # on Linux, a process that started after the run did cannot be the run's, and a zombie is dead
        ticks = os.sysconf("SC_CLK_TCK")
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if fields[0] in ("Z", "X"):  # ended, its parent yet to collect it
            return False
        since_boot = int(fields[19]) / ticks
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


# --------------------------------------------------------------------------- one run


@dataclass
class RunRecord:
    """What one run directory says."""

    path: Path
    status: str = "unreadable"
    problem: str | None = None
    config: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    curve: np.ndarray | None = None  # rows of (epoch, metric...) when curves were asked for
    last: dict | None = None  # the last row of metrics.csv, by column
    seen: dict = field(default_factory=dict)  # what a curve filter noted of the whole curve
    config_problem: str | None = None  # why the config could not be read, when it could not
    unparsed: bytes | None = None  # metrics.csv's whole lines, while its curve waits to be parsed


NOT_STARTED = f"not started: no {SUMMARY_FILE} or {METRICS_FILE} (its sweep stopped, or has yet to reach it)"


def never_started(run_dir: Path) -> bool:
    """A job whose config was written (by Hydra or the batched launcher) but whose training never began."""
    return not (run_dir / SUMMARY_FILE).exists() and not (run_dir / METRICS_FILE).exists()


CurveFilter = Callable[["RunRecord", np.ndarray], np.ndarray]


def read_run(run_dir: Path, metrics: tuple[str, ...], host: str, keep: CurveFilter | None = None) -> RunRecord:
    """Read one run directory; a file that cannot be read makes it ``unreadable`` with the reason.

    ``metrics``: the columns of ``metrics.csv`` to read whole into ``curve`` (none: only the
    last row is read, enough to catch a truncated file). ``keep(record, curve)``, when given,
    says which of the curve's rows to keep (it may note what it saw in ``record.seen``).
    """
    return read_runs([run_dir], metrics, host, keep)[0]


def read_runs(
    run_dirs: list[Path], metrics: tuple[str, ...], host: str, keep: CurveFilter | None = None
) -> list[RunRecord]:
    """``read_run`` of each of ``run_dirs``, with the same results; the curves of all of them are parsed
    together (``metrics_csv.parse_many``), a few MB of text at a time, which costs a quarter of parsing
    them one by one."""
    records: list[RunRecord] = []
    pending: list[RunRecord] = []  # read, their curves not yet parsed

    def parse_pending() -> None:
        curves = parse_many([record.unparsed for record in pending], ["epoch", *metrics])
        for record, curve in zip(pending, curves):
            record.unparsed = None
            _with_curve(record, curve, keep)
        pending.clear()

    size = 0  # bytes of text pending
    for run_dir in run_dirs:
        records.append(_read_files(run_dir, metrics, host))
        if records[-1].unparsed is not None:
            pending.append(records[-1])
            size += len(records[-1].unparsed)
            if size >= BATCH_BYTES:
                parse_pending()
                size = 0
    parse_pending()
    return records


def _read_files(run_dir: Path, metrics: tuple[str, ...], host: str) -> RunRecord:
    """Everything of one run but its curve: a curve to parse is left in ``record.unparsed``."""
    record = RunRecord(run_dir)
    try:
        record.config = read_config(run_dir)
    except Unreadable as error:
        record.config_problem = str(error)
    if record.config_problem is None and never_started(run_dir):
        record.status, record.problem = "unfinished", NOT_STARTED
        return record
    try:
        record.summary = read_summary(run_dir)
        record.status = status_of(record.summary, host)
        if record.status == "failed":  # a job whose config could not even be composed reads as failed too
            record.problem = record.summary.get("error") or "failed"
            read_metrics_of(record, metrics)
            return record
        if record.config_problem is not None:
            record.status, record.problem = "unreadable", record.config_problem
            return record
        read_metrics_of(record, metrics)
    except Exception as error:  # whatever a damaged file can do, it must not stop the others
        _unreadable(record, error)
    return record


def _unreadable(record: RunRecord, error: Exception) -> None:
    """The run cannot be read: ``Unreadable`` says why; anything else a damaged file raised is named."""
    record.status, record.unparsed = "unreadable", None
    if isinstance(error, Unreadable):
        record.problem = record.config_problem or str(error)
    else:
        record.problem = f"cannot be read: {type(error).__name__}: {error}"


def read_metrics_of(record: RunRecord, metrics: tuple[str, ...]) -> None:
    """Read ``metrics.csv``: ``record.last`` now, and its whole lines into ``record.unparsed`` when
    ``metrics`` are asked for (``_with_curve`` parses and checks them). Without ``metrics``, check now
    that it agrees with the summary."""
    path = record.path / METRICS_FILE
    try:
        data = read_at_most(path) if metrics else read_ends(path)
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
        record.unparsed = data
    else:
        agrees_with_summary(record)


def _with_curve(record: RunRecord, curve: np.ndarray | Exception, keep: CurveFilter | None) -> None:
    """The run's parsed curve (or the reason it cannot be parsed), kept as ``keep`` says, then checked
    against the summary: in the order ``read_run`` has always checked them."""
    try:
        if isinstance(curve, Exception):  # the parser's error for this file
            raise curve
        record.curve = curve if keep is None else keep(record, curve)
        agrees_with_summary(record)  # a truncated run keeps the curve read, as read_run always did
    except Exception as error:
        _unreadable(record, error)


def agrees_with_summary(record: RunRecord) -> None:
    """A completed run's ``metrics.csv`` ends at the last epoch its summary says ran (else it was truncated)."""
    epochs_run = record.summary.get("epochs_run")
    last_epoch = None if record.last is None else int(record.last["epoch"])
    if record.status == "completed" and isinstance(epochs_run, int) and last_epoch != epochs_run - 1:
        raise Unreadable(
            f"{METRICS_FILE} ends at epoch {last_epoch} but {SUMMARY_FILE} says {epochs_run} epochs ran (truncated)"
        )


# --------------------------------------------------------------------------- resume


def completed_summary(run_dir: Path, config_sha: str) -> dict | None:
    """The summary of a completed run of the config ``config_sha`` in ``run_dir``, or ``None``.

    Completed means ``summary.json`` says so for the same config fingerprint, ``params.npz``
    is there, and ``metrics.csv`` is a header and the ``metrics_rows`` whole lines promised.
    """
    try:
        summary = read_summary(Path(run_dir))
        if summary.get("status") != "completed" or summary.get("config_sha") != config_sha:
            return None
        if not (Path(run_dir) / PARAMS_FILE).is_file():
            return None
        data = (Path(run_dir) / METRICS_FILE).read_bytes()
        columns_of(data)
        if not data.endswith(b"\n") or data.count(b"\n") != summary.get("metrics_rows", -1) + 1:
            return None
    except (OSError, Unreadable):
        return None
    return summary


def recorded_config_sha(run_dir: Path) -> str | None:
    """The config fingerprint a run directory's summary records, when it can be read."""
    try:
        return read_summary(Path(run_dir)).get("config_sha")
    except Unreadable:
        return None


# --------------------------------------------------------------------------- arrays of one run


def read_curve(run_dir: Path, columns: list[str] | None = None) -> np.ndarray:
    """Rows of ``metrics.csv`` as floats, one column per name (``epoch`` first; NaN where not
    recorded), or every column of its header."""
    data = whole_lines((Path(run_dir) / METRICS_FILE).read_bytes(), running=True)
    return parse_rows(data, columns_of(data) if columns is None else columns)


def has_params(run_dir: Path) -> bool:
    return (Path(run_dir) / PARAMS_FILE).is_file()


def read_params(run_dir: Path, which: str = "final") -> dict[str, np.ndarray]:
    """A run's saved parameters, ``which`` = ``initial`` or ``final``: ``{"W1": ..., "b1": ...}``."""
    with np.load(Path(run_dir) / PARAMS_FILE) as saved:
        suffix = f"_{which}"
        return {name.removesuffix(suffix): saved[name] for name in saved.files if name.endswith(suffix)}
