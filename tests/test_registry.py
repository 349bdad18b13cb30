"""Components registered once: every config option chooses a registered component, every component has
an option, a key the chosen component does not read is refused, and an unknown name never falls
through to another component. The lists of options below all come from the registries."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from src import data
from src.choices import GROUPS, options
from src.config import Config, DatasetConfig, OptimizerConfig, validate
from src.errors import ConfigError
from src.metrics import HIGHER_IS_BETTER, METRICS
from src.nn.activations import ACTIVATIONS
from src.nn.init import GENERATORS, SCHEMES, InitSpec
from src.nn.losses import LOSSES, Loss
from src.nn.optim import OPTIMIZERS
from src.population import build_optimizer, run_population

from .conftest import make_config

SCHEMAS = {"init": InitSpec, "optimizer": OptimizerConfig, "dataset": DatasetConfig}
ALWAYS_READ = {"init": {"scheme", "generator", "seed"}, "optimizer": {"name"}, "loss": {"name", "reduction"}, "dataset": {"name"}}  # fmt: skip
OPTIONS = [(group, option) for group in GROUPS for option in options(group)]


@pytest.mark.parametrize("group", GROUPS)
def test_every_option_chooses_a_component_and_every_component_has_an_option(group):
    _, registry = GROUPS[group]
    chosen = options(group)
    unregistered = {option: name for option, name in chosen.items() if name not in registry}
    assert not unregistered, f"conf/{group}/ options choosing no registered {registry.kind}: {unregistered}"
    without_option = set(registry) - set(chosen.values())
    assert not without_option, f"registered {registry.kind}s without a YAML file in conf/{group}/: {without_option}"


@pytest.mark.parametrize("group,option", OPTIONS)
def test_an_option_sets_only_keys_its_component_reads(group, option):
    from omegaconf import OmegaConf

    from src.choices import CONF_DIR

    selector, registry = GROUPS[group]
    written = set(OmegaConf.load(CONF_DIR / group / f"{option}.yaml"))
    read = ALWAYS_READ[group] | set(registry.keys_read(options(group)[option]))
    assert written <= read, f"conf/{group}/{option}.yaml sets keys its component ignores: {written - read}"


@pytest.mark.parametrize("group", SCHEMAS)
def test_every_key_a_component_reads_is_in_the_schema(group):
    _, registry = GROUPS[group]
    schema = {f.name for f in dataclasses.fields(SCHEMAS[group])}
    for name in registry:
        assert set(registry.keys_read(name)) <= schema, (name, registry.keys_read(name))


@pytest.mark.parametrize("registry", [ACTIVATIONS, SCHEMES, GENERATORS, OPTIMIZERS, LOSSES, data.DATASETS])
def test_an_unknown_name_is_a_clear_error_never_another_component(registry):
    with pytest.raises(ConfigError) as raised:
        registry["adagrad"]
    assert raised.value.key == registry.key and raised.value.value == "adagrad"
    assert all(name in raised.value.allowed for name in registry)
    assert "adagrad" not in registry


def test_an_unknown_name_reaching_the_builders_is_refused():
    config = Config(optimizer=OptimizerConfig(name="adagrad", lr=0.1))
    with pytest.raises(ConfigError, match="optimizer.name"):
        build_optimizer([config])
    with pytest.raises(ConfigError, match="loss.name"):
        Loss("cross_entropy", "mean")
    with pytest.raises(ConfigError, match="loss.reduction"):
        Loss("squared_error", "avg")
    with pytest.raises(ConfigError, match="dataset.name"):
        data.load(DatasetConfig(name="nor"))


def test_a_new_optimizer_is_one_registered_class():
    """Registered, a class is a valid ``optimizer.name``, built with the keys its constructor names."""

    @OPTIMIZERS.register("halved_sgd")
    class HalvedSGD:
        def __init__(self, lr, eps):
            self.lr, self.eps = np.asarray(lr), np.asarray(eps)

    try:
        configs = [make_config("optimizer.name=halved_sgd", f"lr={lr}") for lr in (0.1, 0.2)]
        built = build_optimizer(configs)
        assert isinstance(built, HalvedSGD) and list(built.lr) == [0.1, 0.2] and list(built.eps) == [1e-8, 1e-8]
        with pytest.raises(ConfigError, match="halved_sgd"):
            make_config("optimizer.name=halved_sgd", "optimizer.beta1=0.5")
    finally:
        OPTIMIZERS._components.pop("halved_sgd")


@pytest.mark.parametrize("group,option", [o for o in OPTIONS if o != ("dataset", "csv")])
def test_every_option_trains(tmp_path, group, option):
    summary = run_population([make_config(f"{group}={option}", "epochs=30", "lr=0.5")], [tmp_path])[0].summary
    assert summary["status"] == "completed"


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("generator", GENERATORS)
def test_every_activation_and_generator_trains(tmp_path, activation, generator):
    config = make_config(f"model.activation={activation}", f"init.generator={generator}", "epochs=30")
    assert run_population([config], [tmp_path])[0].summary["status"] == "completed"


def unread_keys():
    """For each group and component, the keys of the group that component does not read."""
    for group, schema in SCHEMAS.items():
        selector, registry = GROUPS[group]
        option_of = {name: option for option, name in options(group).items()}
        for name in registry:
            for field in dataclasses.fields(schema):
                if field.name not in ALWAYS_READ[group] and field.name not in registry.keys_read(name):
                    yield group, option_of[name], field.name


@pytest.mark.parametrize("group,option,key", list(unread_keys()))
def test_a_key_the_chosen_component_ignores_is_refused(group, option, key):
    default = getattr(SCHEMAS[group](), key)
    kind = next(str(f.type) for f in dataclasses.fields(SCHEMAS[group]) if f.name == key).split()[0]
    other = {"bool": "true", "int": "7", "float": "0.5", "str": "normal"}.get(kind, "[[1,1]]")
    with pytest.raises(ConfigError) as raised:
        make_config(f"{group}={option}", f"{group}.{key}={other}")
    error = raised.value
    assert error.key == f"{group}.{key}"
    assert f"'{options(group)[option]}' does not read {group}.{key}" in error.allowed
    assert repr(default) in error.allowed  # only the default is allowed


def test_a_key_at_its_default_is_accepted_whatever_the_component():
    assert make_config("optimizer=sgd", "optimizer.momentum=0.9").optimizer.name == "sgd"


def test_init_spec_is_the_config_init_group():
    config = make_config("init=xavier", "seed=5")
    assert isinstance(config.init, InitSpec) and config.init.seed == 5 and config.init.scheme == "xavier"
    assert validate(config) is config


def test_higher_is_better_names_metrics():
    assert HIGHER_IS_BETTER <= set(METRICS) and HIGHER_IS_BETTER == {"accuracy"}


TWO_OUTPUTS = ("dataset=table", "dataset.targets=[[0,1],[1,0],[1,1],[0,0]]", "epochs=50")


def read_columns(run_dir):
    import csv

    with open(run_dir / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


def test_mse_loss_with_mean_is_the_mse_column_on_two_outputs(tmp_path):
    """reduction=mean averages over samples x outputs, as PyTorch and Keras do."""
    run_population([make_config("loss=mse", *TWO_OUTPUTS)], [tmp_path])
    rows = read_columns(tmp_path)
    assert len(rows) == 50
    assert all(row["loss"] == row["mse"] for row in rows)  # the same text: the same float, bit for bit


def test_mean_reduction_averages_every_element():
    o = np.array([[0.2, 0.9], [0.6, 0.3], [0.5, 0.5]])[:, :, None]  # o[n, k, p]: 3 samples, 2 outputs
    y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])[:, :, None]
    bce = -(y * np.log(o) + (1 - y) * np.log(1 - o))
    np.testing.assert_allclose(Loss("binary_cross_entropy", "mean").value(o, y), [bce.mean()], rtol=1e-15)
    np.testing.assert_allclose(Loss("binary_cross_entropy", "sum").value(o, y), [bce.sum()], rtol=1e-15)
    np.testing.assert_allclose(Loss("squared_error", "mean").gradient(o, y), 2 * (o - y) / 6, rtol=1e-15)
