"""``python -m src.bench``: how fast the harness is, measured side by side on this machine.

Prints a table of

* time per epoch per network: the article's textbook loop (a faithful copy, below), the
  same maths in the fewest NumPy calls an epoch allows (the ceiling for any one-network NumPy
  loop), the harness with one network (the article's run, metrics and CSV included), and populations
  of 10, 100 and 1,000 networks, each for the training loop alone (forward, backward,
  update, metrics) and with every run directory written, with its ratio to the textbook loop;
* JAX's jit + vmap + scan over the largest population, when JAX is installed (the
  ``bench`` extra), as the yardstick for what compiled, fused code does on this machine;
* end to end, from command to last file written: the 9-job sweep
  ``-m lr=0.1,0.5,1.0 hidden=2,4,8`` and a 1,000-seed study of the article's network, each
  with Hydra's basic launcher and the batched one, with the ratio, and the peak memory
  (all processes of the command together) of the batched study;
* the report over the 1,000-seed study.

The basic launcher needs about a third of a second a job, so by default it runs the first
100 seeds of the study and its time is scaled to 1,000 jobs (the line says so); ``--full``
runs all 1,000. ``--quick`` is a smoke run with fewer epochs and networks.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def textbook_loop(epochs: int = 10000) -> list[float]:
    """The article's script, as written there: 2-4-1 sigmoid network, plain NumPy, no bias."""
    np.random.seed(42)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[0], [1], [1], [0]])
    W1 = np.random.rand(2, 4)
    W2 = np.random.rand(4, 1)

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def sigmoid_derivative(x):
        return x * (1 - x)

    printed = []
    for epoch in range(epochs):
        hidden = sigmoid(np.dot(X, W1))
        output = sigmoid(np.dot(hidden, W2))
        error = y - output
        if epoch % 1000 == 0:
            printed.append(float(np.mean(np.abs(error))))  # the article printed it; we keep it
        d_output = error * sigmoid_derivative(output)
        d_hidden = d_output.dot(W2.T) * sigmoid_derivative(hidden)
        W2 += hidden.T.dot(d_output) * 0.1
        W1 += X.T.dot(d_hidden) * 0.1
    return printed


def fewest_calls_loop(epochs: int = 10000) -> np.ndarray:
    """The textbook's maths in the fewest NumPy calls an epoch allows: the most any NumPy loop can gain.

    A reference, not the harness: every array is allocated once and written with ``out=``, the
    four products are BLAS's ``np.dot`` (their rounding depends on the library, so a network
    trained this way would not match itself inside a population), and it records the outputs of
    every epoch, as the harness does for its metrics, but writes no metrics or files. For one
    tiny network an epoch costs about what its NumPy calls cost, whatever they compute.
    """
    draws = np.random.RandomState(42)  # the article's draws, without touching NumPy's global generator
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    W1, W2 = draws.rand(2, 4), draws.rand(4, 1)
    z1, h, back, slope1 = (np.empty((4, 4)) for _ in range(4))
    z2, o, delta2, slope2 = (np.empty((4, 1)) for _ in range(4))
    step1, step2, outputs = np.empty((2, 4)), np.empty((4, 1)), np.empty((epochs, 4, 1))
    X_T, h_T, W2_T = X.T.copy(), h.T, W2.T
    dot, negative, exp, add = np.dot, np.negative, np.exp, np.add  # local names: no np.* lookup per call
    subtract, multiply, divide = np.subtract, np.multiply, np.divide
    for epoch in range(epochs):
        dot(X, W1, out=z1)  # h = 1 / (1 + exp(-X W1))
        negative(z1, out=z1)
        exp(z1, out=z1)
        add(z1, 1.0, out=z1)
        divide(1.0, z1, out=h)
        dot(h, W2, out=z2)  # o = 1 / (1 + exp(-h W2))
        negative(z2, out=z2)
        exp(z2, out=z2)
        add(z2, 1.0, out=z2)
        divide(1.0, z2, out=o)
        outputs[epoch] = o
        subtract(y, o, out=delta2)  # delta2 = (y - o) * o * (1 - o)
        subtract(1.0, o, out=slope2)
        multiply(slope2, o, out=slope2)
        multiply(delta2, slope2, out=delta2)
        dot(delta2, W2_T, out=back)  # delta1 = delta2 W2^T * h * (1 - h), kept in back
        subtract(1.0, h, out=slope1)
        multiply(slope1, h, out=slope1)
        multiply(back, slope1, out=back)
        dot(h_T, delta2, out=step2)  # W2 += 0.1 h^T delta2
        multiply(step2, 0.1, out=step2)
        add(W2, step2, out=W2)
        dot(X_T, back, out=step1)  # W1 += 0.1 X^T delta1
        multiply(step1, 0.1, out=step1)
        add(W1, step1, out=W1)
    return outputs


def jax_population(size: int, epochs: int) -> tuple[float, float] | None:
    """JAX's answer to a population: ``jit(vmap(scan(epoch)))`` over ``size`` article networks.

    Returns ``(seconds of the first call, compilation included; seconds per epoch per network
    of a second call)``, or ``None`` when JAX is not installed (``pip install -e ".[bench]"``).
    Same maths as the textbook, float64, the outputs of every epoch recorded.
    """
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    X = jnp.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=jnp.float64)
    y = jnp.array([[0], [1], [1], [0]], dtype=jnp.float64)
    draws = np.random.default_rng(0)
    W1, W2 = jnp.asarray(draws.random((size, 2, 4))), jnp.asarray(draws.random((size, 4, 1)))

    def epoch(weights, _):
        W1, W2 = weights
        h = jax.nn.sigmoid(X @ W1)
        o = jax.nn.sigmoid(h @ W2)
        delta2 = (o - y) * o * (1 - o)
        delta1 = (delta2 @ W2.T) * h * (1 - h)
        return (W1 - 0.1 * X.T @ delta1, W2 - 0.1 * h.T @ delta2), o

    population = jax.jit(jax.vmap(lambda W1, W2: jax.lax.scan(epoch, (W1, W2), None, length=epochs)))
    first = seconds(lambda: jax.block_until_ready(population(W1, W2)))
    again = seconds(lambda: jax.block_until_ready(population(W1, W2)))
    return first, again / epochs / size


def seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def harness_population(size: int, epochs: int, scratch: Path) -> float:
    """Seconds to train ``size`` networks of the article's config and write their run directories."""
    from hydra import compose, initialize_config_dir

    import src.run  # noqa: F401  (registers the config schema)
    from src.jobs import to_config
    from src.population import run_population

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        configs = [to_config(compose("config", [f"seed={seed}", f"epochs={epochs}"])) for seed in range(size)]
    target = Path(tempfile.mkdtemp(dir=scratch))
    try:
        return seconds(lambda: run_population(configs, [target / str(p) for p in range(size)]))
    finally:
        shutil.rmtree(target)


def harness_training(size: int, epochs: int) -> float:
    """Seconds for the training loop alone (forward, backward, update, metrics), no files."""
    from src.data import logic_gate
    from src.nn.init import InitSpec
    from src.nn.losses import Loss
    from src.nn.network import Architecture, init_params
    from src.nn.optim import SGD
    from src.train import train

    arch = Architecture((2, 4, 1))
    params = init_params(arch, [InitSpec(seed=seed) for seed in range(size)])
    optimizer, loss, data = SGD([0.1] * size), Loss("half_squared_error"), logic_gate("xor")
    return seconds(lambda: [None for _ in train(arch, params, optimizer, loss, data, epochs)])


class PeakMemory:
    """Samples the resident memory of a process and all its descendants, keeping the peak (bytes)."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._done = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _tree(self, pid: int) -> list[int]:
        pids = [pid]
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                for child in task.read_text().split():
                    pids += self._tree(int(child))
            except OSError:
                pass
        return pids

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._done.is_set():
            total = 0
            for pid in self._tree(self.pid):
                try:
                    total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
                except (OSError, ValueError, IndexError):
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.05)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


def command(args: list[str], sweep_dir: Path, measure_memory: bool = False) -> tuple[float, int]:
    """Seconds (and peak bytes) for ``python -m src.run ARGS`` into ``sweep_dir``, from start to exit."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "src.run", *args, f"hydra.sweep.dir={sweep_dir}", "report.auto=false"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    memory = PeakMemory(process.pid) if measure_memory and Path("/proc").is_dir() else None
    _, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    peak = memory.stop() if memory else 0
    if process.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(args)}\n{stderr}")
    return elapsed, peak


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30 if hasattr(os, "sysconf") else 0
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; Python {platform.python_version()}, NumPy {np.__version__}"
    )


def times(ratio: float) -> str:
    """A ratio with the digits that matter: ``0.32x``, ``2.7x``, ``140x``."""
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2f}x"


def row(what: str, figure: str, ratio: str = "") -> None:
    print(f"| {what} | {figure} | {ratio} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m src.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer epochs, networks and jobs")
    parser.add_argument(
        "--full", action="store_true", help="run all 1,000 jobs of the study with the basic launcher too"
    )
    args = parser.parse_args(argv)
    epochs = 1000 if args.quick else 10000
    populations = (10, 100) if args.quick else (10, 100, 1000)
    study = 100 if args.quick else 1000
    basic_jobs = study if args.full else max(10, study // 10)

    scratch = REPO / "outputs" / "bench"
    scratch.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}")
    print(f"{epochs} epochs of the article's 2-4-1 XOR network, float64.\n")
    print("| what | measured | ratio |")
    print("|---|---|---|")

    textbook = min(seconds(lambda: textbook_loop(epochs)) for _ in range(3)) / epochs
    row("textbook loop (the article's script), per epoch", f"{textbook * 1e6:.2f} us", "1x")
    fewest = min(seconds(lambda: fewest_calls_loop(epochs)) for _ in range(3)) / epochs
    row(
        "reference: one network in the fewest NumPy calls (no metrics, no files), per epoch",
        f"{fewest * 1e6:.2f} us",
        f"{times(textbook / fewest)} the textbook",
    )
    single = min(harness_population(1, epochs, scratch) for _ in range(3)) / epochs
    row(
        "harness, 1 network, metrics and CSV included, per epoch",
        f"{single * 1e6:.2f} us",
        f"{times(textbook / single)} the textbook",
    )
    loop = min(harness_training(1, epochs) for _ in range(3)) / epochs
    row(
        "harness, 1 network, training loop and metrics only, per epoch",
        f"{loop * 1e6:.2f} us",
        f"{times(textbook / loop)} the textbook",
    )
    for size in populations:
        per = harness_training(size, epochs) / epochs / size
        what = f"harness, population of {size}, training loop and metrics, per epoch per network"
        row(what, f"{per * 1e6:.3f} us", f"{times(textbook / per)} the textbook")
        per = harness_population(size, epochs, scratch) / epochs / size
        what = f"harness, population of {size}, run directories written too, per epoch per network"
        row(what, f"{per * 1e6:.3f} us", f"{times(textbook / per)} the textbook")
    jax_figures = jax_population(populations[-1], epochs)
    what = f"JAX jit + vmap + scan, population of {populations[-1]}, per epoch per network"
    if jax_figures is None:
        row(what, 'not measured: JAX is not installed (pip install -e ".[bench]")')
    else:
        row(
            f"{what} (after a first call of {jax_figures[0]:.1f} s)",
            f"{jax_figures[1] * 1e6:.3f} us",
            f"{times(textbook / jax_figures[1])} the textbook",
        )

    with tempfile.TemporaryDirectory(dir=scratch) as work:
        work = Path(work)
        grid = ["-m", "lr=0.1,0.5,1.0", "hidden=2,4,8", f"epochs={epochs}"]
        basic, _ = command([*grid, "hydra/launcher=basic"], work / "grid_basic")
        batched, _ = command(grid, work / "grid_batched")
        row("9-job sweep lr x hidden, basic launcher", f"{basic:.2f} s")
        row(
            "9-job sweep lr x hidden, batched launcher",
            f"{batched:.2f} s",
            f"{times(basic / batched)} the basic launcher",
        )

        seeds = ["-m", f"seed=range(0,{study})", f"epochs={epochs}"]
        basic_part, _ = command(
            ["-m", f"seed=range(0,{basic_jobs})", f"epochs={epochs}", "hydra/launcher=basic"], work / "seeds_basic"
        )
        basic_all = basic_part * study / basic_jobs
        scaled = "" if basic_jobs == study else f" (measured on {basic_jobs} jobs: {basic_part:.1f} s, scaled)"
        row(f"{study}-seed study, basic launcher{scaled}", f"{basic_all:.1f} s")
        batched_study, peak = command(seeds, work / "seeds_batched", measure_memory=True)
        row(
            f"{study}-seed study, batched launcher",
            f"{batched_study:.2f} s",
            f"{times(basic_all / batched_study)} the basic launcher",
        )
        row(f"{study}-seed study, batched launcher, peak memory (all processes)", f"{peak / 2**20:.0f} MB")

        from src.report import make_report

        report = seconds(lambda: make_report([work / "seeds_batched"], out_dir=work / "report"))
        row(f"report over the {study}-seed study", f"{report:.2f} s")


if __name__ == "__main__":
    main()
