"""Driving a server with wrk: one body POSTed over keep-alive connections for a while."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

DURATION_S = int(os.environ.get("PP_BENCH_DURATION_S", "6"))


def post_script(tmp: Path, body: bytes, content_type: str) -> Path:
    """A wrk Lua script that POSTs ``body`` (read as bytes: Parquet and Arrow are binary)."""
    (tmp / "body.bin").write_bytes(body)
    p = tmp / "post.lua"
    p.write_text(
        f'local f = io.open("{tmp / "body.bin"}", "rb")\nwrk.method = "POST"\n'
        f'wrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "{content_type}"\n'
    )
    return p


def warm_up(url: str, body: bytes, content_type: str, tmp: Path) -> None:
    script = post_script(tmp, body, content_type)
    subprocess.run(
        ["wrk", "-t1", "-c1", "-d1s", "--timeout", "30s", "-s", str(script), url],
        capture_output=True,
        timeout=90,
    )


def run(url: str, body: bytes, content_type: str, conns: int, tmp: Path) -> dict[str, float]:
    """Requests/s, p50/p99 latency (ms) and errors (non-2xx and socket errors)."""
    script = post_script(tmp, body, content_type)
    cmd = ["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", f"{DURATION_S}s"]
    cmd += ["--latency", "--timeout", "30s", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=DURATION_S + 90).stdout
    return parse(out)


def parse(out: str) -> dict[str, float]:
    def ms(text: str) -> float:
        m = re.match(r"([\d.]+)(\w+)", text)
        assert m is not None, text
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    pct = {k: ms(v) for k, v in re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    n_err = int(non2xx.group(1)) if non2xx else 0
    if errs:
        n_err += sum(int(x) for x in errs.groups())
    return {
        "rps": float(rps.group(1)),
        "p50_ms": pct.get("50", float("nan")),
        "p99_ms": pct.get("99", float("nan")),
        "errors": n_err,
    }
