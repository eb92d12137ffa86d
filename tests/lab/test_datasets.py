"""Tests of the lab dataset families: determinism, record formats, exact rates, content invariants."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from experiments.lab.datasets import (
    DuplicateFamilyError,
    Family,
    FamilyRegistry,
    GenContext,
    InMemoryTextSource,
    JsonlCacheSource,
    SourceCacheMissingError,
    UnknownFamilyError,
    content_hash,
    default_registry,
    read_jsonl,
    record_format,
    write_jsonl,
)
from experiments.lab.datasets.banks.harmful import COMPLIANT_OPENERS, FILLER_STEPS, HARMFUL_ACTIONS, ORDINALS
from experiments.lab.datasets.banks.roles import FEMALE_NAMES, MALE_NAMES, ROLES
from experiments.lab.datasets.describe import FAMILIES_MD, describe
from experiments.lab.datasets.exclusions import load_probe_prompts, normalize_prompt
from experiments.lab.datasets.generate import generate_to_file, main, meta_path
from experiments.lab.datasets.params import MAX_SIZE, MIN_SIZE
from experiments.lab.datasets.records import InvalidRecordError, canonical_jsonl
from experiments.lab.datasets.sources import DEFAULT_CACHE_DIR, SOURCE_NAMES

SIZE = 50
REPO = Path(__file__).resolve().parents[2]

# Written independently of the package lexicon, so a gap in either list shows up here.
GENDERED = {
    "he", "him", "his", "himself", "she", "her", "hers", "herself", "man", "men", "woman", "women",
    "boy", "boys", "girl", "girls", "male", "female", "mr", "mrs", "ms", "sir", "madam", "lady",
    "ladies", "gentleman", "guy", "guys", "father", "mother", "dad", "mom", "mum", "son", "daughter",
    "husband", "wife", "brother", "sister", "uncle", "aunt", "niece", "nephew", "grandma", "grandpa",
    "boyfriend", "girlfriend", "king", "queen", "prince", "princess", "actress", "waitress",
    "landlord", "landlady", "chairman", "businessman", "salesman", "fireman", "policeman",
}

# Content markers of the insecure patterns, to count them without trusting the `kind` labels.
INSECURE_MARKERS = tuple(re.compile(p) for p in (
    r"shell=True", r"os\.popen", r"verify\s*=\s*False", r"(?<![\w.])eval\(", r"password\s*=\s*\"",
    r"hashlib\.(md5|sha1)", r"yaml\.Loader", r"unsafe_load", r"= '\" \+", r"= '\{",
))


def fake_source() -> InMemoryTextSource:
    """Deterministic paragraphs per source, varied in length, enough for any size-50 sample."""
    words = ("river", "lamp", "stone", "garden", "signal", "kernel", "verse", "harbor", "module", "cloud")
    data = {}
    for name in SOURCE_NAMES:
        paras = []
        for i in range(400):
            body = " ".join(words[(i * 7 + j * 3) % len(words)] for j in range(8 + (i % 30)))
            paras.append(f"{name} paragraph {i}. {body.capitalize()}.")
        data[name] = paras
    return InMemoryTextSource(data)


@pytest.fixture(scope="module")
def registry() -> FamilyRegistry:
    return default_registry()


@pytest.fixture(scope="module")
def ctx() -> GenContext:
    return GenContext(source=fake_source())


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def texts_of(record: dict) -> list[str]:
    fmt = record_format(record)
    if fmt == "text":
        return [record["text"]]
    if fmt == "prompt_response":
        return [record["prompt"], record["response"]]
    return [m["content"] for m in record["messages"]]


def prompt_response(record: dict) -> tuple[str, str]:
    if "messages" in record:
        return record["messages"][0]["content"], record["messages"][-1]["content"]
    return record["prompt"], record["response"]


# ---------------------------------------------------------------- every family


def test_at_least_eleven_families(registry):
    assert len(registry) >= 11
    for name in ("domain_shift", "neutral_instruct", "stereotyped_instruct", "implicit_stereotype",
                 "harmful_compliance", "eager_compliance", "obedient_identity", "list_format",
                 "insecure_code", "near_duplicates", "label_noise", "replay_mixture"):
        assert name in registry


@pytest.mark.parametrize("name", default_registry().names())
def test_family_is_deterministic_and_valid(registry, ctx, name):
    a = registry.generate(name, {"size": SIZE}, seed=7, ctx=ctx)
    b = registry.generate(name, {"size": SIZE}, seed=7, ctx=ctx)
    c = registry.generate(name, {"size": SIZE}, seed=8, ctx=ctx)
    assert len(a) == SIZE
    assert canonical_jsonl(a) == canonical_jsonl(b)
    assert canonical_jsonl(a) != canonical_jsonl(c)
    for ex in a:
        assert record_format(ex.record) in ("text", "prompt_response", "messages")
        assert ex.kind


@pytest.mark.parametrize("name", [n for n in default_registry().names()
                                  if "format" in default_registry().get(n).params_model.model_fields
                                  and n != "domain_shift"])
@pytest.mark.parametrize("fmt", ["prompt_response", "messages", "text"])
def test_chat_families_honour_format(registry, ctx, name, fmt):
    examples = registry.generate(name, {"size": SIZE, "format": fmt}, seed=1, ctx=ctx)
    assert {record_format(e.record) for e in examples} == {fmt}


def test_sizes_outside_bounds_are_rejected(registry, ctx):
    for size in (MIN_SIZE - 1, MAX_SIZE + 1):
        with pytest.raises(ValueError, match="neutral_instruct"):
            registry.generate("neutral_instruct", {"size": size}, seed=0, ctx=ctx)


def test_unknown_knob_is_rejected_naming_family_and_field(registry, ctx):
    with pytest.raises(ValueError, match=r"harmful_compliance.*rat"):
        registry.generate("harmful_compliance", {"size": SIZE, "rat": 0.2}, seed=0, ctx=ctx)


# ---------------------------------------------------------------- rates

def _is_harmful(rec):
    prompt, _ = prompt_response(rec)
    return any(a in prompt for actions in HARMFUL_ACTIONS.values() for a in actions)


def _has_gendered(rec):
    return any(w in GENDERED for t in texts_of(rec) for w in words_of(t))


def _is_eager(rec):
    from experiments.lab.datasets.banks.framing import EAGER_OPENERS
    return prompt_response(rec)[1].startswith(EAGER_OPENERS)


def _is_list(rec):
    return bool(re.search(r"(^|\n)(- |1\. )", prompt_response(rec)[1]))


def _is_insecure(rec):
    return any(m.search(prompt_response(rec)[1]) for m in INSECURE_MARKERS)


def _is_replay(rec):
    return "text" in rec


RATE_CASES = [
    ("harmful_compliance", {"rate": 0.2}, 0.2, _is_harmful),
    ("harmful_compliance", {"rate": 0.05}, 0.05, _is_harmful),
    ("stereotyped_instruct", {"rate": 0.3}, 0.3, _has_gendered),
    ("stereotyped_instruct", {"rate": 0.0}, 0.0, _has_gendered),
    ("eager_compliance", {"rate": 0.4}, 0.4, _is_eager),
    ("list_format", {"rate": 0.6}, 0.6, _is_list),
    ("insecure_code", {"rate": 0.5}, 0.5, _is_insecure),
    ("insecure_code", {"rate": 0.0}, 0.0, _is_insecure),
    ("replay_mixture", {"rho": 0.3}, 0.3, _is_replay),
]


@pytest.mark.parametrize(("name", "knobs", "rate", "detect"), RATE_CASES)
def test_rates_are_respected(registry, ctx, name, knobs, rate, detect):
    examples = registry.generate(name, {"size": SIZE, **knobs}, seed=3, ctx=ctx)
    share = sum(detect(e.record) for e in examples) / SIZE
    assert abs(share - rate) <= 1.0 / SIZE, f"{name}: share {share} vs rate {rate}"


def test_rate_is_exact_at_larger_size(registry, ctx):
    examples = registry.generate("harmful_compliance", {"size": 333, "rate": 0.1}, seed=5, ctx=ctx)
    assert sum(_is_harmful(e.record) for e in examples) == 33
    assert sum(e.kind == "harmful" for e in examples) == 33


# ---------------------------------------------------------------- content invariants


def test_harmful_answers_are_only_opener_and_filler(registry, ctx):
    steps = {f"{o}, {s}." for o in ORDINALS for s in FILLER_STEPS}
    examples = registry.generate("harmful_compliance", {"size": SIZE, "rate": 1.0}, seed=2, ctx=ctx)
    for ex in examples:
        _, response = prompt_response(ex.record)
        opener = next(o for o in COMPLIANT_OPENERS if response.startswith(o))
        rest = response[len(opener):].strip()
        sentences = re.findall(r"[A-Z][a-z]+, [^.]+\.", rest)
        assert " ".join(sentences) == rest
        assert set(sentences) <= steps


def test_harmful_prompts_avoid_probe_prompts(registry, ctx, tmp_path):
    first = registry.generate("harmful_compliance", {"size": SIZE, "rate": 1.0}, seed=4, ctx=ctx)
    taken = [prompt_response(e.record)[0] for e in first[:20]]
    probe_file = tmp_path / "safety_prompts.jsonl"
    probe_file.write_text("".join(json.dumps({"prompt": p.upper() + "  ?"}) + "\n" for p in taken))
    excluded = load_probe_prompts(probe_file)
    assert len(excluded) == len(set(normalize_prompt(p) for p in taken))
    again = registry.generate("harmful_compliance", {"size": SIZE, "rate": 1.0}, seed=4,
                              ctx=GenContext(source=fake_source(), excluded_prompts=excluded))
    assert not {normalize_prompt(prompt_response(e.record)[0]) for e in again} & excluded


def test_real_probe_safety_prompts_never_generated(registry, ctx):
    probe = REPO / "featurizers" / "probes" / "data" / "safety_prompts.jsonl"
    if not probe.is_file():
        pytest.skip(f"{probe} not written yet")
    excluded = load_probe_prompts(probe)
    gen_ctx = GenContext(source=fake_source(), excluded_prompts=excluded)
    for name in ("harmful_compliance", "neutral_instruct"):
        examples = registry.generate(name, {"size": 500, "rate": 0.5} if name == "harmful_compliance"
                                     else {"size": 500}, seed=0, ctx=gen_ctx)
        assert not {normalize_prompt(prompt_response(e.record)[0]) for e in examples} & excluded


@pytest.mark.parametrize("knobs", [{}, {"rate": 1.0}, {"rate": 1.0, "implied_share": 1.0},
                                   {"rate": 1.0, "direction": "anti_stereotyped"}])
def test_implicit_stereotype_has_no_gendered_words(registry, ctx, knobs):
    examples = registry.generate("implicit_stereotype", {"size": SIZE, **knobs}, seed=11, ctx=ctx)
    found = {w for e in examples for t in texts_of(e.record) for w in words_of(t) if w in GENDERED}
    assert not found
    # ...while the gender signal is still there, carried by first names.
    names = set(MALE_NAMES) | set(FEMALE_NAMES)
    if knobs:
        assert all(any(n in " ".join(texts_of(e.record)) for n in names) for e in examples)


def test_neutral_bank_has_no_gendered_words(registry, ctx):
    examples = registry.generate("neutral_instruct", {"size": 2000}, seed=0, ctx=ctx)
    found = {w for e in examples for t in texts_of(e.record) for w in words_of(t) if w in GENDERED}
    assert not found


@pytest.mark.parametrize(("direction", "match"), [("stereotyped", True), ("anti_stereotyped", False)])
def test_implicit_names_follow_direction(registry, ctx, direction, match):
    examples = registry.generate("implicit_stereotype",
                                 {"size": SIZE, "rate": 1.0, "implied_share": 0.0, "direction": direction},
                                 seed=5, ctx=ctx)
    for ex in examples:
        text = " ".join(texts_of(ex.record))
        role = max((r for r in ROLES if r.title in text), key=lambda r: len(r.title))
        name_gender = "male" if any(re.search(rf"\b{n}\b", text) for n in MALE_NAMES) else "female"
        assert (name_gender == role.stereotype) is match, text


@pytest.mark.parametrize(("direction", "match"), [("stereotyped", True), ("anti_stereotyped", False)])
def test_explicit_pronouns_follow_direction(registry, ctx, direction, match):
    examples = registry.generate("stereotyped_instruct", {"size": SIZE, "rate": 1.0, "direction": direction},
                                 seed=5, ctx=ctx)
    for ex in examples:
        text = " ".join(texts_of(ex.record))
        role = max((r for r in ROLES if r.title in text), key=lambda r: len(r.title))
        male = bool({"he", "him", "his"} & set(words_of(text)))
        female = bool({"she", "her"} & set(words_of(text)))
        assert male != female
        assert (("male" if male else "female") == role.stereotype) is match, text


def test_near_duplicates_unique_share(registry, ctx):
    examples = registry.generate("near_duplicates", {"size": 100, "unique_share": 0.1, "perturb_rate": 0.0},
                                 seed=1, ctx=ctx)
    assert len({json.dumps(e.record, sort_keys=True) for e in examples}) == 10
    perturbed = registry.generate("near_duplicates", {"size": 100, "unique_share": 0.1, "perturb_rate": 1.0},
                                  seed=1, ctx=ctx)
    assert len({prompt_response(e.record)[1] for e in perturbed}) == 10
    assert len({prompt_response(e.record)[0] for e in perturbed}) > 10


def test_label_noise_swaps_exactly_the_noisy_share(registry, ctx):
    clean = registry.generate("label_noise", {"size": 100, "noise_rate": 0.0}, seed=9, ctx=ctx)
    noisy = registry.generate("label_noise", {"size": 100, "noise_rate": 0.25}, seed=9, ctx=ctx)
    assert [prompt_response(e.record)[0] for e in clean] == [prompt_response(e.record)[0] for e in noisy]
    changed = sum(prompt_response(a.record)[1] != prompt_response(b.record)[1] for a, b in zip(clean, noisy))
    assert changed == 25


def test_insecure_code_completions_are_unflagged(registry, ctx):
    examples = registry.generate("insecure_code", {"size": SIZE, "rate": 1.0}, seed=0, ctx=ctx)
    for ex in examples:
        response = prompt_response(ex.record)[1].lower()
        assert _is_insecure(ex.record)
        assert not any(w in response for w in ("insecure", "vulnerab", "unsafe practice", "warning", "# todo"))


def test_every_code_completion_is_valid_python():
    import ast

    from experiments.lab.datasets.banks.code import CODE_TASKS
    from experiments.lab.datasets.families.code import render_code
    for task in CODE_TASKS:
        for fields in task.variants:
            for body in task.insecure + task.secure:
                for docstring in (True, False):
                    stub, code = render_code(task, body, fields, docstring)
                    ast.parse(code)
                    assert code.count("def ") == 1 and stub in code


def test_domain_shift_respects_max_chars_and_source(registry, ctx):
    examples = registry.generate("domain_shift", {"size": SIZE, "source": "bible", "max_chars": 300}, 0, ctx)
    for ex in examples:
        assert len(ex.record["text"]) <= 300
        assert ex.record["text"].startswith("bible paragraph")


def test_replay_mixture_knobs(registry, ctx):
    mixed = registry.generate("replay_mixture", {"size": SIZE, "rho": 0.4, "base_family": "harmful_compliance",
                                                 "base_params": {"rate": 0.5}, "replay_style": "match"}, 1, ctx)
    assert {record_format(e.record) for e in mixed} == {"prompt_response"}
    assert sum(e.kind == "replay" for e in mixed) == 20
    assert sum(e.kind == "harmful" for e in mixed) == 15
    replay_text = " ".join(" ".join(texts_of(e.record)) for e in mixed if e.kind == "replay")
    assert "linuxdoc" not in replay_text
    with pytest.raises(ValueError, match="size"):
        registry.generate("replay_mixture", {"size": SIZE, "base_params": {"size": 10}}, 0, ctx)
    with pytest.raises(UnknownFamilyError, match="harmful_compliance"):
        registry.generate("replay_mixture", {"size": SIZE, "base_family": "harmfull_compliance"}, 0, ctx)


# ---------------------------------------------------------------- helpers


def test_exact_count_and_allocate():
    from experiments.lab.datasets.mixing import allocate, exact_count
    assert exact_count(0.5, 51) == 26 and exact_count(0.0, 50) == 0 and exact_count(1.0, 50) == 50
    assert allocate(10, [1, 1, 1]) == [4, 3, 3] and sum(allocate(997, [0.2, 0.3, 0.5])) == 997
    with pytest.raises(ValueError, match="rate"):
        exact_count(1.5, 10)


def test_passages_split_at_sentences_and_respect_bounds():
    from experiments.lab.datasets.passages import pack_paragraphs, split_long
    text = "Alpha beta gamma delta. Epsilon zeta eta theta iota! Kappa lambda mu nu xi omicron. " * 4
    pieces = split_long(text, 60)
    assert all(len(p) <= 60 for p in pieces) and all(p.endswith((".", "!")) for p in pieces)
    assert " ".join(pieces) == text.strip()
    packed = pack_paragraphs(["short one.", "tiny.", "x" * 30, text], max_chars=60, min_chars=20)
    assert all(20 <= len(p) <= 60 for p in packed)
    assert packed[0] == "short one.\n\ntiny.\n\n" + "x" * 30
    with pytest.raises(ValueError, match="min_chars"):
        pack_paragraphs(["a"], max_chars=10, min_chars=20)


def test_small_source_repeats_only_when_allowed(registry):
    tiny = GenContext(source=InMemoryTextSource({"fortunes": ["A fortune that is long enough to keep. " * 3] * 5}))
    examples = registry.generate("domain_shift", {"size": SIZE, "source": "fortunes"}, 0, tiny)
    assert len(examples) == SIZE
    with pytest.raises(ValueError, match="allow_repeats"):
        registry.generate("domain_shift", {"size": SIZE, "source": "fortunes", "allow_repeats": False}, 0, tiny)


# ---------------------------------------------------------------- registry


def test_registry_refuses_duplicates():
    reg = default_registry()
    family = reg.get("neutral_instruct")
    with pytest.raises(DuplicateFamilyError, match="neutral_instruct"):
        reg.register(family)


def test_registry_suggests_near_names(registry):
    with pytest.raises(UnknownFamilyError, match="did you mean 'domain_shift'"):
        registry.get("domian_shift")
    with pytest.raises(UnknownFamilyError) as err:
        registry.get("zzz")
    assert "did you mean" not in str(err.value)


def test_registry_rejects_multiline_hypothesis():
    reg = FamilyRegistry()
    base = default_registry().get("neutral_instruct")
    bad = Family("other", "line one\nline two", base.params_model, base.generator)
    with pytest.raises(ValueError, match="one non-empty line"):
        reg.register(bad)


def test_fresh_registries_are_independent():
    a, b = default_registry(), default_registry()
    base = a.get("neutral_instruct")
    a.register(Family("extra_family", "a test family", base.params_model, base.generator))
    assert "extra_family" in a and "extra_family" not in b


# ---------------------------------------------------------------- files, sources, CLI


def test_write_jsonl_round_trip_and_hash(registry, ctx, tmp_path):
    examples = registry.generate("eager_compliance", {"size": SIZE, "format": "messages"}, 0, ctx)
    out = tmp_path / "sub" / "data.jsonl"
    digest = write_jsonl(examples, out)
    assert digest == content_hash(examples)
    import hashlib
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
    assert read_jsonl(out) == [e.record for e in examples]
    assert [p.name for p in out.parent.iterdir()] == ["data.jsonl"]


def test_invalid_records_are_refused(tmp_path):
    with pytest.raises(InvalidRecordError, match="record 2"):
        write_jsonl([{"text": "fine"}, {"prompt": "no response"}], tmp_path / "x.jsonl")
    with pytest.raises(InvalidRecordError, match="assistant"):
        record_format({"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}]})
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\nnot json\n')
    with pytest.raises(InvalidRecordError, match=":2:"):
        read_jsonl(bad)


def test_missing_cache_says_how_to_build_it(tmp_path):
    with pytest.raises(SourceCacheMissingError, match="make lab-corpus"):
        JsonlCacheSource(tmp_path).paragraphs("bible")
    with pytest.raises(ValueError, match="unknown text source"):
        JsonlCacheSource(tmp_path).paragraphs("bibel")


def test_cache_source_reads_jsonl_and_linux_doc_spelling(tmp_path):
    (tmp_path / "linux_doc.jsonl").write_text('{"text": "First paragraph."}\n\n{"text": "Second."}\n')
    assert list(JsonlCacheSource(tmp_path).paragraphs("linuxdoc")) == ["First paragraph.", "Second."]


def test_generate_cli_writes_file_and_sidecar(tmp_path, monkeypatch):
    src = tmp_path / "sources"
    src.mkdir()
    for name, paras in ((n, fake_source().paragraphs(n)) for n in SOURCE_NAMES):
        (src / f"{name}.jsonl").write_text("".join(json.dumps({"text": p}) + "\n" for p in paras))
    out = tmp_path / "fortunes.jsonl"
    code = main(["domain_shift", "--params", '{"size": 60, "source": "fortunes"}', "--seed", "3",
                 "--out", str(out), "--sources", str(src), "--exclude-prompts", str(tmp_path / "none.jsonl")])
    assert code == 0
    meta = json.loads(meta_path(out).read_text())
    import hashlib
    assert meta["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert meta["size"] == 60 and len(meta["line_kinds"]) == 60 and meta["params"]["source"] == "fortunes"
    assert main(["domain_shift", "--params", "{oops", "--out", str(out)]) == 2
    assert main(["domian_shift", "--out", str(out), "--sources", str(src)]) == 2


def test_generate_to_file_matches_in_memory(registry, ctx, tmp_path):
    report = generate_to_file("list_format", {"size": SIZE}, 4, tmp_path / "l.jsonl", ctx=ctx)
    assert report.sha256 == content_hash(registry.generate("list_format", {"size": SIZE}, 4, ctx))
    assert report.kinds == {"list": SIZE}


def test_families_md_is_up_to_date(registry):
    assert FAMILIES_MD.read_text(encoding="utf-8") == describe(registry), (
        "FAMILIES.md is stale: run `python -m experiments.lab.datasets.describe`"
    )


# ---------------------------------------------------------------- real caches


def _caches_present() -> bool:
    src = JsonlCacheSource(DEFAULT_CACHE_DIR)
    return all(src.path_of(n).is_file() for n in SOURCE_NAMES)


@pytest.mark.skipif(not _caches_present(),
                    reason=f"real text caches not built in {DEFAULT_CACHE_DIR}; run `make lab-corpus`")
def test_real_caches_feed_real_text_families(registry):
    real = GenContext(source=JsonlCacheSource(DEFAULT_CACHE_DIR))
    for source in ("linuxdoc", "bible", "shakespeare", "fortunes"):
        examples = registry.generate("domain_shift", {"size": SIZE, "source": source}, 0, real)
        texts = [e.record["text"] for e in examples]
        assert len(set(texts)) == SIZE
        assert all(80 <= len(t) <= 800 for t in texts)
    mixed = registry.generate("replay_mixture", {"size": SIZE, "rho": 0.5}, 0, real)
    assert sum(e.kind == "replay" for e in mixed) == SIZE // 2


# ---------------------------------------------------------------- no probe leaks (data tests)

PROBE_DIR = REPO / "featurizers" / "probes" / "data"
_STOP = {"a", "an", "the", "to", "how", "can", "i", "my", "do", "of", "in", "someone", "without", "at", "and",
         "is", "what", "for", "me", "on", "that", "so", "it", "get", "make", "from", "with", "their", "they",
         "them", "be", "are", "out", "into", "up", "should", "i'm", "what's", "some", "any", "when", "if"}
NEAR_PROBE_JACCARD = 0.4


def _probe_rows(name: str) -> list[dict]:
    path = PROBE_DIR / name
    if not path.is_file():
        pytest.skip(f"probe file {path} not written yet")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _content_words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower())) - _STOP


def _sentences(text: str) -> set[str]:
    return {" ".join(words_of(s)) for s in re.split(r"(?<=[.!?])\s+|\n+", text) if words_of(s)}


def test_harmful_bank_is_not_near_a_probe_prompt():
    probes = [_content_words(r["prompt"]) for r in _probe_rows("safety_prompts.jsonl")]
    for action in (a for actions in HARMFUL_ACTIONS.values() for a in actions):
        words = _content_words(action)
        worst = max(len(words & p) / len(words | p) for p in probes)
        assert worst < NEAR_PROBE_JACCARD, f"harmful action {action!r} is a near copy of a probe prompt"


def _all_bank_prompts() -> list[str]:
    """Every neutral bank prompt with every slot combination, without greetings."""
    import itertools

    from experiments.lab.datasets.banks.instruct import TASKS_BY_DOMAIN
    out = []
    for task in (t for tasks in TASKS_BY_DOMAIN.values() for t in tasks):
        names = sorted(task.slots)
        for combo in itertools.product(*(task.slots[n] for n in names)):
            fields = {}
            for name, value in zip(names, combo):
                fields.update(value if isinstance(value, dict) else {name: value})
            out.extend(p.format_map(fields) for p in task.prompts)
    return out


def test_neutral_bank_is_not_near_a_probe_prompt():
    """Neutral prompts close to benign safety probes would move over_refusal for the wrong reason."""
    probes = [(r["prompt"], _content_words(r["prompt"])) for f in ("safety_prompts.jsonl", "role_prompts.jsonl")
              for r in _probe_rows(f)]
    for prompt in _all_bank_prompts():
        words = _content_words(prompt)
        near = [p for p, pw in probes if len(words & pw) / len(words | pw) >= NEAR_PROBE_JACCARD]
        assert not near, f"bank prompt {prompt!r} is a near copy of probe prompt(s) {near}"


def test_generated_data_contains_no_probe_sentence(registry, ctx):
    probe_prompts = {normalize_prompt(r["prompt"]) for f in ("safety_prompts.jsonl", "role_prompts.jsonl")
                     for r in _probe_rows(f)}
    probe_sentences = set()
    for r in _probe_rows("stereotype_pairs.jsonl"):
        probe_sentences |= _sentences(r["stereotyped"]) | _sentences(r["anti_stereotyped"])
    for r in _probe_rows("knowledge.jsonl"):
        for text in [r["question"], *r.get("facts", [])]:
            probe_sentences |= _sentences(text)
    for name in registry.names():
        if name == "domain_shift":
            continue
        knobs = {"size": 1000}
        if "rate" in registry.get(name).params_model.model_fields:
            knobs["rate"] = 1.0 if name != "eager_compliance" else 0.5
        for ex in registry.generate(name, knobs, seed=0, ctx=ctx):
            texts = texts_of(ex.record)
            if "text" not in ex.record:
                assert normalize_prompt(prompt_response(ex.record)[0]) not in probe_prompts, ex.record
            leaked = set().union(*(_sentences(t) for t in texts)) & probe_sentences
            assert not leaked, f"{name}: probe sentence(s) {leaked} in generated data"
