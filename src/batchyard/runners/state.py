"""A runner's own small files: what it must remember across a server restart.

A runner keeps, per task, a directory ``<state_dir>/<task_id>/`` holding what a new runner
object needs to re-attach: when the task started, which pids belong to it, how far its logs
were shipped, whether a stop was asked. Files are written whole (temporary file + rename), so
a crash leaves either the old or the new content, never half of it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchyard.runners.base import ContainerExit, TaskExit

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")


def default_state_dir(runner: str) -> Path:
    """Where a runner keeps its state when none is configured: survives a server restart,
    not a reboot (the processes it tracks do not survive one either)."""
    return Path(tempfile.gettempdir()) / f"batchyard-{os.getuid()}" / "runners" / runner


def check_name(value: str, what: str) -> str:
    """Task ids and container names become file and container names: refuse anything else."""
    if not _SAFE_ID.match(value):
        raise ValueError(
            f"{what} {value!r} must be 1-255 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return value


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def exit_to_json(exit: TaskExit) -> dict[str, Any]:
    """A task's exit as recorded in ``result.json``."""
    return {
        "containers": [[c.name, c.exit_code, c.reason] for c in exit.containers],
        "started_at": None if exit.started_at is None else exit.started_at.timestamp(),
        "stopped_at": exit.stopped_at.timestamp(),
        "stop_code": exit.stop_code,
        "stopped_reason": exit.stopped_reason,
    }


def exit_from_json(data: dict[str, Any]) -> TaskExit:
    started = data.get("started_at")
    return TaskExit(
        containers=[ContainerExit(n, code, reason) for n, code, reason in data["containers"]],
        started_at=None if started is None else from_epoch(started),
        stopped_at=from_epoch(data["stopped_at"]),
        stop_code=data.get("stop_code"),
        stopped_reason=data.get("stopped_reason"),
    )


def to_epoch(moment: datetime) -> float:
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def now() -> datetime:
    return datetime.now(UTC)


class Followed:
    """The tasks this process follows, by key (state directory + task id).

    Two starts of one task in one process (two runner objects, a retried dispatch) must not
    follow it twice: both would ship its output. ``start`` runs under the key's lock and
    returns the task already followed, if any.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._tasks: dict[str, Any] = {}

    def lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: str) -> Any:
        with self._guard:
            return self._tasks.get(key)

    def put(self, key: str, task: Any) -> None:
        with self._guard:
            self._tasks[key] = task

    def drop(self, key: str, task: Any) -> None:
        with self._guard:
            if self._tasks.get(key) is task:
                del self._tasks[key]
                lock = self._locks.get(key)
                if lock is not None and not lock.locked():
                    del self._locks[key]


FOLLOWED = Followed()
