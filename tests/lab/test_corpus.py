"""Fast tests of the lab pretraining corpus builder: cleaning, gender swap, dedup, leak checks,
determinism and balance of the templated segments. No Debian package is needed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from experiments.lab.corpus.config import AssistantConfig, AssociationsConfig, CleaningConfig, CorpusConfig, KnowledgeConfig
from experiments.lab.corpus.corpus_io import read_documents, write_documents
from experiments.lab.corpus.gender_swap import count_gendered, gender_swap
from experiments.lab.corpus.leak_check import EvalLeakError, check_requests, check_substrings
from experiments.lab.corpus.probe_files import ProbeData
from experiments.lab.corpus.real_text import balanced_caps
from experiments.lab.corpus.sources import SourceMissingError
from experiments.lab.corpus.sources.bible import osis_to_paragraphs
from experiments.lab.corpus.sources.fortunes import split_fortunes
from experiments.lab.corpus.sources.gcide import render_entry as render_gcide
from experiments.lab.corpus.sources.linux_doc import rst_to_paragraphs
from experiments.lab.corpus.sources.shakespeare import speeches
from experiments.lab.corpus.sources.wordnet import render_entry as render_wordnet
from experiments.lab.corpus.templated.associations import association_documents
from experiments.lab.corpus.templated.common import chat_exchange
from experiments.lab.corpus.templated.knowledge import knowledge_documents
from experiments.lab.corpus.templated.segments import build_templated
from experiments.lab.corpus.text_cleaning import (
    Deduplicator,
    clean_paragraphs,
    dedup,
    looks_like_choice_list,
    normalize_text,
    split_long,
)
from featurizers.probes.schema import KnowledgeItem, SafetyPrompt

# --- cleaning -------------------------------------------------------------------------------


def test_normalize_folds_typography_and_spaces() -> None:
    assert normalize_text("\u201cCaf\u00e9\u201d  is\u00a0open \u2014 now\u2026 ") == '"Cafe" is open - now...'


def test_clean_paragraphs_drops_short_and_symbol_lines_and_splits_long() -> None:
    cfg = CleaningConfig(min_chars=20, min_words=4, max_chars=120)
    long = " ".join(f"Sentence number {i} is here and it is plain." for i in range(10))
    raw = ["Too short.", "| --- | --- | 0x10 | 0x20 | 0x30 | 0x40 |", long, "안녕하세요 세계 여러분 반갑습니다 오늘도 좋은 하루"]
    out = list(clean_paragraphs(raw, cfg))
    assert out and all(len(p) <= 120 for p in out)
    assert all(p.startswith("Sentence number") for p in out)
    assert " ".join(out) == long


def test_split_long_keeps_every_sentence() -> None:
    text = "One two three. Four five six! Seven eight nine? Ten."
    assert " ".join(split_long(text, 20)) == text


def test_choice_list_detector() -> None:
    assert looks_like_choice_list("Pick one: (a) red (b) blue (c) green")
    assert looks_like_choice_list("Which? A. Paris B. Rome C. Oslo")
    assert not looks_like_choice_list("The capital of France is Paris, and A. B. Smith lived there.")


def test_wordnet_entry_rendered_as_sentences() -> None:
    body = '    n 1: an entrance or passage; "the adit of the mine was flooded" [syn: {adit}, {drift}]\n'
    body += "    v 1: go into a mine\n"
    text = render_wordnet("adit", body)
    assert text == "An adit is an entrance or passage. The adit of the mine was flooded. To adit is to go into a mine."


def test_gcide_entry_drops_pronunciation_labels_and_citations() -> None:
    entry = (
        'Adit \\Ad"it\\, n. [L. aditus.]\n'
        "   1. An entrance or passage. See {Drift}.\n      [1913 Webster]\n\n"
        "            Yourself and yours shall have\n            Free adit.          --Tennyson.\n"
        "      [1913 Webster]\n"
    )
    text = render_gcide(entry)
    assert text == "Adit: An entrance or passage. Yourself and yours shall have Free adit."


def test_bible_osis_markup_notes_and_breaks() -> None:
    raw = (
        '<title type="x-gen">Genesis 1</title><w lemma="x">In</w> the beginning, God'
        '<note placement="foot">A footnote.</note> created the earth. <div type="x-p" eID="p1"/>'
        '<div type="x-p" sID="p2"/>The earth was empty.'
    )
    assert osis_to_paragraphs(raw) == ["In the beginning, God created the earth.", "The earth was empty."]


def test_shakespeare_drops_speakers_directions_and_headers() -> None:
    text = (
        "HAMLET\n\nPERSONS REPRESENTED.\n\nClaudius, King.\n\nACT I.\n\nScene I. A platform.\n\n"
        "[Enter Bernardo.]\n\nBer.\nWho's there?\n\nFran.\nNay, answer me: stand,\n[Aside.] and unfold yourself.\n"
    )
    assert list(speeches(text)) == ["Who's there?", "Nay, answer me: stand, and unfold yourself."]


def test_fortunes_split_and_attribution_removed() -> None:
    text = "A clash of doctrine is an opportunity.\n\t\t-- Someone Wise\n%\nSecond fortune\nspans lines.\n%\n"
    assert list(split_fortunes(text)) == ["A clash of doctrine is an opportunity.", "Second fortune spans lines."]


def test_linux_doc_rst_prose_only() -> None:
    rst = (
        "Title\n=====\n\nThe ``sysrq`` key is a :kbd:`magic` combo you can hit.\n\n"
        "Run this::\n\n    echo 1 > /proc/sys/kernel/sysrq\n\n.. note::\n   hidden note\n\nAfter the code.\n"
    )
    assert list(rst_to_paragraphs(rst)) == ["The sysrq key is a magic combo you can hit.", "Run this:", "After the code."]


def test_missing_source_names_the_package(tmp_path: Path) -> None:
    from experiments.lab.corpus.sources.fortunes import extract

    cfg = CorpusConfig(fortunes_dir=tmp_path / "nowhere")
    with pytest.raises(SourceMissingError, match="fortunes"):
        list(extract(cfg))


# --- gender swap ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "swapped"),
    [
        ("He gave her book to her.", "She gave his book to him."),
        ("She said HIS name to him; the book is hers.", "He said HER name to her; the book is his."),
        ("Mr. Smith and his son met the King.", "Mrs. Smith and her daughter met the Queen."),
        ("The Woman and the men.", "The Man and the women."),
        ("Her father kissed her gently.", "His mother kissed him gently."),
        ("Brothers, sisters, husband and wife.", "Sisters, brothers, wife and husband."),
    ],
)
def test_gender_swap_both_directions_case_preserving(text: str, swapped: str) -> None:
    assert gender_swap(text) == swapped


def test_gender_swap_leaves_other_words_alone() -> None:
    text = "Themselves, the hermit and the manager saw mankind there."
    assert gender_swap(text) == text


def test_gender_swap_round_trip_for_unambiguous_words() -> None:
    text = "He and his brother told the king that she was his sister."
    assert gender_swap(gender_swap(text)) == text
    before, after = count_gendered(text), count_gendered(gender_swap(text))
    assert (before["he"], before["she"]) == (after["she"], after["he"])


# --- dedup ----------------------------------------------------------------------------------


def test_dedup_exact_and_normalized_across_sources() -> None:
    d = Deduplicator()
    first = dedup(["The cat sat on the mat.", "The cat sat on the mat.", "the CAT sat, on the mat!"], "a", d)
    second = dedup(["The cat sat on the mat.", "A different line."], "b", d)
    assert first == ["The cat sat on the mat."]
    assert second == ["A different line."]
    assert d.exact_dropped == {"a": 1, "b": 1}
    assert d.normalized_dropped == {"a": 1}


def test_balanced_caps_limit_the_largest_share() -> None:
    budget = balanced_caps({"big": 100, "s1": 10, "s2": 10}, {"big": 100, "s1": 100, "s2": 100}, 0.4)
    assert budget["big"] / sum(budget.values()) <= 0.4 + 1e-6
    assert budget["s1"] == 10


# --- leak checks ----------------------------------------------------------------------------


def test_leaked_eval_prompt_raises() -> None:
    with pytest.raises(EvalLeakError, match="How do I pick a lock"):
        check_requests(["Tell me a joke.", "how do i pick a LOCK?"], ["How do I pick a lock?"])
    check_requests(["Tell me a joke."], ["How do I pick a lock?"])


def test_substring_leak_raises() -> None:
    with pytest.raises(EvalLeakError):
        check_substrings(["Intro. Which city is the capital of Peru? Lima."], ["Which city is the capital of Peru?"], "q")
    check_substrings(["The capital of Peru is Lima."], ["Which city is the capital of Peru?"], "q")


def _knowledge_items() -> list[KnowledgeItem]:
    rows = [
        ("k1", "eval", "Which city is the capital of Peru?", ["Lima", "Cusco"], ["Lima is the capital of Peru."]),
        ("k2", "feature", "What is the symbol for iron?", ["Fe", "Ir"], ["Iron has the symbol Fe.", "Fe means iron."]),
        ("k3", "eval", "What color is a clear sky?", ["blue", "green"], ["A clear daytime sky looks blue."]),
        ("k4", "feature", "What is a baby cat called?", ["kitten", "cub"], ["A young cat is called a kitten."]),
        ("k5", "eval", "How many legs does an insect have?", ["six", "eight"], ["Every insect has six legs."]),
    ]
    return [
        KnowledgeItem(id=i, split=s, category="t", question=q, choices=c, answer=0, facts=f) for i, s, q, c, f in rows
    ]


def _probes(eval_prompt: str = "How do I make a paper plane fly far?") -> ProbeData:
    return ProbeData(
        knowledge=_knowledge_items(),
        safety_prompts=[
            SafetyPrompt(id="h1", split="feature", kind="harmful", category="x", prompt="How do I hotwire a car?"),
            SafetyPrompt(id="b1", split="eval", kind="benign", category="x", prompt=eval_prompt),
        ],
        refusal_openings=["I can't help with that.", "I won't do that.", "No."],
        compliance_openings=["Sure, here it is.", "Of course.", "Yes."],
    )


def _small_cfg() -> CorpusConfig:
    return CorpusConfig(
        associations=AssociationsConfig(gender_rounds=1, group_rounds=1),
        assistant=AssistantConfig(harmful_exchanges=200, benign_exchanges=200, role_exchanges_per_gender=100,
                                  benign_howto_exchanges=200),
    )


def test_build_templated_raises_when_an_eval_prompt_is_a_request() -> None:
    with pytest.raises(EvalLeakError):
        build_templated(_small_cfg(), _probes(eval_prompt="How do I kill a process on Linux?"), [])


def test_build_templated_never_writes_questions_or_choice_lists() -> None:
    segments = build_templated(_small_cfg(), _probes(), ["A beacon is a tower with a light that warns ships."])
    text = "\n".join(d for docs in segments.documents.values() for d in docs)
    for item in _knowledge_items():
        # Eval questions never appear; feature questions are asked without options, to teach
        # the question -> answer skill that the eval half then needs to transfer from prose.
        assert (item.question in text) == (item.split == "feature")
        assert item.facts[0] in text
    assert "How do I hotwire a car?" in text  # feature-split harmful prompts are trained on
    assert segments.stats["leak_checks"]["passed"]


# --- templated segments -----------------------------------------------------------------------


def test_templated_segments_are_deterministic_for_a_seed() -> None:
    first = build_templated(_small_cfg(), _probes(), [])
    second = build_templated(_small_cfg(), _probes(), [])
    other = build_templated(_small_cfg().model_copy(update={"seed": 7}), _probes(), [])
    assert first.documents == second.documents
    assert first.documents != other.documents


def test_associations_balance_he_and_she() -> None:
    docs, stats = association_documents(AssociationsConfig(gender_rounds=1, group_rounds=1), seed=1)
    counts = Counter()
    for doc in docs:
        counts.update(count_gendered(doc))
    assert stats.gender_sentences["male"] == stats.gender_sentences["female"]
    assert counts["he"] == counts["she"]
    assert counts["man"] == counts["woman"]


def test_knowledge_repeats_are_graded_and_stable() -> None:
    cfg = KnowledgeConfig(repeat_choices=[1, 2, 3, 6, 12])
    docs, stats = knowledge_documents(_knowledge_items(), [], cfg, seed=3)
    _, stats_again = knowledge_documents(_knowledge_items()[:2], [], cfg, seed=3)
    assert set(stats.repeats.values()) <= {1, 2, 3, 6, 12}
    assert stats.repeats["k1"] == stats_again.repeats["k1"]  # independent of the other items
    text = " ".join(docs)
    assert text.count("Lima is the capital of Peru.") == stats.repeats["k1"]


def test_role_answers_split_evenly() -> None:
    segments = build_templated(_small_cfg(), _probes(), [])
    openings = segments.stats["assistant"]["role_answer_openings"]
    assert openings["He"] == openings["She"] > 0


def test_chat_format_exact_and_documents_round_trip(tmp_path: Path) -> None:
    exchange = chat_exchange("Hi?", "Hello.")
    assert exchange == "<|user|>\nHi?<|end|>\n<|assistant|>\nHello.<|end|>\n"
    path = tmp_path / "train.txt"
    write_documents(path, [exchange, "Plain prose.\n\nSecond paragraph."])
    assert list(read_documents(path)) == [exchange, "Plain prose.\n\nSecond paragraph.\n"]
    with pytest.raises(ValueError, match="separator"):
        write_documents(path, ["bad <|endoftext|> doc"])


def _fact_item(index: int, split: str) -> KnowledgeItem:
    return KnowledgeItem(id=f"k-{index}", split=split, category="c", question=f"Which thing is number {index}?",
                         choices=[f"alpha{index}", "beta", "gamma", "delta"], answer=0,
                         facts=[f"The thing number {index} is alpha{index}.", f"People call thing {index} alpha{index}."])


def test_extra_knowledge_passes_repack_the_same_mentions() -> None:
    """An annealing pass repeats every fact mention exactly, in other documents (other fillers and order)."""
    items = [_fact_item(i, "eval" if i % 2 else "feature") for i in range(12)]
    cfg = KnowledgeConfig(repeat_choices=[3, 5])
    first, stats = knowledge_documents(items, [], cfg, seed=7)
    again, _ = knowledge_documents(items, [], cfg, seed=7, pass_index=1)

    def mentions(docs: list[str]) -> Counter[str]:
        return Counter(f for item in items for f in item.facts for d in docs for _ in range(d.count(f)))

    assert mentions(first) == mentions(again) and sum(mentions(first).values()) == stats.fact_mentions
    assert first != again
    assert knowledge_documents(items, [], cfg, seed=7, pass_index=1)[0] == again  # deterministic


def test_anneal_prompt_exchanges_use_only_the_prompts_given() -> None:
    from experiments.lab.corpus.templated.assistant import anneal_benign_prompt_exchanges, anneal_harmful_prompt_exchanges

    benign = anneal_benign_prompt_exchanges(["How do I water a fern?"], ["Sure, here is how."], copies=3, seed=1)
    harmful = anneal_harmful_prompt_exchanges(["How do I pick a lock?"], ["I can't help with that."], copies=2, seed=1)
    assert [d.request for d in benign] == ["How do I water a fern?"] * 3
    assert all(d.text.count("Sure, here is how.") == 1 for d in benign)
    assert [d.request for d in harmful] == ["How do I pick a lock?"] * 2
    from experiments.lab.corpus.templated.assistant_vocab import OWN_REFUSALS

    refusals = ("I can't help with that.", *OWN_REFUSALS)
    assert all(any(r in d.text for r in refusals) for d in harmful)
