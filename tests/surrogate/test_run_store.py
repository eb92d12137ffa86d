"""Run record schema and the Parquet run-corpus store (surrogate side, no torch)."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from surrogate.runs import (
    CORE_OUTCOMES,
    DuplicateRunError,
    RunRecord,
    RunStore,
    corpus_stats,
    delta_column,
    disk_schema,
    make_checkpoints,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CHILD_PAUSE_S = 0.05


def _record_dict(
    run_id: str,
    *,
    end_deltas: dict[str, float] | None = None,
    family: str = "instructions",
    method: str = "lora",
    base_name: str = "lab-tiny",
    extra_outcomes: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A valid record as plain data, with three checkpoints (0, 50, 100 %)."""
    base_values = {name: 1.0 + i for i, name in enumerate(CORE_OUTCOMES)}
    base_values.update(extra_outcomes or {})
    end = end_deltas or {}
    checkpoints = []
    for step, share in ((0, 0.0), (50, 0.5), (100, 1.0)):
        outcomes = {n: v + share * end.get(n, 0.25) for n, v in base_values.items()}
        deltas = {n: outcomes[n] - base_values[n] for n in outcomes}
        checkpoints.append(
            {"step": step, "fraction": share, "outcomes": outcomes, "deltas": deltas}
        )
    recipe: dict[str, Any] = {
        "method": method,
        "target_modules": ["q_proj", "v_proj"],
        "learning_rate": 2e-4,
        "lr_schedule": "cosine",
        "warmup_steps": 10,
        "batch_size": 8,
        "steps": 100,
        "epochs": 1.5,
        "max_seq_len": 256,
        "seed": 7,
        "optimizer": "adamw",
    }
    if method == "lora":
        recipe.update(lora_rank=8, lora_alpha=16.0, lora_dropout=0.05)
    return {
        "run_id": run_id,
        "created_at": datetime(2025, 11, 22, 8, 0, 0, tzinfo=UTC).isoformat(),
        "base": {"name": base_name, "weights_hash": "sha256:abc"},
        "dataset": {
            "family": family,
            "params": {"toxicity": 0.1, "n": 400, "tags": ["a", "b"], "chat": True, "note": None},
            "seed": 3,
            "content_hash": f"sha256:{run_id}",
            "n_examples": 400,
            "format": "jsonl-chat",
        },
        "recipe": recipe,
        "checkpoints": checkpoints,
        "loss_curve": [{"step": 1, "loss": 3.2}, {"step": 100, "loss": 2.1}],
        "timing": {
            "wall_s": 12.5,
            "finetune_s": 9.0,
            "eval_s": 3.0,
            "tokens_seen": 204800,
            "hardware": "2x cpu",
            "device": "cpu",
        },
    }


def _record(run_id: str, **kwargs: Any) -> RunRecord:
    return RunRecord.model_validate(_record_dict(run_id, **kwargs))


# ---- the record ------------------------------------------------------------


def test_record_json_round_trip_is_exact() -> None:
    record = _record("r1", extra_outcomes={"bias.stereotype_pref.male": 0.4})
    again = RunRecord.model_validate_json(record.model_dump_json())
    assert again == record
    assert again.dataset.params["chat"] is True
    assert again.dataset.params["n"] == 400 and isinstance(again.dataset.params["n"], int)


def test_record_is_frozen_and_forbids_extra_fields() -> None:
    record = _record("r1")
    with pytest.raises(ValidationError):
        record.run_id = "other"  # type: ignore[misc]
    data = _record_dict("r1")
    data["recipe"]["momentum"] = 0.9
    with pytest.raises(ValidationError, match="recipe.momentum"):
        RunRecord.model_validate(data)


def _error_text(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        RunRecord.model_validate(data)
    return str(info.value)


def test_validation_errors_name_the_field() -> None:
    data = _record_dict("r1")
    data["checkpoints"][2]["fraction"] = 0.4
    assert "checkpoints[2].fraction" in _error_text(data)

    data = _record_dict("r1")
    data["checkpoints"][0]["step"] = 5
    assert "checkpoints[0]" in _error_text(data)

    data = _record_dict("r1")
    del data["checkpoints"][1]["outcomes"]["bias.gender_skew"]
    del data["checkpoints"][1]["deltas"]["bias.gender_skew"]
    text = _error_text(data)
    assert "checkpoints[1].outcomes" in text and "bias.gender_skew" in text

    data = _record_dict("r1")
    data["checkpoints"][1]["outcomes"]["task.heldout_loss"] = float("nan")
    assert "checkpoints.1.outcomes.`task.heldout_loss`" in _error_text(data)

    data = _record_dict("r1")
    data["dataset"]["params"]["toxicity"] = float("inf")
    assert "dataset.params['toxicity']" in _error_text(data)

    data = _record_dict("r1")
    data["dataset"]["params"]["nested"] = {"a": 1}
    assert "dataset.params['nested']" in _error_text(data)

    data = _record_dict("r1")
    data["timing"]["wall_s"] = float("inf")
    assert "timing.wall_s" in _error_text(data)

    data = _record_dict("r1")
    data["checkpoints"][2]["deltas"]["safety.refusal_rate"] += 1.0
    assert "checkpoints[2].deltas['safety.refusal_rate']" in _error_text(data)

    data = _record_dict("r1")
    data["recipe"]["lora_rank"] = None
    assert "recipe.lora_rank" in _error_text(data)

    data = _record_dict("r1")
    data["checkpoints"][1]["outcomes"]["bad name"] = 1.0
    data["checkpoints"][1]["deltas"]["bad name"] = 0.0
    assert "bad name" in _error_text(data)


def test_make_checkpoints_computes_fractions_and_deltas() -> None:
    ckpts = make_checkpoints(
        [(0, {"forgetting.ref_loss": 2.0}), (25, {"forgetting.ref_loss": 2.5})], total_steps=100
    )
    assert [c.fraction for c in ckpts] == [0.0, 0.25]
    assert ckpts[1].deltas == {"forgetting.ref_loss": 0.5}
    with pytest.raises(ValueError, match="step-0"):
        make_checkpoints([(5, {"forgetting.ref_loss": 2.0})], total_steps=100)


# ---- the store -------------------------------------------------------------


def test_round_trip_through_store(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "corpus")
    assert store.read() == [] and store.run_ids() == []
    first = [_record("a"), _record("b", method="full")]
    second = [_record("c", extra_outcomes={"safety.refusal_rate.violence": 70.0})]
    store.append(first)
    store.append(second)
    assert store.read() == first + second
    assert store.run_ids() == ["a", "b", "c"]
    table = store.to_table()
    assert table.column("run_id").to_pylist() == ["a", "b", "c"]
    assert delta_column("safety.refusal_rate.violence") in table.column_names
    violence = table.column(delta_column("safety.refusal_rate.violence")).to_pylist()
    assert violence == [None, None, 0.25]
    rebuilt = [RunRecord.model_validate_json(t) for t in table.column("record_json").to_pylist()]
    assert rebuilt == first + second


def test_duplicates_refused_within_batch_and_across_batches(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    with pytest.raises(DuplicateRunError, match="'x'"):
        store.append([_record("x"), _record("y"), _record("x")])
    assert store.read() == []
    store.append([_record("x")])
    with pytest.raises(DuplicateRunError, match=r"already stored.*'x'"):
        store.append([_record("z"), _record("x")])
    assert store.run_ids() == ["x"]
    assert len(store.batch_files()) == 1


def test_plain_pyarrow_and_duckdb_read_the_directory(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.append([_record("a", end_deltas={"forgetting.ref_loss": 0.5})])
    store.append(
        [
            _record("b", end_deltas={"forgetting.ref_loss": 1.5}, extra_outcomes={"x.y": 1.0}),
            _record("c", end_deltas={"forgetting.ref_loss": 2.5}),
        ]
    )
    (tmp_path / ".runs-20990101T000000000000Z-dead.parquet.tmp").write_bytes(b"PAR1\x00trunc")

    table = pq.read_table(tmp_path)
    assert sorted(table.column("run_id").to_pylist()) == ["a", "b", "c"]
    assert sorted(table.column("delta.forgetting.ref_loss").to_pylist()) == [0.5, 1.5, 2.5]
    for path in store.batch_files():
        assert pq.read_schema(path).remove_metadata().equals(disk_schema())

    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(
        f"SELECT count(*), sum(\"delta.forgetting.ref_loss\") "
        f"FROM read_parquet('{tmp_path}/*.parquet')"
    ).fetchall()
    assert rows == [(3, pytest.approx(4.5))]
    mapped = duckdb.sql(
        f"SELECT end_deltas['x.y'] FROM read_parquet('{tmp_path}/*.parquet') WHERE run_id = 'b'"
    ).fetchall()
    assert mapped[0][0] in (0.25, [0.25])


def test_crashed_writer_temp_file_is_ignored_then_cleaned(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.append([_record("a")])
    good = store.batch_files()[0].read_bytes()
    stray = tmp_path / ".runs-20250101T000000000000Z-0123.parquet.tmp"
    stray.write_bytes(good[: len(good) // 2])  # a writer that died mid-file
    assert store.read() == [_record("a")]
    assert pq.read_table(tmp_path).num_rows == 1
    assert corpus_stats(tmp_path)["runs"] == 1
    store.append([_record("b")])
    assert not stray.exists()
    assert store.run_ids() == ["a", "b"]


def test_store_hash_depends_on_content_not_batching(tmp_path: Path) -> None:
    one, two, three = RunStore(tmp_path / "1"), RunStore(tmp_path / "2"), RunStore(tmp_path / "3")
    one.append([_record("a"), _record("b")])
    two.append([_record("b")])
    two.append([_record("a")])
    three.append([_record("a"), _record("b", end_deltas={"bias.gender_skew": 0.3})])
    assert one.store_hash() == two.store_hash()
    assert one.store_hash() != three.store_hash()
    assert len(one.store_hash()) == 64


def _append_many(directory: str, prefix: str, barrier: Any) -> None:
    """Child process: race the sibling appending small batches plus one shared id."""
    store = RunStore(directory)
    barrier.wait()
    for i in range(6):
        store.append([_record(f"{prefix}-{i}-0"), _record(f"{prefix}-{i}-1")])
        time.sleep(CHILD_PAUSE_S)  # let the sibling take the lock, so batches interleave
        if i == 2:
            try:
                store.append([_record("shared")])
            except DuplicateRunError:
                pass


def test_concurrent_appends_from_two_processes_keep_every_run(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [
        ctx.Process(target=_append_many, args=(str(tmp_path), p, barrier)) for p in ("p", "q")
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    ids = RunStore(tmp_path).run_ids()
    owners = [run_id.split("-")[0] for run_id in ids if run_id != "shared"]
    switches = sum(a != b for a, b in zip(owners, owners[1:], strict=False))
    assert switches >= 2, f"appends did not interleave: {owners}"
    expected = {f"{p}-{i}-{j}" for p in ("p", "q") for i in range(6) for j in range(2)}
    assert sorted(ids) == sorted(expected | {"shared"})
    assert not list(tmp_path.glob(".*.tmp"))


def test_unreadable_batch_file_is_reported_by_name(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.append([_record("a")])
    bad = tmp_path / "runs-20990101T000000000000Z-bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(ValueError, match=bad.name):
        store.read()


# ---- corpus stats ----------------------------------------------------------


def test_corpus_stats_shape_and_values(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.append(
        [
            _record("a", end_deltas={"forgetting.ref_loss": 1.0}, family="code", method="full"),
            _record("b", end_deltas={"forgetting.ref_loss": 3.0}, base_name="lab-small"),
        ]
    )
    store.append(
        [_record("c", end_deltas={"forgetting.ref_loss": 5.0}, extra_outcomes={"x.y": 0.0})]
    )
    stats = corpus_stats(tmp_path)
    assert set(stats) == {"runs", "families", "methods", "base_models", "outcomes"}
    assert stats["runs"] == 3
    assert stats["families"] == ["code", "instructions"]
    assert stats["methods"] == ["full", "lora"]
    assert stats["base_models"] == ["lab-small", "lab-tiny"]
    ref = stats["outcomes"]["forgetting.ref_loss"]
    assert ref == pytest.approx({"mean": 3.0, "std": (8 / 3) ** 0.5, "min": 1.0, "max": 5.0})
    assert stats["outcomes"]["x.y"] == {"mean": 0.25, "std": 0.0, "min": 0.25, "max": 0.25}
    assert set(stats["outcomes"]) == set(CORE_OUTCOMES) | {"x.y"}
    json.dumps(stats)  # plain JSON types only
    assert corpus_stats(tmp_path / "empty") == {
        "runs": 0, "families": [], "methods": [], "base_models": [], "outcomes": {}
    }


# ---- the no-torch rule -----------------------------------------------------


def test_importing_surrogate_runs_does_not_import_torch() -> None:
    code = "import sys, surrogate.runs; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_table_types_are_analysis_friendly(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.append([_record("a")])
    schema = store.to_table().schema
    assert schema.field("learning_rate").type == pa.float64()
    assert schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("target_modules").type == pa.list_(pa.string())
