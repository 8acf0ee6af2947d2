"""The journal's failures: a store that cannot be reached, a chain that does not verify, a held lock."""

from __future__ import annotations

from typing import Any

from cloudorch.errors import CloudorchError, EngineError, ExitCode


class JournalError(CloudorchError):
    """The journal's store failed (unreachable, no permission, full): the run cannot be recorded, so it fails
    like the engine it records (6) rather than going on unrecorded."""

    exit_code = ExitCode.ENGINE_FAILURE


class JournalInvalid(CloudorchError):
    """`audit verify` found the chain broken: a record edited, deleted, inserted or reordered (exit 8)."""

    exit_code = ExitCode.JOURNAL_INVALID

    def __init__(self, verification: Any) -> None:
        problem = verification.problem
        super().__init__(
            f"the journal failed verification at record {problem.seq}: {problem.what} ({problem.detail})",
            hint="the journal was changed after it was written; restore it from a copy you trust, or compare it with "
                 "the head hash a CI run recorded (`cloudorch audit verify --format json` prints it)",
        )
        self.verification = verification

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"verification": self.verification.to_dict()}


class JournalLocked(EngineError):
    """Another workflow holds the journal's workflow lock."""

    def __init__(self, holder: str, since: str, who: str) -> None:
        super().__init__(
            f"the workflow lock is held by {holder!r} ({who}) since {since}",
            hint="wait for that workflow to finish; if it died, rerun it as the same holder (it takes its own lock "
                 "over) or break the lock with `cloudorch audit unlock --force`",
            retryable=True, kind="lock",
        )
        self.holder = holder
        self.since = since
        self.who = who

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"holder": self.holder, "since": self.since, "who": self.who}
