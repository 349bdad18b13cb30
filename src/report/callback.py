"""The report at the end of every multirun: a Hydra callback that reads the sweep from disk.

Registered in ``conf/config.yaml`` under ``hydra.callbacks``. When the last job of a
multirun has ended it writes ``<sweep dir>/report/`` and prints ``Report: <path>``;
``report.auto=false`` turns it off.

Hydra gives ``on_multirun_end`` no job results, and skips it when a job raised (the
sweeper re-raises the job's error). So the report reads everything from disk, and the
callback also registers itself to run at interpreter exit when ``on_multirun_start`` has
run but ``on_multirun_end`` never did: a sweep cut short by a failing job still gets its
report. Reporting never stops or fails a sweep: an error in it is printed as one line.
"""

from __future__ import annotations

import atexit
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf


class ReportCallback(Callback):
    """Write the sweep's report when the multirun ends (see the module's docstring)."""

    def __init__(self, metric: str = "loss", target: float | None = None) -> None:
        self.metric, self.target = metric, target
        self.sweep_dir: Path | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not OmegaConf.select(config, "report.auto", default=True):
            return
        self.sweep_dir = Path(str(config.hydra.sweep.dir))
        # pandas imports this module, which registers with threading's exit hooks: at interpreter exit that
        # is refused, so it is imported now (1 ms), and pandas and matplotlib (0.7 s) only for the report.
        import concurrent.futures.thread  # noqa: F401

        atexit.register(self.report)  # in case on_multirun_end is skipped

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.sweep_dir is None:
            return
        atexit.unregister(self.report)
        self.report()

    def report(self) -> None:
        """Write the report of ``sweep_dir`` and print its path; print why not if that fails."""
        from ..rundir import claim
        from ..rundir.reader import NothingToRead
        from . import make_report, process_ends_next

        if claim.refused:  # the sweep stopped before writing anything: the directory is not its own
            return

        try:
            path = make_report([self.sweep_dir], metric=self.metric, target=self.target)
        except KeyboardInterrupt:
            print(f"Report skipped. Make it with: python -m src.report {self.sweep_dir}", file=sys.stderr)
            return
        except NothingToRead:  # the sweep stopped before its first run: nothing to report on
            return
        except Exception as error:  # the sweep's results are on disk either way
            first_line = str(error).splitlines()[0] if str(error) else ""
            print(
                f"Report not written ({type(error).__name__}: {first_line}). "
                f"Try again with: python -m src.report {self.sweep_dir}",
                file=sys.stderr,
            )
            return
        print(f"Report: {path}", flush=True)
        process_ends_next()  # the report is the sweep's last act: what follows is the process's exit
