"""What a run directory holds: its files, the statuses a run goes through, the summary's schema.

This module is the one place that names them; the writer, the reader, the catalog, the
re-run, resume and the report all take the names from here.

    <run>/metrics.csv          ``epoch,<metric>,...``: one row per logged epoch, floats exact
          summary.json         status, final metrics, seed, epochs, times, provenance, format
          params.npz           ``W1_initial``, ``W1_final``, ... (``b1_...`` with biases)
          predictions.npz      inputs, outputs, targets, when too many for summary.json
          traceback.txt        beside a failed or interrupted run's summary
          .hydra/config.yaml   the composed config (Hydra's, or the batched launcher's copy)
          .hydra/overrides.yaml, .hydra/hydra.yaml

A sweep directory holds one run directory per job and ``multirun.yaml``; while a sweep
writes into it, also ``.sweep.lock`` (``claim``).
"""

from __future__ import annotations

from pathlib import Path

METRICS_FILE = "metrics.csv"
SUMMARY_FILE = "summary.json"
PARAMS_FILE = "params.npz"
PREDICTIONS_FILE = "predictions.npz"
TRACEBACK_FILE = "traceback.txt"
CONFIG_FILE = Path(".hydra") / "config.yaml"
OVERRIDES_FILE = Path(".hydra") / "overrides.yaml"
SWEEP_FILE = "multirun.yaml"
CLAIM_FILE = ".sweep.lock"  # held by the sweep writing into the directory (claim)

# Version 1: summaries without ``format``; predictions always inside summary.json.
# Version 2: ``format`` in summary.json; large predictions in predictions.npz, ``solved`` recorded.
FORMAT = 2

# The statuses a run directory can record, and what each means.
RECORDED = {
    "running": "training, or stopped too hard to say so (then read as unfinished)",
    "completed": "trained every epoch it was asked for",
    "diverged": "its outputs stopped being finite; it kept the rows before that",
    "failed": "an error stopped it (the message in summary.json, the traceback beside it)",
    "interrupted": "Ctrl-C or SIGTERM stopped it; it kept the rows it wrote",
}
ENDED = tuple(status for status in RECORDED if status != "running")  # completed, diverged, failed, interrupted
# What a reader can say beyond them: ``running`` whose process is gone, or a job whose
# sweep never reached it, is ``unfinished``; a run whose files cannot be read, ``unreadable``.
STATUSES = (*ENDED, "unfinished", "running", "unreadable")

# The fields of summary.json a reader relies on, each of this type when present (null allowed).
SUMMARY_FIELDS = {
    "format": (int, "an integer"),
    "final": (dict, "a mapping of metric names to numbers"),
    "predictions": (dict, "a mapping of inputs, outputs and targets"),
    "solved": (bool, "true or false"),
    "epochs_run": (int, "an integer"),
    "epochs_planned": (int, "an integer"),
    "epochs_to_target": (int, "an integer"),
    "metrics_rows": (int, "an integer"),
    "diverged_at_epoch": (int, "an integer"),
    "seed": (int, "an integer"),
    "pid": (int, "an integer"),
    "wall_time_s": ((int, float), "a number"),
    "started_at": (str, "a time"),
    "host": (str, "a host name"),
    "error": (str, "an error message"),
    "config_sha": (str, "a config fingerprint"),
}

# Predictions with more values than this (samples x (inputs + 2 outputs)) go to predictions.npz.
PREDICTIONS_IN_SUMMARY = 256


class Unreadable(Exception):
    """One file of one run cannot be read; the message names the file and what is wrong."""
