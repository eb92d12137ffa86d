"""The torch-free training-table reader: joins, checkpoint mapping, observations, errors.

Records and feature parts are synthetic here (no model), so these run in well under a
second; tests/harness/test_featurize_corpus.py covers features a real featurizer wrote.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from surrogate.runs import CORE_OUTCOMES, LossPoint, Recipe, RunRecord, RunStore
from surrogate.runs.feature_files import (
    CONFIG_NAME,
    FEATURES_DIR,
    SCHEMA_NAME,
    part_files,
    recipe_key,
    write_part,
)
from surrogate.runs.observations import OBSERVATION_FEATURES, observation_values
from surrogate.runs.training_table import (
    TrainingTableError,
    checkpoint_step,
    load_training_table,
    partition_features,
)

REPO = Path(__file__).resolve().parents[2]
FRACTIONS = (0.1, 0.25, 0.5, 1.0)
FEATURES = ("recipe.learning_rate", "recipe.steps", "data.n_examples", "lex.harm_per_1k", "fwd.loss_mean",
            "align.bias.gender_skew.cos")
SCHEMA = {"feature_names": [*FEATURES, *OBSERVATION_FEATURES], "featurizer_version": "0.1.0", "projection_dim": 8,
          "projection_kind": "auto", "seed": 0, "model_weights_hash": "base-hash"}
CONFIG = {"sample_size": 4}
FEATURE_DIR = "0.1.0-test"


def _record(run_id: str, steps: int, method: str = "full", slope: float = 1.0) -> RunRecord:
    """A record measured where the harness measures (0.1, 0.25, 0.5, 1.0) of `steps`; deltas grow with the step."""
    measured = sorted({checkpoint_step(f, steps) for f in FRACTIONS})
    base = {name: 1.0 + i for i, name in enumerate(CORE_OUTCOMES)}
    checkpoints = [{"step": 0, "fraction": 0.0, "outcomes": base, "deltas": {n: 0.0 for n in base}}]
    for step in measured:
        deltas = {n: slope * step * (i + 1) / steps for i, n in enumerate(base)}
        checkpoints.append({"step": step, "fraction": step / steps,
                            "outcomes": {n: base[n] + deltas[n] for n in base}, "deltas": deltas})
    recipe = {"method": method, "learning_rate": 1e-3, "lr_schedule": "cosine", "warmup_steps": 0, "batch_size": 4,
              "steps": steps, "epochs": 1.0, "max_seq_len": 64, "seed": 1, "optimizer": "adamw"}
    if method == "lora":
        recipe.update(lora_rank=4, lora_alpha=8.0, lora_dropout=0.0, target_modules=["q_proj"])
    return RunRecord.model_validate({
        "run_id": run_id, "created_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        "base": {"name": "lab", "weights_hash": "base-hash"},
        "dataset": {"family": f"fam-{method}", "params": {"size": 10}, "seed": 3, "content_hash": f"data-{run_id}",
                    "n_examples": 10, "format": "text"},
        "recipe": recipe,
        "checkpoints": checkpoints,
        "loss_curve": [{"step": s, "loss": 5.0 - 0.1 * s} for s in range(1, steps + 1)],
        "timing": {"wall_s": 1.0, "finetune_s": 1.0, "eval_s": 0.0, "tokens_seen": 10, "hardware": "cpu", "device": "cpu"},
    })


def _feature_row(record: RunRecord, offset: float) -> dict[str, object]:
    row: dict[str, object] = {"run_id": record.run_id, "dataset_hash": record.dataset.content_hash,
                              "base_hash": record.base.weights_hash, "recipe_key": recipe_key(record.recipe),
                              "featurizer_version": "0.1.0", "projection_kind": "rademacher"}
    row.update({name: offset + i for i, name in enumerate(FEATURES)})
    row["fwd.loss_mean"] = float("nan")  # missing values travel as NaN
    return row


def _corpus(root: Path, records: list[RunRecord], featurized: list[int], config: dict | None = None) -> Path:
    """A run store with a build config naming the fractions, and features for the records at `featurized`."""
    RunStore(root).append(records)
    (root / "build-test.json").write_text(json.dumps({"harness": {"checkpoint_fractions": list(FRACTIONS)}}))
    directory = root / FEATURES_DIR / FEATURE_DIR
    directory.mkdir(parents=True)
    (directory / SCHEMA_NAME).write_text(json.dumps(SCHEMA))
    (directory / CONFIG_NAME).write_text(json.dumps(config or CONFIG))
    if featurized:
        write_part(directory, FEATURES, [_feature_row(records[i], 10.0 * i) for i in featurized])
    return root


@pytest.fixture()
def records() -> list[RunRecord]:
    return [_record("run-a", 40), _record("run-b", 7, "lora", slope=2.0), _record("run-c", 155)]


def test_rows_join_by_run_id_in_corpus_order(tmp_path, records):
    corpus = _corpus(tmp_path / "c", records, featurized=[2, 0, 1])
    table = load_training_table([corpus])
    assert table.run_ids == ("run-a", "run-b", "run-c")
    assert table.methods == ("full", "lora", "full") and table.families[1] == "fam-lora"
    assert table.feature_names == FEATURES
    assert table.X.shape == (3, len(FEATURES)) and table.X.dtype == np.float64
    # run-c's row was written first with offset 20: the join is by id, not position
    assert table.X[2, 0] == 20.0 and table.X[0, 0] == 0.0 and table.X[1, 2] == 12.0
    assert np.isnan(table.columns(["fwd.loss_mean"])).all()
    assert table.recipe_names == ("recipe.learning_rate", "recipe.steps")
    assert table.dataset_stat_names == ("data.n_examples", "lex.harm_per_1k")
    assert table.model_feature_names == ("fwd.loss_mean", "align.bias.gender_skew.cos")
    assert table.corpus_hash == RunStore(corpus).store_hash()
    assert table.feature_schema == SCHEMA and table.featurizer_config == CONFIG


def test_outcomes_trajectories_and_early_observations(tmp_path, records):
    table = load_training_table([_corpus(tmp_path / "c", records, featurized=[0, 1, 2])])
    assert set(table.outcomes) == set(CORE_OUTCOMES)
    assert table.checkpoint_fractions == FRACTIONS and table.early_fraction == 0.1
    for r, record in enumerate(records):
        for name in CORE_OUTCOMES:
            assert table.outcomes[name][r] == record.final.deltas[name]
            assert table.trajectories[name].shape == (3, len(FRACTIONS))
            assert table.trajectories[name][r, -1] == record.final.deltas[name]
    # run-b has 7 steps: 0.1 and 0.25 both round to step 1 (0.7 -> 1, 1.75 -> 2); 0.5 -> 4 (3.5 rounds up)
    ref = table.trajectories["forgetting.ref_loss"][1]
    assert ref.tolist() == pytest.approx([2.0 * 1 / 7, 2.0 * 2 / 7, 2.0 * 4 / 7, 2.0])
    # run-c: 155 steps, the 10 % checkpoint is at step 16
    assert table.early_observation_names == OBSERVATION_FEATURES
    obs = dict(zip(OBSERVATION_FEATURES, table.early_observations[2]))
    assert obs["obs.step"] == 16 and obs["obs.fraction"] == pytest.approx(16 / 155)
    assert obs["obs.loss_first"] == pytest.approx(4.9) and obs["obs.loss_last"] == pytest.approx(5.0 - 1.6)
    assert obs["obs.loss_slope"] == pytest.approx(-0.1)
    assert obs["obs.delta.forgetting.ref_loss"] == pytest.approx(16 / 155)
    assert obs["obs.delta_extrapolated.forgetting.ref_loss"] == pytest.approx(1.0)


def test_missing_checkpoints_are_nan(tmp_path):
    short = _record("run-short", 40)
    # a run measured at 0.5 and 1.0 only: its 0.1/0.25 cells and early observations are NaN
    data = short.model_dump(mode="json")
    data["checkpoints"] = [c for c in data["checkpoints"] if c["step"] in (0, 20, 40)]
    record = RunRecord.model_validate(data)
    table = load_training_table([_corpus(tmp_path / "c", [record], featurized=[0])])
    traj = table.trajectories["bias.gender_skew"][0]
    assert np.isnan(traj[:2]).all() and not np.isnan(traj[2:]).any()
    assert np.isnan(table.early_observations).all()


def test_runs_without_features_are_dropped_with_a_count(tmp_path, records, caplog):
    corpus = _corpus(tmp_path / "c", records, featurized=[1])
    with caplog.at_level(logging.WARNING, logger="surrogate.runs.training_table"):
        table = load_training_table([corpus])
    assert table.run_ids == ("run-b",)
    assert "2 of 3 runs have no features" in caplog.text


def test_zero_featurized_runs_names_directory_and_command(tmp_path, records):
    bare = tmp_path / "bare"
    RunStore(bare).append(records)
    with pytest.raises(TrainingTableError, match=rf"{bare} has no featurized runs.*tunecast corpus featurize {bare} --model SPEC"):
        load_training_table([bare], checkpoint_fractions=FRACTIONS)
    empty = _corpus(tmp_path / "empty", records, featurized=[])
    with pytest.raises(TrainingTableError, match="tunecast corpus featurize"):
        load_training_table([empty])


def test_several_corpora_concatenate_and_must_agree(tmp_path, records):
    first = _corpus(tmp_path / "one", records[:2], featurized=[0, 1])
    second = _corpus(tmp_path / "two", records[2:], featurized=[0])
    table = load_training_table([first, second])
    assert table.run_ids == ("run-a", "run-b", "run-c")
    assert table.corpus_hash not in (RunStore(first).store_hash(), RunStore(second).store_hash())
    assert load_training_table([second, first]).corpus_hash == table.corpus_hash
    other = _corpus(tmp_path / "three", [_record("run-d", 20)], featurized=[0], config={"sample_size": 99})
    with pytest.raises(TrainingTableError, match="different featurizer config"):
        load_training_table([first, other])
    again = _corpus(tmp_path / "four", [records[0]], featurized=[0])
    with pytest.raises(TrainingTableError, match="run-a is in both"):
        load_training_table([first, again])


def test_stale_features_are_refused(tmp_path, records):
    corpus = _corpus(tmp_path / "c", records[:1], featurized=[])
    row = _feature_row(records[0], 0.0)
    row["dataset_hash"] = "something-else"
    write_part(corpus / FEATURES_DIR / FEATURE_DIR, FEATURES, [row])
    with pytest.raises(TrainingTableError, match="run-a were computed from another dataset_hash"):
        load_training_table([corpus])


def test_feature_directory_choice(tmp_path, records):
    corpus = _corpus(tmp_path / "c", records, featurized=[0])
    assert load_training_table([corpus], feature_dir_name=FEATURE_DIR).n_runs == 1
    with pytest.raises(TrainingTableError, match="no feature directory 'nope'"):
        load_training_table([corpus], feature_dir_name="nope")
    second = corpus / FEATURES_DIR / "0.2.0-other"
    second.mkdir()
    (second / SCHEMA_NAME).write_text(json.dumps(SCHEMA))
    with pytest.raises(TrainingTableError, match="pass feature_dir_name"):
        load_training_table([corpus])


def test_write_part_never_stores_a_run_twice(tmp_path, records):
    directory = tmp_path / "f"
    assert write_part(directory, FEATURES, [_feature_row(records[0], 0.0)]) is not None
    assert write_part(directory, FEATURES, [_feature_row(records[0], 1.0)]) is None
    written = write_part(directory, FEATURES, [_feature_row(records[0], 1.0), _feature_row(records[1], 1.0)])
    assert written is not None and len(part_files(directory)) == 2


def test_partition_rejects_unknown_families():
    assert partition_features(["recipe.x", "lex.y", "infl.z"]) == (("recipe.x",), ("lex.y",), ("infl.z",))
    with pytest.raises(TrainingTableError, match="'novel.feature' belongs to no feature family"):
        partition_features(["recipe.x", "novel.feature"])


def test_observation_values_nan_where_unobserved():
    values = observation_values(5, 10, [LossPoint(step=1, loss=2.0)], {"bias.gender_skew": 0.5, "bias.gender_skew.male": 1.0})
    assert values["obs.fraction"] == 0.5 and values["obs.loss_first"] == 2.0
    assert math.isnan(values["obs.loss_slope"])  # one point: no slope
    assert values["obs.delta_extrapolated.bias.gender_skew"] == 1.0
    assert math.isnan(values["obs.delta.forgetting.ref_loss"])
    with pytest.raises(ValueError, match="must lie in"):
        observation_values(11, 10, [], {})


def test_recipe_key_depends_on_every_field():
    recipe = Recipe(method="full", learning_rate=1e-3, lr_schedule="cosine", warmup_steps=0, batch_size=4, steps=10,
                    epochs=1.0, max_seq_len=64, seed=1, optimizer="adamw")
    assert recipe_key(recipe) == recipe_key(Recipe.model_validate(recipe.model_dump()))
    assert recipe_key(recipe) != recipe_key(recipe.model_copy(update={"seed": 2}))


def test_reader_imports_no_torch():
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import surrogate.runs.training_table"],
                            cwd=REPO, capture_output=True, text=True, check=True)
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert "surrogate.runs.training_table" in imported
    heavy = [m for m in imported if m.split(".")[0] in ("torch", "transformers", "featurizers", "experiments")]
    assert heavy == []
