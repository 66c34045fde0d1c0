"""Charts as inline SVG, drawn by matplotlib's Agg backend (no display, no network).

``timeline_svg`` draws three panels that share the time axis: throughput (submissions,
completions and errors per second), the system's backlog (queue depth, jobs in flight and
waiting), and latencies (each submission, and each job end to end). Every fault's window is
shaded in all three panels and labelled on top; each violation is a red marker on the top edge.
"""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

from chaos.report import data as rd  # noqa: E402
from chaos.report.patterns import moment  # noqa: E402

FAULT_COLOR = "#f59e0b"
VIOLATION_COLOR = "#b91c1c"
DOWN_COLOR = "#9ca3af"
SERIES_COLORS = {
    "submissions/s": "#2563eb",
    "completions/s": "#16a34a",
    "errors/s": "#dc2626",
    "queue depth": "#7c3aed",
    "in flight (PROCESSING)": "#0891b2",
    "waiting (PENDING+RETRY)": "#db2777",
}
OUTCOME_COLORS = {"ok": "#60a5fa", "fail": "#dc2626", "unknown": "#f97316"}
STYLE = {
    "svg.fonttype": "none",  # real <text>: smaller files, searchable and copyable labels
    "svg.hashsalt": "chaos-report",  # stable ids, so a re-render gives the same file
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
}


def timeline_svg(run: rd.RunData, chart_id: str = "timeline") -> str | None:
    """The run's timeline as an ``<svg>`` element, or None when there is nothing to draw."""
    rates, gauges = rd.rates(run), rd.gauges(run)
    submits, jobs = rd.submit_latencies(run), rd.job_latencies(run)
    if not (rates or gauges or submits) or run.t0 is None:
        return None
    t0 = run.t0
    with plt.rc_context(STYLE):
        fig, (top, middle, bottom) = plt.subplots(
            3, 1, figsize=(12, 8.4), sharex=True, gridspec_kw={"height_ratios": [3, 3, 2.6]}
        )
        _lines(top, rates, "per second", "no client operations recorded")
        _lines(middle, gauges, "jobs", "no samples of the system's state")
        for start, end in rd.unreachable(run):
            middle.axvspan(
                start,
                end,
                facecolor="none",
                edgecolor=DOWN_COLOR,
                hatch="///",
                linewidth=0,
                label="Postgres unreachable",
            )
        _latencies(bottom, submits, jobs, t0)
        _mark_violations(top, run, t0)
        for ax in (top, middle, bottom):
            _shade_faults(ax, run.windows(), t0, label=ax is top)
            handles, labels = ax.get_legend_handles_labels()
            unique = dict(zip(labels, handles))
            if unique:
                ax.legend(
                    unique.values(),
                    unique.keys(),
                    loc="upper left",
                    bbox_to_anchor=(1.0, 1.0),
                    fontsize=8,
                )
        end = (run.t_end or t0) - t0
        bottom.set_xlim(0, max(end, 1.0) * 1.01)
        bottom.set_xlabel("seconds since the first request")
        fig.tight_layout()
        return to_svg(fig, chart_id)


def _mark_violations(ax, run: rd.RunData, t0: float) -> None:
    """A red marker on the top edge at the moment each violation showed (its last event)."""
    times = [m - t0 for m in map(moment, run.verdict.get("violations") or []) if m is not None]
    if times:
        ax.plot(
            times,
            [0.98] * len(times),
            "v",
            transform=ax.get_xaxis_transform(),
            color=VIOLATION_COLOR,
            markersize=6,
            clip_on=False,
            label=f"violation ({len(times)})",
        )


def _lines(ax, series: dict[str, list[tuple[float, float]]], ylabel: str, empty: str) -> None:
    for name, points in series.items():
        xs, ys = zip(*points)
        ax.plot(
            xs,
            ys,
            label=name,
            color=SERIES_COLORS.get(name),
            linewidth=1.4,
            drawstyle="steps-mid" if name.endswith("/s") else "default",
        )
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    if not series:
        ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", color="#6b7280")


def _latencies(
    ax, submits: list[tuple[float, float, str]], jobs: list[tuple[float, float]], t0: float
) -> None:
    for outcome, color in OUTCOME_COLORS.items():
        points = [(t - t0, max(s, 1e-4)) for t, s, o in submits if o == outcome]
        if points:
            xs, ys = zip(*points)
            ax.scatter(
                xs,
                ys,
                s=7 if outcome == "ok" else 14,
                color=color,
                linewidths=0,
                label=f"submit {outcome}",
                zorder=3,
            )
    if jobs:
        xs, ys = zip(*((t - t0, max(s, 1e-4)) for t, s in jobs))
        ax.scatter(
            xs,
            ys,
            s=7,
            marker="^",
            color="#16a34a",
            linewidths=0,
            alpha=0.7,
            label="job end to end",
            zorder=2,
        )
    ax.set_ylabel("latency (s)")
    if submits or jobs:
        ax.set_yscale("log")
    else:
        ax.text(
            0.5, 0.5, "no latencies recorded", transform=ax.transAxes, ha="center", color="#6b7280"
        )


def _shade_faults(ax, windows, t0: float, label: bool) -> None:
    """Shade each fault window; instant faults get a line. Labels alternate in height."""
    for n, (start, end, fault) in enumerate(windows):
        left, right = start - t0, end - t0
        color = FAULT_COLOR if fault.get("ok", True) else "#dc2626"
        if right - left < 0.05:
            ax.axvline(left, color=color, linewidth=1.5, alpha=0.8)
        else:
            ax.axvspan(left, right, color=color, alpha=0.18, linewidth=0)
        if label:
            text = f"#{fault.get('index', n)} {fault.get('action')} {fault.get('target')}"
            if fault.get("service") and fault.get("service") != fault.get("target"):
                text += f" ({fault['service']})"
            ax.annotate(
                text,
                xy=(left, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, 4 + 11 * (n % 3)),
                textcoords="offset points",
                fontsize=8,
                color="#92400e",
                annotation_clip=False,
            )


def to_svg(fig, prefix: str) -> str:
    """Serialize a figure to a bare ``<svg>`` element with ids unique to ``prefix``."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{prefix}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"').replace(f"#{old})", f"#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)
    return svg.replace("<svg", f'<svg class="chart" role="img" aria-label="{prefix} chart"', 1)
