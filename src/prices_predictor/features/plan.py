"""What the encoder's two paths walk: the spec and the fitted values, resolved to positions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from prices_predictor.features.values import NONE
from prices_predictor.spec.model import MedianBy, SameAs

if TYPE_CHECKING:
    from prices_predictor.features.encoder import FeatureEncoder

MEDIAN, ZERO, BY_GROUP, SAME_AS = range(4)


class GroupFill(NamedTuple):
    """Impute with the median of the row's group (e.g. frontage by neighbourhood)."""

    column: str
    table: dict[str, float]
    mode: str  # the group of a row whose group is missing


class NumStep(NamedTuple):
    j: int  # output column
    column: str
    how: int  # MEDIAN, ZERO, BY_GROUP, SAME_AS
    fill: float  # the training median (every kind's fallback)
    group: GroupFill | None
    source: int  # SAME_AS: the output column copied
    is_date: bool


class CatStep(NamedTuple):
    column: str
    table: dict[str, int]  # level -> rank (ordinal) or one-hot position (nominal)
    offset: int
    one_hot: bool
    missing: int  # code of a missing value
    presence: tuple[int, ...]  # output columns: any > 0 means the house has the thing
    present: int  # code of a missing value when it has it


@dataclass(frozen=True)
class Plan:
    n_features: int
    features: frozenset[str]  # columns the encoder reads
    feature_order: tuple[str, ...]
    numeric: tuple[NumStep, ...]  # in imputation order: SAME_AS steps last
    categorical: tuple[CatStep, ...]
    n_inputs: int  # numeric + ordinal columns, the engineered features' inputs
    engineered_at: int
    dayfirst: bool  # text dates put the day first (the spec's)


def build_plan(enc: FeatureEncoder) -> Plan:
    spec = enc.spec
    position = {name: j for j, name in enumerate(enc.scalar_columns)}
    steps = []
    for name in spec.numeric:
        f = spec.feature(name)
        policy = f.missing_policy()
        fill = enc.medians[name]
        group, source, how = None, -1, MEDIAN
        if policy == "zero":
            how = ZERO
        elif isinstance(policy, MedianBy):
            how = BY_GROUP
            mode = enc.modes.get(policy.median_by, NONE)
            group = GroupFill(policy.median_by, enc.group_medians.get(name, {}), mode)
        elif isinstance(policy, SameAs):
            how, source = SAME_AS, position[policy.same_as]
        steps.append(NumStep(position[name], name, how, fill, group, source, f.kind == "date"))
    steps.sort(key=lambda s: s.how == SAME_AS)  # stable: the rest keep the spec's order
    cats = []
    offset = len(enc.scalar_columns)
    for name in spec.categorical:
        f = spec.feature(name)
        if f.kind == "ordinal":
            ranks = f.ranks()
            table: dict[str, int] = dict(ranks)  # type: ignore[arg-type]
            at, one_hot, absent = position[name], False, 0
        else:
            table = {lvl: i for i, lvl in enumerate(enc.levels[name])}
            at, one_hot, absent = offset, True, -1
            offset += len(table)
        if f.missing_policy() == "none":
            missing = table.get(NONE, absent)
            presence = tuple(position[c] for c in f.present_if)
            present = table.get(enc.present_modes.get(name, NONE), absent)
        else:
            missing, presence, present = table.get(enc.modes[name], absent), (), absent
        cats.append(CatStep(name, table, at, one_hot, missing, presence, present))
    n_inputs = len(spec.numeric) + len(spec.ordinal)
    return Plan(
        n_features=len(enc.feature_names),
        features=frozenset(spec.names()),
        feature_order=tuple(spec.names()),
        numeric=tuple(steps),
        categorical=tuple(cats),
        n_inputs=n_inputs,
        engineered_at=n_inputs,
        dayfirst=spec.dayfirst,
    )
