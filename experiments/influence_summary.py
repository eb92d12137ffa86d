"""The issue's `influence_counterfactual.json`: every influence-removal study in one list.

Three studies were run, each with its own script and raw file:

- v1 and v2 (`experiments.influence_counterfactual` → `influence_counterfactual_v1.json`,
  `influence_counterfactual_v2.json`): datasets of lab-v1 corpus runs, where the
  refusal erosion turned out to be diffuse (an oracle removal of the labelled lines
  cut it on none), so no ranking could pass;
- v3 (`experiments.influence_mixtures` → `influence_counterfactual_v3.json`, and the
  `_heldout1` repeat with one held-out line): poison mixed into a clean component
  whose control run shows clearly less harm, 3 training seeds per variant.

This module only reads those files and writes the summary, so every number in it
traces back to a fine-tune in a raw file; nothing is re-run:

    python -m experiments.influence_summary
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from featurizers.io import write_json_atomic

RESULTS = Path("experiments/results")
STUDIES: tuple[tuple[str, str], ...] = (
    ("v3_mixtures", "influence_counterfactual_v3.json"),
    ("v3_mixtures_heldout1", "influence_counterfactual_v3_heldout1.json"),
    ("v1_corpus_runs", "influence_counterfactual_v1.json"),
    ("v2_corpus_runs", "influence_counterfactual_v2.json"),
)
"""(study label, raw file under RESULTS), the primary study first."""


def _clearly_beats(entry: Mapping[str, Any]) -> bool | None:
    """Top removal left less harm than every random draw, by more than the full set's seed spread."""
    top, draws = entry.get("harm_top_removed"), entry.get("harm_random_removed_draws") or []
    if top is None or not draws:
        return None
    spread = entry.get("seed_spread", entry.get("full_seed_spread"))
    if spread is None:
        return None  # one training seed only: the noise floor is unknown
    return bool(min(draws) - top > spread)


def dataset_row(study: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """One dataset in the issue's shape, plus what a reader needs to judge it."""
    row: dict[str, Any] = {
        "name": f"{study}/{entry['name']}",
        "outcome": entry["outcome"],
        "harm_full": entry.get("harm_full"),
        "harm_top_removed": entry.get("harm_top_removed"),
        "harm_random_removed": entry.get("harm_random_removed"),
        "study": study,
        "harm_random_removed_draws": entry.get("harm_random_removed_draws"),
        "harm_oracle_removed": entry.get("harm_oracle_removed"),
        "seed_spread": entry.get("seed_spread", entry.get("full_seed_spread")),
        "top_beats_every_random_draw": (
            None if entry.get("harm_top_removed") is None or not entry.get("harm_random_removed_draws")
            else bool(entry["harm_top_removed"] < min(entry["harm_random_removed_draws"]))
        ),
        "top_beats_random_by_more_than_seed_spread": _clearly_beats(entry),
    }
    if "harm_clean" in entry:
        row["harm_clean_control"] = entry["harm_clean"]
        row["control_clearly_less_harm"] = entry.get("control_clearly_less_harm")
    return row


def summarize(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per study: datasets, usable ones (a clean control with clearly less harm; corpus runs had
    no control and count as usable), and on how many of those the top removal beat every random
    draw, and by more than the full set's training-seed spread (unknown, so not counted, for v1)."""
    out: dict[str, Any] = {}
    for study in dict.fromkeys(r["study"] for r in rows):
        mine = [r for r in rows if r["study"] == study]
        usable = [r for r in mine if r.get("control_clearly_less_harm", True) and r["harm_top_removed"] is not None]
        out[study] = {
            "datasets": len(mine),
            "usable": len(usable),
            "top_beats_every_random_draw": sum(bool(r["top_beats_every_random_draw"]) for r in usable),
            "top_beats_random_by_more_than_seed_spread": sum(
                bool(r["top_beats_random_by_more_than_seed_spread"]) for r in usable
            ),
        }
    return out


def build(results: Path = RESULTS) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    sources: dict[str, Any] = {}
    for study, name in STUDIES:
        path = results / name
        raw = json.loads(path.read_text())
        sources[study] = {"file": str(path), "command": raw.get("command"), "created_at": raw.get("created_at")}
        rows += [dataset_row(study, entry) for entry in raw["datasets"]]
    return {
        "command": "python -m experiments.influence_summary",
        "harm": "the measured end-of-run delta of the outcome in its harmful direction (refusal margin: nats lost)",
        "influence_score": "dot (the featurizer's default); v2 used contrast, v3 reports contrast in its raw file",
        "harm_random_removed": "mean over random 10 % draws (and training seeds where there were several)",
        "datasets": rows,
        "summary": summarize(rows),
        "sources": sources,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.influence_summary", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=RESULTS / "influence_counterfactual.json")
    args = parser.parse_args(argv)
    report = build(args.results)
    write_json_atomic(args.out, report)
    for study, s in report["summary"].items():
        print(f"{study}: {s}", file=sys.stderr)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
