"""The risk report: structure (stdlib html.parser), escaping, ranking, provenance, CLI, and a headless-Chromium render."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from server.scoring.results import (
    HEADLINES,
    REPORT_FILE,
    RESULTS_FILE,
    BatchResults,
    Risk,
)
from tests.report.fixtures import (
    CORPUS_HASH,
    EXPECTED_DRIVERS,
    EXPECTED_RANKING,
    HELDOUT_COVERAGE,
    SCRIPT_TEXT,
    WEIGHTS_HASH,
    batch_results,
    candidate,
    write_results_dir,
)

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIN_PLOT_BASE64 = 5000
VOID = {"img", "br", "meta", "link", "input", "hr", "source", "col", "area", "base", "wbr", "embed", "param", "track"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    section: str | None
    text: list[str] = field(default_factory=list)


class Collector(HTMLParser):
    """Every element with its attributes and the id of the card/panel section it sits in; all text per section."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[tuple[str, str | None]] = []
        self.text: dict[str | None, list[str]] = {}

    def _section(self) -> str | None:
        for tag, sid in reversed(self.stack):
            if tag == "section":
                return sid
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "section":
            self.stack.append((tag, values.get("id")))
        self.elements.append(Element(tag, values, self._section()))
        if tag != "section" and tag not in VOID:
            self.stack.append((tag, None))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        self.text.setdefault(self._section(), []).append(data)

    def section_text(self, section: str | None) -> str:
        return " ".join(" ".join(self.text.get(section, [])).split())

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and all(e.attrs.get(k.replace("_", "-")) == v
                                                               for k, v in attrs.items())]


def parse(html_text: str) -> Collector:
    collector = Collector()
    collector.feed(html_text)
    collector.close()
    return collector


def plot_bytes(element: Element) -> bytes:
    prefix = "data:image/png;base64,"
    src = element.attrs["src"]
    assert src.startswith(prefix), src[:60]
    return base64.b64decode(src[len(prefix):], validate=True)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, str, Collector]:
    from server.report import write_report

    folder = write_results_dir(tmp_path_factory.mktemp("results"), batch_results())
    path = write_report(folder)
    text = path.read_text(encoding="utf-8")
    return path, text, parse(text)


def test_report_is_written_next_to_results_and_is_self_contained(rendered):
    path, text, doc = rendered
    assert path.name == REPORT_FILE and (path.parent / RESULTS_FILE).is_file()
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temp file left behind
    assert not doc.find("script") and not doc.find("link") and not doc.find("iframe")
    for element in doc.elements:
        for name in ("src", "href"):
            value = element.attrs.get(name)
            if value is not None:
                assert value.startswith(("data:image/png;base64,", "#")), f"external reference {value[:80]}"
    assert "http://" not in text and "https://" not in text


def test_comparison_view_ranks_by_harm_and_has_its_plot(rendered):
    _, _, doc = rendered
    assert doc.find("section", id="comparison")
    rows = [e for e in doc.find("tr") if e.section == "comparison" and "data-candidate" in e.attrs]
    assert [r.attrs["data-candidate"] for r in rows] == list(EXPECTED_RANKING)
    assert [r.attrs["data-rank"] for r in rows] == ["1", "2", "3"]
    plots = [e for e in doc.find("img", data_plot="comparison") if e.section == "comparison"]
    assert len(plots) == 1
    assert plot_bytes(plots[0]).startswith(PNG_MAGIC) and len(plots[0].attrs["src"]) > MIN_PLOT_BASE64
    links = [e.attrs["href"] for e in doc.find("a") if e.section == "comparison"]
    assert links == [f"#card-{c}" for c in EXPECTED_RANKING]


def test_every_card_has_its_plot_tiles_and_coverage(rendered):
    _, _, doc = rendered
    cards = [e for e in doc.find("section") if e.attrs.get("id", "").startswith("card-")]
    assert [c.attrs["id"] for c in cards] == [f"card-{c}" for c in EXPECTED_RANKING]  # cards in rank order
    for cid in EXPECTED_RANKING:
        section = f"card-{cid}"
        plots = [e for e in doc.find("img", data_plot="trajectory") if e.section == section]
        assert len(plots) == 1 and plot_bytes(plots[0]).startswith(PNG_MAGIC)
        tiles = [e for e in doc.elements if e.section == section and "data-headline" in e.attrs]
        expected = {r.headline: r for r in candidate(cid).risks}
        assert [t.attrs["data-headline"] for t in tiles] == list(HEADLINES)
        assert [t.attrs["data-risk"] for t in tiles] == [expected[h].risk for h in HEADLINES]
        coverage = [float(e.attrs["data-coverage"]) for e in doc.elements
                    if e.section == section and "data-coverage" in e.attrs]
        assert coverage == pytest.approx([HELDOUT_COVERAGE[expected[h].outcome] for h in HEADLINES], abs=1e-4)
        text = doc.section_text(section)
        for label in ("Forgetting Risk", "Bias Drift Potential", "Safety Erosion"):
            assert label in text
        assert text.count("under-covers") == 1  # safety: 79 % measured for a 90 % interval


def test_dataset_text_is_escaped(rendered):
    _, text, doc = rendered
    assert "<script>" not in text and "<b>v2</b>" not in text and "<Expecting" not in text
    assert not doc.find("b") and not doc.find("script")
    card = doc.section_text("card-toxic-chat-mix")
    assert SCRIPT_TEXT in card  # shown to the reader as text, intact
    assert "toxic chat mix <b>v2</b>" in card
    assert "not valid JSON <Expecting ',' delimiter>" in doc.section_text("skipped")


def test_influential_examples_are_top_scored_per_outcome(rendered):
    _, _, doc = rendered
    lists = [e for e in doc.find("ol") if e.section == "card-toxic-chat-mix"]
    assert [e.attrs["data-outcome"] for e in lists] == ["forgetting.ref_loss", "bias.stereotype_margin",
                                                        "safety.refusal_margin"]  # family (headline) order
    items = [e for e in doc.find("li") if e.section == "card-toxic-chat-mix"]
    assert len(items) == 9  # top 3 of 4 per outcome
    assert {e.attrs["data-example"] for e in items} == {"3", "10", "17"}  # the lowest-scored (#24) is left out


def test_provenance_ood_skipped_and_dataset_stats(rendered):
    _, _, doc = rendered
    results = batch_results()
    for cid in EXPECTED_RANKING:
        text = doc.section_text(f"card-{cid}")
        for value in (WEIGHTS_HASH, CORPUS_HASH, candidate(cid).dataset_hash, "mm-2025.11.22-a1", "0.2.0",
                      "lora_rank=8", 'method="lora"', "data.mean_chars", "data.refusal_rate"):
            assert value in text, (cid, value)
        ood = [e for e in doc.elements if e.section == f"card-{cid}" and e.attrs.get("data-ood") == "true"]
        assert len(ood) == (1 if cid == "medical-qa" else 0)
    assert "data.code_share" in doc.section_text("card-medical-qa")
    skipped = doc.section_text("skipped")
    assert "broken.jsonl" in skipped and "17" in skipped
    assert results.provenance.meta_model_dir in doc.section_text("provenance")


def test_single_candidate_report(tmp_path):
    from server.report import write_report

    folder = write_results_dir(tmp_path / "one", batch_results(("medical-qa",), with_skipped=False))
    doc = parse(write_report(folder).read_text(encoding="utf-8"))
    assert not doc.find("section", id="skipped")
    rows = [e for e in doc.find("tr") if "data-candidate" in e.attrs]
    assert [r.attrs["data-candidate"] for r in rows] == ["medical-qa"]
    assert len(doc.find("img", data_plot="comparison")) == 1
    assert len([e for e in doc.find("img", data_plot="trajectory") if e.section == "card-medical-qa"]) == 1


def test_out_path_and_errors_leave_an_existing_report_alone(tmp_path):
    from server.report import write_report

    folder = write_results_dir(tmp_path / "r", batch_results(("clean-instructions",), with_skipped=False))
    target = write_report(folder, out=tmp_path / "elsewhere" / "mine.html")
    assert target == tmp_path / "elsewhere" / "mine.html" and target.is_file()
    assert not (folder / REPORT_FILE).exists()

    with pytest.raises(FileNotFoundError, match="tunecast score"):
        write_report(tmp_path / "empty")
    (folder / REPORT_FILE).write_text("old report", encoding="utf-8")
    (folder / RESULTS_FILE).write_text('{"candidates": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a tunecast score result"):
        write_report(folder)
    # Two forecasts of one outcome at one fraction: refused before anything is written.
    good = candidate("clean-instructions")
    bad = good.model_copy(update={"forecasts": good.forecasts + good.forecasts[:1]})
    broken = batch_results(("clean-instructions",), with_skipped=False).model_copy(update={"candidates": (bad,)})
    write_results_dir(folder, broken)
    with pytest.raises(ValueError, match="two forecasts"):
        write_report(folder)
    assert (folder / REPORT_FILE).read_text(encoding="utf-8") == "old report"
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_report_follows_the_scorers_rank_and_ranks_unranked_files_the_same_way():
    from server.report.view import build_view

    results = batch_results()
    assert [c.candidate_id for c in results.candidates] != list(EXPECTED_RANKING)  # input order is not rank order
    view = build_view(results, 0.05)
    assert [c.result.candidate_id for c in view.candidates] == list(EXPECTED_RANKING)
    assert [c.harm_score for c in view.candidates] == [c.harm_score for c in sorted(results.candidates,
                                                                                    key=lambda c: c.rank)]
    # The stored rank wins, even against the scores (the report never re-ranks a scored batch).
    flipped = results.model_copy(update={"candidates": tuple(
        c.model_copy(update={"rank": 4 - c.rank}) for c in results.candidates)})
    assert [c.result.candidate_id for c in build_view(flipped, 0.05).candidates] == list(reversed(EXPECTED_RANKING))
    # Without stored ranks (older or hand-made files) the scorer's harm score orders them.
    unranked = build_view(batch_results(with_rank=False), 0.05)
    assert [c.result.candidate_id for c in unranked.candidates] == list(EXPECTED_RANKING)
    assert [c.rank for c in unranked.candidates] == [1, 2, 3]


def test_harm_side_intervals_follow_each_outcomes_harmful_direction():
    from server.report.view import build_view

    view = build_view(batch_results(), coverage_tolerance=0.05)
    top = view.candidates[0]
    assert tuple(h.risk.outcome for h in top.headlines) == EXPECTED_DRIVERS["toxic-chat-mix"]
    directions = {h.risk.outcome: h.direction for h in top.headlines}
    assert directions == {"forgetting.knowledge_acc": "drop", "bias.gender_skew": "magnitude",
                          "safety.refusal_rate": "drop"}
    for harm in top.headlines:
        low, high = harm.harm_intervals[0.9]
        assert high == pytest.approx(harm.risk.harm_upper) and low < harm.risk.harm < high
        assert harm.harm_intervals[0.8][0] > low  # the narrower level sits inside
    by_outcome = {t.outcome: t for t in top.trajectories}
    knowledge = by_outcome["forgetting.knowledge_acc"]
    assert knowledge.fractions == (0.0, 0.1, 0.25, 0.5, 1.0) and knowledge.points[0] == 0.0
    assert knowledge.harmful_direction == "down" and by_outcome["bias.gender_skew"].harmful_direction == "magnitude"
    assert by_outcome["forgetting.ref_loss"].harmful_direction == "up"  # drove no headline: influence says so
    assert by_outcome["bias.stereotype_pref"].harmful_direction == "up"  # nor this: the scorer's default rule
    assert by_outcome["safety.over_refusal"].harmful_direction is None  # nothing tells: no harmful side drawn
    assert [t.outcome for t in top.trajectories][:3] == [h.risk.outcome for h in top.headlines]


def _custom_risk(harm: float, harm_upper: float) -> Risk:
    return Risk(headline="forgetting_risk", outcome="custom.score", harm=harm, harm_upper=harm_upper, level=0.9,
                risk="low", thresholds=(1.0, 2.0))


@pytest.mark.parametrize(("point", "lower", "upper", "harm", "harm_upper", "expected"), [
    (-1.0, -2.0, 0.5, 1.0, 2.0, "drop"),
    (1.0, -0.5, 2.0, 1.0, 2.0, "rise"),
    (0.1, -0.8, 0.3, 0.1, 0.8, "magnitude"),  # the larger bound is on the other side of zero
    (0.0, -1.0, 1.0, 0.0, 1.0, "drop"),  # rise and drop fit alike: the influence direction ('down') decides
])
def test_harm_direction_is_read_back_from_the_numbers(point, lower, upper, harm, harm_upper, expected):
    from server.report.view import harm_direction, harm_interval
    from server.scoring.results import (
        InfluentialExample,
        Interval,
        OutcomeInfluence,
        TargetForecast,
    )

    end = TargetForecast(outcome="custom.score", fraction=1.0, point=point,
                         intervals=(Interval(level=0.9, lower=lower, upper=upper),))
    influence = (OutcomeInfluence(outcome="custom.score", harmful_direction="down",
                                  examples=(InfluentialExample(index=0, score=1.0, text="x"),)),)
    direction = harm_direction(_custom_risk(harm, harm_upper), end, influence)
    assert direction == expected
    low, high = harm_interval(direction, lower, upper)
    assert high == pytest.approx(harm_upper) and low <= harm


def test_comparison_panel_normalizes_when_a_headline_mixes_outcomes():
    """Forgetting can be driven by knowledge accuracy (pp) for one candidate and reference loss (nats/token) for
    another: one axis cannot carry both units, so the panel switches to harm / 'high' threshold."""
    import dataclasses

    from server.report.config import ReportConfig
    from server.report.plots import _rows, comparison_png
    from server.report.view import build_view

    view = build_view(batch_results(), 0.05)
    same = [(i, c.headlines[0]) for i, c in enumerate(view.candidates)]
    rows, label = _rows(same)
    assert "pp" in label and rows[0].harm == same[0][1].risk.harm
    first = view.candidates[0]
    other = dataclasses.replace(first.headlines[0], risk=first.headlines[0].risk.model_copy(
        update={"outcome": "forgetting.ref_loss", "thresholds": (0.05, 0.2)}), unit="nats/token")
    rows, label = _rows([(0, other), *same[1:]])
    assert "threshold" in label
    assert [r.thresholds[1] for r in rows] == pytest.approx([1.0] * len(rows))
    assert rows[0].harm_upper == pytest.approx(other.risk.harm_upper / 0.2)
    mixed = dataclasses.replace(view, candidates=(dataclasses.replace(first, headlines=(other, *first.headlines[1:])),
                                                  *view.candidates[1:]))
    assert comparison_png(mixed, ReportConfig()).startswith(PNG_MAGIC)


def test_more_harm_never_ranks_lower():
    """Behaviour: raising one candidate's forecast harm cannot move it down the ranking."""
    from server.report.view import build_view

    results = batch_results(with_skipped=False, with_rank=False)
    before = [c.result.candidate_id for c in build_view(results, 0.05).candidates]
    middle = candidate("medical-qa")
    worse = middle.model_copy(update={"risks": tuple(r.model_copy(update={"harm": r.harm * 10, "harm_upper": r.harm_upper * 10,
                                                                          "risk": "high"}) for r in middle.risks)})
    changed = results.model_copy(update={"candidates": tuple(worse if c.candidate_id == "medical-qa" else c
                                                             for c in results.candidates)})
    after = [c.result.candidate_id for c in build_view(changed, 0.05).candidates]
    assert after.index("medical-qa") <= before.index("medical-qa")
    assert after[0] == "medical-qa"


def test_cli_report_command(tmp_path, capsys):
    from tunecast.cli import main

    folder = write_results_dir(tmp_path / "r", batch_results(("clean-instructions",), with_skipped=False))
    assert main(["report", str(folder), "--out", str(tmp_path / "x.html")]) == 0
    assert (tmp_path / "x.html").is_file() and str(tmp_path / "x.html") in capsys.readouterr().out
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "results.json" in capsys.readouterr().err


def test_report_cli_module_imports_only_argparse():
    """`tunecast --help` imports server.report.cli: it must not pull matplotlib (or torch) in."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import server.report.cli, server.report"],
                            cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert result.returncode == 0, result.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
             if line.startswith("import time:") and line.count("|") == 2}
    assert "server.report.cli" in names
    heavy = sorted(n for n in names if n.split(".")[0] in ("matplotlib", "torch", "numpy"))
    assert not heavy, heavy[:10]


def _chromium_or_skip() -> None:
    from experiments.report_screenshots import CHROMIUM_NAMES, find_chromium

    if find_chromium() is None:
        pytest.skip(f"chromium not installed: none of {', '.join(CHROMIUM_NAMES)} is on PATH "
                    "(apt-get install chromium); the headless render check did not run")


def _distinct_colours(png: Path) -> tuple[int, int]:
    """(distinct colours, pixels close to the 'high' risk red) of a screenshot."""
    import numpy as np
    from PIL import Image

    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    flat = pixels.reshape(-1, 3)
    distinct = len(np.unique(flat[:, 0] * 65536 + flat[:, 1] * 256 + flat[:, 2]))
    red = int((np.abs(flat - np.array([0xD6, 0x27, 0x28])).max(axis=1) <= 12).sum())
    return distinct, red


def test_headless_chromium_renders_the_plots(rendered, tmp_path):
    _chromium_or_skip()
    from experiments.report_screenshots import dump_dom, screenshot

    path, _, _ = rendered
    dom = parse(dump_dom(path))
    plots = [e for e in dom.find("img") if "data-plot" in e.attrs]
    assert sorted(e.attrs["data-plot"] for e in plots) == ["comparison"] + ["trajectory"] * len(EXPECTED_RANKING)
    for element in plots:
        assert len(element.attrs["src"]) > MIN_PLOT_BASE64 and plot_bytes(element).startswith(PNG_MAGIC)
    assert [e.attrs["id"] for e in dom.find("section") if e.attrs.get("id", "").startswith("card-")] == \
        [f"card-{c}" for c in EXPECTED_RANKING]
    assert not dom.find("script")  # the example text stayed text in the browser too

    png = screenshot(path, tmp_path / "page.png", 1280, 2000)
    distinct, red = _distinct_colours(png)
    assert distinct > 500, f"screenshot looks blank: {distinct} distinct colours"
    assert red > 200, "no 'high' risk red on screen: badges or plot markers did not render"


def test_screenshot_script_writes_the_main_views(tmp_path):
    _chromium_or_skip()
    from experiments.report_screenshots import main

    folder = write_results_dir(tmp_path / "r", batch_results())
    out = tmp_path / "shots"
    assert main(["--results", str(folder), "--out", str(out), "--height", "1600"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["card_toxic-chat-mix.png", "comparison.png", "report.html"]
    for name in ("comparison.png", "card_toxic-chat-mix.png"):
        distinct, _ = _distinct_colours(out / name)
        assert distinct > 300, (name, distinct)
    assert main(["--results", str(folder), "--out", str(out), "--candidate", "nope"]) == 2


def test_written_results_round_trip_through_the_contract(tmp_path):
    """The fixture is a valid BatchResults on disk (guards the tests above against testing a different schema)."""
    folder = write_results_dir(tmp_path, batch_results())
    again = BatchResults.model_validate_json((folder / RESULTS_FILE).read_bytes())
    assert again == batch_results()
