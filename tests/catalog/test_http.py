"""``http.JsonClient``'s retries: what it waits between tries (the sleep is injected, so nothing waits here),
how many tries it makes, and which failures it does not retry at all."""

from __future__ import annotations

import pytest

from cloudorch.catalog.http import FetchError, JsonClient
from tests.catalog.stand_ins import Fault, StandIn


@pytest.fixture
def stand_in():
    server = StandIn()
    server.serve("/items", [{"Items": [1]}], "retail")
    yield server
    server.close()


def client(waits: list[float], **kwargs) -> JsonClient:
    return JsonClient(timeout=2, sleep=waits.append, **kwargs)


def test_a_429_waits_as_long_as_retry_after_says(stand_in):
    stand_in.faults = [Fault(429, headers={"Retry-After": "7"}), Fault(429, headers={"Retry-After": "2.5"})]
    waits: list[float] = []
    http = client(waits)
    assert http.get(f"{stand_in.url}/items") == {"Items": [1]}
    assert waits == [7.0, 2.5] and http.requests == 3


def test_retry_after_is_capped_by_max_wait(stand_in):
    stand_in.faults = [Fault(429, headers={"Retry-After": "3600"})]
    waits: list[float] = []
    client(waits, max_wait=30).get(f"{stand_in.url}/items")
    assert waits == [30]


def test_without_retry_after_the_waits_back_off_with_jitter(stand_in):
    stand_in.faults = [Fault(503) for _ in range(3)]
    waits: list[float] = []
    client(waits, backoff=1.0, attempts=4).get(f"{stand_in.url}/items")
    assert len(waits) == 3
    # full jitter: each wait somewhere under its doubling bound
    assert all(0 <= wait <= 2 ** i for i, wait in enumerate(waits))


def test_attempts_are_bounded_and_the_last_failure_is_said(stand_in):
    stand_in.faults = [Fault(500) for _ in range(10)]
    waits: list[float] = []
    http = client(waits, attempts=3)
    with pytest.raises(FetchError, match=r"^HTTP 500 \(after 3 attempts\)$"):
        http.get(f"{stand_in.url}/items")
    assert http.requests == 3 and len(waits) == 2 and stand_in.count("/items") == 3


def test_a_refusal_is_not_retried(stand_in):
    stand_in.faults = [Fault(403, body=b'{"error": {"message": "no read permission"}}')]
    waits: list[float] = []
    http = client(waits)
    with pytest.raises(FetchError, match="HTTP 403: no read permission"):
        http.get(f"{stand_in.url}/items")
    assert http.requests == 1 and waits == []
