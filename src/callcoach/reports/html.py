"""Shared building blocks of the HTML reports: one page shell, escaping, tables and SVG charts.

Pages are self-contained: styles and scripts are inlined, charts are inline SVG, nothing is
fetched from a network, so a page works opened from disk, mailed, or on a phone.
"""

from __future__ import annotations

import html
import json
from typing import Any, Iterable, Mapping, Optional, Sequence

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#ffffff; --soft:#f6f8fa;
  --agent:#0969da; --customer:#8250df; --crit:#cf222e; --major:#bc4c00; --minor:#9a6700; --info:#59636e;
  --ok:#1a7f37; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.55 -apple-system, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
  color:var(--fg); background:var(--bg); }
header.top { padding:16px 20px; border-bottom:1px solid var(--line); background:var(--soft); }
header.top h1 { margin:0; font-size:20px; }
header.top .sub { color:var(--muted); font-size:13px; }
main { padding:16px 20px; max-width:1100px; margin:0 auto; }
section { margin:18px 0 26px; }
h2 { font-size:17px; margin:0 0 10px; border-bottom:1px solid var(--line); padding-bottom:4px; }
h3 { font-size:15px; margin:14px 0 6px; }
.cards { display:flex; flex-wrap:wrap; gap:10px; }
.card { border:1px solid var(--line); border-radius:8px; padding:10px 14px; min-width:130px; background:var(--bg); }
.card .k { color:var(--muted); font-size:12px; }
.card .v { font-size:22px; font-weight:600; }
.pass { color:var(--ok); } .fail { color:var(--crit); }
.sev { display:inline-block; padding:0 6px; border-radius:10px; font-size:12px; color:#fff; }
.sev.critical { background:var(--crit); } .sev.major { background:var(--major); }
.sev.minor { background:var(--minor); } .sev.info { background:var(--info); }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { border-bottom:1px solid var(--line); padding:6px 8px; text-align:left; vertical-align:top; }
th { background:var(--soft); white-space:nowrap; }
table.sortable th { cursor:pointer; user-select:none; }
table.sortable th[aria-sort=ascending]::after { content:" ▲"; }
table.sortable th[aria-sort=descending]::after { content:" ▼"; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
.muted { color:var(--muted); }
.notice { border-left:4px solid var(--minor); background:#fff8c5; padding:8px 12px; margin:10px 0; }
.scroll { overflow-x:auto; }
svg text { font-size:11px; fill:var(--muted); }
footer { color:var(--muted); font-size:12px; padding:20px; border-top:1px solid var(--line); }
@media (max-width: 640px) {
  main { padding:10px; } header.top { padding:12px; } .card { min-width:44%; flex:1; }
  th, td { padding:5px 4px; font-size:13px; }
}
"""

SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-v') || a.cells[col].textContent;
        var y = b.cells[col].getAttribute('data-v') || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var cmp = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, 'zh');
        return asc ? cmp : -cmp;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def esc(value: Any) -> str:
    """Return ``value`` as escaped HTML text ("" for None)."""
    return "" if value is None else html.escape(str(value), quote=True)


def page(
    title: str,
    body: str,
    *,
    lang: str = "zh-CN",
    subtitle: str = "",
    extra_css: str = "",
    extra_js: str = "",
    footer: str = "",
) -> str:
    """Return a complete, self-contained HTML document."""
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}{extra_css}</style>\n</head>\n<body>\n"
        f'<header class="top"><h1>{esc(title)}</h1>'
        f'{f"<div class=sub>{subtitle}</div>" if subtitle else ""}</header>\n'
        f"<main>\n{body}\n</main>\n"
        f'<footer>{footer}</footer>\n'
        f"<script>{SORT_JS}{extra_js}</script>\n</body>\n</html>\n"
    )


def cards(items: Iterable[tuple[str, str, str]]) -> str:
    """Return metric cards from (label, value HTML, css class) triples."""
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="k">{esc(k)}</div><div class="v {cls}">{v}</div></div>' for k, v, cls in items
    ) + "</div>"


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    table_id: str = "",
    sortable: bool = True,
    numeric: Sequence[bool] = (),
    raw: bool = False,
) -> str:
    """Return an HTML table; numeric columns are right-aligned and sort by value.

    Cells are escaped unless ``raw`` is true (then they must already be safe HTML).
    """
    num = list(numeric) + [False] * (len(columns) - len(numeric))
    head = "".join(f'<th class="{"num" if n else ""}">{esc(c)}</th>' for c, n in zip(columns, num))
    body = []
    for row in rows:
        cells = []
        for v, n in zip(row, num):
            text = v if raw else esc(_fmt(v))
            data = f' data-v="{esc(v)}"' if n and isinstance(v, (int, float)) else ""
            cells.append(f'<td class="{"num" if n else ""}"{data}>{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    attrs = f' id="{esc(table_id)}"' if table_id else ""
    cls = ' class="sortable"' if sortable else ""
    return f'<div class="scroll"><table{attrs}{cls}><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return "" if v is None else str(v)


def line_chart(
    series: Mapping[str, Sequence[tuple[str, Optional[float]]]],
    *,
    width: int = 640,
    height: int = 220,
    y_min: Optional[float] = None,
    y_max: Optional[float] = None,
    label: str = "",
    colors: Sequence[str] = ("#0969da", "#8250df", "#1a7f37", "#bc4c00", "#cf222e", "#59636e"),
) -> str:
    """Return an inline SVG line chart; each series is a list of (x label, y) points sharing x labels."""
    xs: list[str] = []
    for pts in series.values():
        for x, _ in pts:
            if x not in xs:
                xs.append(x)
    values = [y for pts in series.values() for _, y in pts if y is not None]
    if not xs or not values:
        return f'<svg class="chart" role="img" aria-label="{esc(label)}" width="{width}" height="40"><text x="4" y="24">—</text></svg>'
    lo = min(values) if y_min is None else y_min
    hi = max(values) if y_max is None else y_max
    if hi == lo:
        hi = lo + 1
    pad_l, pad_r, pad_t, pad_b = 40, 10, 10, 28
    w, h = width - pad_l - pad_r, height - pad_t - pad_b

    def px(i: int) -> float:
        return pad_l + (w * i / (len(xs) - 1) if len(xs) > 1 else w / 2)

    def py(y: float) -> float:
        return pad_t + h - (y - lo) / (hi - lo) * h

    parts = [f'<svg class="chart" role="img" aria-label="{esc(label)}" viewBox="0 0 {width} {height}" '
             f'width="100%" preserveAspectRatio="xMinYMin meet" style="max-width:{width}px">']
    for frac in (0, 0.5, 1):
        y = lo + (hi - lo) * frac
        parts.append(f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#d1d9e0"/>'
                     f'<text x="2" y="{py(y) + 4:.1f}">{esc(_fmt(round(y, 2)))}</text>')
    step = max(1, len(xs) // 8)
    for i, x in enumerate(xs):
        if i % step == 0:
            parts.append(f'<text x="{px(i):.1f}" y="{height - 8}" text-anchor="middle">{esc(x)}</text>')
    palette = list(colors) * (len(series) // max(1, len(colors)) + 1)
    for (name, pts), color in zip(series.items(), palette):
        idx = {x: i for i, x in enumerate(xs)}
        coords = [(px(idx[x]), py(y)) for x, y in pts if y is not None]
        if len(coords) > 1:
            path = " ".join(f"{'M' if j == 0 else 'L'}{cx:.1f},{cy:.1f}" for j, (cx, cy) in enumerate(coords))
            parts.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"><title>{esc(name)}</title></path>')
        for cx, cy in coords:
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{color}"><title>{esc(name)}</title></circle>')
    parts.append("</svg>")
    legend = " ".join(f'<span style="color:{c}">■</span> {esc(n)}' for n, c in zip(series, palette))
    return "".join(parts) + (f'<div class="muted" style="font-size:12px">{legend}</div>' if len(series) > 1 else "")


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    width: int = 640,
    bar_height: int = 18,
    max_value: Optional[float] = None,
    color: str = "#0969da",
    label: str = "",
    fmt: str = "{:.0f}",
) -> str:
    """Return an inline SVG horizontal bar chart of (label, value) pairs."""
    if not bars:
        return ""
    top = max_value if max_value is not None else max((v for _, v in bars), default=1) or 1
    label_w, pad = 150, 6
    height = len(bars) * (bar_height + pad) + pad
    parts = [f'<svg class="chart" role="img" aria-label="{esc(label)}" viewBox="0 0 {width} {height}" width="100%" '
             f'style="max-width:{width}px">']
    for i, (name, value) in enumerate(bars):
        y = pad + i * (bar_height + pad)
        bw = max(0.0, (width - label_w - 50) * (value / top))
        parts.append(f'<text x="0" y="{y + bar_height - 5}">{esc(name)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{bw:.1f}" height="{bar_height}" fill="{color}" rx="2"/>'
                     f'<text x="{label_w + bw + 4:.1f}" y="{y + bar_height - 5}">{esc(fmt.format(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def json_script(element_id: str, data: Any) -> str:
    """Return data embedded as a JSON script element (safe against </script> in the text)."""
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{esc(element_id)}">{payload}</script>'
