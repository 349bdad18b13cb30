"""Exporters: a sweep's runs in the tools researchers already use (the optional extra ``export``).

    python -m src.export tensorboard SWEEP... --out DIR    # then: tensorboard --logdir DIR
    python -m src.export mlflow SWEEP... --out DIR         # then: mlflow.search_runs (see to_mlflow)

The modules: ``runs`` (what every exporter writes, read through the Python API
``load_runs``/``load_curves``), ``to_tensorboard`` and ``to_mlflow`` (one tool each),
``__main__`` (the command). Importing this package loads neither tool.
"""
