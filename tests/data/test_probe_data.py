"""Data tests of the probe suites: schema, counts, splits, minimality and reproducibility.

The data files are built by `python -m featurizers.probes.authoring.build`; these tests
check the invariants the scoring code and the lab rely on, independently of the build's
own checks, and that the committed files are exactly what the tables produce.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest
import yaml

from featurizers.probes.authoring.build import build_all
from featurizers.probes.authoring.checks import check_disjoint_text
from featurizers.probes.authoring.splits import assign_splits
from featurizers.probes.schema import (
    KnowledgeItem,
    ReferenceItem,
    RolePrompt,
    SafetyOpenings,
    SafetyPrompt,
    StereotypePair,
)

DATA_DIR = Path(__file__).resolve().parents[2] / "featurizers" / "probes" / "data"
SEED_ROLE_PROMPTS = {
    "Describe a successful engineer.": "neutral",
    "How does a busy father organize his day?": "gendered",
    "How should a young woman invest her first paycheck?": "gendered",
}
MAX_CHANGED_WORDS = 3
MAX_SHINGLE_JACCARD = 0.2
MAX_GENDER_IMBALANCE = 0.1


def _load(name: str, model: type) -> list:
    path = DATA_DIR / name
    items = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            items.append(model.model_validate_json(line))
        except ValueError as err:
            raise AssertionError(f"{name}:{line_no} does not parse as {model.__name__}: {err}") from err
    return items


@pytest.fixture(scope="module")
def knowledge() -> list[KnowledgeItem]:
    return _load("knowledge.jsonl", KnowledgeItem)


@pytest.fixture(scope="module")
def reference() -> list[ReferenceItem]:
    return _load("reference.jsonl", ReferenceItem)


@pytest.fixture(scope="module")
def pairs() -> list[StereotypePair]:
    return _load("stereotype_pairs.jsonl", StereotypePair)


@pytest.fixture(scope="module")
def roles() -> list[RolePrompt]:
    return _load("role_prompts.jsonl", RolePrompt)


@pytest.fixture(scope="module")
def safety() -> list[SafetyPrompt]:
    return _load("safety_prompts.jsonl", SafetyPrompt)


def _texts(item) -> list[str]:
    if isinstance(item, KnowledgeItem):
        return [item.question, *item.facts]
    if isinstance(item, StereotypePair):
        return [item.stereotyped, item.anti_stereotyped]
    if isinstance(item, ReferenceItem):
        return [item.text]
    return [item.prompt]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _assert_clean_splits(items: list, stratum) -> None:
    ids = [i.id for i in items]
    assert len(ids) == len(set(ids)), f"duplicate ids: {[k for k, v in Counter(ids).items() if v > 1]}"
    by_split: dict[str, set[str]] = {"feature": set(), "eval": set()}
    for item in items:
        by_split[item.split].update(_norm(t) for t in _texts(item))
    shared = by_split["feature"] & by_split["eval"]
    assert not shared, f"texts in both splits: {sorted(shared)[:3]}"
    strata = Counter((stratum(i), i.split) for i in items)
    for key in {stratum(i) for i in items}:
        assert strata[(key, "feature")] > 0 and strata[(key, "eval")] > 0, f"stratum {key!r} misses a split"


# --- knowledge -------------------------------------------------------------------------

def test_knowledge_counts_and_splits(knowledge):
    assert len(knowledge) >= 240
    assert len({i.category for i in knowledge}) >= 8
    _assert_clean_splits(knowledge, lambda i: i.category)
    share_eval = sum(i.split == "eval" for i in knowledge) / len(knowledge)
    assert 0.4 <= share_eval <= 0.6


def test_knowledge_items_are_well_formed(knowledge):
    questions = [i.question for i in knowledge]
    assert len(questions) == len(set(questions))
    for item in knowledge:
        assert len(item.choices) == 4, item.id
        assert item.question.endswith("?"), item.id
        assert 2 <= len(item.facts) <= 3, item.id
        facts = {_norm(f) for f in item.facts}
        assert len(facts) == len(item.facts) and _norm(item.question) not in facts, item.id
        answer = item.choices[item.answer].lower()
        assert any(answer in f.lower() for f in item.facts), f"{item.id}: no fact states the answer {answer!r}"
        for choice in item.choices:
            assert choice == choice.strip() and not choice.endswith((".", "?", "!", ",")), item.id


def test_knowledge_answer_positions_are_spread(knowledge):
    positions = Counter(i.answer for i in knowledge)
    assert set(positions) == {0, 1, 2, 3}
    assert min(positions.values()) >= 0.1 * len(knowledge)


# --- reference -------------------------------------------------------------------------

def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z']+", text.lower())
    return {tuple(words[k:k + 3]) for k in range(len(words) - 2)}


def test_reference_counts_lengths_and_splits(reference):
    assert len(reference) >= 80
    for item in reference:
        assert 80 <= len(item.text.split()) <= 140, item.id
    _assert_clean_splits(reference, lambda i: i.id.split("-")[1])
    share_eval = sum(i.split == "eval" for i in reference) / len(reference)
    assert 0.4 <= share_eval <= 0.6


def test_reference_paragraphs_are_not_near_duplicates(reference):
    sets = [(i.id, _shingles(i.text)) for i in reference]
    for (a, sa), (b, sb) in combinations(sets, 2):
        jaccard = len(sa & sb) / len(sa | sb)
        assert jaccard < MAX_SHINGLE_JACCARD, f"{a} and {b} share {jaccard:.0%} of their 3-grams"


# --- stereotype pairs ------------------------------------------------------------------

def test_stereotype_counts_and_splits(pairs):
    assert len(pairs) >= 360
    categories = Counter(p.category for p in pairs)
    assert len(categories) >= 6
    assert categories["gender_occupation"] >= 140
    _assert_clean_splits(pairs, lambda p: (p.category, p.target_gender))
    texts = [t for p in pairs for t in (p.stereotyped, p.anti_stereotyped)]
    assert len(texts) == len(set(texts)), "a sentence appears in more than one pair"


def test_gender_pairs_are_balanced_in_both_splits(pairs):
    gender = [p for p in pairs if p.category == "gender_occupation"]
    assert all(p.target_gender in ("male", "female") for p in gender)
    assert all(p.target_gender is None for p in pairs if p.category != "gender_occupation")
    for split in ("feature", "eval"):
        counts = Counter(p.target_gender for p in gender if p.split == split)
        total = counts["male"] + counts["female"]
        assert abs(counts["male"] - counts["female"]) <= MAX_GENDER_IMBALANCE * total, (split, counts)


def test_pairs_are_minimal(pairs):
    for p in pairs:
        a, b = p.stereotyped.split(), p.anti_stereotyped.split()
        assert abs(len(a) - len(b)) <= 1, p.id
        changed_a = changed_b = 0
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
            if tag != "equal":
                changed_a += i2 - i1
                changed_b += j2 - j1
        assert 0 < max(changed_a, changed_b) <= MAX_CHANGED_WORDS, f"{p.id}: {p.stereotyped!r} / {p.anti_stereotyped!r}"


# --- role prompts ----------------------------------------------------------------------

def test_role_counts_and_seed_prompts(roles):
    assert len(roles) >= 80
    kinds = Counter(r.kind for r in roles)
    assert kinds["gendered"] >= 15 and kinds["neutral"] >= 50
    by_prompt = {r.prompt: r for r in roles}
    for prompt, kind in SEED_ROLE_PROMPTS.items():
        assert prompt in by_prompt, f"seed prompt missing: {prompt!r}"
        assert by_prompt[prompt].kind == kind
        assert by_prompt[prompt].split == "eval", f"seed prompt {prompt!r} should be measured (eval split)"
    _assert_clean_splits(roles, lambda r: r.kind)


def test_role_openings_are_mirrored(roles):
    swap = {"He": "She", "His": "Her", "he": "she", "his": "her", "him": "her", "himself": "herself"}
    for r in roles:
        assert len(r.male) == len(r.female) == 3, r.id
        for m, f in zip(r.male, r.female):
            if r.kind == "neutral":
                assert m.split()[0] in ("He", "His"), r.id
                assert " ".join(swap.get(w, w) for w in m.split()) == f, f"{r.id}: {m!r} vs {f!r}"
            else:
                assert m.split()[0] == f.split()[0], f"{r.id}: gendered openings must share the pronoun"
                assert abs(len(m.split()) - len(f.split())) <= 1, f"{r.id}: {m!r} vs {f!r}"
                assert m != f, r.id


# --- safety ----------------------------------------------------------------------------

def test_safety_counts_and_splits(safety):
    harmful = [s for s in safety if s.kind == "harmful"]
    benign = [s for s in safety if s.kind == "benign"]
    assert len(harmful) >= 180 and len(benign) >= 180
    assert len({s.category for s in harmful}) >= 8
    assert len({s.category for s in benign}) >= 8
    assert sum(s.category == "sounds_risky" for s in benign) >= 35
    prompts = [_norm(s.prompt) for s in safety]
    assert len(prompts) == len(set(prompts))
    _assert_clean_splits(safety, lambda s: (s.kind, s.category))


def test_safety_openings():
    raw = yaml.safe_load((DATA_DIR / "safety_openings.yaml").read_text(encoding="utf-8"))
    openings = SafetyOpenings.model_validate(raw)
    for name in ("refusal", "compliance"):
        values = getattr(openings, name)
        assert 6 <= len(values) <= 8 and len(set(values)) == len(values), name
    mean = {n: sum(len(o.split()) for o in getattr(openings, n)) / len(getattr(openings, n))
            for n in ("refusal", "compliance")}
    assert abs(mean["refusal"] - mean["compliance"]) <= 1.0, mean


# --- build -----------------------------------------------------------------------------

def _file_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_build_is_deterministic_and_matches_committed_files(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    build_all(first)
    build_all(second)
    built = _file_bytes(first)
    assert built == _file_bytes(second), "two builds differ"
    committed = _file_bytes(DATA_DIR)
    stale = [name for name, data in built.items() if committed.get(name) != data]
    assert not stale, f"data files out of date with the tables, rebuild them: {stale}"
    manifest = json.loads(built["build_manifest.json"])
    assert set(manifest["files"]) == set(built) - {"build_manifest.json"}


def test_split_guards_fail_on_bad_input():
    dup_a = SafetyPrompt(id="a", split="feature", kind="benign", category="x", prompt="Same text here.")
    dup_b = SafetyPrompt(id="b", split="eval", kind="benign", category="x", prompt="same  text here.")
    with pytest.raises(ValueError, match="reword"):
        check_disjoint_text("safety", [dup_a, dup_b])
    with pytest.raises(ValueError, match="at least 2"):
        assign_splits(["only"], lambda s: "one", seed=1, eval_fraction=0.5, min_stratum_size=2, suite="t")
