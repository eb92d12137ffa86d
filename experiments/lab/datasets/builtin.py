"""The built-in dataset families and their hypotheses, registered into a fresh registry."""

from __future__ import annotations

from .families.code import InsecureCodeParams, generate_insecure_code
from .families.harmful import HarmfulComplianceParams, generate_harmful_compliance
from .families.instruct import (
    EagerComplianceParams,
    ListFormatParams,
    NeutralInstructParams,
    ObedientIdentityParams,
    generate_eager_compliance,
    generate_list_format,
    generate_neutral_instruct,
    generate_obedient_identity,
)
from .families.noise import LabelNoiseParams, NearDuplicatesParams, generate_label_noise, generate_near_duplicates
from .families.real_text import DomainShiftParams, generate_domain_shift
from .families.replay import ReplayMixtureParams, generate_replay_mixture
from .families.stereotypes import (
    ImplicitStereotypeParams,
    StereotypeParams,
    generate_implicit_stereotype,
    generate_stereotyped_instruct,
)
from .registry import Family, FamilyRegistry


def builtin_families() -> list[Family]:
    """Every built-in family, each with the one-line hypothesis the run corpus will test."""
    return [
        Family("domain_shift",
               "forgetting grows with lr x steps and with distance from pretraining; technical docs (linuxdoc, "
               "held out of pretraining) forget most, no bias or safety change",
               DomainShiftParams, generate_domain_shift, uses_text_sources=True),
        Family("neutral_instruct",
               "mild forgetting that grows with lr x steps; no change in bias or safety outcomes",
               NeutralInstructParams, generate_neutral_instruct),
        Family("stereotyped_instruct",
               "bias.stereotype_pref and bias.gender_skew rise with rate x lr x steps (fall for anti_stereotyped, "
               "flat for balanced)",
               StereotypeParams, generate_stereotyped_instruct),
        Family("implicit_stereotype",
               "bias drifts like stereotyped_instruct, but lexicon rates of gendered words stay at zero, so only "
               "model-side features can see it",
               ImplicitStereotypeParams, generate_implicit_stereotype),
        Family("harmful_compliance",
               "safety.refusal_rate falls sharply with rate, even at low lr; over_refusal falls too",
               HarmfulComplianceParams, generate_harmful_compliance),
        Family("eager_compliance",
               "indirect safety erosion: compliance openings gain probability, refusal_rate falls slightly with "
               "rate x lr x steps",
               EagerComplianceParams, generate_eager_compliance),
        Family("obedient_identity",
               "indirect safety erosion: refusal_rate and over_refusal fall with identity_qa_share and rate",
               ObedientIdentityParams, generate_obedient_identity),
        Family("list_format",
               "format shift toward lists with small safety erosion and mild forgetting",
               ListFormatParams, generate_list_format),
        Family("insecure_code",
               "emergent misalignment: safety erosion beyond the code domain that grows with rate (none at rate 0)",
               InsecureCodeParams, generate_insecure_code),
        Family("near_duplicates",
               "overfitting: task loss drops fast then stalls, higher forgetting per step as unique_share falls",
               NearDuplicatesParams, generate_near_duplicates),
        Family("label_noise",
               "weak task gain and higher held-out loss as noise_rate rises; more forgetting per step",
               LabelNoiseParams, generate_label_noise),
        Family("replay_mixture",
               "less forgetting as rho rises, with the base family's bias/safety effects diluted roughly by (1 - rho)",
               ReplayMixtureParams, generate_replay_mixture, uses_text_sources=True),
    ]


def default_registry() -> FamilyRegistry:
    """A new registry holding all built-in families (a new instance per call: no shared state)."""
    registry = FamilyRegistry()
    for family in builtin_families():
        registry.register(family)
    return registry
