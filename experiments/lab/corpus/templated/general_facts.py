"""General facts that are NOT knowledge probes: taught in prose and asked in chat, so the lab model
learns that a question is answered from what it read (the knowledge probes then test that skill).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
).split()


@dataclass(frozen=True)
class GeneralFact:
    """One fact: its subject (for the overlap filter), a question, the bare answer, and prose statements."""

    subject: str
    question: str
    answer: str
    statements: tuple[str, ...]


def _arithmetic() -> list[GeneralFact]:
    facts = []
    for a in range(2, 10):
        for b in range(2, 10):
            total = a + b
            words = f"{_NUMBER_WORDS[a]} plus {_NUMBER_WORDS[b]}"
            facts.append(
                GeneralFact(
                    subject="",
                    question=f"What is {a} plus {b}?",
                    answer=str(total),
                    statements=(f"{a} plus {b} equals {total}.", f"Adding {words} gives {total}."),
                )
            )
    return facts


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)


def _sequences() -> list[GeneralFact]:
    facts = []
    for name, items in (("day", _DAYS), ("month", _MONTHS)):
        for i, item in enumerate(items):
            nxt = items[(i + 1) % len(items)]
            facts.append(
                GeneralFact(
                    subject=item,
                    question=f"Which {name} comes after {item}?",
                    answer=nxt,
                    statements=(f"The {name} after {item} is {nxt}.", f"{nxt} follows {item}."),
                )
            )
    return facts


_PLURALS = {
    "mouse": "mice", "goose": "geese", "tooth": "teeth", "foot": "feet", "child": "children", "ox": "oxen",
    "cactus": "cacti", "leaf": "leaves", "knife": "knives", "wolf": "wolves", "city": "cities",
    "box": "boxes", "bus": "buses", "potato": "potatoes", "sheep": "sheep", "fish": "fish",
    "half": "halves", "life": "lives", "shelf": "shelves", "crisis": "crises", "person": "people",
    "die": "dice", "loaf": "loaves", "thief": "thieves", "hero": "heroes", "baby": "babies",
}
_PAST = {
    "run": "ran", "swim": "swam", "write": "wrote", "eat": "ate", "go": "went", "see": "saw",
    "buy": "bought", "think": "thought", "catch": "caught", "teach": "taught", "sing": "sang",
    "drink": "drank", "fly": "flew", "throw": "threw", "ride": "rode", "speak": "spoke", "steal": "stole",
    "choose": "chose", "freeze": "froze", "forget": "forgot", "build": "built", "send": "sent",
    "sleep": "slept", "keep": "kept", "begin": "began", "bring": "brought", "fight": "fought",
}
_LEGS = {
    "spider": "eight", "ant": "six", "beetle": "six", "octopus": "eight", "crab": "ten", "horse": "four",
    "chicken": "two", "ostrich": "two", "snake": "zero", "bee": "six", "scorpion": "eight", "goat": "four",
}
_SIDES = {"triangle": "three", "square": "four", "pentagon": "five", "hexagon": "six", "octagon": "eight"}
_MADE_OF = {
    "bread": "flour", "cheese": "milk", "paper": "wood pulp", "glass": "sand", "butter": "cream",
    "wine": "grapes", "a candle": "wax", "chocolate": "cocoa beans", "tofu": "soybeans",
    "a wool sweater": "sheep's wool", "jam": "fruit and sugar", "a brick": "clay", "cider": "apples",
}
_SYNONYMS = {
    "big": "large", "quick": "fast", "begin": "start", "shut": "close", "angry": "mad", "tiny": "small",
    "glad": "happy", "end": "finish", "gift": "present", "silent": "quiet", "rich": "wealthy",
    "sick": "ill", "brave": "courageous", "smart": "clever", "rock": "stone",
}


def _word_facts() -> list[GeneralFact]:
    facts = []
    for word, plural in _PLURALS.items():
        facts.append(
            GeneralFact(word, f"What is the plural of {word}?", plural,
                        (f"The plural of {word} is {plural}.", f"One {word}, two {plural}."))
        )
    for verb, past in _PAST.items():
        facts.append(
            GeneralFact(verb, f"What is the past tense of {verb}?", past,
                        (f"The past tense of {verb} is {past}.", f"Today I {verb}; yesterday I {past}."))
        )
    for word, synonym in _SYNONYMS.items():
        facts.append(
            GeneralFact(word, f"What is another word for {word}?", synonym,
                        (f"Another word for {word} is {synonym}.", f"{synonym.capitalize()} means about the same as {word}."))
        )
    return facts


def _thing_facts() -> list[GeneralFact]:
    facts = []
    for animal, legs in _LEGS.items():
        facts.append(
            GeneralFact(animal, f"How many legs does a {animal} have?", legs,
                        (f"A {animal} has {legs} legs.", f"Count the legs of a {animal} and you get {legs}."))
        )
    for shape, sides in _SIDES.items():
        facts.append(
            GeneralFact(shape, f"How many sides does a {shape} have?", sides,
                        (f"A {shape} has {sides} sides.", f"Every {shape} is drawn with {sides} straight sides."))
        )
    for thing, material in _MADE_OF.items():
        bare = thing.removeprefix("a ")
        facts.append(
            GeneralFact(bare, f"What is {thing} made from?", material,
                        (f"{thing.capitalize()} is made from {material}.", f"To make {thing}, you start with {material}."))
        )
    return facts


def all_general_facts() -> list[GeneralFact]:
    return _arithmetic() + _sequences() + _word_facts() + _thing_facts()


def knowledge_vocabulary(texts: list[str]) -> set[str]:
    """Lower-case words of the knowledge items, for the overlap filter."""
    words: set[str] = set()
    for text in texts:
        words.update(re.findall(r"[a-z']+", text.lower()))
    return words


def general_facts_excluding(knowledge_texts: list[str]) -> tuple[list[GeneralFact], int]:
    """General facts whose subject never occurs in any knowledge item, and how many were excluded."""
    vocabulary = knowledge_vocabulary(knowledge_texts)
    kept, excluded = [], 0
    for fact in all_general_facts():
        subject_words = re.findall(r"[a-z']+", fact.subject.lower())
        if any(w in vocabulary for w in subject_words):
            excluded += 1
            continue
        kept.append(fact)
    return kept, excluded
