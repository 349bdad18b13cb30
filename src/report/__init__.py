"""Reports on sweeps: read run directories from disk, measure, draw, write one HTML page.

    python -m src.report [DIRS...] [--metric M] [--target T] [--out DIR]

or from Python, ``make_report(sweep_dirs, out_dir=None, metric="loss", target=None)``, and the
runs and curves as pandas tables: ``load_runs(dirs)``, ``load_curves(dirs)`` (see ``api``).
The modules, in the order the data flows: ``load`` (disk -> tables), ``measures``,
``surfaces`` and ``article`` (what is computed from the tables), ``figures`` and ``html``
(how it is shown), ``make`` (all of it together), ``callback`` (at the end of a sweep),
``api`` (the tables for a user's own analysis).

Importing this package is cheap: pandas and matplotlib load only when a report is made,
so the Hydra callback costs a single run nothing.
"""

from __future__ import annotations

from pathlib import Path


def make_report(
    sweep_dirs: list[str | Path] | str | Path,
    out_dir: str | Path | None = None,
    metric: str = "loss",
    target: float | None = None,
) -> Path:
    """Write the report of the runs below ``sweep_dirs``; returns the path of ``report.html``.

    See ``src.report.make.make_report``.
    """
    from .make import make_report as make

    return make(sweep_dirs, out_dir=out_dir, metric=metric, target=target)


def __getattr__(name: str):
    """``load_runs`` and ``load_curves``, imported (with pandas) on first use."""
    if name in ("load_runs", "load_curves"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["make_report", "load_runs", "load_curves"]
