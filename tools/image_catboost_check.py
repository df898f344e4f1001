"""Compare two servers of the same bundle: the runtime image's (no catboost) and this machine's
venv (with it). Used by tools/image_test.sh for a blend with a CatBoost member.

    python3 tools/image_catboost_check.py IMAGE_URL VENV_URL

Standard library only. Waits for both /ready, then prices and explains the same houses on
both: the prices must agree to 1e-9 (relative) and every explanation must be a 200 with the
same features and effects (1e-6 in log price). Exit 0 only then; the last line sums it up.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request

HOUSES = [
    {"gr_liv_area": 1500, "overall_qual": 6},
    {"gr_liv_area": 2400, "overall_qual": 8, "neighborhood": "NridgHt", "year_built": 2005},
    {"gr_liv_area": 900, "overall_qual": 4, "neighborhood": "OldTown", "year_built": 1920},
]


def call(url: str, path: str, body: object | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method="GET" if data is None else "POST")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, {}


def wait_ready(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if call(url, "/ready")[0] == 200:
            return
        time.sleep(0.5)
    raise SystemExit(f"{url}/ready: not 200 within {timeout:.0f} s")


def effects(body: dict) -> dict[str, float]:
    return {c["feature"]: c["log_effect"] for c in body["contributions"]}


def main() -> int:
    image, venv = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")
    for url in (image, venv):
        wait_ready(url)
    problems, compared = [], 0
    for house in HOUSES:
        (s1, p1), (s2, p2) = call(image, "/v1/predict", house), call(venv, "/v1/predict", house)
        if s1 != 200 or s2 != 200:
            problems.append(f"predict {house}: {s1} {p1} / {s2} {p2}")
            continue
        if abs(p1["price"] - p2["price"]) > 1e-9 * abs(p2["price"]):
            problems.append(f"price {house}: image {p1['price']} venv {p2['price']}")
        (s1, e1), (s2, e2) = call(image, "/v1/explain", house), call(venv, "/v1/explain", house)
        if s1 != 200 or s2 != 200:
            problems.append(f"explain {house}: image {s1} {e1} / venv {s2} {e2}")
            continue
        a, b = effects(e1), effects(e2)
        if a.keys() != b.keys() or any(abs(a[k] - b[k]) > 1e-6 for k in a):
            problems.append(f"explain {house}: image {a} venv {b}")
        compared += len(a)
    for p in problems:
        print("BAD", p)
    if problems:
        return 1
    print(f"{len(HOUSES)} houses priced and explained alike ({compared} effects compared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
