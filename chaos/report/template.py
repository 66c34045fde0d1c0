"""The page shell (inline CSS and a little JS) and small HTML helpers shared by the reports.

Everything that is not already ``Html`` is escaped on the way in, so a value from a run folder
(an error message, a job's URL, a log file name) can never become markup.
"""

from __future__ import annotations

import html
import time
from urllib.parse import quote

RESULT_COLORS = {"pass": "#15803d", "fail": "#b91c1c", "unknown": "#b45309", "error": "#6b21a8"}


class Html(str):
    """A string that is already markup: ``esc`` leaves it alone."""


def esc(value) -> Html:
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def tag(name: str, content="", **attrs) -> Html:
    """``tag("td", "x", cls="bad")`` -> ``<td class="bad">x</td>``; attributes escaped."""
    parts = [name]
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        key = "class" if key == "cls" else key.rstrip("_").replace("_", "-")
        parts.append(key if value is True else f'{key}="{esc(value)}"')
    return Html(f"<{' '.join(parts)}>{esc(content)}</{name}>")


def join(items) -> Html:
    return Html("".join(esc(item) for item in items))


def table(headers, rows, cls: str = "grid") -> Html:
    """A table; a row may be a list of cells or a ``(cells, row_class)`` pair."""
    head = join(tag("th", h) for h in headers)
    body = []
    for row in rows:
        cells, row_cls = row if isinstance(row, tuple) else (row, None)
        body.append(tag("tr", join(tag("td", c) for c in cells), cls=row_cls))
    return Html(
        f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{join(body)}</tbody></table>"
    )


def section(section_id: str, title: str, content, note: str | None = None) -> Html:
    extra = tag("p", note, cls="note") if note else ""
    return Html(
        f'<section id="{esc(section_id)}"><h2>{esc(title)}</h2>{extra}{esc(content)}</section>'
    )


def link(path: str, text=None) -> Html:
    """A relative link to a file in the run folder (never an external host)."""
    return tag("a", path if text is None else text, href=quote(path))


def badge(result: str) -> Html:
    color = RESULT_COLORS.get(result, "#374151")
    return tag("span", (result or "?").upper(), cls="badge", style=f"background:{color}")


def seconds(value, digits: int = 2) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "-"
    if value < 0:
        return "never"
    return f"{value:.{digits}f} s"


def clock(epoch) -> str:
    if not isinstance(epoch, (int, float)):
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def page(title: str, nav: list[tuple[str, str]], body) -> str:
    links = join(tag("a", text, href=href) for href, text in nav)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<nav class="top">{links}</nav><main>{esc(body)}</main>'
        f"<script>{JS}</script></body></html>\n"
    )


CSS = """
:root { --fg:#111827; --muted:#6b7280; --line:#e5e7eb; --bad:#b91c1c; --ok:#15803d;
  --warn:#b45309; --bg-soft:#f9fafb; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:var(--fg); background:#fff; }
main { max-width:1280px; margin:0 auto; padding:12px 24px 48px; }
nav.top { position:sticky; top:0; z-index:5; background:#111827; padding:8px 24px;
  display:flex; gap:18px; flex-wrap:wrap; }
nav.top a { color:#e5e7eb; text-decoration:none; font-size:13px; }
nav.top a:hover { color:#fff; text-decoration:underline; }
h1 { font-size:22px; margin:0; } h2 { font-size:18px; margin:28px 0 8px;
  border-bottom:1px solid var(--line); padding-bottom:4px; }
h3 { font-size:15px; margin:0; display:inline; }
section { scroll-margin-top:44px; }
.banner { border-radius:8px; padding:16px 20px; color:#fff; margin-top:12px; }
.banner .headline { display:flex; align-items:baseline; gap:14px; flex-wrap:wrap; }
.banner .result { font-size:30px; font-weight:800; letter-spacing:1px; }
.banner .sub { opacity:.92; } .banner a.sub { color:#fff; font-weight:600; }
.banner .error { margin-top:10px; background:rgba(0,0,0,.25); padding:8px 10px;
  border-radius:6px; white-space:pre-wrap; font-family:ui-monospace,monospace; }
.tiles { display:flex; gap:6px; flex-wrap:wrap; margin-top:12px; }
.tile { background:#fff; color:var(--fg); border-radius:6px; padding:5px 10px; min-width:70px; }
.tile.info { background:rgba(255,255,255,.85); }
.tile b { display:block; font-size:22px; } .tile span { font-size:12px; color:var(--muted); }
.tile.bad { outline:3px solid #fecaca; } .tile.bad b { color:var(--bad); }
.tile.info b { color:#374151; }
ul.notes { margin:10px 0 0; padding-left:20px; }
table.grid { border-collapse:collapse; width:100%; margin:6px 0 10px; font-size:13px; }
table.grid th { text-align:left; background:var(--bg-soft); font-weight:600; }
table.grid th, table.grid td { border:1px solid var(--line); padding:4px 8px;
  vertical-align:top; }
table.grid td { overflow-wrap:break-word; }
table.events td, table.jobs td { white-space:nowrap; }
table.events td:last-child, table.jobs td:last-child { white-space:normal; }
table.jobs td:last-child { word-break:break-all; }
tr.bad td { background:#fef2f2; } tr.ok td:first-child { color:var(--ok); }
tr.fault td { background:#fffbeb; } tr.client td:nth-child(3) { color:#1d4ed8; }
tr.job td:nth-child(3) { color:#047857; }
table.kv th { width:180px; }
table.grid.compact { width:auto; min-width:560px; }
table.compact td { font-variant-numeric:tabular-nums; }
.badge { color:#fff; border-radius:4px; padding:1px 7px; font-weight:700; font-size:12px; }
.ok-text { color:var(--ok); font-weight:600; } .bad-text { color:var(--bad); font-weight:700; }
.note { color:var(--muted); margin:4px 0; }
pre, code { font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:12.5px; }
.replay { display:flex; gap:8px; align-items:stretch; margin:12px 0 0; }
.replay pre { flex:1; margin:0; background:#111827; color:#f9fafb; padding:10px 12px;
  border-radius:6px; overflow-x:auto; user-select:all; }
button { font:inherit; font-size:13px; border:1px solid #d1d5db; background:#fff;
  border-radius:6px; padding:4px 10px; cursor:pointer; }
button:hover { background:#f3f4f6; }
details.violation { border:1px solid #fecaca; border-left:5px solid var(--bad);
  border-radius:6px; margin:8px 0; padding:6px 12px; background:#fff; }
details.violation > summary { cursor:pointer; }
details.violation .kind { font-weight:700; color:var(--bad); text-transform:uppercase;
  margin-right:6px; }
.toolbar { display:flex; gap:8px; margin:6px 0; }
svg.chart { width:100%; height:auto; display:block; }
.files { columns:3 260px; } .files li { break-inside:avoid; }
.runs td { white-space:nowrap; font-variant-numeric:tabular-nums; }
"""

JS = """
(function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.dataset.copy).textContent;
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else {
        var area = document.createElement("textarea");
        area.value = text; document.body.appendChild(area); area.select();
        try { document.execCommand("copy"); done(); } catch (e) {}
        area.remove();
      }
    });
  });
  document.querySelectorAll("button[data-details]").forEach(function (button) {
    button.addEventListener("click", function () {
      var open = button.dataset.details === "open";
      document.querySelectorAll("details.violation").forEach(function (d) { d.open = open; });
    });
  });
  var target = location.hash && document.getElementById(location.hash.slice(1));
  if (target && target.tagName === "DETAILS") { target.open = true; }
  document.body.dataset.ready = "1";
})();
"""
