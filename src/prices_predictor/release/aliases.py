"""Champion / challenger / previous aliases, moved under a lock, with a champion history.

The history (a registered-model tag) makes ``rollback`` repeatable: each rollback pops the
champion that came before. The lock is a file under PP_HOME, so it serialises promotions
from processes on this machine; against a shared server run promotions from one place (CI).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
from collections.abc import Iterator

from prices_predictor.core.aliases import CHALLENGER, CHAMPION, PREVIOUS
from prices_predictor.core.errors import RegistryError
from prices_predictor.core.settings import Settings
from prices_predictor.tracking.registry import (
    alias_version,
    client,
    delete_alias,
    set_alias,
    set_version_tags,
    version_info,
)

HISTORY_TAG = "champion_history"


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def registry_lock(s: Settings) -> Iterator[None]:
    s.home.mkdir(parents=True, exist_ok=True)
    with open(s.home / "registry.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _history(name: str) -> list[str]:
    tags = client().get_registered_model(name).tags
    raw = tags.get(HISTORY_TAG, "")
    return [v for v in raw.split(",") if v]


def _set_history(name: str, hist: list[str]) -> None:
    client().set_registered_model_tag(name, HISTORY_TAG, ",".join(hist[-50:]))


def promote(s: Settings, version: str, reason: str, forced_by: str | None = None) -> str | None:
    """Make ``version`` champion; the old champion becomes ``previous``. Returns the old one."""
    name = s.model_name
    version_info(name, version)  # raises a clear error for an unknown version
    with registry_lock(s):
        old = alias_version(name, CHAMPION)
        if old == version:
            return old
        set_alias(name, CHAMPION, version)
        if old is not None:
            hist = [*_history(name), old]
            _set_history(name, hist)
            set_alias(name, PREVIOUS, old)
        if alias_version(name, CHALLENGER) == version:
            delete_alias(name, CHALLENGER)
        tags = {"promoted_at": now(), "promotion_reason": reason}
        if forced_by:
            tags["forced_by"] = forced_by
        set_version_tags(name, version, tags)
        return old


def make_challenger(s: Settings, version: str) -> None:
    with registry_lock(s):
        set_alias(s.model_name, CHALLENGER, version)


def rollback(s: Settings) -> tuple[str, str]:
    """champion := previous (recorded). Returns (rolled back from, now champion)."""
    name = s.model_name
    with registry_lock(s):
        current = alias_version(name, CHAMPION)
        hist = _history(name)
        if current is None:
            raise RegistryError(f"{name} has no champion: nothing to roll back")
        if not hist:
            raise RegistryError(f"{name} has no previous champion to roll back to")
        target = hist.pop()
        set_alias(name, CHAMPION, target)
        _set_history(name, hist)
        if hist:
            set_alias(name, PREVIOUS, hist[-1])
        else:
            delete_alias(name, PREVIOUS)
        who = getpass.getuser()
        set_version_tags(name, current, {"rolled_back_at": now(), "rolled_back_by": who})
        set_version_tags(name, target, {"restored_at": now(), "restored_from": current})
        return current, target
