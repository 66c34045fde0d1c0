"""JUnit XML: one test case per scenario and invariant, so CI systems show failures natively."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path


def write_junit(path: Path, results: list[dict]) -> None:
    suites = ET.Element("testsuites", name="chaos")
    for data in results:
        verdict = data.get("verdict")
        suite = ET.SubElement(suites, "testsuite", name=f"chaos.{data['scenario']}")
        cases = 0
        failures = errors = 0
        if data.get("error") or not verdict:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"chaos.{data['scenario']}",
                name="harness",
                time=_t(data),
            )
            ET.SubElement(case, "error", message=str(data.get("error") or "no verdict"))
            cases, errors = 1, 1
        else:
            by_kind: dict[str, list[dict]] = {}
            for v in verdict["violations"]:
                by_kind.setdefault(v["kind"], []).append(v)
            for expectation in verdict["expectations"]:
                cases += 1
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=f"chaos.{data['scenario']}",
                    name=expectation["name"],
                    time="0",
                )
                if expectation["ok"]:
                    continue
                failures += 1
                kind = expectation["name"].removeprefix("max_")
                offenders = by_kind.get(kind, [])
                job_ids = sorted({j for v in offenders for j in v["job_ids"]})
                message = (
                    f"{expectation['name']}: {expectation['actual']} (limit {expectation['limit']})"
                )
                if job_ids:
                    message += f"; jobs {', '.join(map(str, job_ids[:50]))}"
                failure = ET.SubElement(case, "failure", message=message)
                failure.text = "\n".join(v["message"] for v in offenders[:100])
            if verdict["result"] == "unknown":
                cases += 1
                case = ET.SubElement(
                    suite, "testcase", classname=f"chaos.{data['scenario']}", name="verdict"
                )
                ET.SubElement(case, "skipped", message="; ".join(verdict["notes"]))
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("time", _t(data))
    ET.indent(suites)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def _t(data: dict) -> str:
    return f"{data.get('timings', {}).get('total', 0):.1f}"
