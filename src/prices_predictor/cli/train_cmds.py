"""``train`` and ``evaluate``."""

from __future__ import annotations

from typing import Annotated

import typer

from prices_predictor.cli.output import console, metrics_table
from prices_predictor.cli.runtime import prepare, settings, user_errors

METRIC_ORDER = (
    "rmse",
    "mse",
    "r2",
    "mae_dollars",
    "median_ape",
    "interval_coverage",
    "cv_rmse_mean",
    "cv_rmse_std",
)


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(evaluate)


def train(
    data: Annotated[
        str | None, typer.Option(help="'ames' (bundled) or a CSV/Parquet/ZIP path.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="Strategy: linear, random_forest, xgboost, lightgbm, catboost, blend."),
    ] = None,
    tune: Annotated[
        bool, typer.Option(help="Optuna search with K-fold CV on the training part.")
    ] = False,
    deploy: Annotated[
        bool, typer.Option(help="Run the gated deployment after registering.")
    ] = True,
) -> None:
    """Train on the data, register a new model version, then gate and promote it."""
    s = settings()
    data = data or s.data
    model = model or s.model
    from prices_predictor.data.ingest import load, source_for
    from prices_predictor.data.validate import require_valid, validate
    from prices_predictor.models.registry import get_strategy

    with user_errors():
        get_strategy(model)
        src = source_for(data)
        console.print(f"[bold]data[/] {src.name}: reading and validating ...")
        raw = load(data, s.target)
        report = validate(raw, s.target, src.name)
        require_valid(report, src.name)
        fingerprint = src.fingerprint()
    if report.soft:
        console.print(report.table(report.soft), highlight=False)
    console.print(
        f"{len(raw):,} rows, fingerprint {fingerprint}; training '{model}'"
        f"{' with tuning' if tune else ''} ..."
    )
    prepare(s, zenml=True)
    from prices_predictor.pipelines.runner import run_training

    with user_errors():
        version, metrics = run_training(s, data, fingerprint, model, tune)
    console.print(
        metrics_table(
            f"{s.model_name} v{version}: holdout metrics (log price)",
            {k: metrics[k] for k in METRIC_ORDER if k in metrics},
        )
    )
    console.print(f"registered [bold]{s.model_name}[/] version [bold]{version}[/]")
    if deploy:
        from prices_predictor.cli.registry_cmds import run_deploy

        run_deploy(s, version)


def evaluate(
    version: Annotated[str, typer.Option(help="Registered version to re-score.")],
    data: Annotated[str | None, typer.Option(help="Data the protocol holdout is cut from.")] = None,
) -> None:
    """Re-score a registered version on the protocol holdout."""
    s = settings()
    prepare(s)
    from prices_predictor.deploy.scoring import score_version

    with user_errors():
        metrics = score_version(s, version, data)
    console.print(metrics_table(f"{s.model_name} v{version} on the protocol holdout", metrics))
