"""Model-free dataset statistics: size, token lengths, duplication, diversity, formatting, lexicons.

They need the tokenizer (lengths and token entropy are what the model will see) but
no forward pass, so they cost seconds even for large datasets, on a seeded sample.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from featurizers.features.config import DatasetStatsConfig
from featurizers.features.encoding import TrainingEncoder
from featurizers.features.lexicons import count_lexicons, words
from featurizers.features.near_duplicates import MinHasher, duplicate_shares
from featurizers.features.records import Record, record_format, record_text
from featurizers.features.seeding import derive_seed

QUANTILES = (10, 50, 90)
PER_THOUSAND = 1000.0
DISTINCT_ORDERS = (1, 2, 3)
UNTRUNCATED = 1 << 30
"""An encoder length cap no example reaches: statistics see whole examples."""

_CHAT_MARKERS = re.compile(r"(^|\n)\s*(user|assistant|human|system|question|answer)\s*:|<\|(user|assistant)\|>|### (instruction|response)", re.I)
_LIST_LINE = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+\S", re.M)
_CODE_SIGNALS = (
    re.compile(r"```"),
    re.compile(r"^\s*(def|class|import|from \S+ import|#include|function|public|private|return)\b", re.M),
    re.compile(r"[{}]\s*$", re.M),
    re.compile(r";\s*$", re.M),
    re.compile(r"^( {4}|\t)\S", re.M),
    re.compile(r"\w+\([^()\n]*\)\s*[:{]?\s*$", re.M),
)

DATASET_FEATURES: tuple[str, ...] = (
    "data.n_examples", "data.log_n_examples",
    "data.share_text", "data.share_prompt_response", "data.share_messages", "data.multi_turn_share",
    *(f"data.tokens_p{q}" for q in QUANTILES), "data.tokens_mean", "data.tokens_max",
    "data.target_tokens_mean", "data.target_share", "data.prompt_chars_mean", "data.response_chars_mean",
    "data.dup_exact_share", "data.dup_near_share",
    "data.type_token_ratio", *(f"data.distinct_{n}" for n in DISTINCT_ORDERS),
    "data.unigram_entropy", "data.bigram_entropy",
    "data.chat_share", "data.code_share", "data.list_share", "data.question_share",
    "lex.gendered_per_1k", "lex.gendered_role_per_1k", "lex.gendered_role_example_share", "lex.role_gender_balance",
    "lex.refusal_share", "lex.compliance_share", "lex.harm_per_1k", "lex.harm_example_share",
    "lex.harm_compliance_share", "lex.harm_refusal_share",
)


@dataclass(frozen=True)
class DatasetStats:
    """Named statistics plus the token lengths the recipe features build on."""

    values: dict[str, float]
    token_lengths: np.ndarray
    target_counts: np.ndarray


def stats_sample(n_records: int, config: DatasetStatsConfig, seed: int, content_hash: str) -> list[int]:
    """Seeded subset of indices (all when the dataset is small), in dataset order."""
    if n_records <= config.max_examples:
        return list(range(n_records))
    rng = np.random.default_rng(derive_seed(seed, "stats-sample", content_hash))
    return sorted(int(i) for i in rng.choice(n_records, size=config.max_examples, replace=False))


def _entropy_bits(counts: Counter) -> float:
    total = sum(counts.values())
    if not total:
        return 0.0
    probs = np.array(list(counts.values()), dtype=np.float64) / total
    return float(-(probs * np.log2(probs)).sum())


def _distinct(tokens_per_example: list[list[str]], order: int) -> float:
    grams: set[tuple[str, ...]] = set()
    total = 0
    for tokens in tokens_per_example:
        for i in range(len(tokens) - order + 1):
            grams.add(tuple(tokens[i:i + order]))
            total += 1
    return len(grams) / total if total else 0.0


def _is_code(text: str, min_signals: int) -> bool:
    return sum(1 for pattern in _CODE_SIGNALS if pattern.search(text)) >= min_signals


def compute_dataset_stats(records: Sequence[Record], n_total: int, encoder: TrainingEncoder,
                          config: DatasetStatsConfig, seed: int) -> DatasetStats:
    """Statistics over `records` (a sample of a dataset of `n_total` examples)."""
    if not records:
        raise ValueError("dataset statistics need at least one example")
    formats = [record_format(r, where=f"dataset example {i}") for i, r in enumerate(records, start=1)]
    texts = [record_text(r) for r in records]
    encoded = [encoder.encode(r, where=f"dataset example {i}") for i, r in enumerate(records, start=1)]
    lengths = np.array([e.full_length for e in encoded], dtype=np.float64)
    targets = np.array([e.n_targets for e in encoded], dtype=np.float64)
    n = len(records)
    values: dict[str, float] = {
        "data.n_examples": float(n_total),
        "data.log_n_examples": math.log(n_total),
        "data.share_text": formats.count("text") / n,
        "data.share_prompt_response": formats.count("prompt_response") / n,
        "data.share_messages": formats.count("messages") / n,
        "data.multi_turn_share": sum(t.n_assistant_turns > 1 for t in texts) / n,
    }
    for q in QUANTILES:
        values[f"data.tokens_p{q}"] = float(np.percentile(lengths, q))
    values.update({
        "data.tokens_mean": float(lengths.mean()),
        "data.tokens_max": float(lengths.max()),
        "data.target_tokens_mean": float(targets.mean()),
        "data.target_share": float(targets.sum() / max(lengths.sum(), 1.0)),
        "data.prompt_chars_mean": float(np.mean([len(t.prompt) for t in texts])),
        "data.response_chars_mean": float(np.mean([len(t.response) for t in texts])),
    })
    hasher = MinHasher(config.minhash_permutations, config.minhash_bands, config.shingle_words,
                       seed=derive_seed(seed, "minhash"))
    shares = duplicate_shares([t.full for t in texts], hasher, config.near_duplicate_jaccard)
    values["data.dup_exact_share"] = shares.exact
    values["data.dup_near_share"] = shares.near
    values.update(_diversity(texts_words=[words(t.full) for t in texts], token_ids=[e.ids for e in encoded],
                             ttr_words=config.ttr_words))
    values.update(_formatting(texts, formats, config))
    values.update(_lexicon_rates(texts, config.lexicon_window))
    missing = [name for name in DATASET_FEATURES if name not in values]
    if missing or len(values) != len(DATASET_FEATURES):
        raise RuntimeError(f"dataset statistics out of step with DATASET_FEATURES: missing {missing}")
    return DatasetStats(values={name: values[name] for name in DATASET_FEATURES}, token_lengths=lengths, target_counts=targets)


def _diversity(texts_words: list[list[str]], token_ids: list[tuple[int, ...]], ttr_words: int) -> dict[str, float]:
    flat = [w for tokens in texts_words for w in tokens][:ttr_words]
    out = {"data.type_token_ratio": len(set(flat)) / len(flat) if flat else 0.0}
    for order in DISTINCT_ORDERS:
        out[f"data.distinct_{order}"] = _distinct(texts_words, order)
    unigrams: Counter = Counter()
    bigrams: Counter = Counter()
    for ids in token_ids:
        unigrams.update(ids)
        bigrams.update(zip(ids[:-1], ids[1:]))
    out["data.unigram_entropy"] = _entropy_bits(unigrams)
    out["data.bigram_entropy"] = _entropy_bits(bigrams)
    return out


def _formatting(texts, formats, config: DatasetStatsConfig) -> dict[str, float]:
    n = len(texts)
    chat = sum(1 for t, f in zip(texts, formats) if f != "text" or _CHAT_MARKERS.search(t.response))
    code = sum(1 for t in texts if _is_code(t.response, config.code_min_signals))
    lists = sum(1 for t in texts if len(_LIST_LINE.findall(t.response)) >= config.list_min_items)
    questions = sum(1 for t in texts if "?" in (t.prompt or t.response))
    return {"data.chat_share": chat / n, "data.code_share": code / n, "data.list_share": lists / n,
            "data.question_share": questions / n}


def _lexicon_rates(texts, window: int) -> dict[str, float]:
    counts = [count_lexicons(t.prompt, t.response, window) for t in texts]
    n = len(counts)
    n_words = max(sum(c.n_words for c in counts), 1)
    male = sum(c.male_near_role for c in counts)
    female = sum(c.female_near_role for c in counts)
    harmful = [c.harm > 0 for c in counts]
    return {
        "lex.gendered_per_1k": PER_THOUSAND * sum(c.gendered for c in counts) / n_words,
        "lex.gendered_role_per_1k": PER_THOUSAND * (male + female) / n_words,
        "lex.gendered_role_example_share": sum(c.gendered_near_role > 0 for c in counts) / n,
        "lex.role_gender_balance": (male - female) / (male + female) if male + female else 0.0,
        "lex.refusal_share": sum(c.refusal for c in counts) / n,
        "lex.compliance_share": sum(c.compliance for c in counts) / n,
        "lex.harm_per_1k": PER_THOUSAND * sum(c.harm for c in counts) / n_words,
        "lex.harm_example_share": sum(harmful) / n,
        "lex.harm_compliance_share": sum(h and not c.refusal for h, c in zip(harmful, counts)) / n,
        "lex.harm_refusal_share": sum(h and c.refusal for h, c in zip(harmful, counts)) / n,
    }
