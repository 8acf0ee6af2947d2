"""JUnit XML: one test suite per stack, one test case per policy and target, for CI test-report views."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from cloudorch.policy.output.common import as_list, target_label
from cloudorch.policy.report import Report


def to_junit(reports: Report | Sequence[Report]) -> str:
    items = as_list(reports)
    root = ET.Element("testsuites", name="cloudorch policy check")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for report in items:
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite = ET.SubElement(root, "testsuite", name=report.stack)
        if report.file:
            suite.set("file", report.file)
        for f in report.findings:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=f.policy, name=target_label(f))
            if f.file:
                case.set("file", f.file)
            if f.line:
                case.set("line", str(f.line))
            detail = f"[{f.enforcement}/{f.severity}] {f.message}"
            if f.status == "fail":
                counts["failures"] += 1
                node = ET.SubElement(case, "failure", message=f.message, type=f"{f.enforcement}:{f.severity}")
                node.text = detail + (f"\nremediation: {f.remediation}" if f.remediation else "")
            elif f.status == "error":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=f.message, type="policy-error").text = detail
            elif f.status == "waived":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"waived: {f.waiver_reason} (owner: {f.waiver_owner})")
            elif f.status == "not-applicable":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"not applicable: {f.message}")
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
