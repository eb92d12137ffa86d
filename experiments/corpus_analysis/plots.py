"""The report's figures, drawn with matplotlib's object API on the Agg canvas.

No pyplot: no global figure state and no backend switch at import, so the
report runs headless and tests can draw in-process.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from experiments.corpus_analysis.runs import RunRow, families_of

METHOD_STYLE: Final[dict[str, tuple[str, str]]] = {"full": ("tab:blue", "o"), "lora": ("tab:orange", "^")}
OTHER_METHOD_STYLE: Final[tuple[str, str]] = ("tab:gray", "s")
FAMILY_COLORMAP: Final[str] = "tab20"


@dataclass(frozen=True)
class PlotStyle:
    """Sizes of the figures: inches per panel, resolution, and the jitter of strip points."""

    panel_width: float = 4.2
    panel_height_per_family: float = 0.35
    min_panel_height: float = 2.4
    line_panel_height: float = 3.0
    columns: int = 3
    dpi: int = 110
    jitter: float = 0.12
    point_size: float = 14.0
    seed: int = 0


def _png(fig: Figure, dpi: int) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def family_colors(families: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """One stable colour per family (sorted order), shared by every figure."""
    from matplotlib import colormaps

    cmap = colormaps[FAMILY_COLORMAP]
    order = list(range(0, cmap.N, 2)) + list(range(1, cmap.N, 2))  # tab20 pairs shades: dark ones first
    return {name: tuple(cmap(order[i % cmap.N])) for i, name in enumerate(sorted(families))}


def _grid(n_panels: int, style: PlotStyle, panel_height: float) -> tuple[Figure, list[Axes]]:
    cols = max(1, min(style.columns, n_panels))
    rows = max(1, math.ceil(n_panels / cols))
    fig = Figure(figsize=(style.panel_width * cols, panel_height * rows), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel())
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _method_legend(ax: Axes, methods: Sequence[str]) -> None:
    for method in methods:
        color, marker = METHOD_STYLE.get(method, OTHER_METHOD_STYLE)
        ax.scatter([], [], color=color, marker=marker, label=method)
    ax.legend(loc="best", fontsize="small", title="method")


def distribution_grid(rows: Sequence[RunRow], outcomes: Sequence[str], style: PlotStyle = PlotStyle()) -> bytes:
    """One panel per outcome: families on the y axis, a box per family, runs as points coloured by method."""
    families = families_of(rows)
    height = max(style.min_panel_height, style.panel_height_per_family * len(families) + 1.0)
    fig, axes = _grid(len(outcomes), style, height)
    rng = np.random.default_rng(style.seed)
    methods = sorted({r.method for r in rows})
    for ax, name in zip(axes, outcomes, strict=True):
        data = [[r.end[name] for r in rows if r.family == f and name in r.end] for f in families]
        positions = [i + 1 for i, values in enumerate(data) if values]
        ax.boxplot([values for values in data if values], positions=positions, orientation="horizontal",
                   widths=0.6, showfliers=False, medianprops={"color": "black"})
        for i, family in enumerate(families):
            for method in methods:
                values = [r.end[name] for r in rows if r.family == family and r.method == method and name in r.end]
                if values:
                    color, marker = METHOD_STYLE.get(method, OTHER_METHOD_STYLE)
                    y = i + 1 + rng.uniform(-style.jitter, style.jitter, size=len(values))
                    ax.scatter(values, y, s=style.point_size, color=color, marker=marker, alpha=0.7, zorder=3)
        ax.axvline(0.0, color="gray", linewidth=0.8, linestyle="--")
        ax.set_yticks(range(1, len(families) + 1), families, fontsize="small")
        ax.set_ylim(0.4, len(families) + 0.6)
        ax.set_title(f"Δ {name}", fontsize="medium")
    if axes:
        _method_legend(axes[0], methods)
    fig.suptitle("End-of-run deltas per family (box: all runs; points: runs by method)")
    return _png(fig, style.dpi)


def trajectory_grid(curves: Mapping[str, Mapping[str, Sequence[float]]], grid: Sequence[float],
                    style: PlotStyle = PlotStyle()) -> bytes:
    """One panel per outcome: the median delta of each family at each run fraction."""
    names = list(curves)
    fig, axes = _grid(len(names), style, style.line_panel_height)
    colors = family_colors(sorted({f for per in curves.values() for f in per}))
    for ax, name in zip(axes, names, strict=True):
        for family, values in sorted(curves[name].items()):
            ax.plot(grid, values, marker="o", markersize=3, color=colors[family], label=family)
        ax.axhline(0.0, color="gray", linewidth=0.8, linestyle="--")
        ax.set_xlabel("run fraction")
        ax.set_title(f"median Δ {name}", fontsize="medium")
    if axes:
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", fontsize="small", title="family")
    fig.suptitle("Median delta vs run fraction, per family")
    return _png(fig, style.dpi)


def dose_response(rows: Sequence[RunRow], outcomes: Sequence[str], style: PlotStyle = PlotStyle()) -> bytes:
    """End delta vs learning_rate x steps (log x), colour = family, marker = method."""
    fig, axes = _grid(len(outcomes), style, style.line_panel_height + 0.6)
    colors = family_colors(families_of(rows))
    for ax, name in zip(axes, outcomes, strict=True):
        for family in families_of(rows):
            for method in sorted({r.method for r in rows}):
                picked = [r for r in rows if r.family == family and r.method == method and name in r.end
                          and r.dose > 0]
                if picked:
                    marker = METHOD_STYLE.get(method, OTHER_METHOD_STYLE)[1]
                    ax.scatter([r.dose for r in picked], [r.end[name] for r in picked], color=colors[family],
                               marker=marker, s=style.point_size * 1.5, alpha=0.8,
                               label=f"{family} ({method})")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.axhline(0.0, color="gray", linewidth=0.8, linestyle="--")
        ax.set_xlabel("learning_rate × steps")
        ax.set_title(f"Δ {name}", fontsize="medium")
    if axes:
        handles, labels = [], []
        for ax in axes:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                if label not in labels:
                    handles.append(handle)
                    labels.append(label)
        fig.legend(handles, labels, loc="outside right upper", fontsize="small")
    fig.suptitle("Dose response: end delta vs learning_rate × steps (LoRA lr runs ~10× full; compare within a marker)")
    return _png(fig, style.dpi)
