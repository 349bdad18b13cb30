"""``python -m src.runs diff A B``: what differs between two runs, or two settings of a sweep.

    python -m src.runs diff outputs/sweeps/X/3 outputs/sweeps/X/7        two runs
    python -m src.runs diff outputs/sweeps/X --a lr=0.1 --b lr=1.0       two settings of one sweep
    python -m src.runs diff outputs/sweeps/X outputs/sweeps/Y            two whole sweeps

Each side is every run below its directory (B's directory is A's when only one is given),
narrowed by ``--a KEY=VALUE`` (``--b`` for B; repeat for more keys; ``VALUE`` may be ``v1,v2``
for either, as in the catalog's ``--where``). Two tables come out, each holding only the rows
that differ:

* **config**: every config key whose value differs. A side of several runs shows a key's
  value when its runs agree, ``(n values: a, b, c, ...)`` when they do not; a key that takes the
  same values on both sides (the seeds of two settings, say) is no difference between them, and
  one that takes other values is (two sweeps over other seeds).
* **results**: the statuses, and for one run its final ``loss``, ``mae``, ``mse``,
  ``accuracy``, whether it solved the task, its epochs to the target and epochs run; for
  several runs the median of each over the finished runs (``completed`` or ``diverged``; a
  diverged run's final error counts as ``inf``) and the success rate (solved / finished), as
  in the report's settings table.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from .report.api import FIRST, LAST, load_runs
from .report.measures import FINISHED, final_values
from .report.tables import STATUSES, ReportInputError
from .where import matches

RESULTS = ["final_loss", "final_mae", "final_mse", "final_accuracy", "epochs_to_target", "epochs_run"]
NOT_CONFIG = {*FIRST, *LAST} - {"seed"}


class DiffError(Exception):
    """The runs asked for cannot be found: told in one paragraph."""


def column_of(runs: pd.DataFrame, key: str) -> str:
    """The config column named ``key``, or the one whose dotted name ends in ``.key``."""
    if key in runs.columns:
        return key
    endings = [column for column in runs.columns if column.endswith("." + key)]
    if len(endings) == 1:
        return endings[0]
    hint = f" It could be any of: {', '.join(endings)}." if endings else ""
    known = ", ".join(column for column in runs.columns if column not in NOT_CONFIG)
    raise DiffError(f"Unknown key {key!r}.{hint} Known keys: {known}.")


def side(runs: pd.DataFrame, where: list[str], name: str, directory: str) -> pd.DataFrame:
    """The runs of one side: those of ``runs`` that match every ``key=value[,value]`` of ``where``."""

    keep = pd.Series(True, index=runs.index)
    for condition in where:
        key, sep, values = condition.partition("=")
        if not sep or not key.strip():
            raise DiffError(f"--{name.lower()} wants key=value (or key=value1,value2), not {condition!r}.")
        column = column_of(runs, key.strip())
        keep &= matches(runs[column], values.split(","))
    chosen = runs[keep]
    if chosen.empty:
        conditions = " and ".join(where)
        raise DiffError(f"No run below {directory} matches {conditions} (side {name}): "
                        f"see the runs there with python -m src.runs {directory}.")  # fmt: skip
    return chosen


SHOWN_VALUES = 3  # of a key that varies within a side, the first few values shown


def value_texts(column: pd.Series) -> list[str]:
    """A key's distinct values on one side, as text, in the order the runs have them."""
    return list(column.map(lambda v: "null" if v is None or v != v else str(v)).unique())


def config_value(column: pd.Series) -> str:
    values = value_texts(column)
    if len(values) == 1:
        return values[0]
    more = ", ..." if len(values) > SHOWN_VALUES else ""
    return f"({len(values)} values: {', '.join(values[:SHOWN_VALUES])}{more})"


def number(value) -> str:
    return "–" if pd.isna(value) else f"{value:.6g}"


def results_of(runs: pd.DataFrame) -> dict[str, str]:
    counts = runs["status"].value_counts()
    results = {"status": ", ".join(f"{counts[s]} {s}" if len(runs) > 1 else s for s in STATUSES if counts.get(s))}
    if len(runs) == 1:
        row = runs.iloc[0]
        results.update({name: number(row[name]) for name in RESULTS})
        results["solved"] = "yes" if row["solved"] else "no"
        return results
    finished = runs[runs["status"].isin(FINISHED)]
    for name in RESULTS:
        values = final_values(finished, name.removeprefix("final_")) if name.startswith("final_") else finished[name]
        results[f"{name} (median)"] = number(values.astype(float).median())
    results["success rate"] = f"{int(finished['solved'].sum())}/{len(finished)}"
    return results


def differences(a: pd.DataFrame, b: pd.DataFrame) -> tuple[list[tuple], list[tuple]]:
    """The config keys and the results whose text differs between the sides, as (name, A, B) rows."""
    keys = [key for key in dict.fromkeys([*a.columns, *b.columns]) if key not in NOT_CONFIG]
    config = []
    for key in keys:
        if key in a and key in b and set(value_texts(a[key])) == set(value_texts(b[key])):
            continue  # the same value, or the same values over the runs of each side (their seeds, say)
        va = config_value(a[key]) if key in a else "(absent)"
        vb = config_value(b[key]) if key in b else "(absent)"
        config.append((key, va, vb))
    ra, rb = results_of(a), results_of(b)
    results = [(name, ra[name], rb[name]) for name in ra if ra[name] != rb[name]]
    return config, results


def table_text(heading: str, rows: list[tuple]) -> str:
    if not rows:
        return f"{heading}: no difference"
    rows = [(heading, "A", "B"), *rows]
    widths = [max(len(str(row[i])) for row in rows) for i in range(3)]
    return "\n".join("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def describe(name: str, directory: str, where: list[str], runs: pd.DataFrame) -> str:
    what = f" where {' and '.join(where)}" if where else ""
    return f"{name}: {directory}{what}: {len(runs)} run{'s' if len(runs) != 1 else ''}"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m src.runs diff",
        description="The config keys and results that differ between two runs, or two settings of a sweep.",
        epilog=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("a", metavar="A", help="a run directory, or a sweep (all its runs, or those of --a)")
    p.add_argument("b", metavar="B", nargs="?", help="the same for side B (default: A)")
    p.add_argument("--a", dest="where_a", action="append", default=[], metavar="KEY=VALUE", help="narrow side A")
    p.add_argument("--b", dest="where_b", action="append", default=[], metavar="KEY=VALUE", help="narrow side B")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    dir_b = args.b or args.a
    try:
        all_a = load_runs(args.a)
        all_b = all_a if dir_b == args.a else load_runs(dir_b)
        a = side(all_a, args.where_a, "A", args.a)
        b = side(all_b, args.where_b, "B", dir_b)
    except (ReportInputError, DiffError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    config, results = differences(a, b)
    print(describe("A", args.a, args.where_a, a))
    print(describe("B", dir_b, args.where_b, b))
    print()
    print(table_text("config", config))
    print()
    print(table_text("results", results))
    return 0
