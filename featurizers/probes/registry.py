"""A typed registry of probe suites: refuses duplicates, suggests near names on a typo.

Each suite is created from the bundled data file or from a user-supplied file in a
standard public format (CrowS-Pairs CSV for stereotype pairs, JSONL of prompts for safety).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from featurizers.probes.base import ProbeSuite
from featurizers.probes.bias import GenderSkewSuite, StereotypeSuite
from featurizers.probes.forgetting import KnowledgeSuite, ReferenceSuite
from featurizers.probes.loaders import read_crows_csv, read_jsonl, read_openings, read_prompt_jsonl
from featurizers.probes.safety import BenignSuite, HarmfulSuite
from featurizers.probes.schema import KnowledgeItem, ReferenceItem, RolePrompt, SafetyPrompt, Split, StereotypePair

DATA_DIR = Path(__file__).parent / "data"

SuiteFactory = Callable[[Path | None, Split], ProbeSuite]


class UnknownSuiteError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


@dataclass
class SuiteRegistry:
    """Suite name -> factory(user_file_or_None, split_for_user_items)."""

    data_dir: Path
    _factories: dict[str, SuiteFactory]

    def register(self, name: str, factory: SuiteFactory) -> None:
        if name in self._factories:
            raise ValueError(f"suite {name!r} is already registered")
        self._factories[name] = factory

    def names(self) -> list[str]:
        return list(self._factories)

    def resolve(self, selectors: list[str] | None) -> list[str]:
        """Expand selectors (full names or family prefixes like "bias") to suite names, in order."""
        if not selectors:
            return self.names()
        chosen: list[str] = []
        for selector in selectors:
            matched = [n for n in self._factories if n == selector or n.startswith(selector + ".")]
            if not matched:
                candidates = self.names() + sorted({n.split(".")[0] for n in self._factories})
                near = difflib.get_close_matches(selector, candidates, n=2)
                hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else f"; known suites: {', '.join(self.names())}"
                raise UnknownSuiteError(f"unknown suite {selector!r}{hint}")
            chosen.extend(n for n in matched if n not in chosen)
        return chosen

    def create(self, name: str, user_file: str | Path | None = None, split: Split = "eval") -> ProbeSuite:
        (resolved,) = [n for n in self.resolve([name]) if n == name] or [None]
        if resolved is None:
            raise UnknownSuiteError(f"{name!r} names a family; give one suite: {', '.join(self.resolve([name]))}")
        return self._factories[name](Path(user_file) if user_file else None, split)


def default_registry(data_dir: Path = DATA_DIR) -> SuiteRegistry:
    """A fresh registry of the bundled suites (no module-level mutable state)."""
    registry = SuiteRegistry(data_dir=data_dir, _factories={})

    def openings():
        return read_openings(data_dir / "safety_openings.yaml")

    def bundled_or(path: Path | None, default: str) -> Path:
        return path if path is not None else data_dir / default

    registry.register("forgetting.reference", lambda p, s: ReferenceSuite(read_jsonl(bundled_or(p, "reference.jsonl"), ReferenceItem)))
    registry.register("forgetting.knowledge", lambda p, s: KnowledgeSuite(read_jsonl(bundled_or(p, "knowledge.jsonl"), KnowledgeItem)))
    registry.register("bias.stereotype", lambda p, s: StereotypeSuite(
        read_crows_csv(p, s) if p is not None and p.suffix.lower() == ".csv"
        else read_jsonl(bundled_or(p, "stereotype_pairs.jsonl"), StereotypePair)))
    registry.register("bias.gender_skew", lambda p, s: GenderSkewSuite(read_jsonl(bundled_or(p, "role_prompts.jsonl"), RolePrompt)))

    def safety(kind: str, cls):
        def factory(p: Path | None, s: Split) -> ProbeSuite:
            if p is not None:
                return cls(read_prompt_jsonl(p, kind, s), openings())
            items = [i for i in read_jsonl(data_dir / "safety_prompts.jsonl", SafetyPrompt) if i.kind == kind]
            return cls(items, openings())
        return factory

    registry.register("safety.harmful", safety("harmful", HarmfulSuite))
    registry.register("safety.benign", safety("benign", BenignSuite))
    return registry
