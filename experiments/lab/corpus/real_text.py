"""Real-text part of the corpus: cross-source dedup, per-source caps and balance, the validation
hold-out, the seeded gender swap, and grouping of paragraphs into documents.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from experiments.lab.corpus.config import RealTextConfig
from experiments.lab.corpus.gender_swap import count_gendered, gender_swap
from experiments.lab.corpus.source_cache import SourceCache
from experiments.lab.corpus.templated.common import derived_rng
from experiments.lab.corpus.text_cleaning import Deduplicator, normalized_key

logger = logging.getLogger(__name__)


@dataclass
class SourceSelection:
    """Which cache rows of one source went to train and valid, and the documents made from them."""

    name: str
    train_rows: list[int] = field(default_factory=list)
    valid_rows: list[int] = field(default_factory=list)
    train_docs: list[str] = field(default_factory=list)
    valid_docs: list[str] = field(default_factory=list)
    cross_source_duplicates: int = 0
    reference_overlaps: int = 0
    swapped: int = 0
    gender_before: Counter[str] = field(default_factory=Counter)
    gender_after: Counter[str] = field(default_factory=Counter)


def balanced_caps(available: dict[str, int], caps: dict[str, int], max_share: float) -> dict[str, int]:
    """Per-source character budgets: at most each cap, shrunk until no source exceeds max_share of the total."""
    budget = {name: min(available[name], caps[name]) for name in available}
    for _ in range(len(budget) + 1):
        total = sum(budget.values())
        over = {n: b for n, b in budget.items() if total and b / total > max_share + 1e-9}
        if not over:
            return budget
        for name in over:
            others = total - budget[name]
            budget[name] = int(max_share * others / (1.0 - max_share)) if max_share < 1.0 else budget[name]
    return budget


def _group(paragraphs: list[str], target_chars: int) -> list[str]:
    """Consecutive paragraphs joined by blank lines into documents of about target_chars."""
    docs: list[str] = []
    current: list[str] = []
    size = 0
    for paragraph in paragraphs:
        current.append(paragraph)
        size += len(paragraph)
        if size >= target_chars:
            docs.append("\n\n".join(current))
            current, size = [], 0
    if current:
        docs.append("\n\n".join(current))
    return docs


def _drop_overlaps(cache: SourceCache, dedup: Deduplicator, reference_keys: set[str]) -> tuple[list[int], int, int]:
    rows, duplicates, references = [], 0, 0
    for row, paragraph in enumerate(cache.paragraphs):
        if reference_keys and normalized_key(paragraph) in reference_keys:
            references += 1
            continue
        if not dedup.keep(paragraph, cache.name):
            duplicates += 1
            continue
        rows.append(row)
    return rows, duplicates, references


def select_real_text(
    caches: dict[str, SourceCache], cfg: RealTextConfig, seed: int, reference_texts: list[str]
) -> dict[str, SourceSelection]:
    """Pretraining selections of every non-held-out source, deterministic for a seed."""
    reference_keys = {normalized_key(t) for t in reference_texts}
    dedup = Deduplicator()
    candidates: dict[str, list[int]] = {}
    selections: dict[str, SourceSelection] = {}
    for name, cache in caches.items():
        if cfg.sources[name].held_out:
            continue
        rows, duplicates, references = _drop_overlaps(cache, dedup, reference_keys)
        candidates[name] = rows
        selections[name] = SourceSelection(name, cross_source_duplicates=duplicates, reference_overlaps=references)
    available = {n: sum(len(caches[n].paragraphs[r]) for r in rows) for n, rows in candidates.items()}
    budgets = balanced_caps(available, {n: cfg.sources[n].cap_chars for n in candidates}, cfg.max_source_share)
    for name, rows in candidates.items():
        selection = selections[name]
        paragraphs = caches[name].paragraphs
        rng = derived_rng(seed, "real-text", name)
        order = list(rows)
        rng.shuffle(order)
        chosen, used = [], 0
        for row in order:
            if used >= budgets[name]:
                break
            chosen.append(row)
            used += len(paragraphs[row])
        n_valid = round(len(chosen) * cfg.valid_fraction)
        selection.valid_rows = sorted(chosen[:n_valid])
        selection.train_rows = sorted(chosen[n_valid:])
        swap_rng = derived_rng(seed, "gender-swap", name)
        for rows_, target in ((selection.train_rows, selection.train_docs), (selection.valid_rows, selection.valid_docs)):
            texts = []
            for row in rows_:
                text = paragraphs[row]
                swap = swap_rng.random() < cfg.gender_swap_fraction
                new_text = gender_swap(text) if swap else text
                if rows_ is selection.train_rows:
                    selection.gender_before.update(count_gendered(text))
                    selection.gender_after.update(count_gendered(new_text))
                    selection.swapped += int(swap)
                texts.append(new_text)
            target.extend(_group(texts, cfg.doc_target_chars))
        logger.info("%s: %d train / %d valid paragraphs", name, len(selection.train_rows), len(selection.valid_rows))
    return selections
