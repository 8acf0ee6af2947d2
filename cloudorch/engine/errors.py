"""Pulumi's failures, classified into cloudorch errors with a hint and the facts a user acts on.

Classification works on text because that is all Pulumi gives back: the provider's message travels
through the engine as a diagnostic and ends in the CLI's stderr. The rules here are the cloud-neutral
ones (the stack lock, the secrets passphrase, name conflicts, throttling); what each cloud's capacity,
quota and credential failures look like comes from its provider plugin (``CloudProvider.error_classifier``),
so a fourth cloud's failures are classified as well as the built-in three.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cloudorch.errors import EngineError
from cloudorch.plugins import load_provider, provider_names
from cloudorch.provider import ErrorClassifier, ErrorRule

INSTALL_HINT = (
    "install the Pulumi CLI, then run the command again:\n"
    "  Linux/macOS:  curl -fsSL https://get.pulumi.com | sh\n"
    "  macOS:        brew install pulumi/tap/pulumi\n"
    "  Windows:      winget install pulumi\n"
    "see https://www.pulumi.com/docs/install/ — `cloudorch plan`, `validate` and `check` work without it"
)


class EngineRunError(EngineError):
    """A classified Pulumi failure, with the cloud, region and machine type involved when known."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "engine",
        hint: str | None = None,
        retryable: bool = False,
        cloud: str | None = None,
        region: str | None = None,
        machine_type: str | None = None,
        output: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hint=hint, retryable=retryable, kind=kind)
        self.cloud = cloud
        self.region = region
        self.machine_type = machine_type
        #: the last lines of Pulumi's output (already redacted), for a failure no rule explains
        self.output = list(output)

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"cloud": self.cloud, "region": self.region, "machine_type": self.machine_type,
                                    "output": self.output}


def missing_cli_error() -> EngineError:
    return EngineError("the Pulumi CLI is not installed (no `pulumi` on PATH)", hint=INSTALL_HINT, kind="missing-cli")


CAPACITY_HINT = (
    "the cloud has no spare capacity for this machine type here right now; retry later, or let cloudorch "
    "place it elsewhere (allow another zone/region or machine type in the stack file) and run `cloudorch plan` again"
)
QUOTA_HINT = (
    "your account's quota is too low for this machine type in this region; request an increase in the "
    "cloud's quota console or place it elsewhere"
)
#: the hint of a provider rule that brings none of its own
_KIND_HINTS = {"capacity": CAPACITY_HINT, "quota": QUOTA_HINT}
#: provider rules are tried narrowest kind first: a capacity code may sit inside a broader quota phrase
_KIND_ORDER = ("capacity", "quota", "auth")

# The cloud-neutral rules: Pulumi's own failures and phrases every cloud shares. The lock comes before any
# provider rule, the others after them (a provider's code is more telling than a generic 409 or 429).
_LOCK = ErrorRule("lock", r"the stack is currently locked|\[409\] Conflict: Another update is currently in progress",
                  True, "another run holds the stack; wait for it, or if it died run `cloudorch unlock STACK`")
_NEUTRAL = (
    ErrorRule("auth", r"incorrect passphrase|passphrase must be set|failed to decrypt",
              False, "the stack's secrets were encrypted with another passphrase: set CLOUDORCH_PASSPHRASE to the "
              "stack's passphrase (or use the secrets provider the stack was created with)"),
    ErrorRule("conflict", r"AlreadyExists|already exists|Error 409|\bConflict\b",
              False, "a resource with this name already exists outside this stack; import it, rename it, or delete it"),
    ErrorRule("engine", r"RequestLimitExceeded|Throttling|rateLimitExceeded|TooManyRequests|\b429\b",
              True, "the cloud API throttled the run; retry in a minute"),
)

# The DIY backend names each lock: "<url>: created by user@host (pid 123) at 2026-11-02T10:00:00Z".
_LOCK_HOLDER = re.compile(r"created by (?P<who>\S+) \(pid (?P<pid>\d+)\) at (?P<since>\S+)")


def installed_classifiers() -> dict[str, ErrorClassifier]:
    """Every installed provider's classifier, by cloud name."""
    out: dict[str, ErrorClassifier] = {}
    for name in provider_names():
        try:
            classifier = load_provider(name).error_classifier()
        except Exception:  # a broken plugin must not hide the failure being reported; its rules are lost
            continue
        if classifier is not None:
            out[name] = classifier
    return out


def _rules(classifiers: Mapping[str, ErrorClassifier], text: str) -> list[tuple[str | None, ErrorRule]]:
    """(cloud, rule) in the order they are tried on ``text``; first match wins.

    Within a kind, the rules of a cloud the text names (its marker) come first: one cloud's code can be
    another's prose ("quotaExceeded ... QUOTA_EXCEEDED" reads as an Azure quota phrase too).
    """
    named = {cloud for cloud, c in classifiers.items() if c.marker_regex.search(text)}

    def rank(item: tuple[int, str, ErrorRule]) -> tuple[int, bool, str, int]:
        index, cloud, rule = item
        kind = _KIND_ORDER.index(rule.kind) if rule.kind in _KIND_ORDER else len(_KIND_ORDER)
        return kind, cloud not in named, cloud, index

    provided = sorted(((i, cloud, rule) for cloud, c in classifiers.items() for i, rule in enumerate(c.rules)),
                      key=rank)
    return [(None, _LOCK), *((cloud, rule) for _, cloud, rule in provided), *((None, rule) for rule in _NEUTRAL)]


def _first(patterns: Iterable[re.Pattern[str]], text: str) -> str | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return next((g for g in match.groups() if g), None)
    return None


_LABEL = re.compile(r"^(?:stdout|stderr):\s*")
_EXIT_CODE = re.compile(r"code: -?\d+")
#: how many of Pulumi's last lines an unexplained failure carries
TAIL_LINES = 12


def _tail(text: str, headline: str) -> list[str]:
    kept = []
    for line in text.splitlines():
        bare = _LABEL.sub("", line.strip(" \t*"))
        if bare and bare != headline and not _EXIT_CODE.fullmatch(bare):
            kept.append(line.rstrip())
    return kept[-TAIL_LINES:]


def _headline(text: str, rules: list[tuple[str | None, ErrorRule]]) -> str:
    """The most telling line: the provider's own error, not Pulumi's wrapper text."""
    # the Automation API's CommandError reads "code: 255 / stdout: ... / stderr: error: ...": its labels and
    # exit code are not the error
    lines = [_LABEL.sub("", line.strip(" \t*")) for line in text.splitlines() if line.strip(" \t*")]
    lines = [line for line in lines if line and not _EXIT_CODE.fullmatch(line)]
    for line in lines:
        if any(rule.regex.search(line) for _, rule in rules):
            return line
    for line in lines:
        if line.lower().startswith(("error:", "* ")) and "update failed" not in line.lower():
            return line
    return lines[0] if lines else "the Pulumi run failed"


def classify(error: BaseException | str, *, operation: str = "run",
             classifiers: Mapping[str, ErrorClassifier] | None = None) -> EngineRunError:
    """An engine failure (exception or its text) as a cloudorch error; never raises.

    ``classifiers`` (cloud -> the provider's classifier) default to the installed providers'.
    """
    if isinstance(error, FileNotFoundError) and "pulumi" in str(error):
        err = missing_cli_error()
        return EngineRunError(err.message, kind="missing-cli", hint=err.hint)
    classifiers = dict(sorted((installed_classifiers() if classifiers is None else classifiers).items()))
    text = str(error)
    rules = _rules(classifiers, text)
    cloud, rule = next(((c, r) for c, r in rules if r.regex.search(text)), (None, None))
    headline = _headline(text, rules)
    if rule is None:
        # Nothing else shows Pulumi's output (progress shows events, not the CLI's text), so the error
        # carries its end, where an unknown failure's reason usually is.
        tail = _tail(text, headline)
        shown = "".join(f"\n  {line}" for line in tail)
        return EngineRunError(
            f"Pulumi {operation} failed: {headline}" + (f"\nthe end of Pulumi's output:{shown}" if tail else ""),
            hint="`--format json` streams every engine event and diagnostic as the run goes; rerun with it "
            "to see where it failed",
            output=tail,
        )
    cloud = cloud or _cloud_of(text, classifiers)
    # The classified cloud's syntax first, so another cloud's looser pattern cannot claim a word.
    ordered = sorted(classifiers.items(), key=lambda item: item[0] != cloud)
    region = _first((p for _, c in ordered for p in c.region_regexes), text)
    machine = _first((p for _, c in ordered for p in c.machine_type_regexes), text) \
        if rule.kind in ("capacity", "quota") else None
    where = ", ".join(x for x in (cloud, region, machine) if x)
    message = f"Pulumi {operation} failed ({rule.kind}{': ' + where if where else ''}): {headline}"
    holder = _LOCK_HOLDER.search(text) if rule is _LOCK else None
    if holder:
        message += f" (held by {holder['who']}, pid {holder['pid']}, since {holder['since']})"
    return EngineRunError(message, kind=rule.kind, hint=rule.hint or _KIND_HINTS.get(rule.kind),
                          retryable=rule.retryable, cloud=cloud, region=region, machine_type=machine)


def _cloud_of(text: str, classifiers: Mapping[str, ErrorClassifier]) -> str | None:
    return next((cloud for cloud, c in classifiers.items() if c.marker_regex.search(text)), None)
