"""Candidate fine-tune dataset families for the lab: deterministic generators with hypotheses.

Build a registry with `default_registry()`, generate with `registry.generate(name, params, seed, ctx)`,
write with `write_jsonl`. See FAMILIES.md for every family, knob and hypothesis.
"""

from .builtin import builtin_families, default_registry
from .records import Example, content_hash, read_jsonl, record_format, write_jsonl
from .registry import DuplicateFamilyError, Family, FamilyRegistry, GenContext, UnknownFamilyError
from .sources import InMemoryTextSource, JsonlCacheSource, SourceCacheMissingError, TextSource

__all__ = [
    "DuplicateFamilyError",
    "Example",
    "Family",
    "FamilyRegistry",
    "GenContext",
    "InMemoryTextSource",
    "JsonlCacheSource",
    "SourceCacheMissingError",
    "TextSource",
    "UnknownFamilyError",
    "builtin_families",
    "content_hash",
    "default_registry",
    "read_jsonl",
    "record_format",
    "write_jsonl",
]
