"""``index.html``: every run folder in a reports folder, newest first, with its key figures."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from chaos.report import data as rd
from chaos.report.template import Html, badge, clock, join, link, page, seconds, section, table, tag

INDEX = "index.html"
OTHER_PROBLEMS = ("unexpected", "stuck", "failed", "wrong_output", "slow_recovery")
HEADERS = (
    "result",
    "scenario",
    "platform",
    "mode / mutations",
    "date",
    "seed",
    "acked",
    "done",
    "lost",
    "duplicated",
    "other",
    "max recovery",
    "took",
    "files",
)


def render_index(reports_dir: Path) -> Path:
    """Write ``reports_dir/index.html`` listing every run folder in it; return its path."""
    reports_dir = Path(reports_dir)
    runs = [run for run in (_summary(d) for d in _run_dirs(reports_dir)) if run]
    runs.sort(key=lambda r: (r.meta.get("started") or 0, r.run_dir.name), reverse=True)
    tally = Counter(r.result for r in runs)
    headline = ", ".join(f"{n} {result}" for result, n in tally.most_common()) or "no runs"
    parts = [
        tag("h1", f"Chaos runs in {reports_dir.resolve().name or reports_dir}"),
        tag("p", f"{len(runs)} run(s): {headline}.", cls="note"),
    ]
    if (reports_dir / "junit.xml").is_file():
        parts.append(tag("p", join(["Suite results for CI: ", link("junit.xml")]), cls="note"))
    rows = [_row(r) for r in runs]
    listing = table(HEADERS, rows, cls="grid runs") if rows else "No run folders here yet."
    parts.append(section("runs", "Runs", listing))
    path = reports_dir / INDEX
    path.write_text(page("Chaos runs", [("#runs", "Runs")], join(parts)))
    return path


def _run_dirs(reports_dir: Path) -> list[Path]:
    if not reports_dir.is_dir():
        return []
    return [
        d
        for d in reports_dir.iterdir()
        if d.is_dir() and ((d / "meta.json").is_file() or (d / "verdict.json").is_file())
    ]


def _summary(run_dir: Path) -> rd.RunData | None:
    data = rd.read_json(run_dir / "verdict.json")
    meta = rd.read_json(run_dir / "meta.json") or data.get("meta") or {}
    if not (data or meta):
        return None
    return rd.RunData(run_dir, meta, data)


def _row(run: rd.RunData) -> tuple[list, str | None]:
    meta, counts, name = run.meta, run.counts, run.run_dir.name
    scenario = meta.get("scenario") or run.data.get("scenario") or name
    report = f"{name}/report.html"
    title = link(report, scenario) if (run.run_dir / "report.html").is_file() else scenario
    mode = meta.get("system_mode") or "-"
    mutations = ", ".join(meta.get("mutations") or [])
    recoveries = [
        r.get("flowing_after_heal")
        for r in run.verdict.get("recoveries") or []
        if rd.is_number(r.get("flowing_after_heal"))
    ]
    other = sum(counts.get(k, 0) for k in OTHER_PROBLEMS) if counts else "-"
    timings = meta.get("timings") or run.data.get("timings") or {}
    files = join(
        [
            _link(run.run_dir, "summary.txt", "summary"),
            " ",
            _link(run.run_dir, "verdict.json", "verdict"),
        ]
    )
    cells = [
        badge(run.result),
        title,
        meta.get("platform") or "-",
        f"{mode} / {mutations}" if mutations else mode,
        clock(meta.get("started")),
        meta.get("seed", "-"),
        *(counts.get(k, "-") for k in ("acknowledged", "done", "lost", "duplicated")),
        other,
        seconds(max(recoveries)) if recoveries else "-",
        seconds(timings.get("total"), 0),
        files,
    ]
    problem = run.result in ("fail", "error") or any(counts.get(k) for k in ("lost", "duplicated"))
    return cells, "bad" if problem else None


def _link(run_dir: Path, file: str, text: str) -> Html | str:
    return link(f"{run_dir.name}/{file}", text) if (run_dir / file).is_file() else ""
