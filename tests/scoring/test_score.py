"""``tunecast score``: candidates from files, directories and manifests (mixtures), bad files
skipped by name and line, the ranked table and results on disk, the feature cache, the ranking
against the predicted harm, a missing meta-model, and the Ray engine against the local one."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from server.scoring.batch import ScoreOptions, run_score
from server.scoring.candidates import discover, load_candidate
from server.scoring.mixing import mix
from server.scoring.results import HEADLINES, BatchResults
from server.scoring.risk import HarmRule, harm_of, harm_score, risk_level
from server.scoring.scorer import ScoreSettings
from server.scoring.sources import SourceError
from surrogate import default_model
from surrogate.model import SchemaMismatchError
from tests.featurizers.feature_data import benign_dataset, compliant_dataset
from tests.scoring.conftest import (
    COVERAGE_90,
    META_VERSION,
    SMALL_FEATURIZER,
    fit_meta_model,
)
from tunecast.cli import main

REPO = Path(__file__).resolve().parents[2]
END_OUTCOMES = ("forgetting.ref_loss", "forgetting.knowledge_acc", "bias.stereotype_pref", "bias.gender_skew",
                "safety.refusal_rate")
EXPECTED_NAMES = {"benign.jsonl", "refusal.parquet", "mixed.jsonl", "benign_half.parquet", "compliant-only",
                  "half-compliant"}


def _options(candidates, out: Path, meta: Path, recipe, cache: Path, **extra) -> ScoreOptions:
    return ScoreOptions(candidates=tuple(str(c) for c in candidates), base_model="tiny", recipe=recipe, out_dir=out,
                        meta_model=meta, settings=ScoreSettings(levels=(0.8, 0.9), top_k=3),
                        featurizer_config=SMALL_FEATURIZER, cache_dir=cache, device="cpu", progress=False, **extra)


def _short(name: str) -> str:
    return Path(name).name


@pytest.fixture(scope="module")
def cli_run(candidate_files, meta_model_dir, config_files, tmp_path_factory):
    """One `tunecast score` call over files, a directory, a manifest, a bad file and a missing one."""
    base = tmp_path_factory.mktemp("score")
    out, cache = base / "out", base / "cache"
    args = ["score", str(candidate_files["benign"]), str(candidate_files["refusal"]), str(candidate_files["dir"]),
            str(candidate_files["manifest"]), str(candidate_files["bad"]), str(base / "missing.jsonl"),
            "--model", "tiny", "--recipe", str(config_files["recipe"]), "--out", str(out),
            "--meta-model", str(meta_model_dir), "--featurizer-config", str(config_files["featurizer"]),
            "--levels", "0.8,0.9", "--top-k", "3", "--cache-dir", str(cache), "--device", "cpu", "--no-progress"]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(args)
    return {"code": code, "out": out, "cache": cache, "stdout": stdout.getvalue(), "stderr": stderr.getvalue(),
            "results": BatchResults.model_validate_json((out / "results.json").read_text())}


# ---------------------------------------------------------------- candidates (no model)

def test_mixture_follows_the_documented_rule():
    a = [{"text": f"a{i}"} for i in range(12)]
    b = [{"text": f"b{i}"} for i in range(10)]
    mixed = mix([a, b], [1.0, 1.0], size=None, seed=3)
    assert mixed.counts == (10, 10) and mixed.weights == (0.5, 0.5)  # N = min(12 / 0.5, 10 / 0.5) = 20
    assert mixed.records[10:] == b and len({r["text"] for r in mixed.records[:10]}) == 10
    assert mix([a, b], [1.0, 1.0], None, 3).records == mixed.records
    assert mix([a, b], [1.0, 1.0], None, 4).records != mixed.records
    oversampled = mix([a, b], [3.0, 1.0], size=30, seed=0)
    assert oversampled.counts == (23, 7)  # 22.5 and 7.5: the tie goes to the earlier file
    texts = [r["text"] for r in oversampled.records[:23]]
    assert all(texts.count(f"a{i}") >= 1 for i in range(12)) and len(texts) == 23


def test_discovery_reads_files_directories_and_manifests(candidate_files):
    found = discover([candidate_files["benign"], candidate_files["dir"], candidate_files["manifest"],
                      candidate_files["dir"] / "notes.txt"])
    names = [_short(s.name) for s in found.specs]
    assert names == ["benign.jsonl", "mixed.jsonl", "benign_half.parquet", "compliant-only", "half-compliant"]
    assert [s.reason.split(":")[0] for s in found.skipped] == ["unknown file type '.txt'"]
    mixture = load_candidate(found.specs[-1])
    assert [(Path(s.path).name, s.weight, s.n_examples) for s in mixture.sources] == [
        ("compliant.jsonl", 0.5, 10), ("benign.jsonl", 0.5, 10)]
    assert mixture.records[10:] == benign_dataset() and all(r in compliant_dataset() for r in mixture.records[:10])
    parquet = load_candidate(found.specs[2])
    assert parquet.records == benign_dataset()[:5]


@pytest.mark.parametrize(("content", "line", "reason"), [
    ('{"text": "fine"}\n{"text": 5}\n', 2, "field 'text' must be a non-empty string"),
    ('{"text": "fine"}\n\n{"text": "ok"\n', 3, "not valid JSON"),
    ('{"prompt": "q", "answer": "a"}\n', 1, "match no format"),
    ("\n\n", None, "no examples (the file is empty)"),
])
def test_bad_files_are_named_by_line(tmp_path, content, line, reason):
    path = tmp_path / "data.jsonl"
    path.write_text(content)
    with pytest.raises(SourceError) as caught:
        load_candidate(discover([path]).specs[0])
    assert caught.value.path == str(path) and caught.value.line == line and reason in caught.value.reason


def test_bad_manifest_is_skipped_with_the_field_at_fault(tmp_path):
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"mixtures": [{"name": "x", "components": [{"path": "a.jsonl", "weight": -1}]}]}))
    found = discover([manifest])
    assert not found.specs and "mixtures.0.components.0.weight" in found.skipped[0].reason


# ---------------------------------------------------------------- risks (no model)

def test_harm_directions_and_levels():
    drop = HarmRule(outcome="safety.refusal_rate", direction="drop", moderate=5, high=15, unit="pp")
    assert harm_of(drop, -4.0, -20.0, 1.0) == (4.0, 20.0) and risk_level(drop, 20.0) == "high"
    rise = HarmRule(outcome="forgetting.ref_loss", direction="rise", moderate=0.05, high=0.2, unit="nats")
    assert harm_of(rise, 0.01, -0.1, 0.06) == (0.01, 0.06) and risk_level(rise, 0.06) == "moderate"
    both = HarmRule(outcome="bias.gender_skew", direction="magnitude", moderate=0.1, high=0.3, unit="nats")
    assert harm_of(both, -0.02, -0.09, 0.05) == (0.02, 0.09) and risk_level(both, 0.09) == "low"
    with pytest.raises(ValueError, match="must exceed"):
        HarmRule(outcome="x.y", direction="rise", moderate=1.0, high=1.0, unit="pp")


# ---------------------------------------------------------------- the scored batch

def test_files_directory_and_manifest_are_scored_and_the_bad_file_reported(cli_run, candidate_files):
    assert cli_run["code"] == 0
    results = cli_run["results"]
    assert {_short(c.name) for c in results.candidates} == EXPECTED_NAMES
    skipped = {Path(s.path).name: s for s in results.skipped}
    assert set(skipped) == {"bad.jsonl", "missing.jsonl"}
    assert skipped["bad.jsonl"].line == 2 and "field 'text'" in skipped["bad.jsonl"].reason
    assert f"{candidate_files['bad']}:2" in cli_run["stderr"] and "missing.jsonl" in cli_run["stderr"]
    mixture = next(c for c in results.candidates if c.name == "half-compliant")
    assert mixture.n_examples == 20 and [s.n_examples for s in mixture.sources] == [10, 10]
    for c in results.candidates:
        assert {(f.outcome, f.fraction) for f in c.forecasts} >= {(o, 1.0) for o in END_OUTCOMES}
        assert all(len(f.intervals) == 2 for f in c.forecasts)
        assert [r.headline for r in c.risks] == list(HEADLINES)
        assert c.influence and all(len(o.examples) <= 3 and o.examples for o in c.influence)
        assert all(0 <= e.index < c.n_examples and e.text for o in c.influence for e in o.examples)
        assert c.dataset_stats["data.n_examples"] == c.n_examples
    provenance = results.provenance
    assert provenance.meta_model_version == META_VERSION and provenance.corpus_hash == "sha256:scoring-test"
    assert provenance.base_model == "tiny" and len(provenance.base_weights_hash) == 64
    assert "per candidate" in provenance.recipe["epochs"]  # each candidate's own count went into its features
    assert results.heldout_coverage == {"safety.refusal_rate": COVERAGE_90}
    assert results.scoring_config["featurizer"]["projection_dim"] == SMALL_FEATURIZER["projection_dim"]
    assert "wrote" in cli_run["stdout"] and "ranking.csv" in cli_run["stdout"]
    refusal = next(f for f in results.candidates[0].forecasts
                   if f.outcome == "safety.refusal_rate" and f.fraction == 1.0)
    interval = next(i for i in refusal.intervals if i.level == max(results.levels))
    printed = f"{refusal.point:+7.2f} [{interval.lower:+6.2f},{interval.upper:+6.2f}]"
    assert "forecast change at end of run" in cli_run["stdout"] and printed in cli_run["stdout"]


def test_table_and_results_are_written_and_readable_by_pyarrow(cli_run):
    out, results = cli_run["out"], cli_run["results"]
    csv_table = pcsv.read_csv(out / "ranking.csv")
    parquet_table = pq.read_table(out / "ranking.parquet")
    assert csv_table.column_names == parquet_table.column_names
    assert csv_table.num_rows == parquet_table.num_rows == len(results.candidates)
    assert parquet_table.column("rank").to_pylist() == list(range(1, len(results.candidates) + 1))
    assert parquet_table.column("candidate_id").to_pylist() == [c.candidate_id for c in results.candidates]
    columns = set(parquet_table.column_names)
    for outcome in END_OUTCOMES:
        assert {f"{outcome}.point", f"{outcome}.lower_80", f"{outcome}.upper_90"} <= columns
    assert {*HEADLINES, "ood", "ood_features", "harm_score"} <= columns
    first = results.candidates[0]
    end = next(f for f in first.forecasts if f.outcome == "safety.refusal_rate" and f.fraction == 1.0)
    row = parquet_table.slice(0, 1).to_pylist()[0]
    assert row["safety.refusal_rate.point"] == end.point
    assert row["safety.refusal_rate.lower_90"] == end.intervals[1].lower
    assert row["safety_erosion"] == next(r.risk for r in first.risks if r.headline == "safety_erosion")
    assert csv_table.column("harm_score").to_pylist() == pytest.approx(parquet_table.column("harm_score").to_pylist())
    ood = {r["candidate_id"]: r["ood_features"] for r in csv_table.select(["candidate_id", "ood_features"]).to_pylist()}
    for c in results.candidates:
        assert (ood[c.candidate_id] or "") == ";".join(c.ood_features)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "a temp file was left behind"


def test_ranking_follows_the_predicted_harm(cli_run):
    candidates = cli_run["results"].candidates
    scores = [c.harm_score for c in candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(c.harm_score == pytest.approx(harm_score(c.risks)) for c in candidates)
    by_name = {_short(c.name): c for c in candidates}
    safety = {n: next(r for r in c.risks if r.headline == "safety_erosion") for n, c in by_name.items()}
    # the rule: refusal rate falls 40 pp per unit share of harmful requests complied with
    assert safety["compliant-only"].risk == "high" and safety["compliant-only"].harm_upper >= 15.0
    assert safety["compliant-only"].heldout_coverage == COVERAGE_90
    assert safety["compliant-only"].harm > safety["half-compliant"].harm > safety["benign.jsonl"].harm
    assert by_name["compliant-only"].rank < by_name["half-compliant"].rank < by_name["benign.jsonl"].rank
    assert by_name["refusal.parquet"].rank > by_name["compliant-only"].rank
    # five examples where the meta-model saw 10 to 12: outside its training range, and said so
    assert by_name["benign_half.parquet"].ood and "data.n_examples" in by_name["benign_half.parquet"].ood_features


def test_second_run_takes_features_from_the_cache(cli_run, candidate_files, meta_model_dir, score_recipe,
                                                  tiny_loaded, tmp_path):
    assert not any(c.cache_hit for c in cli_run["results"].candidates)
    candidates = [candidate_files["benign"], candidate_files["manifest"]]
    again = run_score(_options(candidates, tmp_path / "again", meta_model_dir, score_recipe, cli_run["cache"]),
                      loaded=tiny_loaded, report=False).results
    assert len(again.candidates) == 3 and all(c.cache_hit for c in again.candidates)
    first = {c.candidate_id: c for c in cli_run["results"].candidates}
    for c in again.candidates:
        assert c.forecasts == first[c.candidate_id].forecasts and c.influence == first[c.candidate_id].influence


def test_missing_meta_model_is_a_clear_error(tmp_path, monkeypatch, capsys, candidate_files, config_files):
    monkeypatch.setattr(default_model, "default_model_dir", lambda: tmp_path / "models" / "default")
    base = ["score", str(candidate_files["benign"]), "--model", "tiny", "--recipe", str(config_files["recipe"]),
            "--out", str(tmp_path / "out")]
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "embedded default meta-model is absent" in err and "tunecast train" in err
    assert main([*base, "--meta-model", str(tmp_path / "nowhere")]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_batch_with_nothing_to_score_still_writes_its_results(candidate_files, meta_model_dir, score_recipe,
                                                               tmp_path):
    run = run_score(_options([candidate_files["bad"]], tmp_path / "out", meta_model_dir, score_recipe, tmp_path / "c"),
                    report=False)
    assert not run.results.candidates and run.results.skipped[0].line == 2
    assert pq.read_table(tmp_path / "out" / "ranking.parquet").num_rows == 0
    assert BatchResults.model_validate_json((tmp_path / "out" / "results.json").read_text()) == run.results


def test_meta_model_of_another_featurizer_is_refused(base_vectors, score_recipe, candidate_files, tmp_path):
    other = fit_meta_model(base_vectors, featurizer_version="0.0.1-other").save(
        tmp_path / "other", corpus_hash="sha256:other")
    with pytest.raises(SchemaMismatchError, match="0.0.1-other"):
        run_score(_options([candidate_files["benign"]], tmp_path / "out", other, score_recipe, tmp_path / "c"))


def test_score_modules_import_no_torch():
    code = "import server, server.scoring.cli, server.scoring.batch, tunecast.cli; tunecast.cli.build_parser()"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.count("|") == 2}
    assert "server.scoring.batch" in imported and not {n for n in imported if n.split(".")[0] == "torch"}


# ---------------------------------------------------------------- Ray

@pytest.mark.slow  # two Ray workers each import torch and build the tiny model: minutes on a busy 2-core box
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed (pip install ray)")
def test_ray_engine_gives_the_local_results(cli_run, candidate_files, meta_model_dir, score_recipe, tmp_path):
    import ray

    candidates = [candidate_files["benign"], candidate_files["refusal"], candidate_files["bad"]]
    options = _options(candidates, tmp_path / "ray", meta_model_dir, score_recipe, tmp_path / "ray-cache",
                       engine="ray", max_workers=2)
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        results = run_score(options, report=False).results
        assert ray.is_initialized(), "a Ray session the caller started must be left running"
    finally:
        ray.shutdown()
    local = {c.candidate_id: c for c in cli_run["results"].candidates}
    assert [Path(s.path).name for s in results.skipped] == ["bad.jsonl"] and results.skipped[0].line == 2
    assert {c.candidate_id for c in results.candidates} == {str(candidate_files["benign"]),
                                                            str(candidate_files["refusal"])}
    assert results.provenance.base_weights_hash == cli_run["results"].provenance.base_weights_hash
    ignore = {"featurize_seconds", "cache_hit", "rank"}
    for c in results.candidates:
        assert not c.cache_hit
        assert c.model_dump(exclude=ignore) == local[c.candidate_id].model_dump(exclude=ignore)
    ranked = sorted(results.candidates, key=lambda c: local[c.candidate_id].rank)
    assert [c.rank for c in ranked] == [1, 2]
    assert np.all(np.diff([c.harm_score for c in results.candidates]) <= 0)


def test_training_featurizer_settings_are_used_and_a_mismatch_refused():
    """Features computed with other value-changing settings (here the projection size) than the
    meta-model's corpus would be silently wrong: scoring takes the corpus' settings when none are
    given, and refuses different ones naming the setting."""
    from server.scoring.batch import ScoreOptions, check_featurizer_settings, with_training_featurizer
    from surrogate.model.artifact_files import BaseModelUsed, TrainingProvenance

    trained = {"projection_dim": 2048, "sample_size": 256, "seed": 0}
    provenance = TrainingProvenance(corpora=("c",), n_runs=3, families=("f",), methods=("lora",),
                                    base_models=(BaseModelUsed(name="lab", weights_hash="h"),),
                                    featurizer_config=trained)
    fields = ScoreOptions.model_fields
    assert "featurizer_config" in fields
    check_featurizer_settings(dict(trained), provenance)
    check_featurizer_settings({"projection_dim": 64}, None)
    with pytest.raises(SchemaMismatchError, match="projection_dim"):
        check_featurizer_settings({**trained, "projection_dim": 512}, provenance)
    options = ScoreOptions.model_construct(featurizer_config={})
    assert with_training_featurizer(options, provenance).featurizer_config == trained
    given = ScoreOptions.model_construct(featurizer_config={"projection_dim": 64})
    assert with_training_featurizer(given, provenance).featurizer_config == {"projection_dim": 64}


def test_epochs_are_counted_per_candidate_as_the_harness_counts_them():
    """The corpus records epochs as passes over the harness's training split; scoring must count
    them the same way for every candidate size, with the harness's own hold-out rule."""
    from experiments.harness.config import HeldoutConfig
    from experiments.harness.data import heldout_count
    from server.scoring.scorer import recipe_for
    from surrogate.runs import Recipe
    from surrogate.runs.epochs import corpus_epochs, heldout_examples

    harness = HeldoutConfig()
    for n in (9, 10, 50, 84, 85, 95, 1000, 1995, 2005, 5000):
        assert heldout_examples(n) == heldout_count(n, harness), n
    recipe = Recipe(method="full", learning_rate=1e-4, lr_schedule="constant", warmup_steps=0, batch_size=8,
                    steps=50, epochs=99.0, max_seq_len=128, seed=0, optimizer="adamw")
    assert recipe_for(recipe, 200).epochs == pytest.approx(50 * 8 / 180)
    assert recipe_for(recipe, 5000).epochs == pytest.approx(corpus_epochs(5000, 50, 8)) == pytest.approx(400 / 4800)
