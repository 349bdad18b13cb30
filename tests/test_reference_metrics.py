"""The core's numbers do not move: today's code writes byte for byte the metrics.csv kept in the tests.

``tests/reference_metrics/<case>/<network>.csv`` were written by the code before the loop was
rewritten with preallocated buffers (issue 15); every change to the core since must give the same
bytes, for every architecture, optimiser, loss and batch setting below. Losses run with
``reduction=sum``. To write the files again (only when a change of numbers is intended)::

    python -m tests.test_reference_metrics
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from src.population import run_population

from .conftest import make_config

REFERENCES = Path(__file__).resolve().parent / "reference_metrics"
COMMON = ("epochs=300", "log.every=6")

# case name: the overrides of each network of one population (one network, or several together)
CASES = {
    "article": [()],
    "deep_bias": [("hidden=[8,4]", "model.bias=true")],
    "adam": [("optimizer=adam",)],
    "momentum": [("optimizer=momentum", "lr=0.5")],
    "nesterov": [("optimizer=momentum", "optimizer.nesterov=true")],
    "rmsprop": [("optimizer=rmsprop", "model.bias=true")],
    "tanh": [("model.activation=tanh", "lr=0.3")],
    "relu_he_mse": [("model.activation=relu", "init=he", "loss=mse", "loss.reduction=sum", "lr=0.2")],
    "mini_batches": [("train.batch_size=2", "dataset=parity", "dataset.bits=3", "hidden=6")],
    "bce": [("loss=bce", "loss.reduction=sum", "init=normal", "lr=0.5")],
    "wide_parity": [("hidden=[9,3]", "dataset=parity", "dataset.bits=4", "optimizer=adam", "lr=0.05")],
    "einsum_width": [("hidden=70", "init=xavier", "lr=0.05")],  # sums over more than 64 terms
    "diverging": [("model.activation=tanh", "model.output_activation=identity", "lr=10")],
    "population": [(f"seed={seed}", f"lr={lr}") for seed, lr in [(0, 0.1), (1, 0.5), (2, 1.0), (3, 2.0), (4, 0.05)]],
    "population_adam_bias": [
        ("optimizer=adam", "model.bias=true", "hidden=[3,2]", f"seed={seed}", f"lr={lr}", f"optimizer.beta1={b1}")
        for seed, lr, b1 in [(0, 0.01, 0.9), (1, 0.1, 0.5), (2, 0.05, 0.8)]
    ],
    "population_batches": [
        ("train.batch_size=3", "optimizer=rmsprop", f"seed={seed}", f"optimizer.rho={rho}")
        for seed, rho in [(5, 0.9), (6, 0.5)]
    ],
}


def train_case(name: str, out: Path) -> list[Path]:
    """Train case ``name`` as one population into ``out``; the paths of its metrics.csv, network by network."""
    configs = [make_config(*COMMON, *overrides) for overrides in CASES[name]]
    run_dirs = [out / str(p) for p in range(len(configs))]
    run_population(configs, run_dirs)
    return [run_dir / "metrics.csv" for run_dir in run_dirs]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_core_reproduces_the_reference_metrics_byte_for_byte(tmp_path, name):
    for p, written in enumerate(train_case(name, tmp_path)):
        reference = REFERENCES / name / f"{p}.csv"
        assert written.read_bytes() == reference.read_bytes(), f"{name}, network {p}: metrics.csv changed"


def write_references() -> None:
    import tempfile

    for name in sorted(CASES):
        with tempfile.TemporaryDirectory() as work:
            for p, written in enumerate(train_case(name, Path(work))):
                target = REFERENCES / name / f"{p}.csv"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(written.read_bytes())
        print(f"{name}: {p + 1} file(s)", file=sys.stderr)


if __name__ == "__main__":
    write_references()
