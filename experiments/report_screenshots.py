"""Screenshots of the risk report's main views, rendered by headless Chromium.

    python -m experiments.report_screenshots --results RESULTS_DIR --out experiments/results/report/ \\
        [--candidate ID] [--width 1280] [--height 1600] [--max-height 16000]

Writes report.html (the full report) and, from minimal pages holding one view
each, comparison.png (summary, ranking table and chart, skipped candidates) and
card_<candidate>.png (one forecast card; the most harmful one unless --candidate).
A headless screenshot shows the window only, so the window grows until the view
fits and the empty page below it is trimmed. Needs the Debian package `chromium` (or `chromium-browser`) on PATH.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

CHROMIUM_NAMES: Final[tuple[str, ...]] = ("chromium", "chromium-browser")
CHROMIUM_TIMEOUT_S: Final[float] = 180.0
TRIM_MARGIN_PX: Final[int] = 24
TRIM_TOLERANCE: Final[int] = 6
"""Per-channel difference from the page background that still counts as background when trimming."""
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class ChromiumError(RuntimeError):
    """Chromium is missing, failed or timed out; the message carries what it printed."""


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run_chromium(args: Sequence[str], timeout: float = CHROMIUM_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Headless, no sandbox (containers run as root), a throwaway profile so runs never share state."""
    binary = find_chromium()
    if binary is None:
        raise ChromiumError(f"none of {', '.join(CHROMIUM_NAMES)} is on PATH: install the Debian package `chromium`")
    with tempfile.TemporaryDirectory(prefix="tunecast-chromium-") as profile:
        command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                   f"--user-data-dir={profile}", *args]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ChromiumError(f"chromium did not finish within {timeout:.0f} s: {' '.join(command)}") from exc
    if result.returncode != 0:
        raise ChromiumError(f"chromium exited with {result.returncode}: {result.stderr[-1500:]}")
    return result


def screenshot(html: Path, png: Path, width: int, height: int) -> Path:
    """A PNG of the viewport (width x height) showing ``html``."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run_chromium([f"--screenshot={png}", f"--window-size={width},{height}", html.resolve().as_uri()])
    if not png.is_file() or png.stat().st_size == 0:
        raise ChromiumError(f"chromium reported success but wrote no screenshot at {png}")
    return png


def dump_dom(html: Path) -> str:
    """The DOM as Chromium parsed and laid it out (what a browser would show)."""
    return _run_chromium(["--dump-dom", html.resolve().as_uri()]).stdout


def trim_bottom(png: Path) -> bool:
    """Cut the page background below the last row that shows anything, keeping a small margin.

    Returns False, leaving the file alone, when the content runs to the bottom edge: the
    window was too short and the view is cut off.
    """
    import numpy as np
    from PIL import Image

    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    background = pixels[-1, -1]
    busy = np.flatnonzero((np.abs(pixels - background) > TRIM_TOLERANCE).any(axis=(1, 2)))
    if busy.size and busy[-1] >= pixels.shape[0] - 1:
        return False
    if busy.size:
        bottom = min(pixels.shape[0], int(busy[-1]) + TRIM_MARGIN_PX)
        Image.fromarray(pixels[:bottom].astype(np.uint8)).save(png)
    return True


def screenshot_view(html: Path, png: Path, width: int, height: int, max_height: int) -> Path:
    """Screenshot ``html`` whole: the window doubles in height (up to ``max_height``) until the view fits."""
    while True:
        screenshot(html, png, width, height)
        if trim_bottom(png):
            return png
        if height >= max_height:
            raise ChromiumError(f"{html.name} is taller than --max-height {max_height} px; raise it")
        height = min(2 * height, max_height)


def write_screenshots(results_dir: Path, out: Path, candidate: str | None = None, width: int = 1280,
                      height: int = 1600, max_height: int = 16000) -> list[Path]:
    """Full report plus one PNG per main view, all under ``out``."""
    from server.report.build import (
        TITLE,
        load_results,
        render_sections,
        write_text_atomic,
    )
    from server.report.config import ReportConfig
    from server.report.page import document
    from server.report.view import build_view

    config = ReportConfig()
    view = build_view(load_results(results_dir), config.coverage_tolerance)
    sections = render_sections(view, config)
    if not sections.cards:
        raise ValueError(f"{results_dir} holds no scored candidate: there is no forecast card to show")
    chosen = candidate or view.candidates[0].result.candidate_id
    if chosen not in sections.cards:
        raise ValueError(f"--candidate {chosen!r} is not in {results_dir}; candidates: {sorted(sections.cards)}")
    pages = {
        "comparison": document(TITLE, "\n".join(p for p in (sections.header, sections.comparison, sections.skipped) if p)),
        f"card_{UNSAFE_NAME.sub('-', chosen)}": document(TITLE, sections.cards[chosen]),
    }
    written = [write_text_atomic(out / "report.html", sections.page())]
    with tempfile.TemporaryDirectory(prefix="tunecast-report-") as tmp:
        for name, text in pages.items():
            page = write_text_atomic(Path(tmp) / f"{name}.html", text)
            written.append(screenshot_view(page, out / f"{name}.png", width, height, max_height))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, required=True, help="a `tunecast score` result directory")
    parser.add_argument("--out", type=Path, required=True, help="folder for report.html and the PNGs")
    parser.add_argument("--candidate", help="candidate id of the card to show (default: the most harmful)")
    parser.add_argument("--width", type=int, default=1280, help="browser window width (px)")
    parser.add_argument("--height", type=int, default=1600, help="first browser window height (px); doubled until "
                        "the view fits, then trimmed")
    parser.add_argument("--max-height", type=int, default=16000, help="tallest window tried (px)")
    args = parser.parse_args(argv)
    try:
        for path in write_screenshots(args.results, args.out, args.candidate, args.width, args.height, args.max_height):
            print(path)
    except (ChromiumError, ValueError, FileNotFoundError) as exc:
        print(f"report_screenshots: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
