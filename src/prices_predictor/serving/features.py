"""Houses completed from the feature store (``PP_FEATURE_STORE=feast``).

A house that carries its id is looked up; the store's values fill the fields the request did
not send (a field in the request always wins), and the request model validates the result
like any request. Where each input came from is reported: ``store``, ``request`` (and, from
the scorer, ``imputed``). Rules:

- id alone and unknown to the store: 404 naming the id;
- id with other fields and unknown: priced from the fields, with a warning naming the id;
- store unreachable: 503 with the reason, unless the house already carries every key feature
  of the spec (then it is priced from what it carries, with a warning saying so);
- no id: the store is never asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from prices_predictor.featurestore.online import Found, OnlineFeatures, StoreUnavailable
from prices_predictor.tracking.loading import LoadedModel


class UnknownHouse(Exception):
    """Ids the store does not know, sent with nothing else (404)."""

    def __init__(self, items: list[dict[str, str]]) -> None:
        super().__init__(items[0]["message"])
        self.items = items


@dataclass
class Filled:
    rows: list[dict[str, Any]]
    sources: list[dict[str, list[str]]] = field(default_factory=list)
    warnings: list[list[str]] = field(default_factory=list)


def fill(
    online: OnlineFeatures, m: LoadedModel, houses: list[BaseModel], prefix: str = ""
) -> Filled:
    """Rows to score for ``houses`` (validated requests), completed from the store."""
    spec = m.model.spec
    names = m.schema.api_names
    rows = [m.schema.to_row(h) for h in houses]
    out = Filled(rows, [{"store": [], "request": [names[c] for c in r]} for r in rows])
    out.warnings = [[] for _ in rows]
    id_col = spec.id
    asking = [i for i, r in enumerate(rows) if id_col is not None and r.get(id_col) is not None]
    if not asking or id_col is None:
        return out
    columns = [c for c in spec.inputs() if c != id_col]
    found = _lookup(online, m, [rows[i][id_col] for i in asking], columns, rows, asking, out)
    missing: list[dict[str, str]] = []
    for i, got in zip(asking, found, strict=True):
        ident = f"{names[id_col]}={rows[i][id_col]}"
        if got.known:
            _merge(m, out, i, got)
        elif len(rows[i]) == 1:
            where = f"{prefix}{i}." if prefix else ""
            missing.append(
                {
                    "field": f"{where}{names[id_col]}",
                    "rule": "not_found",
                    "message": f"no house with {ident} in the feature store",
                }
            )
        else:
            out.warnings[i].append(
                f"{ident} is not in the feature store; priced from the request's fields"
            )
    if missing:
        raise UnknownHouse(missing)
    return out


def _lookup(
    online: OnlineFeatures,
    m: LoadedModel,
    ids: list[Any],
    columns: list[str],
    rows: list[dict[str, Any]],
    asking: list[int],
    out: Filled,
) -> list[Found]:
    """The store's answers; when it is down, houses that carry every key feature are priced
    from their own fields, any other makes the request a 503."""
    try:
        return online.lookup(ids, columns)
    except StoreUnavailable as exc:
        key = m.model.spec.key_features
        if not key or any(any(c not in rows[i] for c in key) for i in asking):
            raise
        for i in asking:
            out.warnings[i].append(
                f"the feature store is unavailable ({exc}); priced from the request's fields"
            )
        return [Found(False, {}) for _ in ids]


def _merge(m: LoadedModel, out: Filled, i: int, got: Found) -> None:
    row = out.rows[i]
    names = m.schema.api_names
    merged = {c: v for c, v in got.values.items() if c not in row}
    merged.update(row)
    try:
        house = m.schema.record(merged)
    except ValidationError as exc:  # a stored value the served model's rules refuse
        bad = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}
        for c in sorted(bad):
            out.warnings[i].append(f"stored {names.get(c, c)} ignored: outside the model's rules")
        merged = {c: v for c, v in merged.items() if c not in bad or c in row}
        house = m.schema.record(merged)
    out.rows[i] = m.schema.to_row(house)
    out.sources[i]["store"] = [names[c] for c in out.rows[i] if c not in row]
