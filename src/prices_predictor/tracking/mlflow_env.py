"""Point MLflow at PP_HOME (or a server), with timeouts so an unreachable server fails fast."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

from prices_predictor.core.errors import RegistryError
from prices_predictor.core.extras import missing_extra
from prices_predictor.core.settings import Settings


def point_at(settings: Settings) -> str:
    """Tracking/registry URIs and client timeouts, without contacting the server: a serving
    process starts (and says why it is not ready) while the registry is unreachable."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(settings.mlflow_timeout_s)))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    settings.home.mkdir(parents=True, exist_ok=True)
    # lazy: MLflow (~2 s) stays off start-up paths that do not need it
    import mlflow

    uri = settings.tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def configure(settings: Settings) -> str:
    """Set tracking/registry URIs and make the configured experiment the active one (runs are
    logged there, never in MLflow's Default); returns its id."""
    uri = settings.tracking_uri
    if uri.startswith(("http://", "https://")):
        check_server(uri, settings.mlflow_timeout_s)
    point_at(settings)
    import mlflow  # lazy: as in point_at

    try:
        exp = mlflow.get_experiment_by_name(settings.experiment_name)
        if exp is None:
            local = not uri.startswith(("http://", "https://"))
            exp_id = mlflow.create_experiment(
                settings.experiment_name,
                artifact_location=settings.artifact_root if local else None,
            )
        else:
            exp_id = str(exp.experiment_id)
        mlflow.set_experiment(experiment_id=exp_id)
        return exp_id
    except ImportError as exc:
        # mlflow-skinny (the serving extra) talks to a tracking server, not to a local store
        missing = missing_extra(exc, f"MLflow at {uri} (a local store)")
        if missing is None:
            raise RegistryError(f"MLflow at {uri}: {exc}") from exc
        raise RegistryError(f"{missing}; or set PP_MLFLOW_TRACKING_URI to a server") from None
    except Exception as exc:
        raise RegistryError(f"MLflow at {uri}: {str(exc).splitlines()[0]}") from exc


def check_server(uri: str, timeout_s: float) -> None:
    """Fail fast, with one clear line, when a tracking server does not answer."""
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout_s) as resp:
            if resp.status != 200:
                raise RegistryError(f"MLflow server {uri} is unhealthy (HTTP {resp.status})")
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RegistryError(f"MLflow server {uri} is unreachable: {reason}") from exc
