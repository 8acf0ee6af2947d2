"""``http.probe``: whether anything answers at an endpoint, in one line, within its timeout."""

from __future__ import annotations

import socket
import time

from cloudorch.catalog.http import probe
from tests.catalog.stand_ins import Fault, StandIn
from tests.providers.aws.stand_ins import free_port


def test_any_http_status_is_an_answer_and_a_redirect_is_not_followed():
    stand_in = StandIn()
    try:
        assert probe(stand_in.url + "/nothing-here")[1].startswith("answers (HTTP 404 in ")
        stand_in.faults.append(Fault(status=302, body=b"", headers={"Location": f"http://127.0.0.1:{free_port()}/"}))
        ok, detail = probe(stand_in.url + "/moved")
        assert ok and detail.startswith("answers (HTTP 302") and stand_in.count("/moved") == 1
    finally:
        stand_in.close()


def test_a_closed_port_and_a_silent_server_do_not_answer():
    ok, detail = probe(f"http://127.0.0.1:{free_port()}/")
    assert not ok and detail.startswith("does not answer: ") and "Refused" in detail
    with socket.socket() as silent:  # accepts connections (the backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        started = time.monotonic()
        ok, detail = probe(f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout=0.5)
        assert not ok and detail == "does not answer within 0.5 s" and time.monotonic() - started < 3


def test_a_bare_host_is_probed_over_https_and_other_schemes_are_refused():
    assert probe("ftp://example.com/x") == (False, "not an http(s) address: ftp://example.com/x")
    ok, detail = probe(f"127.0.0.1:{free_port()}", timeout=0.5)  # https:// added; nothing listens
    assert not ok and detail.startswith("does not answer")
