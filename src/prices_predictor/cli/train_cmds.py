"""``train`` and ``evaluate``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from prices_predictor.cli.output import console, fail, metrics_table, rows_table
from prices_predictor.cli.progress import shown
from prices_predictor.cli.runtime import prepare, settings, user_errors
from prices_predictor.cli.spec_cmds import warn_leaks
from prices_predictor.core import progress
from prices_predictor.core.settings import Settings
from prices_predictor.spec.model import DataSpec

METRIC_ORDER = (
    "rmse",
    "baseline_rmse",
    "baseline_gain",
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
        str | None,
        typer.Option(
            help="'ames' (bundled) or a CSV (also .tsv, .txt, .csv.gz), Parquet, ZIP or Excel path."
        ),
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
    target: Annotated[
        str | None, typer.Option(help="The sale price column (default: the spec's).")
    ] = None,
    spec: Annotated[
        str | None,
        typer.Option(
            help="Data spec: a YAML file, or 'infer' (default: the Ames preset for Ames "
            "columns, else inferred from the data)."
        ),
    ] = None,
    features: Annotated[
        str,
        typer.Option(
            help="'file': the attributes as the data file has them; 'feast': each sale's "
            "attributes from the feature store as of its sale date (labels, ids and dates "
            "from the data file)."
        ),
    ] = "file",
    quiet: Annotated[bool, typer.Option(help="No progress on stderr.")] = False,
) -> None:
    """Train on the data, register a new model version, then gate and promote it."""
    s = settings()
    data = data or s.data
    model = model or s.model
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.data.ingest import source_for
    from prices_predictor.data.sales import sales
    from prices_predictor.data.validate import require_valid, validate

    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.models.strategies import default_params, get_strategy
    from prices_predictor.spec.choose import apply_settings

    with user_errors():
        get_strategy(model)
        src = source_for(data)
        console.print(f"[bold]data[/] {src.name}: reading and validating ...")
        found = sales(src.read(), spec or s.spec, target or s.target, src.name, s.test_size, s.seed)
        raw, chosen = found.rows, found.chosen
        if found.unpriced:
            console.print(f"[yellow]{found.note(src.name)}[/]", highlight=False, soft_wrap=True)
        data_spec = apply_settings(chosen.spec, s)
        default_params(s.params_file, data_spec)  # a bad PP_PARAMS_FILE stops here, not mid-run
        report = validate(raw, data_spec, source=src.name)
        require_valid(report, src.name)
        fingerprint = src.fingerprint()
    show_spec(s, chosen, data_spec)
    if chosen.how.startswith("file"):
        warn_leaks(data_spec, raw)
    if features == "feast":
        data, fingerprint = from_store(s, data_spec, raw)
    elif features != "file":
        raise fail(f"--features: 'file' or 'feast', got '{features}'")
    if report.soft:
        console.print(report.table(report.soft), highlight=False)
    console.print(
        f"{len(raw):,} rows, fingerprint {fingerprint}; training '{model}'"
        f"{' with tuning' if tune else ''} ..."
    )
    prepare(s, zenml=True)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.pipelines.runner import run_training

    with user_errors(), shown("train", quiet):
        version, metrics = run_training(s, data, fingerprint, data_spec, model, tune)
    if "tune_trials" in metrics:
        console.print(f"[bold]tuning[/] {tune_summary(metrics)}", highlight=False)
    console.print(
        metrics_table(
            f"{s.model_name} v{version}: holdout metrics (log price)",
            {k: metrics[k] for k in METRIC_ORDER if k in metrics},
        )
    )
    console.print(f"registered [bold]{s.model_name}[/] version [bold]{version}[/]")
    on_train = s.features_on_train
    if on_train if on_train is not None else s.feature_store == "feast":
        # lazy: Feast takes seconds to import
        from prices_predictor.cli.features_cmds import apply_spec, materialize_now

        with shown("train", quiet):
            apply_spec(s, data_spec, raw)
            materialize_now(s)
    if deploy:
        # lazy: the CLI starts (and answers --help) without the training and serving stacks
        from prices_predictor.cli.registry_cmds import run_deploy

        with shown("train", quiet), progress.stage("deployment gates"):
            run_deploy(s, version)


def tune_summary(metrics: dict[str, float]) -> str:
    default, best = metrics["tune_default_cv_rmse"], metrics["tune_best_cv_rmse"]
    trials = int(metrics["tune_trials"])
    if metrics.get("tune_kept_defaults"):
        return (
            f"no CV gain over the defaults in {trials} trials (best {best:.4f} vs "
            f"{default:.4f}): the defaults were kept"
        )
    return (
        f"CV RMSE(log) {best:.4f} vs {default:.4f} with the defaults "
        f"({metrics['tune_gain']:.1%} better, {trials} trials); the chosen values are on stderr "
        "and in the run's tuned_params.json"
    )


def from_store(s: Settings, spec: DataSpec, sales: Any) -> tuple[str, str]:
    """The training frame from the feature store, written as Parquet: (path, fingerprint)."""
    # lazy: Feast takes seconds to import
    from prices_predictor.cli.features_cmds import store_errors
    from prices_predictor.data.ingest import source_for
    from prices_predictor.featurestore.historical import training_frame

    console.print("[bold]features[/] point-in-time join with the feature store ...")
    with store_errors():
        tf = training_frame(s, spec, sales)
    out = s.feature_repo_dir / "training" / "frame.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    tf.frame.to_parquet(out, index=False)
    fingerprint = source_for(str(out)).fingerprint()
    path = out.with_name(f"{fingerprint}.parquet")
    out.replace(path)
    console.print(
        f"{len(tf.from_store)} columns from the store as of each sale"
        + (f"; {tf.unmatched:,} sales had no attributes there (imputed)" if tf.unmatched else "")
        + f"; frame {path}",
        highlight=False,
        soft_wrap=True,
    )
    return str(path), fingerprint


def show_spec(s: Settings, chosen: Any, spec: DataSpec) -> None:
    """Say which spec trains, its decisions when inferred, and where a copy was written."""
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.spec.io import dump_yaml

    if chosen.decisions:
        console.print(
            rows_table(
                "spec inferred from the data",
                ["column", "decision", "why"],
                [[d.column, d.role, d.why] for d in chosen.decisions],
            )
        )
    out = s.home / "specs" / f"{spec.name}-{spec.digest()}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_yaml(spec), encoding="utf-8")
    console.print(
        f"[bold]spec[/] {chosen.how}: {len(spec.features)} features, "
        f"{len(spec.engineered)} engineered, target {spec.target.column}; "
        f"written to {out} (edit it and train with --spec)",
        highlight=False,
        soft_wrap=True,
    )


def evaluate(
    version: Annotated[str, typer.Option(help="Registered version to re-score.")],
    data: Annotated[str | None, typer.Option(help="Data the protocol holdout is cut from.")] = None,
) -> None:
    """Re-score a registered version on the protocol holdout."""
    s = settings()
    prepare(s)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.release.scoring import score_version

    with user_errors():
        metrics = score_version(s, version, data)
    console.print(metrics_table(f"{s.model_name} v{version} on the protocol holdout", metrics))
