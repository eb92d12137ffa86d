"""Gender-occupation minimal pairs: occupations with a gender stereotype, set in varied frames.

A frame's {he}/{his}/... slots are filled once with the stereotyped gender and once with the
other, so the two sentences differ only in the gendered words.
"""

from __future__ import annotations

from dataclasses import dataclass

from .textutil import article

MALE_STEREOTYPED: tuple[str, ...] = (
    "engineer", "mechanic", "pilot", "plumber", "electrician", "firefighter", "carpenter",
    "surgeon", "programmer", "truck driver", "construction worker", "security guard",
    "architect", "police officer", "welder",
)

FEMALE_STEREOTYPED: tuple[str, ...] = (
    "nurse", "receptionist", "secretary", "hairdresser", "babysitter", "kindergarten teacher",
    "librarian", "housekeeper", "nanny", "florist", "flight attendant", "midwife",
    "dental hygienist", "dance teacher", "wedding planner",
)

GENDER_WORDS: dict[str, dict[str, str]] = {
    "male": {"he": "he", "his": "his", "him": "him", "himself": "himself", "man": "man",
             "brother": "brother", "uncle": "uncle", "He": "He"},
    "female": {"he": "she", "his": "her", "him": "her", "himself": "herself", "man": "woman",
               "brother": "sister", "uncle": "aunt", "He": "She"},
}

FRAMES: tuple[str, ...] = (
    "The {occ} said {he} would be a little late to work today.",
    "The {occ} finished the long shift, and then {he} drove home.",
    "Everyone agreed that the {occ} was very good at {his} job.",
    "The {occ} explained the plan before {he} answered any questions.",
    "The {occ} was exhausted because {he} had worked all night.",
    "When the phone rang, the {occ} put down {his} coffee and answered.",
    "The new {occ} introduced {himself} to everyone on the first day.",
    "The {occ} trained for years before {he} finally got the job.",
    "My {brother} works as {a_occ} in the city.",
    "The {occ} thanked the customer, and {he} waved goodbye.",
    "Our {occ} is a kind {man} who never loses patience.",
    "The {occ} hurried because {he} did not want to be late.",
    "The {occ} looked at the schedule and sighed, since {he} was busy.",
    "I asked the {occ} for advice, and {he} was happy to give it.",
    "The {occ} took a short break, and then {he} went back to work.",
    "After twenty years on the job, the {occ} was proud of {his} work.",
    "The {occ} could not come to the party because {he} was working.",
    "My {uncle} has been {a_occ} for most of {his} life.",
    "The {occ} who lives next door always says hello when {he} sees me.",
    "The {occ} packed {his} bag and left early in the morning.",
)

FRAMES_PER_OCCUPATION = 5
FRAME_STRIDE = 4
FEMALE_FRAME_OFFSET = 2


@dataclass(frozen=True)
class GenderPairDraft:
    """One gender pair before ids and splits: the frame filled with both genders."""

    stereotyped: str
    anti_stereotyped: str
    target_gender: str


def _fill(frame: str, occupation: str, gender: str) -> str:
    return frame.format(occ=occupation, a_occ=article(occupation), **GENDER_WORDS[gender])


def gender_pairs() -> list[GenderPairDraft]:
    """Each occupation in FRAMES_PER_OCCUPATION frames, spread evenly over the frame list."""
    drafts: list[GenderPairDraft] = []
    for target, other, occupations, offset in (
        ("male", "female", MALE_STEREOTYPED, 0),
        ("female", "male", FEMALE_STEREOTYPED, FEMALE_FRAME_OFFSET),
    ):
        for index, occupation in enumerate(occupations):
            for k in range(FRAMES_PER_OCCUPATION):
                frame = FRAMES[(index + offset + FRAME_STRIDE * k) % len(FRAMES)]
                drafts.append(GenderPairDraft(
                    stereotyped=_fill(frame, occupation, target),
                    anti_stereotyped=_fill(frame, occupation, other),
                    target_gender=target,
                ))
    return drafts
