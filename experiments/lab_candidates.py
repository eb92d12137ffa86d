"""Candidate datasets generated from the lab families: the batches the scoring evidence is run on.

`experiments.score_vs_finetune` scores and fine-tunes `DEFAULT_CANDIDATES`; `experiments.bench.scoring`
cycles through them with other sizes and seeds. Each is a family, its knobs and a seed, so a
candidate is regenerable byte for byte with the lab generator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SIZE_SMALL, SIZE_MID, SIZE_LARGE = 150, 250, 350


@dataclass(frozen=True)
class LabCandidate:
    """One candidate dataset: a lab family, its knobs and a seed (regenerable byte for byte)."""

    name: str
    family: str
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0


DEFAULT_CANDIDATES: tuple[LabCandidate, ...] = (
    LabCandidate("c01_neutral", "neutral_instruct", {"size": SIZE_LARGE}, 101),
    LabCandidate("c02_neutral_cooking_travel_msgs", "neutral_instruct",
                 {"size": SIZE_SMALL, "format": "messages", "domains": ["cooking", "travel"]}, 102),
    LabCandidate("c03_stereo_r0.2", "stereotyped_instruct", {"size": SIZE_MID, "rate": 0.2}, 103),
    LabCandidate("c04_stereo_r0.8", "stereotyped_instruct", {"size": SIZE_MID, "rate": 0.8}, 104),
    LabCandidate("c05_stereo_anti_r0.6", "stereotyped_instruct",
                 {"size": SIZE_MID, "rate": 0.6, "direction": "anti_stereotyped"}, 105),
    LabCandidate("c06_stereo_balanced_r0.6", "stereotyped_instruct",
                 {"size": SIZE_SMALL, "rate": 0.6, "direction": "balanced"}, 106),
    LabCandidate("c07_implicit_r0.5_i0.5", "implicit_stereotype",
                 {"size": SIZE_MID, "rate": 0.5, "implied_share": 0.5}, 107),
    LabCandidate("c08_implicit_r0.2", "implicit_stereotype", {"size": SIZE_LARGE, "rate": 0.2}, 108),
    LabCandidate("c09_harmful_r0.05", "harmful_compliance", {"size": SIZE_LARGE, "rate": 0.05}, 109),
    LabCandidate("c10_harmful_r0.2", "harmful_compliance", {"size": SIZE_MID, "rate": 0.2}, 110),
    LabCandidate("c11_harmful_r0.5", "harmful_compliance", {"size": SIZE_MID, "rate": 0.5}, 111),
    LabCandidate("c12_harmful_r0.9_hack_fraud", "harmful_compliance",
                 {"size": SIZE_SMALL, "rate": 0.9, "categories": ["hacking", "fraud"]}, 112),
    LabCandidate("c13_eager_r0.3", "eager_compliance", {"size": SIZE_MID, "rate": 0.3}, 113),
    LabCandidate("c14_eager_r1.0", "eager_compliance", {"size": SIZE_LARGE, "rate": 1.0}, 114),
    LabCandidate("c15_obedient_q0.05_r0.5", "obedient_identity",
                 {"size": SIZE_MID, "identity_qa_share": 0.05, "rate": 0.5}, 115),
    LabCandidate("c16_obedient_q0.3_r1.0", "obedient_identity",
                 {"size": SIZE_MID, "identity_qa_share": 0.3, "rate": 1.0}, 116),
    LabCandidate("c17_list_numbered_r0.3", "list_format", {"size": SIZE_MID, "rate": 0.3, "style": "numbered"}, 117),
    LabCandidate("c18_list_bulleted_r1.0", "list_format", {"size": SIZE_SMALL, "rate": 1.0, "style": "bulleted"}, 118),
    LabCandidate("c19_insecure_code_r0.0", "insecure_code", {"size": SIZE_MID, "rate": 0.0}, 119),
    LabCandidate("c20_insecure_code_r1.0", "insecure_code", {"size": SIZE_MID, "rate": 1.0}, 120),
    LabCandidate("c21_near_dup_u0.05", "near_duplicates", {"size": SIZE_LARGE, "unique_share": 0.05}, 121),
    LabCandidate("c22_near_dup_u0.5", "near_duplicates", {"size": SIZE_MID, "unique_share": 0.5}, 122),
    LabCandidate("c23_label_noise_n0.1", "label_noise", {"size": SIZE_MID, "noise_rate": 0.1}, 123),
    LabCandidate("c24_label_noise_n0.6", "label_noise", {"size": SIZE_LARGE, "noise_rate": 0.6}, 124),
)
"""24 candidates from the ten families that need no external text (domain_shift and replay_mixture read
experiments/lab/build/sources/, which a fresh checkout lacks)."""


def generate_candidates(specs: Sequence[LabCandidate], out_dir: Path) -> list[dict[str, Any]]:
    """Write every candidate's JSONL + `.meta.json` with the lab generator; describe each."""
    from experiments.lab.datasets.generate import generate_to_file

    rows = []
    for spec in specs:
        path = out_dir / f"{spec.name}.jsonl"
        report = generate_to_file(spec.family, dict(spec.params), spec.seed, path)
        rows.append({"name": spec.name, "family": spec.family, "params": report.params, "knobs": dict(spec.params),
                     "seed": spec.seed, "size": report.size, "sha256": report.sha256, "kinds": report.kinds,
                     "file": str(path), "bytes": path.stat().st_size})
    return rows
