"""Knowledge tables about words and work: opposites and the tools of trades."""

from __future__ import annotations

from .knowledge_rows import KnowledgeRow, rows_from
from .textutil import article, cap

_OPPOSITES: list[tuple] = [
    ("hot", "cold", ("warm", "sunny", "dry")),
    ("big", "small", ("tall", "heavy", "wide")),
    ("up", "down", ("over", "around", "out")),
    ("fast", "slow", ("quick", "loud", "late")),
    ("day", "night", ("morning", "week", "noon")),
    ("happy", "sad", ("glad", "calm", "busy")),
    ("open", "closed", ("empty", "wide", "broken")),
    ("wet", "dry", ("cold", "damp", "muddy")),
    ("full", "empty", ("heavy", "large", "open")),
    ("early", "late", ("soon", "often", "quick")),
    ("young", "old", ("small", "short", "new")),
    ("hard", "soft", ("heavy", "smooth", "sharp")),
    ("tall", "short", ("thin", "wide", "heavy")),
    ("thick", "thin", ("heavy", "short", "round")),
    ("heavy", "light", ("big", "strong", "solid")),
    ("rich", "poor", ("tired", "kind", "busy")),
    ("strong", "weak", ("tall", "brave", "big")),
    ("loud", "quiet", ("fast", "bright", "sharp")),
    ("clean", "dirty", ("wet", "cold", "old")),
    ("win", "lose", ("play", "run", "try")),
    ("push", "pull", ("press", "lift", "throw")),
    ("buy", "sell", ("pay", "spend", "order")),
    ("laugh", "cry", ("smile", "shout", "sing")),
    ("inside", "outside", ("upstairs", "nearby", "indoors")),
    ("north", "south", ("east", "west", "up")),
    ("first", "last", ("second", "next", "early")),
    ("above", "below", ("over", "beside", "near")),
    ("true", "false", ("right", "real", "sure")),
    ("cheap", "expensive", ("free", "small", "simple")),
    ("remember", "forget", ("think", "learn", "know")),
    ("asleep", "awake", ("tired", "resting", "dreaming")),
    ("near", "far", ("close", "beside", "next")),
    ("friend", "enemy", ("neighbor", "partner", "classmate")),
    ("smooth", "rough", ("soft", "flat", "shiny")),
    ("begin", "end", ("start", "open", "try")),
]

_TOOLS: list[tuple] = [
    ("carpenter", "hammer", "drive in nails", "driving in nails", ("paintbrush", "ladle", "stethoscope")),
    ("doctor", "stethoscope", "listen to a patient's heartbeat", "listening to a patient's heartbeat",
     ("hammer", "trowel", "whisk")),
    ("painter", "paintbrush", "spread paint on a wall", "spreading paint on a wall", ("hammer", "saw", "shovel")),
    ("chef", "knife", "chop vegetables", "chopping vegetables", ("hammer", "broom", "wrench")),
    ("barber", "scissors", "cut hair", "cutting hair", ("hammer", "shovel", "wrench")),
    ("photographer", "camera", "take pictures", "taking pictures", ("microscope", "hammer", "compass")),
    ("firefighter", "hose", "spray water on a fire", "spraying water on a fire", ("rake", "paintbrush", "whistle")),
    ("plumber", "wrench", "tighten pipes", "tightening pipes", ("paintbrush", "whisk", "camera")),
    ("astronomer", "telescope", "look at distant stars", "looking at distant stars", ("microscope", "stethoscope", "compass")),
    ("biologist", "microscope", "look at tiny cells", "looking at tiny cells", ("telescope", "hammer", "thermometer")),
    ("tailor", "needle", "sew clothes", "sewing clothes", ("hammer", "shovel", "ladle")),
    ("lumberjack", "axe", "chop down trees", "chopping down trees", ("needle", "whisk", "paintbrush")),
    ("gardener", "rake", "gather fallen leaves", "gathering fallen leaves", ("whisk", "needle", "stethoscope")),
    ("surgeon", "scalpel", "make careful cuts during an operation", "making careful cuts during an operation",
     ("hammer", "shovel", "rake")),
    ("referee", "whistle", "stop the game", "stopping the game", ("hammer", "camera", "needle")),
    ("sailor", "compass", "find which way is north", "finding which way is north", ("thermometer", "whisk", "rake")),
    ("baker", "oven", "bake bread", "baking bread", ("freezer", "hammer", "shovel")),
    ("builder", "trowel", "spread cement between bricks", "spreading cement between bricks",
     ("whisk", "needle", "stethoscope")),
    ("cleaner", "mop", "wash the floor", "washing the floor", ("hammer", "telescope", "needle")),
    ("fisherman", "fishing rod", "catch fish", "catching fish", ("shovel", "paintbrush", "stethoscope")),
]

_PLURAL_TOOLS = {"scissors"}


def _tool_np(tool: str) -> str:
    """'a hammer', 'an axe', but plain 'scissors'."""
    return tool if tool in _PLURAL_TOOLS else article(tool)


def word_rows() -> list[KnowledgeRow]:
    """All word-and-work rows in table order."""
    rows = rows_from(
        "opposites", _OPPOSITES,
        question="What is the opposite of {word}?",
        facts=("{Word} and {opposite} are opposites.",
               "{Opposite} means the reverse of {word}."),
        answer_key="opposite", distractor_key="wrong", fields=("word", "opposite", "wrong"),
        derived={"Word": lambda v: cap(v["word"]), "Opposite": lambda v: cap(v["opposite"])},
    )
    rows += rows_from(
        "tools", _TOOLS,
        question="What does {a_worker} use to {purpose}?",
        facts=("To {purpose}, {a_worker} reaches for {tool_np}.",
               "{A_worker} relies on {tool_np} for {gerund}."),
        answer_key="tool", distractor_key="wrong", fields=("worker", "tool", "purpose", "gerund", "wrong"),
        derived={"tool_np": lambda v: _tool_np(v["tool"]), "a_worker": lambda v: article(v["worker"]),
                 "A_worker": lambda v: cap(article(v["worker"]))},
    )
    return rows
