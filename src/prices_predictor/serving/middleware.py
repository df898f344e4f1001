"""Pure ASGI middleware: request id, body size limit, JSON request log, metrics."""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prices_predictor.serving.metrics import Metrics

log = logging.getLogger("prices_predictor.serving.access")
MAX_CACHED_SERIES = 1000

# The page and /docs use no external resource and no inline script: a strict policy fits.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
SECURITY_HEADERS = [*_COMMON, (b"content-security-policy", _CSP.encode())]


def new_request_id() -> str:
    """32 random hex digits, like ``uuid4().hex``.

    Request ids need to be unique, not secret: Python's seeded generator (reseeded in forked
    workers) costs ~1 us where ``uuid4`` reads the OS entropy pool (~30 us here).
    """
    return f"{random.getrandbits(128):032x}"


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class ObservabilityMiddleware:
    """X-Request-ID in and out, 413 over the size limit, one JSON log line per request."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        max_body_bytes: int,
        large_bodies: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes
        self.large = large_bodies or {}  # path -> its own limit (file uploads)
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        rid_raw, length = b"", None
        for name, value in scope.get("headers") or ():
            if name == b"x-request-id":
                rid_raw = value
            elif name == b"content-length":
                length = value
        rid_text = rid_raw.decode("latin-1")[:64]
        rid = rid_text if rid_text and rid_text.isprintable() else new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        status = 500
        limit = self.large.get(scope["path"], self.max_body)
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(send, rid, limit)
            self._record(scope, 413, start, rid)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return msg

        rid_header = (b"x-request-id", rid.encode())

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), rid_header, *SECURITY_HEADERS]
            await send(message)

        # with a valid Content-Length the server never hands over more body than it announced
        checked = receive if length is not None and length.isdigit() else limited_receive
        try:
            await self.app(scope, checked, send_wrapper)
        except _BodyTooLarge:
            status = 413
            await _too_large(send, rid, limit)
        finally:
            self._record(scope, status, start, rid)

    def _record(self, scope: Scope, status: int, start: float, rid: str) -> None:
        elapsed = time.perf_counter() - start
        route = _route_of(scope)
        key = (route, scope["method"], status)
        series = self._series.get(key)
        if series is None:  # labels() takes a lock and builds a key every call: done once
            series = (
                self.metrics.requests.labels(route, scope["method"], str(status)),
                self.metrics.latency.labels(route),
            )
            if len(self._series) < MAX_CACHED_SERIES:  # methods are client-chosen strings
                self._series[key] = series
        series[0].inc()
        series[1].observe(elapsed)
        if not log.isEnabledFor(logging.INFO):
            return
        st: dict[str, Any] = scope.get("state", {})
        extra = {
            "request_id": rid,
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "latency_ms": round(elapsed * 1000, 3),
            "model_version": st.get("model_version"),
            "n_rows": st.get("n_rows"),
        }
        if "payload" in st:
            extra["payload"] = st["payload"]
        if "ignored_columns" in st:
            extra["ignored_columns"] = st["ignored_columns"]
        log.info("request", extra=extra)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, rid: str, limit: int) -> None:
    body = (
        b'{"detail":[{"field":"body","rule":"max_bytes","message":"request body exceeds '
        + str(limit).encode()
        + b' bytes"}]}'
    )
    await send_json(send, 413, body, [(b"x-request-id", rid.encode()), *SECURITY_HEADERS])


async def send_json(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A whole JSON response straight to the ASGI server."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
