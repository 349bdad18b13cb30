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

import os

import pytest
from hydra import version
from hydra.core.plugins import Plugins
from hydra.core.utils import JobStatus
from hydra.plugins.launcher import Launcher
from hydra.test_utils.launcher_common_tests import BatchedSweeperTestSuite, IntegrationTestSuite, LauncherTestSuite
from hydra.test_utils.test_utils import SweepTaskFunction
from pytest import mark, param

from hydra_plugins.xor_harness_launcher import POPULATION_CAPABILITY
from hydra_plugins.xor_harness_launcher import _launch as batched_launcher_module
from hydra_plugins.xor_harness_launcher._launch import launch_populations

# Hydra's 1.1 behaviour, chosen below, comes with Hydra's warnings about it.
pytestmark = [
    pytest.mark.filterwarnings("ignore::hydra.errors.Hydra14MigrationWarning"),
    pytest.mark.filterwarnings("ignore:Future Hydra versions will no longer change working directory"),
]


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


def env_and_a_failure(sweep_task, jobs):
    """Job ``a=1`` fails (its outcome is the exception); the others return what they see of ``hydra.job.env_set``."""
    return [ValueError("job a=1 failed") if job.cfg.a == 1 else os.environ.get("SEEN_BY_POPULATION") for job in jobs]


def test_a_population_job_reported_failed_has_a_failed_job_return(hydra_sweep_runner, tmpdir, monkeypatch):
    monkeypatch.setattr(SweepTaskFunction, POPULATION_CAPABILITY, env_and_a_failure, raising=False)
    returns = []

    def launch_and_keep(launcher, *args, **kwargs):  # the returns, before the sweeper reads them
        returns.extend(launch_populations(launcher, *args, **kwargs))
        return returns

    monkeypatch.setattr(batched_launcher_module, "launch_populations", launch_and_keep, raising=False)
    sweep = hydra_sweep_runner(
        calling_file=None, calling_module="hydra.test_utils.a_module", task_function=None, config_path="configs",
        config_name="compose.yaml", temp_dir=tmpdir,
        overrides=["hydra/launcher=batched", "+a=0,1,2", "+hydra.job.env_set.SEEN_BY_POPULATION=yes"],
    )  # fmt: skip
    with pytest.raises(ValueError, match="job a=1 failed"):  # the basic sweeper reads every return value
        with sweep:
            pass
    assert [r.status for r in returns] == [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.COMPLETED]
    assert [r._return_value for r in returns[::2]] == ["yes", "yes"]
    assert isinstance(returns[1]._return_value, ValueError) and returns[1].cfg.a == 1
    assert [r.hydra_cfg.hydra.job.num for r in returns] == [0, 1, 2]
    assert "SEEN_BY_POPULATION" not in os.environ
