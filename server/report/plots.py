"""The report's two figures, drawn with matplotlib's object API on the Agg canvas, returned as PNG bytes.

No pyplot: no global figure state and no backend switch, so a report renders
headless, in threads and in tests alike.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from server.report.config import RISK_COLORS, RISK_MARKERS, ReportConfig
from server.report.view import (
    CandidateView,
    HarmView,
    ReportView,
    Trajectory,
    headline_label,
)
from server.scoring.results import HEADLINES

INK = "#222222"
MUTED = "#6b6b6b"
GRID = "#e4e4e4"
INTERVAL_INK = "#4a4f57"
HARM_TINT = "#d62728"
ZONE_ALPHA = 0.10
HARM_TINT_ALPHA = 0.05
PAD_SHARE = 0.08
RUN_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _png(fig: Figure, dpi: int) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def _style(ax: Axes) -> None:
    ax.tick_params(colors=INK, labelsize=8, length=3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)
    ax.grid(True, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


def _short(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "\u2026"


def _line_widths(levels: Sequence[float]) -> dict[float, float]:
    """Narrowest level thickest: the eye reads the likeliest range first."""
    ordered = sorted(levels)
    return {level: 5.0 - 3.5 * i / max(1, len(ordered) - 1) for i, level in enumerate(ordered)}


@dataclass(frozen=True)
class _Row:
    """One candidate's dot and bars on a comparison panel, already on the panel's scale."""

    y: int
    risk: str
    harm: float
    harm_upper: float
    thresholds: tuple[float, float]
    intervals: dict[float, tuple[float, float]]


def _rows(rows: Sequence[tuple[int, HarmView]]) -> tuple[list[_Row], str]:
    """Panel rows and x label: in the outcome's unit, or, when candidates are driven by different outcomes
    (units that do not share an axis), as a share of each risk's 'high' threshold."""
    outcomes = {h.risk.outcome for _, h in rows}
    if len(outcomes) == 1:
        unit = rows[0][1].unit
        scale = {id(h): 1.0 for _, h in rows}
        label = f"forecast harm{f' ({unit})' if unit else ''}"
    else:
        scale = {id(h): 1.0 / h.risk.thresholds[1] if h.risk.thresholds[1] > 0 else 1.0 for _, h in rows}
        label = "forecast harm / 'high' threshold"
    out = []
    for y, h in rows:
        k = scale[id(h)]
        out.append(_Row(y=y, risk=h.risk.risk, harm=h.risk.harm * k, harm_upper=h.risk.harm_upper * k,
                        thresholds=(h.risk.thresholds[0] * k, h.risk.thresholds[1] * k),
                        intervals={level: (lo * k, hi * k) for level, (lo, hi) in h.harm_intervals.items()}))
    return out, label


def _harm_limits(rows: Sequence[_Row]) -> tuple[float, float]:
    values = [0.0]
    for row in rows:
        values += [row.harm, row.harm_upper, *row.thresholds]
        values += [v for pair in row.intervals.values() for v in pair]
    finite = [v for v in values if math.isfinite(v)]
    low, high = min(finite), max(finite)
    pad = PAD_SHARE * (high - low or 1.0)
    return low - pad, high + pad


def _comparison_panel(ax: Axes, headline: str, harms: Sequence[tuple[int, HarmView]], levels: Sequence[float]) -> None:
    rows, xlabel = _rows(harms)
    low, high = _harm_limits(rows)
    widths = _line_widths(levels)
    for row in rows:
        t0, t1 = row.thresholds
        for start, stop, risk in ((low, t0, "low"), (t0, t1, "moderate"), (t1, high, "high")):
            if stop > start:
                ax.barh(row.y, stop - start, left=start, height=0.86, color=RISK_COLORS[risk], alpha=ZONE_ALPHA,
                        linewidth=0)
        if row.intervals:
            for level, (lo, hi) in sorted(row.intervals.items(), reverse=True):
                ax.hlines(row.y, lo, hi, color=INTERVAL_INK, linewidth=widths.get(level, 1.5), alpha=0.75)
        else:  # direction unknown: only the harm-side bound is certain
            ax.hlines(row.y, row.harm, row.harm_upper, color=INTERVAL_INK, linewidth=1.5, linestyle="--")
        ax.scatter([row.harm], [row.y], s=52, marker=RISK_MARKERS[row.risk], color=RISK_COLORS[row.risk],
                   edgecolor="white", linewidth=1.0, zorder=3)
    ax.axvline(0.0, color=MUTED, linewidth=0.8)
    ax.set_xlim(low, high)
    outcomes = sorted({h.risk.outcome for _, h in harms})
    what = outcomes[0] if len(outcomes) == 1 else " / ".join(outcomes)
    ax.set_title(f"{headline_label(headline)}\n{what}", fontsize=9, color=INK, loc="left")
    ax.set_xlabel(f"{xlabel}  \u2192 worse", fontsize=8, color=MUTED)


def comparison_png(view: ReportView, config: ReportConfig) -> bytes | None:
    """Dot-and-interval chart: one panel per headline, candidates top (most harmful) to bottom, threshold zones."""
    if not view.candidates:
        return None
    present = {h.risk.headline for c in view.candidates for h in c.headlines}
    headlines = [h for h in HEADLINES if h in present] + sorted(present - set(HEADLINES))
    if not headlines:
        return None
    n = len(view.candidates)
    height = max(config.comparison_min_height, config.comparison_row_height * n + 1.3)
    fig = Figure(figsize=(config.comparison_panel_width * len(headlines), height), layout="constrained")
    axes = fig.subplots(1, len(headlines), sharey=True, squeeze=False)[0]
    for ax, headline in zip(axes, headlines):
        rows = [(n - 1 - i, h) for i, c in enumerate(view.candidates) for h in c.headlines if h.risk.headline == headline]
        _style(ax)
        ax.grid(False, axis="y")
        _comparison_panel(ax, headline, rows, view.levels)
    axes[0].set_yticks(range(n))
    axes[0].set_yticklabels([f"{c.rank}. {_short(c.result.name, config.label_chars)}" for c in reversed(view.candidates)])
    axes[0].set_ylim(-0.6, n - 0.4)
    widths = _line_widths(view.levels)
    handles = [Line2D([], [], color=RISK_COLORS[r], marker=RISK_MARKERS[r], linestyle="", label=f"{r} risk")
               for r in RISK_COLORS]
    handles += [Line2D([], [], color=INTERVAL_INK, linewidth=widths[level], label=f"{level:.0%} interval")
                for level in sorted(view.levels)]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False)
    return _png(fig, config.dpi)


def _trajectory_panel(ax: Axes, trajectory: Trajectory, config: ReportConfig) -> None:
    color = config.band_color
    levels = sorted(trajectory.bands)
    for i, level in reversed(list(enumerate(levels))):  # widest first, so narrow bands sit on top
        lower, upper = trajectory.bands[level]
        alpha = config.band_alphas[min(i, len(config.band_alphas) - 1)]
        ax.fill_between(trajectory.fractions, lower, upper, color=color, alpha=alpha, linewidth=0)
    ax.plot(trajectory.fractions, trajectory.points, color=color, linewidth=1.8)
    ax.plot(trajectory.fractions[1:], trajectory.points[1:], color=color, marker="o", markersize=3.5, linestyle="")
    ax.axhline(0.0, color=MUTED, linewidth=0.8)
    ax.set_xlim(0.0, 1.0)
    ax.set_xticks(RUN_TICKS)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_title(trajectory.outcome, fontsize=9, color=INK, loc="left")
    if trajectory.unit:
        ax.set_ylabel(trajectory.unit, fontsize=8, color=MUTED)
    if trajectory.harmful_direction == "magnitude":
        ax.text(0.99, 0.97, "harm: |change|", transform=ax.transAxes, ha="right", va="top", fontsize=7.5,
                color=HARM_TINT)
    elif trajectory.harmful_direction in ("up", "down"):
        low, high = ax.get_ylim()
        span = (0.0, high) if trajectory.harmful_direction == "up" else (low, 0.0)
        if span[1] > span[0]:
            ax.axhspan(*span, color=HARM_TINT, alpha=HARM_TINT_ALPHA, linewidth=0)
        ax.set_ylim(low, high)
        arrow = "\u2191" if trajectory.harmful_direction == "up" else "\u2193"
        ax.text(0.99, 0.97 if trajectory.harmful_direction == "up" else 0.03, f"harm {arrow}",
                transform=ax.transAxes, ha="right", va="top" if trajectory.harmful_direction == "up" else "bottom",
                fontsize=7.5, color=HARM_TINT)


def trajectory_png(candidate: CandidateView, levels: Sequence[float], config: ReportConfig) -> bytes | None:
    """Small multiples, one per outcome: forecast change from 0 to 100 % of the run, a band per interval level."""
    panels = candidate.trajectories
    if not panels:
        return None
    cols = min(config.trajectory_columns, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(config.panel_width * cols, config.panel_height * rows + 0.4), layout="constrained")
    axes = list(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax, trajectory in zip(axes, panels):
        _style(ax)
        _trajectory_panel(ax, trajectory, config)
    shown = sorted({level for t in panels for level in t.bands} or set(levels))
    handles: list[Line2D | Patch] = [Line2D([], [], color=config.band_color, linewidth=1.8, marker="o",
                                            markersize=3.5, label="point forecast")]
    for i, level in enumerate(shown):
        alpha = config.band_alphas[min(i, len(config.band_alphas) - 1)]
        handles.append(Patch(color=config.band_color, alpha=alpha, label=f"{level:.0%} interval"))
    handles.append(Patch(color=HARM_TINT, alpha=HARM_TINT_ALPHA * 3, label="harmful side"))
    fig.legend(handles=handles, loc="outside upper center", ncol=len(handles), fontsize=8, frameon=False)
    fig.supxlabel("fraction of the fine-tuning run", fontsize=8, color=MUTED)
    return _png(fig, config.dpi)
