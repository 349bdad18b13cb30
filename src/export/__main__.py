"""``python -m src.export FORMAT SWEEP... --out DIR``: a sweep's runs as TensorBoard or MLflow files.

A mistake (an unknown format, a missing or empty directory, an ``--out`` that holds files
already or cannot be written, the ``export`` extra not installed) ends in one paragraph on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import cannot_write
from ..report.tables import ReportInputError

FORMATS = {
    "tensorboard": "TensorBoard event files: tensorboard --logdir DIR",
    "mlflow": "a local MLflow file store, read with MLFLOW_ALLOW_FILE_STORE=true (mlflow.search_runs; "
    "mlflow ui --backend-store-uri DIR with the full mlflow package)",
}
EXAMPLES = """\
examples:
  python -m src.export tensorboard outputs/sweeps/X --out tb/     then: tensorboard --logdir tb/
  python -m src.export mlflow outputs/sweeps/X outputs/sweeps/Y --out mlruns/
      then: MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri mlruns/   (pip install mlflow)
"""


class ExportError(Exception):
    """A mistake in the command: told in one paragraph, exit code 2."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m src.export",
        description="Write the runs below one or more sweep (or run) directories in a tool's own format: "
        + "; ".join(f"{name}: {what}" for name, what in FORMATS.items())
        + ". Needs the export extra: pip install -e '.[export]'.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("format", metavar="FORMAT", help="tensorboard or mlflow")
    p.add_argument("dirs", nargs="+", metavar="SWEEP", help="sweep or run directories, searched at any depth")
    p.add_argument("--out", required=True, metavar="DIR", help="where to write; a new or empty directory")
    p.add_argument(
        "--every", type=int, default=1, metavar="N",
        help="export every N-th logged epoch of each curve, and the last (default 1: all); "
        "MLflow's file store writes each value on its own (about 2 s of CPU for a run of 10,000 epochs)",
    )  # fmt: skip
    p.add_argument("--experiment", default="xor-harness", help="mlflow: the experiment's name (default xor-harness)")
    return p


def check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out} is a file. Give a new or empty directory to write the export into.")
    if out.is_dir() and any(out.iterdir()):
        raise ExportError(
            f"--out {out} already holds files. Give a new or empty directory, so that the export holds "
            f"these runs only once (export several sweeps together by naming them all)."
        )


def check_format(name: str) -> None:
    if name not in FORMATS:
        raise ExportError(f"Unknown format {name!r}. Allowed: {', '.join(FORMATS)}.")


def writer(name: str):
    """The exporter of format ``name`` (a known one), imported only now (its tool is an optional extra)."""
    try:
        if name == "tensorboard":
            from .to_tensorboard import write_tensorboard

            return lambda runs, out, args: write_tensorboard(runs, out)
        from .to_mlflow import write_mlflow

        return lambda runs, out, args: write_mlflow(runs, out, args.experiment)
    except ImportError as error:
        raise ExportError(
            f"The {name} exporter needs the export extra, which is not installed here ({error.name} is missing): "
            f"pip install -e '.[export]'."
        ) from None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    out = Path(args.out)
    try:
        if args.every < 1:
            raise ExportError(f"--every {args.every}: give a positive integer (1 exports every logged epoch).")
        check_format(args.format)
        check_out(out)
        from .runs import exported_runs

        runs = exported_runs([Path(d) for d in args.dirs], every=args.every)
        write = writer(args.format)  # last: a wrong argument is told whether or not the extra is installed
        out.mkdir(parents=True, exist_ok=True)
        write(runs, out, args)
    except (ExportError, ReportInputError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"Error: {cannot_write('export', out, error)}", file=sys.stderr)
        return 2
    print(f"Exported {len(runs)} runs as {args.format} to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
