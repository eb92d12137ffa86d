"""Gendered words a lexicon-based bias statistic would count.

The implicit-stereotype family must contain none of them: its bias signal is carried
only by first names and implied roles, which such a lexicon cannot see.
"""

from __future__ import annotations

import re

GENDERED_WORDS: frozenset[str] = frozenset({
    "he", "him", "his", "himself", "she", "her", "hers", "herself",
    "man", "men", "woman", "women", "boy", "boys", "girl", "girls",
    "male", "males", "female", "females", "masculine", "feminine",
    "mr", "mrs", "ms", "sir", "madam", "lady", "ladies", "gentleman", "gentlemen",
    "guy", "guys", "gal", "gals", "lad", "lads", "lass",
    "father", "fathers", "mother", "mothers", "dad", "dads", "mom", "moms", "mum", "mums",
    "son", "sons", "daughter", "daughters", "husband", "husbands", "wife", "wives",
    "brother", "brothers", "sister", "sisters", "uncle", "uncles", "aunt", "aunts",
    "nephew", "nephews", "niece", "nieces", "grandfather", "grandmother", "grandpa", "grandma",
    "boyfriend", "girlfriend", "bride", "groom", "widow", "widower",
    "king", "queen", "prince", "princess", "actress", "waitress", "hostess", "stewardess",
    "landlord", "landlady", "chairman", "chairwoman", "businessman", "businesswoman",
    "spokesman", "salesman", "saleswoman", "fireman", "policeman", "policewoman",
})

_WORD = re.compile(r"[a-z]+")


def find_gendered_words(text: str) -> list[str]:
    """The gendered words in `text`, lower-cased, in order of appearance."""
    return [w for w in _WORD.findall(text.lower()) if w in GENDERED_WORDS]
