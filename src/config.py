"""The typed configuration: dataclasses that Hydra validates, and the checks types cannot express.

The schemas are registered in Hydra's ConfigStore (``register``); the YAML files in
``conf/`` fill them in. Types and enumerations are checked by OmegaConf while Hydra
composes the config; ranges (``hidden > 0``, ``lr > 0``, ...) by ``validate``.
After ``OmegaConf.to_object`` the rest of the code sees only these plain dataclasses.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from .errors import ConfigError


class Activation(str, Enum):
    sigmoid = "sigmoid"
    tanh = "tanh"
    relu = "relu"
    identity = "identity"


class InitScheme(str, Enum):
    uniform = "uniform"
    normal = "normal"
    xavier = "xavier"
    he = "he"


class Generator(str, Enum):
    legacy = "legacy"
    pcg64 = "pcg64"


class Distribution(str, Enum):
    uniform = "uniform"
    normal = "normal"


class OptimizerName(str, Enum):
    sgd = "sgd"
    momentum = "momentum"
    rmsprop = "rmsprop"
    adam = "adam"


class LossName(str, Enum):
    half_squared_error = "half_squared_error"
    squared_error = "squared_error"
    binary_cross_entropy = "binary_cross_entropy"


class Reduction(str, Enum):
    sum = "sum"
    mean = "mean"


class Metric(str, Enum):
    loss = "loss"
    mae = "mae"
    mse = "mse"
    accuracy = "accuracy"


@dataclass
class ModelConfig:
    hidden: Any = "${hidden}"  # width of the one hidden layer, or a list of widths
    activation: Activation = Activation.sigmoid
    output_activation: Activation = Activation.sigmoid
    bias: bool = False


@dataclass
class InitConfig:
    scheme: InitScheme = InitScheme.uniform
    generator: Generator = Generator.legacy
    seed: int = "${seed}"  # type: ignore[assignment]
    distribution: Distribution = Distribution.uniform  # for xavier and he
    low: float = 0.0
    high: float = 1.0
    mean: float = 0.0
    std: float = 1.0
    gain: float = 1.0


@dataclass
class OptimizerConfig:
    name: OptimizerName = OptimizerName.sgd
    lr: float = "${lr}"  # type: ignore[assignment]
    momentum: float = 0.9
    nesterov: bool = False
    rho: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


@dataclass
class LossConfig:
    name: LossName = LossName.half_squared_error
    reduction: Reduction = Reduction.sum


@dataclass
class DatasetConfig:
    name: str = "xor"  # xor, and, or, nand, xnor, parity, table or csv (checked by data.load)
    bits: int = 2  # for parity
    inputs: Any | None = None  # for table: a list of rows
    targets: Any | None = None  # for table: a list of values or of rows
    path: str | None = None  # for csv
    n_inputs: int | None = None  # for table and csv: the expected number of inputs
    n_outputs: int = 1  # for csv: how many trailing columns are targets


@dataclass
class TrainConfig:
    epochs: int = "${epochs}"  # type: ignore[assignment]
    batch_size: int | None = None  # None: full batch
    shuffle_seed: int = "${seed}"  # type: ignore[assignment]


@dataclass
class LogConfig:
    every: int = 1  # write one row of metrics.csv every this many epochs
    print_every: int = 1000  # print progress every this many epochs (single runs)
    print_metric: Metric = Metric.mae  # the article printed mean absolute error as "Loss"
    decimals: int = 4
    chunk_epochs: int = 1000  # epochs trained between two writes to disk


@dataclass
class ReportConfig:
    auto: bool = True  # write a report at the end of every multirun


@dataclass
class ObjectiveConfig:
    """What a run returns to a sweeper (Optuna minimises it, or maximises with direction=maximize)."""

    metric: Metric = Metric.loss  # the run's final value of this metric ...
    target: float | None = None  # ... or, when set, its epochs to reach this value of the metric


@dataclass
class Config:
    """The whole configuration of one run (``resume`` and ``objective`` concern the sweep around it)."""

    lr: float = 0.1
    hidden: Any = 4
    seed: int = 42
    epochs: int = 10000
    model: ModelConfig = field(default_factory=ModelConfig)
    init: InitConfig = field(default_factory=InitConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    log: LogConfig = field(default_factory=LogConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    resume: bool = False  # in a sweep: skip every job whose run directory holds a completed run
    tags: list[str] = field(default_factory=list)  # labels for the catalog's --tag, the report, the exporters
    notes: str = ""  # a free text about the run, kept in its summary


def fingerprint(config: Config) -> str:
    """A short hash of everything that shapes a run's numbers (not ``resume``, nor the labels), to recognise it again."""
    values = asdict(config)
    for label in ("resume", "tags", "notes"):
        values.pop(label)
    text = json.dumps(values, sort_keys=True, default=value_of)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def register() -> None:
    """Put the schema into Hydra's ConfigStore as ``base_config`` (``conf/config.yaml`` extends it)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="base_config", node=Config)


def hidden_widths(hidden: Any) -> tuple[int, ...]:
    """``hidden`` as a tuple of layer widths: ``4`` -> ``(4,)``, ``[8, 4]`` -> ``(8, 4)``."""
    values = list(hidden) if isinstance(hidden, (list, tuple)) else [hidden]
    allowed = "a positive integer (the hidden layer's width) or a non-empty list of them, such as 4 or [8,4]"
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise ConfigError("hidden (model.hidden)", hidden, allowed)
    return tuple(values)


def _require(ok: bool, key: str, value, allowed: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed)


def validate(config: Config) -> Config:
    """Check what the types cannot: ranges and combinations. Raises ``ConfigError``."""
    hidden_widths(config.model.hidden)
    for key in ("lr", "momentum", "rho", "beta1", "beta2", "eps"):
        value = getattr(config.optimizer, key)
        _require(math.isfinite(value), f"optimizer.{key}", value, "a finite number")
    for key in ("low", "high", "mean", "std", "gain"):
        value = getattr(config.init, key)
        _require(math.isfinite(value), f"init.{key}", value, "a finite number")
    positive_number = "a number greater than 0"
    _require(config.optimizer.lr > 0, "lr (optimizer.lr)", config.optimizer.lr, positive_number)
    _require(config.train.epochs > 0, "epochs (train.epochs)", config.train.epochs, "an integer of at least 1")
    _require(config.init.seed >= 0, "seed (init.seed)", config.init.seed, "an integer from 0 to 2**32 - 1")
    _require(config.init.seed < 2**32, "seed (init.seed)", config.init.seed, "an integer from 0 to 2**32 - 1")
    _require(
        config.init.high > config.init.low,
        "init.high",
        config.init.high,
        f"a number above init.low ({config.init.low})",
    )
    _require(config.init.std > 0, "init.std", config.init.std, positive_number)
    _require(config.init.gain > 0, "init.gain", config.init.gain, positive_number)
    for key in ("momentum", "rho", "beta1", "beta2"):
        value = getattr(config.optimizer, key)
        _require(0 <= value < 1, f"optimizer.{key}", value, "a number in [0, 1)")
    _require(config.optimizer.eps > 0, "optimizer.eps", config.optimizer.eps, positive_number)
    batch = config.train.batch_size
    _require(batch is None or batch > 0, "train.batch_size", batch, "null (full batch) or a positive integer")
    _require(config.dataset.bits >= 1, "dataset.bits", config.dataset.bits, "an integer of at least 1")
    _require(config.dataset.n_outputs >= 1, "dataset.n_outputs", config.dataset.n_outputs, "an integer of at least 1")
    for key in ("every", "print_every", "decimals", "chunk_epochs"):
        value = getattr(config.log, key)
        _require(value >= 1 or (key == "decimals" and value == 0), f"log.{key}", value, "a positive integer")
    if config.loss.name == LossName.binary_cross_entropy:
        _require(
            config.model.output_activation == Activation.sigmoid, "model.output_activation",
            value_of(config.model.output_activation), "sigmoid with loss=bce (cross entropy needs outputs in (0, 1))",
        )  # fmt: skip
    return config


def value_of(choice) -> Any:
    """The plain value of a config enumeration (``Activation.sigmoid`` -> ``"sigmoid"``)."""
    return choice.value if isinstance(choice, Enum) else choice
