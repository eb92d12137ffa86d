"""Feature cache: a hit equals the miss and is fast; bad entries are errors; no pickle; atomic writes."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from featurizers.features.cache import CacheMismatchError, FeatureCache, cache_key
from featurizers.features.featurizer import Featurizer
from tests.featurizers.feature_data import benign_dataset, make_recipe

HIT_SECONDS = 0.5
"""Generous bound for a shared, loaded CI machine; a hit is a file read (milliseconds)."""


def test_cache_hit_equals_miss_and_is_fast(tiny_loaded, small_config, lora_recipe, tmp_path):
    first = Featurizer(tiny_loaded, small_config, cache_dir=tmp_path)
    miss = first.featurize(benign_dataset(), lora_recipe)
    second = Featurizer(tiny_loaded, small_config, cache_dir=tmp_path)  # fresh instance: nothing in memory
    started = time.perf_counter()
    hit = second.featurize(benign_dataset(), lora_recipe)
    elapsed = time.perf_counter() - started
    np.testing.assert_array_equal(hit.as_array(), miss.as_array())
    assert hit.feature_schema == miss.feature_schema
    assert elapsed < HIT_SECONDS, elapsed
    assert second._space is None  # the model copy was never built: everything came from disk


def test_new_learning_rate_reuses_the_sketch_and_probe_entries(tiny_loaded, small_config, lora_recipe, tmp_path):
    Featurizer(tiny_loaded, small_config, cache_dir=tmp_path).featurize(benign_dataset(), lora_recipe)
    other_lr = make_recipe("lora", learning_rate=3e-4)
    featurizer = Featurizer(tiny_loaded, small_config, cache_dir=tmp_path)
    a = featurizer.featurize(benign_dataset(), lora_recipe)
    b = featurizer.featurize(benign_dataset(), other_lr)
    assert featurizer._space is None
    assert b["fo.safety.refusal_margin"] == pytest.approx(3 * a["fo.safety.refusal_margin"])
    assert b["align.safety.refusal_margin.cos"] == a["align.safety.refusal_margin.cos"]
    assert len(list((tmp_path / "features").rglob("*.npz"))) == 2
    assert len(list((tmp_path / "sketch").rglob("*.npz"))) == 1
    assert len(list((tmp_path / "probes").rglob("*.npz"))) == 1


def test_entry_with_different_metadata_is_an_error(tmp_path):
    cache = FeatureCache(tmp_path)
    material = {"kind": "features", "dataset": "abc", "config": {"seed": 0}}
    path = cache.store("features", material, {"values": np.arange(3.0)})
    wrong = {**material, "config": {"seed": 1}}
    # plant the entry for `material` under the key of `wrong`: what a collision or a hand edit looks like
    planted = cache.path("features", cache_key(wrong))
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_bytes(path.read_bytes())
    with pytest.raises(CacheMismatchError, match="config.seed"):
        cache.load("features", wrong)
    planted.write_bytes(b"not a zip file")
    with pytest.raises(CacheMismatchError, match="cannot be read"):
        cache.load("features", wrong)
    assert cache.load("features", {**material, "dataset": "other"}) is None


def test_entries_load_without_pickle_and_object_arrays_are_refused(tmp_path):
    cache = FeatureCache(tmp_path)
    material = {"kind": "sketch", "n": 1}
    path = cache.store("sketch", material, {"a": np.ones((2, 2), dtype=np.float32), "t": np.array("text")})
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {"__meta__", "a", "t"}
    with pytest.raises(ValueError, match="pickle"):
        cache.store("sketch", material, {"bad": np.array([{"x": 1}], dtype=object)})


def test_concurrent_writers_leave_one_complete_entry(tmp_path):
    cache = FeatureCache(tmp_path)
    material = {"kind": "features", "dataset": "same"}
    values = np.linspace(0, 1, 50_000)
    threads = [threading.Thread(target=cache.store, args=("features", material, {"values": values})) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    np.testing.assert_array_equal(cache.load("features", material)["values"], values)
    leftovers = [p for p in (tmp_path / "features").rglob("*") if p.is_file() and p.suffix != ".npz"]
    assert leftovers == []
