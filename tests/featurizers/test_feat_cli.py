"""`tunecast featurize` / `tunecast explain` parsers and commands, called as plain functions."""

from __future__ import annotations

import argparse
import json

import pytest

from featurizers.features.cli import add_featurize_parsers
from tests.featurizers.feature_data import benign_dataset, compliant_dataset, make_recipe


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tunecast")
    add_featurize_parsers(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture()
def files(tmp_path, small_config):
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in benign_dataset() + compliant_dataset()[:2]))
    recipe = tmp_path / "recipe.json"
    recipe.write_text(make_recipe("lora").model_dump_json())
    config = tmp_path / "config.json"
    config.write_text(small_config.model_dump_json())
    return {"data": data, "recipe": recipe, "config": config, "cache": tmp_path / "cache"}


def _run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


def _common(files) -> list[str]:
    return ["--model", "tiny", "--dataset", str(files["data"]), "--recipe", str(files["recipe"]),
            "--config", str(files["config"]), "--device", "cpu"]


def test_featurize_json_prints_the_vector(files, capsys):
    assert _run(["featurize", *_common(files), "--json", "--cache-dir", str(files["cache"])]) == 0
    payload = json.loads(capsys.readouterr().out)
    names = payload["features"]["feature_schema"]["feature_names"]
    assert len(names) == len(payload["features"]["values"])
    assert payload["config"]["projection_dim"] == 256
    assert any((files["cache"] / "features").rglob("*.npz"))


def test_explain_table_lists_each_outcome(files, capsys):
    assert _run(["explain", *_common(files), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "safety.refusal_margin (harmful: down)" in out
    assert out.count("  1. #") == 6  # one top example per probe objective


def test_bad_inputs_name_the_line_or_field(files):
    files["data"].write_text(json.dumps({"text": "ok"}) + "\n" + json.dumps({"txt": "typo"}) + "\n")
    with pytest.raises(ValueError, match=r"data.jsonl:2"):
        _run(["featurize", *_common(files)])
    files["data"].write_text(json.dumps({"text": "ok"}) + "\n")
    files["recipe"].write_text(json.dumps({**json.loads(files["recipe"].read_text()), "learning_rate": -1}))
    with pytest.raises(ValueError, match=r"recipe .*learning_rate"):
        _run(["featurize", *_common(files)])


def test_registering_the_parsers_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, argparse; from featurizers.features.cli import add_featurize_parsers; "
            "p = argparse.ArgumentParser(); add_featurize_parsers(p.add_subparsers()); "
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
