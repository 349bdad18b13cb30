"""The report's figures, drawn with matplotlib's object API on the Agg canvas (no display needed).

Drawing is most of a report's cost, so each figure is laid out by hand (margins in inches,
no constrained layout, which measures every label several times), draws only what is
shown, and labels only the outer panels of a grid.

Each function takes tables or arrays already measured and returns a ``Figure``:

* ``convergence_figure``: per setting, the median across seeds, a band from the first to
  the third quartile, a fainter one from min to max, and faint lines for single seeds
  (at most ``MAX_SEED_LINES`` per setting, spread evenly over its seeds), in one plot or,
  past ``MAX_OVERLAID`` settings, a panel each; a log axis, in both modes, when the values
  span a decade or more. With one seed per setting, only the curves.
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
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from .measures import Bands

MAX_SEED_LINES = 50
MAX_OVERLAID = 8  # more settings than this get a convergence panel each
MAX_DETAILED = 3  # up to this many overlaid settings also get a min-max band and single seeds
PANEL_COLUMNS = 3
OTHERS = "0.8"  # the grey of the other settings' medians in a panel
DPI = 110
CELL_FONT = 11  # points: heatmap cell numbers about 13 px on a page 1,250 px wide
# Where a title sits, said outright: otherwise matplotlib measures every tick label of the axes to
# find a height that clears them, though the ticks of these plots are never on top (same picture).
TITLE_Y = 1.0


def text(value) -> str:
    """A label matplotlib shows as written: ``$`` would start its maths mode."""
    return str(value).replace("$", r"\$")


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})  # zlib: most of saving
    return buffer.getvalue()


def margins(figure: Figure, left: float, right: float, top: float, bottom: float, wspace=0.0, hspace=0.0) -> None:
    """Margins and gaps between panels in inches (``subplots_adjust`` wants fractions)."""
    width, height = figure.get_size_inches()
    figure.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height,
        wspace=wspace, hspace=hspace,
    )  # fmt: skip


def plain_log_ticks(axis, subs: tuple[float, ...]) -> None:
    """Ticks of a log axis at ``subs`` times each power of ten, written plainly (``0.05``): no minor ticks,
    and no ``10^{-2}`` labels, whose maths text costs more to draw than the rest of a figure."""
    axis.set_major_locator(LogLocator(subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(NullLocator())


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
    """The largest value drawn, but at most twice the largest at the first epoch: curves that leave the
    plot at the top are blowing up, and no space is left empty above the others."""
    starts = [b.quantiles[1.0][0] for b in bands.values() if len(b.epochs)]
    starts = [v for v in starts if np.isfinite(v) and v > 0]
    if not starts:
        return 1.0
    largest = max(np.max(b.quantiles[1.0], initial=0.0, where=np.isfinite(b.quantiles[1.0])) for b in bands.values())
    return min(2 * max(starts), 1.05 * largest) if largest > 0 else 2 * max(starts)


MAX_POINTS = 1500  # points drawn per curve: a panel is a few hundred pixels wide


def thinned(epochs: np.ndarray) -> slice:
    """Every ``k``-th logged epoch, so that a curve has at most about ``MAX_POINTS`` points to draw."""
    return slice(None, None, max(1, len(epochs) // MAX_POINTS))


def draw_setting(axes, band: Bands, colour, top: float, label: str | None, detail: bool) -> None:
    """One setting's median curve and quartile band; with ``detail``, also its min-max band and a few
    single seeds. A setting of one run is that run's curve alone."""
    every = thinned(band.epochs)
    epochs = band.epochs[every]
    q = {k: drawable(v[every], top) for k, v in band.quantiles.items()}
    if len(band.runs) > 1:
        if detail:
            axes.fill_between(epochs, q[0.0], q[1.0], color=colour, alpha=0.10, linewidth=0)
            lines = [np.column_stack([band.epochs[: len(v)][every], drawable(v[every], top)]) for v in band.samples]
            axes.add_collection(LineCollection(lines, colors=[colour], linewidths=0.5, alpha=0.3))
        axes.fill_between(epochs, q[0.25], q[0.75], color=colour, alpha=0.25, linewidth=0)
    axes.plot(epochs, q[0.5], color=colour, linewidth=2 if len(band.runs) > 1 else 1.5, label=label)


def convergence_figure(bands: dict[str, Bands], metric_label: str, log_scale: bool | None = None) -> Figure:
    """Median curve and quartile band per setting, one colour per setting; min-max band and faint single
    seeds where there is room for them (a panel, or at most ``MAX_DETAILED`` settings in one plot).

    Up to ``MAX_OVERLAID`` settings share one plot; more get a panel each (same axes), where
    the other settings' medians are drawn thin and grey for comparison. The value axis ends
    at ``axis_top``; in both modes it is logarithmic when the values below that span a decade
    or more (unless ``log_scale`` says otherwise), so the tail where settings differ is legible.
    """
    top = axis_top(bands)
    shown = np.concatenate([b.quantiles[q] for b in bands.values() for q in (0.0, 1.0)] or [np.array([])])
    shown = shown[np.isfinite(shown) & (shown <= top)]
    if log_scale is None:
        log_scale = spans_decades(shown, 1.0)
    settings = list(bands.items())
    one_seed = all(len(band.runs) == 1 for _, band in settings)
    overlaid = len(settings) <= MAX_OVERLAID
    detail = not one_seed and (not overlaid or len(settings) <= MAX_DETAILED)
    if overlaid:
        names = [textwrap.fill(s, 44) + ("" if one_seed else f"  (median of {len(b.runs)})") for s, b in settings]
        legend = max(len(line) for name in [*names, "single seeds (up to 50 per setting)"] for line in name.split("\n"))
        figure = Figure(figsize=(11, 5.2))
        margins(figure, left=0.9, right=0.5 + 0.068 * legend, top=0.45, bottom=0.6)  # the legend's width
        panels = [figure.add_subplot()]
        for (_, band), name, colour in zip(settings, names, colours(len(settings))):
            draw_setting(panels[0], band, colour, top, text(name), detail)
    else:
        rows = -(-len(settings) // PANEL_COLUMNS)
        figure = Figure(figsize=(13, 2.3 * rows + 1.4))
        margins(figure, left=0.9, right=0.2, top=1.0, bottom=0.6, wspace=0.06, hspace=0.32)
        panels = list(figure.subplots(rows, PANEL_COLUMNS, sharex=True, sharey=True, squeeze=False).flat)
        for axes in panels[len(settings) :]:
            axes.set_visible(False)
        for axes, (setting, band) in zip(panels, settings):
            for other, other_band in settings:
                if other != setting:
                    every = thinned(other_band.epochs)
                    medians = drawable(other_band.quantiles[0.5][every], top)
                    axes.plot(other_band.epochs[every], medians, color=OTHERS, linewidth=0.6)
            draw_setting(axes, band, "tab:blue", top, None, detail)  # one colour: the panel's title names the setting
            title = textwrap.fill(setting, 56) + ("" if one_seed else f"  (median of {len(band.runs)})")
            axes.set_title(text(title), fontsize="small", pad=3, y=TITLE_Y)
    for axes in panels:
        if log_scale:
            axes.set_yscale("log")
            plain_log_ticks(axes.yaxis, (1.0, 2.0, 5.0) if overlaid else (1.0,))
            positive = shown[shown > 0]
            axes.set_ylim(positive.min() / 2 if len(positive) else top / 1e3, top)
        else:
            axes.set_ylim(min(0.0, shown.min(initial=0.0)), top)
        axes.grid(True, which="major", alpha=0.3)
        axes.set_xlim(0, max((b.epochs[-1] for b in bands.values() if len(b.epochs)), default=1))
    figure.supxlabel("epoch (full passes over the training set)", y=0.01, va="bottom")
    figure.supylabel(text(metric_label + (", log scale" if log_scale else "")), x=0.01, ha="left")
    what = "one seed per setting" if one_seed else "across seeds"
    figure.suptitle(text(f"Convergence ({what}): {metric_label}"), y=1 - 0.08 / figure.get_figheight(), va="top")
    keys, key = [], "0.4" if overlaid else "tab:blue"  # each setting's colour, or the panels' one
    if not one_seed:
        keys.append(Patch(color=key, alpha=0.25, linewidth=0, label="quartiles (25 % to 75 % of seeds)"))
    if detail:
        keys.append(Patch(color=key, alpha=0.10, linewidth=0, label="min to max over seeds"))
        keys.append(Line2D([], [], color=key, linewidth=0.5, alpha=0.6, label="single seeds (up to "
                           f"{MAX_SEED_LINES} per setting)"))  # fmt: skip
    if overlaid:
        handles = panels[0].get_legend_handles_labels()[0] + keys
        panels[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    else:
        median = "the setting's run" if one_seed else "the setting's median"
        keys.insert(0, Line2D([], [], color="tab:blue", linewidth=2, label=median))
        keys.append(
            Line2D([], [], color=OTHERS, linewidth=0.6, label="the other settings" + ("" if one_seed else "' medians"))
        )
        figure.legend(handles=keys, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.42 / figure.get_figheight()),
                      ncols=len(keys), fontsize="small", frameon=False)  # fmt: skip
    return figure


def cell_text(value: float, kind: str) -> str:
    """A heatmap cell's number: epochs whole, other values to three significant digits, zeros kept
    (``0.0210`` beside ``0.00939``)."""
    if isinstance(value, float) and np.isnan(value):
        return "–"
    if np.isinf(value):
        return "inf"
    if kind == "epochs":
        return f"{value:.0f}"
    return f"{value:#.3g}".rstrip(".")


def colour_scale(grids: list[np.ndarray], kind: str) -> Normalize:
    """One scale for all of ``grids``: 0 to 1 for rates, logarithmic when the values span a decade."""
    values = np.concatenate([grid[np.isfinite(grid)] for grid in grids])
    if kind == "rate":
        return Normalize(0, 1)
    if len(values) and spans_decades(values, 1.0):
        return LogNorm(values.min(), values.max())
    return Normalize(values.min() if len(values) else 0, values.max() if len(values) else 1)


def heatmap(axes, grid: np.ndarray, cells, rows: list, columns: list, keys: list[str], title: str, cmap, norm):
    """One labelled heatmap of ``grid (len(rows), len(columns))`` with ``cells``, the text of each cell;
    NaN cells grey."""
    shown = np.where(np.isfinite(grid), grid, np.nan)
    image = axes.imshow(np.ma.masked_invalid(shown), cmap=cmap, norm=norm, aspect="auto", origin="lower")
    for i in range(len(rows)):
        for j in range(len(columns)):
            value = grid[i, j]
            colour = "black"
            if np.isfinite(value):
                r, g, b, _ = cmap(norm(value))
                colour = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
            axes.text(j, i, cells[i][j], ha="center", va="center", color=colour, fontsize=CELL_FONT)
    axes.set_xticks(range(len(columns)), [text(c) for c in columns])
    axes.set_yticks(range(len(rows)), [text(r) for r in rows])
    axes.set_xlabel(text(keys[1]))
    axes.set_ylabel(text(keys[0]))
    axes.set_title(text(title), fontsize="medium", y=TITLE_Y)
    return image


def heatmaps_figure(facets: list[tuple[str, list]], rows: list, columns: list, keys: list[str]) -> Figure:
    """A row of heatmaps per facet ``(label, panels)``; each panel is ``(title, kind, grid, colormap, cells)``,
    kind ``value``, ``epochs`` or ``rate``, ``cells`` the text of each cell or ``None`` for the numbers of
    ``grid``. Each column of panels shares one colour scale."""
    n_panels = len(facets[0][1])
    row_height = 0.55 * len(rows) + 1.4
    figure = Figure(figsize=(4.6 * n_panels, len(facets) * row_height + 0.2))
    margins(figure, left=0.8, right=0.55, top=0.55, bottom=0.55, wspace=0.4, hspace=1.1 / row_height)
    for column in range(n_panels):
        title, kind, _, colormap, _ = facets[0][1][column]
        cmap = colormaps[colormap].with_extremes(bad=(0.85, 0.85, 0.85))
        norm = colour_scale([panels[column][2] for _, panels in facets], kind)
        for row, (label, panels) in enumerate(facets):
            axes = figure.add_subplot(len(facets), n_panels, row * n_panels + column + 1)
            grid, cells = panels[column][2], panels[column][4]
            if cells is None:
                cells = [[cell_text(value, kind) for value in line] for line in grid]
            heading = f"{label}\n{title}" if label else title
            image = heatmap(axes, grid, cells, rows, columns, keys, heading, cmap, norm)
            bar = figure.colorbar(image, ax=axes, fraction=0.07, pad=0.03)
            if isinstance(norm, LogNorm):
                plain_log_ticks(bar.ax.yaxis, (1.0, 2.0, 5.0))
    return figure


def epochs_to_target_figure(epochs: dict[str, np.ndarray], totals: dict[str, int], what: str) -> Figure:
    """Dots of the epochs to target per setting (only runs that reached it), with ``k/n reached``; a box
    of the quartiles where a setting has three runs or more that reached it."""
    settings = list(epochs)
    many = any(len(values) >= 3 for values in epochs.values())
    row = 0.42 if many else 0.28
    width = max(len(s) for s in settings)
    left = min(0.5 + 0.075 * width, 5.0)  # room for the settings' names
    reached = {s: f"{len(epochs[s])}/{totals[s]} reached" for s in settings}
    right = 0.3 + 0.065 * max(len(label) for label in reached.values())  # room for the longest count, whole
    figure = Figure(figsize=(11, row * len(settings) + 1.1))
    margins(figure, left=left, right=right, top=0.35, bottom=0.55)
    axes = figure.add_subplot()
    boxed = [i for i, s in enumerate(settings) if len(epochs[s]) >= 3]
    if boxed:
        axes.boxplot(
            [epochs[settings[i]] for i in boxed], positions=boxed, orientation="horizontal", widths=0.6,
            showfliers=False, medianprops={"color": "black"},
        )  # fmt: skip
    jitter = np.random.default_rng(0)
    for i, (setting, colour) in enumerate(zip(settings, colours(len(settings)))):
        values = epochs[setting]
        spread = jitter.uniform(-0.2, 0.2, len(values)) if len(values) > 1 else np.zeros(len(values))
        axes.scatter(values, i + spread, s=10 if many else 30, color=colour, alpha=0.5 if many else 1.0, zorder=3)
    axes.set_yticks(range(len(settings)), [text(s) for s in settings])
    axes.set_ylim(len(settings) - 0.5, -0.5)  # the first setting on top
    for i, setting in enumerate(settings):
        axes.annotate(
            reached[setting], (1.01, i), xycoords=("axes fraction", "data"),
            va="center", fontsize="small",
        )  # fmt: skip
    axes.set_xlabel(text(f"epochs to reach {what}"))
    axes.set_title(text(f"Epochs to reach {what}, per setting (runs that never reached it are only counted)"),
                   fontsize="medium", y=TITLE_Y)  # fmt: skip
    axes.grid(True, axis="x", alpha=0.3)
    return figure


def decision_surfaces_figure(panels: list[dict]) -> Figure:
    """One panel per setting: ``x``, ``y`` grids, network ``output`` on them, training ``inputs`` and ``targets``."""
    columns = min(4, len(panels))
    rows = -(-len(panels) // columns)
    figure = Figure(figsize=(2.9 * columns + 1.6, 3.0 * rows + 0.7))
    margins(figure, left=0.7, right=1.4, top=0.75, bottom=0.5, wspace=0.12, hspace=0.45)
    norm = Normalize(0.0, 1.0)
    image = None
    for k, panel in enumerate(panels):
        axes = figure.add_subplot(rows, columns, k + 1)
        x, y = panel["x"], panel["y"]
        image = axes.imshow(panel["output"], cmap="RdBu_r", norm=norm, origin="lower", interpolation="bilinear",
                            extent=(x.min(), x.max(), y.min(), y.max()))  # fmt: skip
        axes.contour(x, y, panel["output"], levels=[0.5], colors="black", linewidths=1.5)
        inputs, targets = np.asarray(panel["inputs"]), np.asarray(panel["targets"])[:, 0]
        axes.scatter(inputs[:, 0], inputs[:, 1], c=targets, cmap="RdBu_r", norm=norm, s=70, edgecolors="black",
                     linewidths=1.5, zorder=3)  # fmt: skip
        axes.set_title(text(panel["title"]), fontsize="small", pad=3, y=TITLE_Y)
        axes.set_xticks(np.unique(inputs[:, 0])[:4])  # the training inputs (0 and 1 for XOR): few ticks, cheap
        axes.set_yticks(np.unique(inputs[:, 1])[:4])
        if k % columns == 0:
            axes.set_ylabel("input x2")
        else:
            axes.tick_params(labelleft=False)
        if k >= len(panels) - columns:
            axes.set_xlabel("input x1")
    if image is not None:
        width, height = figure.get_size_inches()
        bar = figure.add_axes((1 - 1.15 / width, 0.5 / height, 0.18 / width, 1 - 1.25 / height))
        figure.colorbar(image, cax=bar, label="network output o (black line: o = 0.5)")
    title = "Decision surface of one run per setting (its median run)"
    figure.suptitle(textwrap.fill(title, int(figure.get_figwidth() * 9)), fontsize="medium",
                    y=1 - 0.08 / figure.get_figheight(), va="top")  # fmt: skip
    return figure


def trials_figure(trials: np.ndarray, values: np.ndarray, metric_label: str) -> Figure:
    """A search's trials in the order they ran: each trial's final value, and the best so far.

    Failed or diverged trials (``inf``) are marked with crosses along the top of the plot.
    """
    figure = Figure(figsize=(9, 4.2))
    margins(figure, left=0.9, right=0.2, top=0.4, bottom=0.6)
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
    axes.set_title("Search trials: the objective by trial", y=TITLE_Y)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right")
    return figure
