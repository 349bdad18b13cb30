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
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from .config import Config
from .errors import ConfigError
from .jobs import to_config
from .population import run_population
from .provenance import code_and_machine
from .tracking import METRICS_FILE, SUMMARY_FILE
from .user_errors import cli

CONFIG_FILE = Path(".hydra") / "config.yaml"
OVERRIDES_FILE = Path(".hydra") / "overrides.yaml"


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
        return json.loads((run_dir / SUMMARY_FILE).read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return None


def main(argv: list[str] | None = None) -> int:
    """Re-run, print where it went and whether ``metrics.csv`` matches; 1 when it does not (or the run failed)."""
    args = parser().parse_args(argv)
    out = args.out if args.out is not None else default_out(args.run_dir)
    try:
        rerun(args.run_dir, out)
    except ConfigError:
        raise  # one paragraph and exit code 2, by ``cli``
    except Exception as error:  # recorded as failed in the new run directory, its traceback beside it
        print(f"The re-run failed ({type(error).__name__}: {error}); see {out / 'traceback.txt'}.")
        return 1
    status = json.loads((out / SUMMARY_FILE).read_text())["status"]
    print(f"Re-ran {args.run_dir} into {out} ({status}).")
    before = original_status(args.run_dir)
    if before not in ("completed", "diverged"):
        print(f"The original run did not finish (status {before}): no {METRICS_FILE} to compare with.")
        return 0
    identical = same_bytes(args.run_dir / METRICS_FILE, out / METRICS_FILE)
    print(f"{METRICS_FILE} is {'byte-identical to' if identical else 'NOT identical to'} the original's.")
    return 0 if identical else 1


def entry_point() -> None:
    code = main()
    if code:
        sys.exit(code)


if __name__ == "__main__":
    cli(entry_point)
