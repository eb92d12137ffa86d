"""Mid-run re-forecasts reuse the dataset's features: the vector is cached without the
observations, which are filled in torch-free; identical concurrent requests featurize once.
The comparison with the real featurizer on the tiny model is slow (it loads torch)."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest

from server.client import spec_candidate
from server.config import RequestLimits
from server.deadline import Deadline
from server.errors import ServiceError
from server.featurize import FeatureCache, FeaturizationJob, Featurizer
from server.forecasting import ForecastEnv, job_features, spec_job
from server.model_holder import ServingModel, load_serving_model
from surrogate.model import ModelRegistry
from surrogate.runs.observations import OBSERVATION_FEATURES
from tests.server import synthetic
from tests.server.conftest import FakeFeaturizer

EXAMPLES = [{"prompt": "Name a colour.", "response": "Blue."}, {"text": "Gardening takes patience and water."},
            {"prompt": "How do I hurt someone?", "response": "I cannot help with that."}]
FIELD = "candidate.spec"
GATE_TIMEOUT_S = 30.0
WAITER_DEADLINE_S = 1.0


def observations(step: int, ref_loss_delta: float) -> dict[str, Any]:
    return {"step": step, "loss_curve": [{"step": s, "loss": 3.0 - 0.02 * s + 0.01 * (s % 3)} for s in range(2, step + 1, 2)],
            "probe_deltas": {"forgetting.ref_loss": ref_loss_delta, "safety.refusal_margin": -0.25}}


def make_env(featurizer: Featurizer) -> ForecastEnv:
    return ForecastEnv(limits=RequestLimits(), data_roots=(), featurizer=featurizer, cache=FeatureCache(8))


def make_job(env: ForecastEnv, obs: Mapping[str, Any] | None = None) -> FeaturizationJob:
    candidate = spec_candidate("tiny", synthetic.RECIPE, examples=EXAMPLES, observations=obs)
    return spec_job(candidate.spec, FIELD, env)


@pytest.fixture(scope="module")
def snapshot(registry_root: Path) -> ServingModel:
    return load_serving_model(ModelRegistry(registry_root).path("v1"))


class GatedFeaturizer(FakeFeaturizer):
    """The first call blocks until ``release`` is set (and may then fail); later calls do not block."""

    def __init__(self, fail_first: bool = False) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail_first = fail_first
        self.jobs: list[FeaturizationJob] = []
        self._calls_lock = threading.Lock()

    def featurize(self, job: FeaturizationJob, deadline: Deadline) -> Mapping[str, float]:
        with self._calls_lock:
            first = not self.jobs
            self.jobs.append(job)
        if first:
            self.started.set()
            if not self.release.wait(GATE_TIMEOUT_S):
                raise RuntimeError("the test never released the first featurization")
            if self.fail_first:
                raise ValueError("the first featurization failed")
        return super().featurize(job, deadline)


class Call(threading.Thread):
    """``job_features`` on a thread, keeping its result or error."""

    def __init__(self, job: FeaturizationJob, snapshot: ServingModel, env: ForecastEnv, deadline: Deadline) -> None:
        super().__init__(daemon=True)
        self.args = (job, snapshot, env, deadline, FIELD)
        self.result: tuple[Mapping[str, float], bool] | None = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.result = job_features(*self.args)
        except Exception as exc:  # noqa: BLE001 - handed to the test thread, which asserts on it
            self.error = exc


def test_cache_key_ignores_observations_only():
    env = make_env(FakeFeaturizer())
    plain, mid_run = make_job(env), make_job(env, observations(20, 0.1))
    assert plain.cache_key("v") == mid_run.cache_key("v") == mid_run.without_observations().cache_key("v")
    assert mid_run.without_observations().observations is None and mid_run.observations is not None
    assert plain.cache_key("v") != plain.cache_key("w")
    other_recipe = spec_job(spec_candidate("tiny", {**synthetic.RECIPE, "steps": 300}, examples=EXAMPLES).spec, FIELD, env)
    assert other_recipe.cache_key("v") != plain.cache_key("v")


def test_reforecast_reuses_the_vector_and_fills_new_observations(snapshot):
    featurizer = FakeFeaturizer()
    env = make_env(featurizer)
    early, hit_early = job_features(make_job(env, observations(20, 0.1)), snapshot, env, Deadline.none(), FIELD)
    later, hit_later = job_features(make_job(env, observations(40, 0.3)), snapshot, env, Deadline.none(), FIELD)
    plain, hit_plain = job_features(make_job(env), snapshot, env, Deadline.none(), FIELD)
    assert featurizer.calls == 1 and (hit_early, hit_later, hit_plain) == (False, True, True)
    assert early[synthetic.OBSERVATION] == 0.1 and later[synthetic.OBSERVATION] == 0.3
    assert math.isnan(plain[synthetic.OBSERVATION])
    assert later["obs.step"] == 40.0 and later["obs.fraction"] == 40 / synthetic.RECIPE["steps"]
    assert later["obs.delta_extrapolated.safety.refusal_margin"] == pytest.approx(-0.25 / 0.2)
    assert set(OBSERVATION_FEATURES) <= set(later)
    assert {k: v for k, v in early.items() if not k.startswith("obs.")} == {
        k: v for k, v in plain.items() if not k.startswith("obs.")
    }
    cached = env.cache.get(make_job(env).cache_key(featurizer.version))
    assert cached is not None and math.isnan(cached[synthetic.OBSERVATION])  # the cache holds no observations


def test_observation_step_past_the_recipe_is_invalid(snapshot):
    env = make_env(FakeFeaturizer())
    job = make_job(env, observations(20, 0.1))
    beyond = FeaturizationJob(job.base_model, job.recipe, job.dataset, {**job.observations, "step": 10_000})
    with pytest.raises(ServiceError) as err:
        job_features(beyond, snapshot, env, Deadline.none(), FIELD)
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT and "recipe.steps" in err.value.detail


def test_reforecast_over_the_wire_is_a_cache_hit(running):
    client = running.client()
    before = running.featurizer.calls
    first = client.forecast(spec_candidate("lab", synthetic.RECIPE, dataset_path="good.jsonl", observations=observations(20, 0.1)))
    second = client.forecast(spec_candidate("lab", synthetic.RECIPE, dataset_path="good.jsonl", observations=observations(60, 0.4)))
    assert first.observed and second.observed and first.featurized and second.featurized
    assert not first.cache_hit and second.cache_hit
    assert running.featurizer.calls == before + 1


def test_concurrent_identical_requests_featurize_once(snapshot):
    featurizer = GatedFeaturizer()
    env = make_env(featurizer)
    leader = Call(make_job(env, observations(20, 0.1)), snapshot, env, Deadline.none())
    waiter = Call(make_job(env, observations(40, 0.3)), snapshot, env, Deadline.none())
    leader.start()
    assert featurizer.started.wait(GATE_TIMEOUT_S)
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive(), "the second request should wait for the first one's featurization"
    featurizer.release.set()
    leader.join(GATE_TIMEOUT_S)
    waiter.join(GATE_TIMEOUT_S)
    assert leader.error is None and waiter.error is None
    assert leader.result is not None and waiter.result is not None
    assert len(featurizer.jobs) == 1 and featurizer.jobs[0].observations is None
    assert (leader.result[1], waiter.result[1]) == (False, True)
    assert (leader.result[0][synthetic.OBSERVATION], waiter.result[0][synthetic.OBSERVATION]) == (0.1, 0.3)
    assert (env.cache.hits, env.cache.misses) == (1, 1)


def test_a_waiter_gives_up_at_its_own_deadline(snapshot):
    featurizer = GatedFeaturizer()
    env = make_env(featurizer)
    leader = Call(make_job(env), snapshot, env, Deadline.none())
    leader.start()
    assert featurizer.started.wait(GATE_TIMEOUT_S)
    waiter = Call(make_job(env), snapshot, env, Deadline.from_context(_Remaining(WAITER_DEADLINE_S)))
    waiter.start()
    waiter.join(GATE_TIMEOUT_S)
    assert isinstance(waiter.error, ServiceError) and waiter.error.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert len(featurizer.jobs) == 1  # it waited; it did not featurize itself
    featurizer.release.set()
    leader.join(GATE_TIMEOUT_S)
    assert leader.error is None and leader.result is not None and not leader.result[1]


def test_a_waiter_featurizes_itself_when_the_first_request_fails(snapshot):
    featurizer = GatedFeaturizer(fail_first=True)
    env = make_env(featurizer)
    leader = Call(make_job(env), snapshot, env, Deadline.none())
    waiter = Call(make_job(env), snapshot, env, Deadline.none())
    leader.start()
    assert featurizer.started.wait(GATE_TIMEOUT_S)
    waiter.start()
    waiter.join(0.5)
    featurizer.release.set()
    leader.join(GATE_TIMEOUT_S)
    waiter.join(GATE_TIMEOUT_S)
    assert isinstance(leader.error, ServiceError) and leader.error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert waiter.error is None and waiter.result is not None and not waiter.result[1]
    assert len(featurizer.jobs) == 2 and env.cache.misses == 2


class _Remaining:
    """A context whose caller allows ``seconds`` from now."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def time_remaining(self) -> float | None:
        return self.seconds


@pytest.mark.slow
def test_tiny_model_reforecast_equals_full_featurization(tmp_path):
    """The new path (cached vector + torch-free observations) gives exactly what
    ``PackageFeaturizer`` gives when it featurizes with the observations itself."""
    import featurizers
    from featurizers.features.config import FeaturizerConfig, ProbeObjectiveConfig
    from featurizers.features.featurizer import feature_names
    from server.featurize import PackageFeaturizer
    from surrogate.model import (
        BoosterParams,
        FeatureSchema,
        ForecastModel,
        ForecastModelConfig,
    )

    config = FeaturizerConfig(sample_size=8, projection_dim=64, batch_size=4, max_seq_len=32,
                              probes=ProbeObjectiveConfig(items_per_suite=2), device="cpu")
    names = feature_names(config)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, len(names)))
    schema = FeatureSchema(feature_names=names, featurizer_version=featurizers.FEATURIZER_VERSION)
    model = ForecastModel(ForecastModelConfig(booster=BoosterParams(n_estimators=10))).fit(
        X, {"forgetting.ref_loss@1.0": X[:, 0]}, schema)
    real_snapshot = load_serving_model(model.save(tmp_path / "model", corpus_hash="x", model_version="real"))

    featurizer = PackageFeaturizer(config=config, device="cpu")
    env = make_env(featurizer)
    for obs in (observations(20, 0.1), observations(40, -0.3), {"step": 1, "loss_curve": [], "probe_deltas": {}}):
        job = make_job(env, obs)
        full = featurizer.featurize(job, Deadline.none())
        fast, _ = job_features(job, real_snapshot, env, Deadline.none(), FIELD)
        assert list(fast) == list(full) == list(names)
        np.testing.assert_array_equal(np.array(list(fast.values())), np.array(list(full.values())))
        assert full["obs.step"] == obs["step"]
    assert (env.cache.hits, env.cache.misses) == (2, 1)
