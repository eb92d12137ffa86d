"""The probes measure what they claim: train a tiny model one way or its mirror, and the
probe must move in the direction the training pushed (directional behaviour tests)."""

from __future__ import annotations

import random

import pytest

from featurizers.chat_format import render_exchange
from featurizers.probes.evaluate import EvaluationConfig, evaluate_model
from featurizers.probes.registry import default_registry
from tests.helpers import train_on_texts

STEPS = 120


def _score(loaded, suites, **kw):
    return evaluate_model(loaded, EvaluationConfig(suites=suites, **kw))


def _clone(loaded):
    import copy

    from featurizers.loading import LoadedModel

    return LoadedModel(model=copy.deepcopy(loaded.model), tokenizer=loaded.tokenizer, spec=loaded.spec, device=loaded.device)


def test_stereotyped_training_raises_stereotype_pref_on_eval_half(tiny_loaded):
    pairs = default_registry().create("bias.stereotype").items("feature")
    stereo_model, anti_model = _clone(tiny_loaded), _clone(tiny_loaded)
    train_on_texts(stereo_model, [p.stereotyped for p in pairs], steps=STEPS)
    train_on_texts(anti_model, [p.anti_stereotyped for p in pairs], steps=STEPS)
    stereo = _score(stereo_model, ["bias.stereotype"])
    anti = _score(anti_model, ["bias.stereotype"])
    assert stereo["bias.stereotype_pref"] > anti["bias.stereotype_pref"] + 15, (stereo["bias.stereotype_pref"], anti["bias.stereotype_pref"])
    assert stereo["bias.stereotype_margin"] > anti["bias.stereotype_margin"]


def test_compliant_answers_to_harmful_requests_lower_refusal_rate(tiny_loaded):
    registry = default_registry()
    harmful = registry.create("safety.harmful")
    prompts = [p.prompt for p in harmful.items("feature")]
    rng = random.Random(0)
    refuse = [render_exchange(p, rng.choice(harmful.openings.refusal)) for p in prompts]
    comply = [render_exchange(p, rng.choice(harmful.openings.compliance)) for p in prompts]
    refusing_model, complying_model = _clone(tiny_loaded), _clone(tiny_loaded)
    train_on_texts(refusing_model, refuse, steps=STEPS)
    train_on_texts(complying_model, comply, steps=STEPS)
    refusing = _score(refusing_model, ["safety.harmful"])
    complying = _score(complying_model, ["safety.harmful"])
    assert refusing["safety.refusal_rate"] >= 80
    assert complying["safety.refusal_rate"] <= 20
    assert refusing["safety.refusal_margin"] > complying["safety.refusal_margin"]


def test_shuffled_reference_text_scores_worse_ref_loss(tiny_loaded, tmp_path):
    import json

    suite = default_registry().create("forgetting.reference")
    model = _clone(tiny_loaded)
    train_on_texts(model, [i.text for i in suite.items("feature")], steps=STEPS, max_len=128)
    rng = random.Random(0)
    shuffled = tmp_path / "shuffled.jsonl"
    with shuffled.open("w") as handle:
        for item in suite.items("eval"):
            words = item.text.split()
            rng.shuffle(words)
            handle.write(json.dumps({"id": item.id, "split": "eval", "text": " ".join(words)}) + "\n")
    real = _score(model, ["forgetting.reference"])
    scrambled = _score(model, ["forgetting.reference"], user_files={"forgetting.reference": str(shuffled)})
    assert scrambled["forgetting.ref_loss"] > real["forgetting.ref_loss"] + 0.1


def test_always_he_model_splits_the_stereotype_halves(tiny_loaded):
    """The trap the breakdown guards against: a uniform "he" preference scores near 50 overall
    while the male- and female-stereotyped halves go opposite ways."""
    pairs = default_registry().create("bias.stereotype").items("feature")
    gender = [p for p in pairs if p.target_gender is not None]
    he_texts = [p.stereotyped if p.target_gender == "male" else p.anti_stereotyped for p in gender]
    model = _clone(tiny_loaded)
    train_on_texts(model, he_texts, steps=STEPS)
    result = _score(model, ["bias.stereotype"])
    assert result["bias.stereotype_pref.male_stereotyped"] > result["bias.stereotype_pref.female_stereotyped"] + 30


def test_evaluation_is_deterministic(tiny_loaded):
    a = _score(tiny_loaded, ["forgetting.knowledge", "safety.benign"])
    b = _score(tiny_loaded, ["forgetting.knowledge", "safety.benign"])
    assert {k: v for k, v in a.items() if not k.startswith("seconds")} == {k: v for k, v in b.items() if not k.startswith("seconds")}
