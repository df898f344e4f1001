"""Feedback on predictions (conversions, actual prices), idempotent per request and event."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from prices_predictor.store.predictions import metadata, predictions

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("value", sa.Boolean),
    sa.Column("actual_price", sa.Float),
    sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("request_id", "event", name="uq_feedback_request_event"),
)

SALE = "sale"


def request_exists(engine: sa.Engine, request_id: str) -> bool:
    q = sa.select(predictions.c.id).where(predictions.c.request_id == request_id).limit(1)
    with engine.connect() as conn:
        return conn.execute(q).first() is not None


def record(
    engine: sa.Engine, request_id: str, event: str, value: bool | None, actual_price: float | None
) -> bool:
    """Store one outcome; False when the same (request, event) was already stored."""
    metadata.create_all(engine, tables=[feedback])
    row = {
        "request_id": request_id,
        "event": event,
        "value": value,
        "actual_price": actual_price,
        "ts": dt.datetime.now(dt.UTC),
    }
    try:
        with engine.begin() as conn:
            conn.execute(feedback.insert().values(**row))
        return True
    except sa.exc.IntegrityError:
        return False


def variant_rows(
    engine: sa.Engine, event: str, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """One row per served (non-shadow) request: variant, latency, conversion, actual vs price."""
    metadata.create_all(engine, tables=[feedback])
    p = predictions
    conv = feedback.alias("conv")
    sale = feedback.alias("sale")
    q = (
        sa.select(
            p.c.request_id,
            p.c.variant,
            p.c.model_version,
            p.c.latency_ms,
            p.c.price,
            conv.c.value.label("converted"),
            sale.c.actual_price,
        )
        .select_from(
            p.outerjoin(
                conv, sa.and_(conv.c.request_id == p.c.request_id, conv.c.event == event)
            ).outerjoin(sale, sa.and_(sale.c.request_id == p.c.request_id, sale.c.event == SALE))
        )
        .where(p.c.shadow.is_(False), p.c.row == 0)
    )
    if since is not None:
        q = q.where(p.c.ts >= since)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]
