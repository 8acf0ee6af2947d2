"""Scrubbing known secret values from anything cloudorch prints, logs or writes.

Pulumi masks values it knows are secret in its own display, but cloudorch also shows provider error
messages, diagnostics and exceptions, which can echo an input verbatim. Every output path therefore passes
through ``redact`` with the run's known secrets (passphrase, credentials in the backend URL, values marked
secret, the stack's secret outputs).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any, TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "[secret]"
# Values merely *seen* as secret (outputs, inputs) that are very short would mask ordinary words and
# numbers ("true", "80"). Secrets cloudorch is *given* (the passphrase, a URL's password) are hidden
# whatever their length: ``Secrets.add_exact``.
MIN_SECRET_LENGTH = 4
#: query parameters of a backend or KMS URL whose values are credentials (an Azure SAS `sig`, a token)
_SECRET_PARAMETER = re.compile(r"pass|secret|token|sig|key|cred", re.IGNORECASE)


class Secrets:
    """A growing set of values to hide; one compiled pattern, longest first so overlaps mask fully."""

    def __init__(self, values: Iterable[Any] = (), *, exact: Iterable[str | None] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*values)
        self.add_exact(*exact)

    def add(self, *values: Any) -> None:
        """Values seen as secret; those shorter than ``MIN_SECRET_LENGTH`` are left visible."""
        self._extend(str(v) for v in values if v is not None and len(str(v)) >= MIN_SECRET_LENGTH)

    def add_exact(self, *values: str | None) -> None:
        """Secrets cloudorch was given: hidden however short."""
        self._extend(str(v) for v in values if v)

    def _extend(self, values: Iterable[str]) -> None:
        new = set(values) - self._values
        if new:
            self._values |= new
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __bool__(self) -> bool:
        return bool(self._values)

    def redact(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern else text

    def redact_data(self, value: Any) -> Any:
        """Redact every string inside JSON-shaped data (event payloads, outputs, error dicts)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self.redact_data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.redact_data(v) for v in value)
        return value


def url_credentials(url: str | None) -> list[str]:
    """The credentials written into a URL: the password of `scheme://user:password@host` (the whole user
    part when it has no password: a token), and the values of credential-like query parameters."""
    if not url or "://" not in url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = []
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at and userinfo:
        user, colon, password = userinfo.partition(":")
        found.append(password if colon else user)
    found += [value for name, value in parse_qsl(parts.query, keep_blank_values=False)
              if _SECRET_PARAMETER.search(name)]
    # as written and as the server reads it: either may be echoed
    return [v for v in dict.fromkeys([*found, *(unquote(v) for v in found)]) if v]


def redact_url(url: str) -> str:
    """``url`` as it may be shown: its credentials masked."""
    return Secrets(exact=url_credentials(url)).redact(url)


def redact(text: str, secrets: Iterable[str] | Secrets) -> str:
    found = secrets if isinstance(secrets, Secrets) else Secrets(secrets)
    return found.redact(text)


class RedactingStream:
    """A text stream wrapper that scrubs secrets from everything written through it.

    Writes are redacted line by line and a partial line is held back, so a secret split across two
    ``write`` calls is still caught (as long as it contains no newline).
    """

    def __init__(self, stream: TextIO, secrets: Secrets) -> None:
        self._stream = stream
        self._secrets = secrets
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *complete, self._pending = self._pending.split("\n")
        if complete:
            self._stream.write("\n".join(self._secrets.redact(line) for line in complete) + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._secrets.redact(self._pending))
            self._pending = ""
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class RedactingFilter(logging.Filter):
    """A logging filter (attach to handlers) that renders each record, then scrubs it."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            record.msg = self._secrets.redact(record.getMessage())
            record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self._secrets.redact(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True
