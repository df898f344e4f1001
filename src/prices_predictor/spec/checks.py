"""Cross-references inside a spec: every name an entry uses must exist, with the right kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prices_predictor.spec.model import DataSpec

NUMERIC_KINDS = ("numeric", "date")


class SpecError(ValueError):
    """A spec entry that refers to something it cannot use."""


def check_references(spec: DataSpec) -> None:
    """Raise :class:`SpecError` naming the entry and the problem (first one found)."""
    kinds: dict[str, str] = {f.name: f.kind for f in spec.features}
    numeric = {n for n, k in kinds.items() if k in NUMERIC_KINDS}
    _check_features(spec, kinds, numeric)
    scalar = _check_engineered(spec, kinds, numeric)
    for i, (a, b) in enumerate(spec.interactions):
        where = f"interactions[{i}] [{a}, {b}]"
        if a not in scalar:
            raise SpecError(f"{where}: '{a}' is not a numeric, ordinal or engineered feature")
        if kinds.get(b) != "nominal":
            raise SpecError(f"{where}: '{b}' is not a nominal feature")
    for i, r in enumerate(spec.relations):
        for c in (r.column, r.other):
            if c not in numeric:
                raise SpecError(f"relations[{i}]: '{c}' is not a numeric feature")
    for i, o in enumerate(spec.outliers):
        # the target too: nominal prices (a $1 transfer between relatives) are not sales
        if o.column not in numeric and o.column != spec.target.column:
            raise SpecError(f"outliers[{i}]: '{o.column}' is not a numeric feature or the target")
        if o.min is None and o.max is None:
            raise SpecError(f"outliers[{i}] '{o.column}': give min, max or both")
    if spec.size is not None and spec.size not in numeric:
        raise SpecError(f"size: '{spec.size}' is not a numeric feature")
    _check_roles(spec, kinds)


def _check_features(spec: DataSpec, kinds: dict[str, str], numeric: set[str]) -> None:
    for i, f in enumerate(spec.features):
        where = f"features[{i}] '{f.name}'"
        if "=" in f.name:
            raise SpecError(f"{where}: '=' cannot be part of a column name here")
        policy = f.missing
        group = getattr(policy, "median_by", None)  # MedianBy, SameAs: see spec.model
        if group is not None and kinds.get(group) not in ("nominal", "ordinal"):
            raise SpecError(f"{where}: missing median_by '{group}' is not categorical")
        other = getattr(policy, "same_as", None)
        if other is not None:
            if other not in numeric or other == f.name:
                raise SpecError(f"{where}: missing same_as '{other}' is not another numeric one")
            if getattr(spec.feature(other).missing, "same_as", None) is not None:
                raise SpecError(f"{where}: same_as '{other}', which is itself imputed same_as")
        for c in f.present_if:
            if c not in numeric:
                raise SpecError(f"{where}: present_if '{c}' is not a numeric feature")
        if f.level_labels and f.kind == "ordinal":
            unknown = [lvl for lvl in f.level_labels if lvl not in f.ranks()]
            if unknown:
                raise SpecError(f"{where}: level_labels for unknown level '{unknown[0]}'")
        if f.range is not None:
            lo, hi = f.range.bounds()
            if lo is not None and hi is not None and lo > hi:
                raise SpecError(f"{where}: range min {lo:g} > max {hi:g}")


def _check_engineered(spec: DataSpec, kinds: dict[str, str], numeric: set[str]) -> set[str]:
    """Engineered terms may use numeric, date and ordinal features and earlier engineered
    ones; returns every name with one encoded column (for the interactions)."""
    scalar = numeric | {n for n, k in kinds.items() if k == "ordinal"}
    for i, e in enumerate(spec.engineered):
        where = f"engineered[{i}] '{e.name}'"
        if e.name in kinds or e.name in scalar:
            raise SpecError(f"{where}: the name is already taken by a feature")
        if "=" in e.name:
            raise SpecError(f"{where}: '=' cannot be part of a name here")
        for t in e.terms:
            if t.column not in scalar:
                known = "numeric, date or ordinal feature or an earlier engineered one"
                raise SpecError(f"{where}: term '{t.column}' is not a {known}")
        scalar.add(e.name)
    return scalar


def _check_roles(spec: DataSpec, kinds: dict[str, str]) -> None:
    target = spec.target.column
    if target in kinds:
        raise SpecError(f"target: '{target}' is also a feature (the model would see the price)")
    if spec.id is not None and spec.id in kinds:
        raise SpecError(f"id: '{spec.id}' is also a feature")
    loc = spec.location
    if loc is not None:
        for c in loc.columns():
            if c == target:
                raise SpecError(f"location: '{c}' is the target")
        if loc.kind == "block" and kinds.get(loc.column) in ("ordinal", "nominal"):
            raise SpecError(f"location: block column '{loc.column}' must hold whole numbers")
    if spec.sale_date is not None:
        for c in spec.sale_date.columns():
            if c == target:
                raise SpecError(f"sale_date: '{c}' is the target")
            if kinds.get(c) in ("ordinal", "nominal"):
                raise SpecError(f"sale_date: '{c}' is a categorical feature")
