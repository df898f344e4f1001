"""``predict``: price a file of houses with the served model (here, or on Spark)."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from prices_predictor.cli.output import console, err_console, fail
from prices_predictor.cli.progress import shown
from prices_predictor.cli.runtime import (
    command_loaded,
    command_model,
    model_label,
    settings,
    user_errors,
)
from prices_predictor.core import progress

if TYPE_CHECKING:
    from prices_predictor.batch.score import BatchResult


class Engine(StrEnum):
    local = "local"
    spark = "spark"


def register(app: typer.Typer) -> None:
    app.command()(predict)


def predict(
    data: Annotated[
        str,
        typer.Option(
            help="CSV, Parquet, ZIP (one CSV) or Excel workbook (largest sheet) of houses; "
            "original or snake_case names. "
            "Spark: a Parquet file or dataset, or a CSV, at any Hadoop file system URL."
        ),
    ],
    out: Annotated[
        str,
        typer.Option(
            help="Where to write the prices: .csv (or .csv.gz), .parquet or .xlsx (replaced "
            "whole). Spark: a Parquet dataset directory or URL (replaced)."
        ),
    ],
    keep: Annotated[
        list[str] | None,
        typer.Option(
            help="Input column to copy to the output (repeatable; default: Order, PID if "
            "present; Spark adds a row index when there is none)."
        ),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option(help="Registered version to use instead of the served model."),
    ] = None,
    engine: Annotated[
        Engine, typer.Option(help="local: this process; spark: a Spark cluster (--master).")
    ] = Engine.local,
    master: Annotated[
        str,
        typer.Option(help="Spark master: local[*], spark://HOST:7077, k8s://... (--engine spark)."),
    ] = "local[*]",
    quiet: Annotated[bool, typer.Option(help="No progress on stderr.")] = False,
) -> None:
    """Price every house in a file with the served model (PP_MODEL_URI bundle or the
    PP_SERVE_ALIAS version) or --version N: price, price_low, price_high (80% range) per row."""
    if engine is Engine.spark:
        _predict_spark(data, out, keep, version, master)
        return
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.batch.score import check_output, score_file

    s = settings()
    target = Path(out)
    with user_errors():
        check_output(target)  # before loading a model
    with shown("predict", quiet):
        with progress.stage("load the model"):
            model, label = command_model(s, version)
        with user_errors(), progress.stage("read, check and price"):
            res = score_file(model, data, target, keep or None, progress=_rows)
    _findings(res)
    sec = res.seconds
    console.print(
        f"[bold]{label}[/]: priced {res.rows:,} rows -> {out} "
        f"(read {sec['read']:.2f} s, kernel {sec['prepare']:.2f} s, score {sec['score']:.2f} s = "
        f"{res.rows / max(sec['score'], 1e-9):,.0f} rows/s, write {sec['write']:.2f} s)",
        highlight=False,
        soft_wrap=True,
    )


def _rows(done: int, total: int) -> None:
    progress.current().advanced("rows priced", done, total)


def _findings(res: BatchResult) -> None:
    for text in res.warnings():
        err_console.print(f"warning: {text}", highlight=False, soft_wrap=True)
    if res.ignored:
        err_console.print(
            f"ignored columns: {', '.join(res.ignored)}", highlight=False, soft_wrap=True
        )


def _predict_spark(
    data: str, out: str, keep: list[str] | None, version: str | None, master: str
) -> None:
    # lazy: pyspark (an optional extra) only for the Spark engine
    from prices_predictor.spark import executor
    from prices_predictor.spark.score import score_table
    from prices_predictor.spark.session import get_session, require_pyspark

    s = settings()
    with user_errors():
        require_pyspark()
    if out == data:
        raise fail(f"{out}: is the input; write the prices elsewhere")
    loaded = command_loaded(s, version)
    if loaded.directory is None:  # pragma: no cover - every loader sets it
        raise fail(f"{model_label(loaded)}: no model directory to ship to Spark")
    t0 = time.perf_counter()
    with user_errors():
        spark = get_session(master, s.home / "spark-tmp", s.kernel_cache)
        started = time.perf_counter() - t0
        name = executor.ship(spark, loaded.directory)
        res = score_table(spark, name, loaded.model.spec, data, out, keep or None)
    _findings(res.batch)
    sec = res.seconds
    console.print(
        f"[bold]{model_label(loaded)}[/] on Spark {master}: priced {res.rows:,} rows -> {out} "
        f"(session {started:.2f} s, read + check + score {sec['check_and_score']:.2f} s = "
        f"{res.rows / max(sec['check_and_score'], 1e-9):,.0f} rows/s, write {sec['write']:.2f} s;"
        f" kept {', '.join(res.kept)})",
        highlight=False,
        soft_wrap=True,
    )
