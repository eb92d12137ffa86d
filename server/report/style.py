"""The report's stylesheet: inline, system fonts only, so the file renders the same offline and anywhere."""

from __future__ import annotations

from server.report.config import RISK_COLORS

_VARIABLES = (":root { --ink:#1f2328; --muted:#5f6368; --line:#e3e5e8; --bg:#f4f5f7; --card:#ffffff; "
              "--accent:#2c5d8f; --warn-bg:#fff4e5; --warn-line:#d95f02; "
              + " ".join(f"--{level}:{color};" for level, color in RISK_COLORS.items()) + " }")

CSS = _VARIABLES + """
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif; }
main { max-width:1240px; margin:0 auto; padding:20px 20px 40px; }
h1 { font-size:22px; margin:0 0 4px; } h2 { font-size:18px; margin:0 0 10px; } h3 { font-size:14px; margin:0 0 8px; }
h4 { font-size:13px; margin:10px 0 4px; }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
.sub { color:var(--muted); margin:0; }
section.panel, section.card { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding:18px 20px; margin:16px 0; box-shadow:0 1px 2px rgba(0,0,0,.04); }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase; letter-spacing:.02em; }
table.stats { margin-top:8px; } table.stats td { padding:3px 8px; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
code, .mono { font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace; font-size:12px; }
.hash { word-break:break-all; }
.nowrap { white-space:nowrap; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:11px; font-weight:700;
  letter-spacing:.04em; text-transform:uppercase; color:#fff; white-space:nowrap; }
.badge.low { background:var(--low); } .badge.moderate { background:var(--moderate); } .badge.high { background:var(--high); }
.badge.ood { background:#fff; color:var(--warn-line); border:1px solid var(--warn-line); }
.card-head { display:flex; justify-content:space-between; align-items:baseline; gap:12px; flex-wrap:wrap; }
.card-head .meta { color:var(--muted); font-size:12px; }
.tiles { display:grid; grid-template-columns:repeat(3,1fr); gap:12px; margin:12px 0; }
.tile { border:1px solid var(--line); border-left:6px solid var(--muted); border-radius:8px; padding:10px 12px; }
.tile.low { border-left-color:var(--low); } .tile.moderate { border-left-color:var(--moderate); }
.tile.high { border-left-color:var(--high); }
.tile .top { display:flex; justify-content:space-between; align-items:center; }
.tile .name { font-weight:700; }
.tile .big { font-size:20px; font-weight:700; margin:6px 0 0; font-variant-numeric:tabular-nums; }
.tile .line { color:var(--muted); font-size:12px; margin:2px 0; }
.tile .under { color:var(--high); font-weight:600; }
.warn { background:var(--warn-bg); border:1px solid var(--warn-line); border-radius:8px; padding:8px 12px;
  margin:10px 0; font-size:13px; }
figure { margin:8px 0; } figure img { display:block; max-width:100%; height:auto; }
figcaption { color:var(--muted); font-size:12px; margin-top:4px; }
.cols { display:grid; grid-template-columns:1fr 1fr; gap:18px; margin-top:12px; }
.examples-grid { display:grid; grid-template-columns:repeat(3,1fr); gap:14px; }
.examples h4:first-child { margin-top:0; }
.examples ol { margin:0; padding-left:0; list-style:none; }
.examples li { border-bottom:1px solid var(--line); padding:3px 0; font-size:12px; line-height:1.35; }
.examples .score { font-variant-numeric:tabular-nums; color:var(--muted); font-size:11px; margin-right:6px; }
.examples .text { word-break:break-word; display:-webkit-box; -webkit-line-clamp:2; -webkit-box-orient:vertical;
  overflow:hidden; }
.tile .what { font-size:12px; font-weight:400; color:var(--muted); }
dl.prov { display:grid; grid-template-columns:max-content 1fr; gap:2px 10px; margin:0; font-size:12px; }
dl.prov dt { color:var(--muted); } dl.prov dd { margin:0; }
.rank-cell { font-weight:700; }
.legend-note { color:var(--muted); font-size:12px; margin:6px 0 0; }
footer { color:var(--muted); font-size:12px; }
@media (max-width:900px) { .tiles, .cols, .examples-grid { grid-template-columns:1fr; } }
@media print { section.card { break-before:page; box-shadow:none; } }
"""
