"""A run's labels: ``tags=[baseline,wide]`` and ``notes="..."`` in its config, kept in its summary.

Labels say what a run is *for*, not what it learns: they do not enter its fingerprint
(``config_sha``), so resuming a sweep with new tags keeps its runs. The loader stores a
config's list as its JSON text (``["baseline", "wide"]``); here it becomes a list again,
for the catalog (a ``tags`` column, ``--tag NAME``), the report (``tags`` and ``notes`` in
``runs.csv``) and the exporters (MLflow tags and description).
"""

from __future__ import annotations

import json

import pandas as pd

LABEL_KEYS = ("tags", "notes")


def tags_of(value) -> list[str]:
    """A config's ``tags`` cell as a list: ``'["a", "b"]'`` -> ``["a", "b"]``; missing -> ``[]``."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(tag) for tag in value] if isinstance(value, list) else []


def tagged(config: pd.DataFrame, index: pd.Index, names: list[str]) -> pd.Series:
    """Which runs of ``index`` carry every tag of ``names`` (all of them when ``names`` is empty)."""
    if not names:
        return pd.Series(True, index=index)
    cells = config["tags"].reindex(index) if "tags" in config else pd.Series(None, index=index)
    return cells.map(lambda cell: set(names) <= set(tags_of(cell))).astype(bool)


def with_labels(table: pd.DataFrame, config: pd.DataFrame, before: str | None = None) -> pd.DataFrame:
    """``table`` with a ``tags`` column (``baseline, wide``) and a ``notes`` column, when any run has one.

    The columns go before the column ``before`` (at the end when ``None``).
    """
    table = table.drop(columns=[key for key in LABEL_KEYS if key in table.columns])
    labels = {
        "tags": config["tags"].reindex(table.index).map(lambda cell: ", ".join(tags_of(cell)))
        if "tags" in config
        else None,
        "notes": config["notes"].reindex(table.index).fillna("") if "notes" in config else None,
    }
    for key, column in labels.items():
        if column is not None and (column != "").any():
            table.insert(table.columns.get_loc(before) if before else len(table.columns), key, column)
    return table
