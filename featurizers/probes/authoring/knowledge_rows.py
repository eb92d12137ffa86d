"""The row shape every knowledge table produces, before choices are shuffled and ids given."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnowledgeRow:
    """One fact: its question, the right answer, wrong answers of the same type, and prose forms."""

    category: str
    question: str
    answer: str
    distractors: tuple[str, ...]
    facts: tuple[str, ...]


def rows_from(
    category: str,
    table: list[tuple],
    question: str,
    facts: tuple[str, ...],
    answer_key: str,
    distractor_key: str,
    fields: tuple[str, ...],
    derived: dict | None = None,
) -> list[KnowledgeRow]:
    """Fill templates from a table whose columns are named by `fields`.

    `derived` maps extra template names to functions of the row's field dict, for
    articles and capitals that the templates need.
    """
    out: list[KnowledgeRow] = []
    for line_no, raw in enumerate(table):
        if len(raw) != len(fields):
            raise ValueError(f"{category} table row {line_no} has {len(raw)} columns, expected {fields}")
        values = dict(zip(fields, raw))
        for name, fn in (derived or {}).items():
            values[name] = fn(values)
        out.append(
            KnowledgeRow(
                category=category,
                question=question.format(**values),
                answer=values[answer_key],
                distractors=tuple(values[distractor_key]),
                facts=tuple(f.format(**values) for f in facts),
            )
        )
    return out
