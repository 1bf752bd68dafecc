"""The runners' ``LogSink`` over the server's log store.

The ``awslogs`` driver writes to a group and stream that it creates as needed (ECS creates the
stream per task; the group too with ``awslogs-create-group``). batchyard always creates both on
first use, so a container's first line is never refused for a missing group.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from batchyard.logs import LogStore
from batchyard.logs.errors import ResourceAlreadyExistsException


class StoreSink:
    """``put_log_events(group, stream, events)`` into a ``LogStore``, creating what is missing."""

    def __init__(self, store: LogStore) -> None:
        self._store = store
        self._known: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def put_log_events(self, group: str, stream: str, events: list[dict[str, Any]]) -> object:
        if not events:
            return None
        key = (group, stream)
        if key not in self._known:
            with self._lock:
                self._ensure(group, stream)
                self._known.add(key)
        return self._store.put_log_events(group, stream, events)

    def _ensure(self, group: str, stream: str) -> None:
        with contextlib.suppress(ResourceAlreadyExistsException):
            self._store.create_log_group(group)
        with contextlib.suppress(ResourceAlreadyExistsException):
            self._store.create_log_stream(group, stream)

    def create_log_group(self, name: str) -> None:
        self._store.create_log_group(name)

    def create_log_stream(self, group: str, stream: str) -> None:
        self._store.create_log_stream(group, stream)
