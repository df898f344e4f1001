"""What the model card and the page's form need from a served model's spec."""

from __future__ import annotations

from typing import Any

from prices_predictor.models.price_model import PriceModel


def form_fields(model: PriceModel, names: dict[str, str]) -> list[dict[str, Any]]:
    """Every request field in form order (key features first, then the spec's order), with
    what a form needs: kind, label, levels and their labels, range, the typical value the
    model imputes when the field is left empty."""
    spec = model.spec
    typical = model.encoder.typical()
    out: list[dict[str, Any]] = []
    for f in sorted(spec.features, key=lambda f: not f.key):
        item: dict[str, Any] = {
            "name": names[f.name],
            "column": f.name,
            "kind": f.kind,
            "label": f.label or f.name,
            "key": f.key,
            "typical": typical.get(f.name),
        }
        if f.categorical:
            known = list(f.ranks()) if f.kind == "ordinal" else model.encoder.levels.get(f.name, [])
            item["levels"] = [
                {"value": lvl, "label": f.level_labels.get(lvl, lvl)} for lvl in known
            ]
        if f.range is not None:
            lo, hi = f.range.bounds()
            item["range"] = {"min": lo, "max": hi, "hard": f.range.hard}
        out.append(item)
    loc = model.location
    for c in spec.inputs():
        if c in spec.names():
            continue
        label = "Parcel id (location)" if loc is not None and c in loc.columns else c
        out.append({"name": names[c], "column": c, "kind": "location", "label": label, "key": True})
    return out
