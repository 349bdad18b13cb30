"""The article's run beside the published numbers.

The article trains a 2-4-1 sigmoid network without biases on XOR, by plain gradient
descent on half the sum of squared errors, ``lr = 0.1``, 10,000 epochs, weights drawn by
``np.random.seed(42); np.random.rand(2, 4); np.random.rand(4, 1)``. It prints the mean
absolute error as "Loss" at epochs 0, 1000, ..., 9000, and the four final predictions.
A run whose config has every value of ``ARTICLE_CONFIG`` is the article's run.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..rundir.reader import read_curve

ARTICLE_CONFIG = {
    "lr": 0.1, "hidden": 4, "seed": 42, "epochs": 10000,
    "optimizer.name": "sgd", "optimizer.lr": 0.1,
    "loss.name": "half_squared_error", "loss.reduction": "sum",
    "init.scheme": "uniform", "init.generator": "legacy", "init.low": 0.0, "init.high": 1.0, "init.seed": 42,
    "model.hidden": 4, "model.bias": False, "model.activation": "sigmoid", "model.output_activation": "sigmoid",
    "dataset.name": "xor", "train.epochs": 10000, "train.batch_size": None,
}  # fmt: skip
ARTICLE_MAE = {0: 0.4965, 1000: 0.4948, 9000: 0.0864}  # the printed "Loss" (mean absolute error)
ARTICLE_PREDICTIONS = [0.1013, 0.9269, 0.9201, 0.0593]  # for inputs [0,0], [0,1], [1,0], [1,1]


def article_runs(config: pd.DataFrame) -> pd.Index:
    """The runs (rows of the flat ``config`` table) with every value of ``ARTICLE_CONFIG``."""
    matches = pd.Series(True, index=config.index)
    for key, value in ARTICLE_CONFIG.items():
        if key not in config:
            return config.index[:0]
        matches &= config[key].isna() if value is None else (config[key] == value)
    return config.index[matches]


def article_table(run_dir: Path, predictions: dict) -> pd.DataFrame:
    """Rows: MAE at epochs 0, 1000, 9000 and the four predictions; columns: article, this run, difference."""
    rows = read_curve(run_dir, ["epoch", "mae"])
    mae_at = dict(zip(rows[:, 0].astype(int), rows[:, 1]))
    entries = [(f"MAE at epoch {epoch}", published, mae_at.get(epoch)) for epoch, published in ARTICLE_MAE.items()]
    outputs = predictions.get("outputs") or [[None]] * len(ARTICLE_PREDICTIONS)
    for inputs, output, published in zip(predictions["inputs"], outputs, ARTICLE_PREDICTIONS):
        shown = ", ".join(f"{x:g}" for x in inputs)
        entries.append((f"prediction for [{shown}]", published, output[0]))
    table = pd.DataFrame(entries, columns=["quantity", "article", "this run"]).set_index("quantity")
    table["difference"] = table["this run"].astype(float) - table["article"]
    return table
