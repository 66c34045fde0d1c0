"""What a run leaves behind: verdict.json, junit.xml, summary.txt and report.html."""

from __future__ import annotations

import json
import logging

from chaos.report.junit import write_junit
from chaos.report.summary import run_summary

log = logging.getLogger("chaos.report")


def write_reports(result, meta: dict, scenario) -> None:
    from chaos.runner import as_dict

    run_dir = result.run_dir
    data = as_dict(result)
    data["meta"] = meta
    (run_dir / "verdict.json").write_text(json.dumps(data, indent=2, default=str))
    write_junit(run_dir / "junit.xml", [data])
    (run_dir / "summary.txt").write_text(run_summary(data) + "\n")
    try:
        from chaos.report.html import render_run

        render_run(run_dir)
    except ImportError:
        pass
    except Exception as exc:  # noqa: BLE001 - a broken chart must not hide the verdict
        log.warning("Could not render the HTML report for %s: %s", run_dir, exc)
