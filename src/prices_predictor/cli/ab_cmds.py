"""``ab start | stop | promote | report``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from prices_predictor.cli.output import console, fail, rows_table
from prices_predictor.cli.runtime import prepare, settings, user_errors

ab_app = typer.Typer(help="A/B experiments between champion and challenger.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(ab_app, name="ab")


@ab_app.command()
def start(
    challenger: Annotated[str, typer.Option(help="Registered version to test.")],
    weight: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Challenger traffic share.")
    ] = 0.5,
    shadow: Annotated[
        bool, typer.Option(help="Also score every champion request with it.")
    ] = False,
) -> None:
    """Make VERSION the challenger and route WEIGHT of clients to it (sticky per client)."""
    s = settings()
    prepare(s)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.ab import control
    from prices_predictor.ab.assign import Experiment

    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.release.aliases import CHAMPION, make_challenger
    from prices_predictor.tracking.registry import alias_version, version_info, version_spec

    with user_errors():
        version_info(s.model_name, challenger)
        champion = alias_version(s.model_name, CHAMPION)
        if champion is not None and champion != challenger:
            differences = schema_differences(
                version_spec(s.model_name, champion), version_spec(s.model_name, challenger)
            )
            if differences:
                raise fail(
                    f"challenger v{challenger} does not take the champion v{champion}'s "
                    f"requests: {'; '.join(differences)}"
                )
        make_challenger(s, challenger)
        exp = Experiment(control.new_id(), weight, shadow)
        control.write(s, exp)
    console.print(
        f"experiment {exp.id}: challenger v{challenger} gets {weight:.0%} of clients"
        f"{' (+ shadow)' if shadow else ''}; running APIs pick it up on reload"
    )


@ab_app.command()
def stop() -> None:
    """End the experiment: all traffic to the champion."""
    s = settings()
    prepare(s)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.ab import control
    from prices_predictor.ab.assign import Experiment

    with user_errors():
        old = control.read(s)
        control.write(s, Experiment(old.id if old else "", 0.0, False))
    console.print("experiment stopped: all traffic to the champion")


@ab_app.command()
def promote() -> None:
    """Promote the challenger to champion (recorded) and stop the experiment."""
    s = settings()
    prepare(s)
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.ab import control
    from prices_predictor.ab.assign import Experiment

    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.release import aliases
    from prices_predictor.tracking.registry import alias_version

    with user_errors():
        v = alias_version(s.model_name, aliases.CHALLENGER)
        if v is None:
            raise typer.BadParameter("there is no challenger to promote")
        old = control.read(s)
        aliases.promote(s, v, reason=f"A/B experiment {old.id if old else ''}: promoted")
        control.write(s, Experiment(old.id if old else "", 0.0, False))
    console.print(f"challenger v{v} is now champion")


@ab_app.command()
def report(
    event: Annotated[str | None, typer.Option(help="Business event to count.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Per-variant outcomes, the test, and the verdict."""
    s = settings()
    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.ab.report import analyse
    from prices_predictor.store.feedback import variant_rows

    # lazy: the CLI starts (and answers --help) without the training and serving stacks
    from prices_predictor.store.predictions import make_engine

    rep = analyse(variant_rows(make_engine(s.prediction_db), event or s.ab_event))
    if as_json:
        typer.echo(json.dumps(rep.as_dict(), indent=2))
        return
    console.print(
        rows_table(
            "A/B report",
            [
                "variant",
                "requests",
                "outcomes",
                "conv. rate",
                "95% CI",
                "MAE $",
                "MAPE",
                "latency ms",
            ],
            [
                [
                    v.variant,
                    v.requests,
                    v.with_outcome,
                    v.conversion_rate,
                    f"{v.ci95[0]:.3f}-{v.ci95[1]:.3f}",
                    "-" if v.mae is None else f"{v.mae:,.0f}",
                    "-" if v.mape is None else f"{v.mape:.3f}",
                    "-" if v.latency_ms_mean is None else f"{v.latency_ms_mean:.2f}",
                ]
                for v in rep.variants.values()
            ],
        )
    )
    console.print(f"verdict: [bold]{rep.verdict}[/]")
    for r in rep.reasons:
        console.print(f"  - {r}", highlight=False)


def schema_differences(champion: Any, challenger: Any) -> list[str]:
    """How two specs' request fields differ (empty: the same requests fit both)."""
    a, b = champion.input_signature(), challenger.input_signature()
    out = []
    if missing := sorted(set(a) - set(b)):
        out.append(f"fields it lacks: {', '.join(missing[:8])}")
    if extra := sorted(set(b) - set(a)):
        out.append(f"fields it adds: {', '.join(extra[:8])}")
    if changed := sorted(k for k in set(a) & set(b) if a[k] != b[k]):
        out.append(
            "fields of another kind: " + ", ".join(f"{k} ({a[k]} -> {b[k]})" for k in changed[:8])
        )
    return out
