"""Knowledge segment: each probe item's `facts` written into short prose documents with fillers.

Each item gets a seeded repetition count from a graded set, so the lab model learns some facts
well and some poorly; the question and its choice list are never written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from experiments.lab.corpus.config import KnowledgeConfig
from experiments.lab.corpus.templated.common import derived_rng
from experiments.lab.corpus.templated.fillers import filler_sentence, opener_sentence
from experiments.lab.corpus.templated.general_facts import GeneralFact
from featurizers.probes.schema import KnowledgeItem

_OPENER_SHARE = 0.5  # documents that start with a generic opener sentence


@dataclass
class KnowledgeStats:
    """Per-item repetition counts (the exposure each fact got) and segment totals."""

    repeats: dict[str, int] = field(default_factory=dict)
    items_without_facts: list[str] = field(default_factory=list)
    fact_mentions: int = 0
    general_fact_mentions: int = 0


def item_repeats(item_id: str, cfg: KnowledgeConfig, seed: int) -> int:
    """The copies an item gets, derived from its id alone so adding items never reshuffles the others."""
    return derived_rng(seed, "knowledge-repeats", item_id).choice(cfg.repeat_choices)


def _pack(mentions: list[str], cfg: KnowledgeConfig, rng: random.Random) -> list[str]:
    """Short documents: an optional opener, then each fact statement followed by a few fillers."""
    rng.shuffle(mentions)
    docs: list[str] = []
    i = 0
    low, high = cfg.facts_per_doc
    f_low, f_high = cfg.fillers_per_fact
    while i < len(mentions):
        n = rng.randint(low, high)
        sentences: list[str] = [opener_sentence(rng)] if rng.random() < _OPENER_SHARE else []
        for statement in mentions[i : i + n]:
            fillers = [filler_sentence(rng) for _ in range(rng.randint(f_low, f_high))]
            position = rng.randint(0, len(fillers))
            sentences.extend(fillers[:position] + [statement] + fillers[position:])
        docs.append(" ".join(sentences))
        i += n
    return docs


def knowledge_documents(
    items: list[KnowledgeItem], general_facts: list[GeneralFact], cfg: KnowledgeConfig, seed: int, pass_index: int = 0
) -> tuple[list[str], KnowledgeStats]:
    """Prose documents teaching every item's facts (both splits) and the general-QA facts.

    pass_index > 0 gives another packing (other fillers and neighbours) of the same mentions,
    so the annealing mix can repeat the facts without repeating whole documents.
    """
    stats = KnowledgeStats()
    mentions: list[str] = []
    for item in items:
        if not item.facts:
            stats.items_without_facts.append(item.id)
            continue
        copies = item_repeats(item.id, cfg, seed)
        stats.repeats[item.id] = copies
        offset = derived_rng(seed, "knowledge-phrasing", item.id).randrange(len(item.facts))
        for k in range(copies):
            mentions.append(item.facts[(offset + k) % len(item.facts)])
        stats.fact_mentions += copies
    for fact in general_facts:
        for k in range(cfg.general_fact_repeats):
            mentions.append(fact.statements[k % len(fact.statements)])
        stats.general_fact_mentions += cfg.general_fact_repeats
    pack_names = ("knowledge-docs",) if pass_index == 0 else ("knowledge-docs", f"pass-{pass_index}")
    return _pack(mentions, cfg, derived_rng(seed, *pack_names)), stats


CLOZE_FRAMES = (
    "Fill in the blank: {cloze}",
    "Complete this sentence: {cloze}",
    "What goes in the gap? {cloze}",
)
CLOZE_BLANK = "___"


def cloze_exchanges(items: list[KnowledgeItem], cfg: KnowledgeConfig, seed: int) -> list[str]:
    """Fill-in-the-blank requests built from each item's own fact statements, answered briefly.

    They teach recall in the assistant's answer position without the eval wording: the request
    is a fact with its answer blanked out, never the item's question or its choice list. Copies
    follow the item's graded exposure, so some facts stay weakly known.
    """
    from featurizers.chat_format import render_exchange

    docs: list[str] = []
    for item in items:
        answer = item.choices[item.answer]
        statements = [f for f in item.facts if answer in f]
        if not statements:
            continue
        rng = derived_rng(seed, "knowledge-cloze", item.id)
        copies = max(1, item_repeats(item.id, cfg, seed) // cfg.cloze_divisor)
        for k in range(copies):
            fact = statements[k % len(statements)]
            cloze = fact.replace(answer, CLOZE_BLANK, 1)
            request = CLOZE_FRAMES[rng.randrange(len(CLOZE_FRAMES))].format(cloze=cloze)
            reply = f"{answer[:1].upper()}{answer[1:]}." if rng.random() < 0.5 else f"The answer is {answer}."
            docs.append(render_exchange(request, reply))
    return docs
