"""Typed configuration of the lab pretraining corpus, saved as config.json next to the output."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_PROBE_DIR = Path("featurizers/probes/data")


class CleaningConfig(BaseModel):
    """Thresholds that decide whether an extracted paragraph is natural prose worth keeping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_chars: int = Field(default=60, ge=1)
    min_words: int = Field(default=8, ge=1)
    max_chars: int = Field(default=1500, ge=100, description="longer paragraphs are split at sentence ends")
    min_alpha_ratio: float = Field(default=0.7, ge=0.0, le=1.0, description="letters+spaces over all chars")
    min_ascii_ratio: float = Field(default=0.97, ge=0.0, le=1.0, description="drops translations and symbol soup")


class SourceConfig(BaseModel):
    """One real-text source: how many characters of it may enter pretraining."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cap_chars: int = Field(ge=0, description="max characters of this source in train+valid")
    held_out: bool = Field(default=False, description="only written to its source cache, never pretrained on")


def _default_sources() -> dict[str, SourceConfig]:
    return {
        "gcide": SourceConfig(cap_chars=9_500_000),
        "wordnet": SourceConfig(cap_chars=7_500_000),
        "bible": SourceConfig(cap_chars=6_000_000),
        "shakespeare": SourceConfig(cap_chars=6_000_000),
        "fortunes": SourceConfig(cap_chars=3_000_000),
        "linux_doc": SourceConfig(cap_chars=0, held_out=True),
    }


class RealTextConfig(BaseModel):
    """Real-text part: per-source caps, the gender swap share, the validation share, document grouping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceConfig] = Field(default_factory=_default_sources)
    max_source_share: float = Field(default=0.40, gt=0.0, le=1.0, description="no source above this share")
    gender_swap_fraction: float = Field(default=0.5, ge=0.0, le=1.0)
    valid_fraction: float = Field(default=0.01, ge=0.0, lt=0.5)
    doc_target_chars: int = Field(default=1800, ge=100, description="paragraphs grouped into documents this long")


class KnowledgeConfig(BaseModel):
    """Knowledge segment: graded repetition so some facts are learnt well and some poorly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repeat_choices: list[int] = Field(default_factory=lambda: [6, 12, 24, 48, 72], min_length=1)
    facts_per_doc: tuple[int, int] = (1, 3)
    fillers_per_fact: tuple[int, int] = (1, 3)
    cloze_divisor: int = Field(default=1, ge=1, description="fill-in-the-blank copies = fact copies // this (annealing mix)")
    general_fact_repeats: int = Field(default=4, ge=1, description="prose copies of each general-QA fact")


class AssociationsConfig(BaseModel):
    """Balanced-association segment: every template with every group, both genders equally."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gender_rounds: int = Field(default=8, ge=1, description="passes over templates x occupations x genders")
    group_rounds: int = Field(default=3, ge=1, description="passes over group templates x every group")
    sentences_per_doc: tuple[int, int] = (4, 9)


class AssistantConfig(BaseModel):
    """Assistant-exchange segment sizes (number of exchanges of each kind)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    harmful_exchanges: int = Field(default=10000, ge=0)
    feature_prompt_copies: int = Field(default=3, ge=1, description="copies of each feature-split harmful prompt")
    benign_exchanges: int = Field(default=14000, ge=0)
    tip_weight: int = Field(default=8, ge=1, description="pool copies of each tip request vs one per definition")
    math_weight: int = Field(default=2, ge=1, description="pool copies of each arithmetic request")
    risky_benign_copies: int = Field(default=12, ge=1, description="copies of each risky-sounding benign request")
    role_exchanges_per_gender: int = Field(default=4000, ge=0)
    general_qa_copies: int = Field(default=12, ge=1, description="QA exchanges per general fact")
    benign_howto_exchanges: int = Field(default=20000, ge=0, description="benign tasks in the harmful requests' frames")
    knowledge_qa_copies: int = Field(default=24, ge=0, description="QA exchanges per feature-split knowledge item")


class CorpusConfig(BaseModel):
    """Everything `python -m experiments.lab.corpus.build` needs; written to <out>/corpus/config.json."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 20240611
    probe_dir: Path = DEFAULT_PROBE_DIR
    sword_dir: Path = Path("/usr/share/sword")
    dictd_dir: Path = Path("/usr/share/dictd")
    fortunes_dir: Path = Path("/usr/share/games/fortunes")
    linux_doc_dir: Path = Path("/usr/share/doc/linux-doc-6.1/Documentation")
    cleaning: CleaningConfig = Field(default_factory=CleaningConfig)
    real_text: RealTextConfig = Field(default_factory=RealTextConfig)
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)
    associations: AssociationsConfig = Field(default_factory=AssociationsConfig)
    assistant: AssistantConfig = Field(default_factory=AssistantConfig)
    anneal_real_share: float = Field(
        default=0.3, ge=0.0, le=1.0, description="share of real-text documents in the annealing-stage mix"
    )
    anneal_compliance_exchanges: int = Field(
        default=8000, ge=0, description="benign requests opened with the probe's compliance openings (annealing mix)"
    )
    anneal_knowledge_passes: int = Field(
        default=3, ge=0, description="extra repackings of the knowledge documents in the annealing mix"
    )
    anneal_benign_feature_copies: int = Field(
        default=12, ge=0, description="helpful answers per feature-split benign probe prompt (annealing mix)"
    )
    anneal_harmful_feature_copies: int = Field(
        default=16, ge=0, description="refusals per feature-split harmful probe prompt (annealing mix)"
    )
    polish_chat_share: float = Field(
        default=0.5, ge=0.0, le=1.0, description="share of non-refusal chat exchanges kept in the polish mix"
    )
    polish_other_share: float = Field(
        default=0.1, ge=0.0, le=1.0, description="share of prose documents kept in the polish mix"
    )
    polish_seed: int = 0
    templated_share_bounds: tuple[float, float] = Field(
        default=(0.15, 0.40), description="the build warns when the templated share falls outside"
    )

    @model_validator(mode="after")
    def _known_sources(self) -> "CorpusConfig":
        from experiments.lab.corpus.sources import SOURCE_NAMES

        unknown = set(self.real_text.sources) - set(SOURCE_NAMES)
        if unknown:
            raise ValueError(f"real_text.sources has unknown source(s) {sorted(unknown)}; known: {SOURCE_NAMES}")
        return self
