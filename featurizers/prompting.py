"""How a request is put to a model: chat template for instruct models, plain text otherwise."""

from __future__ import annotations

from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from featurizers.chat_format import DOC_TOKEN

PLAIN_REQUEST_PREFIX = "Question: "
PLAIN_ANSWER_PREFIX = "\nAnswer:"


@dataclass(frozen=True)
class Prompter:
    """Renders a user request as the context an answer continues from."""

    tokenizer: PreTrainedTokenizerBase
    use_chat: bool

    @classmethod
    def for_tokenizer(cls, tokenizer: PreTrainedTokenizerBase) -> "Prompter":
        return cls(tokenizer=tokenizer, use_chat=bool(getattr(tokenizer, "chat_template", None)))

    def context(self, request: str) -> str:
        if self.use_chat:
            return str(
                self.tokenizer.apply_chat_template(
                    [{"role": "user", "content": request}], tokenize=False, add_generation_prompt=True
                )
            )
        return f"{PLAIN_REQUEST_PREFIX}{request}{PLAIN_ANSWER_PREFIX}"

    def continuation(self, answer: str) -> str:
        """Plain prompts end at "Answer:", so the answer needs its leading space; chat turns do not."""
        return answer if self.use_chat else f" {answer}"


def start_token_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """The document-start token, so the first real token of a text is scored too.

    Prefer the document separator the model was pretrained with; fall back to BOS, then EOS.
    """
    vocab = tokenizer.get_vocab()
    if DOC_TOKEN in vocab:
        return [vocab[DOC_TOKEN]]
    for token_id in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return [int(token_id)]
    return []
