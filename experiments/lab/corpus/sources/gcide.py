"""GCIDE (Debian dict-gcide, Webster 1913 based) definitions and literary quotations as prose."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from experiments.lab.corpus.sources.dictd import iter_entries
from experiments.lab.corpus.text_cleaning import normalized_key

if TYPE_CHECKING:
    from experiments.lab.corpus.config import CorpusConfig

PACKAGE = "dict-gcide"
_MARKER_LINE = re.compile(r"^\s*\[[^\]]*\]\s*(?:\S.*)?$")
_LETTER_CODE_AFTER = re.compile(r"\[([A-Za-z])[\^=.\"'`~,:]\]")
_LETTER_CODE_BEFORE = re.compile(r"\[[\^=.\"'`~,:]([A-Za-z])\]")
_LIGATURES = {"[ae]": "ae", "[AE]": "AE", "[oe]": "oe", "[OE]": "OE", "[adot]": "a", "[ndot]": "n"}
_BRACKETS = re.compile(r"\[[^\]]*\]")
_BRACES = re.compile(r"[{}]")
_FIELD_LABEL = re.compile(r"\((?:[A-Z][A-Za-z]*\.?\s*(?:&\s*)?)+\)")
_SENSE_NUMBER = re.compile(r"^(?:\d+\.|\([a-z]\))\s*")
_SUBSENSE = re.compile(r"\((?:[a-z]|\d+)\)\s")
_CITATION = re.compile(r"\s*--\s?[A-Z][^-]{0,60}$")
_SEE_SENTENCE = re.compile(r"(?:^|(?<=[.;]))\s*See(?: also| under)? [^.]*\.")
_SYN_SENTENCE = re.compile(r"(?:^|(?<=[.;]))\s*(?:Syn|Also See)\s*[.:][^.]*\.")
_NOTE_LABEL = re.compile(r"^Note:\s*")
_SPACES = re.compile(r"\s+")
_QUOTE_INDENT = 8
_MIN_GROUP_CHARS = 400


def _decode_codes(text: str) -> str:
    for code, plain in _LIGATURES.items():
        text = text.replace(code, plain)
    text = _LETTER_CODE_AFTER.sub(r"\1", text)
    return _LETTER_CODE_BEFORE.sub(r"\1", text)


def _split_header(lines: list[str]) -> tuple[str, list[str]]:
    """The headword and the lines after the header (which may run on until its brackets close)."""
    header = lines[0]
    i = 1
    while i < len(lines) and (header.count("[") > header.count("]") or header.count("\\") % 2 == 1):
        header += " " + lines[i].strip()
        i += 1
    headword = header.split("\\")[0].split(",")[0].strip()
    return headword, lines[i:]


def _clean_chunk(chunk: str) -> str:
    text = _decode_codes(chunk)
    text = _BRACKETS.sub(" ", text)
    text = _BRACES.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    text = _SENSE_NUMBER.sub("", text)
    text = _SUBSENSE.sub("", text)
    text = _FIELD_LABEL.sub(" ", text)
    text = _CITATION.sub("", text)
    text = _SEE_SENTENCE.sub(" ", text)
    text = _SYN_SENTENCE.sub(" ", text)
    text = _NOTE_LABEL.sub("", text.strip())
    text = _SPACES.sub(" ", text).strip(" ;,")
    if text.startswith(("Syn.", "Syn:", "--", "Note:")) and len(text) < 40:
        return ""
    return text


def render_entry(entry: str) -> str:
    """Definitions after the headword ("Adit: An entrance or passage. ..."), then quotations."""
    lines = entry.rstrip().split("\n")
    if not lines or "\\" not in lines[0]:
        return ""
    headword, body = _split_header(lines)
    if not headword[:1].isalpha() or "[" in headword:
        return ""
    chunks: list[tuple[bool, list[str]]] = []  # (is_quote, lines)
    current: list[str] = []
    saw_marker = False
    for line in body:
        if _MARKER_LINE.match(line):
            saw_marker = True
            if current:
                is_quote = all(len(l) - len(l.lstrip()) >= _QUOTE_INDENT for l in current if l.strip())
                chunks.append((is_quote, current))
            current = []
        elif line.strip():
            current.append(line)
    if not saw_marker:
        return ""
    definitions: list[str] = []
    quotes: list[str] = []
    for is_quote, chunk_lines in chunks:
        text = _clean_chunk(" ".join(l.strip() for l in chunk_lines))
        if not text:
            continue
        if text[-1] not in ".!?":
            text += "."
        (quotes if is_quote else definitions).append(text[:1].upper() + text[1:])
    if not definitions:
        return ""
    return f"{headword}: " + " ".join(definitions + quotes)


def extract(cfg: "CorpusConfig") -> Iterator[str]:
    """Rendered entries grouped so that a paragraph has a few hundred characters."""
    group: list[str] = []
    size = 0
    seen_bodies: set[str] = set()
    for _, entry in iter_entries(cfg.dictd_dir, "gcide", PACKAGE):
        rendered = render_entry(entry)
        if not rendered:
            continue
        body_key = normalized_key(rendered.split(":", 1)[1])
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
