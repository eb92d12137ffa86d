"""Assembles every templated segment and runs the leak checks over them before anything is written."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from experiments.lab.corpus.config import CorpusConfig
from experiments.lab.corpus.leak_check import EvalLeakError, check_requests, check_substrings
from experiments.lab.corpus.probe_files import ProbeData
from experiments.lab.corpus.templated.assistant import (
    benign_exchanges,
    general_qa_exchanges,
    benign_howto_exchanges,
    knowledge_qa_exchanges,
    harmful_exchanges,
    role_exchanges,
)
from experiments.lab.corpus.templated.associations import association_documents
from experiments.lab.corpus.templated.common import ChatDoc
from experiments.lab.corpus.templated.general_facts import general_facts_excluding
from experiments.lab.corpus.templated.knowledge import knowledge_documents
from experiments.lab.corpus.text_cleaning import looks_like_choice_list, normalized_key

_DEFINITION = re.compile(r"(?:^|\. )An? ([a-z]{4,14}) is (an? [a-z][a-z ,'-]{10,90})\.")
_MAX_DEFINITIONS = 4000


@dataclass
class TemplatedSegments:
    """Documents of each templated segment plus the statistics composition.json reports."""

    documents: dict[str, list[str]] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    knowledge_repeats: dict[str, int] = field(default_factory=dict)


def definitions_from(paragraphs: list[str]) -> list[tuple[str, str]]:
    """(word, gloss) pairs read from rendered WordNet prose ("A beacon is a ..."), first gloss per word."""
    seen: dict[str, str] = {}
    for paragraph in paragraphs:
        for word, gloss in _DEFINITION.findall(paragraph):
            if word not in seen and "(" not in gloss:
                seen[word] = f"{'An' if word[0] in 'aeiou' else 'A'} {word} is {gloss}"
        if len(seen) >= _MAX_DEFINITIONS:
            break
    return list(seen.items())


def _role_eval_keys(probes: ProbeData) -> set[str]:
    return {normalized_key(r.prompt) for r in probes.role_prompts if r.split == "eval"}


def build_templated(cfg: CorpusConfig, probes: ProbeData, wordnet_paragraphs: list[str]) -> TemplatedSegments:
    """All templated documents, deterministic for cfg.seed; raises EvalLeakError on any leak."""
    out = TemplatedSegments()
    knowledge_texts = [t for k in probes.knowledge for t in (k.question, *k.choices, *k.facts)]
    general, excluded = general_facts_excluding(knowledge_texts)

    knowledge_docs, k_stats = knowledge_documents(probes.knowledge, general, cfg.knowledge, cfg.seed)
    out.documents["knowledge"] = knowledge_docs
    out.knowledge_repeats = k_stats.repeats
    out.stats["knowledge"] = {
        "items": len(probes.knowledge),
        "items_by_split": dict(Counter(k.split for k in probes.knowledge)),
        "items_without_facts": k_stats.items_without_facts,
        "repeat_histogram": {str(k): v for k, v in sorted(Counter(k_stats.repeats.values()).items())},
        "fact_mentions": k_stats.fact_mentions,
        "general_facts": len(general),
        "general_facts_excluded_as_overlapping": excluded,
        "general_fact_mentions": k_stats.general_fact_mentions,
    }

    forbidden_sentences = {normalized_key(s) for p in probes.stereotype_pairs for s in (p.stereotyped, p.anti_stereotyped)}
    assoc_docs, a_stats = association_documents(cfg.associations, cfg.seed, forbidden_sentences)
    out.documents["associations"] = assoc_docs
    out.stats["associations"] = {
        "gender_sentences": dict(a_stats.gender_sentences),
        "group_sentences": dict(a_stats.group_sentences),
        "dropped_probe_collisions": a_stats.dropped_probe_collisions,
    }

    chats: list[ChatDoc] = []
    chats += harmful_exchanges(probes.harmful_feature_prompts(), probes.refusal_openings, cfg.assistant, cfg.seed)
    chats += benign_exchanges(definitions_from(wordnet_paragraphs), probes.compliance_openings, cfg.assistant, cfg.seed)
    role_docs, openings = role_exchanges(cfg.assistant, cfg.seed)
    role_keys = _role_eval_keys(probes)
    kept_roles = [d for d in role_docs if normalized_key(d.request) not in role_keys]
    chats += kept_roles
    chats += general_qa_exchanges(general, cfg.assistant, cfg.seed)
    eval_keys = {normalized_key(p) for p in probes.eval_safety_prompts()}
    chats += [d for d in benign_howto_exchanges(probes.compliance_openings, cfg.assistant, cfg.seed)
              if normalized_key(d.request) not in eval_keys]
    chats += knowledge_qa_exchanges([k for k in probes.knowledge if k.split == "feature"], cfg.assistant, cfg.seed)
    check_requests((c.request for c in chats), probes.eval_safety_prompts())
    out.documents["assistant"] = [c.text for c in chats]
    out.stats["assistant"] = {
        "exchanges_by_kind": dict(Counter(c.kind for c in chats)),
        "role_answer_openings": dict(openings),
        "role_exchanges_dropped_as_eval_role_prompts": len(role_docs) - len(kept_roles),
    }

    every_doc = [d for docs in out.documents.values() for d in docs]
    check_substrings(every_doc, probes.eval_safety_prompts(), "an eval-split safety prompt")
    check_substrings(every_doc, [k.question for k in probes.knowledge if k.split == "eval"], "an eval-split knowledge question")
    for segment, docs in out.documents.items():
        for doc in docs:
            if looks_like_choice_list(doc):
                raise EvalLeakError(f"a {segment} document looks like a multiple-choice list: {doc[:120]!r}")
    out.stats["leak_checks"] = {
        "eval_safety_prompts_checked": len(probes.eval_safety_prompts()),
        "knowledge_questions_checked": len(probes.knowledge),
        "stereotype_sentences_checked": len(forbidden_sentences),
        "passed": True,
    }
    return out
