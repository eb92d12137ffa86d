"""`featurize_corpus`: pre-run features for every run of a run corpus, stored beside it.

Features are not part of a run record (ARCHITECTURE.md, "The run corpus"): each run's
dataset is regenerated from its record (family, params, seed), checked against the
record's content hash, and featurized with the run's recipe by one Featurizer on one
loaded base. Rows land in `CORPUS/features/<version>-<fingerprint>/part-*.parquet`
(layout: `surrogate.runs.feature_files`), flushed every few runs so a kill loses
little, and a rerun skips the runs already stored.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from tqdm.auto import tqdm

from experiments.corpus_builder.execute import make_gen_context
from experiments.corpus_builder.failures import read_run_entries
from experiments.harness.data import PARAM_KEY_SEPARATOR
from experiments.lab.datasets import FamilyRegistry, GenContext, default_registry
from featurizers.features.config import FeaturizerConfig
from featurizers.features.featurizer import Featurizer
from featurizers.features.records import content_hash
from featurizers.features.schema import FeatureSchema, FeatureVector
from featurizers.io import write_json_atomic, write_text_atomic
from featurizers.loading import LoadedModel, load_causal_lm
from surrogate.runs import RunRecord, RunStore
from surrogate.runs.feature_files import (
    CONFIG_NAME,
    FAILED_NAME,
    RUN_ID_COLUMN,
    SCHEMA_NAME,
    feature_dir_name,
    features_root,
    read_json_file,
    recipe_key,
    stored_feature_names,
    stored_run_ids,
    write_part,
)

logger = logging.getLogger(__name__)

FLUSH_EVERY_RUNS = 20
"""Rows kept in memory before a part file is written: a kill loses at most this many runs' work."""
MAX_IDS_IN_ERROR = 5


class DatasetHashMismatchError(ValueError):
    """The regenerated dataset of a run is not the one the run trained on."""


class BaseHashMismatchError(ValueError):
    """The loaded base model is not the one the corpus's runs fine-tuned."""


class FeaturizeSummary(BaseModel):
    """What one call of featurize_corpus did."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    corpus_dir: str
    feature_dir: str
    runs: int
    already_featurized: int
    known_failures: int
    featurized: int
    failed: int
    load_s: float
    featurize_s: float
    seconds_per_run: float | None
    cpu_seconds_per_run: float | None
    """Process CPU time per run: the honest cost on a shared machine, where wall time also counts waiting."""


class FeatureFailureLog:
    """failed.jsonl in a feature directory: one {"run_id", "error"} per line, latest per run.

    Featurization is deterministic, so a failed run fails again; resume skips the ids listed
    here unless asked to retry. Rewritten whole (temp + rename): it stays small.
    """

    def __init__(self, feature_dir: Path) -> None:
        self.path = feature_dir / FAILED_NAME

    def entries(self) -> dict[str, str]:
        return {str(e["run_id"]): str(e.get("error", "")) for e in read_run_entries(self.path)}

    def update(self, failed: Mapping[str, str], succeeded: set[str]) -> None:
        """Record new failures and forget runs that have since been featurized."""
        if not failed and not (succeeded & set(self.entries())):
            return
        kept = {k: v for k, v in self.entries().items() if k not in succeeded}
        kept.update(failed)
        text = "".join(json.dumps({"run_id": k, "error": v}, sort_keys=True) + "\n" for k, v in kept.items())
        write_text_atomic(self.path, text)


def dataset_params(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Undo the harness's flattening of nested params (`base_params.rate` -> {'base_params': {'rate': ...}})."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(PARAM_KEY_SEPARATOR)
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"dataset.params key {key!r} nests under a non-object value")  # noqa: TRY004 (bad record)
        node[parts[-1]] = value
    return nested


def regenerate_examples(record: RunRecord, registry: FamilyRegistry, context: GenContext) -> list[Mapping[str, Any]]:
    """The run's training records, regenerated from family + params + seed and checked by content hash."""
    ref = record.dataset
    examples = registry.generate(ref.family, dataset_params(ref.params), ref.seed, context)
    records = [e.record for e in examples]
    regenerated = content_hash(records)
    if regenerated != ref.content_hash:
        raise DatasetHashMismatchError(
            f"run {record.run_id}: regenerated dataset ({ref.family}, seed {ref.seed}) hashes to {regenerated}, "
            f"the record says {ref.content_hash}; the generator or its text sources changed since the run "
            "(pass --sources with the caches the corpus was built from)"
        )
    return records


def corpus_schema(featurizer: Featurizer) -> FeatureSchema:
    """The corpus-level schema: the projection kind is the config's policy ('auto' resolves per run,
    dense for small LoRA spaces, CountSketch for full ones), and each row records the kind it used."""
    return featurizer.schema(featurizer.config.projection.kind)


def feature_dir_for(corpus_dir: Path, schema: FeatureSchema, config: FeaturizerConfig) -> Path:
    """The directory features of these settings live in (not created here)."""
    return features_root(corpus_dir) / feature_dir_name(schema.model_dump(mode="json"), config.result_material())


def prepare_feature_dir(directory: Path, schema: FeatureSchema, config: FeaturizerConfig) -> None:
    """Create the directory with its schema and config, or reopen it and check both."""
    material = config.result_material()
    schema_file, config_file = directory / SCHEMA_NAME, directory / CONFIG_NAME
    if schema_file.is_file():
        stored = FeatureSchema.model_validate(read_json_file(schema_file))
        stored.check_same(schema)
        if read_json_file(config_file) != json.loads(json.dumps(material)):
            raise ValueError(f"{config_file} differs from the featurizer config in use; it was edited by hand: "
                             f"delete {directory} to recompute")
        return
    write_json_atomic(config_file, material)
    write_json_atomic(schema_file, schema.model_dump(mode="json"))


def _check_base(pending: list[RunRecord], loaded_hash: str) -> None:
    wrong = [r for r in pending if r.base.weights_hash != loaded_hash]
    if wrong:
        hashes = sorted({r.base.weights_hash for r in wrong})
        raise BaseHashMismatchError(
            f"{len(wrong)} run(s) (e.g. {[r.run_id for r in wrong[:MAX_IDS_IN_ERROR]]}) fine-tuned a base with "
            f"weights hash {', '.join(hashes)}, but the loaded model hashes to {loaded_hash}; "
            "pass the --model the corpus was built from"
        )


def _row(record: RunRecord, vector: FeatureVector, schema: FeatureSchema, names: tuple[str, ...]) -> dict[str, Any]:
    got = vector.feature_schema
    expected = schema if schema.projection_kind != "auto" else schema.model_copy(update={"projection_kind": got.projection_kind})
    expected.check_same(got)
    values = vector.as_dict()
    return {
        RUN_ID_COLUMN: record.run_id,
        "dataset_hash": record.dataset.content_hash,
        "base_hash": record.base.weights_hash,
        "recipe_key": recipe_key(record.recipe),
        "featurizer_version": got.featurizer_version,
        "projection_kind": got.projection_kind,
        **{name: float(values[name]) for name in names},
    }


def featurize_corpus(
    corpus_dir: str | Path,
    model_spec: str | LoadedModel,
    *,
    sources_dir: str | Path | None = None,
    limit: int | None = None,
    progress: bool = True,
    featurizer_config: FeaturizerConfig | None = None,
    retry_failed: bool = False,
    cache_dir: str | Path | None = None,
) -> FeaturizeSummary:
    """Featurize every run of `corpus_dir` not featurized yet under these settings (at most `limit`).

    `model_spec` may be a loaded model (reused). A dataset or base hash that does not match a run's
    record is refused; any other failure is logged in failed.jsonl and the run skipped (and skipped
    on resume unless `retry_failed`).
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    corpus = Path(corpus_dir)
    store = RunStore(corpus)
    if not store.batch_files():
        raise ValueError(f"{corpus} holds no runs; build it first with `tunecast corpus build --out {corpus} ...`")
    records = store.read()
    config = featurizer_config or FeaturizerConfig()
    started = time.perf_counter()
    loaded = model_spec if isinstance(model_spec, LoadedModel) else load_causal_lm(model_spec, device=config.device)
    featurizer = Featurizer(loaded, config, cache_dir=cache_dir)
    schema = corpus_schema(featurizer)
    load_s = time.perf_counter() - started

    directory = feature_dir_for(corpus, schema, config)
    stored = set(stored_run_ids(directory))
    failures = FeatureFailureLog(directory)
    failed_before = set() if retry_failed else set(failures.entries())
    pending = [r for r in records if r.run_id not in stored and r.run_id not in failed_before]
    pending = pending[:limit] if limit is not None else pending
    _check_base(pending, loaded.weights_hash())
    prepare_feature_dir(directory, schema, config)
    # full-method runs share one parameter space: grouping them avoids rebuilding its model copy
    pending.sort(key=lambda r: r.recipe.method)
    logger.info("%d runs, %d featurized, %d known failures, %d to featurize into %s", len(records),
                len(stored), len(failed_before & {r.run_id for r in records}), len(pending), directory)

    names = stored_feature_names(schema.feature_names)
    registry, context = default_registry(), make_gen_context(sources_dir)
    rows: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    done: set[str] = set()
    loop_started, loop_cpu = time.perf_counter(), time.process_time()

    def flush() -> None:
        write_part(directory, names, rows)
        done.update(row[RUN_ID_COLUMN] for row in rows)
        failures.update(failed, done)
        rows.clear()

    try:
        with tqdm(total=len(pending), desc="featurize runs", unit="run", disable=not progress) as bar:
            for record in pending:
                try:
                    examples = regenerate_examples(record, registry, context)
                    rows.append(_row(record, featurizer.featurize(examples, record.recipe), schema, names))
                except DatasetHashMismatchError:
                    raise
                except (ValueError, RuntimeError, ArithmeticError, KeyError, IndexError, OSError) as exc:
                    logger.warning("featurizing run %s failed: %s", record.run_id, exc)
                    failed[record.run_id] = f"{type(exc).__name__}: {exc}"
                    bar.set_postfix(failed=len(failed))
                bar.update(1)
                if len(rows) >= FLUSH_EVERY_RUNS:
                    flush()
    finally:
        flush()
    featurize_s, cpu_s = time.perf_counter() - loop_started, time.process_time() - loop_cpu
    return FeaturizeSummary(
        corpus_dir=str(corpus),
        feature_dir=str(directory),
        runs=len(records),
        already_featurized=len(stored & {r.run_id for r in records}),
        known_failures=len(failed_before & {r.run_id for r in records}),
        featurized=len(done),
        failed=len(failed),
        load_s=round(load_s, 3),
        featurize_s=round(featurize_s, 3),
        seconds_per_run=round(featurize_s / len(pending), 3) if pending else None,
        cpu_seconds_per_run=round(cpu_s / len(pending), 3) if pending else None,
    )
