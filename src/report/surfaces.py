"""Decision surfaces: what a trained two-input network outputs over the whole input plane.

For a grid of points ``x = (x1, x2)`` around the training inputs, the network of a run
(its final weights from ``params.npz``, ``W<l>`` of shape ``(n_in, n_out)``) gives ``o(x)``
layer by layer, ``a0 = x``, ``a<l> = f_l(a<l-1> @ W<l> + b<l>)``, ``o = a<L>`` (the same
forward pass as ``src.nn.network``, for one network read from disk); the curve
``o(x) = 0.5`` is its decision boundary. One representative run stands for a setting: among its completed runs,
the one whose final value is the median (the lower middle one for an even count).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..nn.activations import ACTIVATIONS
from ..rundir.reader import read_params


def representative_run(runs: pd.DataFrame) -> int | None:
    """The completed run with the median ``final`` among ``runs`` (one setting), or ``None``."""
    completed = runs[(runs["status"] == "completed") & np.isfinite(runs["final"].astype(float))]
    if completed.empty:
        return None
    ordered = completed.sort_values(["final", "seed"], kind="stable")
    return ordered.index[(len(ordered) - 1) // 2]


def network_output(params: dict[str, np.ndarray], config: dict, X: np.ndarray) -> np.ndarray:
    """``o`` for inputs ``X (N, n_in)``: ``a<l> = f_l(a<l-1> @ W<l> + b<l>)``, hidden then output activation."""
    n_layers = sum(1 for name in params if name.startswith("W"))
    a = X
    for l in range(1, n_layers + 1):
        z = a @ params[f"W{l}"]
        if f"b{l}" in params:
            z = z + params[f"b{l}"].reshape(-1)
        name = config.get("model.output_activation" if l == n_layers else "model.activation", "sigmoid")
        a = ACTIVATIONS[name].forward(z)
    return a


def decision_surface(run_dir: Path, config: dict, inputs: list, resolution: int = 101, margin: float = 0.5) -> dict:
    """``x``, ``y`` (grids) and the network's ``output`` at each point, for a run of two inputs and one output."""
    points = np.asarray(inputs, dtype=float)
    low, high = points.min(axis=0) - margin, points.max(axis=0) + margin
    x, y = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    with np.errstate(all="ignore"):
        output = network_output(read_params(run_dir), config, np.column_stack([x.ravel(), y.ravel()]))
    return {"x": x, "y": y, "output": output[:, 0].reshape(x.shape)}


def has_two_inputs(predictions: dict | None) -> bool:
    """A run whose dataset has two inputs and one output, so its surface can be drawn in the plane."""
    if not predictions or predictions.get("inputs") is None or predictions.get("targets") is None:
        return False
    try:
        inputs, targets = np.asarray(predictions["inputs"], float), np.asarray(predictions["targets"], float)
    except (TypeError, ValueError):  # a damaged summary: text, ragged lists
        return False
    return inputs.ndim == 2 and inputs.shape[1] == 2 and targets.ndim == 2 and targets.shape[1] == 1
