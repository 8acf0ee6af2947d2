"""One journal record: its canonical bytes, its hash, who wrote it, and what is scrubbed before writing.

A record's hash is sha256 over the canonical JSON (sorted keys, no spaces, UTF-8) of every field but the
hash itself, the previous record's hash included: changing any byte of any record changes its hash, and
so breaks the link from the record after it. The stored file is that canonical JSON with the hash added,
so a verifier needs nothing but the files.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudorch.engine.secrets import MASK, Secrets, url_credentials

#: the previous hash of the first record
GENESIS = "0" * 64
#: record names: the sequence number, zero-padded so that names sort as numbers do
NAME = re.compile(r"^(\d{12})\.json$")


def record_name(seq: int) -> str:
    return f"{seq:012d}.json"


def canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def digest(body: Mapping[str, Any]) -> str:
    """The hash of a record: over everything in it but the hash."""
    return hashlib.sha256(canonical({k: v for k, v in body.items() if k != "hash"})).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A record as written: ``seq`` and ``prev`` chain it, ``hash`` seals it."""

    seq: int
    time: str  # UTC, ISO 8601 with a Z
    actor: dict[str, Any]
    kind: str
    stack: str | None
    outcome: str
    fields: dict[str, Any] = field(default_factory=dict)
    prev: str = GENESIS
    hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time, "actor": dict(self.actor), "kind": self.kind, "stack": self.stack,
                "outcome": self.outcome, "fields": dict(self.fields), "prev": self.prev, "hash": self.hash}

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.time.replace("Z", "+00:00"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        """Raises KeyError, TypeError or ValueError for anything that is not a record."""
        entry = cls(seq=data["seq"], time=data["time"], actor=data["actor"], kind=data["kind"], stack=data["stack"],
                    outcome=data["outcome"], fields=data["fields"], prev=data["prev"], hash=data["hash"])
        if set(data) != set(entry.to_dict()) or not isinstance(entry.seq, int) or not isinstance(entry.fields, dict):
            raise ValueError("not a journal record")
        return entry


def seal(body: dict[str, Any]) -> tuple[Entry, bytes]:
    """The entry for ``body`` (no hash yet) and the bytes to store."""
    sealed = {**body, "hash": digest(body)}
    return Entry.from_dict(sealed), canonical(sealed) + b"\n"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- who ----------------------------------------------------------------------------------------------------

#: CI systems by the variable that says a run is theirs, and the variables that identify the run. Values
#: that merely locate the run (URLs, ids) are kept; tokens these systems also set are never read.
_CI: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("GITHUB_ACTIONS", "github-actions", {
        "repository": "GITHUB_REPOSITORY", "run_id": "GITHUB_RUN_ID", "attempt": "GITHUB_RUN_ATTEMPT",
        "workflow": "GITHUB_WORKFLOW", "job": "GITHUB_JOB", "triggered_by": "GITHUB_ACTOR", "commit": "GITHUB_SHA",
        "ref": "GITHUB_REF"}),
    ("GITLAB_CI", "gitlab-ci", {
        "repository": "CI_PROJECT_PATH", "run_id": "CI_PIPELINE_ID", "job": "CI_JOB_ID", "url": "CI_JOB_URL",
        "triggered_by": "GITLAB_USER_LOGIN", "commit": "CI_COMMIT_SHA", "ref": "CI_COMMIT_REF_NAME"}),
    ("TF_BUILD", "azure-pipelines", {
        "repository": "BUILD_REPOSITORY_NAME", "run_id": "BUILD_BUILDID", "workflow": "BUILD_DEFINITIONNAME",
        "triggered_by": "BUILD_REQUESTEDFOR", "commit": "BUILD_SOURCEVERSION", "ref": "BUILD_SOURCEBRANCH"}),
    ("CIRCLECI", "circleci", {
        "repository": "CIRCLE_PROJECT_REPONAME", "run_id": "CIRCLE_WORKFLOW_ID", "job": "CIRCLE_BUILD_NUM",
        "url": "CIRCLE_BUILD_URL", "triggered_by": "CIRCLE_USERNAME", "commit": "CIRCLE_SHA1", "ref": "CIRCLE_BRANCH"}),
    ("BUILDKITE", "buildkite", {
        "repository": "BUILDKITE_PIPELINE_SLUG", "run_id": "BUILDKITE_BUILD_ID", "job": "BUILDKITE_JOB_ID",
        "url": "BUILDKITE_BUILD_URL", "triggered_by": "BUILDKITE_BUILD_CREATOR", "commit": "BUILDKITE_COMMIT",
        "ref": "BUILDKITE_BRANCH"}),
    ("BITBUCKET_BUILD_NUMBER", "bitbucket-pipelines", {
        "repository": "BITBUCKET_REPO_FULL_NAME", "run_id": "BITBUCKET_PIPELINE_UUID",
        "job": "BITBUCKET_BUILD_NUMBER", "commit": "BITBUCKET_COMMIT", "ref": "BITBUCKET_BRANCH"}),
    ("JENKINS_URL", "jenkins", {
        "workflow": "JOB_NAME", "run_id": "BUILD_NUMBER", "url": "BUILD_URL", "commit": "GIT_COMMIT",
        "ref": "GIT_BRANCH"}),
)


def ci_identity(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The CI run this process belongs to, from the standard variables of the common CI systems; a run of
    another system that sets only the conventional ``CI`` is recorded as ``{"system": "ci"}``."""
    for marker, system, names in _CI:
        if environ.get(marker):
            found = {"system": system} | {key: environ[var] for key, var in names.items() if environ.get(var)}
            if system == "github-actions" and "run_id" in found:
                server = environ.get("GITHUB_SERVER_URL", "https://github.com")
                found["url"] = f"{server}/{found.get('repository', '')}/actions/runs/{found['run_id']}"
            return found
    if environ.get("CI", "").lower() in ("1", "true", "yes"):
        return {"system": "ci"}
    return None


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def actor(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {"user": os_user(), "host": socket.gethostname()}
    ci = ci_identity(environ)
    if ci is not None:
        found["ci"] = ci
    return found


# -- what never enters ---------------------------------------------------------------------------------------

#: environment variables whose values are credentials wherever they appear (names, not values, are matched)
_SECRET_NAME = re.compile(r"pass|secret|token|credential|private|api_?key|access_?key|session_?key|sas|signature",
                          re.IGNORECASE)
#: keys of recorded fields whose values are never written, whatever they look like
_SECRET_FIELD = re.compile(r"pass|secret|token|credential|private_?key|api_?key", re.IGNORECASE)


def known_secrets(environ: Mapping[str, str], urls: Iterable[str | None] = ()) -> Secrets:
    """What the journal scrubs without being told: credential-named environment variables (the passphrase,
    cloud keys, CI tokens) and the credentials written into backend or journal URLs."""
    # 8 characters, the passphrase's minimum: shorter values of such variables are flags ("true"), not keys
    found = Secrets(v for k, v in environ.items() if _SECRET_NAME.search(k) and len(v) >= 8)
    for url in urls:
        found.add_exact(*url_credentials(url))
    return found


def scrub(fields: Mapping[str, Any], secrets: Secrets) -> dict[str, Any]:
    """``fields`` as they may be written: secret-named fields masked, known secret values masked anywhere."""

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): MASK if _SECRET_FIELD.search(str(k)) else walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        if isinstance(value, float) and value != value:  # NaN has no JSON form
            return None
        return value

    return secrets.redact_data(walk(dict(fields)))
