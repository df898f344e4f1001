"""``drift`` (live check and history) and ``monitor`` (check, then retrain on alert)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer

from prices_predictor.cli.output import console, fail, rows_table
from prices_predictor.cli.runtime import prepare, settings, user_errors
from prices_predictor.core.settings import Settings

EXIT_DRIFT_ALERT = 4


def register(app: typer.Typer) -> None:
    app.command()(drift)
    app.command()(monitor)


def run_live_check(s: Settings, last: int | None, since: dt.datetime | None) -> Any:
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    import pandas as pd

    # lazy: Evidently (~10 s) only when a drift check runs
    from prices_predictor.monitoring.live import live_check
    from prices_predictor.tracking.loading import served_model  # lazy: MLflow

    with user_errors():
        if not s.model_uri:
            prepare(s)
        m = served_model(s)
        if m.reference is None:
            raise fail(f"model v{m.version} has no training reference sample")
        return live_check(
            s,
            pd.read_parquet(m.reference),
            m.metadata.get("importance", []),
            m.model.spec,
            last=last,
            since=since,
        )


def print_result(r: Any) -> None:
    colour = {"ok": "green", "alert": "bold red", "insufficient_data": "yellow"}[r.status]
    console.print(
        f"[{colour}]{r.status.upper()}[/] {r.kind} drift: {r.n_current} rows vs "
        f"{r.n_reference} reference rows; {len(r.drifted)}/{len(r.columns)} columns "
        f"drifted (share {r.share:.2f})"
    )
    for reason in r.reasons:
        console.print(f"  - {reason}", highlight=False)
    if r.top_features:
        console.print(
            rows_table(
                "top features",
                ["feature", "score", "drifted"],
                [[f, r.scores.get(f, float("nan")), f in r.drifted] for f in r.top_features],
            )
        )
    if r.report_path:
        console.print(f"report: {r.report_path}")


def drift(
    last: Annotated[int | None, typer.Option(help="The last N logged predictions.")] = None,
    since: Annotated[dt.datetime | None, typer.Option(help="Predictions since this time.")] = None,
    history: Annotated[bool, typer.Option(help="List stored drift results instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Live drift of logged inputs vs the training reference (exit 4 on alert)."""
    s = settings()
    if history:
        # lazy: the CLI starts (and answers --help) without the training and serving stacks
        from prices_predictor.store.drift import history as load_history
        from prices_predictor.store.predictions import make_engine

        rows = load_history(make_engine(s.prediction_db))
        if as_json:
            typer.echo(json.dumps(rows, default=str, indent=2))
            return
        console.print(
            rows_table(
                "drift history",
                ["time", "kind", "status", "share", "rows", "drifted"],
                [
                    [
                        r["ts"],
                        r["kind"],
                        r["status"],
                        r["share"],
                        r["n_current"],
                        ", ".join(r["result"].get("drifted", [])[:6]),
                    ]
                    for r in rows
                ],
            )
        )
        return
    r = run_live_check(s, last, since)
    if as_json:
        typer.echo(json.dumps(r.as_dict(), indent=2))
    else:
        print_result(r)
    if r.alert:
        raise typer.Exit(EXIT_DRIFT_ALERT)


def monitor(
    retrain_data: Annotated[str | None, typer.Option(help="On alert, train on this data.")] = None,
    last: Annotated[int | None, typer.Option(help="The last N logged predictions.")] = None,
) -> None:
    """ZenML monitoring pipeline: live check; on alert with --retrain-data, train and gate."""
    s = settings()
    prepare(s, zenml=True)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.pipelines.runner import run_monitoring

    with user_errors():
        result = run_monitoring(s, last)
    console.print(f"monitoring: {result['status']} ({'; '.join(result['reasons']) or 'no drift'})")
    if not result["alert"]:
        return
    if retrain_data is None:
        raise typer.Exit(EXIT_DRIFT_ALERT)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.cli.train_cmds import train

    console.print(f"drift alert: retraining on {retrain_data}")
    train(data=retrain_data, model=None, tune=False, deploy=True)
