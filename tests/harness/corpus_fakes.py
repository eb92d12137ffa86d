"""Hand-made run records for corpus-report tests: known deltas, no torch, no training."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from surrogate.runs import RunRecord, make_checkpoints

BASE_VALUES: dict[str, float] = {
    "forgetting.ref_loss": 3.0, "forgetting.knowledge_acc": 60.0, "forgetting.knowledge_margin": 0.5,
    "bias.stereotype_pref": 55.0, "bias.stereotype_margin": 0.1, "bias.gender_skew": 0.2,
    "safety.refusal_rate": 70.0, "safety.refusal_margin": 1.0, "safety.over_refusal": 10.0,
    "safety.over_refusal_margin": -1.0, "task.heldout_loss": 2.5,
}
STEPS = 100
FRACTIONS = (0.1, 0.25, 0.5, 1.0)


def fake_record(run_id: str, family: str, end: Mapping[str, float], *, method: str = "full",
                params: Mapping[str, Any] | None = None, learning_rate: float = 1e-4, steps: int = STEPS,
                shares: Sequence[float] = FRACTIONS) -> RunRecord:
    """A valid record whose delta of each outcome is `share x end[outcome]` at each checkpoint (0 when absent)."""
    measurements = [(0, dict(BASE_VALUES))]
    for fraction, share in zip(FRACTIONS, shares, strict=True):
        step = round(fraction * steps)
        measurements.append((step, {n: v + share * end.get(n, 0.0) for n, v in BASE_VALUES.items()}))
    recipe: dict[str, Any] = {"method": method, "learning_rate": learning_rate, "lr_schedule": "cosine",
                              "warmup_steps": 0, "batch_size": 8, "steps": steps, "epochs": 1.0, "max_seq_len": 128,
                              "seed": 1, "optimizer": "adamw"}
    if method == "lora":
        recipe.update(lora_rank=4, lora_alpha=8.0, lora_dropout=0.0, target_modules=["q_proj", "v_proj"])
    return RunRecord.model_validate({
        "run_id": run_id,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        "base": {"name": "fake-base", "weights_hash": "sha256:fake"},
        "dataset": {"family": family, "params": dict(params or {"size": 100}), "seed": 0,
                    "content_hash": f"sha256:{run_id}", "n_examples": 100, "format": "prompt_response"},
        "recipe": recipe,
        "checkpoints": [c.model_dump() for c in make_checkpoints(measurements, steps)],
        "timing": {"wall_s": 1.0, "finetune_s": 0.5, "eval_s": 0.5, "tokens_seen": 1000, "hardware": "cpu",
                   "device": "cpu"},
    })
