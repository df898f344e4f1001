"""App factory: ``uvicorn --factory prices_predictor.serving.app:create_app``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import ORJSONResponse

from prices_predictor import __version__
from prices_predictor.core.settings import Settings, get_settings
from prices_predictor.featurestore.online import OnlineFeatures
from prices_predictor.jobs.files import job_files
from prices_predictor.jobs.queue import DURATION_BUCKETS, JobQueue
from prices_predictor.serving import errors, fastpath, openapi
from prices_predictor.serving.holder import ModelHolder
from prices_predictor.serving.jsonlog import setup_json_logging
from prices_predictor.serving.lifecycle import lifespan
from prices_predictor.serving.metrics import Metrics
from prices_predictor.serving.middleware import ObservabilityMiddleware
from prices_predictor.serving.routers import (
    ab,
    admin,
    docs,
    explain,
    health,
    jobs,
    metrics,
    mlflow,
    monitoring,
    predict,
    v2,
    web,
)
from prices_predictor.serving.service import PredictionService
from prices_predictor.store.predlog import PredictionLog


def online_features(s: Settings) -> OnlineFeatures | None:
    """The online store when enabled (Feast itself is imported later, off the start path)."""
    return OnlineFeatures(s) if s.feature_store == "feast" else None


def create_app(settings: Settings | None = None) -> FastAPI:
    s = settings or get_settings()
    setup_json_logging(s.log_level)
    if not s.model_uri:
        # lazy: MLflow only when serving from the registry
        from prices_predictor.tracking.mlflow_env import point_at

        point_at(s)
    app = FastAPI(
        title="prices-predictor",
        version=__version__,
        description="Housing price predictions with ranges, explanations and monitoring.",
        lifespan=lifespan,
        default_response_class=ORJSONResponse,
        docs_url=None,  # served from the package by routers.docs (no CDN)
        redoc_url=None,
    )
    m = Metrics()
    holder = ModelHolder(s)
    s.home.mkdir(parents=True, exist_ok=True)
    predlog = PredictionLog(
        s.prediction_db,
        s.journal_dir,
        flush_s=s.prediction_log_flush_s,
        retention_days=s.prediction_log_retention_days,
        max_bytes=s.predlog_max_bytes,
        fsync=s.predlog_fsync,
    )
    m.watch_prediction_log(predlog.stats)
    app.state.settings = s
    app.state.metrics = m
    app.state.holder = holder
    app.state.predlog = predlog
    app.state.service = PredictionService(s, holder, m, predlog, online_features(s))
    app.state.jobs = JobQueue(s)  # connects on first use: Redis down affects job routes only
    app.state.job_files = job_files(s)
    app.state.job_files.prepare()
    m.watch_jobs(app.state.jobs.stats, DURATION_BUCKETS)
    errors.install(app, m)
    openapi.install(app, holder)
    for r in (
        health.router,
        predict.router,
        jobs.router,
        mlflow.router,
        v2.router,
        explain.router,
        monitoring.router,
        ab.router,
        admin.router,
        metrics.router,
        web.router,
    ):
        app.include_router(r)
    web.mount_static(app)
    docs.install(app)
    single = next(r for r in predict.router.routes if getattr(r, "path", "") == fastpath.PATH)
    app.add_middleware(fastpath.SinglePredictPath, service=app.state.service, route=single)
    app.add_middleware(
        ObservabilityMiddleware,
        metrics=m,
        max_body_bytes=s.max_body_bytes,
        large_bodies={jobs.PATH: s.max_job_bytes},
    )
    return app
