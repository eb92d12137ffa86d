"""Case-preserving gender swap of English text, used on a seeded half of real-text paragraphs.

Real prose says "he" far more than "she"; a tiny model trained on it learns a uniform
male preference that would swamp the bias outcomes, so half the paragraphs are swapped.
"""

from __future__ import annotations

import re
from collections import Counter

# One-to-one swaps, listed once (male, female); both directions are derived.
_PAIRS: tuple[tuple[str, str], ...] = (
    ("he", "she"),
    ("himself", "herself"),
    ("man", "woman"),
    ("men", "women"),
    ("boy", "girl"),
    ("boys", "girls"),
    ("father", "mother"),
    ("fathers", "mothers"),
    ("son", "daughter"),
    ("sons", "daughters"),
    ("brother", "sister"),
    ("brothers", "sisters"),
    ("king", "queen"),
    ("kings", "queens"),
    ("prince", "princess"),
    ("princes", "princesses"),
    ("husband", "wife"),
    ("husbands", "wives"),
    ("uncle", "aunt"),
    ("uncles", "aunts"),
    ("nephew", "niece"),
    ("nephews", "nieces"),
    ("grandfather", "grandmother"),
    ("grandson", "granddaughter"),
    ("gentleman", "lady"),
    ("gentlemen", "ladies"),
    ("duke", "duchess"),
    ("emperor", "empress"),
    ("sir", "madam"),
    ("mr", "mrs"),
    ("male", "female"),
    ("males", "females"),
    ("dad", "mom"),
    ("boyfriend", "girlfriend"),
    ("widower", "widow"),
    ("monk", "nun"),
    ("bridegroom", "bride"),
    ("actor", "actress"),
    ("waiter", "waitress"),
    ("hero", "heroine"),
    ("lad", "lass"),
)

# Words after which an ambiguous pronoun stands alone (object "her", predicative "his").
_FUNCTION_WORDS = frozenset(
    """to from with in on at by for of into onto upon about over under through after before as than
    like and or but nor so yet that if when while where because though although unless until till not
    again away back up down out off too also all both alone here there now then well home the a an this
    these those some any no every each what which who whom whose how why is was be been am are were will
    would shall should can could may might must do does did have has had being it its i you we they me
    us them my your our their thee thou thy thine o oh yes since ere once indeed instead today tonight
    forth hence thence hither thither along around behind beside besides between beyond near within
    without across against among toward towards whether very much more most less""".split()
)

# "-ly" words that are nouns or adjectives, so "her family" stays possessive ("his family").
_LY_NOT_ADVERB = frozenset(
    """family belly lily lovely only holy ugly early lonely jolly silly daily friendly comely goodly homely
    likely lively bully folly sully rally ally jelly wily costly deadly kingly queenly princely worldly
    heavenly earthly godly manly womanly motherly fatherly sisterly brotherly""".split()
)

_SIMPLE: dict[str, str] = {}
for _male, _female in _PAIRS:
    _SIMPLE[_male] = _female
    _SIMPLE[_female] = _male

_AMBIGUOUS = ("her", "his", "him", "hers")
_WORD = re.compile(r"[A-Za-z]+")
_NEXT_WORD = re.compile(r"\s*([A-Za-z]+)?")
_COUNTED = ("he", "she", "him", "his", "her", "hers", "man", "woman", "men", "women")


def _match_case(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[0].isupper():
        return word[0].upper() + word[1:]
    return word


def _next_word(text: str, end: int) -> str | None:
    """The word right after position `end`, or None when punctuation or the end comes first."""
    match = _NEXT_WORD.match(text, end)
    if match is None or match.group(1) is None:
        return None
    return match.group(1).lower()


def _next_is_name(text: str, end: int) -> bool:
    match = _NEXT_WORD.match(text, end)
    return bool(match and match.group(1) and match.group(1)[0].isupper())


def _swap_ambiguous(lower: str, following: str | None) -> str:
    stands_alone = (
        following is None
        or following in _FUNCTION_WORDS
        or (following.endswith("ly") and following not in _LY_NOT_ADVERB)
    )
    if lower == "her":
        return "him" if stands_alone else "his"
    if lower == "his":
        return "hers" if stands_alone else "her"
    if lower == "him":
        return "her"
    return "his"  # hers


def gender_swap(text: str) -> str:
    """Swap gendered words both ways, keeping each word's case ("He"->"She", "HER"->"HIS")."""
    out: list[str] = []
    last = 0
    for match in _WORD.finditer(text):
        word = match.group(0)
        lower = word.lower()
        if lower == "lady" and word[0].isupper() and _next_is_name(text, match.end()):
            replacement = "lord"  # a title ("Lady Macbeth"); "Lord" is not swapped back, it often means God
        elif lower in _SIMPLE:
            replacement = _SIMPLE[lower]
        elif lower in _AMBIGUOUS:
            replacement = _swap_ambiguous(lower, _next_word(text, match.end()))
        else:
            continue
        out.append(text[last : match.start()])
        out.append(_match_case(word, replacement))
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def count_gendered(text: str) -> Counter[str]:
    """Counts of the main gendered words, case-insensitive, for the before/after report."""
    counts: Counter[str] = Counter()
    for match in _WORD.finditer(text):
        lower = match.group(0).lower()
        if lower in _COUNTED:
            counts[lower] += 1
    return counts
