"""``python -m src.report [DIRS...] [--metric M] [--target T] [--out DIR]``: the report of one or more sweeps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..interruption import install, signal_name_and_exit_code
from ..metrics import METRICS

DESCRIPTION = """\
Make the report of one or more sweeps (or single runs): one self-contained HTML page with
tables and figures, each figure also as PNG, and the tables as runs.csv and settings.csv.
Runs are found at any depth below each directory. Without a directory, the latest sweep
under outputs/sweeps is reported. The report goes to <first directory>/report/ unless --out
is given.
"""

EXAMPLES = """\
examples:
  python -m src.report
  python -m src.report outputs/sweeps/A outputs/sweeps/B --metric mae --target 0.1
  python -m src.report outputs/sweeps/A --out /tmp/report
"""


def parser() -> argparse.ArgumentParser:
    from .measures import DEFAULT_TARGETS

    targets = ", ".join(f"{m} {t:g}" for m, t in DEFAULT_TARGETS.items())
    p = argparse.ArgumentParser(
        prog="python -m src.report", description=DESCRIPTION, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("dirs", nargs="*", metavar="DIRS", help="sweep or run directories (default: the latest sweep)")
    p.add_argument("--metric", default="loss", choices=METRICS, help="the metric to compare (default: loss)")
    p.add_argument(
        "--target", type=float, default=None,
        help=f"a run reaches the target when the metric falls below it (accuracy: rises to it); default: {targets}",
    )  # fmt: skip
    p.add_argument("--out", type=Path, default=None, help="directory to write the report into")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from ..errors import cannot_write
    from . import make_report
    from .tables import ReportInputError, latest_sweep

    try:
        dirs = args.dirs or [latest_sweep()]
        path = make_report(dirs, out_dir=args.out, metric=args.metric, target=args.target)
    except ReportInputError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the report's directory cannot be made or written
        print(f"Error: {cannot_write('report', args.out, error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interruption:  # Ctrl-C or SIGTERM
        name, code = signal_name_and_exit_code(interruption)
        print(f"\nInterrupted ({name}): the report was not finished. Each of its files is whole: this report's, or "
              "the one before.", file=sys.stderr)  # fmt: skip
        return code
    print(f"Report: {path}")
    return 0


if __name__ == "__main__":
    install()  # SIGTERM too stops the report as Ctrl-C does (and the processes reading runs with it)
    code = main()
    from . import process_ends_next

    process_ends_next()  # only when run as a command: the report is made, the process exits
    sys.exit(code)
