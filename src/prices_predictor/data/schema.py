"""The raw Ames columns, their types and roles."""

from __future__ import annotations

QUALITY = {"Po": 1, "Fa": 2, "TA": 3, "Gd": 4, "Ex": 5}

# Ordinal columns: category -> rank; anything absent ("none") ranks 0.
ORDINAL: dict[str, dict[str, int]] = {
    **{
        c: QUALITY
        for c in (
            "Exter Qual",
            "Exter Cond",
            "Bsmt Qual",
            "Bsmt Cond",
            "Heating QC",
            "Kitchen Qual",
            "Fireplace Qu",
            "Garage Qual",
            "Garage Cond",
            "Pool QC",
        )
    },
    "Bsmt Exposure": {"No": 1, "Mn": 2, "Av": 3, "Gd": 4},
    "BsmtFin Type 1": {"Unf": 1, "LwQ": 2, "Rec": 3, "BLQ": 4, "ALQ": 5, "GLQ": 6},
    "BsmtFin Type 2": {"Unf": 1, "LwQ": 2, "Rec": 3, "BLQ": 4, "ALQ": 5, "GLQ": 6},
    "Garage Finish": {"Unf": 1, "RFn": 2, "Fin": 3},
    "Functional": {
        "Sal": 1,
        "Sev": 2,
        "Maj2": 3,
        "Maj1": 4,
        "Mod": 5,
        "Min2": 6,
        "Min1": 7,
        "Typ": 8,
    },
    "Paved Drive": {"N": 1, "P": 2, "Y": 3},
    "Lot Shape": {"IR3": 1, "IR2": 2, "IR1": 3, "Reg": 4},
    "Land Slope": {"Sev": 1, "Mod": 2, "Gtl": 3},
    "Central Air": {"N": 0, "Y": 1},
}

NOMINAL: tuple[str, ...] = (
    "MS SubClass",
    "MS Zoning",
    "Street",
    "Alley",
    "Land Contour",
    "Utilities",
    "Lot Config",
    "Neighborhood",
    "Condition 1",
    "Condition 2",
    "Bldg Type",
    "House Style",
    "Roof Style",
    "Roof Matl",
    "Exterior 1st",
    "Exterior 2nd",
    "Mas Vnr Type",
    "Foundation",
    "Heating",
    "Electrical",
    "Garage Type",
    "Fence",
    "Misc Feature",
    "Sale Type",
    "Sale Condition",
)

NUMERIC: tuple[str, ...] = (
    "Lot Frontage",
    "Lot Area",
    "Overall Qual",
    "Overall Cond",
    "Year Built",
    "Year Remod/Add",
    "Mas Vnr Area",
    "BsmtFin SF 1",
    "BsmtFin SF 2",
    "Bsmt Unf SF",
    "Total Bsmt SF",
    "1st Flr SF",
    "2nd Flr SF",
    "Low Qual Fin SF",
    "Gr Liv Area",
    "Bsmt Full Bath",
    "Bsmt Half Bath",
    "Full Bath",
    "Half Bath",
    "Bedroom AbvGr",
    "Kitchen AbvGr",
    "TotRms AbvGrd",
    "Fireplaces",
    "Garage Yr Blt",
    "Garage Cars",
    "Garage Area",
    "Wood Deck SF",
    "Open Porch SF",
    "Enclosed Porch",
    "3Ssn Porch",
    "Screen Porch",
    "Pool Area",
    "Misc Val",
    "Mo Sold",
    "Yr Sold",
)

# NaN in these means the house has none of the thing, not "unknown".
NONE_MEANS_ABSENT: tuple[str, ...] = (
    "Alley",
    "Bsmt Qual",
    "Bsmt Cond",
    "Bsmt Exposure",
    "BsmtFin Type 1",
    "BsmtFin Type 2",
    "Fireplace Qu",
    "Garage Type",
    "Garage Finish",
    "Garage Qual",
    "Garage Cond",
    "Pool QC",
    "Fence",
    "Misc Feature",
    "Mas Vnr Type",
)

# A missing quality/type of a thing the house has (its area or count > 0) is imputed with the
# most common level among houses that have it; otherwise the house has none of it.
PRESENCE: dict[str, tuple[str, ...]] = {
    **{
        c: ("Garage Area", "Garage Cars")
        for c in ("Garage Type", "Garage Finish", "Garage Qual", "Garage Cond")
    },
    **{
        c: ("Total Bsmt SF",)
        for c in ("Bsmt Qual", "Bsmt Cond", "Bsmt Exposure", "BsmtFin Type 1", "BsmtFin Type 2")
    },
    "Fireplace Qu": ("Fireplaces",),
    "Pool QC": ("Pool Area",),
    "Mas Vnr Type": ("Mas Vnr Area",),
}

# Areas and counts of absent things: NaN means 0.
ZERO_WHEN_MISSING: tuple[str, ...] = (
    "Mas Vnr Area",
    "BsmtFin SF 1",
    "BsmtFin SF 2",
    "Bsmt Unf SF",
    "Total Bsmt SF",
    "Bsmt Full Bath",
    "Bsmt Half Bath",
    "Garage Cars",
    "Garage Area",
)

AREA_COLUMNS: tuple[str, ...] = (
    "Lot Frontage",
    "Lot Area",
    "Mas Vnr Area",
    "BsmtFin SF 1",
    "BsmtFin SF 2",
    "Bsmt Unf SF",
    "Total Bsmt SF",
    "1st Flr SF",
    "2nd Flr SF",
    "Low Qual Fin SF",
    "Gr Liv Area",
    "Garage Area",
    "Wood Deck SF",
    "Open Porch SF",
    "Enclosed Porch",
    "3Ssn Porch",
    "Screen Porch",
    "Pool Area",
)
COUNT_COLUMNS: tuple[str, ...] = (
    "Bsmt Full Bath",
    "Bsmt Half Bath",
    "Full Bath",
    "Half Bath",
    "Bedroom AbvGr",
    "Kitchen AbvGr",
    "TotRms AbvGrd",
    "Fireplaces",
    "Garage Cars",
)
YEAR_COLUMNS: tuple[str, ...] = ("Year Built", "Year Remod/Add", "Garage Yr Blt", "Yr Sold")
SCORE_COLUMNS: tuple[str, ...] = ("Overall Qual", "Overall Cond")

CATEGORICAL: tuple[str, ...] = tuple(ORDINAL) + NOMINAL
FEATURES: tuple[str, ...] = NUMERIC + CATEGORICAL
ID_COLUMNS: tuple[str, ...] = ("Order", "PID")
# The parcel id: not a model feature, but its block carries a location effect
# (features/location.py).
LOCATION_COLUMN = "PID"
# Every column a model reads from a house.
INPUTS: tuple[str, ...] = (*FEATURES, LOCATION_COLUMN)
KEY_FEATURES: tuple[str, ...] = ("Gr Liv Area", "Overall Qual", "Neighborhood", "Year Built")
# Features whose increase must never lower the predicted price, all else equal.
MONOTONE_INCREASING: tuple[str, ...] = ("Gr Liv Area", "Overall Qual")


def snake(name: str) -> str:
    """``'Gr Liv Area'`` -> ``'gr_liv_area'``; ``'1st Flr SF'`` -> ``'first_flr_sf'``."""
    name = name.replace("1st", "first").replace("2nd", "second").replace("3Ssn", "three_ssn")
    out = "".join(ch.lower() if ch.isalnum() else "_" for ch in name)
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")


# snake_case input name -> original column name (API fields, snake_case files)
ORIGINAL_NAME: dict[str, str] = {snake(c): c for c in INPUTS}
