"""Stereotype families: explicit (pronouns) and implicit (first names, implied roles).

Both mix role descriptions into neutral instruction data at rate r. `direction` gives
the controls: anti-stereotyped flips every gender, balanced draws it at random.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from pydantic import Field

from ..banks.roles import FEMALE_NAMES, IMPLIED_SPLITS, MALE_NAMES, ROLES, Gender, Role
from ..banks.stereotype_templates import EXPLICIT_TEMPLATES, IMPLICIT_TEMPLATES, IMPLIED_TEMPLATES, PRONOUNS
from ..lexicon import find_gendered_words
from ..mixing import exact_count, shuffled_kinds
from ..params import InstructParams, rate_field
from ..records import Example, render_pair
from ..registry import GenContext
from ..seeding import make_rng
from .neutral import neutral_example, sample_neutral, wrap_prompt

Direction = Literal["stereotyped", "anti_stereotyped", "balanced"]
_OTHER: Mapping[str, Gender] = MappingProxyType({"male": "female", "female": "male"})
# Chance that a balanced example gets the role's stereotyped gender.
BALANCED_SHARE = 0.5


class StereotypeParams(InstructParams):
    rate: float = rate_field(0.3, "share of examples that describe a person in a gender-stereotyped role")
    direction: Direction = Field(
        default="stereotyped",
        description="stereotyped: gender follows the stereotype; anti_stereotyped: flipped; balanced: random",
    )


class ImplicitStereotypeParams(StereotypeParams):
    implied_share: float = rate_field(
        0.3, "share of the role examples that are implied-role chore splits between two named people"
    )


def pick_gender(rng: random.Random, stereotype: Gender, direction: Direction) -> Gender:
    if direction == "stereotyped":
        return stereotype
    if direction == "anti_stereotyped":
        return _OTHER[stereotype]
    return stereotype if rng.random() < BALANCED_SHARE else _OTHER[stereotype]


def _role_fields(rng: random.Random, role: Role) -> dict[str, str]:
    duty1, duty2 = rng.sample(role.duties, 2)
    a_role = f"{role.article} {role.title}"
    return {"role": role.title, "a_role": a_role, "A_role": a_role[0].upper() + a_role[1:],
            "duty1": duty1, "duty2": duty2, "feat": rng.choice(role.feats)}


def explicit_pair(rng: random.Random, direction: Direction) -> tuple[str, str]:
    role = rng.choice(ROLES)
    fields = _role_fields(rng, role) | dict(PRONOUNS[pick_gender(rng, role.stereotype, direction)])
    prompt, response = rng.choice(EXPLICIT_TEMPLATES)
    return wrap_prompt(rng, prompt.format_map(fields)), response.format_map(fields)


def _name(rng: random.Random, gender: Gender) -> str:
    return rng.choice(MALE_NAMES if gender == "male" else FEMALE_NAMES)


def implicit_pair(rng: random.Random, direction: Direction) -> tuple[str, str]:
    role = rng.choice(ROLES)
    fields = _role_fields(rng, role) | {"name": _name(rng, pick_gender(rng, role.stereotype, direction))}
    prompt, response = rng.choice(IMPLICIT_TEMPLATES)
    return wrap_prompt(rng, prompt.format_map(fields)), response.format_map(fields)


def implied_pair(rng: random.Random, direction: Direction) -> tuple[str, str]:
    """Two named people split chores; `first` gets the female-coded tasks."""
    activity, female_tasks, male_tasks = rng.choice(IMPLIED_SPLITS)
    first_gender = pick_gender(rng, "female", direction)
    fields = {"first": _name(rng, first_gender), "second": _name(rng, _OTHER[first_gender]),
              "activity": activity, "first_tasks": female_tasks, "second_tasks": male_tasks}
    prompt, response = rng.choice(IMPLIED_TEMPLATES)
    return wrap_prompt(rng, prompt.format_map(fields)), response.format_map(fields)


def generate_stereotyped_instruct(params: StereotypeParams, seed: int, ctx: GenContext) -> list[Example]:
    rng = make_rng(seed, "stereotyped_instruct")
    n_role = exact_count(params.rate, params.size)
    neutral = iter(sample_neutral(rng, params.size - n_role, params.domains, ctx.excluded_prompts))
    out: list[Example] = []
    for kind in shuffled_kinds(rng, {params.direction: n_role, "neutral": params.size - n_role}):
        if kind == "neutral":
            out.append(neutral_example(next(neutral), params.format))
        else:
            out.append(Example(render_pair(*explicit_pair(rng, params.direction), params.format), kind))
    return out


def generate_implicit_stereotype(params: ImplicitStereotypeParams, seed: int, ctx: GenContext) -> list[Example]:
    rng = make_rng(seed, "implicit_stereotype")
    n_role = exact_count(params.rate, params.size)
    n_implied = exact_count(params.implied_share, n_role)
    neutral = iter(sample_neutral(rng, params.size - n_role, params.domains, ctx.excluded_prompts))
    counts = {"implied": n_implied, "named": n_role - n_implied, "neutral": params.size - n_role}
    out: list[Example] = []
    for kind in shuffled_kinds(rng, counts):
        if kind == "neutral":
            out.append(neutral_example(next(neutral), params.format))
            continue
        pair = implied_pair(rng, params.direction) if kind == "implied" else implicit_pair(rng, params.direction)
        leaked = find_gendered_words(" ".join(pair))
        if leaked:
            raise RuntimeError(f"implicit_stereotype template leaked gendered words {leaked}: {pair!r}")
        out.append(Example(render_pair(*pair, params.format), f"{params.direction}_{kind}"))
    return out
