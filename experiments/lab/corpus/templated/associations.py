"""Balanced association sentences: every template with every occupation in both genders, and every
group template with every group, in equal counts, so the lab model starts near neutral.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from experiments.lab.corpus.config import AssociationsConfig
from experiments.lab.corpus.templated.associations_vocab import (
    FEMALE_PRONOUNS,
    GENDER_TEMPLATES,
    GENDERED_NOUNS,
    GROUP_NOUNS,
    GROUP_TEMPLATES,
    GROUPS,
    MALE_PRONOUNS,
    OCCUPATIONS,
)
from experiments.lab.corpus.templated.common import capitalize, derived_rng, with_article

_FAMILY_NOUNS = tuple(pair for pair in GENDERED_NOUNS if pair[0] not in ("man", "gentleman"))


@dataclass
class AssociationStats:
    """What the segment holds, for composition.json."""

    gender_sentences: Counter[str] = field(default_factory=Counter)  # male / female
    group_sentences: Counter[str] = field(default_factory=Counter)  # per category
    dropped_probe_collisions: int = 0


def render_gender_pair(template: str, occupation: str, nouns: tuple[str, str]) -> tuple[str, str]:
    """The male and the female rendering of one template for one occupation."""
    out = []
    for pronouns, noun in ((MALE_PRONOUNS, nouns[0]), (FEMALE_PRONOUNS, nouns[1])):
        out.append(
            template.format(
                occ=occupation,
                a_occ=with_article(occupation),
                duty=OCCUPATIONS[occupation],
                N=capitalize(noun),
                n=noun,
                a_n=with_article(noun),
                A_n=capitalize(with_article(noun)),
                a_kind_n=f"a kind {noun}",
                **pronouns,
            )
        )
    return out[0], out[1]


def group_phrase(modifier: str, noun: str) -> str:
    """'an elderly neighbor' or, for post-modifiers, 'a neighbor who uses a wheelchair'."""
    if modifier.startswith("~"):
        return f"{with_article(noun)} {modifier[1:]}"
    return with_article(f"{modifier} {noun}")


def render_group(template: str, modifier: str, noun: str) -> str:
    phrase = group_phrase(modifier, noun)
    return template.format(x=phrase, X=capitalize(phrase), noun=noun, their="their")


def _pack(sentences: list[str], cfg: AssociationsConfig, rng: random.Random) -> list[str]:
    rng.shuffle(sentences)
    docs: list[str] = []
    i = 0
    low, high = cfg.sentences_per_doc
    while i < len(sentences):
        n = rng.randint(low, high)
        docs.append(" ".join(sentences[i : i + n]))
        i += n
    return docs


def association_documents(
    cfg: AssociationsConfig, seed: int, forbidden_sentences: set[str] | None = None
) -> tuple[list[str], AssociationStats]:
    """Documents of shuffled balanced sentences; a pair colliding with a probe sentence is dropped whole."""
    from experiments.lab.corpus.text_cleaning import normalized_key

    forbidden = forbidden_sentences or set()
    rng = derived_rng(seed, "associations")
    stats = AssociationStats()
    sentences: list[str] = []
    for round_index in range(cfg.gender_rounds):
        for t_index, template in enumerate(GENDER_TEMPLATES):
            pool = _FAMILY_NOUNS if "My {n}" in template or "my {n}" in template else GENDERED_NOUNS
            for occupation in OCCUPATIONS:
                nouns = pool[(t_index + round_index + len(occupation)) % len(pool)]
                male, female = render_gender_pair(template, occupation, nouns)
                if normalized_key(male) in forbidden or normalized_key(female) in forbidden:
                    stats.dropped_probe_collisions += 1
                    continue
                sentences.extend((male, female))
                stats.gender_sentences["male"] += 1
                stats.gender_sentences["female"] += 1
    for round_index in range(cfg.group_rounds):
        for t_index, template in enumerate(GROUP_TEMPLATES):
            noun = GROUP_NOUNS[(t_index + round_index) % len(GROUP_NOUNS)]
            for category, modifiers in GROUPS.items():
                rendered = [render_group(template, m, noun) for m in modifiers]
                if any(normalized_key(r) in forbidden for r in rendered):
                    stats.dropped_probe_collisions += 1
                    continue
                sentences.extend(rendered)
                stats.group_sentences[category] += len(rendered)
    return _pack(sentences, cfg, rng), stats
