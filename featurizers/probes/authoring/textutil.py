"""Tiny text helpers for templates: articles and sentence capitals."""

from __future__ import annotations

_VOWEL_SOUND_EXCEPTIONS_AN = ("hour", "honest", "heir")
_VOWEL_LETTER_EXCEPTIONS_A = ("uni", "use", "uk", "eu", "one", "euro")


def article(noun_phrase: str) -> str:
    """Prefix 'a' or 'an' by the sound of the first word (good enough for our tables)."""
    lower = noun_phrase.lower()
    if lower.startswith(_VOWEL_SOUND_EXCEPTIONS_AN):
        return f"an {noun_phrase}"
    if lower.startswith(_VOWEL_LETTER_EXCEPTIONS_A):
        return f"a {noun_phrase}"
    return f"an {noun_phrase}" if lower[:1] in "aeiou" else f"a {noun_phrase}"


def cap(text: str) -> str:
    """Upper-case the first character only (keeps 'the United States' -> 'The United States')."""
    return text[:1].upper() + text[1:]
