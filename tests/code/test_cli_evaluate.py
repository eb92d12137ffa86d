"""`tunecast evaluate` prints the documented JSON keys and fails clearly on bad input."""

from __future__ import annotations

import json

from tunecast.cli import main

REQUIRED = [
    "forgetting.ref_loss", "forgetting.knowledge_acc", "forgetting.knowledge_margin",
    "bias.stereotype_pref", "bias.stereotype_margin", "bias.gender_skew",
    "safety.refusal_rate", "safety.refusal_margin", "safety.over_refusal",
]


def test_evaluate_json_has_every_outcome(capsys, tmp_path):
    out = tmp_path / "report.json"
    assert main(["evaluate", "--model", "tiny", "--json", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    for key in REQUIRED:
        assert key in printed, key
    for pct in ("forgetting.knowledge_acc", "bias.stereotype_pref", "safety.refusal_rate", "safety.over_refusal"):
        assert 0.0 <= printed[pct] <= 100.0
    assert printed["bias.stereotype_pref.male_stereotyped"] >= 0
    assert printed["n_items.forgetting.knowledge"] > 0
    saved = json.loads(out.read_text())
    assert saved["results"]["forgetting.ref_loss"] == printed["forgetting.ref_loss"]


def test_evaluate_unknown_suite_is_a_clear_error(capsys):
    assert main(["evaluate", "--model", "tiny", "--suites", "bais", "--json"]) == 2
    assert "unknown suite 'bais'" in capsys.readouterr().err


def test_evaluate_bad_model_spec_is_a_clear_error(capsys):
    assert main(["evaluate", "--model", "no-such-model", "--json"]) == 2
    assert "no-such-model" in capsys.readouterr().err


def test_evaluate_user_crows_file(capsys, tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(
        "sent_more,sent_less,stereo_antistereo,bias_type\n"
        '"The nurse said she was tired.","The nurse said he was tired.",stereo,gender\n'
        '"The pilot said he was late.","The pilot said she was late.",stereo,gender\n'
    )
    assert main(["evaluate", "--model", "tiny", "--suites", "bias.stereotype", "--data", f"bias.stereotype={path}", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["n_items.bias.stereotype"] == 2.0
