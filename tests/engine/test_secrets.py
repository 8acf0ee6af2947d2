"""Redaction of known secret values from text, data, streams and logs."""

from __future__ import annotations

import io
import logging
import traceback

from cloudorch.engine.secrets import MASK, RedactingFilter, RedactingStream, Secrets, redact, redact_url, url_credentials

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


def _log_through(handler: logging.Handler, name: str, *, warning: bool = True) -> None:
    """Log a warning with the password as an argument, then an exception whose message holds it."""
    handler.addFilter(RedactingFilter(Secrets([PASSWORD])))
    log = logging.getLogger(f"cloudorch.test.secrets.{name}")
    log.addHandler(handler)
    log.propagate = False
    try:
        if warning:
            log.warning("value is %s", PASSWORD)
        try:
            raise ValueError(f"bad password {PASSWORD}")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)


def test_log_filter_scrubs_messages_args_and_tracebacks():
    sink = io.StringIO()
    _log_through(logging.StreamHandler(sink), "stream")
    assert PASSWORD not in sink.getvalue()
    assert f"value is {MASK}" in sink.getvalue() and "ValueError: bad password [secret]" in sink.getvalue()


# --- the edges of what counts as a secret, and how overlapping ones are masked ------------------------------

def test_a_four_character_secret_is_masked_and_a_three_character_one_is_not():
    assert redact("pin 9f3k and 9f3", ["9f3k"]) == f"pin {MASK} and 9f3"
    assert redact("pin 9f3 stays", ["9f3"]) == "pin 9f3 stays"
    assert not Secrets(["abc"]) and Secrets(["abcd"])


def test_a_secret_containing_a_shorter_one_is_masked_whole():
    # Were the shorter value tried first, the rest of the longer one would be printed around its mask.
    longer, shorter = "hunter2-and-more", "hunter2"
    for order in ([shorter, longer], [longer, shorter]):
        assert redact(f"token {longer}!", order) == f"token {MASK}!"
        secrets = Secrets([order[0]])
        secrets.add(order[1])
        assert secrets.redact(f"[{longer}]") == f"[{MASK}]"


def test_none_is_never_a_secret():
    # str(None) is four characters long; masking every "None" would mangle ordinary output
    secrets = Secrets([None])
    secrets.add(None)
    assert not secrets and None not in secrets and "None" not in secrets
    assert secrets.redact("value: None") == "value: None"
    assert Secrets([None, PASSWORD]).redact(f"None {PASSWORD}") == f"None {MASK}"


def test_flush_redacts_the_held_back_partial_line():
    sink = io.StringIO()
    stream = RedactingStream(sink, Secrets([PASSPHRASE]))
    stream.write(f"unlocking with {PASSPHRASE}")  # no newline: held back until flush
    assert sink.getvalue() == ""
    stream.flush()
    assert sink.getvalue() == f"unlocking with {MASK}"
    stream.flush()  # nothing pending: writes nothing more
    assert sink.getvalue() == f"unlocking with {MASK}"


def test_membership_names_exactly_the_known_values():
    secrets = Secrets([PASSWORD])
    assert PASSWORD in secrets and PASSWORD[:6] not in secrets and "None" not in secrets


class _Tty(io.StringIO):
    flushed = 0

    def flush(self) -> None:
        self.flushed += 1
        super().flush()

    def isatty(self) -> bool:
        return True


def test_the_stream_behaves_as_the_stream_it_wraps():
    # print() and rich ask the wrapped stream for its tty-ness and encoding, and flush it
    sink = _Tty()
    stream = RedactingStream(sink, Secrets([PASSWORD]))
    assert stream.write(f"{PASSWORD}\n") == len(PASSWORD) + 1  # what was written, as TextIO.write reports it
    assert stream.isatty() is True and stream.getvalue() == f"{MASK}\n"
    stream.flush()
    assert sink.flushed == 1


def test_a_handler_that_renders_the_exception_itself_sees_no_secret():
    # some handlers (rich's among them) format record.exc_info on their own instead of using exc_text
    rendered = []

    class OwnTraceback(logging.Handler):
        def emit(self, record):
            rendered.append(record.getMessage() + "".join(
                traceback.format_exception(*record.exc_info) if record.exc_info else [record.exc_text or ""]))

    _log_through(OwnTraceback(), "own", warning=False)
    assert len(rendered) == 1 and PASSWORD not in rendered[0] and f"bad password {MASK}" in rendered[0]


def test_secrets_cloudorch_is_given_are_hidden_however_short():
    secrets = Secrets(["80"], exact=["zq9"])
    assert secrets.redact("incorrect passphrase zq9 on port 80") == f"incorrect passphrase {MASK} on port 80"


def test_credentials_in_urls():
    assert url_credentials("postgres://admin:s3cr%21t@db.internal:5432/state") == ["s3cr%21t", "s3cr!t"]
    assert url_credentials("https://ghp_token123@api.example.com") == ["ghp_token123"]
    assert url_credentials("azblob://state?storage_account=acme&sig=abc%2Fdef&sv=2022") == ["abc/def"]
    assert url_credentials("s3://team-state?region=eu-west-1") == []
    assert url_credentials("file:///home/me/state") == [] and url_credentials(None) == []
    assert redact_url("s3://AKIA1:wJalr@minio.local/state") == f"s3://AKIA1:{MASK}@minio.local/state"
