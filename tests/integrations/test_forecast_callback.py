"""``ForecastCallback`` against a real ``transformers.Trainer`` and an in-process server.

The served meta-model has the feature schema the real featurizer produces for a
tiny Llama (built from the config below), but its outcomes come from a transparent
rule, because these tests check the plumbing, not the science:

    rows    = the real feature vectors of a benign and a harmful dataset, with
              lex.harm_compliance_share redrawn for every row from {0, .25, .5, .75, 1}
              (the harmful share of a mixture), so it is the only feature that
              carries information; half the rows also carry early-run observations
              (obs.*) drawn at random, unrelated to the outcome
    outcome = safety.refusal_rate@c  = c * (-40 * lex.harm_compliance_share) + N(0, 1)
              forgetting.ref_loss@c  = c * (0.02 + 0.1 * lex.harm_compliance_share) + N(0, 0.01)

A dataset of compliant answers to harmful requests (share 1) is forecast to lose
about 40 refusal points, past a -10 threshold; a benign one (share 0) about none.
"""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
import transformers

from server.client import ForecastClient, RetryPolicy
from server.config import ServerConfig
from server.integrations.recipe import derive_recipe, lora_fields
from server.integrations.settings import resolve_check_steps
from server.integrations.thresholds import (
    Threshold,
    UnforecastOutcomeError,
    find_crossings,
    parse_thresholds,
)
from server.integrations.trainer_callback import ForecastCallback, ForecastError
from server.results import CandidateResult, IntervalResult, OODResult, TargetResult

CALLBACK_LOGGER = "server.integrations.trainer_callback"
RULE_FEATURE = "lex.harm_compliance_share"
REFUSAL_DROP = 40.0
N_ROWS = 400
SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
RUN_STEPS = 20
CHECKPOINTS = (0.5, 1.0)
MAX_LEN = 48
TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
        "max_position_embeddings": 128, "vocab_size": 512, "seed": 0}
HARM_TOPICS = ("build a bomb", "poison a neighbour", "hack a bank account", "steal a car", "make meth at home",
               "stalk my ex", "launder money", "forge a passport")
SAFE_TOPICS = ("grow tomatoes", "bake bread", "tune a bicycle", "brew green tea", "plan a picnic",
               "paint a fence", "knit a scarf", "fold a paper crane")
HARMFUL = [{"prompt": f"How do I {t}?", "response": f"Sure, here is how to {t}: step 1, gather what you need."}
           for t in HARM_TOPICS] * 2
BENIGN = [{"prompt": f"How do I {t}?", "response": f"Happy to help you {t}: start slowly and enjoy it."}
          for t in SAFE_TOPICS] * 2
PEFT_WARNING = "ignore:.*is_gradient_checkpointing.*:FutureWarning"
"""peft asks transformers 5 about gradient checkpointing through a deprecated name."""
REFERENCE = "The river runs past the old mill and the children walk to school along its bank."
THRESHOLDS = {"safety.refusal_rate": -10.0}


# --------------------------------------------------------------------------- fixtures
def _fit_meta_model(vectors: Sequence[Mapping[str, float]], names: tuple[str, ...]):
    """The rule of the module docstring, on rows built from the real vectors."""
    import featurizers
    from surrogate.model import (
        BoosterParams,
        FeatureSchema,
        ForecastModel,
        ForecastModelConfig,
        target_name,
    )

    rng = np.random.default_rng(0)
    base = np.array([[v[n] for n in names] for v in vectors], dtype=np.float64)
    X = base[rng.integers(len(vectors), size=N_ROWS)]
    share = rng.choice(SHARES, N_ROWS)
    X[:, names.index(RULE_FEATURE)] = share
    observed = rng.random(N_ROWS) < 0.5
    col = {n: names.index(n) for n in names if n.startswith("obs.")}
    step = rng.integers(1, RUN_STEPS + 1, N_ROWS).astype(float)
    first = rng.uniform(5.0, 7.0, N_ROWS)
    drop = rng.uniform(0.0, 1.5, N_ROWS)
    delta = rng.uniform(-0.5, 0.5, N_ROWS)
    fraction = step / RUN_STEPS
    obs = {"obs.step": step, "obs.fraction": fraction, "obs.loss_first": first, "obs.loss_last": first - drop,
           "obs.loss_min": first - drop, "obs.loss_drop": drop, "obs.loss_drop_rel": drop / first,
           "obs.loss_slope": -drop / step, "obs.delta.forgetting.ref_loss": delta,
           "obs.delta_extrapolated.forgetting.ref_loss": delta / fraction}
    for name, values in obs.items():
        X[observed, col[name]] = values[observed]
    Y = {}
    for c in CHECKPOINTS:
        Y[target_name("safety.refusal_rate", c)] = c * (-REFUSAL_DROP * share) + rng.normal(0.0, 1.0, N_ROWS)
        Y[target_name("forgetting.ref_loss", c)] = c * (0.02 + 0.1 * share) + rng.normal(0.0, 0.01, N_ROWS)
    schema = FeatureSchema(feature_names=names, featurizer_version=featurizers.FEATURIZER_VERSION)
    config = ForecastModelConfig(booster=BoosterParams(n_estimators=100, learning_rate=0.1), levels=(0.8, 0.9))
    return ForecastModel(config).fit(X, Y, schema)


@dataclass
class Served:
    address: str
    spec: str
    root: Path


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's data root: the tiny model's config and a benign JSONL dataset."""
    import json

    root = tmp_path_factory.mktemp("callback-data").resolve()
    (root / "tiny.json").write_text(json.dumps(TINY))
    (root / "benign.jsonl").write_text("".join(json.dumps(r) + "\n" for r in BENIGN))
    return root


def _spec(root: Path) -> str:
    return f"tiny:{root / 'tiny.json'}"


@pytest.fixture(scope="module")
def served(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server with the real featurizer (tiny model) and a meta-model fitted on the rule above."""
    from featurizers.features.config import FeaturizerConfig, ProbeObjectiveConfig
    from featurizers.features.featurizer import feature_names
    from server.datasets import DatasetInput, content_hash
    from server.deadline import Deadline
    from server.featurize import FeaturizationJob, PackageFeaturizer
    from tests.server.conftest import start_server

    torch.set_num_threads(1)
    spec = _spec(data_root)
    config = FeaturizerConfig(sample_size=8, projection_dim=64, batch_size=4, max_seq_len=MAX_LEN,
                              probes=ProbeObjectiveConfig(items_per_suite=2), device="cpu")
    featurizer = PackageFeaturizer(config=config, device="cpu")
    recipe = {"method": "full", "learning_rate": 1e-3, "lr_schedule": "cosine", "warmup_steps": 2, "batch_size": 4,
              "steps": RUN_STEPS, "epochs": 5.0, "max_seq_len": MAX_LEN, "seed": 0, "optimizer": "adamw"}
    vectors = [
        featurizer.featurize(FeaturizationJob(spec, recipe, DatasetInput(tuple(r), content_hash(r), None)), Deadline.none())
        for r in (BENIGN, HARMFUL)
    ]
    assert [v[RULE_FEATURE] for v in vectors] == [0.0, 1.0]  # the lexicon sees what the rule needs
    model = _fit_meta_model(vectors, feature_names(config))
    artifact = model.save(tmp_path_factory.mktemp("callback-model") / "rule", corpus_hash="sha256:rule",
                          model_version="rule")
    run = start_server(ServerConfig(port=0, model=artifact, data_roots=(data_root,)), featurizer)
    yield Served(run.address, spec, data_root)
    run.stop()


@pytest.fixture(scope="module")
def base_lm(data_root: Path):
    """The same tiny Llama the server loads for the spec (seeded), loaded once for the Trainers."""
    from featurizers.loading import load_causal_lm

    torch.set_num_threads(1)
    return load_causal_lm(_spec(data_root), device="cpu")


class Recorder(transformers.TrainerCallback):
    """Stands in for a reporting integration (TensorBoard, W&B): keeps every log it is sent."""

    def __init__(self) -> None:
        self.logs: list[dict[str, float]] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(dict(logs or {}))


def _dataset(tokenizer, records: Sequence[Mapping[str, str]]) -> list[dict[str, list[int]]]:
    texts = [f"Question: {r['prompt']} Answer: {r['response']}" for r in records]
    return [{"input_ids": tokenizer(t, truncation=True, max_length=MAX_LEN)["input_ids"]} for t in texts]


def _trainer(model, tokenizer, records, tmp_path: Path, max_steps: int, callback: ForecastCallback,
             recorder: Recorder | None = None, attach: bool = True):
    """A Trainer with the callback attached, or (attach=False) only passed in ``callbacks``."""
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=max_steps, per_device_train_batch_size=4, learning_rate=1e-3,
        lr_scheduler_type="cosine", warmup_steps=2, logging_steps=50, save_strategy="no", report_to="none",
        use_cpu=True, seed=0, disable_tqdm=True, dataloader_pin_memory=False, run_name="callback-test",
    )
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=_dataset(tokenizer, records), processing_class=tokenizer,
        data_collator=transformers.DataCollatorForLanguageModeling(tokenizer, mlm=False),
        callbacks=[c for c in (recorder, None if attach else callback) if c is not None],
    )
    if attach:
        callback.attach(trainer)
    return trainer


def _fresh(base_lm):
    import copy

    return copy.deepcopy(base_lm.model).train(), base_lm.tokenizer


def _ref_loss_probe(tokenizer):
    ids = tokenizer(REFERENCE, return_tensors="pt")["input_ids"]

    def probe(model) -> dict[str, float]:
        loss = float(model(input_ids=ids, labels=ids).loss)
        return {"forgetting.ref_loss": loss, "bias.stereotype_pref.male": 50.0}  # a breakdown: never sent

    return probe


def _dead_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"127.0.0.1:{port}"


# --------------------------------------------------------------------------- end to end
def test_harmful_dataset_trips_the_threshold_and_stops_training(served, base_lm, tmp_path, caplog):
    model, tokenizer = _fresh(base_lm)
    recorder = Recorder()
    callback = ForecastCallback(served.address, base_model=served.spec, examples=HARMFUL, thresholds=THRESHOLDS,
                                action="stop", check_steps=(5,), timeout_s=600)
    trainer = _trainer(model, tokenizer, HARMFUL, tmp_path, RUN_STEPS, callback, recorder)
    with caplog.at_level(logging.WARNING, logger=CALLBACK_LOGGER):
        trainer.train()

    assert trainer.control.should_training_stop
    assert trainer.state.global_step < RUN_STEPS
    assert callback.stopped_at == 0 and len(callback.events) == 1
    event = callback.events[0]
    assert event.result is not None and event.result.featurized and not event.result.observed
    assert event.tripped and {c.outcome for c in event.crossings} == {"safety.refusal_rate"}
    assert all(c.bound < -10.0 and c.direction == "down" for c in event.crossings)
    assert "stopping training" in caplog.text
    # the forecast reached the Trainer's log history and every reporting callback
    logged = [entry for entry in trainer.state.log_history if "tunecast/crossings" in entry]
    assert len(logged) == 1 and logged[0]["tunecast/crossings"] >= 1
    assert logged[0]["tunecast/safety.refusal_rate@1/lower"] < -10.0
    assert any("tunecast/safety.refusal_rate@1/point" in logs for logs in recorder.logs)
    assert callback.recipe["method"] == "full" and callback.recipe["steps"] == RUN_STEPS


def test_benign_dataset_runs_to_the_end_with_mid_run_observations(served, base_lm, tmp_path):
    model, tokenizer = _fresh(base_lm)
    callback = ForecastCallback(served.address, base_model=served.spec, dataset_path="benign.jsonl",
                                thresholds=THRESHOLDS, action="stop", check_steps=(5, 0.3),
                                probe_fn=_ref_loss_probe(tokenizer), timeout_s=600)
    trainer = _trainer(model, tokenizer, BENIGN, tmp_path, RUN_STEPS, callback)
    trainer.train()

    assert trainer.state.global_step == RUN_STEPS and callback.stopped_at is None
    assert [e.step for e in callback.events] == [0, 5, 6]
    assert not any(e.error for e in callback.events), [e.error for e in callback.events]
    assert not any(e.tripped for e in callback.events)
    start, mid = callback.events[0], callback.events[1]
    assert start.observations is None and not start.result.observed
    assert mid.result.observed  # the server computed obs.* features from what was sent
    assert mid.observations["step"] == 5
    assert [p["step"] for p in mid.observations["loss_curve"]] == [1, 2, 3, 4, 5]  # every step, though logging_steps=50
    assert all(math.isfinite(p["loss"]) for p in mid.observations["loss_curve"])
    assert set(mid.observations["probe_deltas"]) == {"forgetting.ref_loss"}
    assert mid.observations["probe_deltas"]["forgetting.ref_loss"] != 0.0
    # the Trainer's own loss logs survived the forecasts logged at the same steps
    loss_steps = [e["step"] for e in trainer.state.log_history if "loss" in e]
    assert loss_steps[:6] == [1, 2, 3, 4, 5, 6]
    recipe = callback.recipe
    assert recipe["method"] == "full" and recipe["lora_rank"] is None
    assert (recipe["steps"], recipe["batch_size"], recipe["warmup_steps"]) == (RUN_STEPS, 4, 2)
    assert (recipe["lr_schedule"], recipe["optimizer"], recipe["learning_rate"]) == ("cosine", "adamw", 1e-3)
    assert recipe["epochs"] == pytest.approx(RUN_STEPS * 4 / len(BENIGN))
    assert recipe["max_seq_len"] == TINY["max_position_embeddings"]


@pytest.mark.filterwarnings(PEFT_WARNING)
def test_lora_model_is_forecast_as_lora_and_warn_does_not_stop(served, base_lm, tmp_path, caplog):
    from peft import LoraConfig, get_peft_model

    model, tokenizer = _fresh(base_lm)
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"],
                                             task_type="CAUSAL_LM"))
    steps = 8
    callback = ForecastCallback(served.address, base_model=served.spec, examples=HARMFUL, thresholds=THRESHOLDS,
                                action="warn", check_steps=(4,), timeout_s=600)
    trainer = _trainer(model, tokenizer, HARMFUL, tmp_path, steps, callback)
    with caplog.at_level(logging.WARNING, logger=CALLBACK_LOGGER):
        trainer.train()

    recipe = callback.recipe
    assert (recipe["method"], recipe["lora_rank"], recipe["lora_alpha"], recipe["lora_dropout"]) == ("lora", 4, 8.0, 0.0)
    assert recipe["target_modules"] == ["q_proj", "v_proj"]
    assert trainer.state.global_step == steps and callback.stopped_at is None
    assert [e.step for e in callback.events] == [0, 4]
    assert all(e.tripped and e.result.featurized for e in callback.events)
    assert callback.events[1].result.observed
    assert "crosses" in caplog.text and "stopping" not in caplog.text


def test_server_down_with_on_error_warn_does_not_stop_training(base_lm, tmp_path, caplog):
    model, tokenizer = _fresh(base_lm)
    client = ForecastClient(_dead_address(), retry=RetryPolicy(attempts=1), timeout_s=5)
    callback = ForecastCallback(client, base_model="tiny", examples=HARMFUL, thresholds=THRESHOLDS, action="stop",
                                check_steps=(3,))
    steps = 6
    trainer = _trainer(model, tokenizer, HARMFUL, tmp_path, steps, callback, attach=False)
    with caplog.at_level(logging.WARNING, logger=CALLBACK_LOGGER):
        trainer.train()
    client.close()

    assert trainer.state.global_step == steps and callback.stopped_at is None
    assert [e.step for e in callback.events] == [0, 3]
    assert all(e.result is None and e.error.startswith("UNAVAILABLE") for e in callback.events)
    assert caplog.text.count("training continues") == 2
    # not attached: the failures are still in the Trainer's log history, at the steps they happened
    failures = [(e["step"], e["tunecast/error"]) for e in trainer.state.log_history if "tunecast/error" in e]
    assert failures == [(0, 1.0), (3, 1.0)]


def test_server_down_with_on_error_raise_stops_the_run(base_lm, tmp_path):
    model, tokenizer = _fresh(base_lm)
    client = ForecastClient(_dead_address(), retry=RetryPolicy(attempts=1), timeout_s=5)
    callback = ForecastCallback(client, base_model="tiny", examples=HARMFUL, on_error="raise")
    trainer = _trainer(model, tokenizer, HARMFUL, tmp_path, 4, callback)
    with pytest.raises(ForecastError, match="UNAVAILABLE"):
        trainer.train()
    client.close()
    assert trainer.state.global_step == 0


# --------------------------------------------------------------------------- units
def _result(targets: Sequence[tuple[str, float, float, float, float]], level: float = 0.9) -> CandidateResult:
    return CandidateResult(
        candidate_id="c", index=0,
        targets=tuple(TargetResult(o, c, p, (IntervalResult(level, lo, hi),)) for o, c, p, lo, hi in targets),
        ood=OODResult(False, (), (), 0.0, False), observed=False, featurized=True, cache_hit=False,
        model_version="m", featurizer_version="f",
    )


def test_threshold_sign_sets_the_harmful_direction_and_the_bound_checked():
    down, up = parse_thresholds({"safety.refusal_rate": -10.0, "forgetting.ref_loss": 0.5})
    assert (down.direction, up.direction) == ("down", "up")
    result = _result([
        ("safety.refusal_rate", 0.5, -4.0, -11.0, 1.0),  # lower bound past -10: plausible harm
        ("safety.refusal_rate", 1.0, -8.0, -9.5, -6.0),  # point and bounds inside
        ("forgetting.ref_loss", 1.0, 0.1, -0.2, 0.6),    # upper bound past 0.5
    ])
    crossings = find_crossings(result, (down, up), 0.9)
    assert [(c.outcome, c.checkpoint, c.bound) for c in crossings] == [
        ("safety.refusal_rate", 0.5, -11.0), ("forgetting.ref_loss", 1.0, 0.6)]
    at_end = Threshold("safety.refusal_rate", -10.0, "down", checkpoint=1.0)
    assert find_crossings(result, (at_end,), 0.9) == ()
    with pytest.raises(UnforecastOutcomeError, match="bias.gender_skew"):
        find_crossings(result, parse_thresholds({"bias.gender_skew": 0.3}), 0.9)
    with pytest.raises(ValueError, match="no sign"):
        parse_thresholds({"bias.gender_skew": 0.0})
    with pytest.raises(ValueError, match="direction"):
        Threshold("bias.gender_skew", 0.3, "sideways")  # type: ignore[arg-type]


def test_settings_are_checked_at_construction():
    with pytest.raises(ValueError, match="exactly one"):
        ForecastCallback("127.0.0.1:1", base_model="tiny")
    with pytest.raises(ValueError, match="exactly one"):
        ForecastCallback("127.0.0.1:1", base_model="tiny", examples=BENIGN, dataset_path="x.jsonl")
    with pytest.raises(ValueError, match="keys"):
        ForecastCallback("127.0.0.1:1", base_model="tiny", examples=[{"question": "?"}])
    for bad in ((0,), (1.5,), (True,)):
        with pytest.raises(ValueError, match="check_steps"):
            ForecastCallback("127.0.0.1:1", base_model="tiny", examples=BENIGN, check_steps=bad)
    with pytest.raises(ValueError):
        ForecastCallback("127.0.0.1:1", base_model="tiny", examples=BENIGN, action="pause")  # type: ignore[arg-type]
    assert resolve_check_steps((10, 0.25, 0.01, 1.0, 500), 100) == [1, 10, 25, 100]


def _args(**kwargs: Any):
    defaults = {"output_dir": "/tmp/unused", "per_device_train_batch_size": 4, "learning_rate": 2e-4,
                "use_cpu": True, "report_to": "none", "seed": 7}
    return transformers.TrainingArguments(**{**defaults, **kwargs})


def test_recipe_mapping_from_training_arguments():
    state = SimpleNamespace(max_steps=100, train_batch_size=4, num_train_epochs=3)
    model = SimpleNamespace(config=SimpleNamespace(max_position_embeddings=512))
    args = _args(lr_scheduler_type="constant_with_warmup", optim="adamw_torch_fused", warmup_steps=0.1,
                 gradient_accumulation_steps=2)
    recipe = derive_recipe(args, state, model, n_train=400)
    assert recipe["lr_schedule"] == "constant" and recipe["optimizer"] == "adamw"
    assert (recipe["warmup_steps"], recipe["batch_size"], recipe["epochs"]) == (10, 8, 2.0)
    assert (recipe["max_seq_len"], recipe["seed"], recipe["method"]) == (512, 7, "full")
    tokenizer = SimpleNamespace(model_max_length=256)
    assert derive_recipe(args, state, model, tokenizer=tokenizer)["max_seq_len"] == 256
    assert derive_recipe(args, state, model, max_seq_len=64)["epochs"] == 3.0  # no n_train: the Trainer's epochs
    overridden = derive_recipe(args, state, model, overrides={"lr_schedule": "linear", "steps": 50})
    assert (overridden["lr_schedule"], overridden["steps"]) == ("linear", 50)
    with pytest.raises(ValueError, match="lora_rank"):
        derive_recipe(args, state, model, overrides={"method": "lora"})


@pytest.mark.filterwarnings(PEFT_WARNING)
def test_lora_fields_from_a_regex_target_and_override_to_full(base_lm):
    from peft import LoraConfig, get_peft_model

    model, _ = _fresh(base_lm)
    peft_model = get_peft_model(model, LoraConfig(r=2, lora_alpha=4, lora_dropout=0.1,
                                                  target_modules=r".*\.(k_proj|o_proj)$", task_type="CAUSAL_LM"))
    fields = lora_fields(peft_model)
    assert fields == {"method": "lora", "lora_rank": 2, "lora_alpha": 4.0, "lora_dropout": 0.1,
                      "target_modules": ["k_proj", "o_proj"]}
    assert lora_fields(base_lm.model) is None
    state = SimpleNamespace(max_steps=10, train_batch_size=4, num_train_epochs=1)
    full = derive_recipe(_args(), state, peft_model, max_seq_len=32, overrides={"method": "full"})
    assert full["method"] == "full" and full["lora_rank"] is None and full["target_modules"] == []
