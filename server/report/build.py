"""``write_report``: read a result directory's results.json, render one self-contained HTML file, write it atomically."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from server.report.config import ReportConfig
from server.report.page import (
    card_ids,
    card_section,
    comparison_section,
    document,
    header_section,
    provenance_section,
    skipped_section,
)
from server.report.plots import comparison_png, trajectory_png
from server.report.view import ReportView, build_view
from server.scoring.results import (
    REPORT_FILE,
    RESULTS_FILE,
    RESULTS_SCHEMA_VERSION,
    BatchResults,
)

log = logging.getLogger(__name__)
FILE_MODE: Final[int] = 0o644
TITLE: Final[str] = "tunecast risk report"


def load_results(results_dir: Path) -> BatchResults:
    """The directory's BatchResults; a missing or foreign file is an error that says what to run."""
    path = Path(results_dir) / RESULTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: RESULTS_DIR must be the --out folder of `tunecast score`")
    try:
        results = BatchResults.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise ValueError(f"{path} is not a tunecast score result (schema version {RESULTS_SCHEMA_VERSION}): "
                         f"{exc.error_count()} problem(s), first: {exc.errors()[0]['loc']} "
                         f"{exc.errors()[0]['msg']}") from exc
    if results.schema_version != RESULTS_SCHEMA_VERSION:
        raise ValueError(f"{path} has schema_version {results.schema_version}; this tunecast reads "
                         f"{RESULTS_SCHEMA_VERSION}: re-run `tunecast score` with this version")
    return results


@dataclass(frozen=True)
class Sections:
    """The page's parts, rendered once; the screenshot script composes single views from them."""

    header: str
    comparison: str
    skipped: str
    cards: dict[str, str]
    provenance: str

    def page(self) -> str:
        parts = [self.header, self.comparison, self.skipped, *self.cards.values(), self.provenance]
        return document(TITLE, "\n".join(p for p in parts if p))


def render_sections(view: ReportView, config: ReportConfig) -> Sections:
    """Summary, comparison (table + plot), skipped candidates, one card per candidate in rank order, provenance."""
    ids = card_ids(view)
    provenance = view.results.provenance
    cards = {}
    for candidate in view.candidates:
        cid = candidate.result.candidate_id
        cards[cid] = card_section(candidate, ids[cid], trajectory_png(candidate, view.levels, config), provenance, config)
    return Sections(header=header_section(view.results, view),
                    comparison=comparison_section(view, ids, comparison_png(view, config)),
                    skipped=skipped_section(view.results.skipped), cards=cards,
                    provenance=provenance_section(view.results))


def render_report(results: BatchResults, config: ReportConfig | None = None) -> str:
    config = config or ReportConfig()
    return render_sections(build_view(results, config.coverage_tolerance), config).page()


def write_text_atomic(path: Path, text: str) -> Path:
    """Temp file in the target folder, then rename: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_report(results_dir: Path, out: Path | None = None, config: ReportConfig | None = None) -> Path:
    """Render ``results_dir/results.json`` to ``out`` (default ``results_dir/report.html``); returns the path."""
    results_dir = Path(results_dir)
    results = load_results(results_dir)
    target = Path(out) if out is not None else results_dir / REPORT_FILE
    path = write_text_atomic(target, render_report(results, config))
    log.info("wrote the risk report for %d candidates to %s", len(results.candidates), path)
    return path
