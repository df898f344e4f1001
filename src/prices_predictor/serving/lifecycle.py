"""Start-up, background reload, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from prices_predictor.ab import control
from prices_predictor.serving.holder import ModelHolder
from prices_predictor.serving.metrics import Metrics

log = logging.getLogger("prices_predictor.serving")
NOT_READY_RETRY_S = 2.0


def record_reload(holder: ModelHolder, metrics: Metrics, result: dict[str, str]) -> None:
    for outcome in result.values():
        if outcome == "loaded":
            metrics.reloads.labels("success").inc()
        elif outcome.startswith("error: ModelIntegrityError"):
            metrics.reloads.labels("refused").inc()
            metrics.integrity_failures.inc()
        elif outcome.startswith("error"):
            metrics.reloads.labels("failure").inc()
    for variant, m in holder.variants.items():
        metrics.set_model(variant, m.name, m.version)


def _follow_experiment(app: FastAPI) -> None:
    """In registry mode, the experiment recorded on the registered model wins."""
    s = app.state.settings
    if s.model_uri:
        return
    try:
        exp = control.read(s)
    except Exception:  # the registry may be briefly unreachable: keep the current experiment
        log.warning("could not read the A/B experiment from the registry")
        return
    if exp is not None:
        app.state.service.experiment = exp


async def _reload_loop(app: FastAPI) -> None:
    holder: ModelHolder = app.state.holder
    metrics: Metrics = app.state.metrics
    interval = app.state.settings.reload_interval_s
    first = True
    while True:
        result = await asyncio.to_thread(holder.reload)
        record_reload(holder, metrics, result)
        await asyncio.to_thread(_follow_experiment, app)
        if first:
            log.info("initial model load", extra={"result": result})
            first = False
        if interval <= 0 and holder.ready:
            return
        # until a model serves (registry unreachable at start, no alias yet), retry soon
        await asyncio.sleep(interval if interval > 0 and holder.ready else NOT_READY_RETRY_S)


async def _warm_features(app: FastAPI) -> None:
    """Import Feast and open the store once a model serves: the import takes seconds of
    CPU, which must neither delay readiness nor land on the first by-id request."""
    while not app.state.holder.ready:
        await asyncio.sleep(0.1)
    await asyncio.to_thread(app.state.service.features.warm)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    task = asyncio.create_task(_reload_loop(app))
    features = app.state.service.features
    if features is not None:
        warm = asyncio.create_task(_warm_features(app))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if features is not None:
            warm.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await warm
        await asyncio.to_thread(app.state.service.close)  # finish shadow work before the flush
        predlog = app.state.predlog
        if predlog is not None:
            await asyncio.to_thread(predlog.close)
            log.info(
                "prediction log flushed",
                extra={"written": predlog.written, "errors": predlog.errors},
            )
