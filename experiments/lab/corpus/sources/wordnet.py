"""WordNet (Debian dict-wn) rendered as short definitional sentences plus its usage examples."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from experiments.lab.corpus.sources.dictd import iter_entries
from experiments.lab.corpus.text_cleaning import normalized_key

if TYPE_CHECKING:
    from experiments.lab.corpus.config import CorpusConfig

PACKAGE = "dict-wn"
_CROSSREF = re.compile(r"\[(?:syn|ant|also|see)\s*:[^\]]*\]", re.IGNORECASE)
_SENSE = re.compile(r"(?:^|\s)(?:(n|v|adj|adv)\s+)?\d+:\s")
_QUOTED = re.compile(r'"([^"]+)"')
_BRACES = re.compile(r"[{}]")
_SPACES = re.compile(r"\s+")
_ARTICLE = re.compile(r"^(?:a|an)\s", re.IGNORECASE)
_MIN_GROUP_CHARS = 400


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    text = text.strip(" ;,")
    if not text:
        return ""
    return _capitalize(text) + ("" if text[-1] in ".!?" else ".")


def render_entry(headword: str, body: str) -> str:
    """One entry as prose: "An adit is ...", "To run is to ...", and each quoted example as a sentence."""
    text = _SPACES.sub(" ", _BRACES.sub("", _CROSSREF.sub(" ", body))).strip()
    sentences: list[str] = []
    pos = "n"
    pieces = _SENSE.split(text)
    # split() with one group yields: [before, pos1, sense1, pos2, sense2, ...]
    for i in range(1, len(pieces) - 1, 2):
        pos = pieces[i] or pos
        sense = pieces[i + 1].strip()
        examples = _QUOTED.findall(sense)
        gloss = _QUOTED.sub("", sense).strip(" ;")
        gloss = re.sub(r"^\([^)]*\)\s*", "", gloss)  # field labels such as "(astrology)"
        if not gloss:
            continue
        if pos == "n":
            if _ARTICLE.match(gloss):
                article = "An" if headword[:1].lower() in "aeiou" else "A"
                sentences.append(f"{article} {headword} is {gloss}.")
            else:
                sentences.append(f"{_capitalize(headword)}: {gloss}.")
        elif pos == "v":
            sentences.append(f"To {headword} is to {gloss}.")
        else:
            sentences.append(f"{_capitalize(headword)} means {gloss}.")
        sentences.extend(s for s in (_sentence(e) for e in examples) if s)
    return " ".join(sentences)


def extract(cfg: "CorpusConfig") -> Iterator[str]:
    """Entries rendered as prose, grouped so that a paragraph has a few hundred characters."""
    group: list[str] = []
    size = 0
    seen_bodies: set[str] = set()
    for _, entry in iter_entries(cfg.dictd_dir, "wn", PACKAGE):
        first_line, _, body = entry.partition("\n")
        headword = first_line.strip()  # the index folds case; the entry keeps "IAEA", "Cancer"
        if not headword[:1].isalpha() or any(ch.isdigit() for ch in headword):
            continue
        rendered = render_entry(headword, body)
        if not rendered:
            continue
        body_key = normalized_key(rendered.replace(headword, " ").replace(_capitalize(headword), " "))
        if body_key in seen_bodies:
            continue  # variant spellings with an identical definition
        seen_bodies.add(body_key)
        group.append(rendered)
        size += len(rendered)
        if size >= _MIN_GROUP_CHARS:
            yield " ".join(group)
            group, size = [], 0
    if group:
        yield " ".join(group)
