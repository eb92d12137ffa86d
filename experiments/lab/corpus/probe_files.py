"""The probe-suite files the corpus must teach from (knowledge, feature-split prompts) or keep out (eval items)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from featurizers.probes.loaders import read_jsonl, read_openings
from featurizers.probes.schema import KnowledgeItem, ReferenceItem, RolePrompt, SafetyPrompt, StereotypePair

logger = logging.getLogger(__name__)

KNOWLEDGE_FILE = "knowledge.jsonl"
SAFETY_PROMPTS_FILE = "safety_prompts.jsonl"
SAFETY_OPENINGS_FILE = "safety_openings.yaml"
STEREOTYPE_FILE = "stereotype_pairs.jsonl"
ROLE_PROMPTS_FILE = "role_prompts.jsonl"
REFERENCE_FILE = "reference.jsonl"


@dataclass
class ProbeData:
    """Whatever probe files exist; absent ones are empty and listed in `missing`."""

    knowledge: list[KnowledgeItem] = field(default_factory=list)
    safety_prompts: list[SafetyPrompt] = field(default_factory=list)
    refusal_openings: list[str] = field(default_factory=list)
    compliance_openings: list[str] = field(default_factory=list)
    stereotype_pairs: list[StereotypePair] = field(default_factory=list)
    role_prompts: list[RolePrompt] = field(default_factory=list)
    reference: list[ReferenceItem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def harmful_feature_prompts(self) -> list[str]:
        return [p.prompt for p in self.safety_prompts if p.kind == "harmful" and p.split == "feature"]

    def benign_feature_prompts(self) -> list[str]:
        return [p.prompt for p in self.safety_prompts if p.kind == "benign" and p.split == "feature"]

    def eval_safety_prompts(self) -> list[str]:
        return [p.prompt for p in self.safety_prompts if p.split == "eval"]


def load_probe_data(probe_dir: Path) -> ProbeData:
    """Read every probe file present under probe_dir, validating each against its schema."""
    data = ProbeData()
    jsonl_files = (
        (KNOWLEDGE_FILE, KnowledgeItem, "knowledge"),
        (SAFETY_PROMPTS_FILE, SafetyPrompt, "safety_prompts"),
        (STEREOTYPE_FILE, StereotypePair, "stereotype_pairs"),
        (ROLE_PROMPTS_FILE, RolePrompt, "role_prompts"),
        (REFERENCE_FILE, ReferenceItem, "reference"),
    )
    for name, model, attribute in jsonl_files:
        path = probe_dir / name
        if path.is_file():
            setattr(data, attribute, read_jsonl(path, model))
        else:
            data.missing.append(name)
    openings_path = probe_dir / SAFETY_OPENINGS_FILE
    if openings_path.is_file():
        openings = read_openings(openings_path)
        data.refusal_openings = list(openings.refusal)
        data.compliance_openings = list(openings.compliance)
    else:
        data.missing.append(SAFETY_OPENINGS_FILE)
    if data.missing:
        logger.warning("probe files not found under %s: %s", probe_dir, ", ".join(data.missing))
    return data
