"""`run_finetune`: one real fine-tune, measured at step 0 and at each checkpoint.

This is how the run corpus gets its ground truth: a trainable copy of the base
is trained with AdamW on the dataset minus a held-out slice, and the probe
suites' `eval` halves plus the held-out loss are measured along the way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import torch
from tqdm.auto import tqdm

from experiments.harness.batching import batch_order, collate, mean_token_loss, token_loss_sum
from experiments.harness.config import HarnessConfig
from experiments.harness.data import TrainingData, split_heldout
from featurizers.features.encoding import Encoded, TrainingEncoder
from experiments.harness.hardware import hardware_string, torch_threads
from experiments.harness.methods import trainable_copy, trainable_parameters
from experiments.harness.names import NON_OUTCOME_PREFIXES, SUPPORTED_OPTIMIZERS
from experiments.harness.schedule import check_schedule, lr_factor
from experiments.lab.datasets.records import Example
from experiments.lab.datasets.seeding import derive_seed
from featurizers.loading import LoadedModel, load_causal_lm
from featurizers.model_spec import ModelSpec
from featurizers.probes.evaluate import ProbeEvaluator
from surrogate.runs import BaseModelRef, LossPoint, Recipe, RunRecord, Timing, make_checkpoints

logger = logging.getLogger(__name__)

HELDOUT_OUTCOME = "task.heldout_loss"
RUN_ID_HASH_CHARS = 24
EPOCHS_REL_TOLERANCE = 1e-6


class RunFailedError(RuntimeError):
    """A run that cannot produce a valid record (e.g. it diverged); the builder logs and skips it."""


class TrainingDivergedError(RunFailedError):
    """The training loss or a measured outcome became NaN or infinite."""


def checkpoint_steps(fractions: Sequence[float], steps: int) -> list[int]:
    """Optimizer steps after which outcomes are measured: round(f * steps), at least 1, no repeats."""
    chosen: list[int] = []
    for fraction in fractions:
        step = max(1, math.floor(fraction * steps + 0.5))
        if not chosen or step > chosen[-1]:
            chosen.append(step)
    return chosen


def actual_epochs(recipe: Recipe, n_train: int) -> float:
    """Passes over the training split that recipe.steps batches make."""
    return recipe.steps * recipe.batch_size / n_train


def default_run_id(base_hash: str, data: TrainingData, recipe: Recipe, config: HarnessConfig) -> str:
    """A stable id from everything that determines the outcomes."""
    material = json.dumps(
        {"base": base_hash, "dataset": data.content_hash(), "recipe": recipe.model_dump(mode="json"),
         "measurement": config.measurement_key()},
        sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(material.encode()).hexdigest()[:RUN_ID_HASH_CHARS]


def probe_outcomes(loaded: LoadedModel, config: HarnessConfig,
                   evaluator: ProbeEvaluator | None = None) -> dict[str, float]:
    """The probe suites' eval halves, counts and timings dropped (under config.torch_threads).

    A run passes its one `evaluator` at every checkpoint, so the suites are loaded and the
    probe texts tokenized once per run; it must have been built for config.evaluation.
    """
    if evaluator is None:
        evaluator = ProbeEvaluator(loaded.tokenizer, config.evaluation)
    elif evaluator.config != config.evaluation or evaluator.tokenizer is not loaded.tokenizer:
        raise ValueError("probe_outcomes: the evaluator was built for another evaluation config or tokenizer; "
                         "build it with ProbeEvaluator(loaded.tokenizer, config.evaluation)")
    with torch_threads(config.torch_threads):
        results = evaluator.evaluate(loaded.model)
    return {k: v for k, v in results.items() if not k.startswith(NON_OUTCOME_PREFIXES)}


def run_finetune(
    base: str | ModelSpec | LoadedModel,
    dataset: TrainingData | Sequence[Example | Mapping[str, Any]],
    recipe: Recipe,
    config: HarnessConfig | None = None,
    *,
    run_id: str | None = None,
    base_outcomes: Mapping[str, float] | None = None,
) -> RunRecord:
    """Fine-tune a copy of `base` on `dataset` with `recipe`; return the measured run record.

    `base_outcomes` are the base model's probe outcomes under the same config (pass them
    when running many fine-tunes of one base to skip re-measuring step 0). The record's
    recipe has `epochs` set to the passes actually made over the training split.
    """
    config = config or HarnessConfig()
    with torch_threads(config.torch_threads):
        return _run_finetune(base, dataset, recipe, config, run_id, base_outcomes)


def _run_finetune(base: str | ModelSpec | LoadedModel, dataset: TrainingData | Sequence[Example | Mapping[str, Any]],
                  recipe: Recipe, config: HarnessConfig, run_id: str | None,
                  base_outcomes: Mapping[str, float] | None) -> RunRecord:
    started = time.perf_counter()
    check_schedule(recipe.lr_schedule)
    if recipe.optimizer not in SUPPORTED_OPTIMIZERS:
        raise ValueError(f"recipe.optimizer {recipe.optimizer!r} is not supported; use one of {SUPPORTED_OPTIMIZERS}")
    loaded = base if isinstance(base, LoadedModel) else load_causal_lm(base, device=config.device)
    data = dataset if isinstance(dataset, TrainingData) else TrainingData.from_examples(dataset)
    split = split_heldout(data, config.heldout)
    encoder = TrainingEncoder(loaded.tokenizer, recipe.max_seq_len)
    train_set = [encoder.encode(data.records[i], where=f"dataset example {i + 1}") for i in split.train]
    heldout_set = [encoder.encode(data.records[i], where=f"dataset example {i + 1}") for i in split.heldout]

    eval_started = time.perf_counter()
    evaluator = ProbeEvaluator(loaded.tokenizer, config.evaluation)  # suites loaded once, used at every checkpoint
    run = _Run(loaded, recipe, config, train_set, heldout_set, evaluator)
    step0 = dict(base_outcomes) if base_outcomes is not None else probe_outcomes(loaded, config, evaluator)
    step0[HELDOUT_OUTCOME] = run.heldout_loss(loaded.model)
    run.eval_s += time.perf_counter() - eval_started
    bad = sorted(k for k, v in step0.items() if not math.isfinite(v))
    if bad:
        raise ValueError(f"base model {loaded.spec.name!r}: step-0 outcomes {bad[:5]} are not finite; "
                         "check the probe suites and the base weights before fine-tuning")

    measurements, losses = run.train(step0)
    epochs = actual_epochs(recipe, len(train_set))
    if not math.isclose(epochs, recipe.epochs, rel_tol=EPOCHS_REL_TOLERANCE):
        logger.info("recipe.epochs %.4g replaced by the %.4g passes actually made", recipe.epochs, epochs)
    recorded_recipe = Recipe.model_validate({**recipe.model_dump(), "epochs": epochs})
    base_ref = BaseModelRef(name=loaded.spec.name, weights_hash=loaded.weights_hash())
    return RunRecord(
        run_id=run_id or default_run_id(base_ref.weights_hash, data, recorded_recipe, config),
        created_at=datetime.now(UTC),
        base=base_ref,
        dataset=data.ref(),
        recipe=recorded_recipe,
        checkpoints=tuple(make_checkpoints(measurements, recipe.steps)),
        loss_curve=tuple(LossPoint(step=s, loss=v) for s, v in losses),
        timing=Timing(
            wall_s=time.perf_counter() - started,
            finetune_s=run.finetune_s,
            eval_s=run.eval_s,
            tokens_seen=run.tokens_seen,
            hardware=hardware_string(loaded.device),
            device=str(loaded.device),
        ),
    )


class _Run:
    """State of one training loop: model copy, optimizer, clocks and counters."""

    def __init__(self, loaded: LoadedModel, recipe: Recipe, config: HarnessConfig,
                 train_set: list[Encoded], heldout_set: list[Encoded], evaluator: ProbeEvaluator) -> None:
        self.loaded = loaded
        self.evaluator = evaluator
        self.recipe = recipe
        self.config = config
        self.train_set = train_set
        self.heldout_set = heldout_set
        self.pad_id = int(loaded.tokenizer.pad_token_id if loaded.tokenizer.pad_token_id is not None else 0)
        self.finetune_s = 0.0
        self.eval_s = 0.0
        self.tokens_seen = 0
        self.steps_done = 0

    def heldout_loss(self, model: torch.nn.Module) -> float:
        return mean_token_loss(model, self.heldout_set, self.pad_id, self.config.heldout.batch_size, self.loaded.device)

    def measure(self, model: torch.nn.Module) -> dict[str, float]:
        started = time.perf_counter()
        view = LoadedModel(model=model, tokenizer=self.loaded.tokenizer, spec=self.loaded.spec, device=self.loaded.device)
        outcomes = probe_outcomes(view, self.config, self.evaluator)
        outcomes[HELDOUT_OUTCOME] = self.heldout_loss(model)
        self.eval_s += time.perf_counter() - started
        bad = sorted(k for k, v in outcomes.items() if not math.isfinite(v))
        if bad:
            raise TrainingDivergedError(f"outcomes {bad[:5]} are not finite after fine-tuning; the run diverged")
        return outcomes

    def train(self, step0: dict[str, float]) -> tuple[list[tuple[int, dict[str, float]]], list[tuple[int, float]]]:
        """Run recipe.steps optimizer steps under a private RNG; measure at each checkpoint."""
        recipe, device = self.recipe, self.loaded.device
        measure_at = set(checkpoint_steps(self.config.checkpoint_fractions, recipe.steps))
        measurements: list[tuple[int, dict[str, float]]] = [(0, step0)]
        losses: list[tuple[int, float]] = []
        devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(recipe.seed)
            model = trainable_copy(self.loaded.model, recipe).to(device)
            model.train()
            params = trainable_parameters(model)
            optimizer, scheduler = self._optimizer(params)
            order = batch_order(len(self.train_set), recipe.batch_size, recipe.steps, derive_seed(recipe.seed, "order"))
            steps = tqdm(range(1, recipe.steps + 1), desc="fine-tune", disable=not self.config.progress, leave=False)
            for step, indices in zip(steps, order):
                tick = time.perf_counter()
                losses.append((step, self._step(model, params, optimizer, scheduler, indices)))
                self.finetune_s += time.perf_counter() - tick
                if step in measure_at:
                    measurements.append((step, self.measure(model)))
                    model.train()
        del model
        return measurements, losses

    def _optimizer(self, params: list[torch.nn.Parameter]) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
        opt, recipe = self.config.optimizer, self.recipe
        optimizer = torch.optim.AdamW(params, lr=recipe.learning_rate, betas=(opt.beta1, opt.beta2), eps=opt.eps,
                                      weight_decay=opt.weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: lr_factor(s, recipe.lr_schedule, recipe.warmup_steps, recipe.steps, opt.min_lr_ratio)
        )
        return optimizer, scheduler

    def _step(self, model: torch.nn.Module, params: list[torch.nn.Parameter], optimizer: torch.optim.Optimizer,
              scheduler: torch.optim.lr_scheduler.LambdaLR, indices: list[int]) -> float:
        batch = collate([self.train_set[i] for i in indices], self.pad_id).to(self.loaded.device)
        loss_sum, n_targets = token_loss_sum(model, batch)
        if n_targets == 0:
            raise RunFailedError(f"a batch of examples {indices} has no target tokens; raise recipe.max_seq_len")
        loss = loss_sum / n_targets
        value = float(loss.detach())
        if not math.isfinite(value):
            raise TrainingDivergedError(f"training loss became {value} at step {self.steps_done + 1}; "
                                        "lower recipe.learning_rate")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.optimizer.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, self.config.optimizer.max_grad_norm)
        optimizer.step()
        scheduler.step()
        self.tokens_seen += batch.n_tokens
        self.steps_done += 1
        return value
