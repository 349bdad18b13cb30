"""The report's figures, drawn with matplotlib's object API on the Agg canvas (no display needed).

Each function takes tables or arrays already measured and returns a ``Figure``:

* ``convergence_figure``: per setting, the median across seeds, a band from the first to
  the third quartile, a fainter one from min to max, and faint lines for single seeds
  (at most ``MAX_SEED_LINES`` per setting, spread evenly over its seeds), in one plot or,
  past ``MAX_OVERLAID`` settings, a panel each; a log axis when the values span two decades
  or more.
* ``heatmaps_figure``: for a sweep over two values or more, final metric, epochs to target
  and success rate in cells labelled with their numbers; one row of heatmaps per combination
  of the values beyond two, on one colour scale per column.
* ``epochs_to_target_figure``: per setting, a box plot of the epochs to target of the runs
  that reached it, each run a dot, and how many of them reached it.
* ``decision_surfaces_figure``: the output of one network per setting over the input plane,
  its 0.5 contour (the decision boundary), and the training points.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .measures import Bands

MAX_SEED_LINES = 50
MAX_OVERLAID = 8  # more settings than this get a convergence panel each
PANEL_COLUMNS = 3
OTHERS = "0.8"  # the grey of the other settings' medians in a panel
DPI = 110


def text(value) -> str:
    """A label matplotlib shows as written: ``$`` would start its maths mode."""
    return str(value).replace("$", r"\$")


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def colours(n: int) -> list:
    palette = colormaps["tab10" if n <= 10 else "tab20"]
    return [palette(i % palette.N) for i in range(n)]


def spans_decades(values: np.ndarray, decades: float = 2.0) -> bool:
    """True when the finite positive ``values`` reach from ``v`` to at least ``v * 10**decades``."""
    values = values[np.isfinite(values)]
    if not len(values) or values.min() <= 0:
        return False
    return values.max() / values.min() >= 10**decades


def drawable(values: np.ndarray, top: float) -> np.ndarray:
    """``values`` ready to draw under an axis that ends at ``top``: missing and infinite values
    left out (NaN), huge ones (a run blowing up, up to 1e308) held just above the axis."""
    return np.where(np.isfinite(values), np.minimum(values, 10 * top), np.nan)


def axis_top(bands: dict[str, Bands]) -> float:
    """Twice the largest value at the first epoch: curves that leave the plot at the top are blowing up."""
    starts = [b.quantiles[1.0][0] for b in bands.values() if len(b.epochs)]
    starts = [v for v in starts if np.isfinite(v) and v > 0]
    return 2 * max(starts) if starts else 1.0


def draw_setting(axes, band: Bands, colour, top: float, label: str | None) -> None:
    """One setting's min-max and quartile bands, a few single seeds, and its median curve."""
    q = {k: drawable(v, top) for k, v in band.quantiles.items()}
    axes.fill_between(band.epochs, q[0.0], q[1.0], color=colour, alpha=0.10, linewidth=0)
    axes.fill_between(band.epochs, q[0.25], q[0.75], color=colour, alpha=0.25, linewidth=0)
    lines = [np.column_stack([band.epochs[: len(v)], drawable(v, top)]) for v in band.samples]
    axes.add_collection(LineCollection(lines, colors=[colour], linewidths=0.5, alpha=0.25))
    axes.plot(band.epochs, q[0.5], color=colour, linewidth=2, label=label)


def convergence_figure(bands: dict[str, Bands], metric_label: str, log_scale: bool | None = None) -> Figure:
    """Median curve, quartile and min-max bands, and faint single seeds, one colour per setting.

    Up to ``MAX_OVERLAID`` settings share one plot; more get a panel each (same axes), where
    the other settings' medians are drawn thin and grey for comparison. The value axis ends
    at ``axis_top``; it is logarithmic when the values below that span two decades or more
    (unless ``log_scale`` says otherwise).
    """
    top = axis_top(bands)
    shown = np.concatenate([b.quantiles[q] for b in bands.values() for q in (0.0, 1.0)] or [np.array([])])
    shown = shown[np.isfinite(shown) & (shown <= top)]
    if log_scale is None:
        log_scale = spans_decades(shown)
    settings = list(bands.items())
    if len(settings) <= MAX_OVERLAID:
        figure = Figure(figsize=(11, 6), layout="constrained")
        panels = [figure.add_subplot()]
    else:
        rows = -(-len(settings) // PANEL_COLUMNS)
        figure = Figure(figsize=(15, 2.6 * rows + 1.2), layout="constrained")
        panels = list(figure.subplots(rows, PANEL_COLUMNS, sharex=True, sharey=True, squeeze=False).flat)
        for axes in panels[len(settings) :]:
            axes.set_visible(False)
    if len(panels) == 1:
        for (setting, band), colour in zip(settings, colours(len(settings))):
            draw_setting(panels[0], band, colour, top, text(f"{setting}  (median of {len(band.runs)})"))
    else:
        for axes, (setting, band) in zip(panels, settings):
            for other, other_band in settings:
                if other != setting:
                    medians = drawable(other_band.quantiles[0.5], top)
                    axes.plot(other_band.epochs, medians, color=OTHERS, linewidth=0.6)
            draw_setting(axes, band, "tab:blue", top, None)  # one colour: the panel's title names the setting
            axes.set_title(text(f"{textwrap.fill(setting, 48)}\n(median of {len(band.runs)})"), fontsize="small")
    for axes in panels:
        if log_scale:
            axes.set_yscale("log")
            positive = shown[shown > 0]
            axes.set_ylim(positive.min() / 2 if len(positive) else top / 1e3, top)
        else:
            axes.set_ylim(min(0.0, shown.min(initial=0.0)), top)
        axes.grid(True, which="major", alpha=0.3)
        axes.set_xlim(0, max((b.epochs[-1] for b in bands.values() if len(b.epochs)), default=1))
    figure.supxlabel("epoch (full passes over the training set)")
    figure.supylabel(text(metric_label))
    figure.suptitle(text(f"Convergence across seeds: {metric_label}"))
    grey = (0.4, 0.4, 0.4)
    keys = [
        Patch(color=grey, alpha=0.45, label="quartiles (25 % to 75 % of seeds)"),
        Patch(color=grey, alpha=0.15, label="min to max over seeds"),
        Patch(color=grey, alpha=0.4, label=f"single seeds (up to {MAX_SEED_LINES} per setting)"),
    ]
    if len(panels) == 1:
        handles = panels[0].get_legend_handles_labels()[0] + keys
        panels[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    else:
        keys.append(Line2D([], [], color=OTHERS, linewidth=0.6, label="the other settings' medians"))
        figure.legend(handles=keys, loc="outside right upper", fontsize="small", frameon=False)
    return figure


def cell_text(value: float, kind: str) -> str:
    if isinstance(value, float) and np.isnan(value):
        return "–"
    if np.isinf(value):
        return "inf"
    if kind == "rate":
        return f"{value:.0%}"
    if kind == "epochs":
        return f"{value:.0f}"
    return f"{value:.3g}"


def colour_scale(grids: list[np.ndarray], kind: str) -> Normalize:
    """One scale for all of ``grids``: 0 to 1 for rates, logarithmic when the values span a decade."""
    values = np.concatenate([grid[np.isfinite(grid)] for grid in grids])
    if kind == "rate":
        return Normalize(0, 1)
    if len(values) and spans_decades(values, 1.0):
        return LogNorm(values.min(), values.max())
    return Normalize(values.min() if len(values) else 0, values.max() if len(values) else 1)


def heatmap(axes, grid: np.ndarray, rows: list, columns: list, keys: list[str], title: str, kind: str, cmap, norm):
    """One labelled heatmap of ``grid (len(rows), len(columns))``; NaN cells grey, ``inf`` cells dark."""
    shown = np.where(np.isfinite(grid), grid, np.nan)
    image = axes.imshow(np.ma.masked_invalid(shown), cmap=cmap, norm=norm, aspect="auto", origin="lower")
    for i in range(len(rows)):
        for j in range(len(columns)):
            value = grid[i, j]
            colour = "black"
            if np.isfinite(value):
                r, g, b, _ = cmap(norm(value))
                colour = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
            axes.text(j, i, cell_text(value, kind), ha="center", va="center", color=colour, fontsize="small")
    axes.set_xticks(range(len(columns)), [text(c) for c in columns])
    axes.set_yticks(range(len(rows)), [text(r) for r in rows])
    axes.set_xlabel(text(keys[1]))
    axes.set_ylabel(text(keys[0]))
    axes.set_title(text(title), fontsize="medium")
    return image


def heatmaps_figure(facets: list[tuple[str, list]], rows: list, columns: list, keys: list[str]) -> Figure:
    """A row of heatmaps per facet ``(label, panels)``; each panel is ``(title, kind, grid, colormap)``,
    kind ``value``, ``epochs`` or ``rate``. Each column of panels shares one colour scale."""
    n_panels = len(facets[0][1])
    figure = Figure(figsize=(5.2 * n_panels, len(facets) * (0.5 * len(rows) + 3.2)), layout="constrained")
    for column in range(n_panels):
        title, kind, _, colormap = facets[0][1][column]
        cmap = colormaps[colormap].with_extremes(bad=(0.85, 0.85, 0.85))
        norm = colour_scale([panels[column][2] for _, panels in facets], kind)
        for row, (label, panels) in enumerate(facets):
            axes = figure.add_subplot(len(facets), n_panels, row * n_panels + column + 1)
            heading = f"{label}\n{title}" if label else title
            image = heatmap(axes, panels[column][2], rows, columns, keys, heading, kind, cmap, norm)
            figure.colorbar(image, ax=axes, shrink=0.85)
    return figure


def epochs_to_target_figure(epochs: dict[str, np.ndarray], totals: dict[str, int], what: str) -> Figure:
    """Box plot and dots of the epochs to target per setting (only runs that reached it), with ``k/n reached``."""
    settings = list(epochs)
    figure = Figure(figsize=(11, 0.45 * len(settings) + 1.8), layout="constrained")
    axes = figure.add_subplot()
    drawn = [i for i, s in enumerate(settings) if len(epochs[s])]
    if drawn:
        axes.boxplot(
            [epochs[settings[i]] for i in drawn], positions=drawn, orientation="horizontal", widths=0.6,
            showfliers=False, medianprops={"color": "black"},
        )  # fmt: skip
    jitter = np.random.default_rng(0)
    for i, (setting, colour) in enumerate(zip(settings, colours(len(settings)))):
        values = epochs[setting]
        axes.scatter(values, i + jitter.uniform(-0.2, 0.2, len(values)), s=8, color=colour, alpha=0.5, zorder=3)
    axes.set_yticks(range(len(settings)), [text(s) for s in settings])
    axes.set_ylim(len(settings) - 0.3, -0.7)  # the first setting on top
    for i, setting in enumerate(settings):
        axes.annotate(
            f"{len(epochs[setting])}/{totals[setting]} reached", (1.01, i), xycoords=("axes fraction", "data"),
            va="center", fontsize="small",
        )  # fmt: skip
    axes.set_xlabel(text(f"epochs to reach {what} (epochs)"))
    axes.set_title(text(f"Epochs to reach {what}, per setting (runs that never reached it are only counted)"))
    axes.grid(True, axis="x", alpha=0.3)
    if not drawn:
        axes.text(0.5, 0.5, "no run reached the target", transform=axes.transAxes, ha="center", va="center")
    return figure


def decision_surfaces_figure(panels: list[dict]) -> Figure:
    """One panel per setting: ``x``, ``y`` grids, network ``output`` on them, training ``inputs`` and ``targets``."""
    columns = min(4, len(panels))
    rows = -(-len(panels) // columns)
    figure = Figure(figsize=(3.4 * columns + 1.2, 3.2 * rows + 0.6), layout="constrained")
    norm = Normalize(0.0, 1.0)
    image = None
    for k, panel in enumerate(panels):
        axes = figure.add_subplot(rows, columns, k + 1)
        image = axes.contourf(panel["x"], panel["y"], panel["output"], levels=np.linspace(0, 1, 21), cmap="RdBu_r",
                              norm=norm, extend="both")  # fmt: skip
        axes.contour(panel["x"], panel["y"], panel["output"], levels=[0.5], colors="black", linewidths=1.5)
        inputs, targets = np.asarray(panel["inputs"]), np.asarray(panel["targets"])[:, 0]
        axes.scatter(inputs[:, 0], inputs[:, 1], c=targets, cmap="RdBu_r", norm=norm, s=90, edgecolors="black",
                     linewidths=1.5, zorder=3)  # fmt: skip
        axes.set_title(text(panel["title"]), fontsize="small")
        axes.set_xlabel("input x1")
        axes.set_ylabel("input x2")
        axes.set_aspect("equal")
    if image is not None:
        figure.colorbar(image, ax=figure.axes, shrink=0.8, label="network output o (black line: o = 0.5)")
    figure.suptitle("Decision surface of one representative run per setting (the run with the median final value)")
    return figure


def trials_figure(trials: np.ndarray, values: np.ndarray, metric_label: str) -> Figure:
    """A search's trials in the order they ran: each trial's final value, and the best so far.

    Failed or diverged trials (``inf``) are marked with crosses along the top of the plot.
    """
    figure = Figure(figsize=(9, 4.2), layout="constrained")
    axes = figure.add_subplot()
    finite = np.isfinite(values)
    axes.scatter(trials[finite], values[finite], s=18, color="tab:blue", label="trial (final value)")
    best = np.minimum.accumulate(np.where(finite, values, np.inf))
    shown = np.isfinite(best)
    axes.step(trials[shown], best[shown], where="post", color="tab:red", label="best so far")
    if spans_decades(values[finite]):
        axes.set_yscale("log")
    if (~finite).any():
        top = values[finite].max() if finite.any() else 1.0
        axes.scatter(
            trials[~finite], np.full((~finite).sum(), top), marker="x", color="grey", label="diverged or failed"
        )
    axes.set_xlabel("trial (job number, in the order the search ran them)")
    axes.set_ylabel(text(metric_label))
    axes.set_title("Search trials: the objective by trial")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right")
    return figure
