"""Pricing a house by its id from the feature store (Feast, SQLite online store) beside
pricing it from all its fields, in the same run.

In-process: p50 of what the API does per request (validate, complete from the store, score)
for ``{"pid": N}`` vs the full house. HTTP: ``/v1/predict`` under wrk at c=1 and c=8 on one
server with ``PP_FEATURE_STORE=feast``, both bodies; and that server's cold start.

Run alone: ``python -m bench.features`` (uses ``PP_BENCH_HOME``'s bundle, as ``make bench``).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from bench import wrk
from bench.servers import commands, serving
from bench.timing import p50_ms

JSON = "application/json"
CONCURRENCY = (1, 8)


def compare(home: Path, env: dict[str, str], rows: pd.DataFrame, tmp: Path) -> dict[str, Any]:
    from prices_predictor.core.settings import Settings
    from prices_predictor.data.ingest import load
    from prices_predictor.featurestore import repo
    from prices_predictor.spec.io import preset

    repo_dir = tmp / "feature_repo"
    s = Settings(home=tmp / "pp", feature_repo=repo_dir)
    repo.apply(s, preset("ames"), load("ames"))
    _, materialize_s = repo.materialize(s)
    out: dict[str, Any] = {"materialize_s": materialize_s}
    out.update(_in_process(home / "bundle", s, rows))
    cmd, ours_env, ready = commands(home, env, tmp)["ours"]
    store_env = {**ours_env, "PP_FEATURE_STORE": "feast", "PP_FEATURE_REPO": str(repo_dir)}
    bodies = _bodies(rows)
    with serving(cmd, ours_env, ready, tmp / "off.log") as (url, startup):
        out["off_cold_start_s"] = startup
        _drive(out, url, "off", bodies["full"], tmp)
    with serving(cmd, store_env, ready, tmp / "features.log") as (url, startup):
        out["cold_start_s"] = startup
        out["first_by_id_s"] = _first_answer(f"{url}/v1/predict", bodies["by_id"])
        for kind, body in bodies.items():
            _drive(out, url, kind, body, tmp)
    return out


def _drive(out: dict[str, Any], url: str, kind: str, body: bytes, tmp: Path) -> None:
    wrk.warm_up(f"{url}/v1/predict", body, JSON, tmp)
    for c in CONCURRENCY:
        out[f"{kind}/{c}"] = r = wrk.run(f"{url}/v1/predict", body, JSON, c, tmp)
        print(f"bench: features {kind} c={c}: {r}", flush=True)


def _bodies(rows: pd.DataFrame) -> dict[str, bytes]:
    full = {k: v for k, v in json.loads(rows.head(1).to_json(orient="records"))[0].items()}
    full = {k: v for k, v in full.items() if v is not None}
    return {"by_id": json.dumps({"PID": full["PID"]}).encode(), "full": json.dumps(full).encode()}


def _first_answer(url: str, body: bytes, timeout: float = 120) -> float:
    """Seconds from ready to the first by-id answer (Feast imported and opened meanwhile)."""
    import httpx

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        r = httpx.post(url, content=body, headers={"content-type": JSON}, timeout=60)
        if r.status_code == 200:
            return time.perf_counter() - t0
        time.sleep(0.05)
    raise TimeoutError(f"no by-id answer in {timeout} s")


def _in_process(bundle: Path, s: Any, rows: pd.DataFrame) -> dict[str, float]:
    from prices_predictor.featurestore.online import OnlineFeatures
    from prices_predictor.serving.features import fill
    from prices_predictor.tracking.bundle import load_bundle
    from prices_predictor.tracking.loading import LoadedModel

    model, meta = load_bundle(bundle)
    m = LoadedModel(model, "bench", "1", "bundle", str(bundle), meta)
    online = OnlineFeatures(s)
    recs = [
        {k: v for k, v in r.items() if v is not None}
        for r in json.loads(rows.head(200).to_json(orient="records"))
    ]
    full = [m.schema.record(r) for r in recs]
    ids = [m.schema.record({"PID": r["PID"]}) for r in recs]

    def by_id(i: int) -> None:
        model.predict_log(fill(online, m, [ids[i % len(ids)]]).rows)

    def from_fields(i: int) -> None:
        model.predict_log([m.schema.to_row(full[i % len(full)])])

    return {
        "by_id_p50_ms": p50_ms(by_id, 1000, warm=20),
        "full_p50_ms": p50_ms(from_fields, 1000, warm=20),
    }


def report(r: dict[str, Any]) -> list[str]:
    if not r:
        return []
    lines = [
        "## Pricing by id from the feature store (Feast)",
        "",
        "`PP_FEATURE_STORE=feast`, SQLite online store holding the 2,930 Ames houses "
        f'(materialized in {r["materialize_s"]:.1f} s). A by-id request is `{{"PID": N}}`: '
        "the server reads the house's 79 features from the store, the request's fields "
        "override them, the model prices the result. Beside it, the same house sent with all "
        "its fields (its PID included, so the store is still read for its null fields), and "
        "that request to a server with the store off.",
        "",
        "| | by id | all fields, store on | all fields, store off | by id / store off |",
        "|---|---:|---:|---:|---:|",
        f"| in-process p50 (validate, read store, score) | {r['by_id_p50_ms']:.2f} ms | | "
        f"{r['full_p50_ms']:.3f} ms | {r['by_id_p50_ms'] / r['full_p50_ms']:.0f}x |",
    ]
    for c in CONCURRENCY:
        a, b, off = r[f"by_id/{c}"], r[f"full/{c}"], r[f"off/{c}"]
        lines.append(
            f"| HTTP c={c}: req/s (p50) | {a['rps']:,.0f} ({a['p50_ms']:.1f} ms) | "
            f"{b['rps']:,.0f} ({b['p50_ms']:.1f} ms) | {off['rps']:,.0f} "
            f"({off['p50_ms']:.1f} ms) | {a['rps'] / off['rps']:.2f}x |"
        )
    lines += [
        "",
        f"Cold start: ready in {r['cold_start_s']:.2f} s with the store on, "
        f"{r['off_cold_start_s']:.2f} s with it off (Feast is imported in the background once "
        f"a model serves, never with the store off); the first by-id answer came "
        f"{r['first_by_id_s']:.2f} s after ready. A read of the online store through Feast's "
        "SDK costs about 1-1.5 ms of Python per house (protobuf values converted one by one), "
        "which is what separates the columns.",
        "",
    ]
    return lines


def main() -> None:
    from bench.run import ensure_model

    home = Path(os.environ.get("PP_BENCH_HOME", Path.cwd() / ".pp-bench")).resolve()
    env = ensure_model(home)
    from prices_predictor.data.ingest import load
    from prices_predictor.data.split import protocol_split

    holdout = protocol_split(load("ames"))[1].drop(columns=["SalePrice", "Order"])
    with tempfile.TemporaryDirectory() as tmp:
        r = compare(home, env, holdout, Path(tmp))
    print("\n".join(report(r)))
    json.dump(r, sys.stdout, default=str)


if __name__ == "__main__":
    main()
