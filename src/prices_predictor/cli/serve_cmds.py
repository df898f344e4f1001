"""``serve``."""

from __future__ import annotations

from typing import Annotated

import typer

from prices_predictor.cli.runtime import quiet, settings


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the API and the web page (model from PP_SERVE_ALIAS or the PP_MODEL_URI bundle)."""
    settings()  # fail with a clear message on invalid PP_ settings before binding
    quiet()
    # lazy: uvicorn only to serve
    import uvicorn

    uvicorn.run(
        "prices_predictor.serving.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=30,
    )
