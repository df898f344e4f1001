"""Run a command and start it again whenever it exits, as compose's ``restart: always`` does
(``make stack`` runs the job worker under it). SIGTERM/SIGINT are passed on and end it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

MIN_DELAY_S, MAX_DELAY_S, HEALTHY_S = 1.0, 30.0, 60.0


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m ops.supervise COMMAND [ARG ...]", file=sys.stderr)
        return 2
    child: subprocess.Popen[bytes] | None = None
    stopping = False

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    delay = MIN_DELAY_S
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv)
        rc = child.wait()
        if stopping:
            return rc
        # a command that ran a while was healthy: restart it quickly; a crash loop backs off
        delay = (
            MIN_DELAY_S if time.monotonic() - started > HEALTHY_S else min(delay * 2, MAX_DELAY_S)
        )
        print(
            f"supervise: {argv[0]} exited with {rc}; starting it again in {delay:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.1)
        if stopping:
            return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
