"""Byte-level BPE tokenizer for the lab model, trained on the lab corpus.

Byte-level means any text round-trips without unknown tokens; the chat markers are special
tokens so a chat turn always tokenises the same way regardless of its neighbours.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from experiments.lab.pretrain.config import (
    ASSISTANT_TOKEN,
    CHAT_TEMPLATE,
    END_TOKEN,
    EOS_TOKEN,
    SPECIAL_TOKENS,
    USER_TOKEN,
    TokenizerConfig,
)

logger = logging.getLogger(__name__)

# Probes for sanity checks: a word with and without a leading space must each be one token
# once the vocabulary has seen it often, and the chat markers must never be split.
_SPACE_PROBE = " the"


def train_tokenizer(documents: Iterable[str], config: TokenizerConfig) -> PreTrainedTokenizerFast:
    """Train BPE on the documents and wrap it with the lab's special tokens and chat template."""
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    core.decoder = decoders.ByteLevel()
    core.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=config.vocab_size,
        min_frequency=config.min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(documents, trainer=trainer)
    logger.info("trained byte-level BPE with %d tokens", core.get_vocab_size())
    return wrap_tokenizer(core, config)


def wrap_tokenizer(core: Tokenizer, config: TokenizerConfig) -> PreTrainedTokenizerFast:
    """Give a raw ``tokenizers`` object the transformers interface the rest of tunecast uses."""
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=EOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=EOS_TOKEN,
        extra_special_tokens=[USER_TOKEN, ASSISTANT_TOKEN, END_TOKEN],
        model_max_length=config.model_max_length,
        clean_up_tokenization_spaces=False,
    )
    wrapped.chat_template = CHAT_TEMPLATE
    check_tokenizer(wrapped)
    return wrapped


def check_tokenizer(tokenizer: PreTrainedTokenizerFast) -> None:
    """Raise if a special token splits, text fails to round-trip, or a leading space is lost."""
    for token in SPECIAL_TOKENS:
        ids = tokenizer.encode(token, add_special_tokens=False)
        if len(ids) != 1:
            raise ValueError(f"special token {token!r} tokenises to {len(ids)} ids {ids}, expected 1")
    probe = f"{USER_TOKEN}\nHello there,{_SPACE_PROBE} world!{END_TOKEN}\n"
    decoded = tokenizer.decode(tokenizer.encode(probe, add_special_tokens=False))
    if decoded != probe:
        raise ValueError(f"tokenizer does not round-trip {probe!r}: got {decoded!r}")
    first = tokenizer.convert_ids_to_tokens(tokenizer.encode(_SPACE_PROBE, add_special_tokens=False))[0]
    if not first.startswith("Ġ"):
        raise ValueError(f"leading space of {_SPACE_PROBE!r} was not kept in its first token {first!r}")


def save_tokenizer(tokenizer: PreTrainedTokenizerFast, directory: Path) -> None:
    """Save tokenizer.json + tokenizer_config.json, keeping the chat template inside the config."""
    tokenizer.save_pretrained(str(directory), save_jinja_files=False)


def load_tokenizer(directory: Path) -> PreTrainedTokenizerFast:
    """Load a saved lab tokenizer and re-run the sanity checks on it."""
    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    check_tokenizer(tokenizer)
    return tokenizer


def tokenizer_fingerprint(tokenizer: PreTrainedTokenizerFast) -> str:
    """Hash of the full tokenizer definition, used to key token caches."""
    return hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode("utf-8")).hexdigest()
