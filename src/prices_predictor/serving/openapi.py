"""OpenAPI that describes the served model: request fields come from its spec.

``/openapi.json`` (and ``/docs``) list the champion's fields, their ranges and levels; after a
hot reload to a model with another spec the next call describes the new one. Before a model
is loaded the request bodies are described as plain objects.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from prices_predictor.core.aliases import CHAMPION
from prices_predictor.serving.holder import ModelHolder

REF = "#/components/schemas/{model}"


def install(app: FastAPI, holder: ModelHolder) -> None:
    cache: dict[str, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        m = holder.get(CHAMPION)
        key = m.schema.digest if m is not None else ""
        if key not in cache:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(_request_schemas(m))
            cache.clear()
            cache[key] = doc
        return cache[key]

    app.openapi = openapi  # type: ignore[method-assign]


def _request_schemas(m: Any) -> dict[str, Any]:
    if m is None:
        loose = {
            "type": "object",
            "description": "No model is loaded yet: its spec decides the fields.",
        }
        batch = {"type": "object", "properties": {"houses": {"type": "array", "items": loose}}}
        return {"HouseFeatures": loose, "BatchRequest": batch}
    out: dict[str, Any] = {}
    for model in (m.schema.house, m.schema.batch):
        schema = model.model_json_schema(by_alias=True, ref_template=REF)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out
