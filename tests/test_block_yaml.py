"""The fast reader of Hydra's config files gives what the YAML library gives, or steps aside."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from src.rundir.block_yaml import read_block_yaml

keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.sampled_from(["${lr}", "${oc.env:HOME}", "0.1", "true", "null", "a: b", "x #y", "*a", "&b", "'q'", "[1, 2]", ""]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(scalars, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)
configs = st.dictionaries(keys, values, min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(configs)
def test_the_fast_reader_agrees_with_the_yaml_library_or_steps_aside(config):
    text = OmegaConf.to_yaml(OmegaConf.create(config))
    ours = read_block_yaml(text)
    assert ours is None or ours == yaml.safe_load(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" -:abc[]{}'\"#&*\n0123456789.", max_size=80))
def test_any_text_reads_as_the_library_reads_it_or_steps_aside(text):
    ours = read_block_yaml(text)
    if ours is not None:
        assert ours == yaml.safe_load(text)


def test_a_config_as_hydra_writes_it_is_read_without_the_library():
    text = "lr: 0.1\nmodel:\n  hidden:\n  - 8\n  - 4\n  bias: false\ntags: []\nnotes: ''\ninit:\n  seed: ${seed}\n"
    assert read_block_yaml(text) == {
        "lr": 0.1, "model": {"hidden": [8, 4], "bias": False}, "tags": [], "notes": "", "init": {"seed": "${seed}"},
    }  # fmt: skip
