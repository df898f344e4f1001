"""``spec check | infer | schema | show``: write, check and read data specs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from prices_predictor.cli.output import console, err_console, rows_table
from prices_predictor.cli.progress import shown
from prices_predictor.cli.runtime import command_model, settings, user_errors
from prices_predictor.core import progress

app = typer.Typer(help="Data specs: what a sales file's columns mean.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="spec")


def warn_leaks(spec: Any, df: Any) -> None:
    """A warning per feature the data shows is computed from the price: a model leans on it,
    and it is unknown when a house is to be priced."""
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.spec.leaks import leaks_in

    for col, why in leaks_in(spec, df).items():
        err_console.print(
            f"[yellow]warning[/] feature '{col}' is {why}: a model would lean on it, and it "
            "is unknown before a house sells (leave it out of the spec)",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="The spec (YAML).")],
    data: Annotated[
        str | None, typer.Option(help="Also check that this data has the spec's columns.")
    ] = None,
) -> None:
    """Validate a spec file: one line naming the entry and the problem, exit 2, when bad."""
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.spec.choose import check_columns
    from prices_predictor.spec.io import load_spec

    with user_errors():
        spec = load_spec(file)
        if data is not None:
            # lazy: the CLI starts (and answers --help) without the training and serving stacks
            from prices_predictor.data.ingest import source_for

            src = source_for(data)
            df = src.read()
            check_columns(spec, df, str(file), src.name)
            warn_leaks(spec, df)
    console.print(
        f"{file}: ok ({len(spec.features)} features, {len(spec.engineered)} engineered, "
        f"target {spec.target.column})",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def infer(
    data: Annotated[str, typer.Option(help="A CSV/Parquet/ZIP/Excel file of sales.")],
    target: Annotated[str | None, typer.Option(help="The sale price column.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the YAML here (default: stdout).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress on stderr.")] = False,
) -> None:
    """Propose a spec for a sales file: YAML, and a table of decisions on stderr. Decisions
    that read prices read the protocol training part's only, as `train` does."""
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.data.ingest import source_for
    from prices_predictor.data.sales import sales

    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.spec.choose import INFER
    from prices_predictor.spec.io import dump_yaml

    with user_errors(), shown("spec infer", quiet):
        src = source_for(data)
        with progress.stage(f"read {src.name}"):
            raw = src.read()
        with progress.stage(f"infer from {len(raw):,} rows x {len(raw.columns)} columns"):
            s = settings()
            found = sales(raw, INFER, target, src.name, s.test_size, s.seed)
        name = Path(src.name).stem or found.chosen.spec.name
        spec = found.chosen.spec.model_copy(update={"name": name})
    if found.unpriced:
        err_console.print(found.note(src.name), highlight=False, soft_wrap=True)
    err_console.print(
        rows_table(
            f"spec for {src.name}",
            ["column", "decision", "why"],
            [[d.column, d.role, d.why] for d in found.chosen.decisions],
        )
    )
    text = dump_yaml(spec)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        err_console.print(f"written to {out}", highlight=False)


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(help="Write it here (default: stdout).")] = None,
) -> None:
    """The JSON Schema of spec files (for editors and CI)."""
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.spec.io import json_schema_text

    text = json_schema_text()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@app.command()
def show(
    version: Annotated[
        str | None, typer.Option(help="A registered version (default: the served model).")
    ] = None,
) -> None:
    """The spec of the served model (or of --version N), as YAML."""
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.spec.io import dump_yaml

    s = settings()
    model, _ = command_model(s, version)
    typer.echo(dump_yaml(model.spec), nl=False)
