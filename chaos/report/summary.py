"""Plain-text summaries: one block per run, one table for a whole suite."""

from __future__ import annotations

COLUMNS = ("lost", "duplicated", "unexpected", "stuck", "failed", "wrong_output", "slow_recovery")


def run_summary(data: dict) -> str:
    meta = data.get("meta", {})
    lines = [
        f"{data['scenario']}: {data['result'].upper()} (exit {data['exit_code']})",
        f"  run folder: {data['run_dir']}",
        f"  platform={meta.get('platform')} mode={meta.get('system_mode')} "
        f"mutations={','.join(meta.get('mutations', [])) or 'none'} seed={meta.get('seed')}",
    ]
    if data.get("error"):
        lines.append(f"  harness error: {data['error']}")
    verdict = data.get("verdict")
    if verdict:
        c = verdict["counts"]
        lines.append(
            f"  submitted={c['submitted']} acknowledged={c['acknowledged']} "
            f"jobs={c['jobs']} done={c['done']} recovered={c['recovered']} "
            f"redeliveries={c['redeliveries']}"
        )
        lines.append("  " + " ".join(f"{k}={c[k]}" for k in COLUMNS))
        for e in verdict["expectations"]:
            if not e["ok"]:
                lines.append(f"  FAILED {e['name']}: {e['actual']} (limit {e['limit']})")
        for r in verdict["recoveries"]:
            lines.append(
                f"  fault {r['index']} {r['fault']}: took effect "
                f"{_s(r['took_effect'])}, healed after {_s(r['healed_after'])}, "
                f"jobs flowing {_s(r['flowing_after_heal'])} after heal"
            )
        for v in verdict["violations"][:10]:
            lines.append(f"  {v['kind']}: {v['message']} (key {v['key']})")
        if len(verdict["violations"]) > 10:
            lines.append(f"  ... and {len(verdict['violations']) - 10} more in verdict.json")
        for note in verdict["notes"]:
            lines.append(f"  note: {note}")
    if meta.get("replay"):
        lines.append(f"  replay: {meta['replay']}")
    return "\n".join(lines)


def suite_table(results: list[dict]) -> str:
    header = ["scenario", "result", "acked", "done", *COLUMNS, "recovery s", "seconds"]
    rows = []
    for data in results:
        c = (data.get("verdict") or {}).get("counts", {})
        recoveries = [
            r["flowing_after_heal"]
            for r in (data.get("verdict") or {}).get("recoveries", [])
            if r["flowing_after_heal"] is not None
        ]
        rows.append(
            [
                data["scenario"],
                data["result"],
                str(c.get("acknowledged", "-")),
                str(c.get("done", "-")),
                *(str(c.get(k, "-")) for k in COLUMNS),
                f"{max(recoveries):.2f}" if recoveries else "-",
                f"{data['timings'].get('total', 0):.0f}",
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*row) for row in rows]
    return "\n".join(out)


def _s(value) -> str:
    return "-" if value is None else f"{value:.2f}s"
