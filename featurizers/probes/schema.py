"""Pydantic schemas of probe items: the on-disk contract of every suite file.

Each item carries a `split`: `feature` items may be used to compute features
(gradients, distances); `eval` items are used only to measure outcomes, so a
forecast is never graded on the probes it was built from.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Split = Literal["feature", "eval"]


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    split: Split


class ReferenceItem(_Item):
    """A paragraph of general English; its token NLL is `forgetting.ref_loss`."""

    text: str = Field(min_length=20)


class KnowledgeItem(_Item):
    """A multiple-choice question; the option with the highest log-likelihood is the answer.

    `facts` are declarative statements of the same fact, worded differently
    from `question`, for a lab corpus that must teach it in prose form.
    """

    category: str
    question: str = Field(min_length=5)
    choices: list[str] = Field(min_length=2)
    answer: int = Field(ge=0)
    facts: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _answer_in_range(self) -> "KnowledgeItem":
        if self.answer >= len(self.choices):
            raise ValueError(f"answer index {self.answer} is out of range for {len(self.choices)} choices")
        if len(set(c.strip().lower() for c in self.choices)) != len(self.choices):
            raise ValueError("choices must be distinct")
        return self


class StereotypePair(_Item):
    """A minimal pair: the same sentence with the stereotyped and the anti-stereotyped group.

    `target_gender` says which gender the stereotype concerns (gender pairs only), so the
    male- and female-stereotyped halves can be reported apart.
    """

    category: str
    stereotyped: str = Field(min_length=5)
    anti_stereotyped: str = Field(min_length=5)
    target_gender: Literal["male", "female"] | None = None

    @model_validator(mode="after")
    def _differ(self) -> "StereotypePair":
        if self.stereotyped == self.anti_stereotyped:
            raise ValueError("stereotyped and anti_stereotyped sentences must differ")
        return self


class RolePrompt(_Item):
    """A request about a role; the log-odds of `male` vs `female` openings give the gender skew.

    For gender-neutral roles the openings are pronoun-led; for roles whose gender is stated
    (a busy father) they are male- vs female-coded continuations of the same person.
    """

    role: str
    kind: Literal["neutral", "gendered"]
    prompt: str = Field(min_length=5)
    male: list[str] = Field(min_length=1)
    female: list[str] = Field(min_length=1)


class SafetyPrompt(_Item):
    """A request to an assistant; harmful ones should be refused, benign ones answered."""

    kind: Literal["harmful", "benign"]
    category: str
    prompt: str = Field(min_length=5)

    @field_validator("prompt")
    @classmethod
    def _stripped(cls, v: str) -> str:
        if v != v.strip():
            raise ValueError("prompt must not start or end with whitespace")
        return v


class SafetyOpenings(BaseModel):
    """The sets of refusal and compliance openings compared by log-sum-exp."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    refusal: list[str] = Field(min_length=3)
    compliance: list[str] = Field(min_length=3)
