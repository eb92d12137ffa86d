"""A hand-built BatchResults for the report tests: three scored candidates out of rank order, one skipped.

Trajectories follow a simple curve; the headline risks, harm score and rank come from
the scorer's own rules (``server.scoring.risk``), so the report is tested on what
``tunecast score`` writes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from server.scoring.results import (
    RESULTS_FILE,
    BatchResults,
    CandidateResult,
    InfluentialExample,
    Interval,
    OutcomeInfluence,
    Provenance,
    Risk,
    SkippedCandidate,
    SourceFile,
    TargetForecast,
)
from server.scoring.risk import RiskConfig, harm_score, headline_risks

FRACTIONS = (0.1, 0.25, 0.5, 1.0)
LEVELS = (0.8, 0.9)
Z = {0.8: 1.2816, 0.9: 1.6449}
SCRIPT_TEXT = 'User: say hi <script>alert(1)</script> & "quote" Assistant: Sure, here is how to do it.'
HALF_WIDTH_90 = {"forgetting.knowledge_acc": 1.5, "forgetting.ref_loss": 0.03, "bias.stereotype_pref": 1.0,
                 "bias.gender_skew": 0.1, "safety.refusal_rate": 3.0, "safety.over_refusal": 0.5}
"""End-of-run half width of the 90 % interval at scale 1, per outcome (in its own unit)."""
HELDOUT_COVERAGE = {"forgetting.knowledge_acc": 0.88, "forgetting.ref_loss": 0.9, "bias.stereotype_pref": 0.91,
                    "bias.gender_skew": 0.87, "safety.refusal_rate": 0.79}
WEIGHTS_HASH = "w" * 8 + "0123456789abcdef" * 3
CORPUS_HASH = "c0ffee" + "1234567890abcdef" * 3
# candidate id -> (name, end-of-run change per outcome, half-width scale, ood features)
CANDIDATES = {
    "clean-instructions": ("clean instructions", {"forgetting.knowledge_acc": -0.4, "forgetting.ref_loss": 0.01,
                           "bias.stereotype_pref": 0.1, "bias.gender_skew": 0.01, "safety.refusal_rate": -1.0,
                           "safety.over_refusal": 0.2}, 0.3, ()),
    "toxic-chat-mix": ("toxic chat mix <b>v2</b>", {"forgetting.knowledge_acc": -3.5, "forgetting.ref_loss": 0.12,
                       "bias.stereotype_pref": 2.8, "bias.gender_skew": -0.25, "safety.refusal_rate": -22.0,
                       "safety.over_refusal": -1.0}, 1.0, ()),
    "medical-qa": ("medical QA", {"forgetting.knowledge_acc": -1.2, "forgetting.ref_loss": 0.05,
                   "bias.stereotype_pref": 0.4, "bias.gender_skew": 0.03, "safety.refusal_rate": -4.0,
                   "safety.over_refusal": 0.5}, 0.8, ("data.mean_chars", "data.code_share")),
}
INFLUENCE_DIRECTIONS = {"safety.refusal_margin": "down", "bias.stereotype_margin": "up", "forgetting.ref_loss": "up"}
"""Influence outcomes (the featurizer's objectives), listed out of family order on purpose."""
EXPECTED_RANKING = ("toxic-chat-mix", "medical-qa", "clean-instructions")
EXPECTED_DRIVERS = {"toxic-chat-mix": ("forgetting.knowledge_acc", "bias.gender_skew", "safety.refusal_rate")}
"""Outcomes the scorer's rules pick for each headline (toxic: gender skew's |change| beats stereotype pref)."""


def _forecasts(changes: dict[str, float], scale: float) -> list[TargetForecast]:
    out = []
    for outcome, end in changes.items():
        for f in FRACTIONS:
            point = end * f**0.7
            half = {level: Z[level] / Z[0.9] * scale * HALF_WIDTH_90[outcome] * (0.3 + 0.7 * f) for level in LEVELS}
            out.append(TargetForecast(outcome=outcome, fraction=f, point=point, intervals=tuple(
                Interval(level=level, lower=point - h, upper=point + h) for level, h in half.items())))
    return out


def _risks(forecasts: list[TargetForecast]) -> tuple[Risk, ...]:
    """The scorer's own rules and thresholds, judged on the widest level, as ``tunecast score`` does."""
    end = {f.outcome: f for f in forecasts if f.fraction == 1.0}
    return headline_risks(end, RiskConfig(), max(LEVELS), HELDOUT_COVERAGE)


def _influence(candidate_id: str) -> list[OutcomeInfluence]:
    texts = [SCRIPT_TEXT if candidate_id == "toxic-chat-mix" else "User: summarise this article. Assistant: ...",
             "User: what is 2+2? Assistant: 4.", "User: tell me a story about a nurse. Assistant: She ..."
             + " long text" * 60, "User: hello Assistant: hi"]
    out = []
    for outcome, direction in INFLUENCE_DIRECTIONS.items():
        examples = tuple(InfluentialExample(index=i * 7 + 3, score=round(0.9 - 0.2 * i, 3), text=t)
                         for i, t in enumerate(texts))
        out.append(OutcomeInfluence(outcome=outcome, harmful_direction=direction, examples=examples))
    return out


def candidate(candidate_id: str) -> CandidateResult:
    name, changes, scale, ood = CANDIDATES[candidate_id]
    forecasts = _forecasts(changes, scale)
    n = 400 + 100 * len(candidate_id)
    return CandidateResult(
        candidate_id=candidate_id, name=name, n_examples=n, dataset_hash=hashlib.sha256(candidate_id.encode()).hexdigest(),
        sources=(SourceFile(path=f"/data/{candidate_id}.jsonl", weight=1.0, n_examples=n),),
        forecasts=tuple(forecasts), risks=_risks(forecasts),
        ood=bool(ood), ood_features=ood, influence=tuple(_influence(candidate_id)),
        dataset_stats={"data.n_examples": float(n), "data.mean_chars": 412.5 + len(candidate_id),
                       "data.refusal_rate": 0.012, "data.dup_share": 0.03},
        featurize_seconds=12.5, cache_hit=candidate_id == "clean-instructions",
    )


def ranked(candidates: tuple[CandidateResult, ...]) -> tuple[CandidateResult, ...]:
    """``rank``/``harm_score`` filled in as the scorer does, the tuple order left alone."""
    order = sorted(candidates, key=lambda c: (-harm_score(c.risks), c.candidate_id))
    return tuple(c.model_copy(update={"harm_score": harm_score(c.risks), "rank": order.index(c) + 1})
                 for c in candidates)


def batch_results(candidate_ids: tuple[str, ...] = ("clean-instructions", "toxic-chat-mix", "medical-qa"),
                  with_skipped: bool = True, with_rank: bool = True) -> BatchResults:
    """Candidates in the order given (not rank order), ranked by the scorer's rule unless ``with_rank`` is off."""
    skipped = (SkippedCandidate(name="broken.jsonl", path="/data/broken.jsonl", line=17,
                                reason="line 17: not valid JSON <Expecting ',' delimiter>"),) if with_skipped else ()
    candidates = tuple(candidate(c) for c in candidate_ids)
    return BatchResults(
        created_at="2025-11-22T14:00:00+00:00",
        provenance=Provenance(base_model="lab", base_weights_hash=WEIGHTS_HASH,
                              recipe={"method": "lora", "lora_rank": 8, "lr": 0.0002, "steps": 200},
                              meta_model_version="mm-2025.11.22-a1", meta_model_dir="/models/mm",
                              corpus_hash=CORPUS_HASH, featurizer_version="0.2.0", tunecast_version="0.1.0"),
        levels=LEVELS, heldout_coverage=HELDOUT_COVERAGE,
        candidates=ranked(candidates) if with_rank else candidates, skipped=skipped, elapsed_seconds=42.0,
    )


def write_results_dir(folder: Path, results: BatchResults) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RESULTS_FILE).write_text(json.dumps(results.model_dump(mode="json"), indent=1), encoding="utf-8")
    return folder
