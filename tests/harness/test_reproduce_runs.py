"""The reproduction check: a tiny corpus's runs re-run exactly, a tampered record is flagged, the report embeds it."""

from __future__ import annotations

import json
import shutil

import pytest

from experiments.corpus_analysis.families_md import split_row
from experiments.corpus_analysis.reproduction import (
    REPRODUCTION_FILE,
    TOLERANCES,
    ReproductionReport,
    compare_runs,
    percentages_consistent,
)
from surrogate.runs import CORE_OUTCOMES, RunRecord, RunStore
from tests.harness.corpus_fakes import fake_record

TAMPER_NATS = 0.01


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory, tiny_loaded, small_harness):
    """Two short runs on the tiny base, built by the corpus builder (so build-*.json is saved beside them)."""
    from experiments.corpus_builder import FloatRange, IntRange, SamplingSpace, build_corpus

    space = SamplingSpace(families=["neutral_instruct", "list_format"], dataset_size=IntRange(low=50, high=60),
                          steps=IntRange(low=4, high=6), batch_sizes=[4], max_seq_lens=[64],
                          full_lr=FloatRange(low=1e-3, high=3e-3, log=True),
                          lora_lr=FloatRange(low=3e-3, high=1e-2, log=True))
    harness = small_harness.model_copy(update={"checkpoint_fractions": (0.5, 1.0)})
    out = tmp_path_factory.mktemp("repro") / "corpus"
    build_corpus(tiny_loaded, 2, 0, out, space=space, harness=harness, progress=False)
    return out


def _tampered_copy(corpus, dest, run_id: str) -> None:
    """The same corpus with one run's end-of-run reference loss raised (outcome and delta, so it still validates)."""
    shutil.copytree(corpus, dest, ignore=shutil.ignore_patterns("runs-*.parquet", ".*"))
    records = []
    for record in RunStore(corpus).read():
        if record.run_id == run_id:
            data = record.model_dump(mode="json")
            final = data["checkpoints"][-1]
            final["outcomes"]["forgetting.ref_loss"] += TAMPER_NATS
            final["deltas"]["forgetting.ref_loss"] += TAMPER_NATS
            record = RunRecord.model_validate(data)
        records.append(record)
    RunStore(dest).append(records)


def test_reproduces_a_tiny_corpus_exactly_and_the_report_embeds_it(tiny_corpus, tiny_loaded, tmp_path):
    from experiments.corpus_report import REPORT_FILE, build_report
    from experiments.reproduce_runs import main

    out = tmp_path / "results" / "tiny"
    # loads the build's base spec ("tiny") itself: the path a real check takes
    code = main(["--corpus", str(tiny_corpus), "--n", "2", "--seed", "0", "--out", str(out / REPRODUCTION_FILE),
                 "--torch-threads", "1"])
    assert code == 0
    report = ReproductionReport.model_validate_json((out / REPRODUCTION_FILE).read_text())
    assert report.passed and report.n_passed == 2 and report.corpus_hash == RunStore(tiny_corpus).store_hash()
    assert {r.run_id for r in report.runs} == set(RunStore(tiny_corpus).run_ids())
    for run in report.runs:
        assert set(run.outcomes) == {"forgetting.ref_loss", "task.heldout_loss"}  # what the small harness measures
        assert all(c.abs_diff == 0.0 and c.passed for c in run.outcomes.values())  # deterministic on CPU
        assert run.max_abs_diff_any == 0.0 and run.seconds > 0 and run.recorded_wall_s > 0
    assert report.n_items == {"forgetting.reference": report.n_items["forgetting.reference"]}
    assert set(report.tolerances) == set(CORE_OUTCOMES) and "deterministic" in report.rationale

    build_report(tiny_corpus, out)
    text = (out / REPORT_FILE).read_text()
    assert "2/2 passed; same corpus" in text
    assert all(f"| `{r.run_id}` |" in text for r in report.runs)
    table = [line for line in text.splitlines() if any(line.startswith(f"| `{r.run_id}` |") for r in report.runs)]
    assert len(table) == 2 + 2 * 2  # a row per run, then a row per run x outcome
    assert all(len(split_row(line)) in (6, 7) for line in table)  # no stray '|' inside a cell


def test_a_tampered_record_is_flagged(tiny_corpus, tiny_loaded, tmp_path):
    from experiments.reproduce_runs import reproduce

    target = min(RunStore(tiny_corpus).run_ids())
    tampered = tmp_path / "tampered"
    _tampered_copy(tiny_corpus, tampered, target)
    report = reproduce(tampered, 2, 0, base=tiny_loaded, torch_threads=1)
    assert not report.passed and report.n_failed == 1
    runs = {r.run_id: r for r in report.runs}
    bad = runs[target]
    assert not bad.passed
    assert not bad.outcomes["forgetting.ref_loss"].passed
    assert bad.outcomes["forgetting.ref_loss"].abs_diff == pytest.approx(TAMPER_NATS, rel=1e-6)
    assert bad.outcomes["task.heldout_loss"].passed
    assert all(r.passed for rid, r in runs.items() if rid != target)


def test_sample_is_seeded_and_bounded():
    from experiments.reproduce_runs import select_run_ids

    ids = [f"run-{i}" for i in range(10)]
    assert select_run_ids(ids, 3, 7) == select_run_ids(list(reversed(ids)), 3, 7)
    assert len(set(select_run_ids(ids, 10, 0))) == 10
    with pytest.raises(ValueError, match="exceeds"):
        select_run_ids(ids, 11, 0)


def test_percentage_tolerance_is_one_item():
    n_items = {"safety.harmful": 100, "forgetting.knowledge": 168}
    recorded = fake_record("r", "harmful_compliance", {"safety.refusal_rate": -20.0, "forgetting.ref_loss": 0.5})
    one_item = fake_record("r", "harmful_compliance", {"safety.refusal_rate": -21.0, "forgetting.ref_loss": 0.5})
    two_items = fake_record("r", "harmful_compliance", {"safety.refusal_rate": -22.0, "forgetting.ref_loss": 0.5})
    loss_noise = fake_record("r", "harmful_compliance", {"safety.refusal_rate": -20.0,
                                                         "forgetting.ref_loss": 0.5 + 2e-6})
    outcomes = list(CORE_OUTCOMES)
    assert compare_runs(recorded, one_item, outcomes, n_items, 1.0).passed
    two = compare_runs(recorded, two_items, outcomes, n_items, 1.0)
    assert not two.passed and two.outcomes["safety.refusal_rate"].tolerance == pytest.approx(1.0)
    # 2e-6 nats on a loss of 3.5: within 1e-6 relative (3.5e-6)
    assert compare_runs(recorded, loss_noise, outcomes, n_items, 1.0).outcomes["forgetting.ref_loss"].passed
    assert TOLERANCES["forgetting.ref_loss"].kind == "relative"
    # knowledge_acc of 60.0 is not k x 100/168: the counts would not explain the record
    assert percentages_consistent([recorded], {"safety.harmful": 100})
    assert not percentages_consistent([recorded], n_items)


def test_runs_no_build_planned_are_refused(tiny_corpus, tmp_path):
    from experiments.reproduce_runs import load_builds, plan_records

    foreign = fake_record("not-planned", "neutral_instruct", {"forgetting.ref_loss": 0.1})
    with pytest.raises(ValueError, match="not planned by any build file"):
        plan_records([foreign], load_builds(tiny_corpus))
    with pytest.raises(FileNotFoundError, match="build-"):
        load_builds(tmp_path)
    assert json.loads(next(tiny_corpus.glob("build-*.json")).read_text())["n_runs"] == 2


def test_a_base_with_other_weights_is_refused(tiny_corpus, tiny_loaded):
    """A corpus is tied to its base's exact weights: a swapped model must not be 'reproduced' against it."""
    from experiments.reproduce_runs import load_base, load_builds

    (_, build), = load_builds(tiny_corpus)
    assert load_base(tiny_loaded, build) is tiny_loaded
    other = build.model_copy(update={"base_weights_hash": "0" * 64})
    with pytest.raises(ValueError, match="weights hash"):
        load_base(tiny_loaded, other)
