"""Datasets: truth tables of logic gates, n-bit parity, and a user's own table.

A dataset is ``X`` of shape ``(N, n_in)`` and ``y`` of shape ``(N, n_out)``, float64. Each is
one function registered in ``DATASETS`` under the name ``dataset.name`` gives it; its
parameters are the ``dataset.*`` keys it reads (``parity(bits)`` reads ``dataset.bits``).
The gates take two inputs in the order ``[0,0], [0,1], [1,0], [1,1]`` (the article's);
``parity`` with ``bits = n`` takes all ``2**n`` inputs in binary counting order, and
its target is 1 when an odd number of inputs are 1 (``xor`` is 2-bit parity).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError
from .registry import Registry

DATASETS = Registry("dataset", "dataset.name")


@dataclass(frozen=True)
class Dataset:
    name: str
    X: np.ndarray  # (N, n_in)
    y: np.ndarray  # (N, n_out)


def binary_inputs(bits: int) -> np.ndarray:
    """All ``2**bits`` rows of ``bits`` zeros and ones, in counting order: row ``r`` is ``r`` in binary,
    ``X[r, i] = (r >> (bits - 1 - i)) & 1``, the first input the most significant bit."""
    rows = np.arange(2**bits, dtype=np.int64)[:, None]
    return (rows >> np.arange(bits - 1, -1, -1, dtype=np.int64)) & 1


def truth_table(name: str, rule) -> Dataset:
    """The four rows of a two-input gate, ``y = rule(a, b)`` for inputs ``[a, b]``."""
    X = binary_inputs(2)
    y = rule(X[:, 0], X[:, 1])
    return Dataset(name, X.astype(np.float64), y.reshape(-1, 1).astype(np.float64))


@DATASETS.register("xor")
def xor() -> Dataset:
    """1 when the inputs differ: ``a ^ b``."""
    return truth_table("xor", lambda a, b: a ^ b)


@DATASETS.register("and")
def and_gate() -> Dataset:
    """1 when both inputs are 1: ``a & b``."""
    return truth_table("and", lambda a, b: a & b)


@DATASETS.register("or")
def or_gate() -> Dataset:
    """1 when either input is 1: ``a | b``."""
    return truth_table("or", lambda a, b: a | b)


@DATASETS.register("nand")
def nand() -> Dataset:
    """0 when both inputs are 1: ``1 - (a & b)``."""
    return truth_table("nand", lambda a, b: 1 - (a & b))


@DATASETS.register("xnor")
def xnor() -> Dataset:
    """1 when the inputs are equal: ``1 - (a ^ b)``."""
    return truth_table("xnor", lambda a, b: 1 - (a ^ b))


def logic_gate(name: str) -> Dataset:
    """The truth table of the gate registered as ``name`` (``xor``, ``and``, ...)."""
    return DATASETS[name]()


@DATASETS.register("parity")
def parity(bits: int) -> Dataset:
    """All ``2**bits`` inputs; ``y = (sum_i X[n, i]) % 2``, 1 when an odd number of inputs are 1."""
    X = binary_inputs(bits)
    y = X.sum(axis=1) % 2
    return Dataset(f"parity{bits}", X.astype(np.float64), y.reshape(-1, 1).astype(np.float64))


def _as_matrix(rows, key: str, what: str) -> np.ndarray:
    """A list of equally long rows of finite numbers, as a float64 matrix."""
    rows = [r if isinstance(r, (list, tuple)) else [r] for r in rows]
    widths = sorted({len(r) for r in rows})
    if not rows or widths[0] == 0:
        raise ConfigError(key, rows, f"a non-empty list of {what}")
    if len(widths) > 1:
        raise ConfigError(key, rows, f"rows of one width; these rows have widths {widths}")
    try:
        matrix = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(key, rows, f"numbers only, as {what}") from None
    if not np.all(np.isfinite(matrix)):
        raise ConfigError(key, rows, "finite numbers (no nan or inf)")
    return matrix


@DATASETS.register("table")
def table(inputs, targets, n_inputs: int | None) -> Dataset:
    """A user's own table, given inline: ``inputs`` rows and ``targets`` values or rows."""
    for key, rows, example in (("dataset.inputs", inputs, "[[0,0],[0,1]]"), ("dataset.targets", targets, "[0,1]")):
        if not isinstance(rows, (list, tuple)):
            raise ConfigError(key, rows, f"a non-empty list in brackets, such as {key}={example}")
    X = _as_matrix(inputs, "dataset.inputs", "input rows such as [[0,0],[0,1]]")
    y = _as_matrix(targets, "dataset.targets", "targets such as [0,1] or [[0],[1]]")
    if len(y) != len(X):
        raise ConfigError("dataset.targets", targets, f"one target per input row ({len(X)} rows)")
    if n_inputs is not None and X.shape[1] != n_inputs:
        raise ConfigError(
            "dataset.inputs", inputs, f"rows of dataset.n_inputs={n_inputs} values; they have {X.shape[1]}"
        )
    return Dataset("table", X, y)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@DATASETS.register("csv")
def from_csv(path: str | None, n_inputs: int | None, n_outputs: int) -> Dataset:
    """A table from a CSV file: inputs first, then ``n_outputs`` target columns.

    An optional header row (no cell a number) is skipped. Every other row must have the
    same number of cells, all finite numbers.
    """
    key = "dataset.path"
    if not path:
        raise ConfigError(key, path, "the path of a CSV file of numbers (inputs, then targets)")
    file = Path(path)
    if not file.is_file():
        raise ConfigError(key, path, "the path of an existing CSV file")
    try:
        with file.open(newline="") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(key, path, f"a readable text CSV file ({error})") from None
    if rows and not any(_is_number(cell) for cell in rows[0]):
        rows = rows[1:]
    if not rows:
        raise ConfigError(key, path, "a CSV file with at least one row of numbers")
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        first_odd = next(i for i, row in enumerate(rows, 1) if len(row) != len(rows[0]))
        raise ConfigError(
            key,
            path,
            f"rows of one width; data row {first_odd} has {len(rows[first_odd - 1])} cells, the first has {len(rows[0])}",
        )
    for i, row in enumerate(rows, 1):
        for j, cell in enumerate(row, 1):
            if not _is_number(cell) or not np.isfinite(float(cell)):
                raise ConfigError(key, path, f"finite numbers in every cell; data row {i}, column {j} is {cell!r}")
    matrix = np.array(rows, dtype=np.float64)
    width = matrix.shape[1]
    if width <= n_outputs:
        raise ConfigError(
            key, path, f"at least one input column before the {n_outputs} target column(s); rows have {width} cells"
        )
    if n_inputs is not None and width - n_outputs != n_inputs:
        raise ConfigError(
            key,
            path,
            f"dataset.n_inputs={n_inputs} input columns and {n_outputs} target column(s); rows have {width} cells",
        )
    return Dataset(file.stem, matrix[:, :-n_outputs], matrix[:, -n_outputs:])


def load(config) -> Dataset:
    """The dataset a ``DatasetConfig`` names, given the ``dataset.*`` keys it reads."""
    return DATASETS.build(config.name, config)
