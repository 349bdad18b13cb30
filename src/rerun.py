"""Run one run again from its directory alone: ``python -m src.rerun RUN_DIR [--out DIR]``.

The run's saved config (``RUN_DIR/.hydra/config.yaml``, the job config Hydra or the batched
launcher wrote, interpolations and all) must hold every key of the schema (a file cut short
would otherwise be filled in by defaults), and is checked by the same schema and the same
checks as a fresh run (``Config``, then ``jobs.to_config``), trained alone by ``run_population``
into a new run directory, by default ``RUN_DIR/rerun-<UTC time>`` (inside the run, so that a
sweep's catalog and report, which do not look inside runs, are not changed by it). Nothing
of ``RUN_DIR`` itself is written. Since a network trains to the same numbers alone or in a
population, the new ``metrics.csv`` is byte-identical to the original's; the command says
whether it is.

A missing, corrupt or invalid config ends in one paragraph and exit code 2; a run that
fails ends with exit code 1 (its traceback in ``traceback.txt``), Ctrl-C with 130.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from .config import Config
from .errors import ConfigError
from .jobs import to_config
from .population import run_population
from .provenance import code_and_machine
from .rundir.layout import CONFIG_FILE, METRICS_FILE, OVERRIDES_FILE, TRACEBACK_FILE, Unreadable
from .rundir.reader import read_curve, read_summary
from .user_errors import cli

TOLERANCE = 1e-6  # relative: what "equal" means between machines whose NumPy rounds exp differently


def missing_keys(schema: DictConfig, loaded: DictConfig, prefix: str = "") -> list[str]:
    """The dotted keys of ``schema`` that ``loaded`` lacks (its values are not looked at)."""
    missing = []
    for key in schema.keys():
        name = f"{prefix}{key}"
        if key not in loaded:
            missing.append(name)
        elif OmegaConf.is_dict(schema._get_node(key)) and OmegaConf.is_dict(loaded._get_node(key)):
            missing += missing_keys(schema._get_node(key), loaded._get_node(key), f"{name}.")
    return missing


def saved_config(run_dir: Path) -> Config:
    """The typed, validated config saved in ``run_dir``; raises ``ConfigError`` naming what is wrong."""
    path = run_dir / CONFIG_FILE
    if not run_dir.is_dir():
        raise ConfigError("RUN_DIR", str(run_dir), f"the directory of a run (it holds {CONFIG_FILE})")
    if not path.is_file():
        raise ConfigError(
            "RUN_DIR", str(run_dir), f"a run directory holding {CONFIG_FILE}, the config the run was made with"
        )
    unreadable = f"a YAML mapping of config keys, as Hydra saves it in {CONFIG_FILE}"
    try:
        loaded = OmegaConf.load(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, OmegaConfBaseException) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError("RUN_DIR", str(run_dir), f"{unreadable}; that file cannot be read ({first})") from None
    if not OmegaConf.is_dict(loaded):
        raise ConfigError("RUN_DIR", str(run_dir), f"{unreadable}; that file holds no mapping")
    for key in added_keys(run_dir):  # ``+key=value`` at the command line: no part of the schema, nor of training
        OmegaConf.update(loaded, key, None, force_add=True)
        parent, _, leaf = key.rpartition(".")
        node = OmegaConf.select(loaded, parent) if parent else loaded
        if OmegaConf.is_dict(node) and leaf in node:
            del node[leaf]
    missing = missing_keys(OmegaConf.structured(Config), loaded)
    if missing:  # a saved config holds every key; one without some was cut short, and defaults would stand in
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ConfigError("RUN_DIR", str(run_dir), f"{unreadable}, every key of the schema in it; missing: {shown}")
    try:  # the same schema a fresh run is composed into: unknown keys and wrong types are refused
        merged = OmegaConf.merge(OmegaConf.structured(Config), loaded)
    except ConfigKeyError as error:
        key = getattr(error, "full_key", None) or "config"
        value = OmegaConf.select(loaded, key, default=None, throw_on_resolution_failure=False)
        raise ConfigError(key, value, f"no such key in the schema ({path})") from None
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or "config"
        raise ConfigError(key, getattr(error, "value", None), f"{str(error).splitlines()[0]} (in {path})") from None
    return to_config(merged)


def added_keys(run_dir: Path) -> list[str]:
    """The keys the run's command line added to the config (``+key=value``), outside the schema."""
    return [o.split("=", 1)[0].lstrip("+") for o in saved_overrides(run_dir) or [] if o.startswith("+") and "=" in o]


def saved_overrides(run_dir: Path) -> list[str] | None:
    """The command-line overrides the run was made with, when they were saved and can be read."""
    try:
        overrides = yaml.safe_load((run_dir / OVERRIDES_FILE).read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return [str(o) for o in overrides] if isinstance(overrides, list) else None


def default_out(run_dir: Path) -> Path:
    return run_dir / f"rerun-{datetime.now(UTC).strftime('%Y-%m-%dT%H-%M-%S.%fZ')}"


def check_out(run_dir: Path, out: Path) -> None:
    """``out`` must be a new or empty directory, and not ``run_dir``: a re-run never overwrites a run."""
    if out.resolve() == run_dir.resolve():
        raise ConfigError("--out", str(out), "a directory other than RUN_DIR (a re-run never overwrites the run)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError("--out", str(out), "a new or empty directory (a re-run never overwrites files)")


def same_bytes(a: Path, b: Path) -> bool | None:
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return None


def rerun(run_dir: Path, out: Path | None = None) -> Path:
    """Train the run saved in ``run_dir`` again into ``out`` (a new directory); return ``out``.

    Raises ``ConfigError`` for a missing, corrupt or invalid config or an ``out`` that is taken.
    """
    run_dir = Path(run_dir)
    config = saved_config(run_dir)
    out = Path(out) if out is not None else default_out(run_dir)
    check_out(run_dir, out)
    (out / CONFIG_FILE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / CONFIG_FILE, out / CONFIG_FILE)  # the new directory is a run of its own, re-runnable
    if (run_dir / OVERRIDES_FILE).is_file():
        shutil.copyfile(run_dir / OVERRIDES_FILE, out / OVERRIDES_FILE)
    provenance = {**code_and_machine(), "overrides": saved_overrides(run_dir), "rerun_of": str(run_dir.resolve())}
    run_population([config], [out], provenance=[provenance])
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m src.rerun",
        description="Run one run again from its directory alone (its saved .hydra/config.yaml, validated as a "
        "fresh run's), into a new directory; says whether metrics.csv is byte-identical to the original's.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="the run's directory, such as outputs/sweeps/X/3")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where to write the new run (new or empty; default RUN_DIR/rerun-<time>)",
    )
    return p


def original_status(run_dir: Path) -> str | None:
    try:
        return read_summary(run_dir).get("status")
    except Unreadable:
        return None


def cpu_features(run_dir: Path) -> list[str] | None:
    try:
        return read_summary(run_dir).get("cpu_features")
    except Unreadable:
        return None


def largest_difference(original: Path, new: Path) -> float | None:
    """The largest relative difference between two runs' metrics, epoch by epoch; ``None`` if they
    cannot be compared (other epochs, other columns, unreadable)."""
    try:
        a, b = read_curve(original), read_curve(new)
    except (OSError, Unreadable):
        return None
    if a.shape != b.shape or not np.array_equal(a[:, 0], b[:, 0]):
        return None
    scale = np.maximum(np.abs(a[:, 1:]), np.abs(b[:, 1:]))
    difference = np.abs(a[:, 1:] - b[:, 1:]) / np.where(scale > 0, scale, 1.0)
    return float(np.nanmax(difference)) if difference.size else 0.0


def verdict(original: Path, new: Path) -> tuple[str, bool]:
    """What to say of the new ``metrics.csv`` against the original's, and whether that is a success.

    Byte-identical holds on one machine (same NumPy, same CPU features); between machines whose
    CPU features differ, NumPy's ``exp`` may round the last bit differently, and the runs agree
    within ``TOLERANCE`` (relative) instead.
    """
    if same_bytes(original / METRICS_FILE, new / METRICS_FILE):
        return f"{METRICS_FILE} is byte-identical to the original's.", True
    difference = largest_difference(original, new)
    before, now = cpu_features(original), cpu_features(new)
    machines = (
        f" The original ran on a CPU with other features ({', '.join(sorted(set(before) ^ set(now)))} differ), "
        "where NumPy's exp may round the last bit differently."
        if before is not None and now is not None and set(before) != set(now)
        else " Both ran with the same CPU features, where byte-identical is expected."
        if before is not None and now is not None
        else ""
    )
    if difference is None:
        return f"{METRICS_FILE} is NOT identical to the original's, and cannot be compared row by row.{machines}", False
    within = difference <= TOLERANCE
    said = f"equal within a relative {TOLERANCE:g}" if within else f"different beyond a relative {TOLERANCE:g}"
    return (
        f"{METRICS_FILE} is NOT byte-identical to the original's: {said} (largest relative difference {difference:.3g})."
        f"{machines}",
        within and bool(machines) and set(before or []) != set(now or []),
    )


def main(argv: list[str] | None = None) -> int:
    """Re-run, print where it went and whether ``metrics.csv`` matches; 1 when it does not (or the run failed)."""
    args = parser().parse_args(argv)
    out = args.out if args.out is not None else default_out(args.run_dir)
    try:
        rerun(args.run_dir, out)
    except ConfigError:
        raise  # one paragraph and exit code 2, by ``cli``
    except Exception as error:  # recorded as failed in the new run directory, its traceback beside it
        print(f"The re-run failed ({type(error).__name__}: {error}); see {out / TRACEBACK_FILE}.")
        return 1
    status = read_summary(out)["status"]
    print(f"Re-ran {args.run_dir} into {out} ({status}).")
    before = original_status(args.run_dir)
    if before not in ("completed", "diverged"):
        print(f"The original run did not finish (status {before}): no {METRICS_FILE} to compare with.")
        return 0
    said, agrees = verdict(args.run_dir, out)
    print(said)
    return 0 if agrees else 1


def entry_point() -> None:
    code = main()
    if code:
        sys.exit(code)


if __name__ == "__main__":
    cli(entry_point)
