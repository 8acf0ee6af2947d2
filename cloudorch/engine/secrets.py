"""Scrubbing known secret values from anything cloudorch prints, logs or writes.

Pulumi masks values it knows are secret in its own display, but cloudorch also shows provider error
messages, diagnostics and exceptions, which can echo an input verbatim. Every output path therefore passes
through ``redact`` with the run's known secrets (passphrase, values marked secret, secret outputs seen).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any, TextIO

MASK = "[secret]"
# Very short values would mask ordinary words and numbers; such "secrets" are not worth hiding anyway.
MIN_SECRET_LENGTH = 4


class Secrets:
    """A growing set of values to hide; one compiled pattern, longest first so overlaps mask fully."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*values)

    def add(self, *values: Any) -> None:
        new = {str(v) for v in values if v is not None and len(str(v)) >= MIN_SECRET_LENGTH} - self._values
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
