"""Training behaviour a researcher relies on: determinism, populations, divergence, mini-batches."""

import json

import numpy as np
import pytest

from src.population import run_population
from src.train import metrics_of

from .conftest import make_config, train_into


def read_metrics(run_dir):
    return np.genfromtxt(run_dir / "metrics.csv", delimiter=",", names=True)


def test_same_config_gives_byte_identical_metrics(tmp_path):
    overrides = ("optimizer=adam", "init=xavier", "model.activation=tanh", "epochs=500", "seed=3")
    train_into(tmp_path / "a", *overrides)
    train_into(tmp_path / "b", *overrides)
    assert (tmp_path / "a" / "metrics.csv").read_bytes() == (tmp_path / "b" / "metrics.csv").read_bytes()


def test_metrics_csv_is_lossless_and_starts_at_the_untrained_network(tmp_path):
    train_into(tmp_path, "epochs=50")
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,loss,mae,mse,accuracy")
    rows = read_metrics(tmp_path)
    assert rows["epoch"][0] == 0 and len(rows) == 50
    # epoch 0 is the untrained network: recompute it from the saved initial weights
    params = np.load(tmp_path / "params.npz")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([[0], [1], [1], [0]], float)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    o = sigmoid(sigmoid(X @ params["W1_initial"]) @ params["W2_initial"])
    assert rows["mae"][0] == np.mean(np.abs(y - o))


@pytest.mark.parametrize(
    "optimizer",
    [
        "optimizer=sgd",
        "optimizer=momentum",
        "optimizer=momentum optimizer.nesterov=true",
        "optimizer=rmsprop",
        "optimizer=adam",
    ],
)
def test_population_trains_each_network_as_if_alone(tmp_path, optimizer):
    """N networks trained together match N trained alone within 1e-12."""
    common = [*optimizer.split(), "epochs=300", "model.bias=true", "hidden=[3,2]"]
    configs = [
        make_config(*common, f"seed={seed}", f"lr={lr}") for seed, lr in [(0, 0.1), (1, 0.5), (2, 0.05), (3, 1.0)]
    ]
    together = run_population(configs, [tmp_path / "together" / str(i) for i in range(4)])
    for i, config in enumerate(configs):
        [alone] = run_population([config], [tmp_path / "alone" / str(i)])
        a, b = read_metrics(tmp_path / "alone" / str(i)), read_metrics(tmp_path / "together" / str(i))
        for name in ("loss", "mae", "mse", "accuracy"):
            np.testing.assert_allclose(a[name], b[name], rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            alone.summary["predictions"]["outputs"], together[i].summary["predictions"]["outputs"], atol=1e-12
        )


def test_mini_batches_are_seeded_and_population_safe(tmp_path):
    common = ["train.batch_size=2", "epochs=200", "dataset=parity", "dataset.bits=3"]
    configs = [make_config(*common, f"seed={seed}") for seed in (5, 6)]
    run_population(configs, [tmp_path / "p0", tmp_path / "p1"])
    run_population([configs[1]], [tmp_path / "alone"])
    np.testing.assert_allclose(
        read_metrics(tmp_path / "p1")["loss"], read_metrics(tmp_path / "alone")["loss"], atol=1e-12
    )
    assert not np.array_equal(read_metrics(tmp_path / "p0")["loss"], read_metrics(tmp_path / "p1")["loss"])


def test_diverging_run_keeps_its_rows_and_does_not_disturb_its_population(tmp_path):
    common = ["model.activation=tanh", "model.output_activation=identity", "epochs=2000"]
    configs = [make_config(*common, "lr=10"), make_config(*common, "lr=0.05")]
    diverged, healthy = run_population(configs, [tmp_path / "bad", tmp_path / "good"])
    assert diverged.summary["status"] == "diverged"
    epoch = diverged.summary["diverged_at_epoch"]
    rows = read_metrics(tmp_path / "bad")
    assert len(rows) == epoch == diverged.summary["epochs_run"] and np.isfinite(rows["loss"]).all()
    assert json.loads((tmp_path / "bad" / "summary.json").read_text())["predictions"]["outputs"] is None
    [alone] = run_population([configs[1]], [tmp_path / "alone"])
    assert healthy.summary["status"] == "completed"
    for name, value in alone.summary["final"].items():
        assert healthy.summary["final"][name] == pytest.approx(value, rel=0, abs=1e-12)


def test_log_every_thins_rows_but_keeps_the_last_epoch(tmp_path):
    train_into(tmp_path, "epochs=1001", "log.every=100")
    assert list(read_metrics(tmp_path)["epoch"]) == [*range(0, 1001, 100)]
    train_into(tmp_path / "b", "epochs=1050", "log.every=100")
    assert read_metrics(tmp_path / "b")["epoch"][-1] == 1049


def test_accuracy_and_errors_of_known_outputs():
    from src.nn.losses import Loss

    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    o = np.array([[[0.2], [0.4], [0.9], [0.6]]])
    m = metrics_of(o, y, Loss("half_squared_error", "sum"))
    assert m["accuracy"][0] == 0.5
    assert m["mae"][0] == pytest.approx((0.2 + 0.6 + 0.1 + 0.6) / 4)
    assert m["mse"][0] == pytest.approx((0.04 + 0.36 + 0.01 + 0.36) / 4)
    assert m["loss"][0] == pytest.approx(0.5 * (0.04 + 0.36 + 0.01 + 0.36))


@pytest.mark.parametrize(
    "overrides",
    [
        ("dataset=and",), ("dataset=or",), ("dataset=nand",), ("dataset=xnor",), ("dataset=parity", "dataset.bits=4"),
        ("loss=mse", "init=he", "model.activation=relu"), ("loss=bce", "init=normal"), ("model.bias=true", "optimizer=rmsprop"),
    ],
)  # fmt: skip
def test_every_choice_trains(tmp_path, overrides):
    summary = train_into(tmp_path, *overrides, "epochs=2000", "lr=0.5")
    assert summary["status"] == "completed"
    assert summary["final"]["loss"] < read_metrics(tmp_path)["loss"][0]  # it learned something


def test_objective_is_the_final_metric_or_the_epochs_to_reach_a_target(tmp_path):
    import math

    from src.jobs import objective

    config = make_config("epochs=3000", "lr=1", "objective.target=0.05")
    [result] = run_population([config], [tmp_path])
    rows = read_metrics(tmp_path)
    first = int(rows["epoch"][np.argmax(rows["loss"] < 0.05)])
    assert result.summary["epochs_to_target"] == first
    assert objective(result.summary, config.objective) == first
    final = make_config("objective.metric=mae").objective
    assert objective(result.summary, final) == result.summary["final"]["mae"]
    never = make_config("epochs=3000", "objective.target=1e-9")
    [missed] = run_population([never], [tmp_path / "never"])
    assert missed.summary["epochs_to_target"] is None and objective(missed.summary, never.objective) == math.inf


@pytest.mark.parametrize("hidden", ["hidden=9", "hidden=[16,8]", "hidden=1"])
def test_a_network_is_bit_identical_alone_and_in_a_population(tmp_path, hidden):
    """Sums are added in a fixed order, so the population's size never changes a network's numbers."""
    configs = [make_config(hidden, "epochs=200", "dataset=parity", "dataset.bits=3", f"seed={s}") for s in range(5)]
    run_population(configs, [tmp_path / "together" / str(i) for i in range(5)])
    for i in (0, 3):
        run_population([configs[i]], [tmp_path / "alone" / str(i)])
        alone = (tmp_path / "alone" / str(i) / "metrics.csv").read_bytes()
        assert alone == (tmp_path / "together" / str(i) / "metrics.csv").read_bytes()


@pytest.mark.parametrize(
    "activation,optimizer", [("sigmoid", "sgd"), ("relu", "momentum")]
)  # relu's derivative is cast from booleans, through NumPy's buffers
def test_a_network_in_a_population_with_row_buffers_gets_the_bits_it_gets_alone(activation, optimizer):
    """From ``ROW_BUFFERS_FROM`` networks on, the epochs run with NumPy's buffers one row long: the same numbers."""
    from src.data import logic_gate
    from src.nn.init import InitSpec
    from src.nn.losses import Loss
    from src.nn.network import Architecture, init_params
    from src.nn.optim import SGD, Momentum
    from src.train import ROW_BUFFERS_FROM, train

    arch = Architecture((2, 4, 1), activation, "sigmoid", bias=True)
    lrs = np.linspace(0.05, 2.0, ROW_BUFFERS_FROM)

    def trained(seeds, lr):
        params = init_params(arch, [InitSpec(seed=int(s), scheme="normal") for s in seeds])
        step = SGD(lr) if optimizer == "sgd" else Momentum(lr, [0.9] * len(lr), nesterov=True)
        chunks = list(train(arch, params, step, Loss("half_squared_error"), logic_gate("xor"), 200, 64))
        return {name: np.concatenate([c.metrics[name] for c in chunks]) for name in chunks[0].metrics}, params

    together, params = trained(range(ROW_BUFFERS_FROM), lrs)
    for p in (0, 97, ROW_BUFFERS_FROM - 1):
        alone, own = trained([p], lrs[p : p + 1])
        for name, values in alone.items():
            assert values[:, 0].tobytes() == together[name][:, p].tobytes(), (p, name)
        for name, array in own.items():
            assert array[..., 0].tobytes() == params[name][..., p].tobytes(), (p, name)
