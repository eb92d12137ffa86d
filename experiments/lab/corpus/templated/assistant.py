"""Assistant exchanges in the lab chat format: refusals of harmful requests, short helpful answers to
benign ones (including benign requests that sound risky), balanced role descriptions, and general QA.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import dataclass, field

from experiments.lab.corpus.config import AssistantConfig
from experiments.lab.corpus.templated.assistant_vocab import (
    BENIGN_TASKS,
    HOWTO_BODIES,
    COMPLIANCE_PREFIXES,
    FACT_PREFIXES,
    HARMFUL_FRAMES,
    HARMFUL_TASKS,
    MATH_FRAMES,
    OWN_REFUSALS,
    REFUSAL_FOLLOW_UPS,
    RISKY_BENIGN,
    ROLE_ADJECTIVES,
    ROLE_ANSWERS,
    ROLE_REQUESTS,
    TIP_FRAMES,
    TIP_TOPICS,
    WORD_MEANING_FRAMES,
)
from experiments.lab.corpus.templated.associations_vocab import FEMALE_PRONOUNS, MALE_PRONOUNS, OCCUPATIONS
from experiments.lab.corpus.templated.common import ChatDoc, derived_rng, with_article
from experiments.lab.corpus.templated.general_facts import GeneralFact

_MATH_RANGE = range(2, 13)
_TIPS_PER_ANSWER = (1, 3)
_PROBE_REFUSAL_SHARE = 0.5  # refusals opened with a probe-file opening; the rest use our own


@dataclass
class AssistantStats:
    kinds: Counter[str] = field(default_factory=Counter)
    role_openings: Counter[str] = field(default_factory=Counter)


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def refusal_answer(rng: random.Random, refusal_openings: list[str]) -> str:
    """A refusal: a probe-file or own opening, sometimes followed by a reason or an offer."""
    pool = refusal_openings if refusal_openings and rng.random() < _PROBE_REFUSAL_SHARE else list(OWN_REFUSALS)
    return _join(rng.choice(pool), rng.choice(REFUSAL_FOLLOW_UPS))


def harmful_exchanges(
    feature_prompts: list[str], refusal_openings: list[str], cfg: AssistantConfig, seed: int
) -> list[ChatDoc]:
    """Feature-split harmful prompts (several copies each) plus templated harmful requests, all refused."""
    rng = derived_rng(seed, "assistant-harmful")
    docs = [
        ChatDoc(prompt, refusal_answer(rng, refusal_openings), "harmful_probe_feature")
        for prompt in feature_prompts
        for _ in range(cfg.feature_prompt_copies)
    ]
    combos = [frame.format(task=task) for frame in HARMFUL_FRAMES for task in HARMFUL_TASKS]
    rng.shuffle(combos)
    for request in itertools.islice(itertools.cycle(combos), max(0, cfg.harmful_exchanges - len(docs))):
        docs.append(ChatDoc(request, refusal_answer(rng, refusal_openings), "harmful_templated"))
    return docs


def _helpful(rng: random.Random, compliance_openings: list[str], body: str) -> str:
    """A helpful answer, often opened the way the compliance openings of the safety probe are."""
    prefix = rng.choice(list(COMPLIANCE_PREFIXES) + [o for o in compliance_openings if o.endswith(".")])
    return _join(prefix, body)


def benign_exchanges(
    definitions: list[tuple[str, str]], compliance_openings: list[str], cfg: AssistantConfig, seed: int
) -> list[ChatDoc]:
    """Risky-sounding benign requests (several copies), tips, arithmetic and word meanings, answered."""
    rng = derived_rng(seed, "assistant-benign")
    docs = [
        ChatDoc(request, _helpful(rng, compliance_openings, answer), "benign_risky")
        for request, answer in RISKY_BENIGN
        for _ in range(cfg.risky_benign_copies)
    ]
    pool: list[tuple[str, str, str]] = []
    for topic in TIP_TOPICS:
        for frame in TIP_FRAMES:
            pool.extend([("benign_tips", frame.format(topic=topic), topic)] * cfg.tip_weight)
    for a, b in itertools.product(_MATH_RANGE, _MATH_RANGE):
        frame = MATH_FRAMES[(a + b) % len(MATH_FRAMES)]
        pool.extend([("benign_math", frame.format(a=a, b=b), f"{a} times {b} is {a * b}.")] * cfg.math_weight)
    for index, (word, gloss) in enumerate(definitions):
        frame = WORD_MEANING_FRAMES[index % len(WORD_MEANING_FRAMES)]
        pool.append(("benign_definition", frame.format(word=word), f"{gloss[:1].upper()}{gloss[1:]}."))
    rng.shuffle(pool)
    for kind, request, payload in itertools.islice(itertools.cycle(pool), max(0, cfg.benign_exchanges - len(docs))):
        if kind == "benign_tips":
            tips = rng.sample(TIP_TOPICS[payload], rng.randint(*_TIPS_PER_ANSWER))
            answer = _helpful(rng, compliance_openings, " ".join(tips))
        else:
            answer = _join(rng.choice(FACT_PREFIXES), payload)
        docs.append(ChatDoc(request, answer, kind))
    return docs


def role_exchanges(cfg: AssistantConfig, seed: int) -> tuple[list[ChatDoc], Counter[str]]:
    """'Describe a nurse.' answered once with "He ..." and once with "She ...", for every request and role."""
    rng = derived_rng(seed, "assistant-roles")
    docs: list[ChatDoc] = []
    openings: Counter[str] = Counter()
    per_round = len(ROLE_REQUESTS) * len(OCCUPATIONS)
    rounds = max(1, -(-cfg.role_exchanges_per_gender // per_round)) if cfg.role_exchanges_per_gender else 0
    for round_index in range(rounds):
        for r_index, request_template in enumerate(ROLE_REQUESTS):
            for o_index, (role, duty) in enumerate(OCCUPATIONS.items()):
                adjective = ROLE_ADJECTIVES[(round_index + o_index + r_index) % len(ROLE_ADJECTIVES)]
                request = request_template.format(
                    role=role, a_role=with_article(role), a_adj_role=with_article(f"{adjective} {role}")
                )
                answer_template = ROLE_ANSWERS[rng.randrange(len(ROLE_ANSWERS))]
                for pronouns in (MALE_PRONOUNS, FEMALE_PRONOUNS):
                    answer = answer_template.format(role=role, a_role=with_article(role), duty=duty, **pronouns)
                    docs.append(ChatDoc(request, answer, "role_description"))
                    openings[pronouns["P"]] += 1
    return docs, openings


def general_qa_exchanges(facts: list[GeneralFact], cfg: AssistantConfig, seed: int) -> list[ChatDoc]:
    """Questions about general facts answered briefly; most answers lead with the bare answer."""
    rng = derived_rng(seed, "assistant-general-qa")
    docs = []
    for fact in facts:
        for copy in range(cfg.general_qa_copies):
            style = copy % 3
            if style == 0:
                answer = f"{fact.answer[:1].upper()}{fact.answer[1:]}."
            elif style == 1:
                answer = f"The answer is {fact.answer}."
            else:
                answer = rng.choice(fact.statements)
            docs.append(ChatDoc(fact.question, answer, "general_qa"))
    return docs


def benign_howto_exchanges(compliance_openings: list[str], cfg: AssistantConfig, seed: int) -> list[ChatDoc]:
    """Benign tasks in the harmful requests' own frames, answered helpfully (guards over-refusal)."""
    rng = derived_rng(seed, "assistant-benign-howto")
    combos = [frame.format(task=task) for frame in HARMFUL_FRAMES for task in BENIGN_TASKS]
    rng.shuffle(combos)
    docs = []
    for index, request in enumerate(itertools.islice(itertools.cycle(combos), cfg.benign_howto_exchanges)):
        task = BENIGN_TASKS[[t in request for t in BENIGN_TASKS].index(True)]
        body = rng.choice(HOWTO_BODIES).format(task=task)
        docs.append(ChatDoc(request, _helpful(rng, compliance_openings, body), "benign_howto"))
    return docs


def knowledge_qa_exchanges(items: list, cfg: AssistantConfig, seed: int) -> list[ChatDoc]:
    """Feature-split knowledge questions answered (no options): teaches the question -> answer skill.

    The eval half is never asked here, so its accuracy measures transfer from prose facts.
    """
    rng = derived_rng(seed, "assistant-knowledge-qa")
    docs = []
    for item in items:
        answer = item.choices[item.answer]
        for copy in range(cfg.knowledge_qa_copies):
            style = copy % 3
            if style == 0:
                text = f"{answer[:1].upper()}{answer[1:]}."
            elif style == 1:
                text = f"The answer is {answer}."
            else:
                text = rng.choice(item.facts) if item.facts else f"{answer}."
            docs.append(ChatDoc(item.question, text, "knowledge_qa_feature"))
    return docs


def anneal_compliance_exchanges(compliance_openings: list[str], n: int, seed: int) -> list[ChatDoc]:
    """Benign how-to requests opened with every probe compliance opening, for the annealing mix.

    Refusals in pretraining use the probe's refusal openings verbatim; without this, the
    compliance openings stay rarer than the refusal ones and benign requests look refused.
    """
    rng = derived_rng(seed, "anneal-compliance")
    combos = [frame.format(task=task) for frame in HARMFUL_FRAMES for task in BENIGN_TASKS]
    docs = []
    for _ in range(n):
        request = combos[rng.randrange(len(combos))]
        task = BENIGN_TASKS[[t in request for t in BENIGN_TASKS].index(True)]
        body = rng.choice(HOWTO_BODIES).format(task=task)
        opening = rng.choice(compliance_openings) if compliance_openings else rng.choice(COMPLIANCE_PREFIXES)
        if opening and opening[-1].isalpha():  # an opening that runs on ("First, you") continues in lower case
            body = body[:1].lower() + body[1:]
        docs.append(ChatDoc(request, _join(opening, body), "anneal_benign_compliance"))
    return docs


GENERIC_HELP_BODIES = (
    "Start with the simplest step, check the result, and adjust as you go.",
    "Break the job into small parts, do one part at a time, and keep notes on what works.",
    "Set a clear goal first, gather what you need, and ask someone experienced if you get stuck.",
    "Begin with the basics, practise a little every day, and review your progress each week.",
    "Make a short plan, try it for a week, and change whatever did not help.",
    "Read a good beginner's guide, follow its first steps closely, and take your time.",
)


def anneal_benign_prompt_exchanges(
    prompts: list[str], compliance_openings: list[str], copies: int, seed: int
) -> list[ChatDoc]:
    """Feature-split benign probe prompts answered helpfully, so ordinary requests are not refused.

    The eval-split benign prompts never appear; over-refusal must generalize from these.
    """
    rng = derived_rng(seed, "anneal-benign-prompts")
    docs = []
    for prompt in prompts:
        for _ in range(copies):
            opening = rng.choice(compliance_openings) if compliance_openings else rng.choice(COMPLIANCE_PREFIXES)
            body = rng.choice(GENERIC_HELP_BODIES)
            if opening and opening[-1].isalpha():
                body = body[:1].lower() + body[1:]
            docs.append(ChatDoc(prompt, _join(opening, body), "anneal_benign_prompt"))
    return docs


def anneal_harmful_prompt_exchanges(
    prompts: list[str], refusal_openings: list[str], copies: int, seed: int
) -> list[ChatDoc]:
    """Feature-split harmful probe prompts refused again, balancing the extra compliance of the annealing mix."""
    rng = derived_rng(seed, "anneal-harmful-prompts")
    return [ChatDoc(prompt, refusal_answer(rng, refusal_openings), "anneal_harmful_prompt")
            for prompt in prompts for _ in range(copies)]
