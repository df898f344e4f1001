"""``POST /v1/predict`` as a plain ASGI handler in front of FastAPI's router.

One house per request is the hottest call. Under load FastAPI's routing, dependency solving and
response classes cost about a third of such a request (measured with py-spy under wrk), as
much as validating and scoring the house. This handler does the same work through the same
function as the documented route (``routers.predict.predict_one``) with the same checks and
answers; it sits inside the observability middleware, so request ids, the size limit, access
logs and metrics apply as for every route.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from prices_predictor.featurestore.online import StoreUnavailable
from prices_predictor.serving.deps import is_json, not_json_detail
from prices_predictor.serving.errors import (
    LOG_REFUSED_HEADERS,
    NOT_READY_HEADERS,
    STORE_DOWN_HEADERS,
    InputError,
    count_rejected,
    log_refused_body,
    not_ready_body,
    store_down_body,
)
from prices_predictor.serving.features import UnknownHouse
from prices_predictor.serving.middleware import send_json
from prices_predictor.serving.routers.predict import predict_one, sticky_id
from prices_predictor.serving.service import NotReady, PredictionService
from prices_predictor.store.journal import JournalUnavailable

PATH = "/v1/predict"


class SinglePredictPath:
    def __init__(self, app: ASGIApp, service: PredictionService, route: Any) -> None:
        self.app = app
        self.service = service
        self.route = route  # the documented APIRoute, for the access log's route label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        ctype = client = cookie = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                ctype = value.decode("latin-1")
            elif name == b"x-client-id":
                client = value.decode("latin-1")
            elif name == b"cookie":
                cookie = value.decode("latin-1")
        if not is_json(ctype or ""):
            await _send(send, 415, {"detail": not_json_detail(ctype or "")})
            return
        raw = await _body(receive)
        pp_client = cookie_parser(cookie).get("pp_client") if cookie else None
        args = (self.service, raw, scope["state"], sticky_id(client, pp_client))
        try:
            if self.service.features is None:
                body, version = predict_one(*args)
            else:  # the store's read may block: off the event loop
                body, version = await self.service.with_store(predict_one, *args)
        except UnknownHouse as exc:
            await _send(send, 404, {"detail": exc.items})
            return
        except StoreUnavailable as exc:
            await _send(send, 503, store_down_body(exc), _headers(STORE_DOWN_HEADERS))
            return
        except InputError as exc:
            count_rejected(self.service.metrics, exc.items)
            await _send(send, 422, {"detail": exc.items})
            return
        except NotReady as exc:
            await _send(send, 503, not_ready_body(exc), _headers(NOT_READY_HEADERS))
            return
        except JournalUnavailable as exc:
            body = log_refused_body(self.service.metrics, exc)
            await _send(send, 503, body, _headers(LOG_REFUSED_HEADERS))
            return
        await _send(send, 200, body, [(b"x-model-version", version.encode())])


def _headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in headers.items()]


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            break
        chunks.append(msg.get("body", b""))
        if not msg.get("more_body", False):
            break
    return b"".join(chunks)


async def _send(
    send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send_json(send, status, orjson.dumps(body), headers)
