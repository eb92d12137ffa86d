"""Suite loaders and registry: bad files are named down to line and field."""

from __future__ import annotations

import json

import pytest

from featurizers.probes.loaders import ProbeFileError, read_crows_csv, read_jsonl, read_prompt_jsonl
from featurizers.probes.registry import UnknownSuiteError, default_registry
from featurizers.probes.schema import KnowledgeItem


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jsonl_error_names_line_and_field(tmp_path):
    good = {"id": "k1", "split": "eval", "category": "c", "question": "Which is it?", "choices": ["a", "b"], "answer": 0}
    bad = dict(good, id="k2", answer=5)
    path = _write(tmp_path / "k.jsonl", [json.dumps(good), "", json.dumps(bad)])
    with pytest.raises(ProbeFileError, match=r"k\.jsonl:3: .*out of range"):
        read_jsonl(path, KnowledgeItem)


def test_jsonl_invalid_json_names_line(tmp_path):
    path = _write(tmp_path / "k.jsonl", ["{oops"])
    with pytest.raises(ProbeFileError, match=r":1: invalid JSON"):
        read_jsonl(path, KnowledgeItem)


def test_jsonl_missing_field_is_named(tmp_path):
    path = _write(tmp_path / "k.jsonl", [json.dumps({"id": "k1", "split": "eval", "category": "c", "choices": ["a", "b"], "answer": 0})])
    with pytest.raises(ProbeFileError, match="field 'question'"):
        read_jsonl(path, KnowledgeItem)


def test_duplicate_ids_are_refused(tmp_path):
    item = {"id": "k1", "split": "eval", "category": "c", "question": "Which is it?", "choices": ["a", "b"], "answer": 0}
    path = _write(tmp_path / "k.jsonl", [json.dumps(item), json.dumps(item)])
    with pytest.raises(ProbeFileError, match="duplicate id 'k1'"):
        read_jsonl(path, KnowledgeItem)


def test_crows_csv_reads_and_validates(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(
        "sent_more,sent_less,stereo_antistereo,bias_type\n"
        '"The nurse said she was tired.","The nurse said he was tired.",stereo,gender\n'
        '"Old people hate phones.","Young people hate phones.",antistereo,age\n'
    )
    pairs = read_crows_csv(path)
    assert [p.category for p in pairs] == ["gender", "age"]
    assert pairs[0].stereotyped.startswith("The nurse said she")
    bad = tmp_path / "bad.csv"
    bad.write_text("sent_more,sent_less,stereo_antistereo,bias_type\nA b c.,A b d.,sideways,age\n")
    with pytest.raises(ProbeFileError, match=r"bad\.csv:2: field 'stereo_antistereo'"):
        read_crows_csv(bad)
    missing = tmp_path / "missing.csv"
    missing.write_text("sent_more,sent_less\nx,y\n")
    with pytest.raises(ProbeFileError, match="missing column"):
        read_crows_csv(missing)


def test_prompt_jsonl(tmp_path):
    path = _write(tmp_path / "p.jsonl", [json.dumps({"prompt": "How do I bake bread?"}), json.dumps({"text": "no prompt"})])
    with pytest.raises(ProbeFileError, match=r"p\.jsonl:2: field 'prompt'"):
        read_prompt_jsonl(path, "benign")
    ok = _write(tmp_path / "ok.jsonl", [json.dumps({"prompt": "How do I bake bread?", "category": "cooking"})])
    (item,) = read_prompt_jsonl(ok, "benign")
    assert item.kind == "benign" and item.category == "cooking" and item.split == "eval"


def test_registry_resolves_families_and_suggests():
    registry = default_registry()
    assert registry.resolve(["bias"]) == ["bias.stereotype", "bias.gender_skew"]
    assert registry.resolve(None) == registry.names()
    with pytest.raises(UnknownSuiteError, match="did you mean 'safety"):
        registry.resolve(["safty"])
    with pytest.raises(ValueError, match="already registered"):
        registry.register("bias.stereotype", lambda p, s: None)


def test_every_bundled_suite_loads_with_both_splits():
    registry = default_registry()
    for name in registry.names():
        suite = registry.create(name)
        feature = suite.items("feature")
        evaluation = suite.items("eval")
        assert feature and evaluation, name
