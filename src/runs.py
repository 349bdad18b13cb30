"""The run catalog: ``python -m src.runs [DIRS...] [--status S] [--where key=value ...] [--sort COLUMN] [--csv]``.

One line per run: its directory, status, the config values that vary between the runs,
seed, final loss and epochs run. Runs are found at any depth below each directory (the
latest sweep under ``outputs/sweeps`` when none is given) by the same loader as the report
(``src.report.tables``, over ``src.rundir.reader``), so both agree on every status: a run marked ``running`` whose
process is gone shows as ``unfinished``, a run with a damaged file as ``unreadable``.

The catalog checks the header and the last line of each ``metrics.csv`` (enough to catch a
truncated file); the report parses every line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from .errors import silence_stdout
from .report.tables import STATUSES, ReportInputError, Sweep, latest_sweep, load_sweeps
from .tags import LABEL_KEYS, tagged, with_labels
from .where import matches

EXAMPLES = """\
examples:
  python -m src.runs                                   the latest sweep under outputs/sweeps
  python -m src.runs outputs/ --status failed --sort final_loss
  python -m src.runs outputs/sweeps/X --where hidden=4 --where lr=0.1,0.5
  python -m src.runs outputs/sweeps/X --csv > runs.csv
  python -m src.runs outputs/ --tag baseline           runs whose config has tags=[baseline,...]
  python -m src.runs diff A B                          what differs between two runs (python -m src.runs diff -h)
"""


class CatalogError(Exception):
    """A filter or a sort the user asked for does not fit the runs: told in one paragraph."""


def catalog_table(sweep: Sweep) -> pd.DataFrame:
    """The catalog's columns: path, status, varying values, seed, final loss, epochs run and planned, problem."""
    runs = sweep.runs
    varying = [key for key in sweep.varying if key not in ("seed", *LABEL_KEYS)]
    columns = ["path", "status", *varying, "seed", "final_loss", "epochs_run", "epochs_planned", "problem"]
    return with_labels(runs[columns], sweep.config, before="problem").drop(columns="notes", errors="ignore")


def find_key(sweep: Sweep, table: pd.DataFrame, key: str) -> tuple[str, pd.Series]:
    """The column named ``key``: a catalog column, a config key, or the one config key ending in ``.key``."""
    if key in table.columns:
        return key, table[key]
    if key in sweep.config.columns:
        return key, sweep.config[key]
    endings = [k for k in sweep.config.columns if k.endswith("." + key)]
    if len(endings) == 1:
        return endings[0], sweep.config[endings[0]]
    known = ", ".join([*table.columns, *[k for k in sweep.config.columns if k not in table.columns]])
    hint = f" It could be any of: {', '.join(endings)}." if endings else ""
    raise CatalogError(f"Unknown key {key!r}.{hint} Known keys: {known}.")


def select(sweep: Sweep, table: pd.DataFrame, statuses: list[str], wheres: list[str]) -> pd.DataFrame:
    """Runs with one of ``statuses`` (all when empty) and every ``key=value[,value...]`` of ``wheres``."""
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        raise CatalogError(f"Unknown status {unknown[0]!r}. Allowed: {', '.join(STATUSES)}.")
    keep = table["status"].isin(statuses) if statuses else pd.Series(True, index=table.index)
    for condition in wheres:
        key, sep, values = condition.partition("=")
        if not sep or not key:
            raise CatalogError(f"--where wants key=value (or key=value1,value2), not {condition!r}.")
        _, column = find_key(sweep, table, key.strip())
        keep &= matches(column, values.split(","))
    return table[keep]


def sort(sweep: Sweep, table: pd.DataFrame, column: str | None, reverse: bool) -> pd.DataFrame:
    """Sorted by ``column`` (numbers by value, missing values last); the loader's order otherwise."""
    if column is None:
        return table.iloc[::-1] if reverse else table
    _, values = find_key(sweep, table, column)
    values = values.loc[table.index]
    numeric = pd.to_numeric(values, errors="coerce")
    key = numeric if numeric.notna().sum() >= values.notna().sum() else values.astype(str)
    order = key.sort_values(ascending=not reverse, na_position="last", kind="stable").index
    return table.loc[order]


def text_table(table: pd.DataFrame) -> str:
    """Aligned columns; numbers to 6 significant digits; epochs as ``run/planned``.

    That column is ``epochs``, or ``epochs_run`` when ``epochs`` is a config value that varies.
    """
    shown = table.drop(columns=["epochs_run", "epochs_planned"]).copy()
    shown.insert(
        shown.columns.get_loc("final_loss") + 1,
        "epochs" if "epochs" not in shown.columns else "epochs_run",
        [
            f"{'–' if pd.isna(r) else r}/{'–' if pd.isna(p) else p}"
            for r, p in zip(table["epochs_run"], table["epochs_planned"])
        ],
    )
    shown["final_loss"] = [f"{v:.6g}" if pd.notna(v) else "–" for v in shown["final_loss"]]
    shown["problem"] = shown["problem"].fillna("")
    text_columns = [c for c in ("path", "status", "problem") if c in shown]
    widths = {c: max(len(c), *(len(str(v)) for v in shown[c])) for c in text_columns}
    left = {c: (lambda v, w=widths[c]: str(v).ljust(w)) for c in text_columns}  # text reads best aligned left
    text = shown.to_string(index=False, formatters=left, justify="left")
    return "\n".join(line.rstrip() for line in text.splitlines())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m src.runs",
        description="List the runs below one or more directories (default: the latest sweep under outputs/sweeps), "
        "one line each: status, the config values that vary, seed, final loss, epochs run.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dirs", nargs="*", metavar="DIRS", help="sweep or run directories, searched at any depth")
    p.add_argument(
        "--status", action="append", default=[], metavar="S",
        help=f"only runs with this status (repeat, or separate by commas): {', '.join(STATUSES)}",
    )  # fmt: skip
    p.add_argument(
        "--where", action="append", default=[], metavar="KEY=VALUE",
        help="only runs whose config has this value (repeat for more conditions; VALUE may be a,b for either); "
        "KEY is a config key such as lr, model.activation or its last part (activation)",
    )  # fmt: skip
    p.add_argument("--tag", action="append", default=[], metavar="NAME", help="only runs tagged NAME (repeat: all)")
    p.add_argument("--sort", metavar="COLUMN", help="sort by a column or config key, such as final_loss or lr")
    p.add_argument("--reverse", action="store_true", help="sort in descending order")
    p.add_argument("--csv", action="store_true", help="write every column as CSV to stdout instead of the table")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["diff"]:  # python -m src.runs diff A B: src/diff.py
        from .diff import main as diff

        return diff(argv[1:])
    args = parser().parse_args(argv)
    statuses = [s.strip() for option in args.status for s in option.split(",") if s.strip()]
    try:
        sweep = load_sweeps([Path(d) for d in args.dirs] or [latest_sweep()], metrics=())
        table = sort(sweep, select(sweep, catalog_table(sweep), statuses, args.where), args.sort, args.reverse)
        table = table[tagged(sweep.config, table.index, args.tag)]
    except (ReportInputError, CatalogError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    if args.csv:
        full = with_labels(sweep.runs.loc[table.index].drop(columns=["predictions"]), sweep.config)
        full.to_csv(sys.stdout, index=False)
        return 0
    if table.empty:
        print(f"No run matches (out of {len(sweep.runs)} runs).", file=sys.stderr)
        return 0
    print(text_table(table))
    counts = table["status"].value_counts()
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts.get(s, 0))
    print(f"\n{len(table)} of {len(sweep.runs)} runs: {summary}.")
    return 0


def run() -> int:
    """``main``, quiet when the reader of stdout stops early (``python -m src.runs | head``)."""
    try:
        return main()
    except BrokenPipeError:
        silence_stdout()  # no second error at exit
        return 0


if __name__ == "__main__":
    sys.exit(run())
