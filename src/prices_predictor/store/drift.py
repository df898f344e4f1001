"""Drift results with a timestamp, in the prediction database, so the history can be listed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from prices_predictor.store.predictions import metadata

drift_checks = sa.Table(
    "drift_checks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.DateTime(timezone=True), index=True, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("alert", sa.Boolean, nullable=False),
    sa.Column("share", sa.Float, nullable=False),
    sa.Column("n_current", sa.Integer, nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
)


def save(engine: sa.Engine, result: dict[str, Any]) -> None:
    """Store one drift result (``DriftResult.as_dict()``)."""
    metadata.create_all(engine, tables=[drift_checks])
    with engine.begin() as conn:
        conn.execute(
            drift_checks.insert().values(
                ts=dt.datetime.now(dt.UTC),
                kind=result["kind"],
                status=result["status"],
                alert=result["alert"],
                share=result["share"],
                n_current=result["n_current"],
                result=result,
            )
        )


def history(engine: sa.Engine, limit: int = 50) -> list[dict[str, Any]]:
    metadata.create_all(engine, tables=[drift_checks])
    q = sa.select(drift_checks).order_by(drift_checks.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
