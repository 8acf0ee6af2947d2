"""A local HTTP server standing in for the cloud APIs discovery reads (Azure Resource Manager and Retail Prices,
Compute Engine and Cloud Billing), so the SDKs and the plain-HTTPS reader run for real: paging, retries,
timeouts. Tests give it pages in each API's own shape (built from the recorded samples in
../shared/data/pricing-samples at test time, or written in the shape of the SDK repositories' recordings)
and faults to serve first."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: how each API links its pages: (the query parameter naming a page, the answer's field for the next one)
STYLES = {"arm": ("page", "nextLink"), "retail": ("$skip", "NextPageLink"), "google": ("pageToken", "nextPageToken")}


@dataclass
class Fault:
    """One answer served instead of the next real one: a status, a delay, a body cut short."""

    status: int = 500
    body: bytes = b'{"error": {"code": "InternalError", "message": "try again"}}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    #: announce the whole body, send half of it, close: a page cut short in transit
    truncate: bool = False
    #: only for requests whose path contains this
    path: str = ""


@dataclass
class Route:
    pages: list[dict]
    style: str
    #: served only when the decoded query contains this (a region in an OData filter, say)
    match: str = ""


class StandIn:
    def __init__(self) -> None:
        self.routes: dict[str, list[Route]] = {}
        self.faults: list[Fault] = []
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        #: what POST /token hands out
        self.token = "stand-in-token"
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve(self, path: str, pages: list[dict], style: str, match: str = "") -> None:
        """Answer GET ``path`` with ``pages`` in turn, linked the way ``style`` (a key of STYLES) links them."""
        self.routes.setdefault(path, []).insert(0, Route(pages, style, match))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, fragment: str) -> int:
        return sum(fragment in r for r in self.requests)

    def _answer(self, path: str, query: str) -> tuple[int, dict]:
        decoded = urllib.parse.unquote_plus(query)
        for route in self.routes.get(path, []):
            if route.match in decoded:
                param, link = STYLES[route.style]
                index = int((urllib.parse.parse_qs(query).get(param) or ["0"])[0])
                page = dict(route.pages[index])
                if index + 1 < len(route.pages):
                    page[link] = self._link(route.style, path, query, param, index + 1)
                return 200, page
        return 404, {"error": {"code": "NotFound", "message": f"no stand-in answer for {path}"}}

    def _link(self, style: str, path: str, query: str, param: str, index: int) -> str:
        if style == "google":
            return str(index)
        kept = [(k, v) for k, v in urllib.parse.parse_qsl(query) if k != param] + [(param, str(index))]
        # the Retail Prices API links to its public host; the reader must keep to the endpoint it was given
        origin = "https://prices.azure.com:443" if style == "retail" else self.url
        return f"{origin}{path}?{urllib.parse.urlencode(kept)}"

    def _handler(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                stand_in.requests.append(self.path)
                stand_in.headers.append({k.lower(): v for k, v in self.headers.items()})
                fault = next((f for f in stand_in.faults if f.path in path), None)
                if fault is not None:
                    stand_in.faults.remove(fault)
                    time.sleep(fault.delay)
                    self._send(fault.status, fault.body, fault.headers, fault.truncate)
                    return
                status, answer = stand_in._answer(path, query)
                self._send(status, json.dumps(answer).encode(), {})

            def do_POST(self) -> None:
                # an OAuth token endpoint (a credentials file's token_uri): the standard chain, reached for real
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stand_in.requests.append(self.path)
                stand_in.headers.append({k.lower(): v for k, v in self.headers.items()})
                body = json.dumps({"access_token": stand_in.token, "expires_in": 3600, "token_type": "Bearer"})
                self._send(200 if self.path == "/token" else 404, body.encode(), {})

            def _send(self, status: int, body: bytes, headers: dict[str, str], truncate: bool = False) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if truncate:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2] if truncate else body)
                    self.wfile.flush()
                    if truncate:
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (a timeout test)

        return Handler
