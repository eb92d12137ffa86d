"""The report's HTML, built from the view: every piece of dataset or user text goes through ``esc``.

Influential example texts and candidate names come from untrusted files, so the
only unescaped strings here are this module's own markup and base64 PNG data.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence

from server.report.config import ReportConfig
from server.report.style import CSS
from server.report.view import (
    CandidateView,
    HarmView,
    ReportView,
    family_of,
    headline_label,
)
from server.scoring.results import (
    BatchResults,
    OutcomeInfluence,
    Provenance,
    SkippedCandidate,
)

ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
DASH = "\u2013"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def num(value: float, signed: bool = False) -> str:
    """Readable numbers: thousands separators for counts, three significant digits otherwise."""
    if not math.isfinite(value):
        return "\u2013" if math.isnan(value) else ("\u221e" if value > 0 else "\u2212\u221e")
    if value.is_integer() and abs(value) < 1e12:
        text = f"{int(value):+,}" if signed else f"{int(value):,}"
    elif abs(value) >= 1000:
        text = f"{value:+,.1f}" if signed else f"{value:,.1f}"
    else:
        text = f"{value:+.3g}" if signed else f"{value:.3g}"
    return text.replace("-", "\u2212")


def pct(value: float) -> str:
    return f"{value:.0%}" if math.isclose(value * 100, round(value * 100)) else f"{value:.1%}"


def card_ids(view: ReportView) -> dict[str, str]:
    """``card-<candidate_id>``, made URL-fragment safe and unique (ids come from file names)."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for candidate in view.candidates:
        base = "card-" + (ID_UNSAFE.sub("-", candidate.result.candidate_id) or "candidate")
        dom_id, n = base, 2
        while dom_id in used:
            dom_id, n = f"{base}-{n}", n + 1
        used.add(dom_id)
        ids[candidate.result.candidate_id] = dom_id
    return ids


def img(png: bytes | None, plot: str, alt: str) -> str:
    if png is None:
        return f'<p class="sub" data-plot-missing="{esc(plot)}">No data to plot.</p>'
    data = base64.b64encode(png).decode("ascii")
    return f'<img data-plot="{esc(plot)}" alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def badge(risk: str) -> str:
    return f'<span class="badge {esc(risk)}">{esc(risk)}</span>'


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], table_id: str = "", numeric: Sequence[int] = (),
           row_attrs: Sequence[str] = (), css_class: str = "") -> str:
    """Cells are HTML already (callers escape); ``numeric`` columns are right-aligned; ``row_attrs`` go on each <tr>."""
    attr = (f' id="{esc(table_id)}"' if table_id else "") + (f' class="{esc(css_class)}"' if css_class else "")
    cls = [' class="num"' if i in numeric else "" for i in range(len(head))]
    thead = "".join(f"<th{cls[i]}>{h}</th>" for i, h in enumerate(head))
    body = "".join(
        f"<tr{(' ' + row_attrs[r]) if r < len(row_attrs) else ''}>"
        + "".join(f"<td{cls[i]}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for r, row in enumerate(rows)
    )
    return f"<table{attr}><thead><tr>{thead}</tr></thead><tbody>{body}</tbody></table>"


def _harm_cell(harm: HarmView) -> str:
    unit = f" {esc(harm.unit)}" if harm.unit else ""
    return (f'<span class="nowrap">{badge(harm.risk.risk)} <span class="mono">{num(harm.risk.harm, True)}</span>'
            f'{unit} <span class="sub">\u2264 {num(harm.risk.harm_upper, True)}</span></span>')


def comparison_section(view: ReportView, ids: Mapping[str, str], png: bytes | None) -> str:
    headlines = list(dict.fromkeys(h.risk.headline for c in view.candidates for h in c.headlines))
    head = ["#", "candidate", "examples", "harm score", *(esc(headline_label(h)) for h in headlines), "OOD"]
    rows = []
    for c in view.candidates:
        by = {h.risk.headline: h for h in c.headlines}
        cells = [f'<span class="rank-cell">{c.rank}</span>',
                 (f'<a href="#{esc(ids[c.result.candidate_id])}">{esc(c.result.name)}</a>'
                  f'<br><span class="sub mono nowrap">{esc(c.result.candidate_id)}</span>'),
                 num(float(c.result.n_examples)),
                 f'<span class="mono">{num(c.harm_score)}</span>',
                 *(_harm_cell(by[h]) if h in by else DASH for h in headlines),
                 '<span class="badge ood">OOD</span>' if c.result.ood else "no"]
        rows.append(cells)
    # data-candidate / data-rank on every row, so tools and tests can read the ranking without parsing cells.
    attrs = [f'data-candidate="{esc(c.result.candidate_id)}" data-rank="{c.rank}"' for c in view.candidates]
    table = _table(head, rows, "ranking-table", numeric=(0, 2, 3), row_attrs=attrs)
    risk_levels = sorted({h.risk.level for c in view.candidates for h in c.headlines})
    bound_level = " / ".join(pct(level) for level in risk_levels) or DASH
    return f"""<section class="panel" id="comparison">
<h2>Candidates ranked by forecast harm</h2>
<p class="sub">Most harmful first, by harm score: the sum over the headline risks of the harm-side interval bound
as a share of that risk&rsquo;s &ldquo;high&rdquo; threshold (improvements count as 0). Harm is the forecast change
in an outcome&rsquo;s harmful direction; &le; gives the harmful end of the {bound_level} interval, which the risk
level is read from.</p>
<figure>{img(png, "comparison", "Forecast harm per headline risk and candidate, with intervals and risk zones")}
<figcaption>Dot: point forecast of harm, coloured and shaped by risk level. Bars: intervals (thicker = narrower
level). Background: the low / moderate / high zones of each risk&rsquo;s thresholds.</figcaption></figure>
{table}
</section>"""


def skipped_section(skipped: Sequence[SkippedCandidate]) -> str:
    if not skipped:
        return ""
    rows = [[esc(s.name), f'<span class="mono">{esc(s.path)}</span>', esc(s.line) if s.line is not None else "\u2013",
             esc(s.reason)] for s in skipped]
    return f"""<section class="panel" id="skipped">
<h2>Skipped candidates ({len(skipped)})</h2>
<p class="sub">These could not be scored; fix the file at the line named and score it again.</p>
{_table(["candidate", "file", "line", "reason"], rows, "skipped-table", numeric=(2,))}
</section>"""


def _tile(harm: HarmView) -> str:
    r = harm.risk
    unit = f" {esc(harm.unit)}" if harm.unit else ""
    lines = []
    if harm.end is not None:
        bounds = next((i for i in harm.end.intervals if math.isclose(i.level, r.level)), None)
        interval = f" [{num(bounds.lower, True)}, {num(bounds.upper, True)}]" if bounds else ""
        lines.append(f"change in <code>{esc(r.outcome)}</code>: {num(harm.end.point, True)}{interval}{unit}"
                     f" ({pct(r.level)} interval, end of run)")
    else:
        lines.append(f"outcome <code>{esc(r.outcome)}</code>")
    lines.append(f"harm bound at {pct(r.level)}: {num(r.harm_upper, True)}{unit} &middot; moderate \u2265 "
                 f"{num(r.thresholds[0])}, high \u2265 {num(r.thresholds[1])}")
    if harm.coverage is None:
        lines.append("held-out coverage: not measured")
    else:
        cov = harm.coverage
        flag = ' <span class="under">under-covers</span>' if cov.under else ""
        lines.append(f'held-out coverage of {pct(cov.nominal)} intervals: <span data-coverage="{cov.value:.4f}">'
                     f"{pct(cov.value)}</span>{flag}")
    body = "".join(f'<p class="line">{line}</p>' for line in lines)
    return (f'<div class="tile {esc(r.risk)}" data-headline="{esc(r.headline)}" data-risk="{esc(r.risk)}">'
            f'<div class="top"><span class="name">{esc(harm.label)}</span>{badge(r.risk)}</div>'
            f'<p class="big">{num(r.harm, True)}{unit} <span class="what">forecast harm</span></p>{body}</div>')


def _outcome_examples(item: OutcomeInfluence, config: ReportConfig) -> str:
    entries = []
    for ex in sorted(item.examples, key=lambda e: -e.score)[: config.top_examples]:
        text = ex.text if len(ex.text) <= config.example_chars else ex.text[: config.example_chars - 1] + "\u2026"
        entries.append(f'<li data-example="{ex.index}"><span class="score">{num(ex.score, True)} &middot; '
                       f'#{ex.index}</span><span class="text" title="{esc(text)}">{esc(text)}</span></li>')
    direction = f' <span class="sub">harmful {esc(item.harmful_direction)}</span>' if item.harmful_direction else ""
    return (f'<h4><code>{esc(item.outcome)}</code>{direction}</h4>'
            f'<ol data-outcome="{esc(item.outcome)}">{"".join(entries)}</ol>')


def _examples(c: CandidateView, config: ReportConfig) -> str:
    """One column per outcome family (forgetting, bias, safety, others), top examples by score."""
    if not c.influence:
        return '<p class="sub">No influence scores for this candidate.</p>'
    columns: dict[str, list[str]] = {}
    for item in c.influence:
        columns.setdefault(family_of(item.outcome), []).append(_outcome_examples(item, config))
    return '<div class="examples-grid">' + "".join(f"<div>{''.join(parts)}</div>" for parts in columns.values()) + "</div>"


def _dataset(c: CandidateView) -> str:
    r = c.result
    sources = _table(["source", "weight", "examples"],
                     ([f'<span class="mono">{esc(s.path)}</span>', num(s.weight), num(float(s.n_examples))]
                      for s in r.sources), numeric=(1, 2))
    pairs = [(f"<code>{esc(k)}</code>", num(v)) for k, v in sorted(r.dataset_stats.items())]
    half = (len(pairs) + 1) // 2  # two statistic/value pairs per row keeps a long list on one screen
    rows = [[*pairs[i], *(pairs[i + half] if i + half < len(pairs) else ("", ""))] for i in range(half)]
    stats_table = (_table(["statistic", "value", "statistic", "value"], rows, numeric=(1, 3), css_class="stats")
                   if pairs else '<p class="sub">No statistics.</p>')
    cache = "cache hit" if r.cache_hit else f"featurized in {num(r.featurize_seconds)} s"
    return (f'<div data-section="dataset"><h3>Dataset</h3><p class="sub">{num(float(r.n_examples))} examples '
            f'&middot; {cache}</p>{sources}{stats_table}</div>')


def provenance_list(p: Provenance, dataset_hash: str | None = None) -> str:
    recipe = ", ".join(f"{esc(k)}={esc(json.dumps(v, sort_keys=True))}" for k, v in sorted(p.recipe.items()))
    rows = [("base model", esc(p.base_model)), ("weights hash", f'<span class="mono hash">{esc(p.base_weights_hash)}</span>')]
    if dataset_hash is not None:
        rows.append(("dataset hash", f'<span class="mono hash">{esc(dataset_hash)}</span>'))
    rows += [("recipe", f'<span class="mono">{recipe or DASH}</span>'),
             ("meta-model", esc(p.meta_model_version)),
             ("corpus hash", f'<span class="mono hash">{esc(p.corpus_hash)}</span>'),
             ("featurizer", esc(p.featurizer_version))]
    return '<dl class="prov">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def card_section(c: CandidateView, dom_id: str, png: bytes | None, provenance: Provenance, config: ReportConfig) -> str:
    r = c.result
    ood = ""
    if r.ood:
        named = ", ".join(f"<code>{esc(f)}</code>" for f in r.ood_features) or "features not named"
        ood = (f'<div class="warn" role="alert" data-ood="true"><strong>Out of distribution.</strong> This dataset lies '
               f"outside the runs the meta-model learned from on: {named}. Its intervals may be too narrow.</div>")
    tiles = "".join(_tile(h) for h in c.headlines) or '<p class="sub">No headline risks were forecast.</p>'
    return f"""<section class="card" id="{esc(dom_id)}" data-candidate="{esc(r.candidate_id)}" data-rank="{c.rank}">
<div class="card-head"><h2>#{c.rank} &middot; {esc(r.name)} {badge(c.worst)}{' <span class="badge ood">OOD</span>' if r.ood else ""}</h2>
<span class="meta mono">{esc(r.candidate_id)} &middot; {num(float(r.n_examples))} examples</span></div>
{ood}<div class="tiles">{tiles}</div>
<figure>{img(png, "trajectory", f"Forecast trajectories of every outcome for {r.name}")}
<figcaption>Forecast change (fine-tuned minus base) of each outcome across the run, with interval bands; every
change starts at 0 before training.</figcaption></figure>
<div class="examples" data-section="influence"><h3>Most influential examples (push toward harm)</h3>
{_examples(c, config)}</div>
<div class="cols">{_dataset(c)}<div data-section="provenance"><h3>Provenance</h3>{provenance_list(provenance, r.dataset_hash)}</div></div>
</section>"""


def header_section(results: BatchResults, view: ReportView) -> str:
    p = results.provenance
    levels = ", ".join(pct(level) for level in view.levels) or "\u2013"
    counts = f"{len(results.candidates)} candidate{'s' if len(results.candidates) != 1 else ''} scored"
    if results.skipped:
        counts += f", {len(results.skipped)} skipped"
    return f"""<header id="summary"><h1>Fine-tune risk report</h1>
<p class="sub">{counts} &middot; base model <strong>{esc(p.base_model)}</strong> &middot; meta-model
{esc(p.meta_model_version)} &middot; interval levels {levels} &middot; created {esc(results.created_at)}
&middot; {num(results.elapsed_seconds)} s</p></header>"""


def provenance_section(results: BatchResults) -> str:
    p = results.provenance
    extra = (f'<dl class="prov"><dt>meta-model dir</dt><dd class="mono">{esc(p.meta_model_dir)}</dd>'
             f"<dt>tunecast</dt><dd>{esc(p.tunecast_version)}</dd><dt>results schema</dt>"
             f"<dd>{results.schema_version}</dd></dl>")
    return f"""<section class="panel" id="provenance"><h2>Provenance</h2>{provenance_list(p)}{extra}
<p class="legend-note">Risk levels: <span class="badge low">low</span> <span class="badge moderate">moderate</span>
<span class="badge high">high</span>, read from the harmful end of the interval against each risk&rsquo;s
thresholds. Held-out coverage is the share of held-out fine-tunes whose measured outcome fell inside the interval;
well below the nominal level means the intervals are too narrow.</p></section>"""


def document(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><style>{CSS}</style></head>
<body><main>
{body}
</main></body></html>
"""
