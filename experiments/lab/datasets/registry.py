"""The typed family registry: name -> (params model, generator, hypothesis).

Registering a name twice is an error; an unknown name suggests near names. A fresh
registry is built by `builtin.default_registry()`; there is no module-level registry.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from .exclusions import load_excluded_prompts
from .params import FamilyParams
from .records import Example, record_format
from .sources import JsonlCacheSource, TextSource

P = TypeVar("P", bound=FamilyParams)

_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_SUGGESTIONS = 3
_SUGGESTION_CUTOFF = 0.6


class DuplicateFamilyError(ValueError):
    """A family name registered twice."""


class UnknownFamilyError(LookupError):
    """A family name not in the registry; the message suggests near names."""


@dataclass(frozen=True)
class GenContext:
    """What generators may read besides their params and seed: injected, never global."""

    source: TextSource = field(default_factory=JsonlCacheSource)
    excluded_prompts: frozenset[str] = frozenset()
    registry: "FamilyRegistry | None" = None

    @classmethod
    def from_repo(cls, source: TextSource | None = None) -> "GenContext":
        """Cache source at its default path; probe safety and role prompts excluded, if present."""
        return cls(
            source=source if source is not None else JsonlCacheSource(),
            excluded_prompts=load_excluded_prompts(),
        )


@dataclass(frozen=True)
class Family(Generic[P]):
    """A dataset family: a deterministic `(params, seed) -> examples` with a stated hypothesis."""

    name: str
    hypothesis: str
    params_model: type[P]
    generator: Callable[[P, int, GenContext], list[Example]]
    uses_text_sources: bool = False

    def parse_params(self, raw: Mapping[str, Any] | FamilyParams | None) -> P:
        """Validate knobs; the error names the family and the offending field."""
        if isinstance(raw, self.params_model):
            return raw
        data = raw.model_dump() if isinstance(raw, FamilyParams) else dict(raw or {})
        try:
            return self.params_model.model_validate(data)
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(params)'}: {e['msg']}" for e in err.errors())
            knobs = ", ".join(self.params_model.model_fields)
            raise ValueError(f"invalid params for family {self.name!r}: {problems} (knobs: {knobs})") from err

    def generate(
        self, params: Mapping[str, Any] | FamilyParams | None, seed: int, ctx: GenContext
    ) -> list[Example]:
        parsed = self.parse_params(params)
        examples = self.generator(parsed, seed, ctx)
        if len(examples) != parsed.size:
            raise RuntimeError(f"family {self.name!r} made {len(examples)} examples, expected size={parsed.size}")
        for i, ex in enumerate(examples, start=1):
            record_format(ex.record, where=f"family {self.name!r} example {i}")
        return examples


class FamilyRegistry:
    """Families by name. Holds no data beyond the families registered on this instance."""

    def __init__(self) -> None:
        self._families: dict[str, Family[Any]] = {}

    def register(self, family: Family[Any]) -> Family[Any]:
        if not _NAME_PATTERN.match(family.name):
            raise ValueError(f"family name {family.name!r} must be snake_case ([a-z][a-z0-9_]*)")
        if family.name in self._families:
            raise DuplicateFamilyError(f"family {family.name!r} is already registered")
        hyp = family.hypothesis.strip()
        if not hyp or "\n" in hyp:
            raise ValueError(f"family {family.name!r}: hypothesis must be one non-empty line")
        if "size" not in family.params_model.model_fields:
            raise ValueError(f"family {family.name!r}: params model must derive from FamilyParams")
        self._families[family.name] = family
        return family

    def get(self, name: str) -> Family[Any]:
        try:
            return self._families[name]
        except KeyError:
            near = difflib.get_close_matches(name, list(self._families), n=_SUGGESTIONS, cutoff=_SUGGESTION_CUTOFF)
            hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
            raise UnknownFamilyError(
                f"unknown dataset family {name!r}{hint} (known: {', '.join(sorted(self._families))})"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._families)

    def __contains__(self, name: object) -> bool:
        return name in self._families

    def __iter__(self) -> Iterator[Family[Any]]:
        """Families in registration order (the order of the catalogue)."""
        return iter(list(self._families.values()))

    def __len__(self) -> int:
        return len(self._families)

    def generate(
        self,
        name: str,
        params: Mapping[str, Any] | FamilyParams | None,
        seed: int,
        ctx: GenContext | None = None,
    ) -> list[Example]:
        """Generate family `name`; the context gets this registry so mixtures can find their base."""
        ctx = ctx if ctx is not None else GenContext.from_repo()
        return self.get(name).generate(params, seed, replace(ctx, registry=self))
