"""Where pulumi-gcp would find credentials, looked at before apply/destroy ask to confirm."""

from __future__ import annotations

import http.server
import threading

import pytest

from cloudorch_gcp.credentials import ENVIRONMENT, missing


@pytest.fixture
def bare(tmp_path):
    """A machine with nothing: no variables, no gcloud files, a metadata address nobody answers on."""
    return {"CLOUDSDK_CONFIG": str(tmp_path), "GCE_METADATA_HOST": "127.0.0.1:9"}


def test_nothing_found_says_where_it_looked(bare):
    reason = missing(bare)
    assert all(name in reason for name in ENVIRONMENT) and "application-default" in reason


@pytest.mark.parametrize("name", [n for n in ENVIRONMENT if n != "GOOGLE_APPLICATION_CREDENTIALS"])
def test_a_key_or_token_in_the_environment(bare, name):
    assert missing(bare | {name: "x"}) is None


def test_a_key_file_must_exist(bare, tmp_path):
    assert "not a file" in missing(bare | {"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "absent.json")})
    (tmp_path / "key.json").write_text("{}")
    assert missing(bare | {"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "key.json")}) is None


def test_application_default_credentials(bare, tmp_path):
    (tmp_path / "application_default_credentials.json").write_text("{}")
    assert missing(bare) is None


@pytest.mark.parametrize(("flavor", "found"), [("Google", True), (None, False)])
def test_the_metadata_server_counts_only_when_it_is_googles(bare, flavor, found):
    class Metadata(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            self.send_response(200)
            if flavor:
                self.send_header("Metadata-Flavor", flavor)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reason = missing(bare | {"GCE_METADATA_HOST": f"127.0.0.1:{server.server_port}"})
    finally:
        server.shutdown()
    assert (reason is None) is found
