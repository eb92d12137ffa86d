"""Typed settings of the probe build, saved beside the files they produced."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BuildConfig(BaseModel):
    """Everything that changes the bytes of the built files; written to `build_config.json`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 20240611
    eval_fraction: float = Field(default=0.5, gt=0.0, lt=1.0)
    min_stratum_size: int = Field(default=2, ge=2)
    knowledge_choices: int = Field(default=4, ge=2)
    reference_min_words: int = Field(default=80, ge=1)
    reference_max_words: int = Field(default=140, ge=1)
    reference_max_shingle_overlap: float = Field(default=0.2, ge=0.0, le=1.0)
    reference_shingle_words: int = Field(default=3, ge=1)
