"""Plain-HTTPS JSON reads for the price APIs discovery calls without a cloud SDK (Azure Retail Prices, Google
Cloud Billing), with the retries every discovery needs: throttling (429, honouring ``Retry-After``), 5xx,
timeouts, and pages cut short or garbled in transit.

The standard library for the requests and tenacity, the retry library the workflow already uses, for the
retries: both plugins use this module, a plugin may not import another, and these APIs are one GET per page,
so an HTTP client library would add an install and nothing the calls need. The AWS and SDK-based calls keep
their SDKs' own retry policies rather than stacking this one on top.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from typing import Any

#: statuses worth asking again: throttled, or the server's fault
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
#: a page bigger than this is refused, never held in memory (a Retail Prices page is ~100 kB)
MAX_PAGE_BYTES = 64 * 1024 * 1024
#: a paged listing longer than this is cut off and said to be: a server that always links onward must not loop
MAX_PAGES = 5000


class FetchError(Exception):
    """A read that failed for good (after its retries), in one line users can be shown."""


class _Transient(Exception):
    """A failed try worth another: its one-line reason and, when the server said, how long to wait first."""

    def __init__(self, line: str, retry_after: float | None = None) -> None:
        super().__init__(line)
        self.retry_after = retry_after


class JsonClient:
    """GETs JSON with bounded retries; counts every request made (progress, benchmarks).

    ``attempts`` is the total tries per page; waits grow exponentially from ``backoff`` seconds with full
    jitter, or follow ``Retry-After``, never past ``max_wait`` (a hostile or confused server must not park a
    refresh for an hour). ``sleep`` is injectable so tests need not wait.
    """

    def __init__(self, *, timeout: float = 30.0, attempts: int = 4, backoff: float = 0.5, max_wait: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.timeout, self.attempts, self.backoff, self.max_wait, self.sleep = timeout, attempts, backoff, max_wait, sleep
        self.requests = 0

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception_type, stop_after_attempt
        from tenacity import wait_random_exponential

        backoff = wait_random_exponential(multiplier=self.backoff, max=self.max_wait)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.retry_after is not None:
                return min(self.max_wait, exc.retry_after)
            return backoff(state)

        retrying = Retrying(stop=stop_after_attempt(self.attempts), wait=wait, sleep=self.sleep,
                            retry=retry_if_exception_type(_Transient))
        try:
            return retrying(self._attempt, url, headers or {})
        except RetryError as exc:
            raise FetchError(f"{exc.last_attempt.exception()} (after {self.attempts} attempts)") from None

    def _attempt(self, url: str, headers: Mapping[str, str]) -> Any:
        """One request, its failure sorted: for good (``FetchError``) or worth another try (``_Transient``)."""
        self.requests += 1
        try:
            return self._once(url, headers)
        except urllib.error.HTTPError as exc:
            if exc.code not in RETRYABLE:
                raise FetchError(f"HTTP {exc.code}: {_body_line(exc)}") from None
            raise _Transient(f"HTTP {exc.code}",
                             _retry_after(exc.headers.get("Retry-After") if exc.headers else None)) from None
        except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException) as exc:
            raise _Transient(_transport_line(exc)) from None
        except ValueError as exc:  # malformed or truncated JSON: a page cut short in transit reads as this
            raise _Transient(f"malformed page: {str(exc).splitlines()[0]}") from None

    def _once(self, url: str, headers: Mapping[str, str]) -> Any:
        request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - http(s) only, see pages()
            if answer.length is not None and answer.length > MAX_PAGE_BYTES:
                raise FetchError(f"a page over {MAX_PAGE_BYTES // 2**20} MiB")
            # read() of a page with a length raises IncompleteRead when the connection ends short of it
            body = answer.read() if answer.length is not None else answer.read(MAX_PAGE_BYTES + 1)
        if len(body) > MAX_PAGE_BYTES:
            raise FetchError(f"a page over {MAX_PAGE_BYTES // 2**20} MiB")
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data

    def pages(self, url: str, next_url: Callable[[dict], str | None],
              headers: Mapping[str, str] | None = None) -> Iterator[dict]:
        """Every page of a listing, from ``url`` on; ``next_url(page)`` gives the next one's URL or None."""
        seen = set()
        for _ in range(MAX_PAGES):
            if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise FetchError(f"refusing to follow a link that is not http(s): {url[:80]}")
            seen.add(url)
            page = self.get(url, headers)
            yield page
            following = next_url(page)
            if not following:
                return
            if following in seen:
                raise FetchError("the listing links back to a page already read")
            url = following
        raise FetchError(f"the listing goes on past {MAX_PAGES} pages")


def probe(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """Whether anything answers at ``url`` (one unauthenticated GET, no retries, no redirect followed) and how,
    in one line. Any HTTP status is an answer: an API refuses a bare request (401, 403, 404), and that it
    refuses is what shows it is there; only no answer at all (refused, unresolvable, silent) is not."""
    target = url if "://" in url else f"https://{url}"  # an SDK endpoint may be written as a bare host
    if urllib.parse.urlsplit(target).scheme not in ("http", "https"):
        return False, f"not an http(s) address: {url[:80]}"
    opener = urllib.request.build_opener(_NoRedirect)
    started = time.monotonic()
    try:
        with opener.open(urllib.request.Request(target, method="GET"), timeout=timeout) as answer:  # noqa: S310
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (TimeoutError, socket.timeout):
        return False, f"does not answer within {timeout:g} s"
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException, OSError) as exc:
        if isinstance(getattr(exc, "reason", None), (TimeoutError, socket.timeout)):
            return False, f"does not answer within {timeout:g} s"
        return False, f"does not answer: {_transport_line(exc)}"
    return True, f"answers (HTTP {status} in {(time.monotonic() - started) * 1000:.0f} ms)"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # a redirect is an answer from the endpoint itself; following it would probe somewhere else
    def redirect_request(self, *args, **kwargs):
        return None


def same_origin(base: str, link: str) -> str:
    """``link``'s path and query on ``base``'s scheme and host: a next-page link names the public host even
    when the first request went to a private endpoint or proxy, and must not lead anywhere else."""
    origin, target = urllib.parse.urlsplit(base), urllib.parse.urlsplit(link)
    return urllib.parse.urlunsplit((origin.scheme, origin.netloc, target.path, target.query, ""))


def _retry_after(value: str | None) -> float | None:
    # seconds only: the HTTP-date form is rare from these APIs, and backoff serves it as well
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _body_line(exc: urllib.error.HTTPError) -> str:
    """The error's message: the API's own ``error.message`` when the body has one, else the body's first line."""
    try:
        text = exc.read(4096).decode("utf-8", "replace")
    except OSError:
        text = ""
    try:
        error = json.loads(text).get("error")
        text = error.get("message", text) if isinstance(error, dict) else text
    except (ValueError, AttributeError):
        pass
    lines = (text or str(exc.reason or "")).strip().splitlines()
    return lines[0][:200] if lines else ""


def _transport_line(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    text = f"{type(reason or exc).__name__}: {reason or exc}"
    return text.splitlines()[0][:200]
