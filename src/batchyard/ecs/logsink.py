"""The runners' ``LogSink`` over the server's log store.

The runners apply the ``awslogs`` rules themselves (a missing group fails the start unless
``awslogs-create-group`` is ``"true"``; the stream is created per container and task); this
adapter only gives ``LogStore`` the sink's exact signatures.
"""

from __future__ import annotations

from batchyard.logs import LogStore


class StoreSink:
    """``LogSink`` methods onto a ``LogStore``."""

    def __init__(self, store: LogStore) -> None:
        self._store = store

    def put_log_events(self, group: str, stream: str, events: list[dict[str, object]]) -> object:
        return self._store.put_log_events(group, stream, events)

    def create_log_group(self, name: str) -> None:
        self._store.create_log_group(name)

    def create_log_stream(self, group: str, stream: str) -> None:
        self._store.create_log_stream(group, stream)
