"""The offending jobs: one block per violation with its own timeline, for a fast diagnosis.

Each violation's timeline merges what the clients did (every submit attempt and its answer),
what the system recorded (the job's audit events) and the faults that hit it, sorted by time.
Times are shown on the run's axis (seconds since the first request, as in the chart) and as a
delta from the violation's first entry.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from chaos.report import data as rd
from chaos.report.patterns import pattern
from chaos.report.template import Html, esc, join, link, section, table, tag

MAX_VIOLATIONS = 50
MAX_LINKS = 40  # per kind in the overview: the rest are counted, not listed
OPEN_FIRST = 5  # the first few blocks start expanded
MEANING = {
    "lost": "acknowledged (202), but the job never reached DONE",
    "duplicated": "one submission made two jobs, or one job's result was committed twice",
    "unexpected": "a job that no client submitted",
    "stuck": "still PENDING, PROCESSING or RETRY at the drain deadline",
    "failed": "ended FAILED (dead letter)",
    "wrong_output": "the stored result differs from the fixture's expected result",
    "slow_recovery": "a job held by a killed worker was not DONE in time",
}
JOB_HEADERS = [
    "job",
    "status",
    "attempts",
    "completions",
    "created t (s)",
    "started t (s)",
    "finished t (s)",
    "last error",
    "image url",
]


class Entry(NamedTuple):
    at: float | None
    source: str
    what: str
    detail: str
    cls: str


def violations_section(run: rd.RunData) -> Html:
    """What went wrong, per kind, with a link to each offending job's timeline."""
    violations = run.verdict.get("violations") or []
    if not violations:
        text = "No violations." if run.verdict else "No verdict: the checker did not run."
        return section("violations", "Violations", tag("p", text, cls="note"))
    numbered = list(enumerate(violations, 1))
    shown = pick(numbered, MAX_VIOLATIONS)
    parts = [_overview(numbered, {n for n, _ in shown}, run.t0, run.windows())]
    if len(shown) < len(violations):
        note = [
            f"Job timelines for {len(shown)} of {len(violations)} violations (a share of "
            "each kind); every one is in ",
            link("verdict.json"),
            ".",
        ]
        parts.append(tag("p", join(note), cls="note"))
    return section("violations", f"Violations ({len(violations)})", join(parts))


def job_timelines_section(run: rd.RunData) -> Html:
    """One block per violation (at most ``MAX_VIOLATIONS``): the job's own timeline."""
    violations = run.verdict.get("violations") or []
    if not violations:
        return section("jobs", "Offending jobs", tag("p", "None.", cls="note"))
    shown = pick(list(enumerate(violations, 1)), MAX_VIOLATIONS)
    buttons = [
        tag("button", "Expand all", type="button", data_details="open"),
        tag("button", "Collapse all", type="button", data_details="close"),
    ]
    parts = [tag("div", join(buttons), cls="toolbar")]
    windows, end = run.windows(), run.t_end
    parts += [_block(n, v, run.t0, windows, end, n <= OPEN_FIRST) for n, v in shown]
    note = (
        "Client operations, the job's audit events and the faults that hit it, by time: "
        "t on the chart's axis, Δ from the first entry."
    )
    return section("jobs", "Offending jobs", join(parts), note)


def pick(numbered: list[tuple[int, dict]], limit: int) -> list[tuple[int, dict]]:
    """At most ``limit`` violations, with a fair share of every kind, in their original order."""
    kinds: dict[str, list] = {}
    for item in numbered:
        kinds.setdefault(item[1].get("kind"), []).append(item)
    share = max(1, limit // max(1, len(kinds)))
    chosen = [item for items in kinds.values() for item in items[:share]]
    rest = [item for items in kinds.values() for item in items[share:]]
    chosen += rest[: max(0, limit - len(chosen))]
    return sorted(chosen, key=lambda item: item[0])[:limit]


def _overview(
    numbered: list[tuple[int, dict]], detailed: set[int], t0: float | None, windows: list
) -> Html:
    """One row per kind: how many, what it means, the pattern, a link per offending job."""
    kinds: dict[str, list] = {}
    for n, v in numbered:
        kinds.setdefault(v.get("kind"), []).append((n, v))
    rows = []
    for kind, items in kinds.items():
        links = [
            tag("a", _label(v), href=f"#v-{n}") if n in detailed else esc(_label(v))
            for n, v in items
        ]
        shown = links[:MAX_LINKS]
        if len(links) > MAX_LINKS:
            shown.append(esc(f"and {len(links) - MAX_LINKS} more (verdict.json)"))
        common = pattern([v for _, v in items], t0, windows)
        cells = [tag("b", kind), len(items), MEANING.get(kind, ""), common, Html(", ".join(shown))]
        rows.append((cells, "bad"))
    headers = ["kind", "count", "meaning", "pattern", "offending jobs (click for the timeline)"]
    return table(headers, rows)


def _label(violation: dict) -> str:
    ids = violation.get("job_ids") or []
    return f"job {_ids(ids)}" if ids else f"key {violation.get('key') or '?'}"


def _block(n: int, violation: dict, t0: float | None, windows, end, opened: bool) -> Html:
    evidence = violation.get("evidence") or {}
    key = violation.get("key")
    heading = [
        tag("span", violation.get("kind"), cls="kind"),
        tag("h3", violation.get("message")),
        f"  · jobs {_ids(violation.get('job_ids'))} · key {key or '-'}",
    ]
    entries = entries_for(evidence, windows, end, key)
    body = [
        _timeline(entries, t0)
        if entries
        else tag("p", "No operations or events recorded for this violation.", cls="note")
    ]
    jobs = evidence.get("jobs") or []
    if jobs:
        rows = [
            [
                j.get("id"),
                j.get("status"),
                j.get("attempts"),
                j.get("completions"),
                _at(j.get("created_at"), t0),
                _at(j.get("started_at"), t0),
                _at(j.get("finished_at"), t0),
                j.get("last_error") or "-",
                j.get("image_url"),
            ]
            for j in jobs
        ]
        body.append(table(JOB_HEADERS, rows, cls="grid jobs"))
    content = join([tag("summary", join(heading)), *body])
    return tag("details", content, cls="violation", id=f"v-{n}", open=opened)


def entries_for(
    evidence: dict[str, Any], windows, run_end: float | None = None, key: str | None = None
) -> list[Entry]:
    """The violation's timeline, sorted by time (entries with no time last).

    Faults are included from the first entry to the last one, or to the end of the run when a
    job never finished: the kill that lost a job comes after its last event.
    """
    entries = []
    for op in evidence.get("operations") or []:
        name = _op_name(op.get("op"), key)
        entries.append(Entry(op.get("invoked"), "client", name, "invoked", "client"))
        if op.get("completed") is None:
            entries.append(Entry(None, "client", name, "no answer: outcome unknown", "client"))
            continue
        answer = [
            op.get("outcome"),
            op.get("status") and f"HTTP {op.get('status')}",
            op.get("job_id") is not None and f"job {op.get('job_id')}",
            op.get("error"),
        ]
        entries.append(Entry(op.get("completed"), "client", name, _dots(answer), "client"))
    for job_id, events in (evidence.get("events") or {}).items():
        for e in events or []:
            detail = [
                e.get("attempt") and f"attempt {e.get('attempt')}",
                e.get("worker") and f"by {e.get('worker')}",
                e.get("detail"),
            ]
            entries.append(Entry(e.get("at"), f"job {job_id}", e.get("kind"), _dots(detail), "job"))
    times = [e.at for e in entries if rd.is_number(e.at)]
    if times:
        unfinished = any(j.get("status") != "DONE" for j in evidence.get("jobs") or [])
        first = min(times)
        last = max(max(times), run_end or 0) if unfinished else max(times)
        for start, stop, fault in windows:
            if start <= last and stop >= first:
                name = f"fault #{fault.get('index')} {fault.get('action')} {fault.get('target')}"
                service = fault.get("service") or fault.get("target")
                entries.append(Entry(start, "nemesis", name, f"took effect on {service}", "fault"))
                entries.append(Entry(stop, "nemesis", name, "healed", "fault"))
    return sorted(entries, key=lambda e: e.at if rd.is_number(e.at) else float("inf"))


def _timeline(entries: list[Entry], t0: float | None) -> Html:
    times = [e.at for e in entries if rd.is_number(e.at)]
    first = min(times) if times else None
    rows = []
    for e in entries:
        known = rd.is_number(e.at)
        at = f"{e.at - t0:.3f}" if known and t0 is not None else "-"
        delta = f"+{e.at - first:.3f}" if known and first is not None else "-"
        rows.append(([at, delta, e.source, e.what, e.detail], e.cls))
    return table(["t (s)", "Δ (s)", "source", "what", "detail"], rows, cls="grid events")


def _op_name(op: str | None, key: str | None) -> str:
    """``<key>#2`` reads as ``submit attempt #2``; the key is in the block's heading."""
    op = op or "?"
    if key and op.startswith(key):
        return f"submit attempt {op[len(key) :]}"
    return f"submit {op}"


def _dots(parts) -> str:
    return " · ".join(str(p) for p in parts if p)


def _ids(ids) -> str:
    return ", ".join(str(i) for i in ids or []) or "-"


def _at(value, t0: float | None) -> Html:
    epoch = rd.to_epoch(value)
    if epoch is None:
        return esc("-")
    return esc(f"{epoch - t0:.3f}" if t0 is not None else str(value))
