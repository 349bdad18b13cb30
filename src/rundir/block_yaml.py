"""Hydra's config files, read fast: the block-style YAML that Hydra and the launchers write.

A study of 10,000 runs has 10,000 ``.hydra/config.yaml`` files, each about a hundred lines of
``key: value`` and ``- item``, and nearly every line repeats in every file (``activation:
sigmoid``). A YAML library builds every value of every file anew; here a file is cut into
lines, and each distinct line is taken apart once (``line_parts``: its indent, key and value, the
value read by the YAML library), so a study pays for its distinct lines, not for all of them.

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


DECIMAL_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")  # an integer the YAML library reads as ``int(text)``


@functools.lru_cache(maxsize=65536)
def _scalar(text: str):
    if DECIMAL_INT.fullmatch(text):  # a seed: as many texts as runs, so not left to the (slow) library
        return int(text)
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


ITEM_KEY = None  # the key of a list item's line


@functools.lru_cache(maxsize=65536)
def line_parts(line: str) -> tuple[int, str | None, str | None]:
    """``(indent, key, value text)`` of a line: key ``ITEM_KEY`` for a list item ``- value``, value text
    ``None`` for ``key:`` with its block below. Raises ``NotPlain`` for any other line. Most lines of a
    study's configs are the same in every file, so each distinct line is taken apart once."""
    key_match = KEY.match(line)
    if key_match:
        return len(key_match.group(1)), key_match.group(2), key_match.group(3)
    item_match = ITEM.match(line)
    if item_match:
        return len(item_match.group(1)), ITEM_KEY, item_match.group(2)
    raise NotPlain(line)


def _read(text: str) -> dict:
    root: dict = {}
    stack: list[tuple[int, dict | list]] = [(0, root)]  # (indent of the lines inside, container), innermost last
    pending: tuple[int, dict, str] | None = None  # a ``key:`` whose block (mapping or list) comes next
    for line in text.splitlines():
        if not line.strip():
            continue
        indent, name, value = line_parts(line)
        is_item = name is ITEM_KEY
        if pending is not None:  # the first line of a block says what the block is
            owner_indent, owner, owner_name = pending
            pending = None
            if not is_item and indent > owner_indent:
                block: dict | list = {}
            elif is_item and indent >= owner_indent:
                block = []
            else:
                raise NotPlain(line)  # ``key:`` with nothing under it (null): left to the library
            owner[owner_name] = block
            stack.append((indent, block))
        while stack[-1][0] > indent or (not is_item and isinstance(stack[-1][1], list) and stack[-1][0] == indent):
            stack.pop()  # the blocks that this line closes (a list ends at a key of its own indent)
        top_indent, container = stack[-1]
        if top_indent != indent:
            raise NotPlain(line)
        if is_item:
            if not isinstance(container, list):
                raise NotPlain(line)
            container.append(scalar(value))
            continue
        if not isinstance(container, dict) or name in container:
            raise NotPlain(line)
        if value is None:
            pending = (indent, container, name)
        else:
            container[name] = scalar(value)
    if pending is not None or not root:
        raise NotPlain("a key with nothing under it at the end, or no key at all")
    return root
