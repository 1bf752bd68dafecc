"""Stable lease owners: a restarted process takes its own work back without waiting."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batchyard.store import LeaseLost, Store
from batchyard.store.owner import OwnerId

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_reclaim_owner_frees_only_that_owners_items(store: Store) -> None:
    for key in ("a", "b", "c"):
        store.work.enqueue("execution", key, now=T0)
    dead = store.work.claim("execution", "engine-dead", 30, limit=2, now=at(1))
    live = store.work.claim("execution", "engine-live", 30, limit=1, now=at(1))
    assert [c.key for c in dead] == ["a", "b"] and [c.key for c in live] == ["c"]

    assert store.work.reclaim_owner("engine-dead", now=at(2)) == 2

    again = store.work.claim("execution", "engine-dead", 30, limit=5, now=at(3))
    assert sorted(c.key for c in again) == ["a", "b"]  # at once, not at lease expiry (31 s)
    with pytest.raises(LeaseLost):  # the predecessor's claims are fenced off
        store.work.renew(dead[0], 30, now=at(4))
    store.work.renew(live[0], 30, now=at(4))  # another owner's lease is untouched


def test_owner_id_is_stable_per_data_dir_and_exclusive(tmp_path: Path) -> None:
    first = OwnerId.acquire(tmp_path)
    assert first.stable
    # A second process on the same directory must not share the id while the first lives.
    code = (
        "import sys; from pathlib import Path; from batchyard.store.owner import OwnerId; "
        "o = OwnerId.acquire(Path(sys.argv[1])); print(o.value, o.stable)"
    )
    other = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    value, stable = other.stdout.split()
    assert value != first.value and stable == "False"
    first.release()
    # Once the holder is gone (released, or dead: the kernel drops the lock), the id returns.
    after = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert after.stdout.split() == [first.value, "True"]
