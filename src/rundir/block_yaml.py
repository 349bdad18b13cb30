"""Hydra's config files, read fast: the block-style YAML that Hydra and the launchers write.

A study of 10,000 runs has 10,000 ``.hydra/config.yaml`` files, each about a hundred lines of
``key: value`` and ``- item``, and nearly every line repeats in every file (``activation:
sigmoid``). A YAML library builds every value of every file anew; here a file is cut into
lines, and each distinct value text is read by the YAML library once (``scalar``), so a
study pays for its distinct lines, not for all of them.

Only the plain shape Hydra writes is read this way: mappings by indentation, block lists of
plain values, and values that are complete on their line (numbers, words, quoted strings,
``[8, 4]``, ``{}``, ``null``). Anything else (comments, anchors, tags, multi-line strings,
lists of mappings) returns ``None``, and the caller reads the file with the YAML library.
"""

from __future__ import annotations

import copy
import functools
import re

import yaml

try:
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as Loader

KEY = re.compile(r"( *)([A-Za-z_][\w-]*):(?: (.*))?$")  # indent, key, value (None: a block follows)
ITEM = re.compile(r"( *)- (.*)$")  # indent, value
NOT_PLAIN = ("&", "*", "!", "|", ">", "#", "%", "@", "`")


class NotPlain(Exception):
    """The text is not in the plain shape read here."""


@functools.lru_cache(maxsize=65536)
def _scalar(text: str):
    if not text or text.startswith(NOT_PLAIN) or " #" in text:
        raise NotPlain(text)
    try:
        value = yaml.load(text, Loader=Loader)
    except yaml.YAMLError:
        raise NotPlain(text) from None
    if isinstance(value, (dict, list)) and not text.startswith(("[", "{")):
        raise NotPlain(text)  # ``a: b`` read as a mapping: not a plain value
    return value


def scalar(text: str):
    """One value as the YAML library reads it, when it stands complete on its line (read once per text)."""
    value = _scalar(text)
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def read_block_yaml(text: str) -> dict | None:
    """The mapping in ``text``, or ``None`` when it is not in the plain shape (see the module)."""
    try:
        return _read(text)
    except NotPlain:
        return None


def _read(text: str) -> dict:
    root: dict = {}
    stack: list[tuple[int, dict | list]] = [(0, root)]  # (indent of the lines inside, container), innermost last
    pending: tuple[int, dict, str] | None = None  # a ``key:`` whose block (mapping or list) comes next
    for line in text.splitlines():
        if not line.strip():
            continue
        key_match = KEY.match(line)
        item_match = None if key_match else ITEM.match(line)
        if key_match is None and item_match is None:
            raise NotPlain(line)
        indent = len((key_match or item_match).group(1))
        if pending is not None:  # the first line of a block says what the block is
            owner_indent, owner, name = pending
            pending = None
            if key_match and indent > owner_indent:
                block: dict | list = {}
            elif item_match and indent >= owner_indent:
                block = []
            else:
                raise NotPlain(line)  # ``key:`` with nothing under it (null): left to the library
            owner[name] = block
            stack.append((indent, block))
        while stack[-1][0] > indent or (key_match and isinstance(stack[-1][1], list) and stack[-1][0] == indent):
            stack.pop()  # the blocks that this line closes (a list ends at a key of its own indent)
        top_indent, container = stack[-1]
        if top_indent != indent:
            raise NotPlain(line)
        if item_match:
            if not isinstance(container, list):
                raise NotPlain(line)
            container.append(scalar(item_match.group(2)))
            continue
        name, value = key_match.group(2), key_match.group(3)
        if not isinstance(container, dict) or name in container:
            raise NotPlain(line)
        if value is None:
            pending = (indent, container, name)
        else:
            container[name] = scalar(value)
    if pending is not None or not root:
        raise NotPlain("a key with nothing under it at the end, or no key at all")
    return root
