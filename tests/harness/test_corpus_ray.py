"""`--engine ray` on a local Ray started by the test: same runs, same store as the local engine."""

from __future__ import annotations

import importlib.util

import pytest

from surrogate.runs import RunStore

pytestmark = [
    pytest.mark.slow,  # 20-35 s per test here: Ray start-up and a tiny model loaded in each worker dominate
    pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                       reason="ray is not installed (pip install ray); the Ray engine cannot be tested"),
]

RAY_RUNS = 3


def test_ray_engine_builds_and_resumes(tmp_path, tiny_loaded, small_harness):
    import ray

    from experiments.corpus_builder import FloatRange, IntRange, SamplingSpace, build_corpus, plan_runs, sample_configs

    space = SamplingSpace(families=["neutral_instruct"], dataset_size=IntRange(low=50, high=55),
                          steps=IntRange(low=3, high=4), batch_sizes=[4], max_seq_lens=[64],
                          full_lr=FloatRange(low=1e-3, high=2e-3))
    harness = small_harness.model_copy(update={"checkpoint_fractions": (1.0,)})
    out = tmp_path / "corpus"
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        summary = build_corpus("tiny", RAY_RUNS, 0, out, engine="ray", space=space, harness=harness,
                               max_workers=2, progress=False)
        assert ray.is_initialized(), "a Ray session the caller started must be left running"
    finally:
        ray.shutdown()
    assert (summary.completed, summary.failed) == (RAY_RUNS, 0)
    planned = [p.run_id for p in plan_runs(sample_configs(RAY_RUNS, 0, space), tiny_loaded.weights_hash(), harness)]
    records = RunStore(out).read()
    assert sorted(r.run_id for r in records) == sorted(planned)
    assert all(r.base.weights_hash == tiny_loaded.weights_hash() for r in records)
    # resume through the local engine: nothing left to do
    again = build_corpus(tiny_loaded, RAY_RUNS, 0, out, space=space, harness=harness, progress=False)
    assert (again.already_stored, again.completed) == (RAY_RUNS, 0)


def test_ray_engine_starts_its_own_local_ray(tmp_path, small_harness):
    import ray

    from experiments.corpus_builder import IntRange, SamplingSpace, build_corpus

    space = SamplingSpace(families=["neutral_instruct"], dataset_size=IntRange(low=50, high=50),
                          steps=IntRange(low=2, high=2), batch_sizes=[4], max_seq_lens=[48], lora_share=1.0)
    harness = small_harness.model_copy(update={"checkpoint_fractions": (1.0,)})
    summary = build_corpus("tiny", 1, 1, tmp_path / "corpus", engine="ray", space=space, harness=harness,
                           max_workers=1, progress=False)
    assert summary.completed == 1
    assert not ray.is_initialized(), "a Ray session the builder started must be shut down"
