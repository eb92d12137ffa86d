"""Load any causal LM the project supports from a model spec, on device="auto".

One entry point for Hugging Face directories, GGUF files (dequantized), PEFT LoRA
adapters, tiny test models and the built-in names, so every caller (evaluation,
fine-tune harness, featurizers) sees the same model the same way.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from featurizers.device import resolve_device
from featurizers.model_spec import ModelSpec, ModelSpecError, parse_model_spec

logger = logging.getLogger(__name__)


class ModelLoadError(ValueError):
    """The spec resolved, but the files behind it could not be loaded as a causal LM."""


@dataclass
class LoadedModel:
    """A model, its tokenizer and where they came from."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    spec: ModelSpec
    device: torch.device
    _weights_hash: str | None = field(default=None, repr=False)

    @property
    def is_chat(self) -> bool:
        """Instruct models (those with a chat template) are prompted through it."""
        return bool(getattr(self.tokenizer, "chat_template", None))

    @property
    def max_length(self) -> int:
        """Longest sequence the model's position embeddings allow."""
        return int(getattr(self.model.config, "max_position_embeddings", 2048) or 2048)

    def weights_hash(self) -> str:
        """sha256 over parameter names and bytes: identifies the exact weights, however loaded."""
        if self._weights_hash is None:
            digest = hashlib.sha256()
            for name, tensor in sorted(self.model.state_dict().items()):
                digest.update(name.encode())
                digest.update(str(tuple(tensor.shape)).encode())
                digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
            self._weights_hash = digest.hexdigest()
        return self._weights_hash


def load_causal_lm(spec: str | ModelSpec, device: str = "auto", dtype: torch.dtype = torch.float32) -> LoadedModel:
    """Load model + tokenizer for a spec; errors name the spec and say what to do."""
    resolved = parse_model_spec(spec) if isinstance(spec, str) else spec
    target = resolve_device(device)
    model, tokenizer = _load(resolved, dtype)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.to(target)
    model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, spec=resolved, device=target)


def _load(spec: ModelSpec, dtype: torch.dtype) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    if spec.kind == "tiny":
        from featurizers.tiny import build_tiny_model, probe_texts, tiny_config_from_file, train_tiny_tokenizer

        config = tiny_config_from_file(spec.path)
        tokenizer = train_tiny_tokenizer(probe_texts(), config.vocab_size)
        return build_tiny_model(config, tokenizer).to(dtype), tokenizer
    if spec.kind == "lora":
        return _load_lora(spec, dtype)
    assert spec.path is not None  # guaranteed by parse_model_spec for these kinds
    kwargs = {"gguf_file": spec.gguf_file} if spec.kind == "gguf" else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(spec.path, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(spec.path, dtype=dtype, **kwargs)
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise ModelLoadError(f"model {spec.raw!r}: could not load a causal LM from {spec.path}: {exc}") from exc
    if not hasattr(model, "lm_head") and not getattr(model.config, "is_decoder", True):
        raise ModelLoadError(f"model {spec.raw!r}: {type(model).__name__} is not a causal language model")
    return model, tokenizer


def _load_lora(spec: ModelSpec, dtype: torch.dtype) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    from peft import PeftModel

    if spec.base is None:
        raise ModelSpecError(f"model {spec.raw!r}: LoRA spec without a base model")
    base_model, tokenizer = _load(spec.base, dtype)
    try:
        model = PeftModel.from_pretrained(base_model, spec.path)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelLoadError(f"model {spec.raw!r}: could not apply the LoRA adapter at {spec.path}: {exc}") from exc
    return model, tokenizer


def save_for_reload(loaded: LoadedModel, out_dir: str | Path) -> Path:
    """Write model + tokenizer as a Hugging Face directory (safetensors), e.g. to freeze a tiny model."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    loaded.model.save_pretrained(out, safe_serialization=True)
    loaded.tokenizer.save_pretrained(out)
    return out
