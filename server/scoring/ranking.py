"""The ranked table of a batch: order, columns, and the CSV + Parquet files.

Candidates are ranked most harmful first by ``harm_score`` (see ``server.scoring.risk``),
ties broken by candidate id so the order never depends on completion order. Columns, one
row per scored candidate:

- ``rank``, ``candidate_id``, ``name``, ``n_examples``, ``dataset_hash``, ``harm_score``;
- ``forgetting_risk``, ``bias_drift_potential``, ``safety_erosion``: low / moderate / high;
- per end-of-run outcome ``O``: ``O.point`` and ``O.lower_P`` / ``O.upper_P`` for each
  interval level (``P`` in percent, e.g. ``forgetting.ref_loss.upper_90``);
- ``ood`` (bool) and ``ood_features`` (the features at fault, ``;``-separated).

Both files hold the same table; pyarrow is imported only when writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from server.scoring.results import (
    HEADLINES,
    RANKING_CSV,
    RANKING_PARQUET,
    BatchResults,
    CandidateResult,
)
from server.scoring.risk import harm_score
from server.scoring.scorer import end_of_run
from surrogate.evaluation.files import write_atomic
from surrogate.runs.outcomes import order_outcomes

OOD_SEPARATOR = ";"


def rank_candidates(results: Sequence[CandidateResult]) -> tuple[CandidateResult, ...]:
    """The results with ``harm_score`` and ``rank`` filled in, most harmful first."""
    scored = [(harm_score(r.risks), r) for r in results]
    scored.sort(key=lambda item: (-item[0], item[1].candidate_id))
    return tuple(r.model_copy(update={"harm_score": score, "rank": i}) for i, (score, r) in enumerate(scored, start=1))


def level_label(level: float) -> str:
    """90 for 0.9, 99.5 for 0.995: the percent a column name carries."""
    return f"{round(level * 100, 6):g}"


def ranking_columns(results: BatchResults) -> dict[str, list[Any]]:
    """Column name -> values, in the documented order."""
    ends = [end_of_run(c.forecasts) for c in results.candidates]
    outcomes = order_outcomes({o for end in ends for o in end})
    leading = ("rank", "candidate_id", "name", "n_examples", "dataset_hash", "harm_score", *HEADLINES)
    columns: dict[str, list[Any]] = {name: [] for name in leading}
    for outcome in outcomes:
        columns[f"{outcome}.point"] = []
        for level in results.levels:
            columns[f"{outcome}.lower_{level_label(level)}"] = []
            columns[f"{outcome}.upper_{level_label(level)}"] = []
    columns["ood"] = []
    columns["ood_features"] = []
    for candidate, end in zip(results.candidates, ends):
        risks = {r.headline: r.risk for r in candidate.risks}
        row: dict[str, Any] = {
            "rank": candidate.rank, "candidate_id": candidate.candidate_id, "name": candidate.name,
            "n_examples": candidate.n_examples, "dataset_hash": candidate.dataset_hash,
            "harm_score": candidate.harm_score, **{h: risks.get(h) for h in HEADLINES},
            "ood": candidate.ood, "ood_features": OOD_SEPARATOR.join(candidate.ood_features),
        }
        for outcome in outcomes:
            forecast = end.get(outcome)
            row[f"{outcome}.point"] = forecast.point if forecast else None
            bounds = {i.level: i for i in forecast.intervals} if forecast else {}
            for level in results.levels:
                interval = bounds.get(level)
                row[f"{outcome}.lower_{level_label(level)}"] = interval.lower if interval else None
                row[f"{outcome}.upper_{level_label(level)}"] = interval.upper if interval else None
        for name, values in columns.items():
            values.append(row[name])
    return columns


def ranking_table(results: BatchResults) -> Any:
    """The table as a ``pyarrow.Table`` with explicit types (an empty batch keeps its columns)."""
    import pyarrow as pa

    types = {"rank": pa.int64(), "candidate_id": pa.string(), "name": pa.string(), "n_examples": pa.int64(),
             "dataset_hash": pa.string(), "ood": pa.bool_(), "ood_features": pa.string(),
             **{h: pa.string() for h in HEADLINES}}
    columns = ranking_columns(results)
    return pa.table({name: pa.array(values, type=types.get(name, pa.float64())) for name, values in columns.items()})


def write_ranking(results: BatchResults, out_dir: Path) -> tuple[Path, Path]:
    """``ranking.csv`` and ``ranking.parquet``, each written to a temp file and renamed into place."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    table = ranking_table(results)
    csv_path = write_atomic(out_dir / RANKING_CSV, lambda temp: pcsv.write_csv(table, str(temp)))
    parquet_path = write_atomic(out_dir / RANKING_PARQUET, lambda temp: pq.write_table(table, str(temp)))
    return csv_path, parquet_path
