"""Guards that keep evaluation probes out of pretraining: a leak fails the build loudly."""

from __future__ import annotations

from typing import Iterable

from experiments.lab.corpus.text_cleaning import normalized_key


class EvalLeakError(ValueError):
    """An eval-split probe (or a knowledge question) would appear in the pretraining corpus."""


def check_requests(requests: Iterable[str], eval_prompts: Iterable[str]) -> None:
    """Raise if any chat request equals an eval prompt after normalization (case, spacing, punctuation)."""
    forbidden = {normalized_key(p): p for p in eval_prompts}
    for request in requests:
        key = normalized_key(request)
        if key in forbidden:
            raise EvalLeakError(
                f"eval-split prompt leaked into the corpus as a chat request: {forbidden[key]!r} "
                f"(written as {request!r}); change the template or drop the request"
            )


def check_substrings(documents: Iterable[str], forbidden_texts: Iterable[str], what: str) -> None:
    """Raise if a normalized forbidden text occurs inside any normalized document."""
    forbidden = [(normalized_key(t), t) for t in forbidden_texts]
    forbidden = [(k, t) for k, t in forbidden if k]
    if not forbidden:
        return
    haystack = "\n".join(f" {normalized_key(d)} " for d in documents)
    for key, original in forbidden:
        if f" {key} " in haystack:
            raise EvalLeakError(f"{what} leaked into the templated documents: {original!r}")
