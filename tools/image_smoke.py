"""Check every serving route of a prices-predictor server: the runtime image's smoke test.

    python3 tools/image_smoke.py --url http://127.0.0.1:8000       # a running server
    python3 tools/image_smoke.py --serve                           # start one (PP_* from env)

Standard library only (runs with any python3). ``--serve`` starts ``prices-predictor serve``
on a free loopback port, waits for /ready, checks, then stops it with SIGINT. The Docker
build runs it in the runtime venv: the build fails if slimming broke a route, and the
modules it imports get their bytecode written (the runtime image compiles nothing else).
Exit 0 only if every check passed. Drift answers 501 naming the 'monitoring' extra where
Evidently is not installed (the runtime image), 200 where it is.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HOUSE = {"gr_liv_area": 1500, "overall_qual": 6}


class Checker:
    def __init__(self, base: str, verbose: bool) -> None:
        self.base, self.verbose, self.results = base.rstrip("/"), verbose, []

    def call(self, method, path, body=None, ctype="application/json", headers=None):
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                st, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            st, raw = e.code, e.read()
        return st, raw, (time.perf_counter() - t0) * 1000

    def check(self, method, path, body=None, ctype="application/json", ok=(200,), headers=None):
        st, raw, ms = self.call(method, path, body, ctype, headers)
        good = st in ok
        self.results.append(good)
        if self.verbose or not good:
            print(f"{'ok ' if good else 'BAD'} {st} {ms:7.1f} ms {method} {path} {raw[:120]!r}")
        return raw

    def run(self) -> bool:
        c = self.check
        c("GET", "/health")
        c("GET", "/ready")
        name = json.loads(c("GET", "/v1/model")).get("name", "prices_predictor")
        c("GET", "/")
        c("GET", "/docs")
        c("GET", "/openapi.json")
        raw = c("POST", "/v1/predict", HOUSE)
        c("POST", "/v1/predict", HOUSE)  # again: the cache
        many = [{"gr_liv_area": 900 + 37 * i, "overall_qual": 3 + i % 7} for i in range(30)]
        c("POST", "/v1/predict/batch", {"houses": many})
        c("POST", "/v1/explain", HOUSE)
        c("GET", "/ping")
        c("GET", "/version")
        c("POST", "/invocations", {"dataframe_records": [{"Gr Liv Area": 1500, "Overall Qual": 6}]})
        c(
            "POST",
            "/invocations",
            {"dataframe_split": {"columns": ["Gr Liv Area"], "data": [[1500]]}},
        )
        c("POST", "/invocations", {"instances": [{"Gr Liv Area": 1500}]})
        c("POST", "/invocations", b"Gr Liv Area,Overall Qual\n1500,6\n", ctype="text/csv")
        try:  # where pandas is importable (the venv's python): a Parquet body too
            import pandas as pd

            buf = io.BytesIO()
            pd.DataFrame({"Gr Liv Area": [1500.0], "Overall Qual": [6]}).to_parquet(buf)
            c("POST", "/invocations", buf.getvalue(), ctype="application/vnd.apache.parquet")
        except ImportError:
            pass
        c("GET", "/v2")
        c("GET", "/v2/health/live")
        c("GET", "/v2/health/ready")
        c("GET", f"/v2/models/{name}")
        c("GET", f"/v2/models/{name}/ready")
        inputs = [
            {"name": "Gr Liv Area", "shape": [2], "datatype": "FP64", "data": [1500, 2500]},
            {"name": "Overall Qual", "shape": [2], "datatype": "INT64", "data": [6, 8]},
        ]
        c("POST", f"/v2/models/{name}/infer", {"inputs": inputs})
        rid = json.loads(raw).get("request_id") if raw.startswith(b"{") else None
        if rid:
            c("POST", "/v1/feedback", {"request_id": rid, "actual_price": 180000})
        c("GET", "/v1/ab/report")
        # without Redis: 503 naming it (the job routes' documented answer)
        c("POST", "/v1/jobs", b"Gr Liv Area\n1500\n", ctype="text/csv", ok=(202, 503))
        token = os.environ.get("PP_ADMIN_TOKEN")
        auth = {"Authorization": f"Bearer {token}"} if token else None
        c("POST", "/admin/reload", ok=(200,) if token else (404,), headers=auth)
        c("GET", "/v1/monitoring/drift?last=50", ok=(200, 501))
        c("GET", "/v1/monitoring/drift/report", ok=(200, 404))
        c("GET", "/metrics")
        n, bad = len(self.results), self.results.count(False)
        print(f"{n - bad} passed, {bad} failed")
        return bad == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, proc: subprocess.Popen | None, timeout: float) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(base + "/ready", timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - t0
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise SystemExit(f"not ready after {timeout:.0f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running server")
    ap.add_argument("--serve", action="store_true", help="start `prices-predictor serve`")
    ap.add_argument("--timeout", type=float, default=300, help="seconds to wait for /ready")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every check")
    a = ap.parse_args()
    if a.serve == bool(a.url):
        ap.error("give exactly one of --url and --serve")
    proc = None
    if a.serve:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        exe = shutil.which("prices-predictor") or os.path.join(
            os.path.dirname(sys.executable), "prices-predictor"
        )
        env = {**os.environ, "PP_DRIFT_MIN_ROWS": os.environ.get("PP_DRIFT_MIN_ROWS", "10")}
        proc = subprocess.Popen([exe, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env)
    else:
        base = a.url.rstrip("/")
    try:
        print(f"ready after {wait_ready(base, proc, a.timeout):.2f} s")
        ok = Checker(base, a.verbose).run()
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)  # SIGINT: uvicorn re-raises SIGTERM, skipping atexit
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
