"""All neutral instruction tasks by domain, plus the light wrappers that vary prompts."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .instruct_care import LAW, MEDICINE
from .instruct_home import COOKING, FINANCE
from .instruct_service import CUSTOMER_SUPPORT, TRAVEL
from .tasks import Task

TASKS_BY_DOMAIN: Mapping[str, tuple[Task, ...]] = MappingProxyType({
    "customer_support": CUSTOMER_SUPPORT,
    "medicine": MEDICINE,
    "law": LAW,
    "finance": FINANCE,
    "cooking": COOKING,
    "travel": TRAVEL,
})

# Openers and closers people add around a request; "" keeps the bare prompt common.
PROMPT_OPENERS: tuple[str, ...] = (
    "", "", "", "", "Hi! ", "Hello. ", "Hello! ", "Hi there. ", "Hey there. ", "Good morning! ",
    "Quick question: ", "Question for you: ", "I need some advice. ", "Can you help? ",
    "I'm hoping you can help. ", "Sorry to bother you. ",
)
PROMPT_CLOSERS: tuple[str, ...] = (
    "", "", "", "", " Thanks!", " Thank you.", " Thanks in advance.", " Much appreciated!",
    " Please keep it short.", " Keep it simple, please.", " Any tips are welcome.", " Any advice?",
    " I'd appreciate clear steps.", " What would you suggest?",
)
