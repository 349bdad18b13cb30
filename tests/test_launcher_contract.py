"""The batched launcher keeps Hydra's launcher contract: Hydra's own launcher test suites, run against it.

``hydra.test_utils.launcher_common_tests`` holds the suites that Hydra's launcher plugins run in
their own tests (the basic launcher passes all of them, as here). They launch task functions of
their own, which do not declare the population capability, so they go job by job through
``run_job``; the integration suite starts applications in fresh processes that find
``hydra/launcher=batched`` only through Hydra's plugin scan. The launcher suite runs once more
with a task function that declares the capability, so that the population path keeps the same
contract: complete ``JobReturn``s, the right configs, directories and return values.
"""

from __future__ import annotations

import pytest
from hydra import version
from hydra.core.plugins import Plugins
from hydra.plugins.launcher import Launcher
from hydra.test_utils.launcher_common_tests import BatchedSweeperTestSuite, IntegrationTestSuite, LauncherTestSuite
from hydra.test_utils.test_utils import SweepTaskFunction
from pytest import mark, param

from hydra_plugins.xor_harness_launcher import POPULATION_CAPABILITY


@pytest.fixture(autouse=True)
def hydras_own_version_base(hydra_restore_singletons):
    """The suites expect Hydra's default version base (its 1.1 behaviour: jobs run in their output
    directory), as in Hydra's own test runs; importing ``src.run`` set 1.3. Restored after each test."""
    version.setbase("1.1")


def test_hydra_discovers_the_batched_launcher():
    assert "BatchedLauncher" in [plugin.__name__ for plugin in Plugins.instance().discover(Launcher)]


@mark.parametrize("launcher_name, overrides", [("batched", [])])
class TestBatchedLauncher(LauncherTestSuite):
    pass


def each_job_by_its_task(sweep_task, jobs):
    """A population function that gives each job what the suite's task function gives it."""
    return [sweep_task(job.cfg) for job in jobs]


@mark.parametrize("launcher_name, overrides", [("batched", [])])
class TestBatchedLauncherWithPopulations(LauncherTestSuite):
    """The suite's task functions reach the launcher wrapped in Hydra's ``SweepTaskFunction``: here
    that wrapper declares the population capability, so every job goes the population path."""

    @pytest.fixture(autouse=True)
    def declare_populations(self, monkeypatch):
        monkeypatch.setattr(SweepTaskFunction, POPULATION_CAPABILITY, each_job_by_its_task, raising=False)


@mark.parametrize(
    "task_launcher_cfg, extra_flags",
    [
        param(
            {},
            ["-m", "hydra/launcher=batched", "hydra/hydra_logging=disabled", "hydra/job_logging=disabled"],
            id="batched_launcher_multirun",
        )
    ],
)
class TestBatchedLauncherIntegration(IntegrationTestSuite):
    pass


@mark.parametrize("launcher_name, overrides", [("batched", ["hydra/sweeper=basic", "hydra.sweeper.max_batch_size=2"])])
class TestBatchedLauncherWithBatchingSweeper(BatchedSweeperTestSuite):
    pass
