"""``deploy``, ``promote``, ``rollback``, ``models``, ``export``."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from prices_predictor.cli.output import console, rows_table
from prices_predictor.cli.runtime import prepare, settings, user_errors
from prices_predictor.core.settings import Settings

EXIT_NOT_PROMOTED = 3


def register(app: typer.Typer) -> None:
    app.command()(deploy)
    app.command()(promote)
    app.command()(rollback)
    app.command()(models)
    app.command()(export)


def run_deploy(s: Settings, version: str) -> None:
    """Run the deployment pipeline, print the decision; exit 3 when not promoted."""
    prepare(s, zenml=True)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.pipelines.runner import run_deployment

    console.print(f"gating version {version} ...")
    with user_errors():
        d = run_deployment(s, version)
    console.print(
        rows_table(
            f"deployment gate: {s.model_name} v{version} -> {d['verdict'].upper()}",
            ["check", "candidate", "bound / champion", "pass"],
            gate_rows(d),
        )
    )
    for r in d["reasons"]:
        console.print(f"  - {r}", highlight=False)
    if d["verdict"] != "promoted":
        raise typer.Exit(EXIT_NOT_PROMOTED)


def gate_rows(d: dict[str, Any]) -> list[list[Any]]:
    """The gate decision as table rows: each limit that applied, then the comparison."""
    rmse, rows = d["candidate_rmse"], []
    base, gain = d.get("baseline_rmse"), d.get("min_baseline_gain")
    if base is not None and gain is not None:
        limit = base * (1 - gain)
        rows.append([f"RMSE <= baseline x {1 - gain:.2f}", rmse, limit, rmse <= limit])
    if d["max_rmse"] is not None:
        rows.append(["RMSE <= max", rmse, d["max_rmse"], rmse <= d["max_rmse"]])
    if d["min_r2"] is not None:
        r2 = d["candidate_r2"]
        rows.append(["R2 >= min", r2, d["min_r2"], r2 >= d["min_r2"]])
    champ = d["champion_version"]
    rows.append(
        [
            f"beats champion v{champ}" if champ else "beats champion (none)",
            rmse,
            "-" if d["champion_rmse"] is None else d["champion_rmse"],
            d["verdict"] == "promoted",
        ]
    )
    return rows


def deploy(
    version: Annotated[
        str | None, typer.Option(help="Candidate version (default: latest).")
    ] = None,
) -> None:
    """Gate a registered version against the champion and move aliases (exit 3: not promoted)."""
    s = settings()
    prepare(s)
    if version is None:
        # lazy: the CLI starts (and answers --help) without the training and serving stacks
        from prices_predictor.tracking.registry import latest_version

        with user_errors():
            version = latest_version(s.model_name)
    run_deploy(s, version)


def promote(
    version: Annotated[str, typer.Option(help="Version to make champion.")],
    force: Annotated[
        bool, typer.Option(help="Skip the gates (recorded with who and why).")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "",
) -> None:
    """Promote a version: through the gates, or directly with --force."""
    s = settings()
    if not force:
        run_deploy(s, version)
        return
    prepare(s)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.release import aliases

    who = getpass.getuser()
    with user_errors():
        old = aliases.promote(
            s, version, reason=f"forced: {reason or 'no reason given'}", forced_by=who
        )
    console.print(f"version {version} is champion (forced by {who}); previous: {old or 'none'}")


def rollback() -> None:
    """champion := previous champion (recorded); repeatable."""
    s = settings()
    prepare(s)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.release import aliases

    with user_errors():
        was, now = aliases.rollback(s)
    console.print(f"rolled back: champion {was} -> {now}")


def models(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List registered versions with metrics, aliases and gate verdicts."""
    s = settings()
    prepare(s)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.tracking.registry import list_versions

    with user_errors():
        rows = list_versions(s.model_name)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    console.print(
        rows_table(
            f"{s.model_name}: registered versions",
            ["version", "aliases", "strategy", "rmse", "r2", "verdict", "trained at"],
            [
                [
                    r["version"],
                    ",".join(r["aliases"]),
                    r["strategy"],
                    _num(r["metrics"].get("rmse")),
                    _num(r["metrics"].get("r2")),
                    r["verdict"],
                    r["trained_at"],
                ]
                for r in rows
            ],
        )
    )


def export(
    out: Annotated[Path, typer.Option(help="Directory to write the bundle into.")],
    alias: Annotated[str, typer.Option(help="Alias to export.")] = "champion",
    version: Annotated[str | None, typer.Option(help="Export this version instead.")] = None,
) -> None:
    """Write a self-contained bundle: serve it with PP_MODEL_URI=DIR, no registry needed."""
    s = settings()
    prepare(s)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.tracking.bundle import export_bundle

    with user_errors():
        meta = export_bundle(s, out, alias=alias, version=version)
    console.print(f"bundle of {meta['name']} v{meta['version']} written to {out}")


def _num(v: Any) -> Any:
    return "-" if v is None else float(v)
