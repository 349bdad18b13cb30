"""The typed configuration: dataclasses that Hydra validates, and the checks types cannot express.

The schemas are registered in Hydra's ConfigStore (``register``); the YAML files in
``conf/`` fill them in. Types are checked by OmegaConf while Hydra composes the config;
``validate`` checks the rest: that every component named (``optimizer.name``, ``init.scheme``,
``dataset.name``, ...) is in its registry (``src.registry``), that a key the chosen component
does not read keeps its default, and ranges (``hidden > 0``, ``lr > 0``, ...), with bounds
on the inputs that size a run (``MAX_WIDTH``, ``MAX_EPOCHS``, ...).
After ``OmegaConf.to_object`` the rest of the code sees only these plain dataclasses.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from enum import Enum
from typing import Any

from . import data
from .errors import ConfigError
from .metrics import METRICS
from .nn.activations import ACTIVATIONS
from .nn.init import DISTRIBUTIONS, GENERATORS, SCHEMES, InitSpec
from .nn.losses import LOSSES, REDUCTIONS
from .nn.optim import OPTIMIZERS
from .registry import Registry

# Bounds on the inputs that size what a run allocates or how long it takes, each named in its error.
MAX_WIDTH = 4096  # units in one hidden layer: hidden=[4096,4096] with adam took 1.2 GB and 5 s an epoch here
MAX_PARITY_BITS = 16  # 2**16 = 65,536 rows: 3 epochs of hidden=4 took 0.25 GB here
MAX_EPOCHS = 10**9  # the article's run took 103 us an epoch here: 29 hours, and 80 GB of metrics.csv at log.every=1
MAX_DECIMALS = 17  # a float64 holds at most 17 significant digits
MAX_SEED = 2**32 - 1  # NumPy's RandomState takes seeds from 0 to 2**32 - 1
INIT_LIMIT = 1e100  # the scale of a starting weight; NumPy cannot draw U(low, high) once high - low overflows


@dataclass
class ModelConfig:
    hidden: Any = "${hidden}"  # width of the one hidden layer, or a list of widths
    activation: str = "sigmoid"  # a name registered in nn.activations.ACTIVATIONS
    output_activation: str = "sigmoid"
    bias: bool = False


@dataclass
class OptimizerConfig:
    """The ``optimizer`` group: ``name`` is a registered optimiser, which reads the keys its constructor names."""

    name: str = "sgd"
    lr: float = "${lr}"  # type: ignore[assignment]
    momentum: float = 0.9
    nesterov: bool = False
    rho: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


@dataclass
class LossConfig:
    name: str = "half_squared_error"  # a name registered in nn.losses.LOSSES
    reduction: str = "sum"  # sum or mean (over every sample and output)


@dataclass
class DatasetConfig:
    """The ``dataset`` group: ``name`` is a registered dataset, which reads the keys its function names."""

    name: str = "xor"
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
    print_metric: str = "mae"  # one of METRICS; the article printed mean absolute error as "Loss"
    decimals: int = 4
    chunk_epochs: int = 1000  # epochs trained between two writes to disk


@dataclass
class ReportConfig:
    auto: bool = True  # write a report at the end of every multirun


@dataclass
class ObjectiveConfig:
    """What a run returns to a sweeper (Optuna minimises it, or maximises with direction=maximize)."""

    metric: str = "loss"  # the run's final value of this metric (one of METRICS) ...
    target: float | None = None  # ... or, when set, its epochs to reach this value of the metric


@dataclass
class Config:
    """The whole configuration of one run (``resume`` and ``objective`` concern the sweep around it)."""

    lr: float = 0.1
    hidden: Any = 4
    seed: int = 42
    epochs: int = 10000
    model: ModelConfig = field(default_factory=ModelConfig)
    init: InitSpec = field(default_factory=lambda: InitSpec(seed="${seed}"))  # type: ignore[arg-type]
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


class NotAValue(LookupError):
    """``with_changes`` was given a key that names no single value of the config."""


def with_changes(config, changes: dict[str, Any]):
    """``config`` (nested dataclasses) with the value at each dotted key of ``changes`` replaced;
    ``config`` itself is not changed. Raises ``NotAValue`` for a key that names a section or nothing."""
    for key, value in changes.items():
        config = _replaced(config, key.split("."), value)
    return config


def _replaced(section, path: list[str], value):
    name = path[0]
    if not is_dataclass(section) or name not in {f.name for f in fields(section)}:
        raise NotAValue(name)
    if len(path) > 1:
        value = _replaced(getattr(section, name), path[1:], value)
    elif is_dataclass(getattr(section, name)):
        raise NotAValue(name)
    return replace(section, **{name: value})


def fingerprint(config: Config) -> str:
    """A short hash of everything that shapes a run's numbers (not ``resume``, nor the labels), to recognise it again."""
    values = asdict(config)
    for label in ("resume", "tags", "notes"):
        values.pop(label)
    text = json.dumps(values, sort_keys=True, default=value_of)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def register() -> None:
    """Put the schema into Hydra's ConfigStore as ``base_config`` (``conf/config.yaml`` extends it), and
    the resolver ``harness_help`` that ``--help`` reads (``conf/hydra/help/harness.yaml``)."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    from .choices import help_page

    ConfigStore.instance().store(name="base_config", node=Config)
    OmegaConf.register_new_resolver("harness_help", help_page, replace=True)


def hidden_widths(hidden: Any) -> tuple[int, ...]:
    """``hidden`` as a tuple of layer widths: ``4`` -> ``(4,)``, ``[8, 4]`` -> ``(8, 4)``."""
    values = list(hidden) if isinstance(hidden, (list, tuple)) else [hidden]
    allowed = (
        f"a positive integer of at most {MAX_WIDTH} (the hidden layer's width; the harness's limit, so that a "
        f"network fits in memory) or a non-empty list of them, such as 4 or [8,4]"
    )
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_WIDTH for v in values):
        raise ConfigError("hidden (model.hidden)", hidden, allowed)
    return tuple(values)


def _require(ok: bool, key: str, value, allowed: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed)


def _require_choice(value: str, key: str, choices) -> None:
    _require(value in choices, key, value, f"one of {', '.join(choices)}")


def _refuse_unread(section, group: str, registry: Registry, chosen: str, always_read: tuple[str, ...]) -> None:
    """A key of ``group`` that the chosen component does not read must keep its default: else it would
    change nothing, silently (``optimizer.momentum=0.5`` with ``optimizer=sgd``)."""
    read = (*always_read, *registry.keys_read(chosen))
    defaults = type(section)()
    for key in (f.name for f in fields(section)):
        value, default = getattr(section, key), getattr(defaults, key)
        if key in read or value == default:
            continue
        readers = ", ".join(registry.readers_of(key)) or "none"
        raise ConfigError(
            f"{group}.{key}", value,
            f"only its default {default!r}, because {registry.kind} '{chosen}' does not read {group}.{key} "
            f"(it reads {', '.join(registry.keys_read(chosen)) or 'no key of its own'}); the {registry.kind}s "
            f"that read it: {readers}",
        )  # fmt: skip


def validate_choices(config: Config) -> None:
    """Every component the config names is registered, and every key it sets is one its component reads."""
    m, i, o, d = config.model, config.init, config.optimizer, config.dataset
    _require_choice(i.scheme, "init.scheme", SCHEMES)
    _require_choice(o.name, "optimizer.name", OPTIMIZERS)
    _require_choice(d.name, "dataset.name", data.DATASETS)
    _refuse_unread(i, "init", SCHEMES, i.scheme, always_read=("scheme", "generator", "seed"))
    _refuse_unread(o, "optimizer", OPTIMIZERS, o.name, always_read=("name",))
    _refuse_unread(d, "dataset", data.DATASETS, d.name, always_read=("name",))
    for key, name in (("model.activation", m.activation), ("model.output_activation", m.output_activation)):
        _require_choice(name, key, ACTIVATIONS)
    _require_choice(i.generator, "init.generator", GENERATORS)
    _require_choice(i.distribution, "init.distribution", DISTRIBUTIONS)
    _require_choice(config.loss.name, "loss.name", LOSSES)
    _require_choice(config.loss.reduction, "loss.reduction", REDUCTIONS)
    _require_choice(config.log.print_metric, "log.print_metric", METRICS)
    _require_choice(config.objective.metric, "objective.metric", METRICS)


def validate_groups(config: Config) -> None:
    """Every group of keys (``model``, ``log``, ...) is still a group: OmegaConf lets an interpolation stand
    for any node, so ``objective=${lr}`` reaches here as the number 0.1 where ``ObjectiveConfig`` belongs."""
    defaults = Config()
    for f in fields(config):
        expected, given = type(getattr(defaults, f.name)), getattr(config, f.name)
        if is_dataclass(expected) and not isinstance(given, expected):
            keys = ", ".join(f"{f.name}.{key.name}" for key in fields(expected))
            raise ConfigError(f.name, given, f"its keys set one at a time ({keys}), not a value for the whole group")


def validate(config: Config) -> Config:
    """Check what the types cannot: choices, ranges and combinations. Raises ``ConfigError``."""
    validate_groups(config)
    validate_choices(config)
    hidden_widths(config.model.hidden)
    for key in ("lr", "momentum", "rho", "beta1", "beta2", "eps"):
        value = getattr(config.optimizer, key)
        _require(math.isfinite(value), f"optimizer.{key}", value, "a finite number")
    for key in ("low", "high", "mean", "std", "gain"):
        value = getattr(config.init, key)
        _require(
            math.isfinite(value) and abs(value) <= INIT_LIMIT, f"init.{key}", value,
            f"a number from -{INIT_LIMIT:g} to {INIT_LIMIT:g} (the harness's limit on a starting weight's scale)",
        )  # fmt: skip
    positive_number = "a number greater than 0"
    seed_range = f"an integer from 0 to 2**32 - 1 ({MAX_SEED})"
    _require(config.optimizer.lr > 0, "lr (optimizer.lr)", config.optimizer.lr, positive_number)
    _require(
        0 < config.train.epochs <= MAX_EPOCHS, "epochs (train.epochs)", config.train.epochs,
        f"an integer of at least 1 and at most {MAX_EPOCHS:,} (the harness's limit: a billion epochs of the "
        f"article's network take more than a day and write 80 GB of metrics.csv)",
    )  # fmt: skip
    _require(0 <= config.init.seed <= MAX_SEED, "seed (init.seed)", config.init.seed, seed_range)
    _require(0 <= config.train.shuffle_seed <= MAX_SEED, "train.shuffle_seed", config.train.shuffle_seed, seed_range)
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
    _require(
        1 <= config.dataset.bits <= MAX_PARITY_BITS, "dataset.bits", config.dataset.bits,
        f"an integer from 1 to {MAX_PARITY_BITS} (the harness's limit: 2**{MAX_PARITY_BITS} = "
        f"{2**MAX_PARITY_BITS:,} rows)",
    )  # fmt: skip
    _require(config.dataset.n_outputs >= 1, "dataset.n_outputs", config.dataset.n_outputs, "an integer of at least 1")
    for key in ("every", "print_every", "chunk_epochs"):
        value = getattr(config.log, key)
        _require(value >= 1, f"log.{key}", value, "a positive integer")
    _require(
        0 <= config.log.decimals <= MAX_DECIMALS, "log.decimals", config.log.decimals,
        f"an integer from 0 to {MAX_DECIMALS} (a float64 holds at most {MAX_DECIMALS} significant digits)",
    )  # fmt: skip
    if config.loss.name == "binary_cross_entropy":
        _require(
            config.model.output_activation == "sigmoid", "model.output_activation", config.model.output_activation,
            "sigmoid with loss=bce (cross entropy needs outputs in (0, 1))",
        )  # fmt: skip
    return config


def value_of(choice) -> Any:
    """The plain value of a config choice: an enumeration's value, anything else itself (the schema's choices
    are plain strings, checked against the registries; enumerations may still come from older callers)."""
    return choice.value if isinstance(choice, Enum) else choice
