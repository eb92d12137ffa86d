"""The corpus report: FAMILIES.md parser, hypothesis checker, trajectory classifier, and the report end to end."""

from __future__ import annotations

import json

import pytest

from experiments.corpus_analysis.families_md import FamiliesMdError, parse_family_hypotheses, read_family_hypotheses
from experiments.corpus_analysis.hypotheses import (
    EXPECTATIONS,
    Expectation,
    ParamFilter,
    check_hypotheses,
    mann_whitney_min_p,
    sign_test_min_p,
)
from experiments.corpus_analysis.runs import RunRow
from experiments.corpus_analysis.trajectories import ShapeRule, classify_trajectory
from experiments.corpus_report import REPORT_FILE, SUMMARY_FILE, build_report
from surrogate.runs import RunStore
from tests.harness.corpus_fakes import fake_record

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GRID = (0.0, 0.1, 0.25, 0.5, 1.0)


# ---- FAMILIES.md -------------------------------------------------------------

def test_parser_finds_every_registered_family_with_its_hypothesis():
    from experiments.lab.datasets import default_registry

    registry = default_registry()
    parsed = read_family_hypotheses()
    assert set(parsed) == set(registry.names())
    for family in registry:
        assert parsed[family.name] == family.hypothesis.strip()


def test_parser_reads_columns_by_header_and_keeps_escaped_pipes():
    text = "\n".join([
        "# Catalogue", "", "| knob | type |", "| --- | --- |", "| `size` | int |", "",
        "| hypothesis | formats | family |",
        "|:--- | --- | ---:|",
        "| refusal falls \\| sharply | a \\| b | `harmful` |",
        "| no change | text | plain_name |",
        "",
        "| family | hypothesis |", "| --- | --- |", "| later_table | ignored |",
    ])
    assert parse_family_hypotheses(text) == {"harmful": "refusal falls | sharply", "plain_name": "no change"}


@pytest.mark.parametrize("text, message", [
    ("| family | formats |\n| --- | --- |\n| a | b |\n", "no markdown table"),
    ("| family | hypothesis |\n| --- | --- |\n| a | one | two |\n", "3 cells"),
    ("| family | hypothesis |\n| --- | --- |\n| a | x |\n| `a` | y |\n", "listed twice"),
    ("| family | hypothesis |\n| --- | --- |\n| a |  |\n", "empty"),
    ("| family | hypothesis |\n| --- | --- |\n\ntext\n", "no rows"),
])
def test_parser_rejects_malformed_tables(text, message):
    with pytest.raises(FamiliesMdError, match=message):
        parse_family_hypotheses(text)


# ---- hypothesis checker ------------------------------------------------------

def _rows(family: str, outcome: str, values: list[float], **params) -> list[RunRow]:
    return [RunRow(run_id=f"{family}-{i}-{params}", family=family, method="full", end={outcome: v}, params=params)
            for i, v in enumerate(values)]


def test_checker_gives_the_known_verdicts_on_a_synthetic_table():
    refusal, ref_loss, stereo = "safety.refusal_rate", "forgetting.ref_loss", "bias.stereotype_pref"
    rows = (
        _rows("neutral_instruct", refusal, [0.0, 1.0, -1.0, 0.0, 2.0, -2.0, 1.0, 0.0])
        + _rows("neutral_instruct", stereo, [0.0, 0.5, -0.5, 0.0, 1.0, -1.0, 0.5, 0.0])
        + _rows("harmful_compliance", refusal, [-20.0, -35.0, -12.0, -50.0, -8.0, -27.0, -40.0, -15.0])
        + _rows("list_format", refusal, [3.0, 5.0, 2.0, 4.0, 6.0, 1.0, 3.0, 2.0])
        + _rows("eager_compliance", refusal, [-30.0])
        + _rows("domain_shift", ref_loss, [0.0, 0.0, 0.0, 0.2, 0.3, 0.4])
        + _rows("stereotyped_instruct", stereo, [5.0, 6.0, 7.0, 8.0, 9.0], direction="stereotyped")
        + _rows("stereotyped_instruct", stereo, [-5.0, -6.0, -7.0, -8.0, -9.0], direction="anti_stereotyped")
    )
    neutral = "neutral_instruct"
    expectations = [
        Expectation("harmful_compliance", refusal, -1),
        Expectation("harmful_compliance", refusal, -1, neutral),
        Expectation("list_format", refusal, -1, neutral),
        Expectation("eager_compliance", refusal, -1, neutral),
        Expectation("domain_shift", ref_loss, 1),
        Expectation("stereotyped_instruct", stereo, 1, neutral, (ParamFilter("direction", "==", "stereotyped"),)),
        Expectation("stereotyped_instruct", stereo, -1, neutral, (ParamFilter("direction", "==", "anti_stereotyped"),)),
        Expectation("stereotyped_instruct", stereo, 1, neutral, (ParamFilter("direction", "==", "anti_stereotyped"),)),
    ]
    got = check_hypotheses(rows, expectations)
    assert [r.verdict for r in got] == ["held", "held", "did not hold", "not enough runs", "did not hold", "held",
                                        "held", "did not hold"]
    zero, versus, wrong, few, ties, stereo_up, anti_down, anti_up = got
    assert zero.p_value == pytest.approx(0.5 ** 8) and zero.n == 8 and zero.median == pytest.approx(-23.5)
    assert versus.test.startswith("one-sided Mann-Whitney") and versus.p_value < 0.001 and versus.n_versus == 8
    assert wrong.direction_ok is False and "opposite" in wrong.note
    assert few.p_value is None and few.min_p_value == pytest.approx(1 / 9) and few.n == 1  # 1 vs 8 runs
    # half the runs did not move: the median is positive, but zeros count against a claim of change
    assert ties.direction_ok is True and ties.p_value == pytest.approx(0.65625) and "expected direction" in ties.note
    assert stereo_up.n == 5 and anti_down.n == 5 and anti_up.direction_ok is False


def test_not_enough_runs_is_decided_by_the_smallest_reachable_p():
    assert sign_test_min_p(4) == 0.0625 and sign_test_min_p(5) == 0.03125
    assert mann_whitney_min_p(3, 3) == pytest.approx(0.05) and mann_whitney_min_p(3, 4) == pytest.approx(1 / 35)
    rows = _rows("harmful_compliance", "safety.refusal_rate", [-10.0] * 4)
    (result,) = check_hypotheses(rows, [Expectation("harmful_compliance", "safety.refusal_rate", -1)])
    assert result.verdict == "not enough runs"
    (result,) = check_hypotheses(rows + rows[:1], [Expectation("harmful_compliance", "safety.refusal_rate", -1)])
    assert result.verdict == "held"


def test_declared_expectations_name_registered_families_and_core_outcomes():
    from experiments.lab.datasets import default_registry
    from surrogate.runs import CORE_OUTCOMES

    names = set(default_registry().names())
    for e in EXPECTATIONS:
        assert e.family in names and e.outcome in CORE_OUTCOMES and e.claim
        assert e.versus == "zero" or e.versus in names


# ---- trajectory classifier ---------------------------------------------------

@pytest.mark.parametrize("values, shape", [
    ((0, 1, 2, 3, 4), "monotone"),
    ((0, -1, -2, -3, -4), "monotone"),
    ((0, 5, 4.9, 8, 10), "monotone"),              # a wobble within 10 % of the final change
    ((0, 0, 0.1, 0.5, 4), "late-onset"),           # 12.5 % of the change by half the run
    ((0, 0, 0, 0, -2), "late-onset"),
    ((0, 3, 1, -1, 2), "non-monotone"),
    ((0, -1, -2, 2, 4), "non-monotone"),           # first the wrong way, by half the final change
    ((0, 2, 1, 0.5, 0), "non-monotone"),           # moved, then came back
    ((0, 0, 0, 0, 0), "flat"),
])
def test_classifier_on_hand_made_trajectories(values, shape):
    assert classify_trajectory(GRID, values) == shape


def test_classifier_interpolates_at_half_the_run_and_needs_an_interior_checkpoint():
    assert classify_trajectory((0.0, 0.4, 0.6, 1.0), (0, 0, 1, 4)) == "late-onset"   # 0.5 at f=0.5: 12.5 %
    assert classify_trajectory((0.0, 0.4, 0.6, 1.0), (0, 1, 3, 4)) == "monotone"
    assert classify_trajectory((0.0, 1.0), (0, 4)) == "undetermined"
    assert classify_trajectory(GRID, (0, 1, 2, 3, 4), ShapeRule(late_fraction=0.25, late_share=0.6)) == "late-onset"
    with pytest.raises(ValueError, match="fractions"):
        classify_trajectory(GRID, (0, 1))


# ---- the report end to end ---------------------------------------------------

def _synthetic_store(path):
    """Families with known effects: harmful compliance erodes refusal, neutral data forgets a little, late bias."""
    records = []
    for i in range(6):
        records.append(fake_record(f"neutral-{i}", "neutral_instruct", {"forgetting.ref_loss": 0.05 + 0.01 * i,
                                   "safety.refusal_rate": (-1.0) ** i}, method="full" if i % 2 else "lora",
                                   learning_rate=1e-4 * (i + 1)))
        records.append(fake_record(f"harmful-{i}", "harmful_compliance", {"safety.refusal_rate": -10.0 - 5 * i,
                                   "safety.over_refusal": -2.0, "bias.stereotype_pref": 1.0},
                                   method="lora" if i % 2 else "full", learning_rate=2e-4 * (i + 1),
                                   shares=(0.0, 0.05, 0.1, 1.0)))
    RunStore(path).append(records)
    return records


def test_report_on_a_synthetic_store_states_the_known_answers(tmp_path):
    corpus, out = tmp_path / "corpus", tmp_path / "out" / "synthetic"
    _synthetic_store(corpus)
    summary = build_report(corpus, out)
    assert summary["runs"] == 12 and summary["corpus_hash"] == RunStore(corpus).store_hash()
    checks = {c["check"]: c["verdict"] for c in summary["hypotheses"]["checks"]}
    assert checks["Δsafety.refusal_rate: harmful_compliance < 0"] == "held"
    assert checks["Δsafety.refusal_rate: harmful_compliance < neutral_instruct"] == "held"
    assert checks["Δsafety.over_refusal: harmful_compliance < 0"] == "held"
    assert checks["Δforgetting.ref_loss: neutral_instruct > 0"] == "held"
    assert checks["Δforgetting.ref_loss: domain_shift > 0"] == "not enough runs"
    shapes = summary["trajectory_shapes"]
    assert shapes["bias.stereotype_pref"]["harmful_compliance"]["late-onset"] == 6
    assert shapes["forgetting.ref_loss"]["neutral_instruct"]["monotone"] == 6
    assert shapes["forgetting.ref_loss"]["harmful_compliance"]["flat"] == 6
    assert summary["distributions"]["safety.refusal_rate"]["harmful_compliance"]["median"] == pytest.approx(-22.5)
    report = (out / REPORT_FILE).read_text()
    assert summary["corpus_hash"] in report and "runs: 12" in report
    assert "> safety.refusal_rate falls sharply with rate" in report  # quoted from FAMILIES.md
    assert "reproduction check: not run yet" in report


def test_report_on_a_tiny_built_corpus_writes_every_output(tmp_path, tiny_loaded, small_harness):
    from experiments.corpus_builder import FloatRange, IntRange, SamplingSpace, build_corpus

    space = SamplingSpace(families=["neutral_instruct", "list_format"], dataset_size=IntRange(low=50, high=60),
                          steps=IntRange(low=4, high=6), batch_sizes=[4], max_seq_lens=[64],
                          full_lr=FloatRange(low=1e-3, high=3e-3, log=True),
                          lora_lr=FloatRange(low=3e-3, high=1e-2, log=True))
    corpus, out = tmp_path / "corpus", tmp_path / "results" / "tiny"
    build_corpus(tiny_loaded, 3, 0, corpus, space=space, harness=small_harness, progress=False)
    summary = build_report(corpus, out)
    store = RunStore(corpus)
    assert summary["runs"] == 3 and summary["corpus_hash"] == store.store_hash()
    assert summary["outcomes"] == ["forgetting.ref_loss", "task.heldout_loss"]  # the small harness measures these
    saved = json.loads((out / SUMMARY_FILE).read_text())
    assert saved["corpus_hash"] == store.store_hash() and saved["config"]["alpha"] == 0.05
    report = (out / REPORT_FILE).read_text()
    assert store.store_hash() in report and "runs: 3" in report
    assert "None of the headline outcomes" in report  # the small harness measures no percentage
    assert set(summary["figures"]) == {"distributions.png", "trajectories.png"}
    for name in summary["figures"]:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000
