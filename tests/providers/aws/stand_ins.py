"""Local stand-ins for the AWS APIs discovery calls: moto's server for EC2, a small replaying server for
the Price List and Service Quotas APIs (moto answers neither for EC2: get_products is a 500, Service
Quotas knows only VPC codes), and in front of moto a server answering the one EC2 action moto lacks,
GetSpotPlacementScores, passing every other action through. All speak real HTTP, so boto3, its paging and
its retries run for real."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support import SHARED

PRICE_SAMPLE = SHARED / "data" / "pricing-samples" / "aws-pricing-get_products-AmazonEC2-m5.large.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: the families a catalog-sized account knows (start_moto's ``families``): the tests of the catalog's
#: commands need a few types priced, run and scored; moto's whole list (~1,400 types, a 5.8 MB answer to
#: describe_instance_types per region, a spot price per type and zone, ~140 families to score) is what
#: the discovery tests read, and costs several seconds per region read
FEW_FAMILIES = ("c5", "g6", "m5", "m7g")

#: moto's server with its instance types and their offerings narrowed to the families in argv[1]: moto
#: reads both lists (and builds the types' answers) at import, before serving, so the server answers as
#: if AWS offered no others
_NARROWED_MOTO = """
import sys
from moto.ec2.models import instance_types as known
from moto.server import main
keep = set(sys.argv.pop(1).split(","))
for name in [n for n in known.INSTANCE_TYPES if n.split(".")[0] not in keep]:
    del known.INSTANCE_TYPES[name]
backend = known.InstanceTypeBackend
backend.instance_types = [t for t in backend.instance_types if t["InstanceType"].split(".")[0] in keep]
for regions in known.INSTANCE_TYPE_OFFERINGS.values():
    for offers in regions.values():
        offers[:] = [o for o in offers if o["InstanceType"].split(".")[0] in keep]
main(sys.argv[1:])
"""


def start_moto(families: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
    """moto's server on a free port: its URL. ``families``: only these instance families exist there."""
    port = free_port()
    if families:
        command = [sys.executable, "-c", _NARROWED_MOTO, ",".join(families)]
    else:
        command = [shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))]
    proc = subprocess.Popen([*command, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto_server did not start within 30 s")


def product(instance_type: str, usd: float) -> dict:
    """A Price List product of the recorded sample's shape, for types the sample does not hold."""
    sku = f"SKU{abs(hash(instance_type)) % 10**8}"
    return {"product": {"productFamily": "Compute Instance", "sku": sku,
                        "attributes": {"instanceType": instance_type, "operatingSystem": "Linux", "tenancy": "Shared"}},
            "serviceCode": "AmazonEC2",
            "terms": {"OnDemand": {f"{sku}.JRTCKXETXF": {"priceDimensions": {f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                "unit": "Hrs", "pricePerUnit": {"USD": f"{usd:.10f}"}}}}}}}


def serve(handler) -> tuple[ThreadingHTTPServer, str]:
    """``handler`` served on a free loopback port, in a daemon thread: the server and its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class Quiet(BaseHTTPRequestHandler):
    """A stand-in's request handler that keeps the test output clean (no line per request)."""

    def log_message(self, *args) -> None:
        pass


class Served:
    """A stand-in served by ``serve``: ``close`` stops it."""

    server: ThreadingHTTPServer

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Replay(Served):
    """Answers AWS JSON-protocol calls by their X-Amz-Target: ``pages[target]`` is the list of pages served
    in turn (NextToken joins them); ``faults`` are (status, body) answers given before the pages."""

    def __init__(self) -> None:
        self.pages: dict[str, list[dict]] = {}
        self.faults: list[tuple[int, dict]] = []
        self.requests: list[str] = []
        self.server, self.url = serve(self._handler())

    @staticmethod
    def region_of(body: dict, authorization: str) -> str:
        """The region a call is about: the Price List's regionCode filter, else SigV4's credential scope."""
        for f in body.get("Filters", []):
            if f.get("Field") == "regionCode":
                return f["Value"]
        scope = authorization.split("Credential=", 1)[-1].split(",")[0].split("/")
        return scope[2] if len(scope) > 2 else ""

    def _handler(self):
        replay = self

        class Handler(Quiet):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                target = (self.headers.get("X-Amz-Target") or "").split(".")[-1]
                replay.requests.append(target)
                if replay.faults:
                    status, answer = replay.faults.pop(0)
                else:
                    region = replay.region_of(body, self.headers.get("Authorization") or "")
                    pages = replay.pages.get(f"{target}@{region}") or replay.pages.get(target, [{}])
                    index = int(body.get("NextToken") or 0)
                    status, answer = 200, dict(pages[index])
                    if index + 1 < len(pages):
                        answer["NextToken"] = str(index + 1)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def spot_scores_xml(items: list[tuple[str, int]], next_token: str = "") -> bytes:
    """A GetSpotPlacementScoresResponse in the EC2 Query API's XML, shaped as botocore's ec2 model reads it:
    ``spotPlacementScoreSet`` of ``item`` (``region``, ``availabilityZoneId`` when per zone, ``score``),
    and ``nextToken`` while more pages follow."""
    rows = "".join(f"<item><region>{region}</region><score>{score}</score></item>" for region, score in items)
    token = f"<nextToken>{next_token}</nextToken>" if next_token else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<GetSpotPlacementScoresResponse '
            f'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>5e1f6d52-0000-4000-8000-000000000001'
            f'</requestId><spotPlacementScoreSet>{rows}</spotPlacementScoreSet>{token}'
            f'</GetSpotPlacementScoresResponse>').encode()


def ec2_error_xml(code: str, message: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}'
            f'</Message></Error></Errors><RequestID>5e1f6d52-0000-4000-8000-000000000002</RequestID></Response>').encode()


class SpotScores(Served):
    """In front of moto: answers GetSpotPlacementScores, passes every other EC2 action to moto unchanged.

    ``scores[family]`` (the part of an instance type before the dot) is the list of pages served in turn,
    each a list of (region, score), filtered to the regions asked; a family not listed gets none. ``faults``
    are (status, code, message) answers given before any page. ``asked`` records each call's parameters,
    ``passed`` those of every other EC2 call.
    """

    def __init__(self, moto_url: str) -> None:
        self.moto_url = moto_url
        self.scores: dict[str, list[list[tuple[str, int]]]] = {}
        self.faults: list[tuple[int, str, str]] = []
        self.asked: list[dict[str, list[str]]] = []
        self.passed: list[dict[str, list[str]]] = []
        self.server, self.url = serve(self._handler())

    def answer(self, params: dict[str, list[str]]) -> tuple[int, bytes]:
        self.asked.append(params)
        if self.faults:
            status, code, message = self.faults.pop(0)
            return status, ec2_error_xml(code, message)
        types = [v[0] for k, v in sorted(params.items()) if k.startswith("InstanceType.")]
        regions = {v[0] for k, v in params.items() if k.startswith("RegionName.")}
        pages = self.scores.get(types[0].split(".")[0] if types else "", [[]])
        index = int(params.get("NextToken", ["0"])[0])
        token = str(index + 1) if index + 1 < len(pages) else ""
        return 200, spot_scores_xml([(r, s) for r, s in pages[index] if r in regions], token)

    def _handler(self):
        front = self

        class Handler(Quiet):
            def do_POST(self) -> None:
                import urllib.error
                import urllib.parse
                import urllib.request

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params = urllib.parse.parse_qs(body.decode())
                if params.get("Action") == ["GetSpotPlacementScores"]:
                    status, data, kind = *front.answer(params), "text/xml;charset=UTF-8"
                else:
                    front.passed.append(params)
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                    request = urllib.request.Request(front.moto_url + self.path, data=body, headers=headers, method="POST")
                    try:
                        with urllib.request.urlopen(request, timeout=60) as answer:
                            status, data, kind = answer.status, answer.read(), answer.headers.get("Content-Type", "")
                    except urllib.error.HTTPError as exc:
                        status, data, kind = exc.code, exc.read(), exc.headers.get("Content-Type", "")
                self.send_response(status)
                self.send_header("Content-Type", kind or "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


class Account:
    """A stand-in AWS account: moto for EC2 (behind ``spot``, which answers spot placement scores), ``replay``
    for pricing and quotas, environment pointing at them."""

    def __init__(self, moto_url: str, replay: Replay, spot: SpotScores | None = None) -> None:
        self.moto_url, self.replay, self.spot = moto_url, replay, spot

    def ec2(self, region: str = "us-east-1"):
        import boto3

        return boto3.client("ec2", region_name=region, endpoint_url=self.moto_url)

    def serve(self, prices: list[dict], quotas: dict[str, float], region: str = "") -> None:
        """Answer get_products with ``prices`` and list_service_quotas with ``quotas`` (code -> vCPUs), for
        ``region`` only when given."""
        at = f"@{region}" if region else ""
        self.replay.pages[f"GetProducts{at}"] = [{"FormatVersion": "aws_v1", "PriceList": [json.dumps(p) for p in prices]}]
        self.replay.pages[f"ListServiceQuotas{at}"] = [{"Quotas": [
            {"ServiceCode": "ec2", "QuotaCode": code, "QuotaName": code, "Value": value}
            for code, value in quotas.items()]}]


def account_environment(monkeypatch, tmp_path: Path, moto_url: str, replay_url: str) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_PRICING", replay_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SERVICE_QUOTAS", replay_url)
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("CLOUDORCH_CACHE_DIR", str(tmp_path / "cache"))
