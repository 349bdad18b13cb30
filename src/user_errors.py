"""Errors a user can cause, told in one paragraph: the key, the value, what is allowed.

Hydra reports a bad override in several lines with its search path; a run reports a bad
value as ``ConfigError``. ``describe`` turns either into one paragraph, and ``cli`` runs an
entry point so that such errors end with that paragraph and exit code 2, without a
traceback unless ``HYDRA_FULL_ERROR=1`` asks for one. Ctrl-C and SIGTERM end it in one line
too, with exit code 130 or 143 (128 + the signal's number), as a shell reports them.
"""

from __future__ import annotations

import difflib
import logging
import os
import shlex
import sys
import traceback
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from pathlib import Path

from hydra.core.override_parser.types import Override
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf.errors import OmegaConfBaseException

from .errors import ConfigError, silence_stdout
from .interruption import install, signal_name_and_exit_code, signalled, stop_if_signalled

EXIT_USER_ERROR = 2


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def _omegaconf_paragraph(error: OmegaConfBaseException) -> str:
    key = getattr(error, "full_key", None)
    message = _first_line(str(error))
    return f"Invalid value for '{key}': {message}." if key else f"{message}."


def _raised_in(error: BaseException, package: str) -> bool:
    """Did ``error`` come from inside a module of Hydra's ``package`` (its traceback passes through it)?"""
    return any(f"/{package}/" in frame.f_code.co_filename for frame, _ in traceback.walk_tb(error.__traceback__))


def _bad_group_choice(error: BaseException) -> str | None:
    """Hydra meets a config group given a value that is not a name (``optimizer=-1``, ``optimizer=[0]``,
    ``dataset=null``) with a bare ``ValueError`` or ``TypeError`` from its defaults list: told here."""
    frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__)]
    if not isinstance(error, (ValueError, TypeError)) or not frames:
        return None
    if Path(frames[-1].f_code.co_filename).parent.name != "_internal" or not any(
        frame.f_code.co_filename.endswith("defaults_list.py") for frame in frames
    ):
        return None
    override = next(
        (value for frame in reversed(frames) for value in frame.f_locals.values() if isinstance(value, Override)),
        None,
    )
    allowed = "the name of one of the group's options (listed by `python -m src.run --help`)"
    if override is not None:
        return f"Invalid value for '{override.key_or_group}': {override.input_line!r}. Allowed: {allowed}."
    default = frames[-1].f_locals.get("d")  # the group's entry of the defaults list, being expanded
    group, value = getattr(default, "group", None), getattr(default, "value", None)
    if isinstance(group, str):
        return f"Invalid value for '{group}': {value!r}. Allowed: {allowed}."
    return f"Invalid choice of a config group: {_first_line(str(error))}. Allowed: {allowed}."


def known_keys() -> list[str]:
    """Every key of the config, dotted: ``lr``, ..., ``model``, ``model.hidden``, ..., ``resume``."""
    from .config import Config

    def keys_of(section, prefix: str) -> list[str]:
        found = []
        for entry in fields(section):
            key, value = prefix + entry.name, getattr(section, entry.name)
            found.append(key)
            if is_dataclass(value):
                found += keys_of(value, key + ".")
        return found

    return keys_of(Config(), "")


def nearest_keys(key: str, known: list[str]) -> list[str]:
    """The known keys closest to a mistyped one: those ending in it (``eps`` -> ``optimizer.eps``), else the
    closest by whole key (``lrr`` -> ``lr``), else by last part (``betta1`` -> ``optimizer.beta1``)."""

    def similarity(a: str, b: str) -> float:
        return difflib.SequenceMatcher(None, a, b).ratio()

    last = key.rsplit(".", 1)[-1]
    ending = [k for k in known if k.rsplit(".", 1)[-1] == last]
    if ending:
        return ending[:3]
    for score, cutoff in ((lambda k: similarity(key, k), 0.6), (lambda k: similarity(last, k.rsplit(".", 1)[-1]), 0.75)):
        scores = {k: score(k) for k in known}
        best = max(scores.values(), default=0.0)
        if best >= cutoff:
            return [k for k in known if scores[k] >= best - 0.02][:3]
    return []


def _unknown_key(key: str) -> str:
    where = "--cfg hydra" if key.startswith("hydra.") else "--cfg job"
    close = [] if key.startswith("hydra.") else nearest_keys(key, known_keys())
    guess = f" Did you mean {' or '.join(f'`{k}`' for k in close)}?" if close else ""
    return f"Unknown key '{key}': the config has no such entry.{guess} Every key is listed by `python -m src.run {where}`."


def describe(error: BaseException) -> str | None:
    """One paragraph for an error the user caused, or ``None`` for anything else (a bug)."""
    if isinstance(error, ConfigError):
        return str(error)
    if isinstance(error, ValueError) and str(error).startswith("Only one of --run, --multirun"):
        return f"{_first_line(str(error))}: -m (--multirun) runs a sweep, --cfg prints a config; use one of them."
    if isinstance(error, OSError) and error.filename is not None:  # the output directory cannot be written
        return (
            f"Cannot write to {str(error.filename)!r}: {error.strerror or type(error).__name__}. Allowed: a "
            f"directory this user can create and write, given by hydra.run.dir=... (a sweep: hydra.sweep.dir=...)."
        )
    if isinstance(error, ValueError) and _raised_in(error, "override_parser"):  # a sweep such as range(0,1,0)
        return f"Cannot expand a sweep of the command line: {_first_line(str(error))}."
    bad_choice = _bad_group_choice(error)
    if bad_choice is not None:
        return bad_choice
    if isinstance(error, MissingConfigException) and error.missing_cfg_file and "/" in error.missing_cfg_file:
        group, _, option = error.missing_cfg_file.rpartition("/")
        allowed = ", ".join(error.options or []) or "none found"
        return f"Invalid value for '{group}': {option!r} is not a known choice. Allowed: {allowed}."
    if isinstance(error, OverrideParseException):
        return f"Cannot parse the override {error.override!r}: {_first_line(error.message)}."
    cause = error.__cause__
    if isinstance(error, HydraException) and isinstance(cause, OmegaConfBaseException):
        first = _first_line(str(error))
        if first.startswith("Could not override"):
            return _unknown_key(first.split("'")[1])
        return _omegaconf_paragraph(cause)
    if isinstance(error, HydraException):
        return " ".join(line.strip() for line in str(error).strip().splitlines() if line.strip())
    if isinstance(error, OmegaConfBaseException):
        return _omegaconf_paragraph(error)
    return None


def _exit_interrupted(interruption: KeyboardInterrupt) -> None:
    """End an interrupted entry point in one line, with the shell's code for the signal (130 or 143)."""
    name, code = signal_name_and_exit_code(interruption)
    command = resume_command()
    then = (
        f"finish the sweep with:\n  {command}"
        if command
        else "a sweep is finished by running it again into its directory (hydra.sweep.dir=...) with resume=true."
    )
    print(
        f"\nInterrupted ({name}): the runs in progress are marked interrupted in their summary.json; {then}",
        file=sys.stderr,
    )
    sys.exit(code)


_sweep_dir: str | None = None  # the directory of the sweep this process runs, once it has begun


def note_sweep(sweep_dir) -> None:
    """Remember the sweep's directory, for the resume command an interruption prints."""
    global _sweep_dir
    _sweep_dir = str(sweep_dir)


def resume_command() -> str | None:
    """The command that finishes the interrupted sweep, ready to paste; ``None`` outside a sweep."""
    if _sweep_dir is None:
        return None
    from .provenance import command_line

    kept = [arg for arg in shlex.split(command_line()) if not arg.startswith(("hydra.sweep.dir=", "resume="))]
    return shlex.join([*kept, f"hydra.sweep.dir={_sweep_dir}", "resume=true"])


_SHOW_TRACEBACKS = False  # set by cli: HYDRA_FULL_ERROR=1 was asked for


def stop_for(error: Exception) -> None:
    """End a single run on a user's error from inside the task, before Hydra adds its own line."""
    paragraph = describe(error)
    if _SHOW_TRACEBACKS or paragraph is None:
        raise error
    print(f"Error: {paragraph}", file=sys.stderr)
    raise SystemExit(EXIT_USER_ERROR)


def cli(entry_point: Callable[[], object]) -> None:
    """Run a Hydra entry point; a user's error ends in one paragraph on stderr and exit code 2."""
    install()  # Ctrl-C and SIGTERM, from here on: the runs in progress are marked interrupted
    global _SHOW_TRACEBACKS
    wants_traceback = _SHOW_TRACEBACKS = os.environ.get("HYDRA_FULL_ERROR") == "1"
    logging.raiseExceptions = wants_traceback  # a log line to a closed pipe (``| head``) is dropped, not told
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let Hydra's errors reach us whole, to be told in one paragraph
    try:
        entry_point()
        stop_if_signalled()  # a signal dropped where it arrived still ends the command as interrupted
    except BrokenPipeError:  # the reader went away (``| head``): nothing more to say
        silence_stdout()  # no second error at exit
    except Exception as error:
        if signalled() and not wants_traceback:  # code the signal stopped failed on its way out (OmegaConf,
            _exit_interrupted(KeyboardInterrupt(f"signal {signalled()}"))  # mid-composition): the interruption
        paragraph = describe(error)
        if wants_traceback or paragraph is None:
            raise
        print(f"Error: {paragraph}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt as interruption:  # Ctrl-C or SIGTERM: the runs are already marked interrupted
        if wants_traceback:
            raise
        _exit_interrupted(interruption)
    finally:
        if not wants_traceback:
            os.environ.pop("HYDRA_FULL_ERROR", None)
