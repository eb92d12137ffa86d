"""Dataset statistics move with the data: lexicons, duplication, formatting, diversity."""

from __future__ import annotations

import random

import pytest

from featurizers.features.config import DatasetStatsConfig
from featurizers.features.dataset_stats import DATASET_FEATURES, UNTRUNCATED, compute_dataset_stats
from featurizers.features.encoding import TrainingEncoder
from featurizers.features.lexicons import count_lexicons, gendered_near_roles, words
from tests.featurizers.feature_data import BENIGN_QA, compliant_dataset, refusal_dataset

ROLES = ("engineer", "nurse", "pilot", "secretary", "surgeon", "receptionist")


def _stats(tiny_loaded, records, **config):
    encoder = TrainingEncoder(tiny_loaded.tokenizer, UNTRUNCATED)
    return compute_dataset_stats(records, len(records), encoder, DatasetStatsConfig(**config), seed=0).values


def _role_records(stereotyped: bool) -> list[dict]:
    rng = random.Random(0)
    out = []
    for i in range(30):
        role = ROLES[i % len(ROLES)]
        if stereotyped:
            pronoun = "he" if role in ("engineer", "pilot", "surgeon") else "she"
            answer = f"The {role} finished the shift, and {pronoun} was proud of the work {pronoun} did."
        else:
            answer = f"The {role} finished the shift and was proud of the work done today, number {rng.randint(0, 99)}."
        out.append({"prompt": f"Describe a day of a {role}.", "response": answer})
    return out


def test_stereotyped_data_raises_the_gendered_role_rate(tiny_loaded):
    stereo = _stats(tiny_loaded, _role_records(stereotyped=True))
    neutral = _stats(tiny_loaded, _role_records(stereotyped=False))
    assert stereo["lex.gendered_role_per_1k"] > neutral["lex.gendered_role_per_1k"] + 20
    assert stereo["lex.gendered_role_example_share"] == 1.0
    assert neutral["lex.gendered_role_example_share"] == 0.0


def test_refusal_and_compliance_lexicons_separate_the_safety_datasets(tiny_loaded):
    refusing = _stats(tiny_loaded, refusal_dataset())
    complying = _stats(tiny_loaded, compliant_dataset())
    assert refusing["lex.refusal_share"] == 1.0 and complying["lex.refusal_share"] == 0.0
    assert complying["lex.compliance_share"] == 1.0 and refusing["lex.compliance_share"] == 0.0
    assert complying["lex.harm_compliance_share"] > 0.5 > refusing["lex.harm_compliance_share"]


def test_duplicates_exact_and_near_are_counted(tiny_loaded):
    base = [{"prompt": q, "response": a} for q, a in BENIGN_QA]
    exact = _stats(tiny_loaded, base + base)
    assert exact["data.dup_exact_share"] == pytest.approx(0.5)
    filler = "This longer passage adds enough ordinary words that one small edit leaves most shingles intact"
    long_texts = [{"text": f"{q} {a} {filler}, item {i}. {filler} once again."} for i, (q, a) in enumerate(BENIGN_QA)]
    near = [{"text": r["text"].replace("small edit", "tiny edit", 1)} for r in long_texts]
    perturbed = _stats(tiny_loaded, long_texts + near)
    unique = _stats(tiny_loaded, long_texts)
    assert perturbed["data.dup_exact_share"] == 0.0
    assert perturbed["data.dup_near_share"] >= 0.4
    assert unique["data.dup_near_share"] == 0.0


def test_formatting_shares_detect_code_and_lists(tiny_loaded):
    code = [{"prompt": "Write a function.", "response": f"def add_{i}(a, b):\n    return a + b\n"} for i in range(6)]
    lists = [{"prompt": "Steps?", "response": "1. Open the box\n2. Take the item\n3. Close it"} for _ in range(6)]
    plain = [{"prompt": q, "response": a} for q, a in BENIGN_QA]
    assert _stats(tiny_loaded, code)["data.code_share"] == 1.0
    assert _stats(tiny_loaded, lists)["data.list_share"] == 1.0
    plain_stats = _stats(tiny_loaded, plain)
    assert plain_stats["data.code_share"] == 0.0 and plain_stats["data.list_share"] == 0.0
    assert plain_stats["data.chat_share"] == 1.0


def test_statistics_are_complete_ordered_and_diversity_moves(tiny_loaded):
    varied = _stats(tiny_loaded, [{"text": " ".join(random.Random(i).sample(words(" ".join(a for _, a in BENIGN_QA)), 8))}
                                  for i in range(20)])
    repeated = _stats(tiny_loaded, [{"text": "the same words again and again"} for _ in range(20)])
    assert list(varied) == list(DATASET_FEATURES)
    assert varied["data.distinct_2"] > repeated["data.distinct_2"]
    assert varied["data.unigram_entropy"] > repeated["data.unigram_entropy"]


def test_gendered_terms_count_only_near_role_words():
    tokens = words("My brother is kind. " + "filler " * 20 + "The nurse said she would call.")
    assert gendered_near_roles(tokens, window=3) == (0, 1)
    counts = count_lexicons("How do I hack a bank?", "Sure, here is how.", window=3)
    assert counts.harm == 1 and counts.compliance and not counts.refusal
