"""How a request is put to a model: chat template for instruct models, plain text otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import PreTrainedTokenizerBase

from featurizers.chat_format import DOC_TOKEN

PLAIN_REQUEST_PREFIX = "Question: "
PLAIN_ANSWER_PREFIX = "\nAnswer:"


@dataclass(frozen=True)
class Prompter:
    """Renders a user request as the context an answer continues from."""

    tokenizer: PreTrainedTokenizerBase
    use_chat: bool
    # Rendered chat turns by request: a run's evaluator renders the same probes at every checkpoint.
    _rendered: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def for_tokenizer(cls, tokenizer: PreTrainedTokenizerBase) -> "Prompter":
        return cls(tokenizer=tokenizer, use_chat=bool(getattr(tokenizer, "chat_template", None)))

    def context(self, request: str, answer_frame: str = "") -> str:
        """The request rendered up to where the answer starts; `answer_frame` opens the answer
        (e.g. "The answer is") so options are compared in one fixed slot, not against "The"."""
        if self.use_chat:
            rendered = self._rendered.get(request)
            if rendered is None:
                rendered = str(
                    self.tokenizer.apply_chat_template(
                        [{"role": "user", "content": request}], tokenize=False, add_generation_prompt=True
                    )
                )
                self._rendered[request] = rendered
            return rendered + answer_frame
        return f"{PLAIN_REQUEST_PREFIX}{request}{PLAIN_ANSWER_PREFIX}" + (f" {answer_frame}" if answer_frame else "")

    def continuation(self, answer: str, after_frame: bool = False) -> str:
        """Plain prompts end at "Answer:" and frames end in a word, so the answer needs its
        leading space there; a chat turn's answer starts right after the template."""
        return f" {answer}" if (after_frame or not self.use_chat) else answer


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
