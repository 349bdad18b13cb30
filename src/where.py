"""Picking runs by their config values, as typed after ``--where`` and ``--a``/``--b``: ``key=0.1,0.5``."""

from __future__ import annotations

import json

import pandas as pd
import yaml


def as_cell(text: str):
    """A value typed after ``=`` read as in YAML (``0.1``, ``true``, ``null``, ``[8,4]``), as the loader stores it."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def matches(column: pd.Series, alternatives: list[str]) -> pd.Series:
    """Rows whose value equals one of ``alternatives`` (as YAML values, or as text)."""
    wanted = [as_cell(text) for text in alternatives]
    as_text = column.map(lambda v: "null" if v is None or v != v else str(v))
    result = as_text.isin(alternatives)
    for value in wanted:
        result |= column.isna() if value is None else column.map(lambda v, value=value: v == value).astype(bool)
    return result
