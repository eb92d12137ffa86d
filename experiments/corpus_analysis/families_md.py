"""Read each family's one-line hypothesis from FAMILIES.md's summary table.

The report quotes the catalogue people read, so it parses the markdown rather
than the registry; columns are found by header name, pipes escaped as ``\\|``
stay inside their cell, and anything malformed raises naming the line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

FAMILIES_MD: Final[Path] = Path(__file__).resolve().parents[1] / "lab" / "datasets" / "FAMILIES.md"
FAMILY_HEADER: Final[str] = "family"
HYPOTHESIS_HEADER: Final[str] = "hypothesis"

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_SEPARATOR_CELL = re.compile(r"^:?-{3,}:?$")


class FamiliesMdError(ValueError):
    """FAMILIES.md has no usable family/hypothesis table."""


def split_row(line: str) -> list[str]:
    """Cells of one markdown table row: outer pipes dropped, ``\\|`` unescaped, cells stripped."""
    text = line.strip().removeprefix("|")
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return [cell.strip().replace("\\|", "|") for cell in _UNESCAPED_PIPE.split(text)]


def _is_separator(cells: list[str]) -> bool:
    return bool(cells) and all(_SEPARATOR_CELL.match(cell.replace(" ", "")) for cell in cells)


def _plain_name(cell: str) -> str:
    return cell.strip().strip("`").strip()


def parse_family_hypotheses(text: str) -> dict[str, str]:
    """family -> hypothesis, in table order, from the first table with both header columns."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if not line.lstrip().startswith("|"):
            continue
        header = [cell.lower() for cell in split_row(line)]
        if FAMILY_HEADER in header and HYPOTHESIS_HEADER in header:
            return _parse_table(lines, start, header.index(FAMILY_HEADER), header.index(HYPOTHESIS_HEADER), len(header))
    raise FamiliesMdError(
        f"no markdown table with a {FAMILY_HEADER!r} and a {HYPOTHESIS_HEADER!r} column; regenerate FAMILIES.md "
        "with `python -m experiments.lab.datasets.describe`"
    )


def _parse_table(lines: list[str], start: int, family_col: int, hypothesis_col: int, width: int) -> dict[str, str]:
    found: dict[str, str] = {}
    for number in range(start + 1, len(lines)):
        line = lines[number]
        if not line.lstrip().startswith("|"):
            break
        cells = split_row(line)
        if _is_separator(cells):
            continue
        if len(cells) != width:
            raise FamiliesMdError(f"FAMILIES.md line {number + 1}: {len(cells)} cells, the header has {width} "
                                  "(an unescaped '|' inside a cell?)")
        family, hypothesis = _plain_name(cells[family_col]), cells[hypothesis_col].strip()
        if not family or not hypothesis:
            raise FamiliesMdError(f"FAMILIES.md line {number + 1}: empty family or hypothesis cell")
        if family in found:
            raise FamiliesMdError(f"FAMILIES.md line {number + 1}: family {family!r} is listed twice")
        found[family] = hypothesis
    if not found:
        raise FamiliesMdError(f"FAMILIES.md line {start + 1}: the family table has no rows")
    return found


def read_family_hypotheses(path: str | Path = FAMILIES_MD) -> dict[str, str]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; generate it with `python -m experiments.lab.datasets.describe`")
    return parse_family_hypotheses(path.read_text(encoding="utf-8"))
