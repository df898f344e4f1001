"""The one configuration object: every knob, env prefix ``PP_``.

Precedence for what a data spec also says (target, outlier limit, location, gates): a ``PP_``
variable set explicitly in the environment wins over the spec, and the spec wins over the
built-in default. Those settings therefore default to None ("not set").
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All settings; read from the environment (``PP_*``) or a ``.env`` file."""

    model_config = SettingsConfigDict(
        env_prefix="PP_", env_file=".env", extra="ignore", populate_by_name=True
    )

    home: Path = Field(
        Path(".pp"), description="All local state: MLflow db/artifacts, ZenML, logs."
    )
    mlflow_tracking_uri: str | None = Field(
        None, description="MLflow tracking URI; default sqlite under PP_HOME. http(s):// works."
    )
    mlflow_timeout_s: float = Field(10.0, description="HTTP timeout towards a tracking server.")
    experiment_name: str = Field("prices_predictor", description="MLflow experiment name.")
    model_name: str = Field("prices_predictor", description="Registered model name.")

    data: str = Field("ames", description="Training data: 'ames' or a CSV/Parquet/ZIP/Excel path.")
    target: str | None = Field(
        None, description="Target column (sale price); default: the spec's (Ames: SalePrice)."
    )
    spec: str | None = Field(
        None,
        description="Data spec for training: a YAML file or 'infer'; unset: the Ames preset "
        "for Ames columns, else a spec inferred from the data.",
    )
    model: str = Field("blend", description="Default model strategy.")
    params_file: Path | None = Field(
        None, description="JSON of strategy parameters overriding the tuned defaults."
    )
    seed: int = Field(42, description="Seed for the split, CV folds and models.")
    test_size: float = Field(0.2, gt=0, lt=1, description="Protocol holdout share.")
    cv_folds: int = Field(5, ge=2, le=20, description="Folds for CV metrics and conformal range.")
    outlier_max: float | None = Field(
        None,
        validation_alias=AliasChoices("PP_OUTLIER_MAX", "PP_OUTLIER_MAX_LIVING_AREA"),
        description="Overrides the max of the spec's first outlier rule (Ames: Gr Liv Area "
        "4000); training rows above it are dropped.",
    )
    interval_coverage: float = Field(0.8, gt=0, lt=1, description="Nominal price range coverage.")
    location_effect: bool = Field(
        True, description="Learn the spec's location effect (parcel blocks or coordinates)."
    )
    location_divisor: int | None = Field(
        None, ge=1, description="Overrides the spec's block divisor (block = id // this)."
    )
    location_prior: float | None = Field(
        None, gt=0, description="Overrides the spec's shrinkage, in pseudo-sales at zero."
    )
    location_neighbours: int | None = Field(
        None, ge=1, description="Overrides the spec's nearest sales (coordinates)."
    )
    tune_trials: int = Field(30, ge=1, description="Optuna trials for --tune (at most).")
    tune_timeout_s: float = Field(
        150.0,
        gt=0,
        description="Time budget of --tune's search, judging included; a running trial "
        "finishes. The default keeps the whole 'train --tune' (gates included) within 5 "
        "minutes on 2 cores for the bundled data.",
    )
    n_jobs: int = Field(2, ge=1, description="Threads for model fitting.")

    gate_min_baseline_gain: float | None = Field(
        None,
        ge=0,
        lt=1,
        description="Threshold gate: holdout RMSE(log) at least this share below the "
        "median-price-per-size baseline's; default: the spec's, else 0.10.",
    )
    gate_max_rmse: float | None = Field(
        None, description="Threshold gate: max holdout RMSE(log); default: the spec's (Ames 0.14)."
    )
    gate_min_r2: float | None = Field(
        None, description="Threshold gate: min holdout R2(log); default: the spec's (Ames 0.88)."
    )
    gate_min_improvement: float = Field(
        0.0, ge=0, description="Comparison gate: candidate must beat champion RMSE by this."
    )

    serve_alias: str = Field("champion", description="Registry alias the service serves.")
    model_uri: str | None = Field(None, description="Serve this bundle dir / model URI instead.")
    reload_interval_s: float = Field(30.0, ge=0, description="Alias poll period; 0 disables.")
    admin_token: str | None = Field(None, description="Bearer token for /admin; unset disables.")
    max_batch_rows: int = Field(10_000, ge=1, description="Max rows per batch request.")
    max_body_bytes: int = Field(20_000_000, ge=1024, description="Max request body size.")
    cache_size: int = Field(4096, ge=0, description="LRU prediction cache entries; 0 disables.")
    log_payloads: bool = Field(False, description="Log feature values in request logs.")
    log_level: str = Field("INFO", description="Log level.")
    prediction_db_url: str | None = Field(
        None, description="SQLAlchemy URL of the prediction log; default SQLite under PP_HOME."
    )
    prediction_log_flush_s: float = Field(
        0.5, gt=0, description="Period of the shipper moving the journal into the database."
    )
    predlog_max_bytes: int = Field(
        1 << 30,
        ge=1 << 20,
        description="Disk budget of the prediction journal (rows not yet in the database); "
        "when it is used up, predictions are refused with 503 until the database catches up.",
    )
    predlog_fsync: bool = Field(
        False,
        description="fsync the journal per request: survives power loss, not only a crash "
        "of the process (costs a disk flush per prediction).",
    )
    prediction_log_retention_days: float | None = Field(
        None,
        gt=0,
        description="Delete logged predictions older than this (checked hourly); unset keeps all.",
    )
    gc_freeze: bool = Field(
        True,
        description="After a model loads, freeze the heap so that full garbage collections "
        "skip it (each one otherwise stalls every request ~0.1 s).",
    )
    kernel_cache_dir: Path | None = Field(
        None,
        description="Compiled scoring-kernel cache (numba); default PP_HOME/numba-cache. "
        "NUMBA_CACHE_DIR, when set, wins.",
    )
    kernel_backend: Literal["auto", "aot", "jit"] = Field(
        "auto",
        description="Scoring kernel: 'aot' = compiled ahead of time for this CPU (the runtime "
        "image), 'jit' = numba (the 'jit' extra), 'auto' = the first one installed. With "
        "neither, models score through their own libraries (same prices, slower).",
    )
    kernel_aot_dir: Path | None = Field(
        None,
        description="Where the ahead-of-time kernels are; default: inside the installed package "
        "(`python -m prices_predictor.models.scoring.aot` writes them there).",
    )

    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="Redis of the batch job queue (API and workers); while it is down only the "
        "job routes answer 503.",
    )
    jobs_dir: str | None = Field(
        None,
        description="Where job uploads and results are kept: a directory or an fsspec URL "
        "(s3://bucket/prefix); default PP_HOME/jobs. API and workers must see the same place.",
    )
    api_url: str = Field(
        "http://127.0.0.1:8000", description="The API the 'jobs' commands talk to."
    )
    job_queue: str = Field("prices", description="Queue the API submits jobs to.")
    max_job_bytes: int = Field(
        1_000_000_000, ge=1024, description="Max size of a file submitted as a job."
    )
    job_ttl_s: int = Field(
        86_400,
        ge=60,
        description="A job, its upload and its result expire this long after "
        "submission (queued) or after they end.",
    )
    job_timeout_s: int = Field(
        3600, ge=10, description="A job still running after this long is stopped and failed."
    )
    job_heartbeat_s: int = Field(
        5, ge=1, le=60, description="How often a busy worker says it is alive."
    )
    job_grace_s: int = Field(
        10,
        ge=2,
        le=600,
        description="A running job whose worker has not been heard of for job_heartbeat_s + "
        "this is taken as abandoned (worker killed) and queued again.",
    )

    feature_store: Literal["none", "feast"] = Field(
        "none",
        description="'feast': /v1/predict, /v1/predict/batch and /v1/explain take a house's id "
        "alone (or id plus fields that override the store) and read its features from the "
        "online store. 'none': Feast is never imported.",
    )
    feature_repo: Path | None = Field(
        None,
        description="The Feast repository (registry, source, SQLite store); default "
        "PP_HOME/features.",
    )
    feature_online_store: str | None = Field(
        None,
        description='Feast online store as JSON, e.g. {"type": "redis", '
        '"connection_string": "127.0.0.1:6379,db=1"} or {"type": "postgres", ...}; '
        "default: SQLite in the repository. ${VAR} is expanded.",
    )
    features_on_train: bool | None = Field(
        None,
        description="'train' applies the feature views and materializes the houses after "
        "registering; default: on when PP_FEATURE_STORE=feast.",
    )
    feature_retry_s: float = Field(
        1.0,
        ge=0,
        le=60,
        description="After a failed online-store read, answer 503 for this "
        "long before trying the store again.",
    )

    ab_experiment_id: str = Field("", description="Running A/B experiment id ('' = none).")
    ab_weight: float = Field(0.0, ge=0, le=1, description="Challenger share of traffic.")
    ab_event: str = Field("lead_contacted", description="Business event the A/B report counts.")
    shadow: bool = Field(False, description="Challenger scores requests off the request path.")
    shadow_sample: float = Field(1.0, gt=0, le=1, description="Share of requests shadowed.")

    drift_on_training: Literal["warn", "fail"] = Field("warn", description="Drift policy.")
    drift_share_alert: float = Field(0.5, gt=0, le=1, description="Drifted column share alert.")
    drift_top_k: int = Field(5, ge=0, description="Alert on drift in any of the top-k features.")
    drift_min_rows: int = Field(200, ge=10, description="Fewer rows: 'not enough data'.")
    drift_last: int = Field(5000, ge=1, description="Default live window: last N predictions.")

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, v: Path) -> Path:
        return v.expanduser().resolve()

    @property
    def tracking_uri(self) -> str:
        """The MLflow tracking URI in force."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{self.home / 'mlflow.db'}"

    @property
    def artifact_root(self) -> str:
        """Artifact location for experiments created against a local store."""
        return (self.home / "mlartifacts").as_uri()

    @property
    def zenml_dir(self) -> Path:
        return self.home / "zenml"

    @property
    def kernel_cache(self) -> Path:
        return self.kernel_cache_dir or self.home / "numba-cache"

    @property
    def journal_dir(self) -> Path:
        return self.home / "journal"

    @property
    def jobs_root(self) -> str:
        return self.jobs_dir or str(self.home / "jobs")

    @property
    def feature_repo_dir(self) -> Path:
        return (self.feature_repo or self.home / "features").expanduser().resolve()

    @property
    def prediction_db(self) -> str:
        if self.prediction_db_url:
            return self.prediction_db_url
        return f"sqlite:///{self.home / 'predictions.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, cached; call ``get_settings.cache_clear()`` to re-read."""
    return Settings()


def configuration_markdown() -> str:
    """docs/configuration.md: every setting, its variable, default and meaning (generated)."""
    lines = [
        "# Configuration",
        "",
        "Every knob is one field of `Settings` (`src/prices_predictor/core/settings.py`), set by",
        "an environment variable or a `.env` file. This page is generated from it",
        "(`make docs`); a test fails when they differ.",
        "",
        "Precedence for what a data spec also says (target, outlier limit, location, gates): a",
        "variable set explicitly in the environment wins over the spec, the spec over the",
        "built-in default, so those default to unset here.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        env = " / ".join(f"`{c}`" for c in choices) if choices else f"`PP_{name.upper()}`"
        default = field.default
        shown = "unset" if default is None else str(default)
        text = (field.description or "").replace("|", "\\|")
        lines.append(f"| {env} | `{shown}` | {text} |")
    return "\n".join(lines) + "\n"
