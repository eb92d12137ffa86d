"""Flattening run records into one analysis-friendly Arrow table.

The flat columns are for people and query engines (pyarrow, DuckDB, Spark);
the ``record_json`` column keeps the full record so nothing is lost and our
own reader never depends on the flat layout.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from surrogate.runs.outcomes import CORE_OUTCOMES, delta_column
from surrogate.runs.record import RunRecord

if TYPE_CHECKING:  # pyarrow is imported where tables are built: serving never needs it
    import pyarrow as pa

RECORD_JSON_COLUMN: Final[str] = "record_json"
RUN_ID_COLUMN: Final[str] = "run_id"
END_DELTAS_COLUMN: Final[str] = "end_deltas"


def _fixed_fields() -> list[pa.Field]:
    """The columns every run has, whatever outcomes it measured."""
    import pyarrow as pa

    return [
        pa.field(RUN_ID_COLUMN, pa.string(), nullable=False),
        pa.field("schema_version", pa.int32(), nullable=False),
        pa.field("created_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("base_name", pa.string(), nullable=False),
        pa.field("base_hash", pa.string(), nullable=False),
        pa.field("family", pa.string(), nullable=False),
        pa.field("dataset_hash", pa.string(), nullable=False),
        pa.field("dataset_seed", pa.int64(), nullable=False),
        pa.field("dataset_format", pa.string(), nullable=False),
        pa.field("dataset_params_json", pa.string(), nullable=False),
        pa.field("n_examples", pa.int64(), nullable=False),
        pa.field("method", pa.string(), nullable=False),
        pa.field("lora_rank", pa.int64()),
        pa.field("lora_alpha", pa.float64()),
        pa.field("lora_dropout", pa.float64()),
        pa.field("target_modules", pa.list_(pa.string()), nullable=False),
        pa.field("learning_rate", pa.float64(), nullable=False),
        pa.field("lr_schedule", pa.string(), nullable=False),
        pa.field("warmup_steps", pa.int64(), nullable=False),
        pa.field("batch_size", pa.int64(), nullable=False),
        pa.field("steps", pa.int64(), nullable=False),
        pa.field("epochs", pa.float64(), nullable=False),
        pa.field("max_seq_len", pa.int64(), nullable=False),
        pa.field("recipe_seed", pa.int64(), nullable=False),
        pa.field("optimizer", pa.string(), nullable=False),
        pa.field("n_checkpoints", pa.int64(), nullable=False),
        pa.field("final_step", pa.int64(), nullable=False),
        pa.field("final_fraction", pa.float64(), nullable=False),
        pa.field("final_train_loss", pa.float64()),
        pa.field("wall_s", pa.float64(), nullable=False),
        pa.field("finetune_s", pa.float64(), nullable=False),
        pa.field("eval_s", pa.float64(), nullable=False),
        pa.field("tokens_seen", pa.int64(), nullable=False),
        pa.field("hardware", pa.string(), nullable=False),
        pa.field("device", pa.string(), nullable=False),
    ]


def flat_schema(outcome_names: Sequence[str]) -> pa.Schema:
    """Fixed columns, one nullable ``delta.<name>`` per outcome, the end-delta
    map (every outcome, breakdowns included) and the full record as JSON."""
    import pyarrow as pa

    delta_fields = [pa.field(delta_column(name), pa.float64()) for name in outcome_names]
    return pa.schema(
        [
            *_fixed_fields(),
            *delta_fields,
            pa.field(END_DELTAS_COLUMN, pa.map_(pa.string(), pa.float64()), nullable=False),
            pa.field(RECORD_JSON_COLUMN, pa.string(), nullable=False),
        ]
    )


def disk_schema() -> pa.Schema:
    """Schema of every batch file: identical across files, so plain readers
    (which take the first file's schema) never drop a column."""
    return flat_schema(CORE_OUTCOMES)


def _row(record: RunRecord, outcome_names: Sequence[str]) -> dict[str, object]:
    recipe, dataset, timing, final = record.recipe, record.dataset, record.timing, record.final
    row: dict[str, object] = {
        RUN_ID_COLUMN: record.run_id,
        "schema_version": record.schema_version,
        "created_at": record.created_at,
        "base_name": record.base.name,
        "base_hash": record.base.weights_hash,
        "family": dataset.family,
        "dataset_hash": dataset.content_hash,
        "dataset_seed": dataset.seed,
        "dataset_format": dataset.format,
        "dataset_params_json": json.dumps(dataset.params, sort_keys=True, allow_nan=False),
        "n_examples": dataset.n_examples,
        "method": recipe.method,
        "lora_rank": recipe.lora_rank,
        "lora_alpha": recipe.lora_alpha,
        "lora_dropout": recipe.lora_dropout,
        "target_modules": list(recipe.target_modules),
        "learning_rate": recipe.learning_rate,
        "lr_schedule": recipe.lr_schedule,
        "warmup_steps": recipe.warmup_steps,
        "batch_size": recipe.batch_size,
        "steps": recipe.steps,
        "epochs": recipe.epochs,
        "max_seq_len": recipe.max_seq_len,
        "recipe_seed": recipe.seed,
        "optimizer": recipe.optimizer,
        "n_checkpoints": len(record.checkpoints),
        "final_step": final.step,
        "final_fraction": final.fraction,
        "final_train_loss": record.loss_curve[-1].loss if record.loss_curve else None,
        "wall_s": timing.wall_s,
        "finetune_s": timing.finetune_s,
        "eval_s": timing.eval_s,
        "tokens_seen": timing.tokens_seen,
        "hardware": timing.hardware,
        "device": timing.device,
    }
    for name in outcome_names:
        row[delta_column(name)] = final.deltas.get(name)
    row[END_DELTAS_COLUMN] = sorted(final.deltas.items())
    row[RECORD_JSON_COLUMN] = record.model_dump_json()
    return row


def records_to_table(records: Sequence[RunRecord], outcome_names: Sequence[str]) -> pa.Table:
    """One row per record, with a delta column for each name in ``outcome_names``."""
    import pyarrow as pa

    schema = flat_schema(outcome_names)
    return pa.Table.from_pylist([_row(r, outcome_names) for r in records], schema=schema)
