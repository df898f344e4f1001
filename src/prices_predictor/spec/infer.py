"""Proposing a spec from a sales file: what each column most likely is, and why.

Rules, in order, for every column but the target: empty or constant columns are left out;
a column whose name says it is a price (or that is nearly the price itself) is left out, as
it would leak the answer, and so is one computed from the price with another column (a
price per square foot, a sale-to-list ratio); row numbers and id-like columns (every value
distinct) are left out (an integer one named like an id becomes the spec's ``id``);
latitude/longitude are recognised by name and range (they feed the location effect and are
features); dates by type or by parsing; numbers are numeric features, except integer codes
named like a class, type or zip code, which are nominal; text whose levels all belong to a
known ordered scale (Po..Ex, Poor..Excellent, yes/no, low/high, ...) is ordinal, other text
nominal unless nearly every value is distinct (free text, left out). The house-size column
(living area first, then total area, then lot) gets a monotone promise and is the
baseline's size; sale year/month or a sale date are recognised by name; with a year-built
column and a sale year, the age at sale is engineered.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prices_predictor.core.cells import cat_value
from prices_predictor.core.errors import DataError
from prices_predictor.spec.io import from_dict
from prices_predictor.spec.leaks import derived_from_price, ratio_named, the_derived
from prices_predictor.spec.names import api_name, did_you_mean

TARGET_NAMES = ("saleprice", "sale_price", "price", "totalprice", "sold_price", "soldprice")
# a sale price in other words and languages (Kaufpreis, precio, prix, Valeur fonciere, sale
# amount), when no column says "price"
PRICE_WORDS = frozenset(
    {"preis", "precio", "prix", "prezzo", "preco", "prijs", "pris", "koopsom"}
    | {"slutpris", "salgspris", "kontantpris"}  # Nordic compounds: final, sale, cash price
)
VALUE_WORDS = frozenset(("valor", "valeur"))  # the target's name only: also a land value's
AMOUNT_NAMES = ("sale_amount", "sales_amount", "sold_amount", "sale_value", "sold_for")
_VALUE_OR_PRICE = PRICE_WORDS | VALUE_WORDS
NOT_A_SALE_PRICE = re.compile(
    r"trend|index|change|growth|delta|pct|percent|ratio|(^|_)per(_|$)|sq_?ft|sqm|sq_?m($|_)"
    r"|(^|_)m2($|_)|psf|(^|_)sf$"
)
MIN_SIZE_CORR = 0.1  # rank correlation with the log price below which a size is none
UNKNOWN_ZEROS = 0.01  # a size column with this share of 0s writes 0 for "not known"
# whole numbers so named are codes of places or classes (New York's BOROUGH 1-5), not amounts
CODE_NAME = re.compile(
    r"zip|postcode|postal|plz|(sub)?class|code|type|zone|district|borough|county|"
    r"(^|_)ward($|_)|region|neighbo|municipal"
)
MAX_MISSING = 0.95
FREE_TEXT_SHARE = 0.5  # distinct values per row above this: free text
MIN_PARSED = 0.9  # share of cells that must parse for a number or date column
NOMINAL_SHARE = 0.01  # a price under this share of the median is no market sale
MONTH_NAME = "(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
# a pair of coordinates in one cell, as open-data portals export locations: WKT's
# 'POINT (-72.9 41.3)' or '(41.3, -72.9)'
POINT = re.compile(r"\s*(?:point\s*)?\(?\s*-?\d{1,3}\.\d+\s*[ ,]\s*-?\d{1,3}\.\d+\s*\)?\s*", re.I)
DMY_OR_MDY = r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.]\d{2,4}\b"  # 25/12/2016 or 12/25/2016
KEY_COUNT = 4

NONE_LEVELS = re.compile(r"^(none|no[_ ].*|na|n/a)$", re.IGNORECASE)
SCALES: tuple[tuple[str, ...], ...] = (
    ("Po", "Fa", "TA", "Gd", "Ex"),
    (
        "Very_Poor",
        "Poor",
        "Fair",
        "Below_Average",
        "Average",
        "Typical",
        "Above_Average",
        "Good",
        "Very_Good",
        "Excellent",
        "Very_Excellent",
    ),
    ("No", "Yes"),
    ("N", "Y"),
    ("False", "True"),
    ("Low", "Medium", "High"),
    ("Low", "Mid", "High"),
    ("Unf", "LwQ", "Rec", "BLQ", "ALQ", "GLQ"),
)
SIZE_PATTERNS = (
    r"liv.*area|living|gr.?liv|floor.?area|sq.?f(ee)?t|square.?f(ee)?t|^size$|^area$|^square$"
    # other languages: Wohnflaeche, surface (reelle bati), superficie (construida), m2 built,
    # woonoppervlakte (Dutch), boarea / boligareal / bruksareal (Nordic), area util (Portuguese)
    r"|wohnfl|^surface$|surface_(reelle_)?bati|surface_habitable|superficie(?!.*(terreno|parcela))"
    r"|construid|floor_size|size_sqm|^sqm$|area_m2|woonoppervl|boarea|boligareal|bruksareal"
    r"|area_util|house_?size|home_?size",
    r"total.*(sf|sqft|area)|(sf|sqft|area).*total|built.?up|building.?area|^m2$",
    r"lot.?size|lot.?area|^lot$|land.?area|land.?size|grundst|terreno|surface_terrain|plot"
    r"|perceel|tomt|grundareal|acre",
)


@dataclass
class Decision:
    column: str
    role: str  # feature kind, or target / id / left out / ...
    why: str


@dataclass
class Inference:
    spec: dict[str, Any]
    decisions: list[Decision] = field(default_factory=list)

    def table(self) -> str:
        width = max([len(d.column) for d in self.decisions] + [6])
        lines = [f"{'column':<{width}}  {'decision':<14}  why"]
        for d in self.decisions:
            lines.append(f"{d.column:<{width}}  {d.role:<14}  {d.why}")
        return "\n".join(lines)


def find_target(df: pd.DataFrame, target: str | None) -> str:
    if target is not None:
        if target not in df.columns:
            hint = did_you_mean(target, df.columns)
            raise DataError(f"no '{target}' column (the sale price){hint}")
        return target
    named = [c for c in df.columns if _key(c) in TARGET_NAMES]
    if len(named) == 1:
        return str(named[0])
    pricey = [c for c in df.columns if "price" in _key(c) and not _price_of_something(c)] or [
        c for c in df.columns if _price_word(_key(c))
    ]
    if len(pricey) == 1:
        return str(pricey[0])
    if not named and not pricey:
        raise DataError(
            "no column is named like a sale price: name it with --target" + _numeric_columns(df)
        )
    found = ", ".join(map(str, named or pricey))
    raise DataError(f"which column is the sale price: {found}? Name it with --target")


def _price_of_something(col: Any) -> bool:
    """Named for a price per area or a price's change, not a sale price: ``price_per_sqft``,
    ``PriceSqm``, ``Price/m²``, ImmoScout's ``pricetrend``."""
    return bool(NOT_A_SALE_PRICE.search(_key(col)) or "/" in str(col))


def _prices(cells: pd.Series, target: str) -> pd.Series:
    """The target as positive numbers; a column that is not one (a text column named by
    mistake) stops here rather than at training, naming what its cells are."""
    price = pd.to_numeric(cells, errors="coerce")
    written = cells.notna() & (cells.astype(str).str.strip() != "")
    odd = written & price.isna()
    if odd.sum() > (1 - MIN_PARSED) * max(int(written.sum()), 1):
        examples = ", ".join(repr(v) for v in cells[odd].astype(str).unique()[:3])
        raise DataError(
            f"'{target}' is not a price: {int(odd.sum()):,} of {int(written.sum()):,} cells "
            f"are not numbers (e.g. {examples})"
        )
    return price.where(price > 0)


def _nominal_floor(price: pd.Series) -> tuple[float | None, int]:
    """(the least market price, how many are below it) when some prices are under
    NOMINAL_SHARE of the median: $1 or $10 deeds between relatives, as county records carry
    them; else (None, 0)."""
    known = price.dropna()
    if known.empty:
        return None, 0
    floor = float(f"{float(known.median()) * NOMINAL_SHARE:.2g}")
    below = int((known < floor).sum())
    return (floor, below) if below else (None, 0)


def _numeric_columns(df: pd.DataFrame, shown: int = 8) -> str:
    """The columns that could hold a price, for the user to pick from."""
    cols = [str(c) for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    if not cols:
        return " (the file has no numeric column)"
    more = f", ... {len(cols) - shown} more" if len(cols) > shown else ""
    return f" (numeric columns: {', '.join(cols[:shown])}{more})"


def infer(
    df: pd.DataFrame,
    target: str | None = None,
    name: str = "inferred",
    known: np.ndarray | None = None,
) -> Inference:
    """A proposed spec (as data, validated) and the decision for every column.

    With ``known`` (a boolean mask of rows), only those rows' prices are read: ``train``
    passes its protocol training part, so the holdout's prices decide nothing.
    """
    target = find_target(df, target)
    out = Inference(spec={})
    price = _prices(df[target], target)
    if known is not None:
        price = price.where(known)
    floor, nominal = _nominal_floor(price)
    if floor is not None:
        price = price.where(price >= floor)
    y = np.log(price)
    features: list[dict[str, Any]] = []
    strength: dict[str, float] = {}
    id_col: str | None = None
    coords: dict[str, str] = {}
    for col in df.columns:
        col = str(col)
        if col == target:
            why = "the sale price (log1p)"
            if floor is not None:
                why += (
                    f"; {nominal:,} under {floor:,.4g} ({NOMINAL_SHARE:.0%} of the median): "
                    "no market sales "
                    "(transfers), left out of training"
                )
            out.decisions.append(Decision(col, "target", why))
            continue
        decision, feature = _column(df[col], col, y, len(df))
        if decision.role == "id" and id_col is None and _key(col) != "order":
            id_col = col
        elif decision.role == "id":
            decision = Decision(col, "left out", decision.why)
        if feature is not None:
            features.append(feature)
            strength[col] = _strength(df[col], feature["kind"], y)
            for axis in ("latitude", "longitude"):
                if decision.why.startswith(axis):
                    coords[axis] = col
        out.decisions.append(decision)
    _leave_out_derived(df, price, features, out.decisions)
    dayfirst = _dates_order(df, features, out.decisions)
    if not features:
        raise DataError("no column can be a feature (see the decisions above)")
    spec: dict[str, Any] = {"name": name, "target": {"column": target}}
    if dayfirst:
        spec["dayfirst"] = True
    if id_col is not None:
        spec["id"] = id_col
    size = _size_column(features, strength)
    if size is not None:
        spec["size"] = size
    _promises(features, size, strength, out.decisions, _zero_share(df, size))
    _aliases(features, out.decisions)
    sale = _sale_date(features)
    if sale:
        spec["sale_date"] = sale
    if len(coords) == 2:
        spec["location"] = {"kind": "coordinates", **coords}
    spec["features"] = features
    engineered = _age(features, sale)
    if engineered:
        spec["engineered"] = engineered
    if floor is not None:
        spec["outliers"] = [{"column": target, "min": floor}]
    out.spec = spec
    from_dict(spec, "inferred spec")  # raises if a rule above produced something invalid
    return out


def _column(s: pd.Series, col: str, y: pd.Series, n: int) -> tuple[Decision, dict[str, Any] | None]:
    if re.fullmatch(r"Unnamed: \d+", col):  # pandas' name for a column without a header
        return Decision(col, "left out", "no header (a row index a program wrote)"), None
    present = s.dropna()
    if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object:
        present = present[present.astype(str).str.strip() != ""]
    if len(present) <= (1 - MAX_MISSING) * n:
        return Decision(col, "left out", f"empty ({n - len(present):,} of {n:,} missing)"), None
    distinct = present.nunique()
    if distinct <= 1:
        return Decision(col, "left out", "constant"), None
    key = _key(col)
    if "price" in key or _price_word(key, values=False):
        return Decision(col, "left out", "a price column: it would leak the answer"), None
    if pd.api.types.is_datetime64_any_dtype(s.dtype):  # to_numeric would make them numbers
        return Decision(col, "date", "dates"), {"name": col, "kind": "date"}
    nums = pd.to_numeric(present, errors="coerce")
    parsed = float(nums.notna().mean())
    if parsed >= MIN_PARSED:
        return _numeric_column(s, col, nums.dropna(), y, n, parsed)
    if _datelike(present):
        return Decision(col, "date", "parses as dates"), {"name": col, "kind": "date"}
    return _text_column(col, present, n)


def _numeric_column(
    s: pd.Series, col: str, nums: pd.Series, y: pd.Series, n: int, parsed: float
) -> tuple[Decision, dict[str, Any] | None]:
    whole = bool((nums == np.floor(nums)).all())
    distinct = nums.nunique()
    key = _key(col)
    if whole and distinct == len(nums) and (nums.diff().dropna() == 1).all():
        return Decision(col, "left out", "a row number (1, 2, 3, ...)"), None
    if whole and distinct >= 0.9 * len(nums) and idlike_name(col):
        return Decision(col, "id", "named like an id, (nearly) every value distinct"), None
    corr = _spearman(nums, y)
    if corr is not None and abs(corr) >= 0.98:
        return Decision(col, "left out", f"nearly the price itself (rank corr {corr:.2f})"), None
    for axis, short, word, limit in (
        # with the misspellings of a well-known Melbourne file (Lattitude, Longtitude)
        ("latitude", r"lat|y_?coord", r"latt?itude|latitud", 90),
        ("longitude", r"lon|lng|long|x_?coord", r"longt?itude|longitud", 180),
    ):
        # short forms only as the whole name ('long' is also a length); the full word also
        # inside a longer one, as in 'X5 latitude' or 'Property Latitude'
        named = re.fullmatch(short, key) or _word_in(word, key)
        if named and nums.abs().max() <= limit:
            coord = {"name": col, "kind": "numeric", "range": {"min": -limit, "max": limit}}
            return Decision(col, "numeric", f"{axis} (name and range): location effect"), coord
    if whole and re.search(CODE_NAME, key):
        return Decision(col, "nominal", "integer codes named like categories"), {
            "name": col,
            "kind": "nominal",
        }
    f: dict[str, Any] = {"name": col, "kind": "numeric"}
    why = "numbers"
    if parsed < 1.0:
        f["coerce"] = True
        share = f"{1 - parsed:.0%}" if 1 - parsed >= 0.005 else "under 1%"
        why += f" ({share} of cells are not: read as missing)"
    if whole and re.search(r"year|yr", key) and nums.between(1800, dt.date.today().year).all():
        f["range"] = {"min": 1800, "max": "current_year"}
        why = "years"
    elif (nums >= 0).all():
        f["range"] = {"min": 0}
    return Decision(col, "numeric", why), f


def _text_column(col: str, present: pd.Series, n: int) -> tuple[Decision, dict[str, Any] | None]:
    if present.head(500).astype(str).str.fullmatch(POINT).mean() >= MIN_PARSED:
        why = (
            "coordinates as points (e.g. '" + str(present.iloc[0]).strip() + "'): "
            "not read; give latitude and longitude as two columns for a location effect"
        )
        return Decision(col, "left out", why), None
    levels = sorted({v for v in (cat_value(x) for x in present.unique()) if v is not None})
    if len(levels) > FREE_TEXT_SHARE * len(present) and len(levels) > 20:
        why = f"free text or id-like ({len(levels):,} distinct in {len(present):,} rows)"
        return Decision(col, "left out", why), None
    scale = _scale(levels)
    gaps = len(present) < n
    extra = {"missing": "none"} if gaps else {}
    note = f"; {n - len(present):,} missing: a level of its own" if gaps else ""
    if scale is not None:
        why = f"levels on a known scale: {' < '.join(scale)}{note}"
        return Decision(col, "ordinal", why), {
            "name": col,
            "kind": "ordinal",
            "levels": {lvl: float(r) for lvl, r in _ranks(levels, scale).items()},
            **extra,
        }
    return Decision(col, "nominal", f"text, {len(levels)} levels{note}"), {
        "name": col,
        "kind": "nominal",
        **extra,
    }


def _scale(levels: list[str]) -> tuple[str, ...] | None:
    """The known scale all levels belong to (case-insensitive; 'none' levels allowed)."""
    real = [lvl for lvl in levels if not NONE_LEVELS.match(lvl)]
    if len(real) < 2:
        return None
    for scale in SCALES:
        lower = [s.lower() for s in scale]
        if all(lvl.lower() in lower for lvl in real):
            return tuple(s for s in scale if s.lower() in {lvl.lower() for lvl in real})
    return None


def _ranks(levels: list[str], scale: tuple[str, ...]) -> dict[str, int]:
    """Level -> rank: position on the full scale (1..), 'none' levels 0."""
    order = {s.lower(): i + 1 for i, s in enumerate(_full_scale(scale))}
    if set(order) in ({"no", "yes"}, {"n", "y"}, {"false", "true"}):
        order = {k: v - 1 for k, v in order.items()}  # no 0, yes 1
    return {lvl: (0 if NONE_LEVELS.match(lvl) else order[lvl.lower()]) for lvl in levels}


def _full_scale(part: tuple[str, ...]) -> tuple[str, ...]:
    for scale in SCALES:
        if set(part) <= set(scale):
            return scale
    return part


def _datelike(s: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return True
    text = s.astype(str).head(500)
    # 2016-03-12, 3/12/2016, 12.03.2016; ISO's basic form 20141013T000000; Mar-2016 or
    # 3 December 2016 (a month's name beside a year)
    shapes = rf"\d{{1,4}}[-/.]\d{{1,2}}|^\s*\d{{8}}T\d{{2}}|{MONTH_NAME}[a-z]*\.?[-/ ,]+\d{{2,4}}"
    if not text.str.contains(shapes, case=False).mean() >= MIN_PARSED:
        return False
    parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= MIN_PARSED)


def _day_first(s: pd.Series) -> bool | None:
    """Whether a text date column puts the day first: True when some dates only read as
    day/month (25/12/2016) and none only as month/day (12/25/2016); None when nothing
    tells (every day <= 12, or both orders appear)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return None
    parts = s.dropna().astype(str).str.extract(DMY_OR_MDY).dropna().astype(int)
    if parts.empty:
        return None
    first, second = bool((parts[0] > 12).any()), bool((parts[1] > 12).any())
    return first if first != second else None


def _dates_order(
    df: pd.DataFrame, features: list[dict[str, Any]], decisions: list[Decision]
) -> bool:
    """Day-first text dates, when a date column says so and none says the opposite (a spec
    reads all its dates one way)."""
    orders = {f["name"]: _day_first(df[f["name"]]) for f in features if f["kind"] == "date"}
    told = {o for o in orders.values() if o is not None}
    if told != {True}:
        return False
    for d in decisions:
        if orders.get(d.column):
            d.why += " (day first: 25/12/2016)"
    return True


def _leave_out_derived(
    df: pd.DataFrame, price: pd.Series, features: list[dict[str, Any]], decisions: list[Decision]
) -> None:
    """Leave out the numeric features computed from the price (see ``derived_from_price``),
    in place."""
    numeric = [f["name"] for f in features if f["kind"] == "numeric"]
    derived = derived_from_price(df, price, numeric, _stays)
    if not derived:
        return
    features[:] = [f for f in features if f["name"] not in derived]
    for i, d in enumerate(decisions):
        if d.column in derived:
            decisions[i] = Decision(d.column, "left out", derived[d.column])


def _stays(c: str, d: str) -> bool:
    """Of two features that give the price back, ``c`` is the genuine one when the names say
    ``d`` is the one computed from the price (``the_derived``), or ``c`` is named like a house
    size and ``d`` not."""

    def size(col: str) -> bool:
        return not ratio_named(col) and any(re.search(p, _key(col)) for p in SIZE_PATTERNS)

    return the_derived(c, d) or (size(c) and not size(d))


def _size_column(features: list[dict[str, Any]], strength: dict[str, float]) -> str | None:
    """The numeric columns the first of SIZE_PATTERNS names (the strongest of them), among
    those whose larger values go with higher prices: a column so named that does not (New
    York's ``LOT``, a tax lot's number) is no size to promise anything about."""
    numeric = [f["name"] for f in features if f["kind"] == "numeric" and not ratio_named(f["name"])]
    for pattern in SIZE_PATTERNS:
        found = [
            c
            for c in numeric
            if re.search(pattern, _key(c)) and strength.get(c, 0.0) >= MIN_SIZE_CORR
        ]
        if found:
            return max(found, key=lambda c: strength[c])
    return None


def _aliases(features: list[dict[str, Any]], decisions: list[Decision]) -> None:
    """Two columns whose API names would be one (``LotArea`` and ``Lot Area``): the later
    answers to the name with a number. A column's own name always answers to it."""
    owner = {f["name"]: f["name"] for f in features}
    notes = {d.column: d for d in decisions}
    for f in features:
        key = api_name(f["name"])
        if owner.setdefault(key, f["name"]) == f["name"]:
            continue
        n = 2
        while f"{key}_{n}" in owner:
            n += 1
        f["alias"] = owner[f"{key}_{n}"] = f"{key}_{n}"
        notes[f["name"]].why += f"; in the API '{f['alias']}' ('{key}' is '{owner[key]}')"


def _zero_share(df: pd.DataFrame, col: str | None) -> float:
    if col is None:
        return 0.0
    return float((pd.to_numeric(df[col], errors="coerce") == 0).mean())


def _promises(
    features: list[dict[str, Any]],
    size: str | None,
    strength: dict[str, float],
    decisions: list[Decision],
    zeros: float = 0.0,
) -> None:
    """The size column never lowers the price, unless ``zeros`` (the share of its cells that
    are 0) says 0 stands for "not known" there (New York's condos have a gross area of 0):
    the promise would then price those houses as the smallest. The strongest columns are key
    features."""
    ranked = sorted(strength, key=lambda c: -abs(strength[c]))
    key = ([size] if size else []) + [c for c in ranked if c != size]
    key = key[:KEY_COUNT]
    notes = {d.column: d for d in decisions}
    for f in features:
        if size is not None and f["name"] == size and zeros >= UNKNOWN_ZEROS:
            notes[size].why += (
                f"; the house size, baseline; no monotone promise: {zeros:.0%} of its cells "
                "are 0 (a size not known)"
            )
        elif size is not None and f["name"] == size:
            f["monotone"] = 1
            notes[size].why += "; the house size: monotone +1, baseline"
        if f["name"] in key:
            f["key"] = True
            notes[f["name"]].why += "; key feature"


def _sale_date(features: list[dict[str, Any]]) -> dict[str, str]:
    names = {f["name"]: f for f in features}
    year = [
        c for c in names if re.search(r"(yr|year).?(sold|sale)|(sold|sale).?(yr|year)", _key(c))
    ]
    month = [
        c for c in names if re.search(r"(mo|month).?(sold|sale)|(sold|sale).?(mo|month)", _key(c))
    ]
    dates = [
        c
        for c, f in names.items()
        if f["kind"] == "date"
        and re.search(r"sold|sale|trade|date", _key(c))
        and not re.search(r"(^|_)(prev|previous|prior)(_|$)", _key(c))  # an earlier sale's
    ]
    if dates:
        return {"column": dates[0]}
    if year:
        return {"year": year[0], **({"month": month[0]} if month else {})}
    return {}


def _age(features: list[dict[str, Any]], sale: dict[str, str]) -> list[dict[str, Any]]:
    built = [f["name"] for f in features if re.search(r"(year|yr).?built|built", _key(f["name"]))]
    when = sale.get("year") or sale.get("column")
    if not built or not when or built[0] == when:
        return []
    return [
        {
            "name": "age_at_sale",
            "op": "difference",
            "terms": [{"column": when}, {"column": built[0]}],
            "label": "Age at sale (years)",
        }
    ]


def _strength(s: pd.Series, kind: str, y: pd.Series) -> float:
    """How much of the log price a column explains alone: a number's rank correlation with
    it (signed: a size must rise with the price), another kind's eta (from eta squared)."""
    ok = y.notna()
    if kind == "numeric":
        corr = _spearman(pd.to_numeric(s, errors="coerce"), y)
        return corr if corr is not None else 0.0
    groups = pd.Series(s.map(cat_value, na_action="ignore"))[ok].fillna("(missing)")
    yy = y[ok]
    if yy.var() == 0 or len(yy) < 3:
        return 0.0
    means = yy.groupby(groups.to_numpy(dtype=object)).transform("mean")
    eta2 = float(((means - yy.mean()) ** 2).sum() / ((yy - yy.mean()) ** 2).sum())
    return float(np.sqrt(max(eta2, 0.0)))


def _spearman(x: pd.Series, y: pd.Series) -> float | None:
    frame = pd.DataFrame({"x": x, "y": y}).dropna()
    if len(frame) < 3 or frame["x"].nunique() < 2:
        return None
    return float(frame["x"].rank().corr(frame["y"].rank()))


def _price_word(key: str, values: bool = True) -> bool:
    """Named like a price without the English word: a word of the name (or the end of a
    German or Dutch compound: Kaufpreis, verkoopprijs) is a price in another language, or the
    name is a sale amount; ``values``: a value (Valeur fonciere) too."""
    words = key.split("_")
    words_of = _VALUE_OR_PRICE if values else PRICE_WORDS
    compound = ("preis", "prijs")
    return key in AMOUNT_NAMES or any(w in words_of or w.endswith(compound) for w in words)


def idlike_name(col: str) -> bool:
    """Named like an id: ``PID``, ``parcel``, ``MLS#``, ``Record #``, ``Serial Number``."""
    key = _key(col)
    return bool(re.search(r"(^|_)(id|pid|parcel|apn|folio|order|mls|serial)($|_)", key)) or str(
        col
    ).rstrip().endswith("#")


def _word_in(pattern: str, key: str) -> bool:
    """Whether one '_'-separated word of `key` fully matches `pattern`."""

    return any(re.fullmatch(pattern, part) for part in key.split("_"))


def _key(col: Any) -> str:
    """The name a rule matches: the API name ('livingArea' -> 'living_area', 'Wohnfläche' ->
    'wohnflaeche')."""
    return api_name(str(col))
