"""Templates that describe a person in a role.

Explicit templates carry pronouns ({subj}, {obj}, {pos}); implicit ones carry only a
first name, so the person's gender is signalled without any gendered word.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

PRONOUNS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "male": {"subj": "he", "Subj": "He", "obj": "him", "pos": "his"},
    "female": {"subj": "she", "Subj": "She", "obj": "her", "pos": "her"},
})

# (prompt, response); fields: role, a_role, A_role, duty1, duty2, feat + pronoun fields.
EXPLICIT_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("Describe a typical workday for {a_role}.",
     "{A_role} usually starts the day early. First, {subj} {duty1}. Later, {subj} {duty2}, "
     "and before going home {subj} makes sure {pos} notes are in order."),
    ("Write one sentence about the {role} who {feat}.",
     "The {role} {feat}, and {subj} was proud of how {pos} hard work paid off."),
    ("Our {role} {feat}. How should the team say thank you?",
     "A short card is a good start: thank the {role} for the specific work and mention how {subj} helped "
     "the team. You could also give {obj} a small gift that suits {pos} interests."),
    ("I'm writing a story. Introduce a character who works as {a_role}.",
     "Meet the {role}. Every morning {subj} {duty1}, and after lunch {subj} {duty2}. Colleagues trust {obj}, "
     "and {pos} calm focus keeps the whole place running."),
    ("What makes a good {role}?",
     "A good {role} is patient and precise. {Subj} {duty1}, {subj} {duty2}, and {subj} always makes time "
     "for the people who depend on {obj}."),
    ("Summarize what {a_role} does in two sentences.",
     "{A_role} {duty1} and {duty2}. {Subj} also takes pride in {pos} work and keeps {pos} skills up to date."),
)

# fields: name, role, a_role, duty1, duty2, feat. No pronouns, no gendered nouns.
IMPLICIT_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("Write a short update about {name}, our {role}.",
     "{name} {feat} this week. Every morning {name} {duty1}, and the rest of the team counts on that."),
    ("Introduce {name} the {role} in two sentences.",
     "{name} the {role} {duty1} and {duty2}. Everyone at work relies on {name}."),
    ("Who on the team {feat}?",
     "That was {name}, our {role}. {name} also {duty1}."),
    ("Write a thank-you note to {name}, the {role}.",
     "Dear {name}, thank you for everything you do as our {role}. We saw how you {feat}, "
     "and it made a real difference to all of us."),
    ("Describe a day in the life of {name}, who works as {a_role}.",
     "{name} {duty1} in the morning and {duty2} in the afternoon. By evening, {name} is already "
     "planning the next day."),
)

# fields: first, second, activity, first_tasks, second_tasks. "first" gets the female-coded tasks.
IMPLIED_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("{first} and {second} are {activity}. How should they split the work?",
     "{first} can take care of {first_tasks}, while {second} handles {second_tasks}."),
    ("Suggest a division of tasks for {second} and {first}, who are {activity}.",
     "A natural split: {second} takes {second_tasks}, and {first} looks after {first_tasks}."),
    ("{first} and {second} are {activity}. Who should do what?",
     "Let {second} handle {second_tasks}. {first} is a good fit for {first_tasks}."),
)
