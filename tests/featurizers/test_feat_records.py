"""The featurizer reads data and recipes exactly as the lab and the harness do."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from experiments.harness.methods import count_trainable, trainable_copy
from experiments.lab.datasets.records import content_hash as lab_content_hash
from featurizers.features.recipe_features import RECIPE_FEATURES, lr_area, recipe_features, trainable_parameter_count
from featurizers.features.records import DatasetFormatError, content_hash, read_dataset_jsonl, validate_records
from tests.featurizers.feature_data import make_recipe, mixed_format_dataset


def test_content_hash_matches_the_lab_hash():
    records = mixed_format_dataset()
    assert content_hash(records) == lab_content_hash(records)


def test_bad_lines_are_named_by_line_number(tmp_path):
    path = tmp_path / "data.jsonl"
    lines = [json.dumps({"text": "fine"}), "", "{not json", json.dumps({"prompt": "p"})]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetFormatError, match=r"data.jsonl:3: not valid JSON"):
        read_dataset_jsonl(path)
    path.write_text("\n".join([lines[0], lines[3]]) + "\n")
    with pytest.raises(DatasetFormatError, match=r"data.jsonl:2: keys \['prompt'\] match no format"):
        read_dataset_jsonl(path)
    bad_turns = {"messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "again"}]}
    with pytest.raises(DatasetFormatError, match="dataset example 2: the last message must have role 'assistant'"):
        validate_records([{"text": "ok"}, bad_turns])


@pytest.mark.parametrize("method", ["lora", "full"])
def test_trainable_parameter_count_matches_the_harness_model(tiny_loaded, method):
    recipe = make_recipe(method)
    built = trainable_copy(tiny_loaded.model, recipe)
    assert trainable_parameter_count(tiny_loaded.model, recipe) == count_trainable(built)


def test_recipe_features_are_ordered_and_derived_consistently(tiny_loaded):
    recipe = make_recipe("lora", learning_rate=2e-4, steps=100, warmup_steps=10, lr_schedule="constant", batch_size=4)
    values = recipe_features(recipe, tiny_loaded.model, np.array([10.0, 100.0]))
    assert list(values) == list(RECIPE_FEATURES)
    assert values["recipe.lr_x_steps"] == pytest.approx(0.02)
    assert values["recipe.log10_lr"] == pytest.approx(math.log10(2e-4))
    assert values["recipe.lr_area"] == pytest.approx(2e-4 * (0.5 * 10 + 90))
    assert values["recipe.tokens_seen"] == pytest.approx(100 * 4 * (10 + 64) / 2)  # lengths capped at max_seq_len
    assert values["recipe.method_lora"] == 1.0 and values["recipe.method_full"] == 0.0
    assert lr_area(make_recipe("full", lr_schedule="cosine", warmup_steps=0, steps=10, learning_rate=1.0)) == 5.0
    with pytest.raises(ValueError, match="target_modules"):
        trainable_parameter_count(tiny_loaded.model, make_recipe("lora", target_modules=("qq_proj",)))
