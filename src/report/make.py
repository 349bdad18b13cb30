"""Make the report of one or more sweeps: disk -> tables -> figures -> files.

    make_report(["outputs/sweeps/A"], metric="mae", target=0.1)

writes into ``<first sweep>/report/`` (or ``out_dir``):

    report.html            the whole report in one self-contained page
    convergence.png        curves across seeds per setting
    heatmaps.png           for a sweep over two values or more
    epochs_to_target.png   how many epochs each setting needed
    decision_surfaces.png  for datasets of two inputs
    search_trials.png      for a search (Optuna): the objective by trial, the best so far
    runs.csv, settings.csv the tables, one row per run and per setting

and returns the path of ``report.html``. A figure that cannot be drawn is named on the
page (with the reason) instead of stopping the report.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..rundir.files import replace_file
from ..rundir.reader import has_params
from ..tags import with_labels
from . import html as h
from .article import article_runs, article_table
from .measures import (
    DEFAULT_TARGETS,
    FINISHED,
    HIGHER_IS_BETTER,
    bands,
    rate_text,
    run_measures,
    setting_measures,
)
from .surfaces import decision_surface, has_two_inputs, representative_run
from .tables import STATUSES, Sweep, load_sweeps

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURES = ("convergence", "heatmaps", "epochs_to_target", "decision_surfaces", "search_trials")
UNREADABLE_SETTING = "(config unreadable)"
MAX_SURFACES = 16
MAX_HTML_RUNS = 2000
CURVE_POINTS = 2000  # rows kept of each run's curve for the figures (epochs to target use every row) ...
CURVE_ROWS = 4_000_000  # ... or fewer, so that all runs' curves together keep about this many (32 MB a column)


def target_text(metric: str, target: float) -> str:
    return f"{metric} ≥ {target:g}" if metric in HIGHER_IS_BETTER else f"{metric} < {target:g}"


def metric_label(sweep: Sweep, metric: str) -> str:
    """The metric with its unit, such as ``loss (half_squared_error, sum over samples)``."""
    if metric == "loss":
        names = {
            f"{name}, {'sum over samples' if reduction == 'sum' else 'mean over samples and outputs'}"
            for name, reduction in zip(sweep.config.get("loss.name", []), sweep.config.get("loss.reduction", []))
            if isinstance(name, str)
        }
        return f"loss ({names.pop()})" if len(names) == 1 else "loss (training objective; differs between runs)"
    return {
        "mae": "mae, mean |y - o| (output units)",
        "mse": "mse, mean (y - o)² (output units squared)",
        "accuracy": "accuracy (share of outputs on the right side of 0.5)",
    }[metric]


def counts_text(runs: pd.DataFrame) -> str:
    counts = runs["status"].value_counts()
    return ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts.get(s, 0))


def at_a_glance(settings: pd.DataFrame, metric: str, what: str) -> list[str]:
    """A few sentences that answer: which settings converge, how fast, how reliably.

    Only settings with two finished runs or more are ranked on reliability: one seed says
    nothing about how often a setting solves the task.
    """
    if settings.empty:
        return []
    lines = []
    final = f"final_{metric}_median"
    ascending = metric not in HIGHER_IS_BETTER
    rated = settings[settings["checked"] >= 2]
    if len(settings) == 1 and len(rated):  # nothing to rank it against
        only = rated.iloc[0]
        lines.append(
            f"{rate_text(int(only['solved']), int(only['checked']))} of the finished runs solved the task, "
            f"median final {metric} {only[final]:.3g}."
        )
    elif len(rated):
        best = rated.sort_values(["success_rate", final], ascending=[False, ascending], kind="stable").iloc[0]
        lines.append(
            f"Most reliable: {best.name}, {rate_text(int(best['solved']), int(best['checked']))} of its finished "
            f"runs solved the task, median final {metric} {best[final]:.3g}."
        )
    single = settings[settings["finished"] == 1]
    if len(single) == len(settings):
        ranked = settings.dropna(subset=[final]).sort_values(final, ascending=ascending, kind="stable")
        if len(ranked):
            lines.append(f"Best final {metric}: {ranked.index[0]}, {ranked[final].iloc[0]:.3g} (one seed).")
        lines.append(
            "Every setting ran with one seed, so none is ranked on reliability across seeds; "
            "add seeds (such as seed=0,1,2,3,4) to measure it."
        )
    elif len(single):
        lines.append(f"{len(single)} setting(s) have one finished run only and are not ranked on reliability.")
    reached = settings.dropna(subset=["epochs_to_target_median"])
    if len(reached):
        fastest = reached.sort_values("epochs_to_target_median", kind="stable").iloc[0]
        if fastest["finished"] == 1:
            lines.append(
                f"Fastest to {what}: {fastest.name}, {fastest['epochs_to_target_median']:.0f} epochs (one seed)."
            )
        else:
            lines.append(
                f"Fastest to {what}: {fastest.name}, median {fastest['epochs_to_target_median']:.0f} epochs "
                f"({int(fastest['reached'])} of its {int(fastest['finished'])} finished runs got there)."
            )
    never = settings.index[(settings["reached"] == 0) & (settings["finished"] > 0)]
    if len(never):
        lines.append(f"{len(never)} setting(s) never reached {what}: {'; '.join(never[:10])}.")
    diverging = settings.index[settings["diverged"] > 0]
    if len(diverging):
        lines.append(f"Runs diverged in {len(diverging)} setting(s): {'; '.join(diverging[:10])}.")
    return lines


def not_normal_lines(runs: pd.DataFrame) -> list[str]:
    """One sentence per status other than completed or diverged, with the first run's problem."""
    lines = []
    for status in ("failed", "unreadable", "interrupted", "unfinished", "running"):
        chosen = runs[runs["status"] == status]
        if len(chosen):
            first = chosen["problem"].dropna()
            why = f" (the first: {str(first.iloc[0]).splitlines()[0][:200]})" if len(first) else ""
            lines.append(f"{len(chosen)} run(s) {status}{why}; see Runs that did not finish normally.")
    return lines


def shared_configuration(config: pd.DataFrame) -> dict:
    """The config keys whose value is the same in every run whose config could be read."""
    readable = config.dropna(how="all")
    if readable.empty:
        return {}
    first = readable.iloc[0]
    shared = {}
    for key in readable.columns:
        column = readable[key]
        if column.nunique(dropna=False) != 1:
            continue
        if isinstance(first[key], (bool, int, float, np.number)) and column.map(type).nunique() != 1:
            continue  # 1, 1.0 and True hash alike, but a config that says 1 here and true there differs
        shared[key] = first[key]
    return shared


def settings_shown(settings: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The settings table as the page shows it: the columns that answer the question first (success as a
    count and a percentage, final value, epochs to target), then spread and counts; a status that no
    run has is left out (settings.csv keeps every column)."""
    shown = pd.DataFrame(index=settings.index)
    shown["success"] = [
        rate_text(int(k), int(n)).replace(" ", "\u00a0") if n else "– (no finished run)"
        for k, n in zip(settings["solved"], settings["checked"])
    ]
    shown[f"final {metric} (median)"] = settings[f"final_{metric}_median"]
    shown["epochs to target (median)"] = settings["epochs_to_target_median"]
    shown["reached target"] = [f"{int(k)}/{int(n)}" for k, n in zip(settings["reached"], settings["finished"])]
    shown[f"final {metric} (min)"] = settings[f"final_{metric}_min"]
    shown[f"final {metric} (max)"] = settings[f"final_{metric}_max"]
    shown["epochs to target (q1)"] = settings["epochs_to_target_q1"]
    shown["epochs to target (q3)"] = settings["epochs_to_target_q3"]
    if (settings["finished"] <= 1).all():  # one seed each: min, max and quartiles repeat the median
        shown = shown.drop(columns=[c for c in shown if c.endswith(("(min)", "(max)", "(q1)", "(q3)"))])
    shown["runs"] = settings["runs"]
    for status in STATUSES:
        if settings[status].any():
            shown[status] = settings[status]
    return shown


class Report:
    """Collects the page's parts and the files written, so each figure is made the same way."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.parts: list[str] = []
        self.problems: list[str] = []  # figures that could not be drawn
        self.warnings: list[str] = []  # runs left out of a measure or a figure

    def warn(self, message: str) -> None:
        """A run left out of a measure or a figure: on stderr now, and on the page's summary."""
        print(f"Warning: {message}", file=sys.stderr)
        self.warnings.append(message)

    def note(self, text: str) -> None:
        self.parts.append(h.paragraph(text, "note"))

    def add_figure(self, name: str, caption: str, draw: Callable[[], Figure | None]) -> None:
        """Draw, save ``<name>.png`` and embed it; a figure that fails is reported, not fatal."""
        try:
            figure = draw()
        except Exception as error:  # one bad figure must not cost the rest of the report
            message = f"The figure {name} could not be drawn: {type(error).__name__}: {error}"
            print(f"Warning: {message}", file=sys.stderr)
            self.problems.append(message)
            return
        if figure is None:
            return
        from . import figures

        png = figures.png_bytes(figure)
        replace_file(self.out_dir / f"{name}.png", png)
        self.parts.append(h.figure(png, name.replace("_", " "), caption, anchor=name))


MAX_HEATMAP_ROWS = 8  # rows of heatmaps, one per combination of the values beyond the two spanning ones
MAX_HEATMAP_VALUES = 12  # values along a heatmap's side; more (a search's learning rates) make no grid


def heatmap_keys(settings: pd.DataFrame, keys: list[str]) -> tuple[list[str], list[str]]:
    """The two swept keys with the most values span the heatmaps (in sweep order); the others facet them."""
    spanning = sorted(keys, key=lambda key: -settings[key].nunique(dropna=False))[:2]
    spanning = [key for key in keys if key in spanning]
    return spanning, [key for key in keys if key not in spanning]


def in_sweep_order(value) -> tuple:
    """Sort key: numbers, then words, each in ascending order, then anything else (a missing value)."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return (0, value, "")
    if isinstance(value, str):
        return (1, 0, value)
    return (2, 0, str(value))


def sweep_order(values) -> list:
    """Distinct values, in sweep order."""
    return sorted(pd.unique(values), key=in_sweep_order)


def heatmap_panels(settings: pd.DataFrame, keys: list[str], metric: str, what: str):
    """``(facets, rows, columns, spanning keys)``: a facet ``(label, panels)`` per combination of the
    values of the keys beyond the two spanning ones (one facet, label ``""``, for a two-value sweep)."""
    (row_key, column_key), facet_keys = heatmap_keys(settings, keys)
    rows, columns = sweep_order(settings[row_key]), sweep_order(settings[column_key])
    better = "viridis" if metric in HIGHER_IS_BETTER else "viridis_r"

    def panels(part: pd.DataFrame) -> list:
        def grid(column: str) -> np.ndarray:
            table = part.pivot_table(index=row_key, columns=column_key, values=column, aggfunc="first", dropna=False)
            return table.reindex(index=rows, columns=columns).to_numpy(dtype=float)

        solved, checked = grid("solved"), grid("checked")
        success = np.array(
            [[rate_text(int(k), int(n)).replace(" (", "\n").rstrip(")") if n > 0 else "–" for k, n in zip(*pair)]
             for pair in zip(np.nan_to_num(solved), np.nan_to_num(checked))]
        )  # fmt: skip
        return [
            (f"median final {metric}", "value", grid(f"final_{metric}_median"), better, None),
            (f"median epochs to reach {what}", "epochs", grid("epochs_to_target_median"), "viridis_r", None),
            ("success (solved / finished runs)", "rate", grid("success_rate"), "viridis", success),
        ]

    if not facet_keys:
        return [("", panels(settings))], rows, columns, [row_key, column_key]
    groups = sorted(
        settings.groupby(facet_keys, sort=False, dropna=False),
        key=lambda group: [in_sweep_order(v) for v in group[0]],
    )
    facets = [(", ".join(f"{k}={v}" for k, v in zip(facet_keys, values)), panels(part)) for values, part in groups]
    return facets, rows, columns, [row_key, column_key]


def surface_panels(sweep: Sweep, runs: pd.DataFrame, order: list[str], report: Report) -> list[dict]:
    """One decision surface per setting (its representative run); a run whose files are damaged is left out
    with a warning."""
    panels = []
    for setting in order[:MAX_SURFACES]:
        members = runs[runs["setting"] == setting]
        run = representative_run(members)
        if run is not None and not has_params(sweep.run_dir(run)):  # look further only then
            run = representative_run(members[[has_params(path) for path in members["path"]]])
        if run is None or not has_two_inputs(runs.at[run, "predictions"]):
            continue
        predictions = runs.at[run, "predictions"]
        try:
            surface = decision_surface(sweep.run_dir(run), sweep.values_of(run), predictions["inputs"])
        except Exception as error:  # a damaged params.npz costs its panel, not the figure
            report.warn(
                f"Run {runs.at[run, 'path']}: its parameters cannot be drawn ({type(error).__name__}: {error})."
            )
            continue
        seed = runs.at[run, "seed"]
        panels.append({**surface, "inputs": predictions["inputs"], "targets": predictions["targets"],
                       "title": f"{setting}\nseed={seed}"})  # fmt: skip
    return panels


def article_part(sweep: Sweep, runs: pd.DataFrame, metric: str, report: Report) -> list[str]:
    """The article's numbers beside those of each run with the article's configuration."""
    parts = []
    for run in article_runs(sweep.config):
        if runs.at[run, "status"] != "completed" or pd.notna(runs.at[run, "predictions_problem"]):
            continue
        try:
            table = article_table(sweep.run_dir(run), runs.at[run, "predictions"])
        except Exception as error:  # a damaged summary or metrics.csv costs this comparison, not the report
            report.warn(f"Run {runs.at[run, 'path']}: not compared with the article ({type(error).__name__}: {error}).")
            continue
        parts.append(h.paragraph(f"Run {runs.at[run, 'path']} uses the article's configuration."))
        parts.append(h.table(table))
        finished = runs["final"].dropna()
        if len(finished) > 1 and np.isfinite(runs.at[run, "final"]):
            better = (
                (finished > runs.at[run, "final"]) if metric in HIGHER_IS_BETTER else (finished < runs.at[run, "final"])
            )
            parts.append(
                h.paragraph(
                    f"Among the {len(finished)} finished runs of this report, its final {metric} "
                    f"({runs.at[run, 'final']:.4g}) is beaten by {int(better.sum())}."
                )
            )
    return parts


SEARCH_RESULTS = "optimization_results.yaml"  # what a search sweeper (Optuna) leaves in its sweep directory


def search_trials(roots: list[Path], runs: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, list[str]] | None:
    """For a sweep made by a search (Optuna): its trials in order, and its best settings as written."""
    found = [root / SEARCH_RESULTS for root in roots if (root / SEARCH_RESULTS).is_file()]
    if not found:
        return None
    numbered = runs[runs["path"].map(lambda p: Path(p).name.isdigit())]
    if not len(numbered):
        return None
    import yaml

    lines = []
    for path in found:
        try:
            results = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as error:
            lines.append(f"{path}: unreadable ({error})")
            continue
        best = results.get("best_params") or {}
        settings = ", ".join(f"{k}={v}" for k, v in best.items())
        lines.append(f"{path.parent}: best value {results.get('best_value')} with {settings}")
    trials = pd.DataFrame(
        {
            "trial": numbered["path"].map(lambda p: int(Path(p).name)).to_numpy(),
            "value": numbered[f"final_{metric}"].where(numbered["status"] == "completed", np.inf).to_numpy(float),
        }
    ).sort_values("trial")
    return trials, lines


def problems_part(runs: pd.DataFrame) -> list[str]:
    """Unreadable, failed, interrupted, unfinished and running runs, each with its path and what is known."""
    parts = []
    for status, heading in (
        ("unreadable", "Unreadable runs (files corrupt, truncated or missing; left out of every measure)"),
        ("failed", "Failed runs (the error; the traceback is in traceback.txt beside summary.json)"),
        ("interrupted", "Interrupted runs (Ctrl-C or SIGTERM)"),
        ("unfinished", "Unfinished runs (killed while running, or never started)"),
        ("running", "Runs still running"),
    ):
        chosen = runs[runs["status"] == status]
        if len(chosen):
            columns = ["path", "setting", "seed", "epochs_run", "problem"]
            parts.append(f"<h3>{h.escape(heading)}: {len(chosen)}</h3>")
            parts.append(h.table(chosen[columns], index=False, max_rows=200))
    return parts


def make_report(
    sweep_dirs: list[str | Path] | str | Path,
    out_dir: str | Path | None = None,
    metric: str = "loss",
    target: float | None = None,
) -> Path:
    """Write the report of the runs below ``sweep_dirs`` and return the path of its ``report.html``.

    Raises ``ReportInputError`` (one paragraph) when there are no runs to report on.
    """
    roots = [Path(sweep_dirs)] if isinstance(sweep_dirs, (str, Path)) else [Path(d) for d in sweep_dirs]
    if metric not in DEFAULT_TARGETS:
        from .tables import ReportInputError

        raise ReportInputError(f"Unknown metric {metric!r}. Allowed: {', '.join(DEFAULT_TARGETS)}.")
    target = DEFAULT_TARGETS[metric] if target is None else float(target)
    sweep = load_sweeps(
        roots,
        metrics=(metric,),
        points=CURVE_POINTS,
        reach=(metric, target, metric in HIGHER_IS_BETTER),
        all_points=CURVE_ROWS,
        meanwhile=lambda: importlib.import_module(f"{__package__}.figures"),  # matplotlib, while runs are read
    )
    from . import figures
    out = Path(out_dir) if out_dir is not None else roots[0] / "report"
    out.mkdir(parents=True, exist_ok=True)
    for name in FIGURES:  # figures of an earlier report that this one may not draw
        (out / f"{name}.png").unlink(missing_ok=True)

    runs = with_labels(run_measures(sweep, metric, target), sweep.config, before="problem")  # tags, notes
    grouped = runs[runs["setting"] != UNREADABLE_SETTING]
    settings = setting_measures(grouped, sweep.setting_keys, metric)
    order = list(settings.index)
    what = target_text(metric, target)
    label = metric_label(sweep, metric)

    replace_file(out / "runs.csv", runs.drop(columns=["predictions"]).to_csv().encode("utf-8"))
    replace_file(out / "settings.csv", settings.to_csv().encode("utf-8"))

    report = Report(out)
    damaged = runs[runs["predictions_problem"].notna() & runs["status"].isin(FINISHED)]
    for path, problem in zip(damaged["path"], damaged["predictions_problem"]):
        report.warn(f"Run {path}: {problem}; it is left out of the success measure and the decision surfaces.")
    finished = runs[runs["status"].isin(FINISHED)]
    many_seeds = bool((settings["finished"] >= 2).any())
    report.add_figure(
        "convergence",
        (
            f"{label} per epoch. Line: median across the seeds of a setting; band: quartiles (25 % to 75 % of its "
            "seeds); with few settings, also a lighter band from min to max and thin lines for single seeds. "
            "A diverged run counts as +inf from its divergence on. "
            if many_seeds
            else f"{label} per epoch of each setting's single run (one seed each: no spread across seeds to show). "
        )
        + "The axis ends at the largest value, or at twice the largest starting value if that is lower: "
        "a curve leaving it at the top is blowing up."
        + (
            f" More than {figures.MAX_OVERLAID} settings: a panel each, the other settings' medians in light grey."
            if len(order) > figures.MAX_OVERLAID
            else ""
        ),
        lambda: (
            figures.convergence_figure(b, label)
            if (b := bands(sweep, grouped, metric, figures.MAX_SEED_LINES))
            else None
        ),
    )
    facets, rows, columns, spanning = [], [], [], []
    if len(sweep.setting_keys) >= 2:
        facets, rows, columns, spanning = heatmap_panels(settings, sweep.setting_keys, metric, what)
    if facets and max(len(rows), len(columns)) <= MAX_HEATMAP_VALUES:  # a search's values make no grid
        beyond = ""
        if len(facets) > 1:
            beyond = " One row per combination of the other swept values, each column on one colour scale."
        if len(facets) > MAX_HEATMAP_ROWS:
            beyond += f" The first {MAX_HEATMAP_ROWS} of {len(facets)} rows; settings.csv has them all."
        report.add_figure(
            "heatmaps",
            f"One cell per setting. Grey cells: no value (no finished run, or none reached {what}); "
            f"inf: the median run diverged.{beyond}",
            lambda: figures.heatmaps_figure(facets[:MAX_HEATMAP_ROWS], rows, columns, spanning),
        )
    epochs = {s: finished.loc[finished["setting"] == s, "epochs_to_target"].dropna().to_numpy(float) for s in order}
    if any(len(e) for e in epochs.values()):
        report.add_figure(
            "epochs_to_target",
            f"Epochs each finished run needed to reach {what}"
            + ("; the box spans the quartiles, its line is the median" if many_seeds else "")
            + "; k/n: k of the n finished runs (completed or diverged) reached it.",
            lambda: figures.epochs_to_target_figure(epochs, {s: int(settings.at[s, "finished"]) for s in order}, what),
        )
    else:
        report.note(f"No finished run reached {what}, so there is no figure of epochs to target.")
    surfaces = runs[runs["predictions_problem"].isna()]
    report.add_figure(
        "decision_surfaces",
        "Network output over the input plane for one run per setting (the completed run with the median final "
        f"{metric}); the black line is the decision boundary o = 0.5; dots are the training points, coloured by target."
        + (f" The first {MAX_SURFACES} settings only." if len(order) > MAX_SURFACES else ""),
        lambda: figures.decision_surfaces_figure(p) if (p := surface_panels(sweep, surfaces, order, report)) else None,
    )

    search = search_trials(roots, runs, metric)
    if search is not None:
        trials, best_lines = search
        report.add_figure(
            "search_trials",
            f"Final {metric} of each trial of the search, in the order it ran them; the red steps are the best so far. "
            "Best settings as the search wrote them: " + "; ".join(best_lines),
            lambda: figures.trials_figure(trials["trial"].to_numpy(), trials["value"].to_numpy(), label),
        )

    article = article_part(sweep, runs, metric, report)
    summary = [
        h.paragraph(
            f"{len(runs)} runs in {len(settings)} setting(s) (runs that differ only in seed): {counts_text(runs)}. "
            f"Metric: {label}; target: {what}."
        ),
        h.bullet_list(at_a_glance(settings, metric, what) + not_normal_lines(runs)),
        *(h.paragraph(f"Warning: {w}", "bad") for w in report.warnings),
    ]
    sections = [
        ("Summary", summary),
        (
            "Settings",
            [
                h.paragraph(
                    "Success: every final prediction on the right side of 0.5, as solved of finished runs (completed "
                    "or diverged; a diverged run's final error is inf). Epochs to target: over the runs that reached "
                    "it (median and quartiles q1, q3). A status no run has gets no column; settings.csv has them all.",
                    "note",
                ),
                h.table(settings_shown(settings, metric), key_columns=3),
            ],
        ),
        ("Figures", [*report.parts, *(h.paragraph(p, "bad") for p in report.problems)]),
    ]
    if article:
        sections.append(("The article's run", article))
    problems = problems_part(runs)
    if problems:
        sections.append(("Runs that did not finish normally", problems))
    shown = runs.drop(columns=["predictions", "started_at", "host"])
    if shown["predictions_problem"].isna().all():
        shown = shown.drop(columns=["predictions_problem"])
    sections.append(("All runs", [h.table(shown, max_rows=MAX_HTML_RUNS)]))
    constant = shared_configuration(sweep.config)
    if constant:
        shared = pd.DataFrame({"value": [str(v) for v in constant.values()]}, index=pd.Index(constant, name="key"))
        sections.append(("Configuration shared by every run", [h.table(shared)]))
    sections.append(
        (
            "Source",
            [
                h.paragraph(
                    f"Runs read from: {', '.join(str(r) for r in roots)}. "
                    f"Made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Tables: runs.csv, settings.csv; figures: PNG files."
                )
            ],
        )
    )
    path = out / "report.html"
    replace_file(path, h.page("Sweep report", sections).encode("utf-8"))
    return path
