"""A stable lease-owner id per data directory, held by one live process at a time.

Leases name their owner. A server that restarts under a new random id must wait for its
predecessor's leases to expire (30 s) before it may continue that work; one that restarts
under the *same* id can take its work back at once (``Work.reclaim_owner``) — provided that
no other live process uses the id. An exclusive ``flock`` on ``DATA_DIR/owner.lock`` guarantees
that: the kernel releases it when the process dies, even by SIGKILL. A second process on the
same data directory cannot take the lock and gets a fresh random id instead, so it never
reclaims leases that a live process holds.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from pathlib import Path
from typing import IO


class OwnerId:
    """``OwnerId.acquire(data_dir).value``: the id; ``release()`` when the process stops."""

    def __init__(self, value: str, stable: bool, handle: IO[str] | None) -> None:
        self.value = value
        self.stable = stable  # True when this process holds the data directory's lock
        self._handle = handle

    @classmethod
    def acquire(cls, data_dir: Path, prefix: str = "engine") -> OwnerId:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle = open(data_dir / "owner.lock", "a+")  # noqa: SIM115 - held for the process's life
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return cls(f"{prefix}-{uuid.uuid4().hex[:12]}", False, None)
        handle.seek(0)
        value = handle.read().strip()
        if not value:
            value = f"{prefix}-{uuid.uuid4().hex[:12]}"
            handle.seek(0)
            handle.truncate()
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        return cls(value, True, handle)

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
