"""``explain``: why this price, as a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from prices_predictor.cli.output import console, fail, rows_table
from prices_predictor.cli.runtime import command_model, settings


def register(app: typer.Typer) -> None:
    app.command()(explain)


def explain(
    data: Annotated[
        Path, typer.Option(help="JSON file with one house (snake_case or original names).")
    ],
    top: Annotated[int, typer.Option(help="Features to list before 'all other features'.")] = 10,
) -> None:
    """Price one house with the served model (PP_MODEL_URI bundle or the PP_SERVE_ALIAS version)."""
    s = settings()
    try:
        raw = json.loads(data.read_text())
    except OSError as exc:
        raise fail(f"{data}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise fail(f"{data}: invalid JSON: {exc.msg} (line {exc.lineno})") from None
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from pydantic import ValidationError

    # lazy: scikit-learn, SHAP: off a server's start (the preload thread imports them)
    from prices_predictor.models.explain import explain as explain_rows
    from prices_predictor.models.explain import top_contributions

    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.spec.requests import request_schema

    model, label = command_model(s)
    schema = request_schema(model.spec)
    try:
        row = schema.to_row(schema.record(raw))
    except ValidationError as exc:
        e = exc.errors()[0]
        field = ".".join(str(p) for p in e["loc"]) or "body"
        raise fail(f"{data}: field '{field}': {e['msg']} ({e['type']})") from None
    exp = explain_rows(model, [row])
    base, phi = float(exp.base[0]), exp.values[0]
    pred = base + float(phi.sum())
    low, high = model.price_range(np.array([pred]))
    prices = model.to_price(np.array([pred, base]))
    items = top_contributions(exp.sources, phi, (base, pred), prices, row, top)
    console.print(
        f"[bold]{label}[/]: price ${prices[0]:,.0f} "
        f"(80% range ${low[0]:,.0f} – ${high[0]:,.0f}); "
        f"base (average house) ${prices[1]:,.0f}"
    )
    console.print(
        rows_table(
            "why this price",
            ["feature", "value", "log effect", "% effect", "$ effect"],
            [
                [
                    c["feature"],
                    "" if c["value"] is None else c["value"],
                    c["log_effect"],
                    f"{c['pct_effect']:+.2f}%",
                    f"{c['dollar_effect']:+,.0f}",
                ]
                for c in items
            ],
        )
    )
