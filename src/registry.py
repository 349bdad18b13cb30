"""Registries: every component a config can choose, registered once, beside its own code.

An optimiser, loss, activation, initialisation scheme, random generator or dataset is one
class or function, registered under the name a config gives it::

    OPTIMIZERS = Registry("optimizer", "optimizer.name")

    @OPTIMIZERS.register("sgd")
    class SGD: ...

``OPTIMIZERS["sgd"]`` is then the class, and a name nobody registered is a ``ConfigError``
naming the key, the value and the registered names: it never falls through to another
component. The config's allowed values, its checks, the help page and the tests' lists of
options all read the registries, so a new component is its class plus its YAML file in
``conf/<group>/``.

A component reads the config keys named by its parameters (``Momentum(lr, momentum,
nesterov)`` reads ``optimizer.lr``, ``optimizer.momentum`` and ``optimizer.nesterov``),
except those the harness supplies itself (``supplied``, such as the random generator of an
initialisation scheme). ``keys_read`` lists them, so that a key the chosen component would
ignore can be refused.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping

from .errors import ConfigError


class Registry(Mapping):
    """The components of one kind, by name, in the order they were registered."""

    def __init__(self, kind: str, key: str, supplied: tuple[str, ...] = ()):
        self.kind = kind  # what a component is, in words: "optimizer", "init scheme", ...
        self.key = key  # the config key that names one: "optimizer.name", "init.scheme", ...
        self.supplied = supplied  # parameters the harness fills in, not the config
        self._components: dict[str, Callable] = {}
        self._keys: dict[str, tuple[str, ...]] = {}

    def register(self, name: str) -> Callable:
        """A decorator: ``@OPTIMIZERS.register("sgd")`` above ``class SGD``."""

        def add(component: Callable) -> Callable:
            if name in self._components:
                raise ValueError(f"two {self.kind}s registered as {name!r}")
            self._components[name] = component
            parameters = inspect.signature(component).parameters
            self._keys[name] = tuple(p for p in parameters if p not in self.supplied)
            return component

        return add

    def __getitem__(self, name: str) -> Callable:
        if name not in self._components:
            raise ConfigError(self.key, name, f"one of {', '.join(self)} (the registered {self.kind}s)")
        return self._components[name]

    def __contains__(self, name) -> bool:
        return name in self._components

    def __iter__(self) -> Iterator[str]:
        return iter(self._components)

    def __len__(self) -> int:
        return len(self._components)

    def keys_read(self, name: str) -> tuple[str, ...]:
        """The config keys component ``name`` reads: its parameters, less those the harness supplies."""
        self[name]  # an unknown name is a ConfigError
        return self._keys[name]

    def readers_of(self, key: str) -> list[str]:
        """The names of the components that read ``key``."""
        return [name for name in self if key in self.keys_read(name)]

    def build(self, name: str, settings, **supplied):
        """Component ``name`` called with the keys it reads, taken from ``settings``, and ``supplied``."""
        return self[name](**supplied, **{key: getattr(settings, key) for key in self.keys_read(name)})
