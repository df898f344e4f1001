"""Client errors as 4xx naming the field and the rule; no input produces a 5xx."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from prices_predictor.core.extras import MissingExtra, missing_extra
from prices_predictor.featurestore.online import StoreUnavailable
from prices_predictor.serving.features import UnknownHouse
from prices_predictor.serving.metrics import Metrics
from prices_predictor.serving.service import NotReady
from prices_predictor.store.journal import JournalFull, JournalUnavailable


class InputError(Exception):
    """Bad input found after schema validation (e.g. too many rows)."""

    def __init__(
        self, field: str, rule: str, message: str, items: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.items = items or [{"field": field, "rule": rule, "message": message}]

    @classmethod
    def from_validation(cls, exc: ValidationError, prefix: str = "") -> InputError:
        items = _items(exc.errors(), prefix)
        first = items[0]
        return cls(first["field"], first["rule"], first["message"], items)


def _items(errors: Any, prefix: str = "") -> list[dict[str, str]]:
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p != "body"]
        field = ".".join(([prefix] if prefix else []) + loc) or "body"
        rule = e.get("type", "invalid")
        ctx = e.get("ctx") or {}
        if ctx and rule in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            rule = f"{rule} {next(iter(ctx.values()))}"
        msg = str(e.get("msg", ""))
        if rule == "value_error" and "error" in ctx:  # our validators' own words, no prefix
            msg = str(ctx["error"])
        elif rule == "extra_forbidden":  # a column of the file the model left out, or a typo
            msg = "not an input of the served model (GET /v1/model lists its features)"
        out.append({"field": field, "rule": rule, "message": msg})
    return out


def install(app: FastAPI, metrics: Metrics) -> None:
    @app.exception_handler(MissingExtra)
    async def _extra_absent(request: Request, exc: MissingExtra) -> JSONResponse:
        # e.g. explaining a model with a CatBoost member where catboost is not installed
        return JSONResponse({"detail": str(exc)}, status_code=501)

    @app.exception_handler(ImportError)
    async def _missing_extra(request: Request, exc: ImportError) -> JSONResponse:
        missing = missing_extra(exc, request.url.path)
        if missing is None:
            raise exc
        return await _extra_absent(request, missing)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        items = _items(exc.errors())
        count_rejected(metrics, items)
        return JSONResponse({"detail": items}, status_code=422)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        count_rejected(metrics, exc.items)
        return JSONResponse({"detail": exc.items}, status_code=422)

    @app.exception_handler(NotReady)
    async def _not_ready(request: Request, exc: NotReady) -> JSONResponse:
        return JSONResponse(not_ready_body(exc), status_code=503, headers=NOT_READY_HEADERS)

    @app.exception_handler(UnknownHouse)
    async def _unknown_house(request: Request, exc: UnknownHouse) -> JSONResponse:
        return JSONResponse({"detail": exc.items}, status_code=404)

    @app.exception_handler(StoreUnavailable)
    async def _store_down(request: Request, exc: StoreUnavailable) -> JSONResponse:
        return JSONResponse(store_down_body(exc), status_code=503, headers=STORE_DOWN_HEADERS)

    @app.exception_handler(JournalUnavailable)
    async def _log_refused(request: Request, exc: JournalUnavailable) -> JSONResponse:
        return JSONResponse(
            log_refused_body(metrics, exc), status_code=503, headers=LOG_REFUSED_HEADERS
        )


NOT_READY_HEADERS = {"Retry-After": "5"}
LOG_REFUSED_HEADERS = {"Retry-After": "10"}
STORE_DOWN_HEADERS = {"Retry-After": "5"}


def store_down_body(exc: StoreUnavailable) -> dict[str, str]:
    return {"detail": f"the house's features cannot be read: {exc}"}


def log_refused_body(metrics: Metrics, exc: JournalUnavailable) -> dict[str, str]:
    """A prediction is only answered once it is logged: when the journal cannot take it, the
    client is told to retry (nothing was acknowledged, nothing is lost)."""
    metrics.predlog_refused.labels("full" if isinstance(exc, JournalFull) else "write").inc()
    return {"detail": f"prediction not served: {exc}"}


def not_ready_body(exc: NotReady) -> dict[str, str]:
    return {"detail": f"model not ready: {exc}"}


def count_rejected(metrics: Metrics, items: list[dict[str, str]]) -> None:
    """Rejected input counted by field: the field's name, never a client-chosen label."""
    for it in items:
        metrics.validation_errors.labels(_field_label(it)).inc()


def _field_label(item: dict[str, str]) -> str:
    if item["rule"] == "extra_forbidden":  # the name is whatever the client sent
        return "unknown_field"
    names = [p for p in item["field"].split(".") if not p.isdigit()]  # no row numbers
    return names[-1] if names else "body"
