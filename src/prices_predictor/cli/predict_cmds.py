"""``predict``: price a file of houses with the served model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from prices_predictor.cli.output import console, err_console
from prices_predictor.cli.runtime import command_model, settings, user_errors


def register(app: typer.Typer) -> None:
    app.command()(predict)


def predict(
    data: Annotated[
        str,
        typer.Option(help="CSV, Parquet or ZIP (one CSV) of houses; original or snake_case names."),
    ],
    out: Annotated[
        Path, typer.Option(help="Where to write the prices: .csv or .parquet (replaced whole).")
    ],
    keep: Annotated[
        list[str] | None,
        typer.Option(
            help="Input column to copy to the output (repeatable; default: Order, PID if present)."
        ),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option(help="Registered version to use instead of the served model."),
    ] = None,
) -> None:
    """Price every house in a file with the served model (PP_MODEL_URI bundle or the
    PP_SERVE_ALIAS version) or --version N: price, price_low, price_high (80% range) per row."""
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.batch.score import check_output, score_file

    s = settings()
    with user_errors():
        check_output(out)  # before loading a model
    model, label = command_model(s, version)
    with user_errors():
        res = score_file(model, data, out, keep or None)
    for text in res.warnings():
        err_console.print(f"warning: {text}", highlight=False, soft_wrap=True)
    if res.ignored:
        err_console.print(
            f"ignored columns: {', '.join(res.ignored)}", highlight=False, soft_wrap=True
        )
    sec = res.seconds
    console.print(
        f"[bold]{label}[/]: priced {res.rows:,} rows -> {out} "
        f"(read {sec['read']:.2f} s, kernel {sec['prepare']:.2f} s, score {sec['score']:.2f} s = "
        f"{res.rows / max(sec['score'], 1e-9):,.0f} rows/s, write {sec['write']:.2f} s)",
        highlight=False,
        soft_wrap=True,
    )
