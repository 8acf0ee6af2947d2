"""A project of its own for each test (its root fixed by a cloudorch.toml), with helpers to write stacks."""

from __future__ import annotations

import shutil
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import ROOT

RELEASE = ROOT / "stacks" / "release"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    (tmp_path / "cloudorch.toml").write_text('project = "wftest"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def release(project) -> Path:
    """A copy of the example workflow inside the test's project."""
    return Path(shutil.copytree(RELEASE, project / "release"))


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def small_stack(name: str, uses: dict[str, str] | None = None, buckets: int = 1, tag_ref: str | None = None) -> str:
    """A quick stack: a network and ``buckets`` buckets on one AWS region (a few rendered resources each)."""
    lines = [f"stack: {name}", "placement: {clouds: [aws], regions: [eu-west-1]}"]
    if uses:
        lines.append("uses: {" + ", ".join(f"{a}: {f}" for a, f in uses.items()) + "}")
    lines.append("resources:")
    lines.append(f"  net: {{kind: network, cidr: 10.{(abs(hash(name)) % 200) + 20}.0.0/16}}")
    for i in range(buckets):
        tags = f', tags: {{upstream: "{tag_ref}"}}' if tag_ref and i == 0 else ""
        lines.append(f"  store-{i}: {{kind: bucket{tags}}}")
    return "\n".join(lines) + "\n"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/slow":
            time.sleep(0.3)
        status = 503 if self.path == "/down" else 200
        body = b"ok: canary v2" if status == 200 else b"starting"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    """A local HTTP server: /healthz is healthy, /down answers 503, /slow takes 0.3 s."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
