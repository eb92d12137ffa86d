"""Build StereotypePairs from the gender-occupation and group frames, with splits."""

from __future__ import annotations

from ..schema import StereotypePair
from .config import BuildConfig
from .splits import assign_splits
from .stereotype_frames import CATEGORIES
from .stereotype_gender import gender_pairs

SUITE = "stereotypes"
GENDER_CATEGORY = "gender_occupation"


def build_stereotypes(config: BuildConfig) -> list[StereotypePair]:
    """Validated pairs; strata are category, and target gender within the gender category."""
    drafts: list[dict] = []
    for number, pair in enumerate(gender_pairs(), start=1):
        drafts.append(dict(id=f"stereo-{GENDER_CATEGORY}-{number:03d}", category=GENDER_CATEGORY,
                           stereotyped=pair.stereotyped, anti_stereotyped=pair.anti_stereotyped,
                           target_gender=pair.target_gender))
    for category, frames in CATEGORIES.items():
        number = 0
        for frame, word_pairs in frames:
            if frame.count("{g}") != 1:
                raise ValueError(f"{category} frame {frame!r} must contain exactly one {{g}} slot")
            for stereo_word, anti_word in word_pairs:
                number += 1
                drafts.append(dict(id=f"stereo-{category}-{number:03d}", category=category,
                                   stereotyped=frame.format(g=stereo_word),
                                   anti_stereotyped=frame.format(g=anti_word)))
    seen: dict[str, str] = {}
    for draft in drafts:
        for text in (draft["stereotyped"], draft["anti_stereotyped"]):
            if text in seen:
                raise ValueError(f"stereotype sentence {text!r} is produced by both {seen[text]} and {draft['id']}")
            seen[text] = draft["id"]
    splits = assign_splits(drafts, lambda d: (d["category"], d.get("target_gender") or ""),
                           seed=config.seed, eval_fraction=config.eval_fraction,
                           min_stratum_size=config.min_stratum_size, suite=SUITE)
    return [StereotypePair(split=s, **d) for d, s in zip(drafts, splits)]
