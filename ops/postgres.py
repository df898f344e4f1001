"""A PostgreSQL cluster of our own (Debian's binaries), on 127.0.0.1, under a given directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from prices_predictor.core.errors import UserError


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise UserError("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)")
    return found[-1].parent


def _as_postgres() -> list[str]:
    # the server refuses to run as root: run it as Debian's 'postgres' user then
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def start(base: Path, port: int, db: str = "pp") -> str:
    """initdb (first time) and start; returns the SQLAlchemy URL of database ``db``."""
    pg = pg_bin()
    data = base / "data"
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    base.chmod(0o777)
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            [*_as_postgres(), str(pg / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    subprocess.run(
        [
            *_as_postgres(),
            str(pg / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(base / "postgres.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
            "start",
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    exists = subprocess.run(
        [
            str(pg / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{db}'",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(
            [str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", db],
            check=True,
            capture_output=True,
            timeout=30,
        )
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{db}"


def stop(base: Path) -> None:
    data = base / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            [
                *_as_postgres(),
                str(pg_bin() / "pg_ctl"),
                "-D",
                str(data),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
