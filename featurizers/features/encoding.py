"""Records to token ids and a loss mask: which tokens the fine-tune learns from.

Plain text trains on every token; prompt/response and messages train on the assistant
tokens only, rendered through the chat template (or the plain Question/Answer prompt).
The fine-tune harness (experiments/harness) trains with this same encoder, so the
gradients the featurizers sketch follow the loss the real run will follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from transformers import PreTrainedTokenizerBase

from featurizers.features.records import record_format
from featurizers.prompting import Prompter, start_token_ids

PLAIN_TURN_SEPARATOR = "\n"
MIN_SEQ_LEN = 2


@dataclass(frozen=True)
class Encoded:
    """Token ids, which positions are training targets, and the untruncated length."""

    ids: tuple[int, ...]
    targets: tuple[bool, ...]
    full_length: int

    @property
    def n_targets(self) -> int:
        """Targets that are predicted (position 0 never is: nothing precedes it)."""
        return sum(self.targets[1:])


@dataclass(frozen=True)
class _Segment:
    text: str
    trained: bool


class TrainingEncoder:
    """Encodes records for one tokenizer; truncation keeps trained tokens whenever it can."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, max_seq_len: int) -> None:
        if max_seq_len < MIN_SEQ_LEN:
            raise ValueError(f"max_seq_len must be >= {MIN_SEQ_LEN} (a start token and one target), got {max_seq_len}")
        self.tokenizer = tokenizer
        self.max_seq_len = max_seq_len
        self.prompter = Prompter.for_tokenizer(tokenizer)
        self._start = start_token_ids(tokenizer)

    def encode(self, record: Mapping[str, Any], where: str = "record") -> Encoded:
        fmt = record_format(record, where=where)
        if fmt == "text":
            segments = [_Segment(str(record["text"]), True)]
        elif fmt == "prompt_response":
            turns = [{"role": "user", "content": record["prompt"]}, {"role": "assistant", "content": record["response"]}]
            segments = self._chat_segments(turns, where)
        else:
            segments = self._chat_segments([dict(m) for m in record["messages"]], where)
        ids: list[int] = list(self._start)
        targets: list[bool] = [False] * len(ids)
        for segment in segments:
            if not segment.text:
                continue
            piece = list(self.tokenizer(segment.text, add_special_tokens=False)["input_ids"])
            ids.extend(piece)
            targets.extend([segment.trained] * len(piece))
        if not any(targets):
            raise ValueError(f"{where}: encodes to no trained tokens")
        return self._truncate(ids, targets)

    def _truncate(self, ids: list[int], targets: list[bool]) -> Encoded:
        """Keep the head; if that drops every predicted target, keep the tail (the answer) instead."""
        limit, full = self.max_seq_len, len(ids)
        if full <= limit:
            return Encoded(tuple(ids), tuple(targets), full)
        head_ids, head_targets = ids[:limit], targets[:limit]
        if any(head_targets[1:]):
            return Encoded(tuple(head_ids), tuple(head_targets), full)
        start = len(self._start)
        tail = limit - start
        return Encoded(tuple(ids[:start] + ids[-tail:]), tuple(targets[:start] + targets[-tail:]), full)

    def _chat_segments(self, messages: list[dict[str, Any]], where: str) -> list[_Segment]:
        if self.prompter.use_chat:
            return self._template_segments(messages, where)
        return self._plain_segments(messages)

    def _render(self, messages: list[dict[str, Any]], generation_prompt: bool) -> str:
        if not messages:
            return ""
        return str(self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt))

    def _template_segments(self, messages: list[dict[str, Any]], where: str) -> list[_Segment]:
        """Render growing prefixes of the conversation; what each assistant turn adds is trained."""
        segments: list[_Segment] = []
        rendered = ""
        for i, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            context = self._render(messages[:i], generation_prompt=True)
            full = self._render(messages[: i + 1], generation_prompt=False)
            if not context.startswith(rendered) or not full.startswith(context):
                raise ValueError(
                    f"{where}: the chat template does not render conversations prefix-consistently "
                    f"(turn {i + 1}); the assistant tokens cannot be located for the loss mask"
                )
            segments.append(_Segment(context[len(rendered):], False))
            segments.append(_Segment(full[len(context):], True))
            rendered = full
        tail = self._render(messages, generation_prompt=False)
        segments.append(_Segment(tail[len(rendered):], False))
        return segments

    def _plain_segments(self, messages: list[dict[str, Any]]) -> list[_Segment]:
        """No chat template: each user turn is a Question/Answer prompt, each answer is trained."""
        segments: list[_Segment] = []
        for i, message in enumerate(messages):
            lead = PLAIN_TURN_SEPARATOR if i else ""
            if message["role"] == "assistant":
                segments.append(_Segment(self.prompter.continuation(str(message["content"])), True))
            elif message["role"] == "user":
                segments.append(_Segment(lead + self.prompter.context(str(message["content"])), False))
            else:
                segments.append(_Segment(lead + str(message["content"]), False))
        return segments
