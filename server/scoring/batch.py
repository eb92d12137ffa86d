"""A scoring batch from end to end: options -> meta-model -> candidates -> engine -> ranked results on disk.

``score_batch`` returns the ``BatchResults``; ``write_outputs`` puts them in the results
directory (ranking CSV/Parquet first, ``results.json`` last, each written to a temp file and
renamed, so a present ``results.json`` means a complete batch); ``run_score`` does both and
then writes the report when ``server.report`` offers ``write_report``.
"""

from __future__ import annotations

import importlib
import logging
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.scoring.candidates import CandidateSpec, discover
from server.scoring.local_engine import EngineOutput, SkipReporter, log_skip, run_local
from server.scoring.meta_model import (
    LoadedMetaModel,
    check_featurizer_match,
    heldout_coverage,
    load_meta_model,
)
from server.scoring.ranking import rank_candidates, write_ranking
from server.scoring.results import RESULTS_FILE, BatchResults, Provenance
from server.scoring.scorer import ScoreSettings, build_scorer, featurizer_config
from surrogate.evaluation.files import write_text_atomic
from surrogate.model import SchemaMismatchError, parse_target, read_training_provenance
from surrogate.model.artifact_files import TrainingProvenance
from surrogate.runs import Recipe

logger = logging.getLogger(__name__)

REPORT_MODULE = "server.report"
CACHE_PREFIX = "tunecast-score-cache-"


class ScoreOptions(BaseModel):
    """Everything ``tunecast score`` was asked for.

    ``cache_dir`` None: a temporary feature cache for this batch only (the featurizer's
    explanation reuses the gradients its featurization computed), deleted at the end.
    ``featurizer_config`` holds ``FeaturizerConfig`` fields (defaults when empty); it must be
    the configuration the meta-model's corpus was featurized with.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidates: tuple[str, ...] = Field(min_length=1)
    base_model: str = Field(min_length=1)
    recipe: Recipe
    out_dir: Path
    meta_model: Path | None = None
    settings: ScoreSettings
    featurizer_config: dict[str, Any] = Field(default_factory=dict)
    engine: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    max_workers: int | None = Field(default=None, ge=1)
    cache_dir: Path | None = None
    device: str = "auto"
    progress: bool = True


@dataclass(frozen=True)
class ScoreRun:
    results: BatchResults
    files: tuple[Path, ...]
    report: Path | None


def tunecast_version() -> str:
    try:
        return version("tunecast")
    except PackageNotFoundError:
        return "unknown"


def _end_of_run_outcomes(targets: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(parse_target(t)[0] for t in targets))


def score_batch(options: ScoreOptions, loaded: Any = None, on_skip: SkipReporter = log_skip) -> BatchResults:
    """Score every candidate of ``options``; ``loaded`` reuses an already loaded base model (local engine)."""
    from featurizers import FEATURIZER_VERSION
    from featurizers.features.featurizer import feature_names

    started = time.perf_counter()
    created = datetime.now(UTC).isoformat(timespec="seconds")
    meta_model = load_meta_model(options.meta_model)
    options = with_training_featurizer(options, read_training_provenance(meta_model.directory))
    config = featurizer_config(options.featurizer_config, options.device)
    check_featurizer_match(meta_model.model, feature_names(config), FEATURIZER_VERSION)
    check_featurizer_settings(config.result_material(), read_training_provenance(meta_model.directory))
    settings = options.settings
    coverage = heldout_coverage(meta_model.metrics, _end_of_run_outcomes(meta_model.model.targets_),
                                settings.judged_level)
    found = discover(options.candidates)
    for skipped in found.skipped:
        on_skip(skipped)
    with ExitStack() as stack:
        cache_dir = options.cache_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=CACHE_PREFIX)))
        output = _run_engine(options, found.specs, loaded, cache_dir, meta_model, coverage, on_skip)
    results = BatchResults(
        created_at=created,
        provenance=Provenance(
            base_model=options.base_model, base_weights_hash=output.weights_hash,
            recipe={**options.recipe.model_dump(mode="json"), "epochs": EPOCHS_NOTE},
            meta_model_version=meta_model.meta.model_version,
            meta_model_dir=str(meta_model.directory), corpus_hash=meta_model.meta.corpus_hash,
            featurizer_version=FEATURIZER_VERSION, tunecast_version=tunecast_version(),
        ),
        levels=settings.levels,
        heldout_coverage=coverage,
        candidates=rank_candidates(output.results),
        skipped=(*found.skipped, *output.skipped),
        elapsed_seconds=time.perf_counter() - started,
        scoring_config={
            "featurizer": config.model_dump(mode="json"), "risk": settings.risk.model_dump(mode="json"),
            "levels": list(settings.levels), "judged_level": settings.judged_level, "top_k": settings.top_k,
            "engine": options.engine, "cache_dir": str(options.cache_dir) if options.cache_dir else None,
        },
    )
    logger.info("scored %d candidates, skipped %d, in %.1fs", len(results.candidates), len(results.skipped),
                results.elapsed_seconds)
    return results


EPOCHS_NOTE = "counted per candidate: steps x batch size / examples in its training split"
"""What a batch's recipe says of epochs: each candidate's own count went into its features."""


def with_training_featurizer(options: ScoreOptions, provenance: TrainingProvenance | None) -> ScoreOptions:
    """Without ``--featurizer-config``, featurize as the meta-model's corpus was featurized
    (its ``training.json``), so the features mean what they meant in training."""
    if options.featurizer_config or provenance is None:
        return options
    return options.model_copy(update={"featurizer_config": dict(provenance.featurizer_config)})


def check_featurizer_settings(material: dict[str, Any], provenance: TrainingProvenance | None) -> None:
    """Refuse settings that change feature values (projection, sample size, seed, ...) from the
    corpus': same names and version, different meaning, silently wrong forecasts otherwise."""
    if provenance is None:
        return
    trained = dict(provenance.featurizer_config)
    differing = sorted(k for k in set(material) | set(trained) if material.get(k) != trained.get(k))
    if differing:
        raise SchemaMismatchError(
            f"featurizer settings {differing} differ from those the meta-model's corpus was featurized with "
            f"(e.g. {differing[0]}: {material.get(differing[0])!r} here, {trained.get(differing[0])!r} in training); "
            "leave --featurizer-config out to use the training settings"
        )


def _run_engine(options: ScoreOptions, specs: list[CandidateSpec], loaded: Any, cache_dir: Path,
                meta_model: LoadedMetaModel, coverage: dict[str, float], on_skip: SkipReporter) -> EngineOutput:
    if not specs:
        return EngineOutput()
    if options.engine == "ray":
        from server.scoring.ray_engine import WorkerSetup, run_on_ray

        setup = WorkerSetup(
            base_model=options.base_model, device=options.device, featurizer_config=options.featurizer_config,
            meta_model_dir=str(meta_model.directory.resolve()), recipe=options.recipe.model_dump(mode="json"),
            settings=options.settings, coverage=coverage, cache_dir=str(cache_dir.resolve()),
        )
        return run_on_ray(specs, setup, ray_address=options.ray_address, max_workers=options.max_workers,
                          progress=options.progress, on_skip=on_skip)
    if loaded is None:
        from featurizers.loading import load_causal_lm

        loaded = load_causal_lm(options.base_model, device=options.device)
    scorer = build_scorer(loaded, options.featurizer_config, options.device, cache_dir, meta_model.model,
                          options.recipe, options.settings, coverage)
    return run_local(specs, scorer, progress=options.progress, on_skip=on_skip)


def write_outputs(results: BatchResults, out_dir: Path) -> tuple[Path, ...]:
    """The ranking files, then ``results.json`` (its presence marks a complete batch)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = write_ranking(results, out_dir)
    results_path = write_text_atomic(out_dir / RESULTS_FILE, results.model_dump_json(indent=1) + "\n")
    return results_path, csv_path, parquet_path


def write_report_if_available(out_dir: Path) -> Path | None:
    """The report, when ``server.report`` exists and exposes ``write_report(results_dir) -> Path``."""
    try:
        module = importlib.import_module(REPORT_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != REPORT_MODULE:
            raise
        logger.info("no %s module: the report is not written", REPORT_MODULE)
        return None
    writer = getattr(module, "write_report", None)
    if writer is None:
        logger.info("%s has no write_report: the report is not written", REPORT_MODULE)
        return None
    return Path(writer(out_dir))


def run_score(options: ScoreOptions, loaded: Any = None, on_skip: SkipReporter = log_skip,
              report: bool = True) -> ScoreRun:
    results = score_batch(options, loaded, on_skip)
    files = write_outputs(results, options.out_dir)
    report_path = write_report_if_available(options.out_dir) if report else None
    return ScoreRun(results=results, files=files, report=report_path)
