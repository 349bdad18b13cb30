"""The batched launcher writes the same run directories as Hydra's basic launcher, faster."""

import json

import numpy as np
import pytest

from .conftest import CONF, run_cli

MIXED_SWEEP = [
    "lr=0.1,30",
    "hidden=2,[3,2]",
    "optimizer=sgd,adam",
    "model.output_activation=sigmoid,identity",  # identity with lr=30 diverges
    "epochs=300",
    "report.auto=false",
]


def sweep(tmp_path, name, *launcher):
    done = run_cli("-m", *MIXED_SWEEP, *launcher, f"hydra.sweep.dir={tmp_path / name}")
    assert done.returncode == 0, done.stderr
    return tmp_path / name, done.stdout


@pytest.mark.slow
def test_batched_and_basic_launchers_write_the_same_run_directories(tmp_path):
    batched, printed = sweep(tmp_path, "batched")
    basic, _ = sweep(tmp_path, "basic", "hydra/launcher=basic")
    assert "population of 2" in printed  # lr pairs train together, the rest of the grid apart
    jobs = sorted(p.name for p in basic.iterdir() if p.is_dir())
    assert len(jobs) == 16 and jobs == sorted(p.name for p in batched.iterdir() if p.is_dir())
    statuses = set()
    for job in jobs:
        a, b = batched / job, basic / job
        assert sorted(f.name for f in a.rglob("*")) == sorted(f.name for f in b.rglob("*"))
        for name in ("metrics.csv", ".hydra/config.yaml", ".hydra/overrides.yaml"):
            assert (a / name).read_bytes() == (b / name).read_bytes(), (job, name)
        with np.load(a / "params.npz") as pa, np.load(b / "params.npz") as pb:
            assert sorted(pa.files) == sorted(pb.files)
            for key in pa.files:
                np.testing.assert_array_equal(pa[key], pb[key])
        sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
        for key in (
            "status",
            "final",
            "predictions",
            "epochs_run",
            "diverged_at_epoch",
            "seed",
            "overrides",
            "config_sha",
        ):
            assert sa[key] == sb[key], (job, key)
        statuses.add(sa["status"])
    assert statuses == {"completed", "diverged"}


@pytest.mark.slow
def test_a_diverging_member_does_not_disturb_its_population(tmp_path):
    overrides = ["model.activation=tanh", "model.output_activation=identity", "epochs=400", "report.auto=false"]
    done = run_cli("-m", "lr=0.05,40,0.2", *overrides, f"hydra.sweep.dir={tmp_path / 'together'}")
    assert done.returncode == 0 and "population of 3" in done.stdout
    for job, lr in enumerate(("0.05", "40", "0.2")):
        alone = run_cli(f"lr={lr}", *overrides, f"hydra.run.dir={tmp_path / 'alone' / str(job)}")
        assert alone.returncode == 0
        together = tmp_path / "together" / str(job)
        assert (together / "metrics.csv").read_bytes() == (tmp_path / "alone" / str(job) / "metrics.csv").read_bytes()
    assert json.loads((tmp_path / "together" / "1" / "summary.json").read_text())["status"] == "diverged"


def test_batched_is_the_default_launcher_for_sweeps(tmp_path):
    done = run_cli("-m", "seed=1,2", "epochs=20", "report.auto=false", f"hydra.sweep.dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    assert "population of 2" in done.stdout
    assert "BatchedLauncher" in (tmp_path / "0" / ".hydra" / "hydra.yaml").read_text()


@pytest.mark.parametrize(
    "overrides",
    [["seed=3"], ["lr=0.5", "hidden=[8,4]", "seed=12"], ["notes='a: b'", "tags=[x,y]"],
     ["notes='a long note with many words that the dumper may fold over several lines at some width'"]],
)  # fmt: skip
def test_a_jobs_hydra_yaml_is_the_whole_dump_of_its_hydra_node(tmp_path, overrides):
    """The template's hydra.yaml with a job's fields filled in is what dumping the job's node writes."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from hydra_plugins.xor_harness_launcher._compose import Template, to_yaml

    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        full = compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
    template = Template(full)
    for num in (0, 7, 123):
        output = str(tmp_path / "sweeps" / "a_much_longer_directory_name_without_any_spaces_in_it_at_all" / str(num))
        hydra = {
            **template.hydra,
            "overrides": {**template.hydra["overrides"], "task": list(overrides)},
            "job": {**template.hydra["job"], "id": num, "num": num, "override_dirname": ",".join(overrides)},
            "runtime": {**template.hydra["runtime"], "output_dir": output},
        }
        text = template.hydra_text(num, list(overrides), ",".join(overrides), output)
        assert text is None or text == to_yaml({"hydra": hydra})
        assert text is not None or len(overrides) == 1 and " " in overrides[0]  # only the long note is left out
        assert OmegaConf.create(text or to_yaml({"hydra": hydra})).hydra.job.num == num
