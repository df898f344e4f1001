"""Open Inference Protocol v2 (KServe, Seldon/MLServer, Triton clients), REST, JSON tensors.

A table of houses is one input per column, shape ``[N]`` (``[N, 1]`` works too); outputs are
``price``, ``price_low`` and ``price_high`` (FP64, shape ``[N]``). Errors are ``{"error": ...}``
(400 bad input, 404 unknown model or version, 503 no model yet). The binary tensor extension
is not supported (not listed in ``/v2``'s extensions): a binary request gets a 400 saying so.
Bodies are read as JSON whatever their Content-Type (Triton's client sends none).
"""

from __future__ import annotations

import math
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import ORJSONResponse

from prices_predictor import __version__
from prices_predictor.core.aliases import CHAMPION
from prices_predictor.serving import bodies
from prices_predictor.serving.deps import RequestIdDep, ServiceDep
from prices_predictor.serving.errors import InputError, log_refused_body
from prices_predictor.serving.routers.mlflow import IGNORED_HEADER, log_table, plan_of
from prices_predictor.serving.routers.predict import _annotate_table, check_rows
from prices_predictor.serving.service import NotReady, PredictionService
from prices_predictor.spec.model import DataSpec
from prices_predictor.spec.table import check_table
from prices_predictor.store.journal import JournalUnavailable
from prices_predictor.tracking.loading import LoadedModel

_ERROR = {
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"error": {"type": "string"}}}
        }
    }
}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad request", **_ERROR},
    404: {"description": "Unknown model or version", **_ERROR},
    503: {"description": "No model loaded yet", **_ERROR},
}
router = APIRouter(prefix="/v2", tags=["open inference protocol v2"], responses=ERRORS)
OUTPUTS = ("price", "price_low", "price_high")
NUMERIC = {"FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16"}
NUMERIC |= {"UINT32", "UINT64"}
DATATYPES = NUMERIC | {"BOOL", "BYTES"}
THREADPOOL_BYTES = 100_000


class V2Error(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> ORJSONResponse:
    return ORJSONResponse({"error": message}, status_code=status)


@router.get("/health/live")
async def live() -> dict[str, bool]:
    return {"live": True}


@router.get("/health/ready", responses={503: {"description": "No model loaded yet"}})
async def ready(service: ServiceDep) -> Any:
    if service.holder.get(CHAMPION) is None:
        return ORJSONResponse({"ready": False}, status_code=503)
    return {"ready": True}


@router.get("")
async def server_metadata() -> dict[str, Any]:
    return {"name": "prices-predictor", "version": __version__, "extensions": []}


@router.get("/models/{name}")
@router.get("/models/{name}/versions/{version}")
async def model_metadata(service: ServiceDep, name: str, version: str | None = None) -> Any:
    try:
        m = _model(service, name, version)
    except V2Error as exc:
        return _error(exc.status, str(exc))
    return {
        "name": m.name,
        "versions": [m.version],
        "platform": "prices-predictor_kernel",
        "inputs": [
            {"name": api, "datatype": datatype_of(m.model.spec, column), "shape": [-1]}
            for column, api in m.schema.api_names.items()
        ],
        "outputs": [{"name": o, "datatype": "FP64", "shape": [-1]} for o in OUTPUTS],
    }


@router.get("/models/{name}/ready")
@router.get("/models/{name}/versions/{version}/ready")
async def model_ready(service: ServiceDep, name: str, version: str | None = None) -> Any:
    try:
        m = _model(service, name, version)
    except V2Error as exc:
        return _error(exc.status, str(exc))
    return {"name": m.name, "ready": True}


@router.post("/models/{name}/infer")
@router.post("/models/{name}/versions/{version}/infer")
async def infer(
    request: Request, service: ServiceDep, rid: RequestIdDep, name: str, version: str | None = None
) -> Any:
    """Price the houses of the request's input tensors (one per column)."""
    t0 = time.perf_counter()
    if request.headers.get("inference-header-content-length") is not None:
        return _error(400, "binary tensor data is not supported: send JSON (binary_data=False)")
    try:
        m = _model(service, name, version)
        raw = await request.body()
        if len(raw) < THREADPOOL_BYTES:
            done = _infer(service, m, raw)
        else:
            done = await run_in_threadpool(_infer, service, m, raw)
    except V2Error as exc:
        return _error(exc.status, str(exc))
    except InputError as exc:
        return _error(
            400, "; ".join(f"{i['field']}: {i['message']} ({i['rule']})" for i in exc.items)
        )
    body, table, scored, ignored = done
    state: dict[str, Any] = request.scope.setdefault("state", {})
    _annotate_table(state, m.version, len(table), ignored)
    try:
        await log_table(service, m, rid, table, scored, (time.perf_counter() - t0) * 1000)
    except JournalUnavailable as exc:
        log_refused_body(service.metrics, exc)
        return _error(503, f"prediction not served: {exc}")
    service.metrics.variant(CHAMPION).requests.inc()
    headers = {"X-Model-Version": m.version}
    if ignored:
        headers[IGNORED_HEADER] = ", ".join(ignored)[:1000]
    return ORJSONResponse(body, headers=headers)


def _infer(service: PredictionService, m: LoadedModel, raw: bytes) -> tuple[Any, Any, Any, Any]:
    payload = bodies.loads(raw)
    if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
        raise V2Error(400, "the request needs 'inputs': a list of tensors")
    columns, n = _columns(payload["inputs"])
    check_rows(n, service.settings.max_batch_rows, "inputs")
    wanted = _outputs(payload.get("outputs"))
    checked = check_table(columns, n, plan_of(m))
    if checked.errors:
        first = checked.errors[0]
        raise InputError(first["field"], first["rule"], first["message"], checked.errors)
    scored = service.score_table(m, checked.table, CHAMPION)
    values = {"price": scored.price, "price_low": scored.low, "price_high": scored.high}
    body: dict[str, Any] = {
        "model_name": m.name,
        "model_version": m.version,
        "outputs": [
            {"name": o, "datatype": "FP64", "shape": [n], "data": values[o].round(2).tolist()}
            for o in wanted
        ],
    }
    if "id" in payload:
        body["id"] = str(payload["id"])
    if checked.ignored:
        body["parameters"] = {"ignored_inputs": ", ".join(checked.ignored)[:1000]}
    return body, checked.table, scored, checked.ignored


def _columns(inputs: list[Any]) -> tuple[dict[str, Any], int]:
    columns: dict[str, Any] = {}
    n: int | None = None
    for i, t in enumerate(inputs):
        where = f"inputs[{i}]"
        if not isinstance(t, dict) or not {"name", "shape", "datatype", "data"} <= set(t):
            raise V2Error(400, f"{where}: a tensor needs name, shape, datatype and data")
        name, shape, datatype, data = t["name"], t["shape"], t["datatype"], t["data"]
        if not isinstance(name, str):
            raise V2Error(400, f"{where}: name must be a string")
        where = f"input '{name}'"
        if datatype not in DATATYPES:
            raise V2Error(400, f"{where}: unknown datatype {datatype!r}")
        if not (
            isinstance(shape, list)
            and shape
            and all(isinstance(d, int) and d >= 0 for d in shape)
            and math.prod(shape[1:]) == 1
        ):
            raise V2Error(400, f"{where}: shape must be [N] (one value per house), got {shape}")
        flat = _flatten(data)
        if len(flat) != shape[0]:
            raise V2Error(400, f"{where}: shape {shape} but {len(flat)} values")
        if n is not None and shape[0] != n:
            raise V2Error(400, f"{where}: {shape[0]} values where other inputs have {n}")
        n = shape[0]
        if datatype in NUMERIC and any(isinstance(v, str | bool) for v in flat[:1000]):
            raise V2Error(400, f"{where}: {datatype} data must be numbers")
        if datatype == "BOOL":
            flat = [None if v is None else float(v) for v in flat]
        columns[name] = flat
    if n is None:
        raise V2Error(400, "the request has no inputs")
    return columns, n


def _flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise V2Error(400, "tensor data must be a list")
    if data and isinstance(data[0], list):
        return [v for row in data for v in (row if isinstance(row, list) else [row])]
    return data


def _outputs(requested: Any) -> tuple[str, ...]:
    if requested is None:
        return OUTPUTS
    if not isinstance(requested, list):
        raise V2Error(400, "'outputs' must be a list")
    names = [o.get("name") if isinstance(o, dict) else None for o in requested]
    unknown = [str(x) for x in names if x not in OUTPUTS]
    if unknown:
        raise V2Error(400, f"unknown output(s) {', '.join(unknown)}: expected {', '.join(OUTPUTS)}")
    return tuple(str(x) for x in names)


def _model(service: PredictionService, name: str, version: str | None) -> LoadedModel:
    try:
        m = service.model(CHAMPION)
    except NotReady as exc:
        raise V2Error(503, f"no model loaded yet: {exc}") from None
    if name != m.name:
        raise V2Error(404, f"unknown model '{name}': this server serves '{m.name}'")
    if version is not None and version != m.version:
        raise V2Error(404, f"model '{name}' version {version} is not served (v{m.version} is)")
    return m


def datatype_of(spec: DataSpec, column: str) -> str:
    """The tensor datatype a client should send for a column."""
    for f in spec.features:
        if f.name == column:
            return "FP64" if f.kind == "numeric" else "BYTES"
    loc = spec.location
    if loc is not None and loc.kind == "block" and column == loc.column:
        return "INT64"
    if loc is not None and column in loc.columns():
        return "FP64"
    return "BYTES"
