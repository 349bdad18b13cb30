"""Each job's config, run directory and ``.hydra/`` texts, composing as few times as possible.

Hydra's basic launcher composes the config from scratch for every job (about 50 ms). Here a
job's overrides are split: those that only set a value (``lr=0.5``, ``seed=3``) and those that
change the composition (``optimizer=adam``, ``+key``, ``~key``, ``hydra.*``). Hydra composes
once per distinct set of the second kind (a ``Template``); each job's values are set in that
composition, as Hydra sets them after composing, its texts read out, and the values set back.
The texts are those Hydra writes: OmegaConf's YAML style, written by libyaml.

At thousands of jobs, what a job costs beyond its values is kept flat: ``config.yaml`` and
``hydra.yaml`` are the template's texts, dumped once, with the job's values filled in (or dumped
whole when a value would not come out the same in place); ``seed=41`` is read without Hydra's
parser, and other overrides are parsed once however many jobs repeat them; and the values a job
changes, resolved, are handed to the task (``Variant``), which can then convert the template's
config once instead of every job's.
"""

import copy
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hydra import version
from hydra._internal.config_loader_impl import get_overrides_dirname
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType, ValueType
from omegaconf import (
    AnyNode,
    BooleanNode,
    DictConfig,
    FloatNode,
    IntegerNode,
    ListConfig,
    OmegaConf,
    StringNode,
    ValueNode,
    open_dict,
    read_write,
)
from omegaconf._utils import OmegaConfDumper
from omegaconf.errors import OmegaConfBaseException

from src.rundir.files import write_file

from .protocol import Variant

_ABSENT = object()


class YamlWriter(yaml.CDumper if hasattr(yaml, "CDumper") else yaml.Dumper):
    """OmegaConf's YAML style (strings that read as numbers or booleans are quoted), in libyaml's speed."""


YamlWriter.add_representer(str, OmegaConfDumper.str_representer)


def to_yaml(container) -> str:
    """What ``OmegaConf.to_yaml`` writes for a config, given as a plain container."""
    return yaml.dump(container, Dumper=YamlWriter, default_flow_style=False, allow_unicode=True, sort_keys=False)


def _raw(container: dict, key: str):
    """The value at dotted ``key`` of a plain container, as composed (interpolations kept)."""
    for part in key.split("."):
        container = container[int(part)] if isinstance(container, list) else container[part]
    return container


def interpolated_keys(container, prefix: str = "") -> Iterator[str]:
    """The dotted keys of ``container``'s values that are interpolations (``${lr}``); a list holding
    one is named whole."""
    for key, value in container.items():
        if isinstance(value, dict):
            yield from interpolated_keys(value, f"{prefix}{key}.")
        elif isinstance(value, str) and "${" in value or isinstance(value, list) and "${" in str(value):
            yield f"{prefix}{key}"


SLOTS = {name: f"XOR_HARNESS_SLOT_{name.upper()}" for name in ("id", "num", "dirname", "output", "task")}
VALUE_SLOT = "XOR_HARNESS_VALUE_"
REFERENCE = re.compile(r"\$\{([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\}")
PLAIN_INTEGER = re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)=(0|-?[1-9][0-9]*)")  # Hydra reads an int
REMEMBERED = 4096  # parsed overrides kept by a Composer
FOLDS_PAST = 60  # characters: a longer value with spaces may be folded over lines, differently in place


class _Section(Exception):
    """A value of a job is a whole section: the job is not told as a ``Variant``."""


def _nothing(value) -> bool:
    return False


# The values each kind of node holds as they are given (an int in a FloatNode becomes a float, ...).
HOLDS_UNCONVERTED = {
    AnyNode: lambda value: isinstance(value, int | float | str | bool) or value is None,
    IntegerNode: lambda value: type(value) is int,
    FloatNode: lambda value: type(value) is float,
    StringNode: lambda value: type(value) is str,
    BooleanNode: lambda value: type(value) is bool,
}


class Template:
    """One composition (with its ``hydra`` node), shared by every job that differs from it only in values.

    ``job`` is the job config alone; ``full`` the whole composition. A job's values are set in
    both (``values_set``), read out, and set back, so no job pays for a copy it does not need.
    """

    def __init__(self, full: DictConfig):
        self.full = full
        self.job = copy.deepcopy(full)
        with read_write(self.job), open_dict(self.job):
            del self.job["hydra"]
        self.composed = OmegaConf.to_container(self.job, resolve=False)
        self.hydra = OmegaConf.to_container(full.hydra, resolve=False, enum_to_str=True)
        self.env_set = OmegaConf.to_container(full.hydra.job.env_set, resolve=True)
        self.skeleton: str | None = None  # hydra.yaml with SLOTS for the fields that differ between jobs
        self.config_skeletons: dict[tuple[str, ...], str] = {}  # config.yaml with a slot for each key set
        self.interpolated = list(interpolated_keys(self.composed))
        self.references = {  # an interpolation that only names another key: ``${seed}``
            key: match[1] for key in self.interpolated if (match := REFERENCE.fullmatch(str(_raw(self.composed, key))))
        }
        chdir = full.hydra.job.chdir  # unset: as run_job decides, by the app's version_base
        self.chdir = (not version.base_at_least("1.2")) if chdir is None else bool(chdir)

    @contextmanager
    def values_set(self, values: list[Override], whole: bool = True) -> Iterator[None]:
        """The job config (and the whole composition, unless ``whole=False``) with ``values`` set;
        raises when a value does not fit."""
        configs = (self.job, self.full) if whole else (self.job,)
        try:
            for override in values:
                for config in configs:
                    OmegaConf.update(config, override.key_or_group, override.value(), merge=True)
            yield
        finally:
            for override in values:
                composed = _raw(self.composed, override.key_or_group)
                for config in configs:
                    OmegaConf.update(config, override.key_or_group, composed, merge=False)

    def depends_on(self, key: str, changed: set[str], depth: int = 0) -> bool:
        """Whether interpolation ``key`` may resolve differently once the keys ``changed`` are set: yes,
        unless it only names a key that none of them is, contains or lies in (or names one that doesn't)."""
        reference = self.references.get(key)
        if reference is None or depth > len(self.references):
            return True  # ${oc.env:X}, ${now:...}, "lr${lr}", ...: resolved anew for every job
        if any(reference == c or c.startswith(f"{reference}.") or reference.startswith(f"{c}.") for c in changed):
            return True
        return reference in self.interpolated and self.depends_on(reference, changed, depth + 1)

    def node(self, key: str):
        """The job config's node at dotted ``key``."""
        node = self.job
        for part in key.split("."):
            node = node._get_node(part)
        return node

    def changes(self, values: list[Override]) -> dict | None:
        """With ``values`` set: the job's resolved value at every key they set and at every interpolation
        that may depend on them, as ``OmegaConf.to_object`` would resolve it; ``None`` when a value
        is a whole section or cannot be resolved (the job is then converted whole)."""
        changed = [override.key_or_group for override in values]
        found: dict = {}
        try:
            for key in changed:
                found[key] = self._resolved(key, found)
            set_keys = set(changed)
            for key in self.interpolated:
                if self.depends_on(key, set_keys):
                    found[key] = self._resolved(key, found)
        except (OmegaConfBaseException, _Section):
            return None
        return found

    def _resolved(self, key: str, found: dict):
        """The value at ``key``: a plain value as it is set; ``${other}`` as ``other``'s value already
        found, when the node would hold it unconverted (an int in an int node, ...); else as
        ``OmegaConf.select`` resolves it."""
        node = self.node(key)
        if isinstance(node, ValueNode):
            raw = node._value()
            if not (isinstance(raw, str) and "${" in raw):
                return raw
            reference = REFERENCE.fullmatch(raw)  # the job's own text: a job may set an interpolation
            reference = reference[1] if reference else None
            if reference in found and HOLDS_UNCONVERTED.get(type(node), _nothing)(found[reference]):
                return found[reference]
        value = OmegaConf.select(self.job, key, throw_on_missing=True)
        if isinstance(value, DictConfig):
            raise _Section(key)
        return OmegaConf.to_container(value, resolve=True) if isinstance(value, ListConfig) else value

    def config_text(self, values: list[Override]) -> str | None:
        """The job's ``.hydra/config.yaml`` (its values already set): the template's text, dumped once
        for these keys, with the job's values filled in; ``None`` when a value is not a plain scalar
        that the dump of the whole would write the same way in place (a list, an interpolation, ...)."""
        keys = tuple(override.key_or_group for override in values)
        if keys not in self.config_skeletons:
            container = copy.deepcopy(self.composed)
            for i, key in enumerate(keys):
                parent, _, name = key.rpartition(".")
                (_raw(container, parent) if parent else container)[name] = f"{VALUE_SLOT}{i}_"
            self.config_skeletons[keys] = to_yaml(container)
        text = self.config_skeletons[keys]
        for i, key in enumerate(keys):
            value = self.node(key)._value()
            if not isinstance(value, int | float | str | bool | None) or isinstance(value, str) and "${" in value:
                return None
            rendered = to_yaml(value).removesuffix("\n")
            if "\n" in rendered or " " in rendered and len(rendered) > FOLDS_PAST or text.count(f"{VALUE_SLOT}{i}_") != 1:
                return None
            text = text.replace(f"{VALUE_SLOT}{i}_", rendered)
        return text

    def job_cfg(self, values: list[Override]) -> DictConfig:
        """A job's own config, as a task function receives it."""
        with self.values_set(values):
            return copy.deepcopy(self.job)

    def hydra_text(self, num: int, overrides: list[str], dirname: str, output_dir: str) -> str | None:
        """Job ``num``'s ``.hydra/hydra.yaml``: the template's text, dumped once, with the job's own fields
        filled in; ``None`` when a field would not come out as the dump of the whole would write it."""
        if self.skeleton is None:
            job = {**self.hydra["job"], "id": SLOTS["id"], "num": SLOTS["num"], "override_dirname": SLOTS["dirname"]}
            self.skeleton = to_yaml({"hydra": {
                **self.hydra, "overrides": {**self.hydra["overrides"], "task": [SLOTS["task"]]}, "job": job,
                "runtime": {**self.hydra["runtime"], "output_dir": SLOTS["output"]},
            }})  # fmt: skip
        filled = {"id": num, "num": num, "dirname": dirname, "output": output_dir}
        rendered = {name: to_yaml(value).removesuffix("\n") for name, value in filled.items()}
        items = [to_yaml(item).removesuffix("\n") for item in overrides]
        texts = [*rendered.values(), *items]
        if not overrides or any("\n" in text or " " in text and len(text) > FOLDS_PAST for text in texts):
            return None  # an empty list, or text the dumper may fold: left to the whole dump
        text = self.skeleton
        for name, value in rendered.items():
            if text.count(SLOTS[name]) != 1:
                return None
            text = text.replace(SLOTS[name], value)
        slot_line = next((line for line in text.splitlines() if line.strip() == f"- {SLOTS['task']}"), None)
        if slot_line is None:
            return None
        indent = slot_line[: slot_line.index("-")]
        return text.replace(slot_line, "\n".join(f"{indent}- {item}" for item in items))

    @property
    def subdir_reads_values(self) -> bool:
        return self.hydra["sweep"]["subdir"] != "${hydra.job.num}"

    def subdir(self, num: int, overrides: list[str], dirname: str) -> str:
        """``hydra.sweep.subdir`` for job ``num`` (its values already set), resolved as ``run_job`` resolves it."""
        if not self.subdir_reads_values:
            return str(num)
        with read_write(self.full.hydra), open_dict(self.full.hydra):
            self.full.hydra.job.update(id=num, num=num, override_dirname=dirname)
            self.full.hydra.overrides.task = list(overrides)
            return str(self.full.hydra.sweep.subdir)


@dataclass
class ComposedJob:
    """One job of the sweep: what the launcher writes for it and where, before anything runs.

    ``error`` is the error that made its values not fit (``lr=abc``): its config cannot be made.
    """

    num: int
    overrides: list[str]
    run_dir: Path
    template: Template
    values: list[Override]
    config_yaml: str | None  # None once written: a large sweep need not hold every job's text
    dirname: str  # hydra.job.override_dirname
    output_dir: str  # hydra.runtime.output_dir
    error: OmegaConfBaseException | None
    changes: dict | None = None  # Template.changes, found while the job's values were set

    @property
    def hydra(self) -> dict:
        """The job's ``hydra`` node, as a plain container: the template's with the job's own fields
        (made when asked for: at 100,000 jobs, holding one for each costs hundreds of MB)."""
        template = self.template.hydra
        return {
            **template,
            "overrides": {**template["overrides"], "task": list(self.overrides)},
            "job": {**template["job"], "id": self.num, "num": self.num, "override_dirname": self.dirname},
            "runtime": {**template["runtime"], "output_dir": self.output_dir},
        }

    @property
    def name(self) -> str:
        """``hydra.job.name``."""
        return self.template.hydra["job"]["name"]

    def cfg(self) -> DictConfig:
        if self.error is not None:
            raise self.error
        return self.template.job_cfg(self.values)

    def converted(self, convert: Callable[[DictConfig], Any]) -> Any:
        """``convert(cfg)``, given the template's config with this job's values set: no copy is made."""
        if self.error is not None:
            raise self.error
        with self.template.values_set(self.values, whole=False):
            return convert(self.template.job)

    def variant(self) -> Variant | None:
        """This job as its template's config with the values ``Template.changes`` found changed;
        ``None`` when they could not be told apart that way, or the job's values do not fit."""
        if self.error is not None or self.changes is None:
            return None
        return Variant(self.template.job, self.changes)

    def hydra_cfg(self) -> DictConfig:
        return OmegaConf.create({"hydra": self.hydra})

    def hydra_yaml(self) -> str:
        """``.hydra/hydra.yaml``: the template's text with this job's fields, or the whole dumped."""
        text = self.template.hydra_text(self.num, self.overrides, self.dirname, self.output_dir)
        return text if text is not None else to_yaml({"hydra": self.hydra})

    def working_dir(self, original_cwd: str) -> Path:
        return self.run_dir if self.template.chdir else Path(original_cwd)


class Composer:
    """Composes a batch of jobs with the fewest compositions (``fast=False``: one per job, as Hydra does)."""

    def __init__(self, config: DictConfig, config_loader, fast: bool = True):
        self.config, self.config_loader, self.fast = config, config_loader, fast
        self.templates: dict[tuple[str, ...], Template] = {}
        self.sweep_dir = Path(str(config.hydra.sweep.dir))
        self.parser = OverridesParser.create()
        self.parsed: dict[tuple[str, ...], list[Override]] = {}  # what the parser read, by the overrides' texts
        self.kinds: dict[tuple, bool] = {}  # _sets_a_value, by key, kind and package

    def _split(self, overrides: list[str]) -> tuple[tuple[str, ...], list[Override], list[Override]]:
        """(overrides that change the composition, those that only set a value, all of them parsed)."""
        structural, values = [], []
        parsed = self._parsed(overrides)
        for override in parsed:
            if self._sets_a_value(override.key_or_group, override.type, override.package):
                values.append(override)
            else:
                structural.append(override.input_line)
        return tuple(structural), values, parsed

    def _parsed(self, overrides: list[str]) -> list[Override]:
        """``overrides`` as Hydra's parser reads them; ``key=<integer>`` (``seed=41``: every job of a
        study of seeds has its own) made directly, as the parser makes it, at a hundredth of its cost."""
        parsed = [self._plain_integer(text) for text in overrides]
        rest = iter(self._parse(tuple(text for text, override in zip(overrides, parsed) if override is None)))
        return [override if override is not None else next(rest) for override in parsed]

    @staticmethod
    def _plain_integer(text: str) -> Override | None:
        match = PLAIN_INTEGER.fullmatch(text)
        if match is None:
            return None
        key, value = match.groups()
        return Override(OverrideType.CHANGE, key, ValueType.ELEMENT, int(value), input_line=text)

    def _parse(self, overrides: tuple[str, ...]) -> list[Override]:
        """Hydra's parser, remembering what it read: a grid's jobs repeat the same few overrides."""
        if overrides not in self.parsed:
            if len(self.parsed) >= REMEMBERED:
                self.parsed.clear()
            self.parsed[overrides] = self.parser.parse_overrides(list(overrides)) if overrides else []
        return self.parsed[overrides]

    def _sets_a_value(self, key: str, kind: OverrideType, package: str | None) -> bool:
        """Whether an override of ``key`` only sets a value (``lr=0.5``), not the composition."""
        if (key, kind, package) not in self.kinds:
            self.kinds[key, kind, package] = self._decide(key, kind, package)
        return self.kinds[key, kind, package]

    def _decide(self, key: str, kind: OverrideType, package: str | None) -> bool:
        node = OmegaConf.select(self.config, key, default=_ABSENT, throw_on_missing=False)
        return (
            self.fast
            and kind == OverrideType.CHANGE  # not +key, ++key or ~key
            and package is None
            and not key.startswith("hydra")
            and node is not _ABSENT
            and not isinstance(node, DictConfig)  # a whole node is a group's choice
        )

    def template(self, structural: tuple[str, ...]) -> Template:
        if structural not in self.templates or not self.fast:
            full = self.config_loader.load_sweep_config(self.config, list(structural))
            OmegaConf.copy_cache(from_config=self.config, to_config=full)
            self.templates[structural] = Template(full)
        return self.templates[structural]

    def compose(self, num: int, overrides: list[str]) -> ComposedJob:
        structural, values, parsed = self._split(overrides)
        template = self.template(structural)
        names = template.hydra["job"]["config"]["override_dirname"]
        dirname = get_overrides_dirname(
            overrides=parsed, kv_sep=names["kv_sep"], item_sep=names["item_sep"], exclude_keys=names["exclude_keys"]
        )
        error, config_yaml, changes = None, "", None
        try:
            with template.values_set(values, whole=template.subdir_reads_values):
                config_yaml = template.config_text(values)
                if config_yaml is None:
                    config_yaml = to_yaml(OmegaConf.to_container(template.job, resolve=False, enum_to_str=True))
                subdir = template.subdir(num, overrides, dirname)
                changes = template.changes(values)
        except OmegaConfBaseException as bad_value:  # a value of the wrong type, such as lr=abc
            error = bad_value
            subdir = template.subdir(num, overrides, dirname)
        run_dir = self.sweep_dir / subdir
        output_dir = os.path.abspath(run_dir)
        return ComposedJob(num, list(overrides), run_dir, template, values, config_yaml, dirname, output_dir, error, changes)


def write_hydra_files(job: ComposedJob, output_subdir: str | None, job_name: str) -> None:
    """``.hydra/config.yaml``, ``hydra.yaml``, ``overrides.yaml`` and the job log, as ``run_job`` leaves them."""
    job.run_dir.mkdir(parents=True, exist_ok=True)
    write_file(job.run_dir / f"{job_name}.log", b"", truncate=False)
    if output_subdir is None:
        return
    hydra_dir = job.run_dir / output_subdir
    hydra_dir.mkdir(parents=True, exist_ok=True)
    write_file(hydra_dir / "config.yaml", job.config_yaml.encode("utf-8"))
    job.config_yaml = None  # written: not held for the rest of the sweep
    write_file(hydra_dir / "hydra.yaml", job.hydra_yaml().encode("utf-8"))
    write_file(hydra_dir / "overrides.yaml", to_yaml(job.overrides).encode("utf-8"))

