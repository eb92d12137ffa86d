"""The corpus builder: appends per run, resumes by run id, survives SIGKILL, CLI and stats."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from surrogate.runs import RunStore

REPO = Path(__file__).resolve().parents[2]
KILL_TEST_RUNS = 4
KILL_WAIT_S = 300.0
POLL_S = 0.1


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
    )


@pytest.fixture(scope="module")
def harness(small_harness):
    return small_harness.model_copy(update={"checkpoint_fractions": (0.5, 1.0)})


def _planned_ids(tiny_loaded, n, seed, space, harness):
    from experiments.corpus_builder import plan_runs, sample_configs

    return [p.run_id for p in plan_runs(sample_configs(n, seed, space), tiny_loaded.weights_hash(), harness)]


def test_build_then_resume_skips_stored_runs(tmp_path, tiny_loaded, space, harness):
    from experiments.corpus_builder import build_corpus

    out = tmp_path / "corpus"
    first = build_corpus(tiny_loaded, 2, 0, out, space=space, harness=harness, progress=False)
    assert (first.planned, first.already_stored, first.completed, first.failed) == (2, 0, 2, 0)
    store = RunStore(out)
    assert store.run_ids() == _planned_ids(tiny_loaded, 2, 0, space, harness)
    assert len(store.batch_files()) == 2  # one batch per run: a crash loses at most the run in flight
    records = store.read()
    assert all(len(r.checkpoints) == 3 and r.final.fraction == 1.0 for r in records)
    assert {r.dataset.family for r in records} <= {"neutral_instruct", "list_format"}
    again = build_corpus(tiny_loaded, 2, 0, out, space=space, harness=harness, progress=False)
    assert (again.already_stored, again.completed) == (2, 0)
    grown = build_corpus(tiny_loaded, 3, 0, out, space=space, harness=harness, progress=False)
    assert (grown.already_stored, grown.completed) == (2, 1)
    assert RunStore(out).run_ids() == _planned_ids(tiny_loaded, 3, 0, space, harness)
    saved = [json.loads(p.read_text()) for p in out.glob("build-*.json")]
    assert {s["n_runs"] for s in saved} == {2, 3}
    assert all(s["base_weights_hash"] == tiny_loaded.weights_hash() for s in saved)


def test_failed_runs_are_logged_and_skipped_on_resume(tmp_path, tiny_loaded, space, harness, monkeypatch):
    from experiments.corpus_builder import build_corpus
    from experiments.corpus_builder.execute import RunExecutor
    from experiments.corpus_builder.failures import FailureLog
    from experiments.harness import TrainingDivergedError

    def diverge(self, config, run_id):
        raise TrainingDivergedError("training loss became nan; lower recipe.learning_rate")

    monkeypatch.setattr(RunExecutor, "run", diverge)
    out = tmp_path / "corpus"
    summary = build_corpus(tiny_loaded, 2, 0, out, space=space, harness=harness, progress=False)
    assert (summary.completed, summary.failed) == (0, 2)
    log = FailureLog(out)
    assert log.run_ids() == set(_planned_ids(tiny_loaded, 2, 0, space, harness))
    assert all("nan" in e["error"] for e in log.entries())
    resumed = build_corpus(tiny_loaded, 2, 0, out, space=space, harness=harness, progress=False)
    assert (resumed.known_failures, resumed.completed, resumed.failed) == (2, 0, 0)
    retried = build_corpus(tiny_loaded, 2, 0, out, space=space, harness=harness, progress=False, retry_failed=True)
    assert retried.failed == 2
    assert len(log.entries()) == 2
    assert RunStore(out).run_ids() == []


def test_sigkill_mid_build_then_resume_keeps_the_store_intact(tmp_path, tiny_loaded, space, harness):
    """Kill -9 the builder after its first run lands, resume, and find every run exactly once."""
    from experiments.corpus_builder import build_corpus

    out = tmp_path / "corpus"
    space_file = tmp_path / "space.json"
    harness_file = tmp_path / "harness.json"
    from experiments.corpus_builder import IntRange

    space = space.model_copy(update={"steps": IntRange(low=20, high=30)})  # runs long enough to be caught mid-build
    space_file.write_text(space.model_dump_json())
    harness_file.write_text(harness.model_dump_json())
    command = [sys.executable, "-m", "experiments.corpus_builder", "build", "--base", "tiny",
               "--runs", str(KILL_TEST_RUNS), "--seed", "3", "--out", str(out), "--space", str(space_file),
               "--harness-config", str(harness_file), "--no-progress"]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    store = RunStore(out)
    deadline = time.monotonic() + KILL_WAIT_S
    try:
        while not store.run_ids():
            if proc.poll() is not None:
                pytest.fail(f"builder exited ({proc.returncode}) before its first run: {proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no run stored within {KILL_WAIT_S} s")
            time.sleep(POLL_S)
        assert proc.poll() is None, "builder finished every run before it could be killed; make runs longer"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    survivors = store.run_ids()
    assert 1 <= len(survivors) < KILL_TEST_RUNS
    store.read()  # every committed batch is whole and valid
    # a writer killed inside append leaves only a dot-temp file, which readers ignore and the next append removes
    stale = out / ".runs-killed-mid-write.parquet.tmp"
    stale.write_bytes(b"partial")
    summary = build_corpus(tiny_loaded, KILL_TEST_RUNS, 3, out, space=space, harness=harness, progress=False)
    assert summary.already_stored == len(survivors)
    assert summary.completed == KILL_TEST_RUNS - len(survivors)
    records = RunStore(out).read()  # raises DuplicateRunError on any repeated run id
    assert sorted(r.run_id for r in records) == sorted(_planned_ids(tiny_loaded, KILL_TEST_RUNS, 3, space, harness))
    assert not stale.exists()


def test_stats_command_prints_the_documented_json(tmp_path, tiny_loaded, space, harness, capsys):
    from experiments.corpus_builder import build_corpus
    from experiments.corpus_builder.cli import corpus_stats_command

    out = tmp_path / "corpus"
    build_corpus(tiny_loaded, 1, 5, out, space=space, harness=harness, progress=False)
    assert corpus_stats_command(argparse.Namespace(dir=str(out), json=True)) == 0
    stats = json.loads(capsys.readouterr().out)
    assert list(stats) == ["runs", "families", "methods", "base_models", "outcomes"]
    assert stats["runs"] == 1 and stats["base_models"] == ["tiny"]
    assert set(stats["outcomes"]["task.heldout_loss"]) == {"mean", "std", "min", "max"}
    assert corpus_stats_command(argparse.Namespace(dir=str(out), json=False)) == 0
    assert "task.heldout_loss" in capsys.readouterr().out


def test_cli_parser_registers_build_and_stats():
    from experiments.corpus_builder.cli import add_corpus_parser, corpus_build_command, corpus_stats_command

    parser = argparse.ArgumentParser(prog="tunecast")
    add_corpus_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["corpus", "build", "--base", "lab", "--runs", "5", "--seed", "2", "--out", "d",
                              "--engine", "ray", "--ray-address", "auto"])
    assert (args.base, args.runs, args.seed, args.out, args.engine, args.ray_address) == ("lab", 5, 2, "d", "ray", "auto")
    assert args.func is corpus_build_command
    stats = parser.parse_args(["corpus", "stats", "somewhere", "--json"])
    assert stats.func is corpus_stats_command and stats.json and stats.dir == "somewhere"


def test_cli_module_imports_without_torch():
    code = "import sys, experiments.corpus_builder.cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_config_files_are_validated_with_the_file_named(tmp_path):
    from experiments.corpus_builder.cli import load_model_file
    from experiments.corpus_builder.space import SamplingSpace

    good = tmp_path / "space.yaml"
    good.write_text("families: [neutral_instruct]\nlora_share: 0.25\n")
    assert load_model_file(str(good), SamplingSpace, "space").lora_share == 0.25
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"lora_share": 3}))
    with pytest.raises(ValueError, match="bad.json does not validate"):
        load_model_file(str(bad), SamplingSpace, "space")
    with pytest.raises(ValueError, match="does not exist"):
        load_model_file(str(tmp_path / "missing.json"), SamplingSpace, "space")


def test_build_command_applies_overrides_and_saves_its_config(tmp_path, capsys):
    from experiments.corpus_builder.cli import main

    out = tmp_path / "corpus"
    assert main(["build", "--base", "tiny", "--runs", "0", "--out", str(out), "--device", "cpu",
                 "--torch-threads", "1", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["planned"] == 0 and summary["completed"] == 0
    (saved,) = [json.loads(p.read_text()) for p in out.glob("build-*.json")]
    assert saved["harness"]["device"] == "cpu" and saved["harness"]["torch_threads"] == 1
    assert saved["base_spec"] == "tiny" and saved["n_runs"] == 0
    assert main(["build", "--base", "tiny", "--runs", "-1", "--out", str(out)]) == 2
    assert "--runs must be >= 0" in capsys.readouterr().err


def test_workers_take_the_drivers_niceness_when_allowed():
    """Ray starts workers at nice 15; a run worker asks for the driver's priority instead.
    Lowering priority is always allowed, so a +1 request must take effect (in a child
    process, so the test runner keeps its own priority)."""
    code = (
        "import os\n"
        "from experiments.corpus_builder.ray_engine import match_niceness\n"
        "before = os.getpriority(os.PRIO_PROCESS, 0)\n"
        "match_niceness(min(before + 1, 19))\n"
        "print(os.getpriority(os.PRIO_PROCESS, 0) - before)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before = os.getpriority(os.PRIO_PROCESS, 0)
    assert int(out.stdout.strip()) == (1 if before < 19 else 0)
