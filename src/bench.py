"""``python -m src.bench``: how fast the harness is where users wait, measured side by side on this machine.

Prints one table, in three parts:

* **whole commands, as users run them**: the article's textbook script as a process against
  ``python -m src.run`` (the same network, 10,000 epochs), CPU time (user + system, the process
  and its children) and wall time, medians of paired runs; then the headline sweep
  ``python -m src.run -m lr=0.1,0.5,1.0 hidden=2,4,8`` with its report, as users run it, with the
  batched launcher (the default) and Hydra's basic one;
* **the population loop** (forward, backward, update and metrics; no files), in microseconds per
  epoch per network, for 1, 10, 100, 1,000 and 10,000 networks, beside JAX's ``jit`` + ``vmap`` +
  ``scan`` of the same maths when JAX is installed (the ``bench`` extra), medians of interleaved
  rounds; for one network also the textbook loop and the fewest NumPy calls an epoch allows;
* **a study**: 1,000 seeds of the article's network with both launchers (the basic one runs 100
  of them and is scaled, unless ``--full``), the batched one's peak memory, and the report over it.

``--quick`` is a smoke run: fewer epochs, networks, pairs and jobs.
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
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
    """Samples the memory of a process and all its descendants together, keeping the peak (bytes)."""

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

    @staticmethod
    def _memory(pid: int) -> int:
        """The process's proportional set size (a page shared by n processes counts 1/n in each: forked
        shards share their parent's pages), or its resident size where the kernel does not tell it."""
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        try:
            return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, sum(self._memory(pid) for pid in self._tree(self.pid)))
            time.sleep(0.05)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


@dataclass
class Spent:
    """What a command cost: wall seconds, CPU seconds (user + system, children included), peak bytes."""

    wall: float
    cpu: float
    peak: int = 0


def spent_by(argv: list[str], measure_memory: bool = False, env: dict | None = None) -> Spent:
    """Run ``argv`` from the repository to its exit; what it cost. Only one command runs at a time, so the
    CPU time of this process's children before and after is the command's (and its own children's).
    It starts once the files earlier commands wrote are on disk (a 1,000-seed study leaves 800 MB
    that the kernel would otherwise write back during the next command, adding seconds to it)."""
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    environment = {**os.environ, **(env or {})}
    os.sync()  # the earlier commands' files on disk first: a command pays for its own writes, not theirs
    process = subprocess.Popen(
        argv, cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    memory = PeakMemory(process.pid) if measure_memory and Path("/proc").is_dir() else None
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = memory.stop() if memory else 0
    if process.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(argv)}\n{stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Spent(wall, cpu, peak)


def command(args: list[str], sweep_dir: Path, measure_memory: bool = False, report: bool = False) -> Spent:
    """``python -m src.run ARGS`` into ``sweep_dir`` (with its report when asked), start to exit."""
    argv = [
        sys.executable,
        "-m",
        "src.run",
        *args,
        f"hydra.sweep.dir={sweep_dir}",
        f"report.auto={str(report).lower()}",
    ]
    return spent_by(argv, measure_memory)


def textbook_script(epochs: int) -> str:
    """The article's script as a program of its own: the textbook loop, printing its loss every 1,000 epochs."""
    return (
        f"import numpy as np\n\n{inspect.getsource(textbook_loop)}\n"
        f"for epoch, loss in zip(range(0, {epochs}, 1000), textbook_loop({epochs})):\n"
        f"    print(f'Epoch {{epoch}}: Loss = {{loss:.4f}}')\n"
    )


def single_run_against_textbook(epochs: int, pairs: int, scratch: Path) -> tuple[Spent, Spent, Spent]:
    """Medians over ``pairs`` paired runs: the textbook script as a process, the same with one BLAS
    thread (as the harness runs: OpenBLAS's idle threads spin, and count as CPU), ``python -m src.run``."""
    textbook, one_thread, single = [], [], []
    for pair in range(pairs):
        textbook.append(spent_by([sys.executable, "-c", textbook_script(epochs)]))
        one_thread.append(spent_by([sys.executable, "-c", textbook_script(epochs)], env={"OPENBLAS_NUM_THREADS": "1"}))
        run_dir = scratch / f"single-{pair}"
        single.append(spent_by([sys.executable, "-m", "src.run", f"epochs={epochs}", f"hydra.run.dir={run_dir}"]))
        shutil.rmtree(run_dir, ignore_errors=True)
    return median_spent(textbook), median_spent(one_thread), median_spent(single)


def median_spent(runs: list[Spent]) -> Spent:
    return Spent(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def population_loops(sizes: tuple[int, ...], epochs_for, rounds: int) -> dict[int, tuple[float, float | None, float]]:
    """Seconds per epoch per network of the harness's loop and of JAX's, medians of ``rounds`` interleaved
    rounds, and JAX's first call (compilation included), for each population size: ``{size: (harness, jax, first)}``.
    """
    harness: dict[int, list[float]] = {size: [] for size in sizes}
    jax: dict[int, list[tuple[float, float]]] = {size: [] for size in sizes}
    for _ in range(rounds):
        for size in sizes:
            epochs = epochs_for(size)
            harness[size].append(harness_training(size, epochs) / epochs / size)
            figures = jax_population(size, epochs)
            if figures is not None:
                jax[size].append(figures)
    return {
        size: (
            statistics.median(harness[size]),
            statistics.median(per for _, per in jax[size]) if jax[size] else None,
            statistics.median(first for first, _ in jax[size]) if jax[size] else 0.0,
        )
        for size in sizes
    }


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


def cost(spent: Spent) -> str:
    return f"{spent.cpu:.2f} s CPU, {spent.wall:.2f} s wall"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m src.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer epochs, networks, pairs and jobs")
    parser.add_argument(
        "--full", action="store_true", help="run all 1,000 jobs of the study with the basic launcher too"
    )
    parser.add_argument("--scale", action="store_true", help="also the 10,000- and 100,000-seed studies (many minutes)")
    args = parser.parse_args(argv)
    epochs = 1000 if args.quick else 10000
    pairs, rounds = (2, 1) if args.quick else (7, 3)
    sizes = (1, 10, 100) if args.quick else (1, 10, 100, 1000, 10000)
    network_epochs = 10**5 if args.quick else 10**7  # per population size: enough epochs to time, not more

    def epochs_for(size: int) -> int:
        return max(100, min(epochs, network_epochs // size))

    study = 100 if args.quick else 1000
    basic_jobs = study if args.full else max(10, study // 10)

    scratch = REPO / "outputs" / "bench"
    scratch.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}")
    print(f"The article's 2-4-1 XOR network, float64, {epochs} epochs unless said otherwise.\n")
    print("| what | measured | ratio |")
    print("|---|---|---|")

    with tempfile.TemporaryDirectory(dir=scratch) as work:
        work = Path(work)
        textbook, one_thread, single = single_run_against_textbook(epochs, pairs, work)
        what = f"median of {pairs} paired runs"
        row(f"the article's textbook script, as a process ({what})", cost(textbook), "1x")
        row(
            "the same script with one BLAS thread (`OPENBLAS_NUM_THREADS=1`, as the harness runs)",
            cost(one_thread),
            f"{one_thread.cpu / textbook.cpu:.2f}x the textbook's CPU",
        )
        row(
            f"`python -m src.run`, the same network, as a process ({what})",
            cost(single),
            f"{single.cpu / textbook.cpu:.1f}x the textbook's CPU ({single.cpu / one_thread.cpu:.1f}x with one BLAS "
            f"thread), {single.wall / textbook.wall:.1f}x its wall",
        )
        grid = ["-m", "lr=0.1,0.5,1.0", "hidden=2,4,8", f"epochs={epochs}"]
        sweeps = [command(grid, work / f"grid_batched_{i}", report=True) for i in range(3)]
        batched = sorted(sweeps, key=lambda spent: spent.cpu)[1]  # the median of three, by CPU
        basic = command([*grid, "hydra/launcher=basic"], work / "grid_basic", report=True)
        row(
            "`python -m src.run -m lr=0.1,0.5,1.0 hidden=2,4,8`, with its report (batched launcher, median of 3)",
            cost(batched),
            f"{batched.cpu / (9 * textbook.cpu):.2f}x the CPU of nine textbook scripts "
            f"({batched.cpu / (9 * one_thread.cpu):.2f}x with one BLAS thread)",
        )
        row(
            "the same sweep and report, `hydra/launcher=basic`",
            cost(basic),
            f"{basic.wall / batched.wall:.1f}x the batched launcher's wall",
        )

    textbook_epoch = min(seconds(lambda: textbook_loop(epochs)) for _ in range(3)) / epochs
    row("textbook loop (the article's script) in this process, per epoch", f"{textbook_epoch * 1e6:.2f} us", "1x")
    fewest = min(seconds(lambda: fewest_calls_loop(epochs)) for _ in range(3)) / epochs
    row(
        "reference: one network in the fewest NumPy calls (no metrics, no files), per epoch",
        f"{fewest * 1e6:.2f} us",
        f"{times(textbook_epoch / fewest)} the textbook",
    )
    largest = 1000 if 1000 in sizes else sizes[-1]
    written = harness_population(largest, epochs_for(largest), scratch) / epochs_for(largest) / largest
    row(
        f"harness, population of {largest}, run directories written too, per epoch per network",
        f"{written * 1e6:.3f} us",
        f"{times(textbook_epoch / written)} the textbook",
    )

    loops = population_loops(sizes, epochs_for, rounds)  # JAX last: its threads and fork() do not mix
    medians = f"median of {rounds} interleaved rounds" if rounds > 1 else "one round"
    for size, (harness, jax, first) in loops.items():
        what = f"population of {size} ({epochs_for(size)} epochs, {medians}), per epoch per network"
        row(
            f"harness loop (forward, backward, update, metrics), {what}",
            f"{harness * 1e6:.3f} us",
            f"{times(textbook_epoch / harness)} the textbook",
        )
        if jax is None:
            row(f"JAX jit + vmap + scan, {what}", 'not measured: JAX is not installed (pip install -e ".[bench]")')
        else:
            row(
                f"JAX jit + vmap + scan, {what} (first call {first:.1f} s)",
                f"{jax * 1e6:.3f} us",
                f"harness: {harness / jax:.2f}x JAX's time",
            )
    with tempfile.TemporaryDirectory(dir=scratch) as work:
        work = Path(work)
        basic_part = command(
            ["-m", f"seed=range(0,{basic_jobs})", f"epochs={epochs}", "hydra/launcher=basic"], work / "seeds_basic"
        ).wall
        basic_all = basic_part * study / basic_jobs
        scaled = "" if basic_jobs == study else f" (measured on {basic_jobs} jobs: {basic_part:.1f} s, scaled)"
        row(f"{study}-seed study, basic launcher{scaled}", f"{basic_all:.1f} s")
        seeds = ["-m", f"seed=range(0,{study})", f"epochs={epochs}"]
        every_core, one_core = [], []
        for pair in range(3):  # paired, alternated, without the memory sampler (it costs the sampled CPU)
            for runs, extra, name in (
                (every_core, [], "seeds_batched"),
                (one_core, ["hydra.launcher.workers=1"], "seeds_one_worker"),
            ):
                directory = work / (name if pair == 0 else f"{name}_{pair}")
                runs.append(command([*seeds, *extra], directory))
                if pair:
                    shutil.rmtree(directory, ignore_errors=True)
        batched_study, one_worker = median_spent(every_core), median_spent(one_core)
        row(
            f"{study}-seed study, batched launcher (shards on every core, median of 3)",
            f"{batched_study.wall:.2f} s",
            f"{times(basic_all / batched_study.wall)} the basic launcher",
        )
        peak = command(seeds, work / "seeds_memory", measure_memory=True).peak
        shutil.rmtree(work / "seeds_memory", ignore_errors=True)
        row(f"{study}-seed study, batched launcher, peak memory (all processes)", f"{peak / 2**20:.0f} MB")
        row(
            f"{study}-seed study, batched launcher, `hydra.launcher.workers=1` (median of 3, paired)",
            f"{one_worker.wall:.2f} s",
            f"every core ({os.cpu_count()}): {times(one_worker.wall / batched_study.wall)} faster",
        )
        report = median_spent([report_command(work / "seeds_batched", work / "report") for _ in range(5)])
        peak = report_command(work / "seeds_batched", work / "report", measure_memory=True).peak
        row(
            f"`python -m src.report` over the {study}-seed study (median of 5; peak memory of all processes, "
            "from a sixth run)",
            f"{report.wall:.2f} s, {report.cpu:.2f} s CPU ({peak / 2**20:.0f} MB)",
        )

    if args.scale:
        scale_studies(scratch)


def report_command(sweep_dir: Path, out: Path, measure_memory: bool = False) -> Spent:
    """``python -m src.report SWEEP --out OUT`` as a process: what it cost (peak memory when asked: the
    sampler reads the kernel's page tables 20 times a second, which costs the report time)."""
    argv = [sys.executable, "-m", "src.report", str(sweep_dir), "--out", str(out)]
    return spent_by(argv, measure_memory)


def scale_studies(scratch: Path) -> None:
    """The studies of issue 11's scale: 10,000 seeds of the article's run and 100,000 seeds of 1,000
    epochs (every 10th row kept), end to end with peak memory of all processes; the report over the
    first. Minutes each, so only with ``--scale``."""
    for seeds, extra in ((10_000, ["epochs=10000"]), (100_000, ["epochs=1000", "log.every=10"])):
        with tempfile.TemporaryDirectory(dir=scratch) as work:
            study = command(["-m", f"seed=range(0,{seeds})", *extra], Path(work) / "study", measure_memory=True)
            row(
                f"{seeds:,}-seed study ({', '.join(extra)}), batched launcher, end to end",
                f"{study.wall:.1f} s ({study.peak / 2**20:.0f} MB peak, all processes)",
            )
            if seeds == 10_000:
                report = report_command(Path(work) / "study", Path(work) / "report")
                peak = report_command(Path(work) / "study", Path(work) / "report", measure_memory=True).peak
                row(
                    f"`python -m src.report` over the {seeds:,}-seed study (peak memory of all processes, "
                    "from a second run)",
                    f"{report.wall:.1f} s, {report.cpu:.1f} s CPU ({peak / 2**20:.0f} MB)",
                )


if __name__ == "__main__":
    main()
