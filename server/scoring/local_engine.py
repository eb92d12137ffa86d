"""``--engine local``: every candidate in this process, through one scorer, with a progress bar.

Records are read one candidate at a time, right before it is scored; a bad file or a
candidate the featurizer refuses is reported through ``on_skip`` and the batch goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from server.scoring.candidates import CandidateSpec, load_candidate, skipped_for
from server.scoring.results import CandidateResult, SkippedCandidate
from server.scoring.scorer import CandidateScorer
from server.scoring.sources import SourceError

logger = logging.getLogger(__name__)

SkipReporter = Callable[[SkippedCandidate], None]


def log_skip(skipped: SkippedCandidate) -> None:
    where = f"{skipped.path}:{skipped.line}" if skipped.line is not None else skipped.path
    logger.warning("skipped candidate %s (%s): %s", skipped.name, where, skipped.reason)


def scoring_failed(spec: CandidateSpec, message: str) -> SkippedCandidate:
    """A candidate whose files were fine but that could not be featurized or forecast."""
    return SkippedCandidate(name=spec.name, path=";".join(str(p) for p in spec.paths),
                            reason=f"scoring failed: {message}")


@dataclass
class EngineOutput:
    results: list[CandidateResult] = field(default_factory=list)
    skipped: list[SkippedCandidate] = field(default_factory=list)
    weights_hash: str = ""


def progress_bar(total: int, enabled: bool) -> Any:
    """A bar over candidates with rate and ETA; tqdm is imported only when scoring."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="scoring", unit="candidate", disable=not enabled, dynamic_ncols=True)


def run_local(specs: Sequence[CandidateSpec], scorer: CandidateScorer, *, progress: bool,
              on_skip: SkipReporter = log_skip) -> EngineOutput:
    out = EngineOutput(weights_hash=scorer.featurizer.loaded.weights_hash())
    with progress_bar(len(specs), progress) as bar:
        for spec in specs:
            bar.set_postfix_str(spec.name[-40:], refresh=False)
            try:
                candidate = load_candidate(spec)
            except SourceError as exc:
                skipped = skipped_for(spec, exc)
            else:
                try:
                    out.results.append(scorer.score(candidate))
                    skipped = None
                except ValueError as exc:  # e.g. a dataset the featurizer cannot tokenize
                    logger.debug("scoring %s failed", spec.name, exc_info=True)
                    skipped = scoring_failed(spec, str(exc))
            if skipped is not None:
                out.skipped.append(skipped)
                on_skip(skipped)
            bar.update(1)
    return out
