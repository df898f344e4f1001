"""Client errors as 4xx naming the field and the rule; no input produces a 5xx."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from prices_predictor.serving.metrics import Metrics
from prices_predictor.serving.service import NotReady


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
        out.append({"field": field, "rule": rule, "message": str(e.get("msg", ""))})
    return out


def install(app: FastAPI, metrics: Metrics) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        items = _items(exc.errors())
        for it in items:
            metrics.validation_errors.labels(it["field"].split(".")[-1]).inc()
        return JSONResponse({"detail": items}, status_code=422)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        for it in exc.items:
            metrics.validation_errors.labels(it["field"].split(".")[-1]).inc()
        return JSONResponse({"detail": exc.items}, status_code=422)

    @app.exception_handler(NotReady)
    async def _not_ready(request: Request, exc: NotReady) -> JSONResponse:
        return JSONResponse(
            {"detail": f"model not ready: {exc}"}, status_code=503, headers={"Retry-After": "5"}
        )
