"""One error root for every layer; the CLI maps each class to an exit code.

Library code raises these and never prints or exits. Each carries a ``hint``: what the user can do
about it. Subclasses carry the structured facts of their layer so that JSON output can show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """The exit-code contract, identical for every command (CI depends on it)."""

    OK = 0
    UNEXPECTED = 1
    INVALID_INPUT = 2
    POLICY_BLOCKED = 3
    OVER_BUDGET = 4
    INFEASIBLE = 5
    ENGINE_FAILURE = 6
    CHANGES_PENDING = 7
    #: the journal's hash chain is broken; none of the others fits: the input is not wrong (2) and nothing
    #: failed to run (6) -- what the project recorded was changed afterwards, which CI must tell apart
    JOURNAL_INVALID = 8


class CloudorchError(Exception):
    exit_code: ExitCode = ExitCode.UNEXPECTED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "message": self.message, "hint": self.hint}


class UsageError(CloudorchError):
    """Bad arguments, unreadable files, stale saved plans: the user's input is wrong."""

    exit_code = ExitCode.INVALID_INPUT


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem in an input file."""

    file: str
    line: int | None
    path: str
    message: str
    #: where on the line, for problems found in the text itself (a stray control character, a bad byte)
    column: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        where += f":{self.column}" if self.line and self.column else ""
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(UsageError):
    """Every problem found in a stack file, reported together."""

    def __init__(self, problems: list[Problem], *, hint: str | None = None) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.path, p.message))
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in {self.problems[0].file}" if n else "invalid stack"
        super().__init__(head, hint=hint or "fix the fields named above; `cloudorch schema` prints the full format")

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["problems"] = [
            {"file": p.file, "line": p.line, "column": p.column, "path": p.path, "message": p.message}
            for p in self.problems
        ]
        return data


class PolicyBlocked(CloudorchError):
    exit_code = ExitCode.POLICY_BLOCKED


class OverBudget(CloudorchError):
    exit_code = ExitCode.OVER_BUDGET

    def __init__(self, message: str, *, monthly_usd: float, budget_usd: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.monthly_usd = monthly_usd
        self.budget_usd = budget_usd

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"monthly_usd": self.monthly_usd, "budget_usd": self.budget_usd}


class InfeasiblePlacement(CloudorchError):
    """No placement satisfies the stack's constraints; names the conflicting ones and a priced relaxation."""

    exit_code = ExitCode.INFEASIBLE

    def __init__(
        self,
        message: str,
        *,
        conflicts: list[str],
        relaxation: str | None = None,
        relaxation_monthly_usd: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.conflicts = conflicts
        self.relaxation = relaxation
        self.relaxation_monthly_usd = relaxation_monthly_usd

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {
            "conflicts": self.conflicts,
            "relaxation": self.relaxation,
            "relaxation_monthly_usd": self.relaxation_monthly_usd,
        }


class PluginError(CloudorchError):
    """A provider or policy pack could not be found or loaded: the installation is the user's to fix."""

    exit_code = ExitCode.INVALID_INPUT


class PluginBug(CloudorchError):
    """A plugin crashed or broke its contract (an exception while rendering, a dangling reference, a missing
    output). Nothing in the user's input can fix it, so it exits 1 like any other bug, naming the plugin."""

    exit_code = ExitCode.UNEXPECTED

    def __init__(self, plugin: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint or f"this is a bug in the {plugin!r} plugin, not in your stack: "
                                              "rerun with --debug for the traceback and report it to its maintainers")
        self.plugin = plugin

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"plugin": self.plugin}


class EngineError(CloudorchError):
    """Pulumi (or its absence) failed the run."""

    exit_code = ExitCode.ENGINE_FAILURE

    def __init__(self, message: str, *, hint: str | None = None, retryable: bool = False, kind: str = "engine") -> None:
        super().__init__(message, hint=hint)
        self.retryable = retryable
        self.kind = kind

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"retryable": self.retryable, "kind": self.kind}
