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


class SweepLoader:
    """What the launcher asks of Hydra's config loader: the whole config of a job's overrides."""

    def load_sweep_config(self, master_config, overrides):
        from hydra import compose, initialize_config_dir

        with initialize_config_dir(config_dir=CONF, version_base="1.3"):
            return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


JOBS = [
    ["seed=3"], ["seed=4"], ["lr=1"], ["lr=0.5", "hidden=[8,4]", "seed=12"], ["hidden=3", "epochs=7"],
    ["optimizer=adam", "lr=0.01"], ["optimizer=adam", "lr=0.02", "optimizer.beta1=0.5"],
    ["lr=0.5", "optimizer.lr=0.2"], ["init=xavier", "seed=9"], ["train.shuffle_seed=5", "seed=6"],
    ["tags=[x,y]", "notes=n"], ["+model.extra=1"], ["lr=abc"], ["lr=-1"], ["seed=-2"],
    ["lr=0.5", "optimizer.lr=${epochs}"], ["seed=${epochs}"], ["lr=${epochs}"], ["hidden=${seed}", "seed=3"],
]  # fmt: skip


def test_a_jobs_typed_config_made_from_its_template_is_its_whole_conversion(tmp_path):
    """``TypedConfigs`` converts each composition once and replaces each job's values: the same
    ``Config`` (or the same error) as converting the job's whole config, job after job."""
    from hydra_plugins.xor_harness_launcher._compose import Composer
    from hydra_plugins.xor_harness_launcher.protocol import PopulationJob
    from src.errors import ConfigError
    from src.jobs import TypedConfigs, to_config

    composer = Composer(SweepLoader().load_sweep_config(None, []), SweepLoader())
    composer.sweep_dir = tmp_path
    typed, told_as_variants = TypedConfigs(), 0
    for num, overrides in enumerate(JOBS * 2):
        job = composer.compose(num, overrides)
        member = PopulationJob(
            num, overrides, tmp_path, tmp_path, job.cfg, make_converted=job.converted, make_variant=job.variant
        )
        told_as_variants += job.variant() is not None
        try:
            whole = to_config(job.cfg())
        except Exception as error:  # the same error either way
            with pytest.raises(type(error)) as raised:
                typed.of(member)
            assert str(raised.value) == str(error)
            assert isinstance(error, ConfigError) or job.error is not None
            continue
        assert typed.of(member) == whole, overrides
    assert told_as_variants >= 2 * (len(JOBS) - 2)  # all but the +key and lr=abc jobs
    assert typed.bases and len(typed.bases) <= 4  # a composition converted once, not a job


def test_a_jobs_config_yaml_is_the_whole_dump_of_its_config():
    """The template's config.yaml with a job's values filled in is what dumping the job's config writes."""
    from omegaconf import OmegaConf

    from hydra_plugins.xor_harness_launcher._compose import Composer, to_yaml

    composer = Composer(SweepLoader().load_sweep_config(None, []), SweepLoader())
    values = [["seed=3"], ["seed=4", "lr=1"], ["lr=1e-3", "seed=5"], ["notes='a: b'"], ["notes=yes"], ["notes='1.5'"],
              ["hidden=[8,4]"], ["lr=${epochs}"], ["log.decimals=7", "model.bias=true"], ["dataset.path=a/b c"],
              ["notes='a long note with many words that the dumper may fold over several lines at some width'"]]  # fmt: skip
    filled = 0
    for overrides in values * 2:
        _, parsed, _ = composer._split(overrides)
        template = composer.template(())
        with template.values_set(parsed):
            text = template.config_text(parsed)
            whole = to_yaml(OmegaConf.to_container(template.job, resolve=False, enum_to_str=True))
        assert text is None or text == whole, overrides
        filled += text is not None
    assert filled >= 2 * (len(values) - 3)  # all but the list, the interpolation and the long note


def test_an_integer_override_is_read_as_hydras_parser_reads_it():
    """``seed=41`` is made directly, equal to what Hydra's parser makes; anything else is parsed."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from hydra_plugins.xor_harness_launcher._compose import Composer

    parser = OverridesParser.create()
    made = ["seed=3", "seed=-12", "a.b_c=0", "_x=10", "x1.y2=99999999999999999999", "init.seed=4294967295"]
    for text in made:
        assert Composer._plain_integer(text) == parser.parse_overrides([text])[0]
    for text in ["seed=007", "seed=1_000", "seed=+3", "x=-0", "lr=0.5", "a..b=3", "+seed=3", "seed=3 ", "hydra/x=1"]:
        assert Composer._plain_integer(text) is None
