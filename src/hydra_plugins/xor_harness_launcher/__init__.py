"""Hydra looks for launchers in the ``hydra_plugins`` namespace: here is the harness's ``batched``."""
