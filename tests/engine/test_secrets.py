"""Redaction of known secret values from text, data, streams and logs."""

from __future__ import annotations

import io
import logging

from cloudorch.engine.secrets import MASK, RedactingFilter, RedactingStream, Secrets, redact

from .conftest import PASSPHRASE, PASSWORD


def test_redact_masks_every_occurrence_longest_first():
    text = f"password={PASSWORD}; again {PASSWORD}; prefix {PASSWORD[:6]}"
    out = redact(text, [PASSWORD, PASSWORD[:6]])
    assert PASSWORD not in out and PASSWORD[:6] not in out
    assert out.count(MASK) == 3


def test_short_values_are_not_treated_as_secrets():
    assert redact("port 80 open", ["80"]) == "port 80 open"


def test_redact_data_reaches_nested_strings():
    data = {"a": [PASSWORD, {"b": f"x{PASSWORD}y"}], "n": 3}
    assert Secrets([PASSWORD]).redact_data(data) == {"a": [MASK, {"b": f"x{MASK}y"}], "n": 3}


def test_stream_catches_a_secret_split_across_writes():
    sink = io.StringIO()
    stream = RedactingStream(sink, Secrets([PASSWORD]))
    stream.write(f"creating db with {PASSWORD[:8]}")
    stream.write(f"{PASSWORD[8:]} done\nnext line ")
    stream.write(PASSPHRASE)
    stream.flush()
    assert PASSWORD not in sink.getvalue()
    assert sink.getvalue().startswith(f"creating db with {MASK} done\n")


def test_log_filter_scrubs_messages_args_and_tracebacks():
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.addFilter(RedactingFilter(Secrets([PASSWORD])))
    log = logging.getLogger("cloudorch.test.secrets")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("value is %s", PASSWORD)
        try:
            raise ValueError(f"bad password {PASSWORD}")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    assert PASSWORD not in sink.getvalue()
    assert f"value is {MASK}" in sink.getvalue() and "ValueError: bad password [secret]" in sink.getvalue()
