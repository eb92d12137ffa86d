"""The issue-shaped influence summary: rows carry the issue's keys and the verdicts are computed, not copied."""

from __future__ import annotations

import json

import pytest

from experiments.influence_summary import STUDIES, build, dataset_row, summarize


def _entry(**overrides):
    entry = {"name": "d", "outcome": "safety.refusal_margin", "harm_full": 3.0, "harm_top_removed": 0.5,
             "harm_random_removed": 2.9, "harm_random_removed_draws": [2.6, 3.0, 3.1], "seed_spread": 1.0,
             "harm_clean": 0.2, "control_clearly_less_harm": True}
    entry.update(overrides)
    return entry


def test_row_has_the_issue_keys_and_judges_against_the_seed_spread():
    row = dataset_row("v3", _entry())
    assert {"name", "outcome", "harm_full", "harm_top_removed", "harm_random_removed"} <= set(row)
    assert row["name"] == "v3/d" and row["harm_clean_control"] == 0.2
    assert row["top_beats_every_random_draw"] is True
    assert row["top_beats_random_by_more_than_seed_spread"] is True  # 2.6 - 0.5 > 1.0
    close = dataset_row("v3", _entry(harm_top_removed=2.0))
    assert close["top_beats_every_random_draw"] is True and close["top_beats_random_by_more_than_seed_spread"] is False
    worse = dataset_row("v3", _entry(harm_top_removed=2.7))
    assert worse["top_beats_every_random_draw"] is False


def test_unknown_seed_spread_and_missing_removal_are_not_counted():
    one_seed = dataset_row("v1", {k: v for k, v in _entry().items() if k not in ("seed_spread", "harm_clean")})
    assert one_seed["top_beats_random_by_more_than_seed_spread"] is None
    control_only = dataset_row("v3", _entry(harm_top_removed=None, harm_random_removed=None,
                                            harm_random_removed_draws=None, control_clearly_less_harm=False))
    summary = summarize([dataset_row("v3", _entry()), control_only, one_seed])
    assert summary["v3"] == {"datasets": 2, "usable": 1, "top_beats_every_random_draw": 1,
                             "top_beats_random_by_more_than_seed_spread": 1}
    assert summary["v1"]["top_beats_every_random_draw"] == 1
    assert summary["v1"]["top_beats_random_by_more_than_seed_spread"] == 0


def test_build_reads_every_study_file(tmp_path):
    for i, (_, name) in enumerate(STUDIES):
        (tmp_path / name).write_text(json.dumps({"command": f"c{i}", "datasets": [_entry(name=f"d{i}")]}))
    report = build(tmp_path)
    assert [r["name"] for r in report["datasets"]] == [f"{study}/d{i}" for i, (study, _) in enumerate(STUDIES)]
    assert set(report["summary"]) == {study for study, _ in STUDIES}
    (tmp_path / STUDIES[0][1]).unlink()
    with pytest.raises(FileNotFoundError):
        build(tmp_path)
