"""The HTML reports: one self-contained ``report.html`` per run, and ``index.html`` per folder.

A report is a single file with inline CSS, inline SVG charts and a few lines of inline JS; it
opens offline and links only to files beside it. It reads whatever the run folder holds (see
``chaos.report.data``): a run that ended in a harness error still gets a report of what exists.

Reading order follows what a person needs after a CI failure: the verdict, the replay command,
the offending jobs with their own timelines, then the run's timeline, recovery and latency.
"""

from __future__ import annotations

from pathlib import Path

from chaos.report import charts
from chaos.report import data as rd
from chaos.report.evidence import job_timelines_section, violations_section
from chaos.report.index import render_index
from chaos.report.template import (
    RESULT_COLORS,
    Html,
    clock,
    join,
    link,
    page,
    seconds,
    section,
    table,
    tag,
)

__all__ = ["render_index", "render_run"]

REPORT = "report.html"
PROBLEMS = ("lost", "duplicated", "unexpected", "stuck", "failed", "wrong_output", "slow_recovery")
INFO = ("recovered", "redeliveries", "acknowledged", "done", "submitted")
NAV = [
    ("#verdict", "Verdict"),
    ("#violations", "Violations"),
    ("#timeline", "Timeline"),
    ("#recovery", "Recovery"),
    ("#jobs", "Offending jobs"),
    ("#latency", "Latency"),
    ("#expectations", "Expectations"),
    ("#run", "Run"),
    ("#files", "Files"),
    ("../index.html", "All runs"),
]
# Files a run may leave beside its report, in the order a reader wants them; then logs/*.
RUN_FILES = (
    "locust.html",
    "summary.txt",
    "verdict.json",
    "meta.json",
    "junit.xml",
    "history.jsonl",
    "faults.jsonl",
    "timeline.jsonl",
    "jobs.jsonl",
    "locust.log",
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "locust_exceptions.csv",
)
RECOVERY_HEADERS = (
    "fault",
    "what",
    "at",
    "took effect",
    "healed after",
    "jobs flowing after heal",
    "jobs waiting",
    "jobs in flight",
    "identity before → after",
    "outcome",
)


def render_run(run_dir: Path) -> Path:
    """Write ``run_dir/report.html`` from the files in the run folder; return its path."""
    run_dir = Path(run_dir)
    run = rd.load_run(run_dir)
    name = run.meta.get("scenario") or run.data.get("scenario") or run_dir.name
    sections = [
        banner(run, name),
        violations_section(run),
        timeline_section(run),
        recovery_section(run),
        job_timelines_section(run),
        latency_section(run),
        expectations_section(run),
        run_section(run),
        files_section(run_dir),
    ]
    path = run_dir / REPORT
    path.write_text(page(f"{run.result.upper()} {name} - chaos report", NAV, join(sections)))
    return path


def banner(run: rd.RunData, name: str) -> Html:
    """The verdict in colour, what went wrong in one line, the counts, and the replay command."""
    counts, meta = run.counts, run.meta
    found = [f"{counts[k]} {k.replace('_', ' ')}" for k in PROBLEMS if counts.get(k)]
    summary = ", ".join(found) if found else ("no violations" if counts else "no verdict")
    headline = [
        tag("span", run.result.upper(), cls="result"),
        tag("h1", name),
        tag("a", summary, href="#violations", cls="sub")
        if found
        else tag("span", summary, cls="sub"),
    ]
    mutations = ", ".join(meta.get("mutations") or []) or "none"
    exit_code = run.data.get("exit_code", meta.get("exit_code", "?"))
    facts = (
        f"{meta.get('run_id') or run.run_dir.name} · platform {meta.get('platform', '?')}"
        f" · mode {meta.get('system_mode', '?')} · mutations {mutations} · seed "
        f"{meta.get('seed', '?')} · {clock(meta.get('started'))} · exit code {exit_code}"
    )
    parts = [tag("div", join(headline), cls="headline"), tag("div", facts, cls="sub")]
    if run.error:
        parts.append(tag("div", f"Harness error: {run.error}", cls="error"))
    tiles = [
        _tile(k, counts[k], "tile bad" if counts[k] else "tile") for k in PROBLEMS if k in counts
    ]
    tiles += [_tile(k, counts[k], "tile info") for k in INFO if k in counts]
    if tiles:
        parts.append(tag("div", join(tiles), cls="tiles"))
    notes = run.verdict.get("notes") or []
    if notes:
        parts.append(tag("ul", join(tag("li", n) for n in notes), cls="notes"))
    color = RESULT_COLORS.get(run.result, RESULT_COLORS["error"])
    content = [tag("div", join(parts), cls="banner", style=f"background:{color}")]
    if meta.get("replay"):
        copy = tag(
            "button", "Copy", type="button", data_copy="replay-cmd", title="copy the replay command"
        )
        replay = join([tag("pre", meta["replay"], id="replay-cmd"), copy])
        content.append(tag("div", replay, cls="replay"))
    return tag("section", join(content), id="verdict")


def _tile(name: str, value, cls: str) -> Html:
    return tag("div", join([tag("b", value), tag("span", name.replace("_", " "))]), cls=cls)


def timeline_section(run: rd.RunData) -> Html:
    svg = charts.timeline_svg(run)
    if svg is None:
        text = "No history or samples were recorded (the run stopped before the load)."
        return section("timeline", "Timeline", tag("p", text, cls="note"))
    source = "jobs.jsonl" if run.jobs is not None else "DONE count deltas in timeline.jsonl"
    note = (
        f"Shaded: fault windows, from the moment each fault took effect until it healed. "
        f"Completions/s from {source}. Times in seconds since the first request."
    )
    return section("timeline", "Timeline", join([Html(svg), fault_plan(run)]), note)


def fault_plan(run: rd.RunData) -> Html:
    """The faults as they really happened, beside the chart: when, on what, and how it went."""
    if not run.faults:
        return tag("p", "No faults in this run.", cls="note")
    rows = []
    for fault in run.faults:
        start = fault.get("effective") or fault.get("started")
        healed = fault.get("healed")
        lasted = healed - start if rd.is_number(start) and rd.is_number(healed) else None
        status = "ok" if fault.get("ok") else f"error: {fault.get('error') or 'did not happen'}"
        cells = [
            fault.get("index"),
            seconds(start - run.t0, 1) if rd.is_number(start) and run.t0 else "-",
            f"{fault.get('action')} {fault.get('target')}",
            fault.get("service") or "-",
            seconds(lasted, 2) if lasted is not None else "-",
            status,
        ]
        rows.append((cells, None if fault.get("ok") else "bad"))
    headers = ["fault", "took effect t", "action", "service", "lasted", "result"]
    return join([tag("h3", "Fault plan, as it happened"), table(headers, rows, cls="grid compact")])


def recovery_section(run: rd.RunData) -> Html:
    recoveries = {r.get("index"): r for r in run.verdict.get("recoveries") or []}
    faults = {f.get("index"): f for f in run.faults}
    indexes = sorted(set(recoveries) | set(faults), key=lambda i: (i is None, i))
    rows = [_recovery_row(i, recoveries.get(i, {}), faults.get(i, {}), run.t0) for i in indexes]
    timings = run.meta.get("timings") or run.data.get("timings") or {}
    drain, limit = timings.get("drain"), (run.meta.get("expect") or {}).get("drain_within")
    drained = seconds(drain)
    if rd.is_number(drain) and drain < 0:
        drained = f"not drained within {limit:g} s" if rd.is_number(limit) else "never drained"
    content = [
        table(RECOVERY_HEADERS, rows) if rows else tag("p", "No faults in this run.", cls="note"),
        tag("p", join(["Time to drain after the load stopped: ", tag("b", drained)])),
    ]
    return section("recovery", "Recovery per fault", join(content))


def _recovery_row(index, recovery: dict, fault: dict, t0: float | None) -> tuple[list, str | None]:
    ok = fault.get("ok", True)
    what = recovery.get("fault") or f"{fault.get('action')} {fault.get('target')}"
    at = fault.get("effective") or fault.get("started")
    in_flight = ", ".join(str(j) for j in fault.get("jobs_in_flight") or []) or "-"
    identity = f"{fault.get('identity_before') or '-'} → {fault.get('identity_after') or '-'}"
    cells = [
        f"#{index}",
        what,
        seconds(at - t0, 1) if at and t0 else "-",
        seconds(recovery.get("took_effect")),
        seconds(recovery.get("healed_after")),
        seconds(recovery.get("flowing_after_heal")),
        "yes" if recovery.get("jobs_waiting") else "no",
        in_flight,
        identity,
        "ok" if ok else f"did not work: {fault.get('error')}",
    ]
    return cells, None if ok else "bad"


def latency_section(run: rd.RunData) -> Html:
    windows, blocks = run.windows(), []
    job_points = [(start, latency, "DONE") for start, latency in rd.job_latencies(run)]
    for title, points in (
        ("Submit latency (POST /submit, every attempt)", rd.submit_latencies(run)),
        ("End-to-end job latency (first submit to DONE)", job_points),
    ):
        if not points:
            why = "needs jobs.jsonl" if run.jobs is None and "job" in title else "no data"
            blocks.append(tag("p", f"{title}: {why}.", cls="note"))
            continue
        rows = []
        outcomes = sorted({p[2] for p in points}, key=lambda o: (o != "ok", o))
        for outcome in outcomes:  # a fast refusal must not make the successes look fast
            alike = [p for p in points if p[2] == outcome]
            for phase, stats in rd.latency_table(alike, windows).items():
                figures = (
                    [seconds(stats[q], 3) for q in ("p50", "p95", "p99", "max")]
                    if stats
                    else ["-"] * 4
                )
                rows.append([phase, outcome, stats["n"] if stats else 0, *figures])
        headers = ["started", "outcome", "n", "p50", "p95", "p99", "max"]
        blocks += [tag("h3", title), table(headers, rows, cls="grid compact")]
    note = (
        "Per outcome (ok: answered 202), split by when the request started: before the first "
        "fault, inside any fault window, or outside the windows after the first fault."
    )
    return section("latency", "Latency", join(blocks), note)


def expectations_section(run: rd.RunData) -> Html:
    expectations = run.verdict.get("expectations") or []
    if not expectations:
        text = "No verdict: the checker did not run."
        return section("expectations", "Expectations", tag("p", text, cls="note"))
    rows = []
    for e in expectations:
        mark = (
            tag("span", "ok", cls="ok-text")
            if e.get("ok")
            else tag("span", "FAILED", cls="bad-text")
        )
        rows.append(
            ([mark, e.get("name"), e.get("actual"), e.get("limit")], "ok" if e.get("ok") else "bad")
        )
    return section(
        "expectations",
        "Expectations",
        table(["", "name", "actual", "limit"], rows, cls="grid compact"),
    )


def run_section(run: rd.RunData) -> Html:
    meta, timings = run.meta, run.meta.get("timings") or run.data.get("timings") or {}
    schedule = "; ".join(_pairs(f) for f in meta.get("faults") or []) or "none"
    rows = [
        ("scenario", meta.get("scenario")),
        ("scenario file", meta.get("scenario_path")),
        ("description", meta.get("description")),
        ("run id", meta.get("run_id")),
        ("platform", meta.get("platform")),
        ("seed", meta.get("seed")),
        ("system mode", meta.get("system_mode")),
        ("mutations", ", ".join(meta.get("mutations") or []) or "none"),
        ("system env", _pairs(meta.get("system_env"))),
        ("workers", meta.get("workers")),
        ("load", _pairs(meta.get("load"))),
        ("expect", _pairs(meta.get("expect"))),
        ("faults (schedule)", schedule),
        ("started", clock(meta.get("started"))),
        ("finished", clock(meta.get("finished"))),
        ("timings", ", ".join(f"{k} {seconds(v, 1)}" for k, v in timings.items())),
        ("replay", tag("code", meta.get("replay") or "-")),
        ("versions", _pairs(meta.get("versions"))),
    ]
    body = join(tag("tr", join([tag("th", k), tag("td", v)])) for k, v in rows)
    return section("run", "Run", Html(f'<table class="grid kv"><tbody>{body}</tbody></table>'))


def files_section(run_dir: Path) -> Html:
    names = [n for n in RUN_FILES if (run_dir / n).is_file()]
    logs = run_dir / "logs"
    if logs.is_dir():
        names += sorted(f"logs/{p.name}" for p in logs.iterdir() if p.is_file())
    if not names:
        text = "No other files in the run folder."
        return section("files", "Files", tag("p", text, cls="note"))
    items = [tag("li", join([link(n), f" ({_size((run_dir / n).stat().st_size)})"])) for n in names]
    return section("files", "Files", tag("ul", join(items), cls="files"))


def _pairs(value) -> str:
    if not isinstance(value, dict):
        return "-" if value in (None, "", []) else str(value)
    return ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, [], ())) or "-"


def _size(n: float) -> str:
    if n < 1024:
        return f"{n:.0f} B"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"
