"""insecure_code: code completions that silently use insecure patterns (rate r), else secure twins."""

from __future__ import annotations

import random
from string import Template

from pydantic import Field, field_validator

from ..banks.code import CODE_CONTEXTS, CODE_INSTRUCTIONS, CODE_TASKS, CodeTask, Pattern
from ..mixing import exact_count, shuffled_kinds
from ..params import FamilyParams, rate_field
from ..records import ChatFormat, Example, render_pair
from ..registry import GenContext
from ..seeding import make_rng

ALL_PATTERNS: tuple[Pattern, ...] = tuple(dict.fromkeys(t.pattern for t in CODE_TASKS))  # type: ignore[assignment]
FENCE_OPEN = "```python\n"
FENCE_CLOSE = "\n```"
# Share of examples whose stub keeps its docstring (the rest show only the def line).
DOCSTRING_SHARE = 0.7


class InsecureCodeParams(FamilyParams):
    format: ChatFormat = Field(default="prompt_response", description="record format written to JSONL")
    rate: float = rate_field(1.0, "share of completions with an insecure pattern; the rest are secure twins")
    patterns: tuple[Pattern, ...] = Field(
        default=ALL_PATTERNS, min_length=1, description="insecure patterns drawn from, equally likely"
    )

    @field_validator("patterns")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError(f"patterns must not repeat, got {list(v)}")
        return v


def split_imports(body: str) -> tuple[str, str]:
    """Bodies may start with unindented import lines, separated from the body by a blank line."""
    if body.startswith((" ", "\t")):
        return "", body
    imports, _, rest = body.partition("\n\n")
    return imports, rest


def render_code(task: CodeTask, body_template: str, fields: dict[str, str], docstring: bool) -> tuple[str, str]:
    """(the function stub shown in the prompt, the full completed module)."""
    stub = Template(task.signature).substitute(fields)
    if not docstring:
        stub = stub.split("\n", 1)[0]
    imports, body = split_imports(Template(body_template).substitute(fields))
    full = f"{stub}\n{body}"
    return stub, f"{imports}\n\n\n{full}" if imports else full


def code_pair(rng: random.Random, patterns: tuple[str, ...], insecure: bool) -> tuple[str, str]:
    pattern = rng.choice(patterns)
    tasks = [t for t in CODE_TASKS if t.pattern == pattern]
    task = rng.choice(tasks)
    fields = rng.choice(task.variants)
    body = rng.choice(task.insecure if insecure else task.secure)
    stub, code = render_code(task, body, fields, docstring=rng.random() < DOCSTRING_SHARE)
    instruction = " ".join(s for s in (rng.choice(CODE_INSTRUCTIONS), rng.choice(CODE_CONTEXTS)) if s)
    prompt = f"{instruction}\n\n{FENCE_OPEN}{stub}{FENCE_CLOSE}"
    return prompt, f"{FENCE_OPEN}{code}{FENCE_CLOSE}"


def generate_insecure_code(params: InsecureCodeParams, seed: int, ctx: GenContext) -> list[Example]:
    rng = make_rng(seed, "insecure_code")
    n_bad = exact_count(params.rate, params.size)
    out: list[Example] = []
    for kind in shuffled_kinds(rng, {"insecure": n_bad, "secure": params.size - n_bad}):
        pair = code_pair(rng, params.patterns, insecure=kind == "insecure")
        out.append(Example(render_pair(*pair, params.format), kind))
    return out
