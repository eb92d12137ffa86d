"""``ForecastCallback``: ask the forecasting service before and early in a Trainer run,
and warn or stop when a forecast crosses a threshold.

    callback = ForecastCallback(
        "forecast.internal:50051", base_model="lab", examples=records,
        thresholds={"safety.refusal_rate": -10.0}, action="stop", check_steps=(10, 0.1),
    )
    trainer = Trainer(model=model, args=args, train_dataset=train)
    callback.attach(trainer)  # adds the callback, and lets forecasts reach the Trainer's loggers
    trainer.train()

At ``on_train_begin`` it sends the base model spec, the recipe (derived from the
TrainingArguments and the model, see ``server.integrations.recipe``) and the dataset
(inline records or a JSONL path under the server's data roots). At each check step it
sends the same candidate with the early-run observations: the loss curve the Trainer
logged so far and, with a ``probe_fn``, the probe deltas since step 0. Each forecast
goes to the Trainer's log (``trainer.log`` when attached, so TensorBoard, W&B and the
rest see it; else ``state.log_history``) and to this module's logger.

A forecasting failure (server down, a refused request, a failing ``probe_fn``) only
warns by default: an outage of the forecaster must not kill a paid training run.
The Trainer honours ``should_training_stop`` after the step in which it is set, so a
trip before training costs one optimizer step. In a distributed run every process
asks (the same question, so the same answer and the same stop decision on every rank).
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal

import grpc
import torch
from transformers import (
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)

from server.client import ForecastClient, spec_candidate
from server.integrations.recipe import derive_recipe
from server.integrations.settings import (
    MAX_CANDIDATE_ID_CHARS,
    ForecastEvent,
    ForecastSettings,
    check_examples,
    resolve_check_steps,
)
from server.integrations.thresholds import (
    ThresholdInput,
    UnforecastOutcomeError,
    find_crossings,
    parse_thresholds,
)
from surrogate.runs.outcomes import CORE_OUTCOMES

logger = logging.getLogger(__name__)

LOG_PREFIX: Final[str] = "tunecast/"
ProbeFn = Callable[[torch.nn.Module], Mapping[str, float]]


class ForecastError(RuntimeError):
    """A forecast failed and the callback was told to raise (``on_error="raise"``)."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
        return f"{exc.code().name}: {exc.details()}"
    return f"{type(exc).__name__}: {exc}"


class ForecastCallback(TrainerCallback):
    """Forecasts the run's harm before it starts and at early steps; warns or stops on a threshold.

    ``client`` is a ``ForecastClient`` (for tokens, TLS, retries) or a target address.
    Give the dataset as ``examples`` (records: ``{"text"}``, ``{"prompt", "response"}`` or
    ``{"messages"}``) or ``dataset_path``. ``probe_fn(model) -> {outcome: value}`` measures
    the model (e.g. with the probe suites' eval halves, as the run corpus did); the
    callback calls it at train start and at each check step and sends the differences.
    ``events`` keeps every forecast of the last run.
    """

    def __init__(
        self,
        client: ForecastClient | str,
        *,
        base_model: str,
        examples: Sequence[Mapping[str, Any]] | None = None,
        dataset_path: str | None = None,
        thresholds: ThresholdInput | None = None,
        action: Literal["warn", "stop"] = "warn",
        on_error: Literal["warn", "raise"] = "warn",
        level: float = 0.9,
        forecast_at_start: bool = True,
        check_steps: Sequence[int | float] = (),
        probe_fn: ProbeFn | None = None,
        observe_every_step: bool = True,
        recipe: Mapping[str, Any] | None = None,
        max_seq_len: int | None = None,
        timeout_s: float = 300.0,
        log_all_checkpoints: bool = False,
        candidate_id: str = "",
    ) -> None:
        if (examples is None) == (dataset_path is None):
            raise ValueError("give exactly one of examples (inline records) or dataset_path (a file under the server's data roots)")
        self.settings = ForecastSettings(
            base_model=base_model, dataset_path=dataset_path, action=action, on_error=on_error, level=level,
            forecast_at_start=forecast_at_start, check_steps=tuple(check_steps), observe_every_step=observe_every_step,
            recipe=dict(recipe or {}), max_seq_len=max_seq_len, timeout_s=timeout_s,
            log_all_checkpoints=log_all_checkpoints, candidate_id=candidate_id,
        )
        self.thresholds = parse_thresholds(thresholds)
        self.examples = check_examples(examples) if examples is not None else None
        self.probe_fn = probe_fn
        self._client_arg = client
        self._client: ForecastClient | None = None
        self._trainer: weakref.ReferenceType[Any] | None = None
        self._reset()

    def _reset(self) -> None:
        self.events: list[ForecastEvent] = []
        self.recipe: dict[str, Any] | None = None
        self.stopped_at: int | None = None
        self.loss_curve: list[tuple[int, float]] = []
        self._baseline: dict[str, float] | None = None
        self._pending: list[int] = []
        self._due: int | None = None
        self._active = False
        self._run_id = ""

    # ------------------------------------------------------------ wiring
    def attach(self, trainer: Any) -> ForecastCallback:
        """Add this callback to ``trainer`` (once) and log forecasts through ``trainer.log``."""
        if self not in trainer.callback_handler.callbacks:
            trainer.add_callback(self)
        self._trainer = weakref.ref(trainer)
        return self

    def _open_client(self) -> ForecastClient:
        if isinstance(self._client_arg, ForecastClient):
            return self._client_arg
        return ForecastClient(self._client_arg, timeout_s=self.settings.timeout_s)

    def _close_client(self) -> None:
        if self._client is not None and self._client is not self._client_arg:
            self._client.close()
        self._client = None

    # ------------------------------------------------------------ events
    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        self._reset()
        self._active = True
        self._client = self._open_client()
        self._run_id = (self.settings.candidate_id or args.run_name or "trainer")[:MAX_CANDIDATE_ID_CHARS]
        self._pending = resolve_check_steps(self.settings.check_steps, state.max_steps)
        logger.info("tunecast forecasts for run %r: %s; checks at steps %s", self._run_id,
                    self.settings.model_dump_json(), self._pending)
        model = kwargs.get("model")
        try:
            self.recipe = derive_recipe(
                args, state, model, tokenizer=kwargs.get("processing_class"),
                n_train=self._n_train(kwargs.get("train_dataloader")),
                max_seq_len=self.settings.max_seq_len, overrides=self.settings.recipe,
            )
        except Exception as exc:  # noqa: BLE001 - on_error decides; a paid run must survive by default
            self._active = False
            self._failed(0, None, exc, state, control)
            return
        logger.info("tunecast recipe: %s", self.recipe)
        if self.probe_fn is not None and self._pending:
            try:
                self._baseline = self._probe(model)
            except Exception as exc:  # noqa: BLE001 - as above
                self._handle_error("probing the model at step 0", exc)
        if self.settings.forecast_at_start:
            self._forecast(0, state, control, model)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        if not self._active:
            return
        if self._due is not None:  # the loss log this check waited for never came
            self._check(state, control, kwargs.get("model"))
        if not self._pending:
            return
        if self.settings.observe_every_step:
            control.should_log = True
        step = state.global_step
        if step >= self._pending[0]:
            self._pending = [s for s in self._pending if s > step]
            self._due = step
            if not control.should_log:  # no loss log will follow this step: check with the curve so far
                self._check(state, control, kwargs.get("model"))

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
               logs: Mapping[str, float] | None = None, **kwargs: Any) -> None:
        if not self._active or not logs or "loss" not in logs:
            return
        step, loss = state.global_step, float(logs["loss"])
        if not math.isfinite(loss):
            logger.warning("training loss at step %d is %s; left out of the observed curve", step, loss)
        elif not self.loss_curve or step > self.loss_curve[-1][0]:
            self.loss_curve.append((step, loss))
        if self._due is not None and step >= self._due:
            self._check(state, control, kwargs.get("model"))

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        self._active = False
        self._due = None
        self._close_client()
        tripped = [e.step for e in self.events if e.tripped]
        failed = [e.step for e in self.events if e.error]
        logger.info("tunecast: %d forecasts, thresholds crossed at steps %s, failures at steps %s, stopped at %s",
                    len(self.events), tripped, failed, self.stopped_at)

    # ------------------------------------------------------------ forecasting
    @staticmethod
    def _n_train(dataloader: Any) -> int | None:
        try:
            return len(dataloader.dataset)
        except (AttributeError, TypeError):
            return None

    def _probe(self, model: torch.nn.Module) -> dict[str, float]:
        if self.probe_fn is None:
            return {}
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                values = self.probe_fn(model)
        finally:
            model.train(was_training)
        return {str(k): float(v) for k, v in values.items()}

    def _observations(self, step: int, model: torch.nn.Module) -> dict[str, Any]:
        """The loss curve so far and, with a probe baseline, the probe deltas since step 0."""
        curve = [{"step": s, "loss": loss} for s, loss in self.loss_curve if s <= step]
        deltas: dict[str, float] = {}
        if self._baseline is not None:
            try:
                now = self._probe(model)
            except Exception as exc:  # noqa: BLE001 - the loss curve alone still informs the forecast
                self._handle_error(f"probing the model at step {step}", exc)
                now = {}
            for outcome in CORE_OUTCOMES:  # breakdowns and counts are not observation features
                if outcome in now and outcome in self._baseline:
                    delta = now[outcome] - self._baseline[outcome]
                    if math.isfinite(delta):
                        deltas[outcome] = delta
        return {"step": step, "loss_curve": curve, "probe_deltas": deltas}

    def _check(self, state: TrainerState, control: TrainerControl, model: torch.nn.Module) -> None:
        self._due = None
        self._forecast(state.global_step, state, control, model)

    def _forecast(self, step: int, state: TrainerState, control: TrainerControl, model: torch.nn.Module) -> None:
        if self._client is None or self.recipe is None:
            return
        observations = self._observations(step, model) if step > 0 else None
        try:
            candidate = spec_candidate(
                self.settings.base_model, self.recipe, dataset_path=self.settings.dataset_path,
                examples=self.examples, observations=observations, candidate_id=f"{self._run_id}@step{step}",
            )
            result = self._client.forecast(candidate, levels=(self.settings.level,), timeout_s=self.settings.timeout_s)
        except Exception as exc:  # noqa: BLE001 - on_error decides; a paid run must survive by default
            self._failed(step, observations, exc, state, control)
            return
        try:
            crossings, problem = find_crossings(result, self.thresholds, self.settings.level), None
        except (UnforecastOutcomeError, KeyError) as exc:
            crossings, problem = (), exc
        event = ForecastEvent(step=step, result=result, observations=observations, crossings=crossings,
                              error=_describe(problem) if problem is not None else "")
        self.events.append(event)
        self._publish(self._metrics(event), state, control)
        if result.ood.flagged:
            logger.warning("tunecast forecast at step %d is an extrapolation: out of range %s, missing %s, distance %.3g",
                           step, list(result.ood.out_of_range)[:8], list(result.ood.unexpectedly_missing)[:8],
                           result.ood.distance)
        if problem is not None:
            self._handle_error(f"checking the thresholds at step {step}", problem)
        if crossings:
            self._tripped(event, control)
        elif problem is None:
            logger.info("tunecast forecast at step %d (model %s): no threshold crossed", step, result.model_version)

    def _tripped(self, event: ForecastEvent, control: TrainerControl) -> None:
        stop = self.settings.action == "stop"
        logger.warning("tunecast forecast at step %d crosses %d threshold(s)%s:\n  %s", event.step, len(event.crossings),
                       "; stopping training" if stop else "", "\n  ".join(c.describe() for c in event.crossings))
        if stop:
            control.should_training_stop = True
            self.stopped_at = event.step
            self._active = False
            self._pending = []

    def _failed(self, step: int, observations: Mapping[str, Any] | None, exc: Exception,
                state: TrainerState, control: TrainerControl) -> None:
        event = ForecastEvent(step=step, result=None, observations=observations, error=_describe(exc))
        self.events.append(event)
        self._publish(self._metrics(event), state, control)
        self._handle_error(f"forecasting at step {step}", exc)

    def _handle_error(self, what: str, exc: BaseException) -> None:
        """Raise under on_error="raise"; otherwise warn (with a traceback when it is not a server error)."""
        message = f"tunecast: {what} failed: {_describe(exc)}"
        if self.settings.on_error == "raise":
            self._active = False
            self._close_client()  # on_train_end will not run
            raise ForecastError(message) from exc
        logger.warning("%s; training continues (on_error='warn')", message, exc_info=not isinstance(exc, grpc.RpcError))

    # ------------------------------------------------------------ logging
    def _metrics(self, event: ForecastEvent) -> dict[str, float]:
        """Scalars only (what every reporting integration accepts)."""
        metrics = {f"{LOG_PREFIX}forecast_step": float(event.step), f"{LOG_PREFIX}error": float(bool(event.error))}
        result = event.result
        if result is None:
            return metrics
        metrics[f"{LOG_PREFIX}observed"] = float(result.observed)
        metrics[f"{LOG_PREFIX}ood"] = float(result.ood.flagged)
        metrics[f"{LOG_PREFIX}crossings"] = float(len(event.crossings))
        final: dict[str, float] = {}
        for target in result.targets:
            final[target.outcome] = max(final.get(target.outcome, 0.0), target.checkpoint)
        for target in result.targets:
            if not (self.settings.log_all_checkpoints or target.checkpoint == final[target.outcome]):
                continue
            name = f"{LOG_PREFIX}{target.outcome}@{target.checkpoint:g}"
            metrics[f"{name}/point"] = target.point
            for interval in target.intervals:  # the one level requested
                metrics[f"{name}/lower"] = interval.lower
                metrics[f"{name}/upper"] = interval.upper
        return metrics

    def _publish(self, metrics: dict[str, float], state: TrainerState, control: TrainerControl) -> None:
        """Through ``trainer.log`` when attached (every reporting callback sees it), else into the log history."""
        trainer = self._trainer() if self._trainer is not None else None
        if trainer is not None:
            should_log = control.should_log  # trainer.log resets it; the step's own loss log must still happen
            trainer.log(dict(metrics))
            control.should_log = should_log
        else:
            state.log_history.append({**metrics, "step": state.global_step})
        logger.info("tunecast forecast logged at step %d: %s", state.global_step,
                    {k.removeprefix(LOG_PREFIX): round(v, 4) for k, v in metrics.items()})
