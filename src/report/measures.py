"""Measures of runs and of settings (a setting: the runs that differ only in their seed).

Per run, for the chosen metric ``m`` and target ``T``:

* ``epochs_to_target``: the first logged epoch ``e`` with ``m_e < T`` (for ``accuracy``,
  where higher is better, ``m_e >= T``), or missing when the run never got there. Row ``e``
  of ``metrics.csv`` shows the network after ``e`` updates, so ``e`` is also the number of
  epochs it took.
* ``solved``: every final prediction on the right side of 0.5, ``all((o > 0.5) == (y > 0.5))``,
  the usual criterion for XOR. A diverged run has no predictions and is not solved. A run
  whose predictions cannot be compared with their targets (targets missing, text, ragged
  lists, shapes that differ) is neither: ``solved`` is missing, ``predictions_problem`` says
  why, and the success measure leaves the run out.
* ``final``: the last value of ``m``; a diverged run has none, and counts as ``+inf`` for
  the error metrics (``loss``, ``mae``, ``mse``: the worst possible) and as missing for accuracy.

Per setting, over its ``n`` runs: the count of each status, and over the *finished* runs
(``completed`` or ``diverged``; failed, interrupted, unfinished and unreadable runs say
nothing about how the setting learns and are only counted):

* ``success_rate = solved / checked``, ``checked`` being the finished runs whose predictions
  could be compared with their targets (all of them unless a summary is damaged)
* median, min and max of ``final``
* ``reached``: how many finished runs reached the target, and over those the median and
  the quartiles ``q1``, ``q3`` of ``epochs_to_target`` (the spread is ``q3 - q1``).

For the convergence figure, ``bands`` gives per setting and per epoch the quantiles of
``m`` across seeds; a diverged run counts as ``+inf`` from the epoch it diverged on (it
pulls the upper quantiles up instead of silently leaving the sample).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..metrics import HIGHER_IS_BETTER
from .tables import STATUSES, Sweep, ordered_settings

DEFAULT_TARGETS = {"loss": 0.05, "mae": 0.1, "mse": 0.025, "accuracy": 1.0}
FINISHED = ("completed", "diverged")


def reached(values: np.ndarray, metric: str, target: float) -> np.ndarray:
    """Where ``values`` of ``metric`` are at the target: ``< target``, or ``>= target`` for accuracy."""
    return values >= target if metric in HIGHER_IS_BETTER else values < target


class DamagedPredictions(ValueError):
    """A summary's predictions that cannot be compared with their targets; the message says why."""


def is_solved(predictions: dict | None) -> bool:
    """``all((o > 0.5) == (y > 0.5))`` over every output of every sample; ``False`` without outputs.

    Raises ``DamagedPredictions`` when outputs are there but cannot be compared with the targets.
    """
    if not predictions or predictions.get("outputs") is None:
        return False
    if predictions.get("targets") is None:
        raise DamagedPredictions("has outputs but no targets")
    try:
        outputs, targets = np.asarray(predictions["outputs"], float), np.asarray(predictions["targets"], float)
    except (TypeError, ValueError) as error:  # text, ragged lists, nested mappings
        raise DamagedPredictions(f"are not two tables of numbers ({str(error).splitlines()[0]})") from None
    if outputs.shape != targets.shape:
        raise DamagedPredictions(f"have outputs of shape {outputs.shape} but targets of shape {targets.shape}")
    return bool(np.all((outputs > 0.5) == (targets > 0.5)))


def rate_text(k: int, n: int) -> str:
    """``k/n`` and its percentage, never rounded to 0 % or 100 % unless it is: ``997/1000 (99.7%)``."""
    if n == 0:
        return f"{k}/0"
    share = 100 * k / n
    decimals = 1 if 0 < share < 10 else 0  # two digits at least: 1.7 %, not 2 %
    while k not in (0, n) and not 0 < round(share, decimals) < 100:
        decimals += 1
    return f"{k}/{n} ({share:.{decimals}f}%)"


def metric_block(curves: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of ``curves`` for one metric (still sorted by run, then epoch)."""
    if metric not in curves["metric"].cat.categories:
        raise ValueError(f"the curves hold {list(curves['metric'].cat.categories)}, not {metric!r}")
    return curves[curves["metric"] == metric]


def epochs_to_target(curves: pd.DataFrame, metric: str, target: float) -> pd.Series:
    """First epoch at the target, per run (index ``run``); runs that never got there are absent."""
    block = metric_block(curves, metric)
    at_target = reached(block["value"].to_numpy(), metric, target)
    hits = block[at_target]
    first = hits.drop_duplicates("run")  # rows are in epoch order within a run
    return pd.Series(first["epoch"].to_numpy(), index=pd.Index(first["run"].to_numpy(), name="run"))


def final_values(runs: pd.DataFrame, metric: str) -> pd.Series:
    """``final_<metric>`` for runs that finished; ``+inf`` (errors) or missing (accuracy) for diverged ones."""
    final = runs[f"final_{metric}"].astype(float).where(runs["status"].isin(FINISHED))
    worst = np.nan if metric in HIGHER_IS_BETTER else np.inf
    return final.mask(runs["status"] == "diverged", worst)


def run_measures(sweep: Sweep, metric: str, target: float) -> pd.DataFrame:
    """``sweep.runs`` with ``final``, ``epochs_to_target`` and ``solved`` for ``metric`` and ``target``."""
    runs = sweep.runs.copy()
    runs["final"] = final_values(runs, metric)
    if "reached_target_at" in runs:  # found while the curves were read whole (a report keeps fewer rows)
        runs["epochs_to_target"] = runs.pop("reached_target_at")
    else:
        runs["epochs_to_target"] = epochs_to_target(sweep.curves, metric, target).reindex(runs.index).astype("Int64")
    solved, problems = [], []
    for predictions in runs["predictions"]:
        try:
            solved.append(is_solved(predictions))
            problems.append(None)
        except DamagedPredictions as error:
            solved.append(None)
            problems.append(f"summary.json: its predictions {error}")
    runs["solved"] = pd.array(solved, dtype="boolean")
    runs["predictions_problem"] = pd.Series(problems, index=runs.index, dtype=object)
    return runs


def setting_measures(runs: pd.DataFrame, setting_keys: list[str], metric: str) -> pd.DataFrame:
    """One row per setting (see the module's docstring), in the order of the settings' values."""
    groups = runs.groupby("setting", sort=False)
    finished = runs["status"].isin(FINISHED)
    table = groups[setting_keys].first() if setting_keys else pd.DataFrame(index=groups.size().index)
    table["runs"] = groups.size()
    counts = pd.crosstab(runs["setting"], runs["status"]).reindex(columns=STATUSES, fill_value=0)
    table = table.join(counts)
    table["finished"] = table["completed"] + table["diverged"]
    checked = finished & runs["solved"].notna().to_numpy()
    table["solved"] = (runs["solved"].fillna(False).to_numpy() & checked).groupby(runs["setting"]).sum()
    table["checked"] = checked.groupby(runs["setting"]).sum()
    table["success_rate"] = table["solved"] / table["checked"].replace(0, np.nan)
    final = runs["final"].groupby(runs["setting"])
    table[f"final_{metric}_median"] = final.median()
    table[f"final_{metric}_min"] = final.min()
    table[f"final_{metric}_max"] = final.max()
    epochs = runs["epochs_to_target"].astype(float).where(finished).groupby(runs["setting"])
    table["reached"] = epochs.count()
    table["epochs_to_target_median"] = epochs.median()
    table["epochs_to_target_q1"] = epochs.quantile(0.25)
    table["epochs_to_target_q3"] = epochs.quantile(0.75)
    order = [s for s in ordered_settings(runs, setting_keys) if s in table.index]
    table = table.loc[order]
    table.index.name = "setting"
    return table


@dataclass
class Bands:
    """One setting's curves across seeds: ``quantiles[q]`` per epoch for q in 0, .25, .5, .75, 1."""

    epochs: np.ndarray  # (E,)
    quantiles: dict[float, np.ndarray]  # each (E,)
    runs: np.ndarray  # the runs measured
    samples: list[np.ndarray]  # the curves of a few of them, spread evenly over the runs, to draw one by one


QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)


def column_quantiles(matrix: np.ndarray, qs=QUANTILES) -> dict[float, np.ndarray]:
    """Quantiles of each column of ``matrix (runs, epochs)``, ignoring NaN, ``inf`` allowed.

    Linear interpolation between order statistics, as ``np.nanquantile`` does:
    with the ``n`` values of a column sorted, ``x_q = x[floor(p)] + (p - floor(p)) * (x[ceil(p)] - x[floor(p)])``
    at ``p = q * (n - 1)``. Sorting once serves every quantile.
    """
    ordered = np.sort(matrix.T, axis=1)  # NaN sorts last, after +inf
    counts = np.sum(~np.isnan(ordered), axis=1)
    rows = np.arange(len(ordered))
    result = {}
    with np.errstate(invalid="ignore"):
        for q in qs:
            position = q * np.maximum(counts - 1, 0)
            low = np.floor(position).astype(int)
            high = np.ceil(position).astype(int)
            below, above = ordered[rows, low], ordered[rows, high]
            value = np.where(below == above, below, below + (position - low) * (above - below))
            result[q] = np.where(counts > 0, value, np.nan)
    return result


def bands(sweep: Sweep, runs: pd.DataFrame, metric: str, samples: int = 50) -> dict[str, Bands]:
    """Per setting (in the order of ``runs``), the quantiles of ``metric`` across its runs at every epoch logged.

    A run's logged epochs are a prefix of those of the longest run of its setting (the
    same ``log.every``), so row ``i`` of the setting's matrix is run ``i``'s curve, padded.
    """
    block = metric_block(sweep.curves, metric)
    run_of_row = block["run"].to_numpy()
    epochs_all, values_all = block["epoch"].to_numpy(), block["value"].to_numpy()
    result = {}
    for setting, members in runs.groupby("setting", sort=False).groups.items():
        members = np.asarray(members)
        starts = np.searchsorted(run_of_row, members, "left")
        stops = np.searchsorted(run_of_row, members, "right")
        keep = stops > starts
        members, starts, stops = members[keep], starts[keep], stops[keep]
        if not len(members):
            continue
        longest = np.argmax(stops - starts)
        epochs = epochs_all[starts[longest] : stops[longest]]
        matrix = np.full((len(members), len(epochs)), np.nan)
        diverged = (runs.loc[members, "status"] == "diverged").to_numpy()
        for i, (start, stop) in enumerate(zip(starts, stops)):
            matrix[i, : stop - start] = values_all[start:stop]
            if diverged[i] and metric not in HIGHER_IS_BETTER:
                matrix[i, stop - start :] = np.inf
        chosen = np.unique(np.linspace(0, len(members) - 1, min(samples, len(members))).round().astype(int))
        curves = [values_all[starts[i] : stops[i]] for i in chosen]
        result[setting] = Bands(epochs, column_quantiles(matrix), members, curves)
    return result
