"""SARIF 2.1.0, shaped for GitHub code scanning.

Each policy is a rule (help text, default level, tags, a numeric ``security-severity``), each failing or
waived finding a result located at the stack file's line, so code scanning annotates the pull-request
diff. Waived findings carry an accepted external suppression with the waiver's reason.

What kept the analysis from being done is not a result, because it says nothing about the stack (SARIF
2.1.0 §3.20.21: tool execution notifications are "runtime conditions detected by the tool during the
analysis"): a stack that could not be checked (invalid input, an infeasible placement: one notification per
problem, at its file and line) and a crashed policy are error notifications, and the invocation then says
``executionSuccessful: false`` with the exit code, so a scan of a broken stack never reads as a clean one.
A budget refusal is a notification too, but the analysis did complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cloudorch.errors import CloudorchError
from cloudorch.policy.output.common import all_policies, as_list, relative_uri, target_label
from cloudorch.policy.report import Finding, PolicyInfo, Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# GitHub ranks alerts by this number: >= 9.0 critical, >= 7.0 high, >= 4.0 medium, otherwise low
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
LEVEL = {"mandatory": "error", "advisory": "warning", "disabled": "none"}


def _rule(info: PolicyInfo) -> dict[str, Any]:
    frameworks = [f"{name}:{cid}" for name, ids in sorted(info.frameworks.items()) for cid in ids]
    help_text = info.remediation or info.title
    rule: dict[str, Any] = {
        "id": info.id,
        "name": "".join(part.capitalize() for part in info.id.replace(".", "-").split("-")),
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.description or info.title},
        "help": {"text": help_text, "markdown": f"**{info.title}**\n\n{help_text}"},
        "defaultConfiguration": {"level": LEVEL[info.enforcement]},
        "properties": {
            "tags": sorted({"security", *info.packs, *info.tags, *info.levels}),
            "security-severity": SECURITY_SEVERITY[info.severity],
            "precision": "high",
            "problem.severity": "error" if info.severity in ("high", "critical") else "warning",
            "cloudorch/enforcement": info.enforcement,
            "cloudorch/frameworks": frameworks,
        },
    }
    if info.url:
        rule["helpUri"] = info.url
    return rule


def _location(f: Finding, root: str | Path | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": relative_uri(f.file, root) or "stack"}}
    if f.line:
        physical["region"] = {"startLine": f.line}
    logical = {"name": f.rendered or f.resource or f.stack or "stack", "kind": "resource",
               "fullyQualifiedName": "/".join(p for p in (f.stack, f.resource, f.rendered) if p)}
    return {"physicalLocation": physical, "logicalLocations": [logical]}


def _result(f: Finding, index: dict[str, int], root: str | Path | None) -> dict[str, Any]:
    where = target_label(f) + (f" ({f.cloud})" if f.cloud else "")
    result: dict[str, Any] = {
        "ruleId": f.policy,
        "ruleIndex": index[f.policy],
        "kind": "fail",
        "level": LEVEL[f.enforcement],
        "message": {"text": f"{where}: {f.message}"},
        "locations": [_location(f, root)],
        "partialFingerprints": {"cloudorch/v1": f.fingerprint},
        "properties": {"severity": f.severity, "enforcement": f.enforcement, "level": f.level,
                       "resource": f.resource, "rendered": f.rendered, "cloud": f.cloud, "stack": f.stack},
    }
    if f.status == "waived":
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f"{f.waiver_reason} (owner: {f.waiver_owner})"}]
    return result


def _failure_notifications(stack: str, exc: CloudorchError, root: str | Path | None) -> list[dict[str, Any]]:
    """One error notification per located problem of a stack that could not be checked, else one for the error."""
    base = {"level": "error", "properties": {"error": type(exc).__name__, "exitCode": int(exc.exit_code),
                                             "hint": exc.hint, "stack": stack}}
    problems = getattr(exc, "problems", None) or [None]
    out = []
    for problem in problems:
        file, line = (problem.file, problem.line) if problem is not None else (stack, None)
        physical: dict[str, Any] = {"artifactLocation": {"uri": relative_uri(file, root) or file}}
        if line:
            physical["region"] = {"startLine": line}
        text = f"{problem.path}: {problem.message}" if problem is not None and problem.path else \
            problem.message if problem is not None else exc.message
        out.append(base | {"message": {"text": text}, "locations": [{"physicalLocation": physical}]})
    return out


def to_sarif(reports: Report | Sequence[Report], *, root: str | Path | None = None, version: str = "0.1.0",
             failures: Sequence[tuple[str, CloudorchError]] = (),
             refusals: Sequence[tuple[str, CloudorchError]] = (), exit_code: int = 0) -> dict[str, Any]:
    """One SARIF run over all ``reports``; ``root`` is the directory result paths are relative to.

    ``failures`` are the stacks that could not be checked, with their errors; ``refusals`` the stacks checked
    but refused (over budget); ``exit_code`` the run's.
    """
    items = as_list(reports)
    infos = all_policies(items)
    index = {info.id: i for i, info in enumerate(infos)}
    findings = sorted((f for r in items for f in r.findings), key=Finding.sort_key)
    results = [_result(f, index, root) for f in findings if f.status in ("fail", "waived")]
    crashed = [f for f in findings if f.status == "error"]
    notifications = [
        {"level": "error", "message": {"text": f"{f.policy} on {target_label(f)}: {f.message}"},
         "associatedRule": {"id": f.policy, "index": index[f.policy]},
         "locations": [_location(f, root)]}
        for f in crashed
    ]
    for stack, exc in [*failures, *refusals]:
        notifications += _failure_notifications(stack, exc, root)
    invocation: dict[str, Any] = {"executionSuccessful": not failures and not crashed, "exitCode": exit_code,
                                  "toolExecutionNotifications": notifications}
    if failures:
        invocation["exitCodeDescription"] = (f"{len(failures)} of {len(failures) + len(items)} stack(s) could not be "
                                             "checked")
    elif crashed:
        invocation["exitCodeDescription"] = f"{len(crashed)} policy check(s) could not run"
    artifacts = sorted({relative_uri(r.file, root) for r in items if r.file} - {None})  # type: ignore[arg-type]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "cloudorch", "semanticVersion": version, "version": version,
                                "informationUri": "https://github.com/cloudorch/cloudorch",
                                "rules": [_rule(info) for info in infos]}},
            "invocations": [invocation],
            "artifacts": [{"location": {"uri": uri}} for uri in artifacts],
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
