"""Features for a committed run corpus: stored beside it, resumable, joinable, checked against the runs."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from featurizers import FEATURIZER_VERSION
from surrogate.runs import CORE_OUTCOMES, RunStore
from surrogate.runs.feature_files import (
    KEY_COLUMNS,
    SCHEMA_NAME,
    part_files,
    stored_run_ids,
)

N_RUNS = 3
SEED = 0  # samples both a full and a LoRA run from the space below


@pytest.fixture(scope="module")
def space():
    from experiments.corpus_builder import FloatRange, IntRange, SamplingSpace

    return SamplingSpace(
        families=["neutral_instruct", "list_format"],
        dataset_size=IntRange(low=50, high=60),
        steps=IntRange(low=4, high=6),
        batch_sizes=[4],
        max_seq_lens=[64],
        full_lr=FloatRange(low=1e-3, high=3e-3, log=True),
        lora_lr=FloatRange(low=3e-3, high=1e-2, log=True),
        lora_share=0.5,
    )


@pytest.fixture(scope="module")
def feat_config():
    from featurizers.features.config import FeaturizerConfig, ProbeObjectiveConfig

    return FeaturizerConfig(sample_size=24, projection_dim=256, batch_size=8, max_seq_len=64,
                            probes=ProbeObjectiveConfig(items_per_suite=4))


@pytest.fixture(scope="module")
def runs_only(tmp_path_factory, tiny_loaded, space, small_harness):
    """A 3-run tiny corpus without features."""
    from experiments.corpus_builder import build_corpus

    out = tmp_path_factory.mktemp("fc") / "runs"
    build_corpus(tiny_loaded, N_RUNS, SEED, out, space=space, harness=small_harness, progress=False)
    assert {r.recipe.method for r in RunStore(out).read()} == {"full", "lora"}
    return out


@pytest.fixture(scope="module")
def featurized(tmp_path_factory, runs_only, tiny_loaded, feat_config):
    """The corpus featurized in three calls (limit 1, limit 1, the rest): three part files, one run each."""
    from experiments.corpus_builder.featurize_corpus import featurize_corpus

    out = tmp_path_factory.mktemp("fc") / "featurized"
    shutil.copytree(runs_only, out)
    summaries = [featurize_corpus(out, tiny_loaded, limit=limit, progress=False, featurizer_config=feat_config)
                 for limit in (1, 1, None)]
    assert [s.featurized for s in summaries] == [1, 1, 1]
    assert [s.already_featurized for s in summaries] == [0, 1, 2]
    assert all(s.failed == 0 and s.seconds_per_run is not None for s in summaries)
    return out, Path(summaries[-1].feature_dir)


def _copy(featurized, tmp_path) -> tuple[Path, Path]:
    corpus, directory = featurized
    out = tmp_path / "corpus"
    shutil.copytree(corpus, out)
    return out, out / directory.relative_to(corpus)


def test_features_are_plain_parquet_joinable_by_run_id(featurized, feat_config):
    import duckdb

    from featurizers.features.featurizer import feature_names
    from featurizers.features.schema import FeatureSchema

    corpus, directory = featurized
    assert directory.parent == corpus / "features" and directory.name.startswith(f"{FEATURIZER_VERSION}-")
    schema = FeatureSchema.model_validate_json((directory / SCHEMA_NAME).read_text())
    assert schema.feature_names == feature_names(feat_config)
    parts = part_files(directory)
    assert len(parts) == N_RUNS
    table = pq.read_table(parts[0])
    pre_run = [n for n in schema.feature_names if not n.startswith("obs.")]
    assert table.column_names == [*KEY_COLUMNS, *pre_run]  # observations are not pre-run features
    assert all(str(table.schema.field(n).type) == "double" for n in pre_run)
    glob = f"{directory}/part-*.parquet"
    joined = duckdb.sql(
        f"select f.run_id, f.\"recipe.learning_rate\" as feat_lr, r.learning_rate, f.dataset_hash, r.dataset_hash as h, "
        f"f.base_hash, r.base_hash as b, f.\"data.n_examples\" as n, r.n_examples "
        f"from read_parquet('{glob}') f join read_parquet('{corpus}/runs-*.parquet') r using (run_id)"
    ).fetchall()
    assert len(joined) == N_RUNS
    for _, feat_lr, lr, dh, h, bh, b, n, n_examples in joined:
        assert feat_lr == pytest.approx(lr) and dh == h and bh == b and n == n_examples
    assert sorted(duckdb.sql(f"select run_id from read_parquet('{glob}')").fetchall()) == sorted(
        (i,) for i in RunStore(corpus).run_ids())


def test_rerun_is_a_no_op(featurized, tmp_path, tiny_loaded, feat_config):
    from experiments.corpus_builder.featurize_corpus import featurize_corpus

    corpus, directory = _copy(featurized, tmp_path)
    before = sorted(p.name for p in directory.iterdir())
    summary = featurize_corpus(corpus, tiny_loaded, progress=False, featurizer_config=feat_config)
    assert (summary.featurized, summary.already_featurized, summary.failed) == (0, N_RUNS, 0)
    assert summary.seconds_per_run is None
    assert sorted(p.name for p in directory.iterdir()) == before


def test_a_lost_part_is_recomputed_alone(featurized, tmp_path, tiny_loaded, feat_config):
    from experiments.corpus_builder.featurize_corpus import featurize_corpus

    corpus, directory = _copy(featurized, tmp_path)
    parts = part_files(directory)
    lost = pq.read_table(parts[1])
    parts[1].unlink()
    stale = directory / ".part-killed-mid-write.parquet.tmp"  # what a writer killed inside a flush leaves
    stale.write_bytes(b"partial")
    summary = featurize_corpus(corpus, tiny_loaded, progress=False, featurizer_config=feat_config)
    assert (summary.featurized, summary.already_featurized) == (1, N_RUNS - 1)
    assert set(stored_run_ids(directory)) == set(RunStore(corpus).run_ids())
    assert not stale.exists()
    redone = pq.read_table(part_files(directory)[-1])
    assert redone.column("run_id").to_pylist() == lost.column("run_id").to_pylist()
    # deterministic: the recomputed row equals the lost one
    for name in lost.column_names[len(KEY_COLUMNS):]:
        np.testing.assert_array_equal(redone.column(name).to_numpy(), lost.column(name).to_numpy())


def test_training_table_rows_match_a_direct_featurize_call(featurized, tiny_loaded, feat_config):
    from experiments.corpus_builder.execute import make_gen_context
    from experiments.corpus_builder.featurize_corpus import regenerate_examples
    from experiments.lab.datasets import default_registry
    from featurizers.features.featurizer import Featurizer
    from featurizers.features.observations import observation_features
    from featurizers.features.schema import EarlyObservations
    from surrogate.runs.training_table import load_training_table

    corpus, _ = featurized
    table = load_training_table([corpus])
    records = {r.run_id: r for r in RunStore(corpus).read()}
    assert sorted(table.run_ids) == sorted(records) and table.X.shape[0] == N_RUNS
    row = table.methods.index("lora")
    record = records[table.run_ids[row]]
    examples = regenerate_examples(record, default_registry(), make_gen_context(None))
    vector = Featurizer(tiny_loaded, feat_config).featurize(examples, record.recipe)
    direct = np.array([vector[name] for name in table.feature_names])
    np.testing.assert_allclose(table.X[row], direct, rtol=1e-12, equal_nan=True)
    assert table.X[row, table.feature_names.index("recipe.method_lora")] == 1.0
    for name, deltas in table.outcomes.items():
        assert deltas[row] == record.final.deltas[name]
    # the mirrored observations equal what the featurizer computes from the same early-run data
    step = int(table.early_observations[row, table.early_observation_names.index("obs.step")])
    checkpoint = next(c for c in record.checkpoints if c.step == step)
    observed = EarlyObservations(step=step, loss_curve=tuple(p for p in record.loss_curve if p.step <= step),
                                 probe_deltas={k: v for k, v in checkpoint.deltas.items() if k in CORE_OUTCOMES})
    expected = observation_features(observed, record.recipe)
    np.testing.assert_allclose(table.early_observations[row], [expected[n] for n in table.early_observation_names],
                               equal_nan=True)


def test_dataset_hash_mismatch_is_refused(runs_only, tmp_path, tiny_loaded, feat_config):
    from experiments.corpus_builder.featurize_corpus import (
        DatasetHashMismatchError,
        featurize_corpus,
    )

    records = RunStore(runs_only).read()
    bad = records[0].model_copy(update={"dataset": records[0].dataset.model_copy(update={"content_hash": "0" * 64})})
    corpus = tmp_path / "corpus"
    RunStore(corpus).append([bad])
    with pytest.raises(DatasetHashMismatchError, match=f"run {bad.run_id}: regenerated dataset"):
        featurize_corpus(corpus, tiny_loaded, progress=False, featurizer_config=feat_config)


def test_base_hash_mismatch_is_refused_naming_both(runs_only, tmp_path, tiny_loaded, feat_config):
    from experiments.corpus_builder.featurize_corpus import (
        BaseHashMismatchError,
        featurize_corpus,
    )

    records = RunStore(runs_only).read()
    other = "f" * 64
    moved = [r.model_copy(update={"base": r.base.model_copy(update={"weights_hash": other})}) for r in records]
    corpus = tmp_path / "corpus"
    RunStore(corpus).append(moved)
    with pytest.raises(BaseHashMismatchError, match=rf"weights hash {other}.*loaded model hashes to {tiny_loaded.weights_hash()}"):
        featurize_corpus(corpus, tiny_loaded, progress=False, featurizer_config=feat_config)
    assert not (corpus / "features").exists()


def test_failed_runs_are_logged_and_the_rest_complete(runs_only, tmp_path, tiny_loaded, feat_config, monkeypatch):
    from experiments.corpus_builder.featurize_corpus import (
        FeatureFailureLog,
        featurize_corpus,
    )
    from featurizers.features.featurizer import Featurizer

    corpus = tmp_path / "corpus"
    shutil.copytree(runs_only, corpus)
    victim = RunStore(corpus).read()[1]
    real = Featurizer.featurize

    def flaky(self, examples, recipe, observations=None):
        if recipe == victim.recipe:
            raise RuntimeError("out of memory")
        return real(self, examples, recipe, observations)

    monkeypatch.setattr(Featurizer, "featurize", flaky)
    summary = featurize_corpus(corpus, tiny_loaded, progress=False, featurizer_config=feat_config)
    assert (summary.featurized, summary.failed) == (N_RUNS - 1, 1)
    log = FeatureFailureLog(Path(summary.feature_dir))
    assert log.entries() == {victim.run_id: "RuntimeError: out of memory"}
    again = featurize_corpus(corpus, tiny_loaded, progress=False, featurizer_config=feat_config)
    assert (again.known_failures, again.featurized, again.failed) == (1, 0, 0)
    monkeypatch.setattr(Featurizer, "featurize", real)
    retried = featurize_corpus(corpus, tiny_loaded, progress=False, featurizer_config=feat_config, retry_failed=True)
    assert (retried.featurized, retried.failed) == (1, 0)
    assert log.entries() == {}


def test_cli_featurize_prints_a_summary(featurized, tmp_path, feat_config, capsys):
    from experiments.corpus_builder.cli import (
        add_corpus_parser,
        corpus_featurize_command,
        main,
    )

    parser = argparse.ArgumentParser(prog="tunecast")
    add_corpus_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["corpus", "featurize", "d", "--model", "lab", "--sources", "s", "--limit", "5",
                              "--no-progress", "--json"])
    assert (args.dir, args.model, args.sources, args.limit, args.no_progress, args.json) == ("d", "lab", "s", 5, True, True)
    assert args.func is corpus_featurize_command
    corpus, _ = _copy(featurized, tmp_path)
    config_file = tmp_path / "config.json"
    config_file.write_text(feat_config.model_dump_json())
    assert main(["featurize", str(corpus), "--model", "tiny", "--config", str(config_file), "--device", "cpu",
                 "--no-progress", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["featurized"], summary["already_featurized"], summary["failed"]) == (0, N_RUNS, 0)
    assert main(["featurize", str(corpus), "--model", "tiny", "--config", str(config_file), "--device", "cpu",
                 "--no-progress"]) == 0
    assert "featurized 0, skipped 3 already featurized" in capsys.readouterr().out
    assert main(["featurize", str(tmp_path / "missing"), "--model", "tiny"]) == 2


def test_checkpoint_steps_match_the_harness():
    from experiments.harness.runner import checkpoint_steps
    from surrogate.runs.training_table import checkpoint_step

    fractions = (0.1, 0.25, 0.5, 1.0)
    for steps in (1, 3, 4, 7, 10, 20, 155, 186, 1001):
        harness = checkpoint_steps(fractions, steps)
        assert sorted({checkpoint_step(f, steps) for f in fractions}) == harness


def test_mirrors_agree_with_the_featurizer():
    from featurizers.features.cache import cache_key
    from featurizers.features.config import FeaturizerConfig, ForwardConfig
    from featurizers.features.featurizer import feature_names
    from featurizers.features.observations import OBSERVATION_FEATURES as FEATURIZER_OBS
    from featurizers.features.observations import observation_features
    from featurizers.features.schema import EarlyObservations
    from surrogate.runs import LossPoint, Recipe
    from surrogate.runs.feature_files import recipe_key, stored_feature_names
    from surrogate.runs.observations import OBSERVATION_FEATURES, observation_values
    from surrogate.runs.training_table import partition_features

    assert OBSERVATION_FEATURES == FEATURIZER_OBS
    recipe = Recipe(method="lora", lora_rank=4, lora_alpha=8.0, lora_dropout=0.0, target_modules=("q_proj",),
                    learning_rate=1e-3, lr_schedule="cosine", warmup_steps=1, batch_size=4, steps=40, epochs=1.0,
                    max_seq_len=64, seed=3, optimizer="adamw")
    assert recipe_key(recipe) == cache_key(recipe.model_dump(mode="json"))
    curve = tuple(LossPoint(step=s, loss=4.0 - 0.05 * s + 0.01 * (s % 3)) for s in range(1, 5))
    deltas = {"forgetting.ref_loss": 0.02, "safety.refusal_margin": -0.3}
    ours = observation_values(4, recipe.steps, curve, deltas)
    theirs = observation_features(EarlyObservations(step=4, loss_curve=curve, probe_deltas=deltas), recipe)
    np.testing.assert_allclose([ours[n] for n in OBSERVATION_FEATURES], [theirs[n] for n in OBSERVATION_FEATURES],
                               rtol=1e-15, equal_nan=True)
    for config in (FeaturizerConfig(), FeaturizerConfig(forward=ForwardConfig(use_sentence_encoder=True))):
        names = stored_feature_names(feature_names(config))
        groups = partition_features(names)
        assert sum(len(g) for g in groups) == len(names) and groups[0] and groups[1] and groups[2]
