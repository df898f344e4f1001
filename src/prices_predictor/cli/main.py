"""Entry point: ``prices-predictor --help``."""

from __future__ import annotations

import typer

from prices_predictor.cli import (
    ab_cmds,
    explain_cmds,
    features_cmds,
    jobs_cmds,
    monitor_cmds,
    predict_cmds,
    registry_cmds,
    serve_cmds,
    spec_cmds,
    train_cmds,
)
from prices_predictor.core.extras import missing_extra

app = typer.Typer(
    help="Housing price prediction: train, gate, serve, explain and monitor.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
train_cmds.register(app)
registry_cmds.register(app)
serve_cmds.register(app)
predict_cmds.register(app)
jobs_cmds.register(app)
explain_cmds.register(app)
monitor_cmds.register(app)
ab_cmds.register(app)
spec_cmds.register(app)
features_cmds.register(app)


def main() -> None:
    """Console entry: a command whose extra is not installed says which one (no traceback)."""
    try:
        app()
    except ImportError as exc:
        missing = missing_extra(exc, "this command")
        if missing is None:
            raise
        typer.echo(f"error: {missing}", err=True)
        raise SystemExit(2) from None
