"""Column names -> snake_case API field names (``Gr Liv Area`` -> ``gr_liv_area``)."""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Iterable

# Ames' ordinal prefixes, kept as the API has always named them (first_flr_sf)
_WORDS = (("1st", "first"), ("2nd", "second"), ("3rd", "third"), ("3Ssn", "three_ssn"))
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_API = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# German letters as German spells them without umlauts; other accents go to the base letter
_SPELT_OUT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def api_name(column: str) -> str:
    """``'Gr Liv Area'`` -> ``'gr_liv_area'``; ``'livingArea'`` -> ``'living_area'``;
    ``'1st Flr SF'`` -> ``'first_flr_sf'``; a name that would start with a digit gets ``n_``.

    camelCase is split only in names without separators: ``'MS SubClass'`` stays
    ``ms_subclass``, as the API has always named the Ames columns. Letters with accents are
    their base letters, German ones spelt out (``'Wohnfläche'`` -> ``'wohnflaeche'``,
    ``'Surface réelle'`` -> ``'surface_reelle'``, ``'Area (m²)'`` -> ``'area_m2'``)."""
    name = unicodedata.normalize("NFKD", column.translate(_SPELT_OUT))
    name = name.encode("ascii", "ignore").decode()
    for short, word in _WORDS:
        name = name.replace(short, word)
    if not re.search(r"[^0-9a-zA-Z]", name):
        name = _CAMEL.sub("_", name)
    out = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    out = re.sub(r"_+", "_", out)
    if not out:
        out = "column"
    if out[0].isdigit():
        out = "n_" + out
    if keyword.iskeyword(out):
        out += "_"
    return out


def did_you_mean(name: str, columns: Iterable[object]) -> str:
    """'; did you mean ...' naming the columns spelt like ``name`` but for case, spaces and
    separators (``Price `` for ``price``), else nothing."""
    near = [str(c) for c in columns if api_name(str(c)) == api_name(name)]
    return f"; did you mean {', '.join(repr(c) for c in near)}?" if near else ""


def is_api_name(name: str) -> bool:
    return bool(_API.match(name)) and not keyword.iskeyword(name)
