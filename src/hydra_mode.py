"""Hydra's question "run or multirun?", answered without composing the whole config for it.

Before every command, Hydra 1.3 composes the config once only to read ``hydra.mode`` (a config
may turn a plain command into a multirun), then composes it again for the run itself: the
first composition is about a seventh of a single run's CPU time. The project's configs never set
``hydra.mode`` (tests/test_entry_point.py composes each of them to check), so unless the command
itself names ``hydra.mode``, picks a study (``experiment=...``) or another primary config, the
answer is Hydra's "not set", known without composing; otherwise Hydra composes as before.
"""

from __future__ import annotations

from hydra._internal.hydra import Hydra

PRIMARY_CONFIG = "config"
NEEDS_HYDRA = ("hydra.mode", "experiment")  # overrides that might set the mode


def answer_the_mode_without_composing() -> None:
    """Make ``Hydra.get_mode`` answer ``None`` (not set) when no config in play can set the mode."""
    composing = Hydra.get_mode
    if getattr(composing, "answers_without_composing", False):
        return

    def get_mode(self, config_name, overrides):
        mentions = (override.lstrip("+~").startswith(NEEDS_HYDRA) for override in overrides)
        if config_name != PRIMARY_CONFIG or any(mentions):
            return composing(self, config_name=config_name, overrides=overrides)
        return None

    get_mode.answers_without_composing = True
    Hydra.get_mode = get_mode
