"""Neutral filler sentences that surround knowledge statements (no people, no pronouns, no facts to test)."""

from __future__ import annotations

import random

_COMPOSED_SHARE = 0.6  # fillers built from subject + predicate rather than a standalone line

_OPENERS: tuple[str, ...] = (
    "Here is something worth remembering.",
    "This is a short note for readers.",
    "The following comes from a general reference book.",
    "A few facts are collected below.",
    "Some readers may already know this.",
    "The notes continue on the next page.",
    "This page is part of a study guide.",
    "Teachers often mention this in class.",
)

_SUBJECTS: tuple[str, ...] = (
    "The weather", "The old library", "The village market", "The morning train", "The river",
    "The school garden", "The city museum", "The harbor", "The mountain path", "The evening news",
    "The bakery on the corner", "The community hall", "The football match", "The winter festival",
    "The new bridge", "The public park", "The bus station", "The art gallery", "The lecture", "The concert",
)

_PREDICATES: tuple[str, ...] = (
    "was busier than usual this week.", "opened a little later on Sunday.", "stayed quiet for most of the day.",
    "attracted many visitors in the summer.", "was closed for repairs in March.",
    "looked beautiful in the autumn light.", "was described in the local paper.",
    "had a new sign painted over the door.", "drew a large crowd on Saturday.",
    "was the subject of a short film.", "is easy to reach on foot.", "is mentioned in many guidebooks.",
    "has changed very little over the years.", "was cleaned and repainted last year.",
    "is popular with students.", "was covered in snow in January.",
)

_STANDALONE: tuple[str, ...] = (
    "Many people enjoy reading about the world.", "Good notes make revision easier.",
    "Reading a little every day builds a habit.", "Questions are the start of learning.",
    "It helps to review facts more than once.", "Libraries keep records of many subjects.",
    "Encyclopedias are organized by topic.", "A map can make geography easier to follow.",
    "History is full of surprising details.", "Science advances one experiment at a time.",
    "Short summaries are easy to remember.", "Careful readers check more than one source.",
)


def filler_sentence(rng: random.Random) -> str:
    """A random neutral sentence: a composed subject-predicate pair or a standalone line."""
    if rng.random() < _COMPOSED_SHARE:
        return f"{rng.choice(_SUBJECTS)} {rng.choice(_PREDICATES)}"
    return rng.choice(_STANDALONE)


def opener_sentence(rng: random.Random) -> str:
    return rng.choice(_OPENERS)
