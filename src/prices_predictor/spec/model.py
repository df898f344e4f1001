"""The data spec: what a sales file's columns mean, declared once per trained model.

A spec names the target and how it is transformed, the optional id, sale date and location
columns, and every feature column: its kind (numeric, date, ordinal with ordered levels,
nominal), what a missing value means, its valid range, a monotone promise, a label for people
and whether it is a key feature. Engineered features are declared too (weighted sums,
differences, products, ratios, flags). Everything downstream (validation, the encoder, the
API's request schema, the page's form, drift, explanations) reads the spec of the model it
serves instead of a hard-wired schema.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from prices_predictor.spec.checks import check_references
from prices_predictor.spec.names import api_name, is_api_name

Kind = Literal["numeric", "date", "ordinal", "nominal"]
Monotone = Literal[-1, 0, 1]
CURRENT_YEAR = "current_year"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """The sale price column and the transform the model learns it under."""

    column: str = Field("SalePrice", min_length=1, description="Sale price column (money).")
    transform: Literal["log1p", "log"] = Field(
        "log1p", description="The model predicts transform(price); ranges are multiplicative."
    )


class SaleDate(_Strict):
    """When each house sold: one date column, or a year column and optionally a month."""

    column: str | None = Field(None, description="A date column (ISO dates).")
    year: str | None = Field(None, description="A year column (with `month`, if any).")
    month: str | None = Field(None, description="A month column (1-12).")

    @model_validator(mode="after")
    def _one_form(self) -> SaleDate:
        if (self.column is None) == (self.year is None):
            raise ValueError("give either 'column' or 'year' (with an optional 'month')")
        if self.month is not None and self.year is None:
            raise ValueError("'month' needs 'year'")
        return self

    def columns(self) -> list[str]:
        return [c for c in (self.column, self.year, self.month) if c is not None]


class BlockLocation(_Strict):
    """Location from a parcel/block id: houses whose id // divisor is equal share a block."""

    kind: Literal["block"] = "block"
    column: str = Field(min_length=1, description="Whole-number parcel or block id.")
    divisor: int = Field(1000, ge=1, description="Block = id // divisor.")
    prior: float = Field(10.0, gt=0, description="Shrinkage, in pseudo-sales at zero effect.")

    def columns(self) -> list[str]:
        return [self.column]


class CoordinateLocation(_Strict):
    """Location from coordinates: the residuals of the nearest training sales."""

    kind: Literal["coordinates"] = "coordinates"
    latitude: str = Field(min_length=1)
    longitude: str = Field(min_length=1)
    neighbours: int = Field(10, ge=1, le=500, description="Nearest training sales used.")
    prior: float = Field(10.0, gt=0, description="Shrinkage, in pseudo-sales at zero effect.")
    max_km: float | None = Field(
        None, gt=0, description="Sales farther than this do not count (None: no limit)."
    )

    def columns(self) -> list[str]:
        return [self.latitude, self.longitude]


Location = Annotated[BlockLocation | CoordinateLocation, Field(discriminator="kind")]


class Range(_Strict):
    """Valid values of a numeric column: outside is a validation finding (hard by default)."""

    min: float | Literal["current_year"] | None = None
    max: float | Literal["current_year"] | None = None
    hard: bool = Field(
        True,
        description="Hard: training stops and requests are refused (422). Soft: a training "
        "finding only; requests are priced as sent.",
    )

    def bounds(self, today: dt.date | None = None) -> tuple[float | None, float | None]:
        year = float((today or dt.date.today()).year)

        def value(v: float | str | None) -> float | None:
            return year if v == CURRENT_YEAR else (None if v is None else float(v))

        return value(self.min), value(self.max)


class MedianBy(_Strict):
    """Impute with the median of the training rows that share this column's level."""

    median_by: str


class SameAs(_Strict):
    """Impute with another numeric column's value in the same row."""

    same_as: str


Missing = Literal["median", "zero", "mode", "none"] | MedianBy | SameAs


class Feature(_Strict):
    """One input column the model reads."""

    name: str = Field(min_length=1, description="Column name in the data.")
    kind: Kind
    alias: str | None = Field(
        None, description="snake_case API field name (default: derived from the name)."
    )
    label: str | None = Field(None, description="What people call it (page form, explanations).")
    levels: list[str] | dict[str, float] | None = Field(
        None,
        description="Ordinal: the levels from worst to best (ranks 1..k) or level -> rank.",
    )
    level_labels: dict[str, str] = Field(default_factory=dict, description="Level -> words.")
    missing: Missing | None = Field(
        None,
        description="numeric/date: median (default), zero, {median_by: col}, {same_as: col}; "
        "ordinal/nominal: mode (default) or none (the house has none of it).",
    )
    present_if: list[str] = Field(
        default_factory=list,
        description="With missing: none: if any of these numeric columns is > 0 the house has "
        "the thing, and a missing level takes the most common level of houses that have it.",
    )
    range: Range | None = None
    monotone: Monotone = Field(0, description="+1: more never lowers the price; -1: never raises.")
    key: bool = Field(False, description="A key feature: warned about when missing.")
    coerce: bool = Field(
        False,
        description="numeric/date: a cell that is not a number (a date) counts as missing, "
        "a soft finding, instead of stopping training.",
    )

    @property
    def api_name(self) -> str:
        return self.alias or api_name(self.name)

    @property
    def categorical(self) -> bool:
        return self.kind in ("ordinal", "nominal")

    def ranks(self) -> dict[str, float]:
        """Ordinal level -> rank (list order gives 1..k)."""
        if isinstance(self.levels, dict):
            return {str(k): float(v) for k, v in self.levels.items()}
        return {str(lvl): float(i + 1) for i, lvl in enumerate(self.levels or [])}

    def missing_policy(self) -> Missing:
        if self.missing is not None:
            return self.missing
        return "mode" if self.categorical else "median"

    @model_validator(mode="after")
    def _consistent(self) -> Feature:
        numeric = self.kind in ("numeric", "date")
        if self.kind == "ordinal" and not self.levels:
            raise ValueError("an ordinal feature needs 'levels' (worst to best)")
        if self.kind != "ordinal" and self.levels is not None:
            raise ValueError(f"'levels' is for ordinal features, not {self.kind}")
        policy = self.missing
        if numeric and policy in ("mode", "none"):
            raise ValueError(f"missing: {policy} is for ordinal/nominal features")
        if not numeric and (policy in ("median", "zero") or isinstance(policy, MedianBy | SameAs)):
            shown = policy if isinstance(policy, str) else policy.model_dump()
            raise ValueError(f"missing: {shown} is for numeric features")
        if self.present_if and policy != "none":
            raise ValueError("'present_if' needs missing: none")
        if self.coerce and not numeric:
            raise ValueError("'coerce' is for numeric and date features")
        if self.range is not None and not numeric:
            raise ValueError("'range' is for numeric and date features")
        if self.monotone and not (numeric or self.kind == "ordinal"):
            raise ValueError("'monotone' is for numeric, date and ordinal features")
        if self.alias is not None and not is_api_name(self.alias):
            raise ValueError(f"alias '{self.alias}' is not a snake_case name")
        return self


class Term(_Strict):
    column: str = Field(min_length=1)
    weight: float = 1.0


Op = Literal["sum", "difference", "product", "ratio", "flag"]


class Engineered(_Strict):
    """A feature computed from others (after imputation): sum of weighted terms, a - b,
    product, a / b (0 where b is 0), or the 0/1 flag of a weighted sum against zero."""

    name: str = Field(min_length=1)
    op: Op
    terms: list[Term] = Field(min_length=1)
    when: Literal["> 0", "!= 0"] = Field("> 0", description="flag: the test on the sum.")
    monotone: Monotone = 0
    label: str | None = None

    @model_validator(mode="after")
    def _arity(self) -> Engineered:
        n = len(self.terms)
        if self.op in ("difference", "ratio") and n != 2:
            raise ValueError(f"op {self.op} takes exactly 2 terms, got {n}")
        if self.op == "product" and n < 2:
            raise ValueError("op product takes at least 2 terms")
        if self.op in ("difference", "product", "ratio") and any(
            t.weight != 1.0 for t in self.terms
        ):
            raise ValueError(f"op {self.op} takes no weights (they are for sum and flag)")
        if self.when != "> 0" and self.op != "flag":
            raise ValueError("'when' is for op flag")
        return self


class Relation(_Strict):
    """A check between two columns of a row, e.g. remodelled no earlier than built."""

    column: str
    op: Literal[">=", ">", "<=", "<"]
    other: str
    hard: bool = False


class Outlier(_Strict):
    """Training rows outside [min, max] on this column (a numeric feature or the target) are
    dropped (never holdout rows)."""

    column: str
    min: float | None = None
    max: float | None = None


class Gates(_Strict):
    """Defaults for the threshold gate; PP_GATE_* set in the environment win."""

    min_baseline_gain: float | None = Field(None, ge=0, lt=1)
    max_rmse: float | None = Field(None, gt=0)
    min_r2: float | None = Field(None, le=1)


class DataSpec(_Strict):
    """What a sales file's columns mean (see the module docstring)."""

    version: Literal[1] = 1
    name: str = Field("custom", min_length=1)
    description: str = ""
    target: Target = Field(default_factory=lambda: Target())
    id: str | None = Field(None, description="A column naming each house (entity key).")
    sale_date: SaleDate | None = None
    dayfirst: bool = Field(
        False,
        description="Text dates in the data put the day before the month (3/12/2016 is "
        "3 December 2016, as most of the world writes it); ISO dates read the same either way.",
    )
    location: Location | None = None
    size: str | None = Field(
        None, description="The house-size column of the baseline (median price per size)."
    )
    features: list[Feature] = Field(min_length=1)
    engineered: list[Engineered] = Field(default_factory=list)
    interactions: list[tuple[str, str]] = Field(
        default_factory=list,
        description="[numeric, nominal] pairs: each level of the nominal column gets its own "
        "slope for the numeric one in the linear member.",
    )
    relations: list[Relation] = Field(default_factory=list)
    outliers: list[Outlier] = Field(default_factory=list)
    gates: Gates = Field(default_factory=lambda: Gates())
    min_level_count: int = Field(
        5, ge=1, description="A nominal level needs this many training rows for its own column."
    )
    missing_columns: Literal["error", "impute"] = Field(
        "error",
        description="A feature column absent from the training data: an error, or imputed.",
    )

    @field_validator("features")
    @classmethod
    def _unique(cls, features: list[Feature]) -> list[Feature]:
        names = [f.name for f in features]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"feature '{dupes[0]}' is declared twice")
        owner: dict[str, str] = {}  # every name a request may use -> its feature
        for f in features:
            for key in {f.name, f.api_name}:
                other = owner.setdefault(key, f.name)
                if other != f.name:
                    raise ValueError(
                        f"'{f.name}' and '{other}' both answer to the name '{key}': "
                        "give one an alias"
                    )
        return features

    @model_validator(mode="after")
    def _references(self) -> DataSpec:
        check_references(self)
        return self

    # ---- views used everywhere ----------------------------------------------------------
    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def names(self, *kinds: Kind) -> list[str]:
        return [f.name for f in self.features if not kinds or f.kind in kinds]

    @property
    def numeric(self) -> list[str]:
        """Numeric and date features, in spec order (each one encoded column)."""
        return self.names("numeric", "date")

    @property
    def ordinal(self) -> list[str]:
        return self.names("ordinal")

    @property
    def nominal(self) -> list[str]:
        return self.names("nominal")

    @property
    def categorical(self) -> list[str]:
        return self.names("ordinal", "nominal")

    @property
    def key_features(self) -> list[str]:
        return [f.name for f in self.features if f.key]

    def location_columns(self) -> list[str]:
        return self.location.columns() if self.location is not None else []

    def inputs(self) -> list[str]:
        """Every column a model reads from a house: features, then location and id columns
        that are not features."""
        out = self.names()
        for c in [*self.location_columns(), *([self.id] if self.id else [])]:
            if c not in out:
                out.append(c)
        return out

    def monotone(self) -> dict[str, int]:
        """Feature or engineered name -> +1/-1, for those with a promise."""
        out = {f.name: int(f.monotone) for f in self.features if f.monotone}
        out.update({e.name: int(e.monotone) for e in self.engineered if e.monotone})
        return out

    def label(self, name: str) -> str:
        for f in self.features:
            if f.name == name:
                return f.label or name
        for e in self.engineered:
            if e.name == name:
                return e.label or name
        return name

    def sources(self, name: str) -> list[str]:
        """The raw columns a feature or engineered feature is computed from."""
        by_name = {e.name: e for e in self.engineered}
        if name not in by_name:
            return [name]
        out: list[str] = []
        for t in by_name[name].terms:
            out += [c for c in self.sources(t.column) if c not in out]
        return out

    def input_signature(self) -> dict[str, str]:
        """API field name -> kind: what a client must send. Models that agree on it take the
        same requests (A/B requires it)."""
        sig: dict[str, str] = {f.api_name: f.kind for f in self.features}
        for c in self.inputs():
            if c not in sig and c not in self.names():
                sig.setdefault(api_name(c), "numeric")
        return sig

    def to_data(self) -> dict[str, Any]:
        """Plain data without the defaults (what a spec file needs), readable back as is."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        if self.location is not None:  # the discriminator must stay even at its default
            data["location"] = {"kind": self.location.kind, **data.get("location", {})}
        return data

    def digest(self) -> str:
        """A short content hash (stored with every logged prediction)."""
        # unset, a field added after models were stored leaves their hash as it was
        data = self.model_dump(mode="json", exclude=set() if self.dayfirst else {"dayfirst"})
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def monotone_columns(spec: DataSpec) -> list[tuple[str, int]]:
    """(name, direction) of every feature and engineered feature with a monotone promise."""
    return list(spec.monotone().items())


def field_map(spec: DataSpec) -> dict[str, str]:
    """API field name -> column name, for every input."""
    out = {f.api_name: f.name for f in spec.features}
    for c in spec.inputs():
        if c not in spec.names():
            out.setdefault(api_name(c), c)
    return out
