"""A Hydra callback for the tests: one JSON line per job start and end, with what the job saw then."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback


class JobProbe(Callback):
    def __init__(self, record: str) -> None:
        self.record = Path(record)

    def _note(self, event: str, config, **extra) -> None:
        line = {
            "event": event,
            "num": config.hydra.job.num,
            "hydra_config_num": HydraConfig.get().job.num,
            "cwd": os.getcwd(),
            "output_dir": config.hydra.runtime.output_dir,
            "env": os.environ.get("PROBE_ENV"),
            "lr": config.get("lr"),
            **extra,
        }
        with self.record.open("a") as record:
            record.write(json.dumps(line) + "\n")

    def on_job_start(self, config, **kwargs) -> None:
        self._note("start", config)

    def on_job_end(self, config, job_return, **kwargs) -> None:
        self._note(
            "end", config, status=job_return.status.name, value=job_return.return_value,
            working_dir=job_return.working_dir, overrides=list(job_return.overrides),
        )  # fmt: skip
