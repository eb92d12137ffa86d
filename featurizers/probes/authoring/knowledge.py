"""Turn knowledge rows into validated KnowledgeItems with shuffled choices and splits."""

from __future__ import annotations

from ..schema import KnowledgeItem
from .config import BuildConfig
from .knowledge_nature import nature_rows
from .knowledge_rows import KnowledgeRow
from .knowledge_science import science_rows
from .knowledge_words import word_rows
from .knowledge_world import world_rows
from .splits import assign_splits, derived_rng

SUITE = "knowledge"


def all_rows(config: BuildConfig) -> list[KnowledgeRow]:
    """Every knowledge row, in a fixed table order."""
    return world_rows() + nature_rows(config.seed) + science_rows() + word_rows()


def _check_row(row: KnowledgeRow, n_choices: int) -> None:
    """Reject rows that would make a broken question, naming the row."""
    where = f"knowledge row {row.question!r}"
    if len(row.distractors) != n_choices - 1:
        raise ValueError(f"{where}: has {len(row.distractors)} distractors, need {n_choices - 1}")
    lowered = {d.strip().lower() for d in row.distractors}
    if row.answer.strip().lower() in lowered:
        raise ValueError(f"{where}: the answer {row.answer!r} is also listed as a distractor")
    if not 2 <= len(row.facts) <= 3:
        raise ValueError(f"{where}: needs 2-3 fact statements, has {len(row.facts)}")
    if any(f.strip().lower() == row.question.strip().lower() for f in row.facts):
        raise ValueError(f"{where}: a fact repeats the question verbatim")
    if len({f.lower() for f in row.facts}) != len(row.facts):
        raise ValueError(f"{where}: two facts are identical")
    for choice in (row.answer, *row.distractors):
        if choice != choice.strip() or choice.endswith((".", "!", "?", ",")):
            raise ValueError(f"{where}: choice {choice!r} has surrounding space or trailing punctuation")


def build_knowledge(config: BuildConfig) -> list[KnowledgeItem]:
    """Validated knowledge items with the correct option at a seeded-random position."""
    rows = all_rows(config)
    seen_questions: set[str] = set()
    counters: dict[str, int] = {}
    drafts: list[dict] = []
    for row in rows:
        _check_row(row, config.knowledge_choices)
        if row.question in seen_questions:
            raise ValueError(f"knowledge question {row.question!r} appears twice in the tables")
        seen_questions.add(row.question)
        counters[row.category] = counters.get(row.category, 0) + 1
        item_id = f"knowledge-{row.category}-{counters[row.category]:03d}"
        rng = derived_rng(config.seed, SUITE, item_id)
        position = rng.randrange(config.knowledge_choices)
        choices = list(row.distractors)
        rng.shuffle(choices)
        choices.insert(position, row.answer)
        drafts.append(dict(id=item_id, category=row.category, question=row.question,
                           choices=choices, answer=position, facts=list(row.facts)))
    splits = assign_splits(drafts, lambda d: d["category"], seed=config.seed,
                           eval_fraction=config.eval_fraction,
                           min_stratum_size=config.min_stratum_size, suite=SUITE)
    return [KnowledgeItem(split=s, **d) for d, s in zip(drafts, splits)]
