"""SHA-256 checksums of a model's files, written when it is logged and checked before a
pickle is ever opened: loading a model runs code, so only the exact bytes trained are loaded."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from prices_predictor.core.errors import BundleError, ModelIntegrityError

CHECKSUMS_FILE = "checksums.json"
log = logging.getLogger("prices_predictor.tracking.checksums")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_checksums(out: Path, files: dict[str, Path]) -> Path:
    """``out``/checksums.json: each file's digest under the path it has once downloaded."""
    out.write_text(json.dumps({rel: sha256(p) for rel, p in sorted(files.items())}, indent=2))
    return out


def verify_checksums(root: Path, what: str) -> bool:
    """Check the files under ``root`` against ``root``/checksums.json; raise
    ModelIntegrityError naming the first that differs or is missing. False (and a warning)
    when there is no checksums file: versions logged before checksums were written."""
    path = root / CHECKSUMS_FILE
    if not path.exists():
        log.warning("no checksums logged with this model: not verified", extra={"model": what})
        return False
    try:
        expected: dict[str, str] = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelIntegrityError(f"{what}: {CHECKSUMS_FILE} is damaged ({exc})") from None
    check_files(root, expected, what, "logged at training")
    return True


def check_files(root: Path, expected: dict[str, str], what: str, when: str) -> None:
    """Every file of ``expected`` (path under ``root`` -> digest) present and unchanged.

    A missing file is a BundleError (it may be a download cut short: retried later); a file
    whose bytes differ is a ModelIntegrityError (never loaded, never retried)."""
    for rel, digest in expected.items():
        p = root / rel
        if not p.is_file():
            raise BundleError(f"{what}: file missing: {rel}")
        if sha256(p) != digest:
            raise ModelIntegrityError(
                f"{what}: {rel} does not match the checksum {when} "
                "(tampered with, truncated or damaged in storage): refusing to load it"
            )
