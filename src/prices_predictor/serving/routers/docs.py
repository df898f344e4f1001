"""API docs served from the package: Swagger UI at /docs, no CDN.

The assets come from ``fastapi-offline``'s wheel; the page is ours, so that no inline script
is needed and the strict Content-Security-Policy holds on /docs too. (No ReDoc: its
standalone build fetches its logo from a CDN.)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(tags=["docs"])
ASSETS = Path(str(resources.files("fastapi_offline").joinpath("static")))

_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - API docs</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/docs/assets/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>
"""


def install(app: FastAPI) -> None:
    """Mount the assets and add /docs (the app is built with FastAPI's CDN pages disabled)."""
    app.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")
    swagger = _SWAGGER.format(title=app.title)

    @router.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(swagger)

    app.include_router(router)
