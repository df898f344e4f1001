"""``features apply | materialize | get``: the Feast feature store of the houses."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from prices_predictor.cli.output import console, fail, rows_table
from prices_predictor.cli.progress import shown
from prices_predictor.cli.runtime import settings, user_errors
from prices_predictor.core import progress
from prices_predictor.core.errors import UserError
from prices_predictor.core.settings import Settings

app = typer.Typer(
    help="Feature store (Feast): house attributes by id, for serving and training.",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="features")


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """Project errors and any failure of the store itself: one line, exit 2."""
    with user_errors():
        try:
            yield
        except (UserError, typer.Exit):
            raise
        except Exception as exc:  # the store's own errors (sqlite, redis, psycopg, feast)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise fail(f"feature store: {type(exc).__name__}: {first}") from None


@app.command()
def apply(
    data: Annotated[
        str | None, typer.Option(help="'ames' (bundled) or a CSV/Parquet/ZIP/Excel path.")
    ] = None,
    spec: Annotated[
        str | None,
        typer.Option(help="Data spec: a YAML file or 'infer' (default: as 'train' chooses)."),
    ] = None,
    target: Annotated[str | None, typer.Option(help="The sale price column.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress on stderr.")] = False,
) -> None:
    """Write the houses' attributes as the offline source and apply the feature views."""
    s = settings()
    # lazy: the CLI starts (and answers --help) without the data and Feast stacks
    from prices_predictor.data.ingest import source_for
    from prices_predictor.data.sales import sales
    from prices_predictor.spec.choose import apply_settings

    with shown("features apply", quiet):
        with user_errors(), progress.stage("read the data"):
            src = source_for(data or s.data)
            raw = src.read()
            # the spec training would choose; the store keeps unsold houses' attributes too
            found = sales(raw, spec or s.spec, target or s.target, src.name, s.test_size, s.seed)
            data_spec = apply_settings(found.chosen.spec, s)
        apply_spec(s, data_spec, raw)


def apply_spec(s: Settings, spec: Any, raw: Any) -> None:
    """Apply the views of ``spec`` over ``raw`` and say what the store now holds."""
    # lazy: Feast takes seconds to import
    from prices_predictor.featurestore.repo import apply as apply_repo

    t0 = time.perf_counter()
    with store_errors(), progress.stage("write the source, apply the feature views"):
        manifest = apply_repo(s, spec, raw)
    console.print(
        f"applied: {len(manifest.fields)} features of spec '{manifest.spec_name}' in "
        f"{len(manifest.view_names())} views ({', '.join(manifest.view_names())}), "
        f"{manifest.rows:,} sales from {manifest.first_ts[:10]} to {manifest.last_ts[:10]}, "
        f"entity key {manifest.join_key} ({time.perf_counter() - t0:.1f} s); repository "
        f"{s.feature_repo_dir}",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def materialize(
    quiet: Annotated[bool, typer.Option(help="No progress on stderr.")] = False,
) -> None:
    """Load every house's latest attributes into the online store."""
    with shown("features materialize", quiet):
        materialize_now(settings())


def materialize_now(s: Settings) -> None:
    # lazy: Feast takes seconds to import
    from prices_predictor.featurestore.repo import materialize as run

    with store_errors(), progress.stage("materialize into the online store"):
        manifest, seconds = run(s)
    console.print(
        f"materialized {manifest.rows:,} sales ({len(manifest.fields)} features) into the "
        f"online store in {seconds:.1f} s",
        highlight=False,
    )


@app.command()
def get(
    id: Annotated[str, typer.Option("--id", help="The house's id (the spec's id column).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one house's features as the online store has them."""
    s = settings()
    # lazy: Feast takes seconds to import
    from prices_predictor.featurestore.online import OnlineFeatures, StoreUnavailable

    online = OnlineFeatures(s)
    with store_errors():
        manifest = online.manifest
        key: Any = id
        if manifest.id_dtype == "int64":
            try:
                key = int(id)
            except ValueError:
                raise fail(f"--id: {manifest.id_column} is a whole number, got '{id}'") from None
        try:
            (found,) = online.lookup([key], [f.column for f in manifest.fields])
        except StoreUnavailable as exc:
            raise fail(str(exc)) from None
    if not found.known:
        raise fail(f"no house with {manifest.id_column}={id} in the feature store")
    fields = manifest.by_column()
    if as_json:
        out = {fields[c].name: v for c, v in found.values.items()}
        typer.echo(json.dumps({manifest.join_key: key, **out}, default=str))
        return
    console.print(
        rows_table(
            f"{manifest.id_column}={id}: {len(found.values)} features",
            ["feature", "column", "view", "value"],
            [
                [f.name, f.column, f"house_{f.group}", found.values.get(f.column, "(null)")]
                for f in manifest.fields
            ],
        )
    )
