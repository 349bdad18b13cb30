"""Hydra looks for launchers in the ``hydra_plugins`` namespace: here is the harness's ``batched``."""


def register() -> None:
    """Make ``hydra/launcher=batched`` known to Hydra, and spare its jobs a second composition.

    Hydra instantiates only plugins it found under the ``hydra_plugins`` namespace; the
    project installs its launcher there (see pyproject.toml), but Hydra's scan of the namespace
    does not see an editable install, so the class is registered by hand.

    Before launching, every sweeper composes every job once to catch errors early (about
    50 ms a job, most of a 1,000-seed study's time). The batched launcher composes each job
    itself, faster, and records a job with a wrong config as failed while the others go on,
    so for its batches that pass is skipped; with any other launcher it runs as before.
    """
    from hydra.core.plugins import Plugins
    from hydra.plugins.sweeper import Sweeper

    plugins = Plugins.instance()  # first: its scan re-imports Hydra's own plugin modules
    from .batched_launcher import BatchedLauncher

    plugins.register(BatchedLauncher)
    validate = Sweeper.validate_batch_is_legal
    if getattr(validate, "spares_batched_jobs", False):
        return

    def validate_batch_is_legal(sweeper, batch):
        if not isinstance(getattr(sweeper, "launcher", None), BatchedLauncher):
            validate(sweeper, batch)

    validate_batch_is_legal.spares_batched_jobs = True
    Sweeper.validate_batch_is_legal = validate_batch_is_legal
